// The executor's contract: what a request asks of it, what it needs around it, what it answers.
import type { Dispatcher } from 'undici';
import type { FileConfig, TargetSpec } from '../config/schema.js';
import type { Operation, ProviderAdapter, ProviderError } from '../providers/types.js';
import type { HealthRegistry } from './health.js';
import type { RequestObserver } from './observer.js';
import type { Outcome } from './outcome.js';
import type { ClientSignal } from './client-link.js';

export type Json = Record<string, unknown>;

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
  /** The client leaving aborts the request (a ClientLink from the gateway; a plain signal from other callers). */
  clientSignal: ClientSignal;
  sink?: StreamSink;
  /** Output guardrails: each answer is judged before it counts (src/policy/guardrails). */
  judge?(answer: Answer, attempt: number): Verdict | Promise<Verdict>;
  /** Swaps a target's adapter for this request (POST /v1/messages: Anthropic in and out). */
  adapt?(adapter: ProviderAdapter): ProviderAdapter;
  /** false: the caller asked for no hedges (x-switchyard-hedge: false). */
  hedge?: boolean;
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
  answered?: {
    target: string;
    providerSlug: string;
    providerName: string;
    model: string;
    responseModel?: string;
    /** switchyard.attempt of the attempt that answered. */
    attempt?: number;
  };
  headers: Record<string, string>;
  /** Request-span attributes from routing (hedging): switchyard.hedge.*. */
  spanAttributes?: Record<string, string | number | boolean>;
  /** Request-span events from routing: switchyard.ejection, one per target ejected or returned. */
  spanEvents?: Array<{ name: string; time: number; attributes: Record<string, string | number | boolean> }>;
}

export interface Failed {
  ok: false;
  outcome: Outcome;
  status: number;
  error: ProviderError;
  /** A guardrail denied the answer: no retry, no fallback. */
  stop?: boolean;
}
export interface Done {
  ok: true;
}
export type NodeResult = Failed | Done;
