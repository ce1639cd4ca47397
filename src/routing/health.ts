// Per-target circuit breakers: after N consecutive failures (errors or timeouts) a target is
// moved out of the way for a cooldown; then one request at a time is let through as a probe
// (half-open): its failure re-opens the breaker at once, its success closes it. Only one probe:
// against a provider that answers after 45 s, every request admitted after the cooldown would
// pay the timeout, so concurrent requests keep routing around it while the probe runs. This is
// what routes around a provider that degrades slowly instead of paying its timeout on every
// request. Slow-target ejection (ejection.ts) sits beside the breakers with the same states: a
// target is out while either has it out.
import { logger } from '../logger.js';
import { bestSibling, DEFAULT_EJECTION, Ejections, findSlow, isSlow, type EjectionOptions } from './ejection.js';
import { HedgeBudgets } from './hedge-budget.js';
import { LatencyBook } from './peak-ewma.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** A target ejected for slowness, or back after its probe. */
export interface EjectionChange {
  action: 'eject' | 'return';
  key: string;
  ewmaMs: number;
  bestMs?: number;
}

const rank: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

interface Breaker {
  failures: number;
  openedAt: number;
  /** When the half-open probe started; undefined while none is running. */
  probeSince?: number;
}

export class HealthRegistry {
  private readonly breakers = new Map<string, Breaker>();
  readonly latency: LatencyBook;
  readonly ejections: Ejections;
  /** Hedge budgets and delays per hedged group (hedge-budget.ts). */
  readonly hedges: HedgeBudgets;

  constructor(
    private threshold = 5,
    private cooldownMs = 30_000,
    private readonly now: () => number = Date.now,
    ejection: EjectionOptions = DEFAULT_EJECTION,
    decayMs = 10_000,
  ) {
    this.latency = new LatencyBook(decayMs, now);
    this.ejections = new Ejections(ejection, now);
    this.hedges = new HedgeBudgets();
  }

  configure(threshold: number, cooldownMs: number, ejection?: EjectionOptions, decayMs?: number): void {
    this.threshold = threshold;
    this.cooldownMs = cooldownMs;
    if (ejection) this.ejections.configure(ejection);
    if (decayMs !== undefined) this.latency.configure(decayMs);
  }

  /** Out while either the breaker or slow-target ejection has the target out. */
  state(key: string): BreakerState {
    const b = this.breakerState(key);
    const e = this.ejections.state(key);
    return rank[e] > rank[b] ? e : b;
  }

  breakerState(key: string): BreakerState {
    const b = this.breakers.get(key);
    if (!b || b.failures < this.threshold) return 'closed';
    const now = this.now();
    if (now - b.openedAt < this.cooldownMs) return 'open';
    // A probe that never reported (it cannot outlive its timeouts, but a bug must not pin the
    // breaker open) stops counting after another cooldown.
    if (b.probeSince !== undefined && now - b.probeSince < this.cooldownMs) return 'open';
    return 'half_open';
  }

  /** An attempt starts on `key`; when the breaker is half-open, this attempt is its probe. */
  /** Answers a token for attemptEnded (which in-flight request of `key` this is). */
  attemptStarted(key: string): number {
    if (this.breakerState(key) === 'half_open') this.breakers.get(key)!.probeSince = this.now();
    this.ejections.attemptStarted(key);
    return this.latency.started(key);
  }

  /**
   * Every attempt's end, beside its breaker verdict: `ms` is its time to first byte (or duration)
   * when `measured` (it answered), else how long it lasted before failing or being cancelled.
   * `group`: the health keys of the leaf targets it was chosen among, for ejection.
   */
  attemptEnded(key: string, ms: number, measured: boolean, group: readonly string[], token?: number): EjectionChange[] {
    this.latency.ended(key, token);
    if (measured) this.latency.observe(key, ms);
    else this.latency.observeAtLeast(key, ms);
    if (!this.ejections.options.enabled || group.length < 2) return [];
    const members = group.map((k) => {
      const e = this.latency.ewma(k);
      return {
        key: k,
        ewmaMs: e.ms,
        samples: e.samples,
        ejected: this.ejections.isEjected(k),
        broken: this.breakerState(k) === 'open',
      };
    });
    const opts = this.ejections.options;
    const changes: EjectionChange[] = [];
    if (this.ejections.probing(key)) {
      const best = bestSibling(members, key, opts);
      const slow = best !== undefined && isSlow(ms, best, opts);
      // A failed or cancelled probe that was not yet slow says nothing: the next request probes.
      if (!measured && !slow) this.ejections.probeAbandoned(key);
      else {
        this.ejections.settleProbe(key, slow);
        changes.push({ action: slow ? 'eject' : 'return', key, ewmaMs: ms, bestMs: best });
      }
      return this.report(changes);
    }
    for (const s of findSlow(members, opts)) {
      this.ejections.eject(s.key);
      changes.push({ action: 'eject', key: s.key, ewmaMs: s.ewmaMs, bestMs: s.bestMs });
    }
    return this.report(changes);
  }

  private report(changes: EjectionChange[]): EjectionChange[] {
    for (const c of changes)
      logger.info(c.action === 'eject' ? 'slow target ejected' : 'ejected target returned', {
        target: c.key,
        ewma_ms: Math.round(c.ewmaMs),
        best_sibling_ms: c.bestMs === undefined ? undefined : Math.round(c.bestMs),
        cooldown_ms: this.ejections.options.cooldown_ms,
      });
    return changes;
  }

  /** The attempt ended without a verdict on the target (cancelled, a 4xx): the next may probe. */
  attemptSettled(key: string): void {
    const b = this.breakers.get(key);
    if (b) b.probeSince = undefined;
  }

  success(key: string): void {
    this.breakers.delete(key);
  }

  failure(key: string): void {
    const b = this.breakers.get(key) ?? { failures: 0, openedAt: 0 };
    b.failures++;
    if (b.failures >= this.threshold) b.openedAt = this.now();
    b.probeSince = undefined;
    this.breakers.set(key, b);
  }

  snapshot(): Record<string, BreakerState> {
    const out: Record<string, BreakerState> = {};
    for (const k of this.breakers.keys()) out[k] = this.state(k);
    for (const k of this.ejections.keys()) out[k] = this.state(k);
    return out;
  }
}
