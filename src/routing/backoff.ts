// Retry waits: exponential backoff with full jitter, capped, or the provider's Retry-After.
// Defaults (base 200 ms, cap 5 s) suit interactive traffic; Portkey's fixed 1 s, 2 s, 4 s… is slow.
import type { IncomingHttpHeaders } from 'node:http';

export const DEFAULT_BACKOFF_BASE_MS = 200;
export const DEFAULT_BACKOFF_MAX_MS = 5_000;
export const DEFAULT_RETRY_STATUS = [429, 500, 502, 503, 504];

/** Wait before retry number `retry` (0-based): uniform in [base·2^retry / 2, base·2^retry], capped. */
export function backoffMs(
  retry: number,
  baseMs = DEFAULT_BACKOFF_BASE_MS,
  maxMs = DEFAULT_BACKOFF_MAX_MS,
  rng: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** retry);
  return Math.round(ceiling / 2 + (rng() * ceiling) / 2);
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** retry-after-ms (OpenAI) wins over Retry-After (seconds or HTTP-date). Undefined when absent or unparsable. */
export function retryAfterMs(h: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const ms = header(h, 'retry-after-ms');
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const ra = header(h, 'retry-after');
  if (ra === undefined) return undefined;
  const t = ra.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const date = Date.parse(t);
  if (!Number.isNaN(date)) return Math.max(0, date - now);
  return undefined;
}
