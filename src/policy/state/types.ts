// The shared-state layer of the policy pipeline: rate limits, budget reservations and cache
// entries that several sidecars must agree on. Two implementations behind one interface:
// MemoryStateStore (one process; the default) and RedisStateStore (a fleet shares one
// redis-server exactly: every operation is one atomic Lua script or command, one round trip,
// timed by the Redis server's clock so that sidecars with skewed clocks agree).
//
// Keys: callers pass their own logical key (e.g. "vk:support-chat:rpm"); the store prefixes
// it (default "switchyard:") and keeps each logical key's Redis keys in one hash slot.
// Units: rate limits count whatever the caller counts (requests, tokens); budgets count
// integer units, micro-USD for money (see src/policy/limits/money.ts) or tokens, so sums are
// exact. Every amount, limit and duration is a safe integer; anything else throws RangeError
// (a caller bug, never a store failure).
//
// Failures: when the store cannot answer (Redis down, unreachable, too slow), operations
// reject with StateStoreUnavailable within about a second, never hang, and the store
// reconnects by itself; the caller decides to fail closed or open.

export interface RateRequest {
  /** Units per period, and the burst. Positive integer. */
  limit: number;
  /** Period in milliseconds. Positive integer. periodMs * 1000 * limit must be <= 2^53. */
  periodMs: number;
  /** Units this request costs; 0 peeks without changing anything. Non-negative integer. */
  cost: number;
}

export interface RateDecision {
  allowed: boolean;
  /** The limit the decision was taken against (for RateLimit-Limit). */
  limit: number;
  /** Units that could still be admitted now, after this request when allowed (RateLimit-Remaining). */
  remaining: number;
  /** Milliseconds (rounded up) until the full limit is available again (RateLimit-Reset). */
  resetMs: number;
  /**
   * Milliseconds (rounded up) until this request would be admitted (Retry-After); 0 when
   * allowed. Infinity when cost > limit: such a request can never pass.
   */
  retryAfterMs: number;
}

export interface RateAdjustRequest {
  limit: number;
  periodMs: number;
  /** Units to charge (> 0) or refund (< 0). Integer. Refunds never create credit beyond a full limit. */
  delta: number;
}

export interface ReserveRequest {
  /** The budget window (see budgetWindow in src/policy/limits/windows.ts), e.g. "1d:2026-12-01". */
  windowId: string;
  /** End of the window, ms since the epoch: its counters expire an hour after it. null = never. */
  windowEndsAt: number | null;
  /** Budget in integer units (micro-USD or tokens). Non-negative integer. */
  limit: number;
  /** Units to reserve. Non-negative integer. */
  amount: number;
  /** Unique per request. Reserving a live id again is a no-op that answers ok; a settled id throws. */
  reservationId: string;
  /** The reservation is released by itself this long after it was made if never settled. Positive integer. */
  ttlMs: number;
}

export interface BudgetDecision {
  /** True when used + reserved + amount <= limit held and the amount is now reserved. */
  ok: boolean;
  /** Settled units in the window (after this call). */
  used: number;
  /** Units held by live reservations (after this call, this one included when ok). */
  reserved: number;
  /** max(0, limit - used - reserved). */
  remaining: number;
}

export interface SettleRequest {
  windowId: string;
  windowEndsAt: number | null;
  reservationId: string;
  /** Actual units spent; more or less than reserved; 0 releases. Non-negative integer. */
  actual: number;
}

export interface BudgetStatus {
  used: number;
  reserved: number;
}

/**
 * The admit and settle operations answered at once, by a store that lives in this process. The
 * stages call these when a store has them, so a request waits on no promise for its limits and
 * budgets (each awaited store call cost the memory path about a microsecond in promises and GC).
 * Same rules and errors as the asynchronous methods, thrown instead of rejected.
 */
export interface LocalStateOps {
  rateLimit(key: string, req: RateRequest): RateDecision;
  rateAdjust(key: string, req: RateAdjustRequest): void;
  reserve(key: string, req: ReserveRequest): BudgetDecision;
  settle(key: string, req: SettleRequest): BudgetStatus;
}

export interface StateStore {
  /** "memory" or "redis". */
  readonly kind: 'memory' | 'redis';

  /** Present on an in-process store: the same operations, synchronous. */
  readonly local?: LocalStateOps;

  /**
   * GCRA: admits `cost` units against `limit` units per `periodMs` (burst = limit), exactly
   * (integer arithmetic, see src/policy/limits/gcra.ts). Atomic; a denied request changes
   * nothing. cost 0 peeks.
   */
  rateLimit(key: string, req: RateRequest): Promise<RateDecision>;

  /**
   * Charges (delta > 0) or refunds (delta < 0) units after the fact, e.g. tokens per minute
   * corrected with the actual usage. Never refuses; a charge may push the key into debt, so
   * later requests wait longer.
   */
  rateAdjust(key: string, req: RateAdjustRequest): Promise<void>;

  /**
   * Reserves `amount` in budget window `windowId` when used + live reservations + amount <=
   * limit. Expired reservations are released first (lazily, here and in settle). Atomic, one
   * round trip.
   */
  reserve(key: string, req: ReserveRequest): Promise<BudgetDecision>;

  /**
   * Settles a reservation to its actual amount (0 releases it). Idempotent per reservationId
   * for SETTLED_ID_KEEP_MS (60 s) past the reservation's expiry. Settling an expired or unknown reservation still
   * adds `actual` to used: the money was spent.
   */
  settle(key: string, req: SettleRequest): Promise<BudgetStatus>;

  /** Read-only view of a window (expired reservations not counted), e.g. for GET /v1/keys/self. */
  budgetStatus(key: string, req: { windowId: string }): Promise<BudgetStatus>;

  /** Cache entry, or undefined when absent or expired. */
  get(key: string): Promise<Buffer | undefined>;

  /** Stores a cache entry for ttlMs (positive integer). */
  set(key: string, value: Buffer, ttlMs: number): Promise<void>;

  /** True when the store answers now; never throws. */
  ping(): Promise<boolean>;

  /** Releases connections and timers. Operations afterwards reject. */
  close(): Promise<void>;
}

/** The store could not answer (connection refused or lost, timeout, server loading...). */
export class StateStoreUnavailable extends Error {
  override readonly name = 'StateStoreUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isStateStoreUnavailable(e: unknown): e is StateStoreUnavailable {
  return e instanceof StateStoreUnavailable;
}

/**
 * How long a settled reservation id is remembered past its reservation's expiry, so that a
 * repeated settle is a no-op. Short: the sidecar settles once, and every id held costs memory
 * (~0.5 KB in the memory store) for its reservation's life plus this.
 */
export const SETTLED_ID_KEEP_MS = 60_000;
/** Budget window counters live this long past their window's end (late settles still land). */
export const WINDOW_GRACE_MS = 60 * 60_000;
