// In-process StateStore: the default for a single sidecar. Every operation runs synchronously
// inside one call, so it is atomic within the process; nothing is shared with other processes.
// The same rules as the Redis scripts (src/policy/state/lua/): GCRA from limits/gcra.ts,
// reservations released lazily when they expire, settled ids remembered for a while.
import { gcraAdjust, gcraTake, gcraTtlMs, type GcraState } from '../limits/gcra.js';
import {
  SETTLED_ID_KEEP_MS,
  StateStoreUnavailable,
  WINDOW_GRACE_MS,
  type BudgetDecision,
  type BudgetStatus,
  type RateAdjustRequest,
  type RateDecision,
  type RateRequest,
  type ReserveRequest,
  type SettleRequest,
  type LocalStateOps,
  type StateStore,
} from './types.js';
import { checkAdjust, checkKey, checkRate, checkReserve, checkSettle, checkTtl } from './validate.js';
import { toRateDecision } from './decision.js';

export interface MemoryStateStoreOptions {
  /** Milliseconds since the epoch, fractions allowed; default Date.now. Tests inject a fake. */
  clock?: () => number;
  /** Cache entries kept at most (least recently used evicted first). Default 10,000. */
  maxCacheEntries?: number;
  /** How often expired entries are swept (ms); default 60,000. 0 disables the timer. */
  sweepIntervalMs?: number;
}

/** A reservation: live until `until` (its expiry), or settled and remembered until `until`. One
 *  map for both, so a settle updates the entry in place instead of moving it between maps. */
interface Held {
  amount: number;
  until: number;
  settled: boolean;
}

interface Window {
  used: number;
  reserved: number;
  ids: Map<string, Held>;
  /** Earliest `until` among ids (Infinity when none): prune only scans from then on. */
  nextExpiry: number;
  /** When the whole window may be dropped (null = never). */
  dropAt: number | null;
}

export class MemoryStateStore implements StateStore {
  readonly kind = 'memory' as const;
  private readonly clock: () => number;
  private readonly maxCache: number;
  private readonly rates = new Map<string, { s: GcraState; expiresAt: number }>();
  private readonly windows = new Map<string, Window>();
  private readonly cache = new Map<string, { value: Buffer; expiresAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly local: LocalStateOps = {
    rateLimit: (key, req) => this.rateLimitNow(key, req),
    rateAdjust: (key, req) => this.rateAdjustNow(key, req),
    reserve: (key, req) => this.reserveNow(key, req),
    settle: (key, req) => this.settleNow(key, req),
  };

  constructor(opts: MemoryStateStoreOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.maxCache = opts.maxCacheEntries ?? 10_000;
    const every = opts.sweepIntervalMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref();
    }
  }

  private open(): void {
    if (this.closed) throw new StateStoreUnavailable('memory state store is closed');
  }

  private nowUs(): number {
    return Math.floor(this.clock() * 1000);
  }

  async rateLimit(key: string, req: RateRequest): Promise<RateDecision> {
    return this.rateLimitNow(key, req);
  }

  async rateAdjust(key: string, req: RateAdjustRequest): Promise<void> {
    this.rateAdjustNow(key, req);
  }

  async reserve(key: string, req: ReserveRequest): Promise<BudgetDecision> {
    return this.reserveNow(key, req);
  }

  async settle(key: string, req: SettleRequest): Promise<BudgetStatus> {
    return this.settleNow(key, req);
  }

  private rateLimitNow(key: string, req: RateRequest): RateDecision {
    this.open();
    checkRate(key, req);
    const now = this.nowUs();
    const e = this.rates.get(key);
    const s = e && e.expiresAt > now / 1000 ? e.s : undefined;
    const d = gcraTake(s, now, req, req.cost);
    if (d.next) this.rates.set(key, { s: d.next, expiresAt: now / 1000 + gcraTtlMs(d.next, now) });
    return toRateDecision(req, d.allowed, d.remaining, d.resetUs, d.retryAfterUs);
  }

  private rateAdjustNow(key: string, req: RateAdjustRequest): void {
    this.open();
    checkAdjust(key, req);
    const now = this.nowUs();
    const e = this.rates.get(key);
    const next = gcraAdjust(e && e.expiresAt > now / 1000 ? e.s : undefined, now, req, req.delta);
    if (next) this.rates.set(key, { s: next, expiresAt: now / 1000 + gcraTtlMs(next, now) });
    else this.rates.delete(key);
  }

  /** The window as of `now` (ms) with expired reservations released; created when `create`. */
  private window(key: string, windowId: string, now: number, create: boolean): Window | undefined {
    const id = `${key}\u0000${windowId}`;
    let w = this.windows.get(id);
    if (w && w.dropAt !== null && w.dropAt <= now) {
      this.windows.delete(id);
      w = undefined;
    }
    if (!w) {
      if (!create) return undefined;
      w = { used: 0, reserved: 0, ids: new Map(), nextExpiry: Infinity, dropAt: null };
      this.windows.set(id, w);
    }
    if (w.nextExpiry <= now) prune(w, now);
    return w;
  }

  private reserveNow(key: string, req: ReserveRequest): BudgetDecision {
    this.open();
    checkReserve(key, req);
    const now = this.clock();
    const w = this.window(key, req.windowId, now, true)!;
    const held = w.ids.get(req.reservationId);
    if (held?.settled) throw new RangeError(`reserve: reservation ${req.reservationId} was already settled`);
    let ok = held !== undefined;
    if (!ok && w.used + w.reserved + req.amount <= req.limit) {
      const expiresAt = now + req.ttlMs;
      w.ids.set(req.reservationId, { amount: req.amount, until: expiresAt, settled: false });
      w.reserved += req.amount;
      w.nextExpiry = Math.min(w.nextExpiry, expiresAt);
      ok = true;
    }
    extendDrop(w, req.windowEndsAt, now + req.ttlMs);
    return { ok, used: w.used, reserved: w.reserved, remaining: Math.max(0, req.limit - w.used - w.reserved) };
  }

  private settleNow(key: string, req: SettleRequest): BudgetStatus {
    this.open();
    checkSettle(key, req);
    const now = this.clock();
    const w = this.window(key, req.windowId, now, true)!;
    const r = w.ids.get(req.reservationId);
    if (!r?.settled) {
      w.used += req.actual;
      const forgetAt = Math.max(now, r?.until ?? now) + SETTLED_ID_KEEP_MS;
      if (r) {
        w.reserved -= r.amount;
        r.settled = true;
        r.until = forgetAt;
      } else w.ids.set(req.reservationId, { amount: 0, until: forgetAt, settled: true });
      w.nextExpiry = Math.min(w.nextExpiry, forgetAt);
      extendDrop(w, req.windowEndsAt, forgetAt);
    }
    return { used: w.used, reserved: w.reserved };
  }

  async budgetStatus(key: string, req: { windowId: string }): Promise<BudgetStatus> {
    this.open();
    checkKey(key);
    const w = this.window(key, req.windowId, this.clock(), false);
    return w ? { used: w.used, reserved: w.reserved } : { used: 0, reserved: 0 };
  }

  async get(key: string): Promise<Buffer | undefined> {
    this.open();
    checkKey(key);
    const e = this.cache.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.clock()) {
      this.cache.delete(key);
      return undefined;
    }
    this.cache.delete(key); // most recently used goes last
    this.cache.set(key, e);
    return e.value;
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    this.open();
    checkKey(key);
    checkTtl(ttlMs);
    this.cache.delete(key);
    this.cache.set(key, { value, expiresAt: this.clock() + ttlMs });
    while (this.cache.size > this.maxCache) this.cache.delete(this.cache.keys().next().value!);
  }

  async ping(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.rates.clear();
    this.windows.clear();
    this.cache.clear();
  }

  /** Drops everything expired; runs on a timer so idle keys do not pile up. */
  sweep(): void {
    const now = this.clock();
    for (const [k, e] of this.rates) if (e.expiresAt <= now) this.rates.delete(k);
    for (const [k, w] of this.windows) {
      if (w.dropAt !== null && w.dropAt <= now) this.windows.delete(k);
      else if (w.nextExpiry <= now) prune(w, now);
    }
    for (const [k, e] of this.cache) if (e.expiresAt <= now) this.cache.delete(k);
  }
}

function prune(w: Window, now: number): void {
  let next = Infinity;
  for (const [id, r] of w.ids) {
    if (r.until > now) next = Math.min(next, r.until);
    else {
      // An expired live reservation is released; a settled one is forgotten.
      w.ids.delete(id);
      if (!r.settled) w.reserved -= r.amount;
    }
  }
  w.nextExpiry = next;
}

/** A window lives until WINDOW_GRACE_MS after its end, and at least as long as what it holds. */
function extendDrop(w: Window, windowEndsAt: number | null, holdsUntil: number): void {
  if (windowEndsAt === null) {
    w.dropAt = null;
    return;
  }
  const at = Math.max(windowEndsAt + WINDOW_GRACE_MS, holdsUntil);
  if (w.dropAt === null || at > w.dropAt) w.dropAt = at;
}
