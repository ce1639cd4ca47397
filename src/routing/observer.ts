// What the executor reports as it runs; telemetry implements it (spans, metrics, cost) and a
// no-op implementation serves when telemetry is off.
import type { Operation, Usage } from '../providers/types.js';
import type { Outcome } from './outcome.js';

export interface AttemptInfo {
  op: Operation;
  attempt: number; // 0-based across the request
  target: string; // index path, e.g. "1.0"
  providerSlug: string;
  providerName: string; // gen_ai.provider.name
  model: string;
  stream: boolean;
  serverAddress: string;
  serverPort: number;
  resendCount: number; // retries of this same target before this attempt
  /** Started as a hedge (a parallel attempt after the group's delay); absent otherwise. */
  hedge?: boolean;
  body: Record<string, unknown>;
}

export interface AttemptEnd {
  outcome: Outcome;
  status?: number;
  usage?: Usage;
  responseModel?: string;
  responseId?: string;
  finishReasons?: string[];
  ttftMs?: number;
  errorType?: string;
  errorMessage?: string;
  /** The response (OpenAI-shaped) for opt-in content capture. */
  output?: unknown;
}

export interface AttemptObserver {
  firstChunk(ttftMs: number): void;
  end(result: AttemptEnd): void;
}

export interface RequestObserver {
  attemptStart(info: AttemptInfo): AttemptObserver;
  backoff(waitMs: number, afterAttempt: number, reason: 'backoff' | 'retry_after'): void;
}

const noopAttempt: AttemptObserver = { firstChunk() {}, end() {} };
export const noopObserver: RequestObserver = { attemptStart: () => noopAttempt, backoff() {} };
