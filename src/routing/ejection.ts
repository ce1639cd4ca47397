// Slow-target ejection: the breakers catch a target that fails; this catches one that answers
// late without failing (the seed's 2 s → 12 s under a 15 s timeout). A target whose latency EWMA
// exceeds factor × its best healthy sibling's is treated like an open breaker for a cooldown,
// then one probe at a time (half-open) decides: back if the probe was not slow, else out again.
// At most max_ejected_percent of a group is out at once: when everything is slow, it is the
// upstream, not a target, and ejecting would only pile the load on whoever is left.
import type { BreakerState } from './health.js';

export interface EjectionOptions {
  enabled: boolean;
  factor: number;
  min_gap_ms: number;
  min_samples: number;
  cooldown_ms: number;
  max_ejected_percent: number;
}

export const DEFAULT_EJECTION: EjectionOptions = {
  enabled: true,
  factor: 3,
  min_gap_ms: 250,
  min_samples: 20,
  cooldown_ms: 30_000,
  max_ejected_percent: 50,
};

export interface GroupMember {
  key: string;
  ewmaMs: number;
  samples: number;
  /** Already ejected (open or half-open). */
  ejected: boolean;
  /** Its breaker is open: not a healthy sibling to compare against. */
  broken: boolean;
}

export interface SlowVerdict {
  key: string;
  ewmaMs: number;
  bestMs: number;
}

/** The best healthy sibling's EWMA for `key` (undefined when none has enough samples). */
export function bestSibling(members: readonly GroupMember[], key: string, o: EjectionOptions): number | undefined {
  let best: number | undefined;
  for (const m of members) {
    if (m.key === key || m.ejected || m.broken || m.samples < o.min_samples) continue;
    if (best === undefined || m.ewmaMs < best) best = m.ewmaMs;
  }
  return best;
}

export function isSlow(ms: number, best: number, o: EjectionOptions): boolean {
  return ms > o.factor * best && ms - best >= o.min_gap_ms;
}

/** Which members to eject now, slowest first, within the group's cap. Pure. */
export function findSlow(members: readonly GroupMember[], o: EjectionOptions): SlowVerdict[] {
  if (!o.enabled) return [];
  const keys = new Set(members.map((m) => m.key)); // one provider+model twice in a group is one target
  const cap = Math.floor((keys.size * o.max_ejected_percent) / 100);
  let room = cap - new Set(members.filter((m) => m.ejected).map((m) => m.key)).size;
  if (room <= 0) return [];
  const slow: SlowVerdict[] = [];
  for (const m of members) {
    if (m.ejected || m.samples < o.min_samples || slow.some((s) => s.key === m.key)) continue;
    const best = bestSibling(members, m.key, o);
    if (best !== undefined && isSlow(m.ewmaMs, best, o)) slow.push({ key: m.key, ewmaMs: m.ewmaMs, bestMs: best });
  }
  slow.sort((a, b) => b.ewmaMs - a.ewmaMs);
  const out: SlowVerdict[] = [];
  for (const s of slow) {
    if (room-- <= 0) break;
    out.push(s);
  }
  return out;
}

interface Ejected {
  at: number;
  probeSince?: number;
}

/** Ejection state per health key: open for the cooldown, then half-open with a single probe. */
export class Ejections {
  private readonly byKey = new Map<string, Ejected>();

  constructor(
    private opts: EjectionOptions = DEFAULT_EJECTION,
    private readonly now: () => number = Date.now,
  ) {}

  get options(): EjectionOptions {
    return this.opts;
  }

  configure(opts: EjectionOptions): void {
    this.opts = opts;
    if (!opts.enabled) this.byKey.clear();
  }

  state(key: string): BreakerState {
    const e = this.byKey.get(key);
    if (!e) return 'closed';
    const now = this.now();
    if (now - e.at < this.opts.cooldown_ms) return 'open';
    // A probe that never reported stops counting after another cooldown (as for breakers).
    if (e.probeSince !== undefined && now - e.probeSince < this.opts.cooldown_ms) return 'open';
    return 'half_open';
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  isEjected(key: string): boolean {
    return this.byKey.has(key);
  }

  eject(key: string): void {
    this.byKey.set(key, { at: this.now() });
  }

  /** An attempt starts on `key`: while half-open, it is the probe. */
  attemptStarted(key: string): void {
    if (this.state(key) === 'half_open') this.byKey.get(key)!.probeSince = this.now();
  }

  /** The probe ended without a latency verdict (cancelled early): the next may probe. */
  probeAbandoned(key: string): void {
    const e = this.byKey.get(key);
    if (e) e.probeSince = undefined;
  }

  /** Whether `key`'s attempt that just ended was its probe. */
  probing(key: string): boolean {
    return this.byKey.get(key)?.probeSince !== undefined;
  }

  /** The probe's verdict: back in the group, or out for another cooldown. */
  settleProbe(key: string, slow: boolean): void {
    if (slow) this.byKey.set(key, { at: this.now() });
    else this.byKey.delete(key);
  }
}
