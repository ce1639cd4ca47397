// Per-target latency: time to first token (streams) or duration (non-stream), kept two ways.
// - PeakEWMA (Finagle's, also Helicone's gateway balancer): jumps to a slower sample at once and
//   decays towards faster ones, and towards 0 while idle, so a target that stopped getting traffic
//   is tried again after a few decay times instead of being starved forever.
// - A plain time-decayed EWMA (no peak, no idle decay): the steady figure ejection compares.
// Failed and cancelled attempts only tell us the target took at least that long: their time
// is a censored sample and may raise the figures, never lower them (a target failing fast must
// not look fast, and a hedge's loser, cut off, must not look as fast as the winner).
// Likewise a request still outstanding: the balancer's cost is at least the age of a target's
// oldest one, so a target that stopped answering in time gets expensive while its slow answers
// are still on their way (12 s in the seed's incident), not only once they land.

/** Score of a target never measured that already has requests in flight (Finagle's penalty). */
export const UNMEASURED_PENALTY = Number.MAX_SAFE_INTEGER / 2;

export class PeakEwma {
  private cost = 0;
  private stamp: number;

  constructor(
    private readonly decayMs: number,
    now: number,
  ) {
    this.stamp = now;
  }

  observe(ms: number, now: number): void {
    const w = Math.exp(-Math.max(now - this.stamp, 0) / this.decayMs);
    this.cost = ms > this.cost ? ms : this.cost * w + ms * (1 - w);
    this.stamp = now;
  }

  /** The cost now: decayed towards 0 since the last sample. */
  value(now: number): number {
    return this.cost * Math.exp(-Math.max(now - this.stamp, 0) / this.decayMs);
  }
}

export class Ewma {
  private v = 0;
  private stamp = 0;
  samples = 0;

  constructor(private readonly decayMs: number) {}

  observe(ms: number, now: number): void {
    if (this.samples === 0) this.v = ms;
    else {
      const w = Math.exp(-Math.max(now - this.stamp, 0) / this.decayMs);
      this.v = this.v * w + ms * (1 - w);
    }
    this.stamp = now;
    this.samples++;
  }

  get value(): number {
    return this.v;
  }
}

export interface TargetLatency {
  peak: PeakEwma;
  ewma: Ewma;
  /** Start times of the requests in flight, oldest first. */
  inFlight: number[];
}

/** Latency and load per health key (provider|host|model), shared by every config that uses it. */
export class LatencyBook {
  private readonly byKey = new Map<string, TargetLatency>();

  constructor(
    private decayMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  configure(decayMs: number): void {
    if (decayMs === this.decayMs) return;
    this.decayMs = decayMs;
    this.byKey.clear(); // the constants live in the entries; a reload starts them over
  }

  private entry(key: string): TargetLatency {
    let e = this.byKey.get(key);
    if (!e) {
      if (this.byKey.size >= 10_000) this.byKey.clear(); // keys come from configs; bound them anyway
      e = { peak: new PeakEwma(this.decayMs, this.now()), ewma: new Ewma(this.decayMs), inFlight: [] };
      this.byKey.set(key, e);
    }
    return e;
  }

  /** A request starts on `key`; the answer is its token for ended(). */
  started(key: string): number {
    const t = this.now();
    this.entry(key).inFlight.push(t);
    return t;
  }

  /** The request started at `token` ended (without a token: the oldest). */
  ended(key: string, token?: number): void {
    const list = this.entry(key).inFlight;
    const i = token === undefined ? 0 : list.indexOf(token);
    if (list.length > 0) list.splice(Math.max(i, 0), 1);
  }

  /** A measured time to first byte (or duration). */
  observe(key: string, ms: number): void {
    const e = this.entry(key);
    const now = this.now();
    e.peak.observe(ms, now);
    e.ewma.observe(ms, now);
  }

  /** A failed or cancelled attempt lasted `ms`: the target is at least that slow. */
  observeAtLeast(key: string, ms: number): void {
    const e = this.entry(key);
    if (e.ewma.samples === 0 || ms > e.ewma.value) this.observe(key, ms);
  }

  /** PeakEWMA × (in flight + 1): lower is better. */
  score(key: string): number {
    const e = this.byKey.get(key);
    if (!e) return 0;
    const now = this.now();
    const n = e.inFlight.length;
    const cost = e.peak.value(now);
    if (cost === 0) return n > 0 ? UNMEASURED_PENALTY + n : 0;
    return Math.max(cost, n > 0 ? now - e.inFlight[0] : 0) * (n + 1);
  }

  ewma(key: string): { ms: number; samples: number } {
    const e = this.byKey.get(key);
    return e ? { ms: e.ewma.value, samples: e.ewma.samples } : { ms: 0, samples: 0 };
  }
}
