// The sidecar's request pipeline: stages in one list, composed around the executor (undici's
// interceptors: each stage gets the request and the rest of the chain; it may answer by not
// calling `next`, change the context, or act on the result).
import type { IncomingHttpHeaders } from 'node:http';
import type { FileConfig, TargetSpec } from '../config/schema.js';
import type { Operation } from '../providers/types.js';
import { execute, type ExecEnv, type ExecRequest, type ExecResult } from '../routing/executor.js';
import type { RequestObserver } from '../routing/observer.js';
import type { EventRecord } from '../telemetry/records.js';
import type { VirtualKey } from './keys/registry.js';
import type { PriceFn, UsageTally } from './usage.js';

export type SpanValue = string | number | boolean;

export interface PipelineContext {
  readonly op: Operation;
  readonly headers: IncomingHttpHeaders;
  readonly file: FileConfig;
  readonly body: Record<string, unknown>;
  readonly routing: TargetSpec;
  readonly configId: string;
  readonly metadata: Record<string, string>;
  readonly deadlineAt: number;
  /** What the executor runs (terminal stage), its observer aside. */
  readonly exec: { request: ExecRequest; env: Omit<ExecEnv, 'observer'> };
  /** The executor's observer; a stage may wrap it to see every attempt (budget settles from usage). */
  observer: RequestObserver;
  /** What the attempts consumed so far (tokens, cost), fed by `observer`. */
  readonly usage: UsageTally;
  /** Prices of the loaded config (built-in table plus `pricing:`). */
  readonly price: PriceFn;
  /** The calling virtual key, once identified. */
  key?: VirtualKey;
  /** Request-span attributes the stages add (switchyard.virtual_key, switchyard.budget.*). */
  readonly attributes: Record<string, SpanValue>;
  /** Response headers the stages add (RateLimit-*), on success and error alike. */
  readonly responseHeaders: Record<string, string>;
  /** Request-span events the stages add (one per guardrail check). */
  events?: EventRecord[];
}

export type Next = (ctx: PipelineContext) => Promise<ExecResult>;

export interface Stage {
  readonly name: string;
  /**
   * A stage that does not apply to a request returns `next(ctx)` from a plain (not async)
   * function, so it adds no promise; it may then also throw synchronously, which callers that
   * `await` the chain treat as a rejection.
   */
  handle(ctx: PipelineContext, next: Next): Promise<ExecResult>;
}

/** Folds the stages around `terminal`, first stage outermost; a bad entry fails at build time. */
export function compose(stages: readonly Stage[], terminal: Next): Next {
  return stages.reduceRight<Next>((next, s) => {
    if (typeof s?.handle !== 'function') throw new TypeError(`pipeline stage ${s?.name ?? String(s)} has no handle()`);
    return (ctx) => s.handle(ctx, next);
  }, terminal);
}

/** The terminal stage: the one executor, observed through whatever the stages wrapped. */
export const executeTerminal: Next = (ctx) => execute(ctx.exec.request, { ...ctx.exec.env, observer: ctx.observer });
