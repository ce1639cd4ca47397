// Turns a raw GCRA outcome (microseconds) into the RateDecision both stores answer.
import type { RateDecision, RateRequest } from './types.js';

export function toRateDecision(
  req: RateRequest,
  allowed: boolean,
  remaining: number,
  resetUs: number,
  retryAfterUs: number,
): RateDecision {
  return {
    allowed,
    limit: req.limit,
    remaining,
    resetMs: Math.ceil(resetUs / 1000),
    // A request costing more than the whole limit would wait for ever.
    retryAfterMs: allowed ? 0 : req.cost > req.limit ? Infinity : Math.max(1, Math.ceil(retryAfterUs / 1000)),
  };
}
