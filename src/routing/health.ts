// Per-target circuit breakers: after N consecutive failures (errors or timeouts) a target is
// skipped for a cooldown, then one trial request is let through (half-open). This is what routes
// around a provider that degrades slowly instead of paying its timeout on every request.
export type BreakerState = 'closed' | 'open' | 'half_open';

interface Breaker {
  failures: number;
  openedAt: number;
  trialInFlight: boolean;
}

export class HealthRegistry {
  private readonly breakers = new Map<string, Breaker>();

  constructor(
    private threshold = 5,
    private cooldownMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  configure(threshold: number, cooldownMs: number): void {
    this.threshold = threshold;
    this.cooldownMs = cooldownMs;
  }

  state(key: string): BreakerState {
    const b = this.breakers.get(key);
    if (!b || b.failures < this.threshold) return 'closed';
    return this.now() - b.openedAt >= this.cooldownMs ? 'half_open' : 'open';
  }

  /** Whether a request may use the target now (a half-open breaker lets one trial through). */
  acquire(key: string): boolean {
    const s = this.state(key);
    if (s === 'closed') return true;
    if (s === 'open') return false;
    const b = this.breakers.get(key)!;
    if (b.trialInFlight) return false;
    b.trialInFlight = true;
    return true;
  }

  success(key: string): void {
    this.breakers.delete(key);
  }

  failure(key: string): void {
    const b = this.breakers.get(key) ?? { failures: 0, openedAt: 0, trialInFlight: false };
    b.failures++;
    b.trialInFlight = false;
    if (b.failures >= this.threshold) b.openedAt = this.now();
    this.breakers.set(key, b);
  }

  snapshot(): Record<string, BreakerState> {
    const out: Record<string, BreakerState> = {};
    for (const k of this.breakers.keys()) out[k] = this.state(k);
    return out;
  }
}
