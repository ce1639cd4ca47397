// Per-target circuit breakers: after N consecutive failures (errors or timeouts) a target is
// moved out of the way for a cooldown; then it is tried again (half-open), and one more failure
// re-opens it at once while a success closes it. This is what routes around a provider that
// degrades slowly instead of paying its timeout on every request.
export type BreakerState = 'closed' | 'open' | 'half_open';

interface Breaker {
  failures: number;
  openedAt: number;
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

  success(key: string): void {
    this.breakers.delete(key);
  }

  failure(key: string): void {
    const b = this.breakers.get(key) ?? { failures: 0, openedAt: 0 };
    b.failures++;
    if (b.failures >= this.threshold) b.openedAt = this.now();
    this.breakers.set(key, b);
  }

  snapshot(): Record<string, BreakerState> {
    const out: Record<string, BreakerState> = {};
    for (const k of this.breakers.keys()) out[k] = this.state(k);
    return out;
  }
}
