// Durable batching writer. Requests hand it rows and wait: their promise resolves only when
// the rows are in the store or fsynced in the spool, so a 200 always means "kept".
// - Batches: a write starts when `flushIntervalMs` passed since the oldest buffered row, or at
//   once when a write slot is free and `eagerFlushRows` rows wait (group commit: under load,
//   rows pile up while the writes run, so batches grow toward `batchSize` by themselves;
//   under light load, inserts stay at most one per interval, as ClickHouse likes them).
// - Up to `maxConcurrentWrites` store writes at once while the store is healthy and the spool
//   empty: the embedded engine runs one insert per connection, so a second write in flight
//   keeps it busy while the first one's rows are parsed, acknowledged and the next batch is
//   gathered. Writes may land out of order (rows carry their own timestamps); each settles
//   on its own, and a failed one spools its own batch, so nothing is lost or double-answered.
// - While the store is down or the spool holds anything: one write at a time (to the spool, in
//   order), and a spool replay runs only with no other write in flight (exclusive, oldest
//   first), so replayed batches reach the store in the order they were spooled.
// - Bounded memory: past `maxBufferedRows` submit() refuses (the receiver answers 429).
// - Store failure: the batch goes to the spool, and so does every later batch while the spool
//   holds anything (order); the spool is replayed oldest first once ping() says the store is
//   back, interleaved with new batches so senders are never stuck behind a long replay.
// - Spool full while the store is down: submit() rejects (503); counted as dropped.
// - While healthy, a ping every `healthCheckIntervalMs` (when nothing was written meanwhile)
//   notices a dead store before a batch has to wait out `insertTimeoutMs` on it.
import { logger } from '../logger.js';
import type { SignalMetrics } from './metrics.js';
import { Spool, SpoolFullError } from './spool.js';

export class BufferFullError extends Error {}
export class WriterUnavailableError extends Error {}

export interface WriterOptions<Row> {
  /** 'spans' or 'feedback', for logs. */
  name: string;
  insert(rows: Row[]): Promise<void>;
  ping(): Promise<boolean>;
  spool: Spool<Row>;
  metrics: SignalMetrics;
  /** Most rows per store write. */
  batchSize: number;
  flushIntervalMs: number;
  /** Rows that start a write without waiting for the interval (when no write is running). */
  eagerFlushRows: number;
  maxBufferedRows: number;
  /** First wait before retrying a failed store; doubles up to maxRetryIntervalMs. */
  retryIntervalMs: number;
  maxRetryIntervalMs: number;
  /** A store write slower than this counts as failed and its batch is spooled. */
  insertTimeoutMs: number;
  /** 0 disables the idle health ping. */
  healthCheckIntervalMs: number;
  /** Store writes in flight at once while healthy (default 1). */
  maxConcurrentWrites?: number;
  /** Rows that must wait before a write starts beside one already running (default 0). */
  concurrentWriteRows?: number;
}

interface Entry<Row> {
  rows: Row[];
  settled: boolean;
  resolve(): void;
  reject(err: Error): void;
}

export class DurableWriter<Row> {
  private pending: Entry<Row>[] = [];
  private pendingRows = 0;
  /** Batches being written (to the store or the spool). */
  private readonly inflight = new Set<Entry<Row>[]>();
  private inflightRows = 0;
  private readonly writes = new Set<Promise<void>>();
  private replaying: Promise<void> | undefined;
  /** After a replay, one due batch goes before the next replay (senders never wait on a long one). */
  private batchTurn = false;
  private oldestPendingAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private storeDown: boolean;
  private retryDelay: number;
  private nextRetryAt = 0;
  private closing = false;
  private lastWriteAt = Date.now();
  private readonly healthTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: WriterOptions<Row>) {
    this.retryDelay = opts.retryIntervalMs;
    if (opts.healthCheckIntervalMs > 0) {
      this.healthTimer = setInterval(() => void this.healthCheck(), opts.healthCheckIntervalMs);
      this.healthTimer.unref();
    }
    // Anything left in the spool from an earlier run must reach the store before new rows.
    this.storeDown = opts.spool.segmentCount > 0;
    this.updateGauges();
    if (this.storeDown) this.pump();
  }

  /** Resolves once the rows are durable; rejects with BufferFullError or WriterUnavailableError. */
  submit(rows: Row[]): Promise<void> {
    if (this.closing) return Promise.reject(new WriterUnavailableError('collector is shutting down'));
    if (rows.length === 0) return Promise.resolve();
    const buffered = this.pendingRows + this.inflightRows;
    // An oversized request is still taken when nothing else is buffered, else it could never fit.
    if (buffered > 0 && buffered + rows.length > this.opts.maxBufferedRows) {
      this.opts.metrics.refused.inc(rows.length);
      return Promise.reject(new BufferFullError(`${this.opts.name} buffer is full (${buffered} rows waiting)`));
    }
    return new Promise<void>((resolve, reject) => {
      if (this.pending.length === 0) this.oldestPendingAt = Date.now();
      this.pending.push({ rows, settled: false, resolve, reject });
      this.pendingRows += rows.length;
      this.opts.metrics.queued.set(this.pendingRows + this.inflightRows);
      if (this.pendingRows >= this.eagerRows) this.pump();
      else this.schedule();
    });
  }

  private get eagerRows(): number {
    return Math.min(this.opts.eagerFlushRows, this.opts.batchSize);
  }

  /** Rows buffered in memory (pending + being written). */
  get bufferedRows(): number {
    return this.pendingRows + this.inflightRows;
  }

  /**
   * Stops taking rows and writes out everything buffered (to the store, else the spool).
   * Rows still unsettled after `timeoutMs` (a hung store write) are spooled as they are.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.healthTimer);
    clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const done = (async () => {
      for (;;) {
        this.pump();
        const busy = [...this.writes, ...(this.replaying ? [this.replaying] : [])];
        if (busy.length === 0 && this.pending.length === 0) return;
        // Every write settles its batch itself (store or spool), so waiting on any is progress.
        await (busy.length > 0 ? Promise.race(busy) : new Promise((r) => setTimeout(r, 5)));
      }
    })();
    const outcome = await Promise.race([done.then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      const left = [...[...this.inflight].flat(), ...this.pending].filter((e) => !e.settled);
      logger.warn('store write did not finish before shutdown; spooling what is left', {
        signal: this.opts.name,
        rows: left.reduce((n, e) => n + e.rows.length, 0),
      });
      this.pending = [];
      this.pendingRows = 0;
      // The hung write may still land later: duplicates are possible, loss is not.
      if (left.length > 0) await this.spoolEntries(left);
    }
    clearTimeout(this.timer);
  }

  /** Starts every write (or the one replay) that is due and allowed now; then arms the timer. */
  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.replaying) return; // it pumps again when done
    for (;;) {
      if (this.replayDue() && !(this.batchTurn && this.batchDue())) {
        // Exclusive: wait for writes in flight (each pumps again when it ends).
        if (this.writes.size === 0) this.startReplay();
        return;
      }
      if (this.writes.size >= this.writeLimit()) return;
      // An extra write only for a full-sized batch: small overlapping inserts cost the engine
      // more per row (more parts, more merges) than they gain.
      if (this.writes.size > 0 && !this.closing && this.pendingRows < (this.opts.concurrentWriteRows ?? 0)) return;
      const batch = this.takeBatch();
      if (!batch) break;
      this.batchTurn = false;
      this.startWrite(batch);
    }
    this.schedule();
  }

  private writeLimit(): number {
    const healthy = !this.storeDown && this.opts.spool.segmentCount === 0;
    return healthy ? Math.max(1, this.opts.maxConcurrentWrites ?? 1) : 1;
  }

  private replayDue(): boolean {
    return this.opts.spool.segmentCount > 0 && !this.closing && Date.now() >= this.nextRetryAt;
  }

  private batchDue(): boolean {
    return (
      this.pending.length > 0 &&
      (this.closing || this.pendingRows >= this.eagerRows || Date.now() - this.oldestPendingAt >= this.opts.flushIntervalMs)
    );
  }

  private startWrite(batch: Entry<Row>[]): void {
    const w: Promise<void> = this.writeBatch(batch)
      .catch((err: unknown) => logger.error('writer loop failed', { signal: this.opts.name, error: String(err) }))
      .finally(() => {
        this.writes.delete(w);
        this.pump();
      });
    this.writes.add(w);
  }

  private startReplay(): void {
    this.replaying = this.replayOne()
      .then(() => undefined)
      .catch((err: unknown) => logger.error('spool replay failed', { signal: this.opts.name, error: String(err) }))
      .finally(() => {
        this.replaying = undefined;
        this.batchTurn = true;
        this.pump();
      });
  }

  /** Arms one timer for the next moment work becomes due. */
  private schedule(): void {
    if (this.replaying) return;
    const now = Date.now();
    let due = Infinity;
    if (this.pending.length > 0 && this.writes.size < this.writeLimit()) {
      due = this.closing || this.pendingRows >= this.eagerRows ? now : this.oldestPendingAt + this.opts.flushIntervalMs;
    }
    if (this.opts.spool.segmentCount > 0 && !this.closing) due = Math.min(due, this.nextRetryAt);
    if (due === Infinity) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), Math.max(0, due - now));
    // Never keep the process alive just for a flush timer; close() flushes explicitly.
    this.timer.unref();
  }

  private takeBatch(): Entry<Row>[] | undefined {
    if (!this.batchDue()) return undefined;
    const batch: Entry<Row>[] = [];
    let rows = 0;
    while (this.pending.length > 0 && (rows === 0 || rows + this.pending[0].rows.length <= this.opts.batchSize)) {
      const e = this.pending.shift()!;
      rows += e.rows.length;
      batch.push(e);
    }
    this.pendingRows -= rows;
    this.oldestPendingAt = Date.now();
    return batch;
  }

  private async writeBatch(batch: Entry<Row>[]): Promise<void> {
    const batchRows = batch.reduce((n, e) => n + e.rows.length, 0);
    this.inflight.add(batch);
    this.inflightRows += batchRows;
    try {
      if (this.storeDown || this.opts.spool.segmentCount > 0) {
        await this.spoolEntries(batch);
        return;
      }
      const rows = batch.length === 1 ? batch[0].rows : batch.flatMap((e) => e.rows);
      try {
        await this.insertWithTimeout(rows);
      } catch (err) {
        // Writes still in flight finish on their own; later batches go to the spool.
        this.markDown(err);
        await this.spoolEntries(batch);
        return;
      }
      this.opts.metrics.written.inc(rows.length);
      this.lastWriteAt = Date.now();
      this.settle(batch);
    } finally {
      this.inflight.delete(batch);
      this.inflightRows -= batchRows;
      this.updateGauges();
    }
  }

  private async spoolEntries(entries: Entry<Row>[]): Promise<void> {
    const live = entries.filter((e) => !e.settled);
    if (live.length === 0) return;
    const rows = live.flatMap((e) => e.rows);
    try {
      await this.opts.spool.append(rows);
    } catch (err) {
      this.opts.metrics.dropped.inc(rows.length);
      const msg = err instanceof SpoolFullError ? err.message : `spool write failed: ${(err as Error).message}`;
      logger.error('store unavailable and spool refused the batch', { signal: this.opts.name, rows: rows.length, error: msg });
      this.settle(live, new WriterUnavailableError(`store unavailable and ${msg}`));
      return;
    }
    this.opts.metrics.spooled.inc(rows.length);
    this.settle(live);
  }

  /** Replays the oldest spooled batch; false when the store is (still) unavailable. */
  private async replayOne(): Promise<boolean> {
    if (this.storeDown) {
      const up = await this.opts.ping().catch(() => false);
      if (!up) {
        this.backOff();
        return false;
      }
    }
    const seg = await this.opts.spool.peek();
    if (!seg) return false;
    try {
      await this.insertWithTimeout(seg.rows);
    } catch (err) {
      this.markDown(err);
      return false;
    }
    await this.opts.spool.remove(seg.seq);
    this.opts.metrics.replayed.inc(seg.rows.length);
    if (this.storeDown) logger.info('store is back, replaying spool', { signal: this.opts.name });
    this.storeDown = false;
    this.retryDelay = this.opts.retryIntervalMs;
    this.updateGauges();
    return true;
  }

  private insertWithTimeout(rows: Row[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`store write timed out after ${this.opts.insertTimeoutMs} ms`)),
        this.opts.insertTimeoutMs,
      );
    });
    // Via then(): a store that throws synchronously still yields a rejected promise.
    const write = Promise.resolve().then(() => this.opts.insert(rows));
    return Promise.race([write, timeout]).finally(() => clearTimeout(timer));
  }

  private async healthCheck(): Promise<void> {
    if (this.storeDown || this.closing || this.writes.size > 0 || this.replaying) return;
    if (Date.now() - this.lastWriteAt < this.opts.healthCheckIntervalMs) return;
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), this.opts.insertTimeoutMs).unref());
    const up = await Promise.race([this.opts.ping().catch(() => false), timeout]);
    if (up) this.lastWriteAt = Date.now();
    else if (!this.storeDown && !this.closing) this.markDown(new Error('store ping failed'));
  }

  private markDown(err: unknown): void {
    if (!this.storeDown) {
      logger.warn('store write failed, spooling to disk', { signal: this.opts.name, error: (err as Error)?.message ?? String(err) });
    }
    this.storeDown = true;
    this.backOff();
  }

  private backOff(): void {
    this.nextRetryAt = Date.now() + this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.maxRetryIntervalMs);
    this.updateGauges();
  }

  private settle(entries: Entry<Row>[], err?: Error): void {
    for (const e of entries) {
      if (e.settled) continue;
      e.settled = true;
      if (err) e.reject(err);
      else e.resolve();
    }
  }

  private updateGauges(): void {
    const m = this.opts.metrics;
    m.queued.set(this.pendingRows + this.inflightRows);
    m.spoolBytes.set(this.opts.spool.bytes);
    m.spoolRows.set(this.opts.spool.rows);
    m.storeUp.set(this.storeDown ? 0 : 1);
  }
}
