// Budgets are counted in integer units so that sums are exact in JavaScript, in Lua and in
// Redis (HINCRBY): money in micro-USD (1 USD = 1,000,000 units), token budgets in tokens.
// Rounding happens once per charge, here, never in the store.

export const MICRO_USD_PER_USD = 1_000_000;

/** USD to integer micro-USD, rounded to the nearest unit (half away from zero). Throws on NaN/Infinity/negative. */
export function usdToMicros(usd: number): number {
  if (!Number.isFinite(usd) || usd < 0)
    throw new RangeError(`usdToMicros: expected a finite non-negative amount (got ${usd})`);
  const v = Math.round(usd * MICRO_USD_PER_USD);
  if (!Number.isSafeInteger(v)) throw new RangeError(`usdToMicros: ${usd} USD is too large`);
  return v;
}

/** Rounds up instead: for reservations and limits where under-counting would let a request through. */
export function usdToMicrosCeil(usd: number): number {
  if (!Number.isFinite(usd) || usd < 0)
    throw new RangeError(`usdToMicrosCeil: expected a finite non-negative amount (got ${usd})`);
  // The subtraction absorbs binary noise (0.1 * 1e6 = 100000.00000000001) that would otherwise round a whole value up.
  const v = Math.ceil(usd * MICRO_USD_PER_USD - 1e-6);
  if (!Number.isSafeInteger(v)) throw new RangeError(`usdToMicrosCeil: ${usd} USD is too large`);
  return Math.max(0, v);
}

export function microsToUsd(micros: number): number {
  return micros / MICRO_USD_PER_USD;
}
