// The routing config file's schema. Routing configs follow Portkey's Config shape so a Portkey
// gateway config object is a valid routing config; our additions are optional fields.
import { z } from 'zod';
import { StateSpec, VirtualKeySpec } from '../policy/config.js';

export const providerTypes = ['openai', 'openai-compatible', 'anthropic', 'simulated'] as const;
// Later provider adapters register more types; the schema accepts any non-empty string and
// the registry rejects unknown ones with a path-named error.
export const ProviderType = z.string().min(1);

const LatencySpec = z.union([
  z.number().nonnegative(),
  z.object({ p50: z.number().nonnegative(), p95: z.number().nonnegative().optional() }).strict(),
]);

/** A simulated upstream: answers in-process with a latency distribution and fault rates (demo, game days). */
export const SimulatedSpec = z
  .object({
    latency_ms: LatencySpec.default(50),
    error_rate: z.number().min(0).max(1).default(0),
    error_status: z.number().int().min(400).max(599).default(503),
    timeout_rate: z.number().min(0).max(1).default(0),
    /** Degrade after this many ms from process start (demo: a primary that slows down). */
    degrade_after_ms: z.number().nonnegative().optional(),
    /** …for this long, then recover (the seed's gray failure lasts a few minutes); default: for good. */
    degraded_for_ms: z.number().positive().optional(),
    degraded_latency_ms: LatencySpec.optional(),
    degraded_error_rate: z.number().min(0).max(1).optional(),
  })
  .strict();

export const ProviderSpec = z
  .object({
    type: ProviderType,
    api_key: z.string().optional(),
    base_url: z.string().url().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    /** Anthropic: the anthropic-version header. */
    api_version: z.string().optional(),
    simulated: SimulatedSpec.optional(),
  })
  .passthrough(); // provider adapters validate their own extra fields (region, deployment, …)

export const StatusCodes = z.array(z.number().int().min(100).max(599));

export const RetrySpec = z
  .object({
    attempts: z.number().int().min(0).max(10),
    on_status_codes: StatusCodes.optional(),
    use_retry_after_header: z.boolean().optional(),
    /** Ours: backoff base and cap in ms. */
    backoff_base_ms: z.number().int().nonnegative().optional(),
    backoff_max_ms: z.number().int().nonnegative().optional(),
  })
  .strict();

const ConditionValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type ConditionQuery = { [key: string]: unknown };
export const ConditionQuery: z.ZodType<ConditionQuery> = z.lazy(() => z.record(z.string(), z.unknown()));

export const StrategySpec = z
  .object({
    mode: z.enum(['single', 'fallback', 'loadbalance', 'conditional']),
    on_status_codes: StatusCodes.optional(),
    // biome-ignore lint/suspicious/noThenProperty: Portkey's conditional strategy names the field `then`
    conditions: z.array(z.object({ query: ConditionQuery, then: z.string() }).strict()).optional(),
    default: z.string().optional(),
    /** loadbalance only: `weighted` (default) draws by weight; `latency` compares two weighted draws by PeakEWMA × load. */
    balancer: z.enum(['weighted', 'latency']).optional(),
  })
  .strict();

/** Hedged requests on a target group (src/routing/hedge.ts). */
export const HedgeSpec = z
  .object({
    /** Wait this long for a first byte (stream) or an answer before starting the next target; "p95": the group's recent p95. */
    delay_ms: z.union([z.number().int().nonnegative(), z.literal('p95')], {
      error: 'must be a whole number of milliseconds >= 0, or "p95"',
    }),
    /** Attempts in flight at most, the first included. */
    max_attempts: z.number().int().min(2).max(5).default(2),
    /** Hedges per 100 requests the group may add in the long run (token bucket, src/routing/hedge-budget.ts). */
    budget_percent: z.number().min(0).max(100).default(5),
  })
  .strict();
export type HedgeSpec = z.infer<typeof HedgeSpec>;

export interface TargetSpec {
  name?: string;
  weight?: number;
  provider?: string;
  virtual_key?: string;
  api_key?: string;
  custom_host?: string;
  override_params?: Record<string, unknown>;
  strategy?: z.infer<typeof StrategySpec>;
  targets?: TargetSpec[];
  retry?: z.infer<typeof RetrySpec>;
  request_timeout?: number;
  first_chunk_timeout?: number;
  idle_timeout?: number;
  deadline_ms?: number;
  hedge?: HedgeSpec;
  [extra: string]: unknown;
}

// Portkey configs carry keys we do not act on (cache, guardrails hooks…); they pass through.
export const TargetSpec: z.ZodType<TargetSpec> = z.lazy(() =>
  z
    .object({
      name: z.string().optional(),
      weight: z.number().nonnegative().optional(),
      provider: z.string().min(1).optional(),
      virtual_key: z.string().min(1).optional(),
      api_key: z.string().optional(),
      custom_host: z.string().url().optional(),
      override_params: z.record(z.string(), z.unknown()).optional(),
      strategy: StrategySpec.optional(),
      targets: z.array(TargetSpec).min(1).optional(),
      retry: RetrySpec.optional(),
      request_timeout: z.number().int().positive().optional(),
      first_chunk_timeout: z.number().int().positive().optional(),
      idle_timeout: z.number().int().positive().optional(),
      deadline_ms: z.number().int().positive().optional(),
      hedge: HedgeSpec.optional(),
    })
    .passthrough()
    .superRefine((t, ctx) => {
      if (!t.targets && !t.provider && !t.virtual_key) {
        ctx.addIssue({ code: 'custom', message: 'a target needs "provider" (or "virtual_key") or nested "targets"' });
      }
      if (t.strategy?.mode === 'conditional' && !t.strategy.conditions?.length && !t.strategy.default) {
        ctx.addIssue({
          code: 'custom',
          path: ['strategy'],
          message: 'conditional mode needs "conditions" or a "default"',
        });
      }
      if (t.strategy?.mode === 'loadbalance' && t.targets && t.targets.every((c) => (c.weight ?? 1) === 0)) {
        ctx.addIssue({
          code: 'custom',
          path: ['targets'],
          message: 'loadbalance needs at least one target with weight > 0 (all weights are 0)',
        });
      }
      if (t.hedge !== undefined && !t.targets) {
        ctx.addIssue({
          code: 'custom',
          path: ['hedge'],
          message: 'hedging needs a target group ("targets") to hedge between',
        });
      }
      if (t.strategy?.balancer !== undefined && t.strategy.mode !== 'loadbalance') {
        ctx.addIssue({
          code: 'custom',
          path: ['strategy', 'balancer'],
          message: 'a balancer applies to mode "loadbalance" only',
        });
      }
      if (t.targets && t.strategy === undefined && t.targets.length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['strategy'],
          message: 'several targets need a "strategy" (single, fallback, loadbalance or conditional)',
        });
      }
    }),
);

/** Token prices in USD per 1M tokens. */
export const PriceSpec = z
  .object({
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    cached_input: z.number().nonnegative().optional(),
    cache_write: z.number().nonnegative().optional(),
    reasoning: z.number().nonnegative().optional(),
  })
  .strict();

export const TelemetrySpec = z
  .object({
    enabled: z.boolean().default(true),
    capture_content: z.boolean().default(false),
    /** Regexes whose matches are replaced by [REDACTED] in captured content. */
    redact_patterns: z
      .array(
        z.string().refine((p) => {
          try {
            new RegExp(p);
            return true;
          } catch {
            return false;
          }
        }, 'not a valid regular expression'),
      )
      .default([]),
  })
  .strict();

export const ServerSpec = z
  .object({
    max_body_bytes: z
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024),
    /** Overall request deadline (ms) bounding retries, fallbacks and waits together. */
    deadline_ms: z.number().int().positive().default(120_000),
    /** What x-switchyard-config may carry: allow (ids and inline JSON), ids_only, off (header refused). */
    inline_configs: z.enum(['allow', 'ids_only', 'off']).default('allow'),
    /** With any virtual_keys defined, every request must present one (default true). */
    require_virtual_key: z.boolean().default(true),
    /** Slow clients (src/http-limits.ts): the request head, then the whole request, must arrive
     *  within these; responses (streams) are not bounded by them. Read at start-up. */
    headers_timeout_ms: z.number().int().positive().default(10_000),
    request_timeout_ms: z.number().int().positive().default(30_000),
    keep_alive_timeout_ms: z.number().int().positive().default(65_000),
    max_header_bytes: z
      .number()
      .int()
      .min(1024)
      .default(16 * 1024),
  })
  .strict()
  .refine((s) => s.headers_timeout_ms <= s.request_timeout_ms, {
    path: ['headers_timeout_ms'],
    message: 'must not exceed request_timeout_ms',
  });

export const BreakerSpec = z
  .object({
    failure_threshold: z.number().int().positive().default(5),
    cooldown_ms: z.number().int().positive().default(30_000),
  })
  .strict();

/** Slow-target ejection (src/routing/ejection.ts): beside the breakers, for targets that answer late instead of failing. */
export const EjectionSpec = z
  .object({
    enabled: z.boolean().default(true),
    /** Ejected when its latency EWMA exceeds factor × the best healthy sibling's… */
    factor: z.number().min(1).default(3),
    /** …and exceeds it by at least this much (sub-second noise is not a gray failure). */
    min_gap_ms: z.number().nonnegative().default(250),
    /** Samples a target and its sibling need before they are compared. */
    min_samples: z.number().int().positive().default(20),
    cooldown_ms: z.number().int().positive().default(30_000),
    /** At most this share of a group's targets ejected at once. */
    max_ejected_percent: z.number().min(0).max(100).default(50),
  })
  .strict();
export type EjectionSpec = z.infer<typeof EjectionSpec>;

/** Latency tracking for the latency balancer and ejection: PeakEWMA's decay time constant. */
export const LatencyTrackingSpec = z
  .object({
    decay_ms: z.number().int().positive().default(10_000),
  })
  .strict();

export const FileConfig = z
  .object({
    providers: z
      .record(z.string().regex(/^[A-Za-z0-9._-]+$/, 'provider slugs use letters, digits, . _ -'), ProviderSpec)
      .default({}),
    configs: z.record(z.string(), TargetSpec).default({}),
    default_config: z.string().optional(),
    /** provider → model → prices; merged over the built-in table. */
    pricing: z.record(z.string(), z.record(z.string(), PriceSpec)).optional(),
    telemetry: TelemetrySpec.default({ enabled: true, capture_content: false, redact_patterns: [] }),
    server: ServerSpec.prefault({}), // every default above applies
    breaker: BreakerSpec.default({ failure_threshold: 5, cooldown_ms: 30_000 }),
    ejection: EjectionSpec.prefault({}),
    latency: LatencyTrackingSpec.prefault({}),
    /** Keys apps present instead of provider keys (src/policy/keys). */
    virtual_keys: z
      .record(z.string().regex(/^[A-Za-z0-9._-]+$/, 'virtual key names use letters, digits, . _ -'), VirtualKeySpec)
      .default({}),
    /** Where rate and budget counters live: one sidecar's memory, or a Redis a fleet shares. */
    state: StateSpec.prefault({}),
    /** Guardrails by id (Portkey's), named by routing configs' input_guardrails/output_guardrails (src/policy/guardrails). */
    guardrails: z.record(z.string(), z.unknown()).optional(),
    /** Where the sidecar forwards POST /v1/feedback; default: OTEL_EXPORTER_OTLP_ENDPOINT's host. */
    collector_url: z.string().url().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.default_config !== undefined && !Object.hasOwn(c.configs, c.default_config)) {
      ctx.addIssue({
        code: 'custom',
        path: ['default_config'],
        message: `names config "${c.default_config}", which is not under "configs"`,
      });
    }
  });

export type FileConfig = z.infer<typeof FileConfig>;
export type ProviderSpec = z.infer<typeof ProviderSpec>;
export type RetrySpec = z.infer<typeof RetrySpec>;
export type StrategySpec = z.infer<typeof StrategySpec>;
export type PriceSpec = z.infer<typeof PriceSpec>;
export type SimulatedSpec = z.infer<typeof SimulatedSpec>;
export { ConditionValue };
