// A FIFO concurrency limit. chdb runs async queries on libuv's shared thread pool (4 threads by
// default), which also serves dns.lookup, fs and zlib for the sidecar in the same process. One
// chdb connection executes one query at a time anyway (two concurrent sleep(1) take 2 s), so
// every extra query in flight would only park a pool thread on the engine's lock.
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Resolves once nothing is running or queued. */
  async idle(): Promise<void> {
    while (this.active > 0 || this.waiting.length > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
