// Small helpers of the executor: statuses, waits, URL parsing, a guardrail's refusal.
import type { AttemptFailure } from './attempt.js';
import type { Failed } from './exec-types.js';
import type { Outcome } from './outcome.js';
import type { Verdict } from './exec-types.js';

export const RETRYABLE_OUTCOMES = new Set<Outcome>(['http_error', 'connect_error', 'invalid_response']);

/** Statuses clients understand; provider-specific ones (Anthropic's 529) become 503. */
export function clientStatus(status: number): number {
  return status >= 520 && status <= 599 ? 503 : status;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
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
export function parsedUrl(base: string): URL {
  let u = urlCache.get(base);
  if (!u) {
    u = new URL(base);
    if (urlCache.size > 1000) urlCache.clear();
    urlCache.set(base, u);
  }
  return u;
}

export function guardrailFailure(v: Extract<Verdict, { ok: false }>): Failed {
  return {
    ok: false,
    outcome: 'guardrail',
    status: 446,
    error: { message: v.message, type: 'guardrail_error', code: 'guardrail_denied' },
    stop: !v.retry,
  };
}

/** A translation error for this provider (e.g. a feature it lacks): 400, not a crash. */
export function translationFailure(e: unknown): AttemptFailure {
  const status = (e as { status?: number }).status ?? 500;
  return {
    ok: false,
    outcome: 'http_error',
    status,
    error: { message: (e as Error).message, type: status === 400 ? 'invalid_request_error' : 'api_error', code: null },
  };
}
