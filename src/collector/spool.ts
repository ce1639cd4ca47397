// On-disk spool: batches that could not be written to the store, one file per batch, replayed
// oldest first. A batch counts as spooled only once its file is fsynced and renamed into
// place (and the directory fsynced), so a crash leaves either the whole batch or none of it.
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { logger } from '../logger.js';

export class SpoolFullError extends Error {}

interface Segment {
  seq: number;
  rows: number;
  bytes: number;
  file: string;
}

// <sequence>-<rows>.json: the row count in the name lets us report spooled rows without
// reading every file at start-up.
const SEGMENT = /^(\d{16})-(\d+)\.json$/;

export class Spool<Row> {
  private segments: Segment[] = [];
  private nextSeq = 1;
  private totalBytes = 0;
  private totalRows = 0;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  static async open<Row>(dir: string, maxBytes: number): Promise<Spool<Row>> {
    const spool = new Spool<Row>(dir, maxBytes);
    await fs.mkdir(dir, { recursive: true });
    for (const name of await fs.readdir(dir)) {
      const file = path.join(dir, name);
      if (name.endsWith('.tmp')) {
        // A batch whose write never completed was never acknowledged: its sender retries.
        await fs.rm(file, { force: true });
        continue;
      }
      const m = SEGMENT.exec(name);
      if (!m) continue;
      const { size } = await fs.stat(file);
      spool.segments.push({ seq: Number(m[1]), rows: Number(m[2]), bytes: size, file });
    }
    spool.segments.sort((a, b) => a.seq - b.seq);
    for (const s of spool.segments) {
      spool.totalBytes += s.bytes;
      spool.totalRows += s.rows;
    }
    spool.nextSeq = (spool.segments.at(-1)?.seq ?? 0) + 1;
    return spool;
  }

  get segmentCount(): number {
    return this.segments.length;
  }
  get bytes(): number {
    return this.totalBytes;
  }
  get rows(): number {
    return this.totalRows;
  }

  /** Durably appends one batch; throws SpoolFullError when it would pass maxBytes. */
  async append(rows: Row[]): Promise<void> {
    const data = Buffer.from(JSON.stringify(rows), 'utf8');
    if (this.totalBytes + data.length > this.maxBytes) {
      throw new SpoolFullError(`spool ${this.dir} is full (${this.totalBytes} of ${this.maxBytes} bytes used)`);
    }
    const seq = this.nextSeq++;
    const name = `${String(seq).padStart(16, '0')}-${rows.length}.json`;
    const file = path.join(this.dir, name);
    const tmp = file + '.tmp';
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
    await this.syncDir();
    this.segments.push({ seq, rows: rows.length, bytes: data.length, file });
    // Two appends can finish out of order; replay must follow sequence order.
    const n = this.segments.length;
    if (n > 1 && this.segments[n - 2].seq > seq) this.segments.sort((a, b) => a.seq - b.seq);
    this.totalBytes += data.length;
    this.totalRows += rows.length;
  }

  /** The oldest batch, or undefined when the spool is empty. */
  async peek(): Promise<{ seq: number; rows: Row[] } | undefined> {
    while (this.segments.length > 0) {
      const seg = this.segments[0];
      try {
        const rows = JSON.parse(await fs.readFile(seg.file, 'utf8')) as Row[];
        return { seq: seg.seq, rows };
      } catch (err) {
        // An unreadable file would block every later batch: set it aside for a human.
        logger.error('spool segment unreadable, moved aside', { file: seg.file, error: (err as Error).message });
        await fs.rename(seg.file, seg.file + '.corrupt').catch(() => undefined);
        this.forget(seg);
      }
    }
    return undefined;
  }

  /** Deletes a batch once the store has it. */
  async remove(seq: number): Promise<void> {
    const seg = this.segments.find((s) => s.seq === seq);
    if (!seg) return;
    await fs.rm(seg.file, { force: true });
    this.forget(seg);
  }

  private forget(seg: Segment): void {
    this.segments = this.segments.filter((s) => s !== seg);
    this.totalBytes -= seg.bytes;
    this.totalRows -= seg.rows;
  }

  private async syncDir(): Promise<void> {
    let dh: FileHandle | undefined;
    try {
      dh = await fs.open(this.dir, 'r');
      await dh.sync();
    } catch {
      // Some filesystems refuse fsync on a directory; the file itself is already synced.
    } finally {
      await dh?.close();
    }
  }
}
