// On-disk spool, used as the write-ahead log of every acknowledged row: requests append their
// encoded rows (the exact bytes the store will be sent) to the open segment; one write + one
// fdatasync covers every append that arrived meanwhile (group commit), and an append resolves
// only once its record is synced. The writer seals a segment once it holds a batch worth of rows
// and inserts sealed segments into the store oldest first, deleting each once stored, so
// insert size no longer depends on how many rows senders keep in flight. Segments left by an
// earlier run (or an outage) are replayed the same way, in sequence order, across restarts.
//
// Segment file `<seq16>.wal`: records of [magic u32 | rows u32 | bytes u32 | crc32 u32 | payload].
// The magic is "SYW" + the payload's format version (the writer's encoding; one per segment),
// so segments written before an encoding changed are still inserted as what they hold.
// A record that did not reach the disk whole (crash mid-append) was never acknowledged: it is
// cut off at open. Files `<seq16>-<rows>.json` (a JSON array of rows, the format before the
// write-ahead log) are still replayed, through `legacyEncode`.
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { logger } from '../logger.js';

export class SpoolFullError extends Error {}

// "SYW1".."SYW9": the magic's last byte is the payload format version.
const MAGIC_BASE = 0x53595730;
const MAX_FORMAT = 9;
const HEADER = 16;
const WAL = /^(\d{16})\.wal$/;
const LEGACY = /^(\d{16})-(\d+)\.json$/;

export interface Segment {
  seq: number;
  rows: number;
  bytes: number;
  file: string;
  /** Sealed: no more appends; the writer may insert it. */
  sealed: boolean;
  /** Rows written by an earlier run or while the store was down (counted as replayed, not written). */
  replayRows: number;
  /** Payloads kept in memory (undefined once evicted or for segments read from disk). */
  cache: Buffer[] | undefined;
  legacy: boolean;
  /** Payload format version of the segment's records (see SpoolOptions.format). */
  format: number;
  firstAppendAt: number;
}

export interface SpoolOptions {
  maxCachedBytes?: number;
  /** Re-encodes a pre-write-ahead-log `.json` segment's rows (into the current format). */
  legacyEncode?: (rows: unknown[]) => Buffer;
  /** Format version of the payloads this run appends (1–9, default 1); kept per record. */
  format?: number;
}

interface Waiter {
  record: Buffer[];
  rows: number;
  resolve(r: { replay: boolean }): void;
  reject(err: Error): void;
}

export class Spool {
  private readonly segments: Segment[] = [];
  private nextSeq = 1;
  private totalBytes = 0;
  private totalRows = 0;
  private cachedBytes = 0;
  private open: { seg: Segment; fh: FileHandle } | undefined;
  private queue: Waiter[] = [];
  private queuedBytes = 0;
  private flushing: Promise<void> | undefined;
  /** seal() calls waiting for the running write+sync. */
  private sealWaiters: (() => void)[] = [];
  private isReplay: () => boolean = () => false;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    /** Payload bytes kept in memory for sealed, not yet stored segments. */
    private readonly maxCachedBytes: number,
    private readonly legacyEncode: ((rows: unknown[]) => Buffer) | undefined,
    readonly format: number,
  ) {}

  static async open(dir: string, maxBytes: number, opts: SpoolOptions = {}): Promise<Spool> {
    const format = opts.format ?? 1;
    if (!Number.isInteger(format) || format < 1 || format > MAX_FORMAT)
      throw new Error(`spool format must be 1..${MAX_FORMAT}, got ${format}`);
    const spool = new Spool(dir, maxBytes, opts.maxCachedBytes ?? 256 * 1024 * 1024, opts.legacyEncode, format);
    await fs.mkdir(dir, { recursive: true });
    for (const name of (await fs.readdir(dir)).sort()) {
      const file = path.join(dir, name);
      if (name.endsWith('.tmp')) {
        // A legacy batch whose write never completed was never acknowledged: its sender retries.
        await fs.rm(file, { force: true });
        continue;
      }
      const legacy = LEGACY.exec(name);
      const wal = WAL.exec(name);
      if (!legacy && !wal) continue;
      const seq = Number((legacy ?? wal)![1]);
      const seg: Segment = {
        seq,
        rows: 0,
        bytes: 0,
        file,
        sealed: true,
        replayRows: 0,
        cache: undefined,
        legacy: !!legacy,
        format,
        firstAppendAt: 0,
      };
      if (legacy) {
        seg.rows = Number(legacy[2]);
        seg.bytes = (await fs.stat(file)).size;
      } else {
        const { rows, bytes, format: recorded } = await recoverWal(file);
        if (rows === 0) {
          await fs.rm(file, { force: true });
          continue;
        }
        seg.rows = rows;
        seg.bytes = bytes;
        seg.format = recorded;
      }
      seg.replayRows = seg.rows;
      spool.segments.push(seg);
      spool.totalBytes += seg.bytes;
      spool.totalRows += seg.rows;
      spool.nextSeq = Math.max(spool.nextSeq, seq + 1);
    }
    spool.segments.sort((a, b) => a.seq - b.seq);
    return spool;
  }

  get bytes(): number {
    return this.totalBytes + this.queuedBytes;
  }
  /** Rows on disk (appended and synced), stored or not yet. */
  get rows(): number {
    return this.totalRows;
  }
  /** Rows in the open segment (acknowledged, not yet handed to the store). */
  get openRows(): number {
    return this.open?.seg.rows ?? 0;
  }
  get openSince(): number {
    return this.open?.seg.firstAppendAt ?? 0;
  }
  get segmentCount(): number {
    return this.segments.length;
  }
  /** Every segment not yet stored (sealed or open), oldest first. */
  allSegments(): readonly Segment[] {
    return this.segments;
  }
  /** Sealed segments, oldest first. */
  sealedSegments(): readonly Segment[] {
    return this.segments.filter((s) => s.sealed);
  }

  /**
   * Durably appends one record (the rows' encoded payload) to the open segment; resolves once
   * it is synced. Throws SpoolFullError when it would pass maxBytes.
   */
  append(payload: Buffer, rows: number, isReplay: () => boolean): Promise<{ replay: boolean }> {
    const size = HEADER + payload.length;
    if (this.bytes + size > this.maxBytes) {
      return Promise.reject(
        new SpoolFullError(`spool ${this.dir} is full (${this.bytes} of ${this.maxBytes} bytes used)`),
      );
    }
    const header = Buffer.allocUnsafe(HEADER);
    header.writeUInt32LE(MAGIC_BASE + this.format, 0);
    header.writeUInt32LE(rows, 4);
    header.writeUInt32LE(payload.length, 8);
    header.writeUInt32LE(crc32(payload), 12);
    this.queuedBytes += size;
    return new Promise<{ replay: boolean }>((resolve, reject) => {
      this.isReplay = isReplay;
      this.queue.push({ record: [header, payload], rows, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /**
   * Closes the open segment: no more appends go to it and the writer may insert it. With a
   * write+sync running, it takes effect right after it (appends queued meanwhile go to the next).
   */
  seal(): Promise<void> {
    if (!this.flushing) return this.sealOpen();
    return new Promise<void>((resolve) => this.sealWaiters.push(resolve));
  }

  private async sealOpen(): Promise<void> {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    o.seg.sealed = true;
    await o.fh.close();
  }

  /** The segment's payload (every record, in order), from memory or the file. */
  async read(seg: Segment): Promise<Buffer> {
    if (seg.cache) return seg.cache.length === 1 ? seg.cache[0] : Buffer.concat(seg.cache);
    if (seg.legacy) {
      if (!this.legacyEncode) throw new Error(`no decoder for legacy spool segment ${seg.file}`);
      return this.legacyEncode(JSON.parse(await fs.readFile(seg.file, 'utf8')) as unknown[]);
    }
    // Only the synced prefix: a write that failed may have left a partial record after it.
    const data = (await fs.readFile(seg.file)).subarray(0, seg.bytes);
    const { payloads, end } = readRecords(data);
    if (end < data.length) throw new Error(`corrupt record at byte ${end}`);
    return Buffer.concat(payloads);
  }

  /** The segment's records one by one (the sidecar's span queue sends each as its own request). */
  async records(seg: Segment): Promise<Buffer[]> {
    if (seg.cache) return seg.cache;
    if (seg.legacy) return [await this.read(seg)];
    const data = (await fs.readFile(seg.file)).subarray(0, seg.bytes);
    const { payloads, end } = readRecords(data);
    if (end < data.length) throw new Error(`corrupt record at byte ${end}`);
    return payloads;
  }

  /** A segment that cannot be read would block every later one: set it aside for a human. */
  async quarantine(seg: Segment, err: Error): Promise<void> {
    logger.error('spool segment unreadable, moved aside', { file: seg.file, error: err.message });
    await fs.rename(seg.file, `${seg.file}.corrupt`).catch(() => undefined);
    this.forget(seg);
  }

  /** Deletes a sealed segment once the store has its rows. */
  async remove(seg: Segment): Promise<void> {
    await fs.rm(seg.file, { force: true });
    this.forget(seg);
  }

  /** Waits for queued appends and closes the open segment's file (it stays for the next run). */
  async close(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    await this.open?.fh.close();
    this.open = undefined;
  }

  private forget(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i < 0) return;
    this.segments.splice(i, 1);
    this.totalBytes -= seg.bytes;
    this.totalRows -= seg.rows;
    if (seg.cache) this.cachedBytes -= seg.bytes;
  }

  /** Group commit: everything queued while the previous write+sync ran goes in the next one. */
  private async flushLoop(): Promise<void> {
    try {
      for (;;) {
        if (this.sealWaiters.length > 0) {
          const waiters = this.sealWaiters.splice(0);
          await this.sealOpen().catch(() => this.abandonOpen());
          for (const w of waiters) w();
          continue; // a seal() made while this one closed the file is waiting too
        }
        if (this.queue.length === 0) break;
        const batch = this.queue;
        this.queue = [];
        const bytes = batch.reduce((n, w) => n + w.record[0].length + w.record[1].length, 0);
        const rows = batch.reduce((n, w) => n + w.rows, 0);
        try {
          const o = await this.openSegment();
          await writeAll(
            o.fh,
            batch.flatMap((w) => w.record),
          );
          await o.fh.datasync();
          const seg = o.seg;
          if (seg.rows === 0) seg.firstAppendAt = Date.now();
          seg.rows += rows;
          seg.bytes += bytes;
          // Decided at sync time, when the rows become part of the segment (see DurableWriter).
          const replay = this.isReplay();
          if (replay) seg.replayRows += rows;
          this.totalBytes += bytes;
          this.totalRows += rows;
          if (seg.cache && this.cachedBytes + bytes <= this.maxCachedBytes) {
            for (const w of batch) seg.cache.push(w.record[1]);
            this.cachedBytes += bytes;
          } else if (seg.cache) {
            // Past the memory bound this segment is read back from its file when inserted.
            this.cachedBytes -= seg.bytes - bytes;
            seg.cache = undefined;
          }
          this.queuedBytes -= bytes;
          for (const w of batch) w.resolve({ replay });
        } catch (err) {
          this.queuedBytes -= bytes;
          // The open file may now end in a partial record: start a new segment for later appends
          // (open() cuts the torn tail off on the next start).
          await this.abandonOpen();
          for (const w of batch) w.reject(err as Error);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async openSegment(): Promise<{ seg: Segment; fh: FileHandle }> {
    if (this.open) return this.open;
    const seq = this.nextSeq++;
    const file = path.join(this.dir, `${String(seq).padStart(16, '0')}.wal`);
    const fh = await fs.open(file, 'wx');
    await syncDir(this.dir);
    const seg: Segment = {
      seq,
      rows: 0,
      bytes: 0,
      file,
      sealed: false,
      replayRows: 0,
      cache: [],
      legacy: false,
      format: this.format,
      firstAppendAt: 0,
    };
    this.segments.push(seg);
    this.open = { seg, fh };
    return this.open;
  }

  private async abandonOpen(): Promise<void> {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    o.seg.sealed = true;
    o.seg.cache = undefined; // read back from the file: only synced records count
    await o.fh.close().catch(() => undefined);
    if (o.seg.rows === 0) {
      await fs.rm(o.seg.file, { force: true }).catch(() => undefined);
      this.forget(o.seg);
    }
  }
}

async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  let written = (await fh.writev(bufs)).bytesWritten;
  if (written === total) return;
  // writev may write less than asked; finish the rest with plain writes.
  const all = Buffer.concat(bufs);
  while (written < total) written += (await fh.write(all, written, total - written)).bytesWritten;
}

function recordFormat(data: Buffer, off: number): number {
  const f = data.readUInt32LE(off) - MAGIC_BASE;
  return f >= 1 && f <= MAX_FORMAT ? f : 0;
}

function parseRecord(
  data: Buffer,
  off: number,
  format: number,
): { payload: Buffer; rows: number; end: number } | undefined {
  // Every record of a segment has the segment's format: another magic is corruption.
  if (off + HEADER > data.length || recordFormat(data, off) !== format) return undefined;
  const rows = data.readUInt32LE(off + 4);
  const len = data.readUInt32LE(off + 8);
  const end = off + HEADER + len;
  if (end > data.length) return undefined;
  const payload = data.subarray(off + HEADER, end);
  if (crc32(payload) !== data.readUInt32LE(off + 12)) return undefined;
  return { payload, rows, end };
}

/**
 * The whole records from the start of `data`, their format (0 when there is none), and where
 * they end (a torn or corrupt record, or the end).
 */
function readRecords(data: Buffer): { payloads: Buffer[]; rows: number; end: number; format: number } {
  const payloads: Buffer[] = [];
  let rows = 0;
  let off = 0;
  const format = data.length >= HEADER ? recordFormat(data, 0) : 0;
  for (let rec = parseRecord(data, off, format); rec; rec = parseRecord(data, off, format)) {
    payloads.push(rec.payload);
    rows += rec.rows;
    off = rec.end;
  }
  return { payloads, rows, end: off, format };
}

/** Counts a segment's whole records and cuts off a torn tail (never acknowledged). */
async function recoverWal(file: string): Promise<{ rows: number; bytes: number; format: number }> {
  const data = await fs.readFile(file);
  const { rows, end: off, format } = readRecords(data);
  if (off < data.length) {
    logger.warn('spool segment ends in an incomplete record (never acknowledged), cut off', {
      file,
      bytes: data.length - off,
    });
    if (off > 0 && data.length - off > HEADER && recordFormat(data, off) !== 0) {
      // A whole-looking record that fails its checksum: keep the bytes for a human.
      await fs.writeFile(`${file}.corrupt`, data.subarray(off));
    }
    await fs.truncate(file, off);
  }
  return { rows, bytes: off, format };
}

async function syncDir(dir: string): Promise<void> {
  let dh: FileHandle | undefined;
  try {
    dh = await fs.open(dir, 'r');
    await dh.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the records themselves are synced.
  } finally {
    await dh?.close();
  }
}
