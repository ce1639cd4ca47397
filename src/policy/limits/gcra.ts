// GCRA (generic cell rate algorithm) in exact integer arithmetic: the math that the memory
// store runs in-process and that src/policy/state/lua/gcra.lua runs inside Redis, line for
// line, so both stores decide alike.
//
// A limit of L units per period P (burst = L) is a "theoretical arrival time" TAT: each unit
// moves it forward by the emission interval P / L; a request of n units is admitted when
// TAT' = max(TAT, now) + n * P / L is no further than P ahead of now. Denied requests change
// nothing. Times are integer microseconds. P / L is rarely whole (60 s / 7), so TAT is kept
// as a whole part plus a fraction `frac / den` (0 <= frac < den = L): the burst of exactly L
// is always admitted and the L+1st always refused, with no floating-point drift.
//
// Exactness needs P(µs) * L <= 2^53 (checked by gcraCheck): one minute allows L up to 1.5e8
// units, one hour 2.5e6, one day 1e5.

/** The stored state: TAT = tat + frac / den microseconds (den = the limit it was written with). */
export interface GcraState {
  tat: number;
  frac: number;
  den: number;
}

export interface GcraParams {
  /** Units per period; also the burst. Positive integer. */
  limit: number;
  /** Period in milliseconds. Positive integer. */
  periodMs: number;
}

export interface GcraDecision {
  allowed: boolean;
  /** Units that could still be admitted right now (after this request when allowed). */
  remaining: number;
  /** Microseconds until the limit is fully available again (backlog drained). */
  resetUs: number;
  /** Microseconds until this request would be admitted (0 when allowed). */
  retryAfterUs: number;
  /** State to store when it changed: null = delete (nothing owed), undefined = unchanged. */
  next: GcraState | null | undefined;
}

/** Throws a RangeError when the parameters are not exact-safe. */
export function gcraCheck(p: GcraParams): void {
  if (!Number.isSafeInteger(p.limit) || p.limit < 1)
    throw new RangeError(`rate limit: limit must be a positive integer (got ${p.limit})`);
  if (!Number.isSafeInteger(p.periodMs) || p.periodMs < 1)
    throw new RangeError(`rate limit: periodMs must be a positive integer (got ${p.periodMs})`);
  if (p.periodMs * 1000 * p.limit > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(
      `rate limit: ${p.limit} per ${p.periodMs} ms is too fine for exact arithmetic (periodMs * 1000 * limit must be <= 2^53)`,
    );
  }
}

/** Loads a state as of `now`: a TAT in the past counts as now; a different denominator is rescaled. */
function load(s: GcraState | undefined, now: number, L: number): { tat: number; frac: number } {
  if (!s || s.tat < now) return { tat: now, frac: 0 };
  return { tat: s.tat, frac: s.den === L ? s.frac : Math.floor((s.frac * L) / s.den) };
}

/** Adds k units (k may be negative) to TAT: k * P / L = k * q + k * r / L with P = q * L + r. */
function add(t: { tat: number; frac: number }, k: number, P: number, L: number): { tat: number; frac: number } {
  const q = Math.floor(P / L);
  const r = P - q * L;
  const a = t.frac + k * r;
  const carry = Math.floor(a / L);
  return { tat: t.tat + k * q + carry, frac: a - carry * L };
}

/** Units admissible with a backlog of (bw + frac / L) µs: floor(((P - bw) * L - frac) / P), at least 0. */
function remainingUnits(bw: number, frac: number, P: number, L: number): number {
  if (bw >= P) return 0;
  return Math.max(0, Math.floor(((P - bw) * L - frac) / P));
}

/** Admits `cost` units (0 = peek) at time `nowUs`. */
export function gcraTake(state: GcraState | undefined, nowUs: number, p: GcraParams, cost: number): GcraDecision {
  const L = p.limit;
  const P = p.periodMs * 1000;
  const cur = load(state, nowUs, L);
  const nxt = add(cur, cost, P, L);
  const bw = nxt.tat - nowUs;
  if (bw < P || (bw === P && nxt.frac === 0)) {
    return {
      allowed: true,
      remaining: remainingUnits(bw, nxt.frac, P, L),
      resetUs: bw + (nxt.frac > 0 ? 1 : 0),
      retryAfterUs: 0,
      next: cost === 0 ? undefined : { tat: nxt.tat, frac: nxt.frac, den: L },
    };
  }
  const ob = cur.tat - nowUs;
  return {
    allowed: false,
    remaining: remainingUnits(ob, cur.frac, P, L),
    resetUs: ob + (cur.frac > 0 ? 1 : 0),
    retryAfterUs: bw - P + (nxt.frac > 0 ? 1 : 0),
    next: undefined,
  };
}

/** Charges (delta > 0) or refunds (delta < 0) units after the fact; never refuses, may go into debt. */
export function gcraAdjust(
  state: GcraState | undefined,
  nowUs: number,
  p: GcraParams,
  delta: number,
): GcraState | null {
  const L = p.limit;
  const nxt = add(load(state, nowUs, L), delta, p.periodMs * 1000, L);
  if (nxt.tat < nowUs || (nxt.tat === nowUs && nxt.frac === 0)) return null;
  return { tat: nxt.tat, frac: nxt.frac, den: L };
}

/** Milliseconds (rounded up) a stored state must live: after that TAT is in the past and equals no state. */
export function gcraTtlMs(s: GcraState, nowUs: number): number {
  return Math.floor((s.tat - nowUs) / 1000) + 1;
}
