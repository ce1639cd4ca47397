// The config file's policy sections: virtual keys, the shared state store, and the budgets a
// routing config may carry. Validated with the file; errors name the path.
import { z } from 'zod';
import { BUDGET_PERIODS } from './limits/windows.js';

const Period = z.enum(BUDGET_PERIODS as unknown as [string, ...string[]], {
  message: `period must be one of ${BUDGET_PERIODS.join(', ')}`,
});

export const RateLimitSpec = z
  .object({
    requests_per_minute: z.number().int().positive().optional(),
    tokens_per_minute: z.number().int().positive().optional(),
  })
  .strict()
  .refine(
    (r) => r.requests_per_minute !== undefined || r.tokens_per_minute !== undefined,
    'set requests_per_minute and/or tokens_per_minute',
  );

export const BudgetSpec = z
  .object({
    max_cost_usd: z.number().positive().optional(),
    max_tokens: z.number().int().positive().optional(),
    period: Period.default('month'),
    /** Output tokens reserved for a request that sets no max_tokens. */
    reserve_output_tokens: z.number().int().positive().default(1024),
  })
  .strict()
  .refine(
    (b) => (b.max_cost_usd === undefined) !== (b.max_tokens === undefined),
    'set exactly one of max_cost_usd and max_tokens',
  );

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not an ISO 8601 date-time');

export const VirtualKeySpec = z
  .object({
    /** The secret apps send; compared as a SHA-256 hash. */
    key: z.string().min(16, 'a virtual key must be at least 16 characters').optional(),
    /** Or only its SHA-256 (hex), so the config file holds no secret (`switchyard keys create`). */
    key_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/i, 'key_sha256 is 64 hex digits')
      .optional(),
    /** "@slug" allowlist; default: every provider. */
    providers: z.array(z.string().min(1)).optional(),
    /** Model globs ("gpt-4o*"); default: every model. */
    models: z.array(z.string().min(1)).optional(),
    rate_limit: RateLimitSpec.optional(),
    budget: BudgetSpec.optional(),
    expires_at: isoDate.optional(),
    disabled: z.boolean().default(false),
  })
  .strict()
  .refine((k) => (k.key === undefined) !== (k.key_sha256 === undefined), 'set exactly one of key and key_sha256');

export const StateSpec = z
  .object({
    store: z.enum(['memory', 'redis']).default('memory'),
    redis_url: z.string().optional(),
    on_store_error: z.enum(['fail_closed', 'fail_open']).default('fail_closed'),
  })
  .strict()
  .refine((s) => s.store !== 'redis' || (s.redis_url !== undefined && /^rediss?:\/\/./.test(s.redis_url)), {
    message: 'state.store "redis" needs redis_url (redis://host:port)',
    path: ['redis_url'],
  });

/** A routing config's own budget (the seed's shape): one counter per config and UTC day. */
export const ConfigBudgetSpec = z
  .object({
    max_cost_per_day: z.number().positive().optional(),
    max_tokens_per_day: z.number().int().positive().optional(),
    reserve_output_tokens: z.number().int().positive().default(1024),
  })
  .strict()
  .refine(
    (b) => b.max_cost_per_day !== undefined || b.max_tokens_per_day !== undefined,
    'set max_cost_per_day or max_tokens_per_day',
  );

/** Per-metadata budgets: one budget per distinct value of the matched keys ("*" matches any). */
export const MetadataBudgetSpec = z
  .object({
    match: z.record(z.string().regex(/^metadata\.[A-Za-z0-9_.-]+$/, 'match keys look like metadata.<key>'), z.string()),
    max_cost_usd: z.number().positive().optional(),
    max_tokens: z.number().int().positive().optional(),
    period: Period.default('1d'),
    reserve_output_tokens: z.number().int().positive().default(1024),
  })
  .strict()
  .refine(
    (b) => (b.max_cost_usd === undefined) !== (b.max_tokens === undefined),
    'set exactly one of max_cost_usd and max_tokens',
  );

export type RateLimitSpec = z.infer<typeof RateLimitSpec>;
export type BudgetSpec = z.infer<typeof BudgetSpec>;
export type VirtualKeySpec = z.infer<typeof VirtualKeySpec>;
export type StateSpec = z.infer<typeof StateSpec>;
export type ConfigBudgetSpec = z.infer<typeof ConfigBudgetSpec>;
export type MetadataBudgetSpec = z.infer<typeof MetadataBudgetSpec>;
