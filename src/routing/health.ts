// Per-target circuit breakers: after N consecutive failures (errors or timeouts) a target is
// moved out of the way for a cooldown; then one request at a time is let through as a probe
// (half-open): its failure re-opens the breaker at once, its success closes it. Only one probe:
// against a provider that answers after 45 s, every request admitted after the cooldown would
// pay the timeout, so concurrent requests keep routing around it while the probe runs. This is
// what routes around a provider that degrades slowly instead of paying its timeout on every
// request.
export type BreakerState = 'closed' | 'open' | 'half_open';

interface Breaker {
  failures: number;
  openedAt: number;
  /** When the half-open probe started; undefined while none is running. */
  probeSince?: number;
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
    const now = this.now();
    if (now - b.openedAt < this.cooldownMs) return 'open';
    // A probe that never reported (it cannot outlive its timeouts, but a bug must not pin the
    // breaker open) stops counting after another cooldown.
    if (b.probeSince !== undefined && now - b.probeSince < this.cooldownMs) return 'open';
    return 'half_open';
  }

  /** An attempt starts on `key`; when the breaker is half-open, this attempt is its probe. */
  attemptStarted(key: string): void {
    if (this.state(key) === 'half_open') this.breakers.get(key)!.probeSince = this.now();
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
    return out;
  }
}
