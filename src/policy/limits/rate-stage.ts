// Rate limits per virtual key, exact across a fleet (GCRA in the shared store): requests per
// minute, and tokens per minute charged with the request's input estimate up front and
// corrected with its actual usage after.
import { RateLimitedError } from '../errors.js';
import { estimateInputTokens } from '../estimate.js';
import type { PipelineContext, Stage } from '../pipeline.js';
import type { RateDecision, StateStore } from '../state/types.js';
import { admitWith, afterwards, type OnStoreError } from './store-errors.js';

const MINUTE = 60_000;

function headers(d: RateDecision): Record<string, string> {
  return {
    'ratelimit-limit': String(d.limit),
    'ratelimit-remaining': String(d.remaining),
    'ratelimit-reset': String(Math.ceil(d.resetMs / 1000)),
  };
}

function refuse(what: string, d: RateDecision): RateLimitedError {
  const never = !Number.isFinite(d.retryAfterMs);
  const message = never
    ? `this request needs more ${what} than the limit of ${d.limit} per minute allows`
    : `rate limit of ${d.limit} ${what} per minute reached; retry in ${Math.ceil(d.retryAfterMs / 1000)} s`;
  const h = headers(d);
  if (!never) h['retry-after'] = String(Math.max(1, Math.ceil(d.retryAfterMs / 1000)));
  return new RateLimitedError(message, h);
}

export function createRateLimitStage(store: StateStore, onStoreError: OnStoreError): Stage {
  return {
    name: 'rate-limit',
    async handle(ctx: PipelineContext, next) {
      const rl = ctx.key?.spec.rate_limit;
      if (!ctx.key || !rl) return next(ctx);
      const rpm = rl.requests_per_minute
        ? { key: `vk:${ctx.key.name}:rpm`, limit: rl.requests_per_minute, cost: 1 }
        : undefined;
      const tpm = rl.tokens_per_minute
        ? { key: `vk:${ctx.key.name}:tpm`, limit: rl.tokens_per_minute, cost: estimateInputTokens(ctx.body) }
        : undefined;
      // Both limits in one wait (parallel round trips); a limit that admitted while the other
      // refused is refunded, so a refused request counts against neither.
      const take = (l: typeof rpm) =>
        l
          ? admitWith(onStoreError, ctx, () =>
              store.rateLimit(l.key, { limit: l.limit, periodMs: MINUTE, cost: l.cost }),
            )
          : Promise.resolve(undefined);
      const [r, t] = await Promise.all([take(rpm), take(tpm)]);
      const refusedBy =
        r && !r.allowed ? { what: 'requests', d: r } : t && !t.allowed ? { what: 'tokens', d: t } : undefined;
      if (refusedBy) {
        const refunds = [r?.allowed && rpm ? rpm : undefined, t?.allowed && tpm ? tpm : undefined].filter(
          (l) => l !== undefined,
        );
        await Promise.all(
          refunds.map((l) =>
            afterwards('rate refund', () =>
              store.rateAdjust(l.key, { limit: l.limit, periodMs: MINUTE, delta: -l.cost }),
            ),
          ),
        );
        throw refuse(refusedBy.what, refusedBy.d);
      }
      const shown = r ?? t;
      if (shown) Object.assign(ctx.responseHeaders, headers(shown));
      try {
        return await next(ctx);
      } finally {
        // After the answer is decided, without holding it: never fails the response.
        const delta = tpm && t ? ctx.usage.tokens - tpm.cost : 0;
        if (delta !== 0)
          void afterwards('token usage correction', () =>
            store.rateAdjust(tpm!.key, { limit: tpm!.limit, periodMs: MINUTE, delta }),
          );
      }
    },
  };
}
