// Where exported spans wait when the receiver is slower than the sidecar. A serialised OTLP
// request is sent at once while fewer than MAX_INFLIGHT are in flight and nothing waits on disk;
// otherwise (receiver slow, down or refusing with 429/5xx) it is appended to a bounded on-disk
// queue (the collector's spool: length- and CRC-framed records, group-committed) and sent from
// there, oldest first, as soon as the receiver takes requests again. Spans are dropped only when
// the disk budget is spent (or the disk fails), counted and logged. Memory stays bounded: at
// most MAX_INFLIGHT requests and the spool's small payload cache.
import { rm } from 'node:fs/promises';
import { type Segment, Spool, SpoolFullError } from '../collector/spool.js';
import { logger } from '../logger.js';
import type { SendOutcome } from './otlp-sender.js';

/** Requests in flight to the receiver at once (direct or replayed). */
export const MAX_INFLIGHT = 4;
/** A segment is sealed (and can be sent) once it holds this many spans, so reads stay small. */
const SEGMENT_SPANS = 4096;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
/** At most one "dropped" log line per this interval (a full disk would log per batch). */
const DROP_LOG_MS = 10_000;

export interface SpanQueueOptions {
  dir: string;
  maxBytes: number;
  /** Deletes the directory at close when nothing is left in it (a per-process default dir). */
  removeWhenEmpty?: boolean;
  send(format: number, body: Uint8Array): Promise<SendOutcome>;
  onDrop(spans: number): void;
}

export class SpanQueue {
  private spool: Spool | undefined;
  private readonly ready: Promise<void>;
  private inflight = 0;
  private draining = false;
  private retryAt = 0;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private droppedSinceLog = 0;
  private lastDropLog = 0;
  private waiters: (() => void)[] = [];
  /** Appends not yet synced (counted so a batch never overtakes the disk queue). */
  private appending = 0;
  /** Opening the spool finished (it may have failed: then there is no disk queue). */
  private opened = false;

  constructor(private readonly o: SpanQueueOptions) {
    // Small payload cache: what waits on disk is read back when sent, not held in memory.
    this.ready = Spool.open(o.dir, o.maxBytes, { maxCachedBytes: 4 * 1024 * 1024 })
      .finally(() => {
        this.opened = true;
      })
      .then(
        (spool) => {
          this.spool = spool;
          if (spool.rows > 0)
            logger.info('telemetry: spans queued on disk by an earlier run are sent first', {
              spans: spool.rows,
              dir: o.dir,
            });
          this.pump();
        },
        (err: unknown) =>
          logger.warn('telemetry: no disk queue (spans are dropped while the receiver is slower)', {
            dir: o.dir,
            error: String(err),
          }),
      );
  }

  /** Spans on disk or being written there. */
  get queuedSpans(): number {
    return (this.spool?.rows ?? 0) + this.appending;
  }

  offer(format: number, body: Uint8Array, spans: number): void {
    if (this.closed) return this.drop(spans, 'telemetry stopped');
    if (this.queuedSpans === 0 && this.inflight < MAX_INFLIGHT && Date.now() >= this.retryAt) {
      this.inflight++;
      void this.o.send(format, body).then((r) => {
        this.inflight--;
        if (r === 'retry') {
          this.backOff();
          this.toDisk(format, body, spans);
        } else {
          if (r === 'reject') this.drop(spans, 'the receiver refused them (4xx)');
          else this.retryMs = RETRY_MIN_MS;
          this.pump();
        }
      });
      return;
    }
    this.toDisk(format, body, spans);
  }

  /** Resolves once nothing is in flight and the disk queue is empty, or the receiver is failing. */
  async idle(): Promise<void> {
    await this.ready;
    if (this.isIdle()) return;
    await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Stops sending; what is on disk stays there (replayed by the next run on the same dir). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.ready;
    await this.spool?.close();
    const left = this.spool?.rows ?? 0;
    if (left > 0) logger.warn('telemetry: spans left in the disk queue at shutdown', { spans: left, dir: this.o.dir });
    else if (this.o.removeWhenEmpty) await rm(this.o.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  private isIdle(): boolean {
    return (this.inflight === 0 && this.queuedSpans === 0) || this.retryAt > Date.now() || this.closed;
  }

  private settle(): void {
    if (this.waiters.length > 0 && this.isIdle()) for (const w of this.waiters.splice(0)) w();
  }

  private toDisk(format: number, body: Uint8Array, spans: number): void {
    const spool = this.spool;
    if (!spool && !this.opened) {
      // The spool is still opening (the first moments of a run): append once it is open.
      this.appending += spans;
      void this.ready.then(() => {
        this.appending -= spans;
        this.toDisk(format, body, spans);
      });
      return;
    }
    if (!spool) return this.drop(spans, 'no disk queue');
    if (format !== spool.format) return this.drop(spans, 'protocol changed while running');
    this.appending += spans;
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    spool
      .append(buf, spans, () => false)
      .then(
        () => {
          this.appending -= spans;
          if (spool.openRows >= SEGMENT_SPANS) void spool.seal().then(() => this.pump());
          this.pump();
        },
        (err: unknown) => {
          this.appending -= spans;
          this.drop(spans, err instanceof SpoolFullError ? 'the disk queue is full' : `disk queue: ${String(err)}`);
          this.pump();
        },
      );
  }

  private drop(spans: number, why: string): void {
    this.o.onDrop(spans);
    this.droppedSinceLog += spans;
    const now = Date.now();
    if (now - this.lastDropLog >= DROP_LOG_MS) {
      logger.warn('telemetry: spans dropped', { spans: this.droppedSinceLog, reason: why, dir: this.o.dir });
      this.droppedSinceLog = 0;
      this.lastDropLog = now;
    }
  }

  private backOff(): void {
    this.retryAt = Date.now() + this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.settle();
  }

  /** Starts the drain when there is something on disk, a free slot and no back-off. */
  private pump(): void {
    this.settle();
    const spool = this.spool;
    if (this.closed || this.draining || !spool || spool.segmentCount === 0) return;
    const wait = this.retryAt - Date.now();
    if (wait > 0) {
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined;
        this.pump();
      }, wait).unref();
      return;
    }
    this.draining = true;
    this.drain(spool)
      .catch((err: unknown) => logger.error('telemetry: disk queue drain failed', { error: String(err) }))
      .finally(() => {
        this.draining = false;
        this.pump();
      });
  }

  /** Sends segments oldest first; on a failure backs off and leaves the rest for the next pump. */
  private async drain(spool: Spool): Promise<void> {
    while (!this.closed && spool.segmentCount > 0) {
      const seg = spool.allSegments()[0];
      if (!seg.sealed) await spool.seal();
      let records: Buffer[];
      try {
        records = await spool.records(seg);
      } catch (err) {
        this.o.onDrop(seg.rows);
        await spool.quarantine(seg, err as Error);
        continue;
      }
      if (!(await this.sendSegment(seg, records))) return;
      await spool.remove(seg);
    }
  }

  private readonly progress = new WeakMap<Segment, boolean[]>();

  /** Sends a segment's records, MAX_INFLIGHT at a time; false when the receiver failed (resumes later where it stopped). */
  private async sendSegment(seg: Segment, records: Buffer[]): Promise<boolean> {
    let sent = this.progress.get(seg);
    if (!sent) this.progress.set(seg, (sent = records.map(() => false)));
    const spansEach = Math.max(1, Math.round(seg.rows / records.length));
    for (let i = 0; i < records.length; ) {
      if (this.closed) return false;
      const batch: number[] = [];
      for (; i < records.length && batch.length < MAX_INFLIGHT; i++) if (!sent[i]) batch.push(i);
      this.inflight += batch.length;
      const results = await Promise.all(batch.map((j) => this.o.send(seg.format, records[j])));
      this.inflight -= batch.length;
      let failed = false;
      results.forEach((r, k) => {
        if (r === 'retry') failed = true;
        else {
          sent[batch[k]] = true;
          if (r === 'reject') this.drop(spansEach, 'the receiver refused them (4xx)');
        }
      });
      if (failed) {
        this.backOff();
        return false;
      }
      this.retryMs = RETRY_MIN_MS;
    }
    return true;
  }
}
