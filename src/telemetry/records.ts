// What the request path records about one request: plain data (structured-clone safe), so the
// spans and metrics can be built from it off the event loop (export-worker.ts) or in-thread.
import type { Operation } from '../providers/types.js';
import type { AttemptEnd, AttemptInfo } from '../routing/observer.js';

/** Epoch milliseconds with a fraction (performance.timeOrigin + performance.now()). */
export type EpochMs = number;

export interface ParentRecord {
  spanId: string;
  traceFlags: number;
  /** W3C tracestate, serialised. */
  traceState?: string;
}

export interface AttemptSpanRecord {
  spanId: string;
  info: Omit<AttemptInfo, 'body'>;
  start: EpochMs;
  end?: EpochMs;
  firstChunk?: { time: EpochMs; ttftMs: number };
  result?: Omit<AttemptEnd, 'output'>;
  /** Redacted, serialised gen_ai.input/output.messages; only with capture_content. */
  input?: string;
  output?: string;
}

export interface BackoffRecord {
  time: EpochMs;
  waitMs: number;
  afterAttempt: number;
  reason: 'backoff' | 'retry_after';
}

export interface AnsweredRecord {
  providerName: string;
  model: string;
  target: string;
  responseModel?: string;
}

export interface RequestRecord {
  op: Operation;
  route: string;
  traceId: string;
  spanId: string;
  parent?: ParentRecord;
  start: EpochMs;
  end: EpochMs;
  switchyardTraceId: string;
  metadata: Record<string, string>;
  configId: string;
  strategy: string;
  status: number;
  errorType?: string;
  streamError?: string;
  retries: number;
  rescued: boolean;
  answered?: AnsweredRecord;
  /** Attempts the executor reports (0 when the request never reached it). */
  attemptCount: number;
  attempts: AttemptSpanRecord[];
  backoffs: BackoffRecord[];
  /** Policy stages' request-span attributes. */
  attributes?: Record<string, string | number | boolean>;
  /** Policy stages' request-span events (one per guardrail check). */
  events?: EventRecord[];
}

export interface EventRecord {
  name: string;
  time: EpochMs;
  attributes: Record<string, string | number | boolean>;
}

export function nowMs(): EpochMs {
  return performance.timeOrigin + performance.now();
}
