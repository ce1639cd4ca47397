// The hedge budget: gRPC's retry throttling turned to hedges. Each request a hedged group
// serves earns budget_percent/100 of a token; a hedge spends one, and so does a failed
// attempt; hedging is allowed only while the bucket stays above half full. So in the long run
// hedges are at most budget_percent of requests, and while failures or hedges outrun the
// budget (a global slowdown, where every request would want a hedge) hedging stops instead of
// doubling the load on an upstream that is already struggling.
// Per group, too: its targets' recent latencies behind `delay_ms: "p95"`.

export const BUCKET_TOKENS = 20;

export class TokenBucket {
  tokens: number;

  constructor(
    readonly ratio: number,
    readonly max = BUCKET_TOKENS,
  ) {
    this.tokens = max;
  }

  request(): void {
    this.tokens = Math.min(this.max, this.tokens + this.ratio);
  }

  failure(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }

  /** Spends a token for a hedge when that keeps the bucket above half; false: throttled. */
  tryHedge(): boolean {
    if (this.tokens - 1 < this.max / 2) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The last `size` samples; the 95th percentile, recomputed at most every `every` samples. */
export class LatencyWindow {
  private readonly buf: number[] = [];
  private next = 0;
  private sinceSort = 0;
  private cached?: number;

  constructor(
    private readonly size = 200,
    private readonly every = 10,
    readonly minSamples = 20,
  ) {}

  add(ms: number): void {
    if (this.buf.length < this.size) this.buf.push(ms);
    else this.buf[this.next] = ms;
    this.next = (this.next + 1) % this.size;
    this.sinceSort++;
  }

  /** undefined until minSamples are in. */
  p95(): number | undefined {
    if (this.buf.length < this.minSamples) return undefined;
    if (this.cached === undefined || this.sinceSort >= this.every) {
      const sorted = [...this.buf].sort((a, b) => a - b);
      this.cached = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
      this.sinceSort = 0;
    }
    return this.cached;
  }
}

/**
 * A hedged group's budget and its targets' recent latencies. `delay_ms: "p95"` waits for the
 * p95 of the group's fastest measured target: the p95 of every answer pooled would include the
 * slow target's own answers, and hedge it only after it was already slow.
 */
export class HedgeGroupState {
  readonly bucket: TokenBucket;
  // Time to first byte of streams and duration of the rest are different distributions.
  private readonly windows = new Map<string, LatencyWindow>();

  constructor(budgetPercent: number) {
    this.bucket = new TokenBucket(budgetPercent / 100);
  }

  add(key: string, stream: boolean, ms: number): void {
    const k = `${stream ? 's' : 'j'}${key}`;
    let w = this.windows.get(k);
    if (!w) this.windows.set(k, (w = new LatencyWindow()));
    w.add(ms);
  }

  /** The lowest p95 among the group's targets with enough samples; undefined when none has. */
  p95(stream: boolean): number | undefined {
    let best: number | undefined;
    const kind = stream ? 's' : 'j';
    for (const [k, w] of this.windows) {
      if (k[0] !== kind) continue;
      const v = w.p95();
      if (v !== undefined && (best === undefined || v < best)) best = v;
    }
    return best;
  }
}

/**
 * State per hedged group, by a key naming the group (its config id and index path, or its
 * content for inline configs) so it survives across requests and reloads of an unchanged group.
 */
export class HedgeBudgets {
  private readonly groups = new Map<string, HedgeGroupState>();

  group(key: string, budgetPercent: number): HedgeGroupState {
    let g = this.groups.get(key);
    if (!g || g.bucket.ratio !== budgetPercent / 100) {
      if (!g && this.groups.size >= 1000) this.groups.clear(); // inline configs make keys; bound them
      g = new HedgeGroupState(budgetPercent);
      this.groups.set(key, g);
    }
    return g;
  }
}
