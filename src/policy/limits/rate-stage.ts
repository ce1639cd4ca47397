// Rate limits per virtual key, exact across a fleet (GCRA in the shared store): requests per
// minute, and tokens per minute charged with the request's input estimate up front and
// corrected with its actual usage after.
import type { VirtualKey } from '../keys/registry.js';
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

interface Limit {
  key: string;
  limit: number;
}
interface KeyLimits {
  rpm?: Limit;
  tpm?: Limit;
}
// Per key object: the registry's keys live until the next reload.
const limitsOf = new WeakMap<VirtualKey, KeyLimits>();

function keyLimits(key: VirtualKey): KeyLimits | undefined {
  const rl = key.spec.rate_limit;
  if (!rl) return undefined;
  let l = limitsOf.get(key);
  if (!l) {
    l = {
      rpm: rl.requests_per_minute ? { key: `vk:${key.name}:rpm`, limit: rl.requests_per_minute } : undefined,
      tpm: rl.tokens_per_minute ? { key: `vk:${key.name}:tpm`, limit: rl.tokens_per_minute } : undefined,
    };
    limitsOf.set(key, l);
  }
  return l;
}

export function createRateLimitStage(store: StateStore, onStoreError: OnStoreError): Stage {
  const ops = store.local ?? store;
  const take = (ctx: PipelineContext, l: Limit | undefined, cost: number) =>
    l
      ? admitWith(onStoreError, ctx, () => ops.rateLimit(l.key, { limit: l.limit, periodMs: MINUTE, cost }))
      : undefined;
  const adjust = (what: string, l: Limit, delta: number) =>
    afterwards(what, () => ops.rateAdjust(l.key, { limit: l.limit, periodMs: MINUTE, delta }));

  async function limited(ctx: PipelineContext, next: Parameters<Stage['handle']>[1], lim: KeyLimits) {
    const tpmCost = lim.tpm ? estimateInputTokens(ctx.body) : 0;
    // Both limits in one wait (parallel round trips on a remote store; a local one answers at
    // once); a limit that admitted while the other refused is refunded, so a refused request
    // counts against neither.
    const rp = take(ctx, lim.rpm, 1);
    const tp = take(ctx, lim.tpm, tpmCost);
    let r: RateDecision | undefined;
    let t: RateDecision | undefined;
    if (rp instanceof Promise || tp instanceof Promise) [r, t] = await Promise.all([rp, tp]);
    else [r, t] = [rp, tp];
    const refusedBy =
      r && !r.allowed ? { what: 'requests', d: r } : t && !t.allowed ? { what: 'tokens', d: t } : undefined;
    if (refusedBy) {
      const refunds = [
        r?.allowed && lim.rpm ? adjust('rate refund', lim.rpm, -1) : undefined,
        t?.allowed && lim.tpm ? adjust('rate refund', lim.tpm, -tpmCost) : undefined,
      ];
      await Promise.all(refunds);
      throw refuse(refusedBy.what, refusedBy.d);
    }
    const shown = r ?? t;
    if (shown) Object.assign(ctx.responseHeaders, headers(shown));
    try {
      return await next(ctx);
    } finally {
      // After the answer is decided, without holding it: never fails the response.
      const delta = lim.tpm && t ? ctx.usage.tokens - tpmCost : 0;
      if (delta !== 0) void adjust('token usage correction', lim.tpm!, delta);
    }
  }

  return {
    name: 'rate-limit',
    handle(ctx, next) {
      const lim = ctx.key && keyLimits(ctx.key);
      return lim ? limited(ctx, next, lim) : next(ctx);
    },
  };
}
