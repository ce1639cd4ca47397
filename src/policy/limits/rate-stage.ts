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
      const rpmKey = `vk:${ctx.key.name}:rpm`;
      const tpmKey = `vk:${ctx.key.name}:tpm`;
      let rpmTaken = false;
      if (rl.requests_per_minute) {
        const limit = rl.requests_per_minute;
        const d = await admitWith(onStoreError, ctx, () => store.rateLimit(rpmKey, { limit, periodMs: MINUTE, cost: 1 }));
        if (d && !d.allowed) throw refuse('requests', d);
        if (d) Object.assign(ctx.responseHeaders, headers(d));
        rpmTaken = d !== undefined;
      }
      if (!rl.tokens_per_minute) return next(ctx);
      const limit = rl.tokens_per_minute;
      const charged = estimateInputTokens(ctx.body);
      const d = await admitWith(onStoreError, ctx, () => store.rateLimit(tpmKey, { limit, periodMs: MINUTE, cost: charged }));
      if (d && !d.allowed) {
        // The request is refused: it does not count against requests per minute either.
        if (rpmTaken) await afterwards('rate refund', () => store.rateAdjust(rpmKey, { limit: rl.requests_per_minute!, periodMs: MINUTE, delta: -1 }));
        throw refuse('tokens', d);
      }
      if (!rl.requests_per_minute && d) Object.assign(ctx.responseHeaders, headers(d));
      try {
        return await next(ctx);
      } finally {
        const delta = ctx.usage.tokens - charged;
        if (d && delta !== 0) await afterwards('token usage correction', () => store.rateAdjust(tpmKey, { limit, periodMs: MINUTE, delta }));
      }
    },
  };
}
