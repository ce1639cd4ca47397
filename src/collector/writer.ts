// Durable writer in front of the store, through a write-ahead log (the spool). A request's
// rows are encoded once (the bytes the store is sent), appended to the open spool segment and
// fsynced together with every other request that arrived meanwhile (group commit); submit()
// resolves then, so a 200 means "fsynced in the spool" (the contract's other half of "kept").
// Sealed segments are inserted into the store from memory, one insert per segment, and deleted
// once stored, so inserts are as large as the ingest rate makes them, not as large as what
// senders keep in flight (ClickHouse spends much less per row on large inserts: fewer parts,
// fewer merges).
// - Sealing: the open segment becomes an insert once an insert slot is free and it holds
//   `eagerFlushRows` rows (`concurrentWriteRows` beside a running insert), or its oldest row
//   waited `flushIntervalMs` (the visibility bound while the store keeps up); always at
//   `batchSize` rows.
// - Healthy (store up, nothing left from an outage or an earlier run): up to
//   `maxConcurrentWrites` inserts in flight; acknowledged rows not yet stored are bounded by
//   `maxBufferedRows` (429 past it), which bounds memory and how far queries lag behind.
// - Store down, or segments from an outage / earlier run still waiting: one insert at a time,
//   oldest first (ordered replay); new rows are accepted while the spool has room (503 when it
//   is full, counted as dropped) and counted as spooled.
// - Delivery is at-least-once: an insert that timed out but landed later is inserted again.
import { logger } from '../logger.js';
import type { SignalMetrics } from './metrics.js';
import { type Segment, type Spool, SpoolFullError } from './spool.js';

export class BufferFullError extends Error {}
export class WriterUnavailableError extends Error {}

export interface WriterOptions<Row> {
  /** 'spans' or 'feedback', for logs. */
  name: string;
  /** Rows → the payload both the spool and the store get. */
  encode(rows: Row[]): Buffer;
  /** Stores a segment's payload; `format` is the spool format version its records were written in. */
  insert(payload: Buffer, format: number): Promise<void>;
  ping(): Promise<boolean>;
  spool: Spool;
  metrics: SignalMetrics;
  /** Most rows per store insert (a spool segment is sealed at this size). */
  batchSize: number;
  /** Longest a row waits before its insert starts (while an insert slot is free). */
  flushIntervalMs: number;
  /** Rows that start an insert without waiting for the interval (when a slot is free). */
  eagerFlushRows: number;
  /** Acknowledged rows not yet in the store, while healthy, before senders get 429. */
  maxBufferedRows: number;
  /** First wait before retrying a failed store; doubles up to maxRetryIntervalMs. */
  retryIntervalMs: number;
  maxRetryIntervalMs: number;
  /** A store insert slower than this counts as failed (its segment is retried). */
  insertTimeoutMs: number;
  /** 0 disables the idle health ping. */
  healthCheckIntervalMs: number;
  /** Store inserts in flight at once while healthy (default 1). */
  maxConcurrentWrites?: number;
  /** Rows that must wait before an insert starts beside one already running (default 0). */
  concurrentWriteRows?: number;
}

export class DurableWriter<Row> {
  /** Rows submitted, waiting for their fsync. */
  private syncingRows = 0;
  /** Segments being inserted, and the task inserting each. */
  private readonly inserting = new Map<Segment, Promise<void>>();
  private sealing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private storeDown = false;
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
    this.updateGauges();
    // Segments left by an earlier run reach the store first (they are the oldest).
    this.pump();
  }

  /** Resolves once the rows are fsynced in the spool; rejects with BufferFullError or WriterUnavailableError. */
  async submit(rows: Row[]): Promise<void> {
    this.admit(rows.length);
    if (rows.length > 0) await this.append(this.opts.encode(rows), rows.length);
  }

  /** submit() for rows already encoded (by a decode worker): `payload` holds `rows` rows. */
  async submitEncoded(payload: Buffer, rows: number): Promise<void> {
    this.admit(rows);
    if (rows > 0) await this.append(payload, rows);
  }

  private admit(rows: number): void {
    if (this.closing) throw new WriterUnavailableError('collector is shutting down');
    const unstored = this.opts.spool.rows + this.syncingRows;
    // An oversized request is still taken when nothing else waits, else it could never fit.
    if (rows > 0 && !this.replayMode() && unstored > 0 && unstored + rows > this.opts.maxBufferedRows) {
      this.opts.metrics.refused.inc(rows);
      throw new BufferFullError(`${this.opts.name} buffer is full (${unstored} rows not yet stored)`);
    }
  }

  private async append(payload: Buffer, rows: number): Promise<void> {
    // Keep inserts within batchSize: these rows start the next segment.
    const spool = this.opts.spool;
    if (spool.openRows > 0 && spool.openRows + rows > this.opts.batchSize) this.seal();
    this.syncingRows += rows;
    this.opts.metrics.queued.set(this.bufferedRows);
    let replay = false;
    try {
      ({ replay } = await spool.append(payload, rows, () => this.storeDown));
    } catch (err) {
      this.opts.metrics.dropped.inc(rows);
      const msg = err instanceof SpoolFullError ? err.message : `spool write failed: ${(err as Error).message}`;
      logger.error('spool refused rows', { signal: this.opts.name, rows, error: msg });
      throw new WriterUnavailableError(this.storeDown ? `store unavailable and ${msg}` : msg);
    } finally {
      this.syncingRows -= rows;
      this.updateGauges();
    }
    if (replay) this.opts.metrics.spooled.inc(rows);
    this.pump();
  }

  /** Acknowledged rows not yet in the store (plus rows waiting for their fsync). */
  get bufferedRows(): number {
    return this.opts.spool.rows + this.syncingRows;
  }

  /**
   * Stops taking rows and inserts everything acknowledged; rows still not stored after
   * `timeoutMs` stay in the spool (already durable) and are replayed on the next start.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.healthTimer);
    const until = Date.now() + timeoutMs;
    await this.opts.spool.seal();
    while (Date.now() < until) {
      this.pump();
      const busy = [...this.inserting.values()];
      // With the store down the rows are safe where they are: no point waiting out the bound.
      if (busy.length === 0 && (this.opts.spool.segmentCount === 0 || this.storeDown)) break;
      const left = Math.max(1, until - Date.now());
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ...busy,
        new Promise((r) => (timer = setTimeout(r, busy.length > 0 ? left : Math.min(left, 20)))),
      ]);
      clearTimeout(timer);
    }
    clearTimeout(this.timer);
    if (this.opts.spool.segmentCount > 0) {
      logger.warn('store did not take every row before shutdown; they stay in the spool for the next start', {
        signal: this.opts.name,
        rows: this.opts.spool.rows,
      });
    }
    await this.opts.spool.close();
  }

  /** Store down, or rows from an outage / earlier run still waiting: ordered, one insert at a time. */
  private replayMode(): boolean {
    return this.storeDown || this.opts.spool.sealedSegments().some((s) => s.replayRows > 0);
  }

  /** Seals the open segment when due, starts every insert allowed now, then arms the timer. */
  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const spool = this.opts.spool;
    const replay = this.replayMode();
    const limit = replay ? 1 : Math.max(1, this.opts.maxConcurrentWrites ?? 1);
    const retryWait = this.storeDown ? this.nextRetryAt - Date.now() : 0;
    if (retryWait <= 0) {
      for (const seg of spool.sealedSegments()) {
        if (this.inserting.size >= limit) break;
        if (this.inserting.has(seg)) continue;
        this.startInsert(seg);
      }
    }
    if (!this.sealing && spool.openRows > 0 && this.sealDue(limit)) this.seal();
    this.schedule(limit, retryWait);
  }

  private seal(): void {
    this.sealing ??= this.opts.spool.seal().finally(() => {
      this.sealing = undefined;
      this.pump();
    });
  }

  private sealDue(limit: number): boolean {
    const spool = this.opts.spool;
    const rows = spool.openRows;
    if (rows >= this.opts.batchSize || this.closing) return true;
    // Sealed segments waiting for a slot already make the next insert: keep growing this one.
    const waiting = spool.sealedSegments().length - this.inserting.size;
    if (this.inserting.size >= limit || waiting > 0) return false;
    const need =
      this.inserting.size > 0 ? Math.max(this.eagerRows, this.opts.concurrentWriteRows ?? 0) : this.eagerRows;
    return rows >= need || Date.now() - spool.openSince >= this.opts.flushIntervalMs;
  }

  private get eagerRows(): number {
    return Math.min(this.opts.eagerFlushRows, this.opts.batchSize);
  }

  /** Arms one timer for the next moment work becomes due (an insert or seal ending pumps anyway). */
  private schedule(limit: number, retryWait: number): void {
    const spool = this.opts.spool;
    let due = Infinity;
    const waiting = spool.sealedSegments().length - this.inserting.size;
    if (spool.openRows > 0 && !this.sealing && waiting === 0 && this.inserting.size < limit) {
      due = Math.max(0, spool.openSince + this.opts.flushIntervalMs - Date.now());
    }
    if (this.storeDown && waiting > 0 && this.inserting.size === 0) due = Math.min(due, Math.max(0, retryWait));
    if (due === Infinity) return;
    this.timer = setTimeout(() => this.pump(), due);
    // Never keep the process alive just for a flush timer; close() flushes explicitly.
    this.timer.unref();
  }

  private startInsert(seg: Segment): void {
    const t = this.insertSegment(seg)
      .catch((err: unknown) => logger.error('store insert loop failed', { signal: this.opts.name, error: String(err) }))
      .finally(() => {
        this.inserting.delete(seg);
        this.updateGauges();
        this.pump();
      });
    this.inserting.set(seg, t);
  }

  private async insertSegment(seg: Segment): Promise<void> {
    const spool = this.opts.spool;
    let payload: Buffer;
    try {
      payload = await spool.read(seg);
    } catch (err) {
      await spool.quarantine(seg, err as Error);
      return;
    }
    if (this.storeDown) {
      const up = await this.opts.ping().catch(() => false);
      if (!up) {
        this.backOff();
        return;
      }
    }
    try {
      await this.insertWithTimeout(payload, seg.format);
    } catch (err) {
      this.markDown(err);
      return;
    }
    await spool.remove(seg);
    this.opts.metrics.written.inc(seg.rows - seg.replayRows);
    if (seg.replayRows > 0) this.opts.metrics.replayed.inc(seg.replayRows);
    if (this.storeDown) logger.info('store is back, replaying spool', { signal: this.opts.name });
    this.storeDown = false;
    this.retryDelay = this.opts.retryIntervalMs;
    this.lastWriteAt = Date.now();
  }

  private insertWithTimeout(payload: Buffer, format: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`store write timed out after ${this.opts.insertTimeoutMs} ms`)),
        this.opts.insertTimeoutMs,
      );
    });
    // Via then(): a store that throws synchronously still yields a rejected promise.
    const write = Promise.resolve().then(() => this.opts.insert(payload, format));
    return Promise.race([write, timeout]).finally(() => clearTimeout(timer));
  }

  private async healthCheck(): Promise<void> {
    if (this.storeDown || this.closing || this.inserting.size > 0) return;
    if (Date.now() - this.lastWriteAt < this.opts.healthCheckIntervalMs) return;
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), this.opts.insertTimeoutMs).unref());
    const up = await Promise.race([this.opts.ping().catch(() => false), timeout]);
    if (up) this.lastWriteAt = Date.now();
    else if (!this.storeDown && !this.closing) this.markDown(new Error('store ping failed'));
  }

  private markDown(err: unknown): void {
    if (!this.storeDown) {
      logger.warn('store write failed, keeping rows in the spool', {
        signal: this.opts.name,
        error: (err as Error)?.message ?? String(err),
      });
    }
    this.storeDown = true;
    // Every acknowledged row not yet stored now waits out the outage in the spool, replayed in
    // order: count it as spooled once (rows synced from now on count as they are appended).
    for (const seg of this.opts.spool.allSegments()) {
      const fresh = seg.rows - seg.replayRows;
      if (fresh > 0) this.opts.metrics.spooled.inc(fresh);
      seg.replayRows = seg.rows;
    }
    this.backOff();
  }

  private backOff(): void {
    this.nextRetryAt = Date.now() + this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.maxRetryIntervalMs);
    this.updateGauges();
  }

  private updateGauges(): void {
    const m = this.opts.metrics;
    m.queued.set(this.bufferedRows);
    m.spoolBytes.set(this.opts.spool.bytes);
    m.spoolRows.set(this.opts.spool.rows);
    m.storeUp.set(this.storeDown ? 0 : 1);
  }
}
