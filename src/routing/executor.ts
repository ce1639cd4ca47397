// The one executor: walks the target tree as decide() orders it, runs attempts with retries and
// backoff inside the request deadline, and commits a stream to the client at its first chunk.
import type { Dispatcher } from 'undici';
import type { FileConfig, TargetSpec } from '../config/schema.js';
import type { Operation, ProviderAdapter, ProviderError } from '../providers/types.js';
import { resolveProvider } from '../providers/registry.js';
import { backoffMs, DEFAULT_RETRY_STATUS } from './backoff.js';
import { decide } from './decide.js';
import type { HealthRegistry } from './health.js';
import type { RequestObserver } from './observer.js';
import { runAttempt, StreamFailure, type AttemptFailure, type StreamSuccess } from './attempt.js';
import type { Outcome } from './outcome.js';
import { healthKey, inherit, isLeaf, leafModel, ROOT, type Inherited } from './tree.js';

type Json = Record<string, unknown>;

export interface StreamSink {
  readonly closed: boolean;
  start(headers: Record<string, string>): void;
  write(chunk: Json): Promise<void>;
  /** May return a promise (a held stream flushes what it held); the executor awaits it. */
  end(): void | Promise<void>;
  fail(error: Json): void;
}

/** What output guardrails judge: a non-stream answer's body, or the stream the sink holds. */
export type Answer = { kind: 'json'; body: Json } | { kind: 'stream' };
/** ok: the answer counts. Otherwise a failed attempt (outcome `guardrail`, 446): `retry` lets the routing go on. */
export type Verdict = { ok: true } | { ok: false; retry: boolean; message: string };

export interface ExecRequest {
  op: Operation;
  body: Json;
  stream: boolean;
  includeUsage: boolean;
  metadata: Record<string, string>;
  routing: TargetSpec;
  deadlineAt: number;
  clientSignal: AbortSignal;
  sink?: StreamSink;
  /** Output guardrails: each answer is judged before it counts (src/policy/guardrails). */
  judge?(answer: Answer, attempt: number): Verdict | Promise<Verdict>;
  /** Swaps a target's adapter for this request (POST /v1/messages: Anthropic in and out). */
  adapt?(adapter: ProviderAdapter): ProviderAdapter;
}

export interface ExecEnv {
  file: FileConfig;
  health: HealthRegistry;
  simulatedUrls: ReadonlyMap<string, string>;
  observer: RequestObserver;
  rng?: () => number;
  dispatcher?: Dispatcher;
}

export interface AttemptRecord {
  target: string;
  provider: string;
  model: string;
  status: number;
  error_type: string | null;
  duration_ms: number;
}

export interface ExecResult {
  status: number;
  body?: Json;
  streamed: boolean;
  /** Set when a committed stream broke after its first byte. */
  streamError?: Outcome;
  attempts: AttemptRecord[];
  retries: number;
  rescued: boolean;
  answered?: { target: string; providerSlug: string; providerName: string; model: string; responseModel?: string };
  headers: Record<string, string>;
}

interface Failed {
  ok: false;
  outcome: Outcome;
  status: number;
  error: ProviderError;
  /** A guardrail denied the answer: no retry, no fallback. */
  stop?: boolean;
}
interface Done {
  ok: true;
}
type NodeResult = Failed | Done;

const RETRYABLE_OUTCOMES = new Set<Outcome>(['http_error', 'connect_error', 'invalid_response']);

/** Statuses clients understand; provider-specific ones (Anthropic's 529) become 503. */
function clientStatus(status: number): number {
  return status >= 520 && status <= 599 ? 503 : status;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const urlCache = new Map<string, URL>();
function parsedUrl(base: string): URL {
  let u = urlCache.get(base);
  if (!u) {
    u = new URL(base);
    if (urlCache.size > 1000) urlCache.clear();
    urlCache.set(base, u);
  }
  return u;
}

export class Execution {
  readonly attempts: AttemptRecord[] = [];
  retries = 0;
  private answered?: ExecResult['answered'];
  private okBody?: Json;
  private streamed = false;
  private streamError?: Outcome;
  private readonly rng: () => number;

  constructor(
    private readonly req: ExecRequest,
    private readonly env: ExecEnv,
  ) {
    this.rng = env.rng ?? Math.random;
  }

  async run(): Promise<ExecResult> {
    const root = this.req.routing;
    const r = await this.runNode(root, [], inherit(ROOT, root));
    const base = {
      attempts: this.attempts,
      retries: this.retries,
      rescued:
        r.ok &&
        this.attempts.length > 1 &&
        this.attempts.slice(0, -1).some((a) => a.status >= 400 || a.error_type !== null),
      answered: this.answered,
      headers: this.headers(),
    };
    if (r.ok)
      return { ...base, status: 200, body: this.okBody, streamed: this.streamed, streamError: this.streamError };
    const status = clientStatus(r.status);
    return { ...base, status, streamed: false, body: this.errorBody(status, r.error, r.outcome) };
  }

  errorBody(status: number, error: ProviderError, outcome?: Outcome): Json {
    return {
      error: {
        message: error.message,
        type: error.type ?? outcome ?? 'api_error',
        code: error.code ?? outcome ?? null,
        status,
        attempts: this.attempts,
      },
    };
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = {
      'x-switchyard-attempts': String(this.attempts.length),
      'x-switchyard-retry-count': String(this.retries),
      'x-switchyard-cache-status': 'DISABLED',
    };
    if (this.answered) {
      h['x-switchyard-target'] = this.answered.target;
      h['x-switchyard-provider'] = this.answered.providerSlug;
    }
    return h;
  }

  private async runNode(node: TargetSpec, path: number[], settings: Inherited): Promise<NodeResult> {
    if (isLeaf(node)) return this.runLeaf(node, path, settings);
    const d = decide(node, settings, {
      metadata: this.req.metadata,
      params: this.req.body,
      health: (k) => this.env.health.state(k),
      rng: this.rng,
    });
    if ('error' in d)
      return {
        ok: false,
        outcome: 'http_error',
        status: 400,
        error: { message: d.error, type: 'invalid_request_error', code: 'routing_error' },
      };
    const fallbackOn = node.strategy?.on_status_codes;
    let last: Failed | undefined;
    for (const i of d.order) {
      const child = node.targets![i];
      const r = await this.runNode(child, [...path, i], inherit(settings, child));
      if (r.ok) return r;
      last = r;
      // A denying guardrail stops here, unless the strategy lists 446 (Portkey's way to fall back on it).
      if (r.outcome === 'cancelled' || this.streamed || (r.stop && !fallbackOn?.includes(446))) return r;
      if (Date.now() >= this.req.deadlineAt) return r;
      // An answer a `retry` guardrail refused goes on to the next target, whatever the statuses listed.
      if (r.outcome === 'guardrail') continue;
      // Fallback on the listed statuses, or on any failure when none are listed (Portkey's rule).
      if (fallbackOn && !fallbackOn.includes(r.status)) return r;
    }
    return last!;
  }

  private async runLeaf(node: TargetSpec, path: number[], settings: Inherited): Promise<NodeResult> {
    const target = path.length ? path.join('.') : '0';
    let resolved;
    try {
      resolved = resolveProvider(node, this.env.file, this.env.simulatedUrls);
    } catch (e) {
      return {
        ok: false,
        outcome: 'http_error',
        status: 400,
        error: { message: (e as Error).message, type: 'invalid_request_error', code: 'unknown_provider' },
      };
    }
    const { provider } = resolved;
    const adapter = this.req.adapt ? this.req.adapt(resolved.adapter) : resolved.adapter;
    const model = leafModel(settings, this.req.body.model);
    if (!adapter.supports(this.req.op)) {
      return {
        ok: false,
        outcome: 'http_error',
        status: 400,
        error: {
          message: `provider "${provider.slug}" (${adapter.name}) does not support ${this.req.op}`,
          type: 'invalid_request_error',
          code: 'unsupported_operation',
        },
      };
    }
    const key = healthKey(node, settings, this.req.body.model);
    // One copy per target (retries reuse it); `stream` is what this request does, whatever the body said.
    const body = { ...this.req.body, ...settings.override_params, model, stream: this.req.stream || undefined };
    const url = parsedUrl(provider.baseUrl);
    const retry = settings.retry;
    const maxRetries = retry?.attempts ?? 0;
    const retryOn = retry?.on_status_codes ?? DEFAULT_RETRY_STATUS;
    for (let i = 0; ; i++) {
      if (this.req.clientSignal.aborted)
        return {
          ok: false,
          outcome: 'cancelled',
          status: 499,
          error: { message: 'client disconnected', type: 'cancelled' },
        };
      const obs = this.env.observer.attemptStart({
        op: this.req.op,
        attempt: this.attempts.length,
        target,
        providerSlug: provider.slug,
        providerName: adapter.name,
        model,
        stream: this.req.stream,
        serverAddress: url.hostname,
        serverPort: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
        resendCount: i,
        body,
      });
      const started = performance.now();
      this.env.health.attemptStarted(key);
      let r;
      try {
        r = await runAttempt({
          op: this.req.op,
          body,
          stream: this.req.stream,
          includeUsage: this.req.includeUsage,
          adapter,
          provider,
          requestTimeoutMs: settings.request_timeout,
          firstChunkTimeoutMs: settings.first_chunk_timeout,
          idleTimeoutMs: settings.idle_timeout,
          deadlineAt: this.req.deadlineAt,
          clientSignal: this.req.clientSignal,
          dispatcher: this.env.dispatcher,
        });
      } catch (e) {
        // A translation error for this provider (e.g. a feature it lacks): 400, not a crash.
        const status = (e as { status?: number }).status ?? 500;
        const fail: AttemptFailure = {
          ok: false,
          outcome: 'http_error',
          status,
          error: {
            message: (e as Error).message,
            type: status === 400 ? 'invalid_request_error' : 'api_error',
            code: null,
          },
        };
        this.env.health.attemptSettled(key);
        this.record(target, provider.slug, model, fail, performance.now() - started);
        obs.end({ outcome: 'http_error', status, errorType: fail.error.type, errorMessage: fail.error.message });
        return fail;
      }
      if (r.ok) {
        this.env.health.success(key);
        this.answered = {
          target,
          providerSlug: provider.slug,
          providerName: adapter.name,
          model,
          responseModel: undefined,
        };
        let refused: Failed;
        if (r.kind === 'json') {
          const p = r.parsed;
          const v = this.req.judge
            ? await this.req.judge({ kind: 'json', body: p.body }, this.attempts.length)
            : undefined;
          if (!v || v.ok) {
            this.record(target, provider.slug, model, r, performance.now() - started);
            this.answered.responseModel = p.responseModel;
            this.okBody = p.body;
            obs.end({
              outcome: 'ok',
              status: 200,
              usage: p.usage,
              responseModel: p.responseModel,
              responseId: p.responseId,
              finishReasons: p.finishReasons,
              output: p.body,
            });
            return { ok: true };
          }
          refused = guardrailFailure(v);
          this.answered = undefined;
          this.record(target, provider.slug, model, refused, performance.now() - started);
          // The provider answered (and billed): usage counts, the outcome says why it did not.
          obs.end({
            outcome: 'guardrail',
            status: 446,
            usage: p.usage,
            responseModel: p.responseModel,
            responseId: p.responseId,
            finishReasons: p.finishReasons,
            errorType: 'guardrail',
            errorMessage: v.message,
          });
        } else {
          const s = await this.pumpStream(r, obs, target, provider.slug, model, started);
          if (s.ok || s.outcome !== 'guardrail') return s;
          refused = s;
        }
        // A refused answer: again on this target while its retries last (no wait: nothing is overloaded), then the next.
        // A denying one only when the target's retry lists 446 explicitly (Portkey's way to retry on it).
        if (
          (refused.stop && !retry?.on_status_codes?.includes(446)) ||
          i >= maxRetries ||
          Date.now() >= this.req.deadlineAt
        )
          return refused;
        this.retries++;
        continue;
      }
      this.record(target, provider.slug, model, r, performance.now() - started);
      obs.end({
        outcome: r.outcome,
        status: r.status,
        errorType: r.outcome === 'http_error' ? String(r.status) : r.outcome,
        errorMessage: r.error.message,
      });
      if (r.outcome !== 'cancelled' && (r.status >= 500 || r.status === 429 || r.status === 408))
        this.env.health.failure(key);
      else this.env.health.attemptSettled(key);
      if (r.outcome === 'cancelled') return r;
      const retryable = i < maxRetries && RETRYABLE_OUTCOMES.has(r.outcome) && retryOn.includes(r.status);
      if (!retryable) return r;
      const useHeader = retry?.use_retry_after_header !== false && r.retryAfterMs !== undefined;
      const wait = useHeader ? r.retryAfterMs! : backoffMs(i, retry?.backoff_base_ms, retry?.backoff_max_ms, this.rng);
      // Never sleep past the deadline: a wait that does not fit ends this target's retries.
      if (Date.now() + wait >= this.req.deadlineAt) return r;
      this.env.observer.backoff(wait, this.attempts.length - 1, useHeader ? 'retry_after' : 'backoff');
      await sleep(wait, this.req.clientSignal);
      this.retries++;
    }
  }

  private async pumpStream(
    r: StreamSuccess,
    obs: ReturnType<RequestObserver['attemptStart']>,
    target: string,
    slug: string,
    model: string,
    started: number,
  ): Promise<NodeResult> {
    const sink = this.req.sink!;
    obs.firstChunk(r.ttftMs);
    this.streamed = true;
    this.answered!.responseModel = r.translator.responseModel;
    sink.start(this.headers());
    const end = (outcome: Outcome, status: number, err?: ProviderError) => {
      r.release();
      this.record(target, slug, model, { ok: outcome === 'ok', outcome, status }, performance.now() - started);
      obs.end({
        outcome,
        status,
        usage: r.translator.usage,
        responseModel: r.translator.responseModel,
        responseId: r.translator.responseId,
        finishReasons: r.translator.finishReasons,
        ttftMs: r.ttftMs,
        errorType: err ? (outcome === 'http_error' ? String(status) : outcome) : undefined,
        errorMessage: err?.message,
      });
    };
    try {
      for (const c of r.first) await sink.write(c);
      for await (const chunks of r.rest) {
        if (sink.closed) break;
        for (const c of chunks) await sink.write(c);
      }
    } catch (e) {
      const f =
        e instanceof StreamFailure
          ? e.failure
          : ({
              ok: false,
              outcome: 'stream_cut',
              status: 502,
              error: { message: (e as Error).message, type: 'stream_cut' },
            } as AttemptFailure);
      this.streamError = f.outcome;
      end(f.outcome, f.status, f.error);
      // After the first byte there is no retry: an error frame, and never a clean [DONE].
      sink.fail(this.errorBody(clientStatus(f.status), f.error, f.outcome));
      return { ok: true };
    }
    if (sink.closed) {
      this.streamError = 'cancelled';
      end('cancelled', 499, { message: 'client disconnected', type: 'cancelled' });
      return { ok: true };
    }
    const v = this.req.judge ? await this.req.judge({ kind: 'stream' }, this.attempts.length) : undefined;
    if (v && !v.ok) {
      // The sink held the stream: the client saw none of it, so the request can still go on or answer 446.
      const refused = guardrailFailure(v);
      this.streamed = false;
      this.answered = undefined;
      end('guardrail', 446, refused.error);
      return refused;
    }
    end('ok', 200);
    await sink.end();
    return { ok: true };
  }

  private record(
    target: string,
    provider: string,
    model: string,
    r: { ok: boolean; outcome?: Outcome; status: number },
    ms: number,
  ): void {
    this.attempts.push({
      target,
      provider,
      model,
      status: r.status,
      error_type: r.ok ? null : (r.outcome ?? 'http_error'),
      duration_ms: Math.round(ms * 10) / 10,
    });
  }
}

function guardrailFailure(v: Extract<Verdict, { ok: false }>): Failed {
  return {
    ok: false,
    outcome: 'guardrail',
    status: 446,
    error: { message: v.message, type: 'guardrail_error', code: 'guardrail_denied' },
    stop: !v.retry,
  };
}

export function execute(req: ExecRequest, env: ExecEnv): Promise<ExecResult> {
  return new Execution(req, env).run();
}
