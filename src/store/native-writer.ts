// Writes one block of ClickHouse's Native format (the columnar format the server's own client
// speaks): varint column and row counts, then per column its name, its type and its values.
// Native input costs the engine a fraction of a text format's parsing (bench/ingest.ts), so the
// collector's hot path encodes otel_traces rows this way.
// Layout, per the format reference (formats/Native, "Native format" in the docs):
// - String: varint byte length + UTF-8 bytes; UInt64/Int64/DateTime64: 8 bytes little-endian;
// - Array(T): one cumulative UInt64 end offset per row, then every element as a column of T;
// - Map(K, V) = Array(Tuple(K, V)): the offsets, then all keys, then all values.
// Types are written without LowCardinality: the engine converts String into the table's
// LowCardinality(String) columns on insert, and encoding LowCardinality's dictionaries here
// would gain nothing the engine does not already do.

const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
// A string this short cannot need more than 127 UTF-8 bytes: its varint length is one byte.
const ONE_BYTE_LENGTH_CHARS = 42;

const DECIMAL = /^\d{1,20}$/;
const HEX = Buffer.from('0123456789abcdef', 'latin1');

function checkDecimal(s: string, what: string): string {
  if (typeof s !== 'string' || !DECIMAL.test(s)) throw new Error(`invalid ${what}: ${JSON.stringify(s)?.slice(0, 40)}`);
  return s;
}

export type StringMap = Readonly<Record<string, string>>;

export class NativeWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(sizeHint = 4096) {
    this.buf = Buffer.allocUnsafe(Math.max(64, sizeHint));
  }

  /** Starts a block: column count, row count. */
  block(columns: number, rows: number): void {
    this.varint(columns);
    this.varint(rows);
  }

  /** A column's name and type (its values follow). */
  column(name: string, type: string): void {
    this.string(name);
    this.string(type);
  }

  varint(n: number): void {
    this.ensure(10);
    const b = this.buf;
    while (n >= 0x80) {
      b[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    b[this.pos++] = n;
  }

  string(s: string): void {
    const n = s.length;
    if (n <= ONE_BYTE_LENGTH_CHARS) {
      this.ensure(1 + n * 3);
      const b = this.buf;
      const start = this.pos + 1;
      // ASCII (ids, names, numbers) byte by byte: cheaper than a native call for short strings.
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + i] = c;
      }
      const len = i === n ? n : b.write(s, start, 'utf8');
      b[this.pos] = len;
      this.pos = start + len;
      return;
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A decimal UInt64 string, saturated at the type's max; anything else throws (the batch fails whole). */
  uint64(decimal: string): void {
    let v = BigInt(checkDecimal(decimal, 'UInt64'));
    if (v > UINT64_MAX) v = UINT64_MAX;
    this.ensure(8);
    this.pos = this.buf.writeBigUInt64LE(v, this.pos);
  }

  /** Nanoseconds since the epoch (decimal string) as DateTime64(9): Int64, saturated (year 2262). */
  dateTime64ns(decimal: string): void {
    let v = BigInt(checkDecimal(decimal, 'nanosecond timestamp'));
    if (v > INT64_MAX) v = INT64_MAX;
    this.ensure(8);
    this.pos = this.buf.writeBigInt64LE(v, this.pos);
  }

  /** A UInt64/Int64 from its two 32-bit halves (already range-checked by the caller). */
  u64Parts(high: number, low: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(low >>> 0, this.pos);
    this.buf.writeUInt32LE(high >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** An id as lowercase hex String ('' for an absent or all-zero id), without a JS string. */
  hexId(id: Uint8Array | null | undefined): void {
    const n = id ? id.length : 0;
    let zero = true;
    for (let i = 0; i < n && zero; i++) if (id![i] !== 0) zero = false;
    if (zero) return this.varint(0);
    this.varint(n * 2);
    this.ensure(n * 2);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const v = id![i];
      b[p++] = HEX[v >> 4];
      b[p++] = HEX[v & 15];
    }
    this.pos = p;
  }

  /** An Array or Map column's cumulative end offsets (UInt64), from each row's length. */
  offsets(lengths: ArrayLike<number>): void {
    this.ensure(lengths.length * 8);
    let end = 0;
    const b = this.buf;
    for (let i = 0; i < lengths.length; i++) {
      end += lengths[i];
      // UInt64 LE from a safe integer: low 32 bits, then high.
      b.writeUInt32LE(end >>> 0, this.pos);
      b.writeUInt32LE(Math.floor(end / 0x1_0000_0000), this.pos + 4);
      this.pos += 8;
    }
  }

  strings(list: readonly string[]): void {
    for (let i = 0; i < list.length; i++) this.string(list[i]);
  }

  /** A Map(String, String) column of `maps`, one per row (or per element, inside an Array). */
  maps(maps: readonly StringMap[]): void {
    const keys = new Array<string[]>(maps.length);
    const lengths = new Uint32Array(maps.length);
    let prev: StringMap | undefined;
    let prevKeys: string[] = [];
    for (let i = 0; i < maps.length; i++) {
      const m = maps[i];
      // Rows of one resource share its attribute map: list its keys once.
      if (m !== prev) {
        prev = m;
        prevKeys = Object.keys(m);
      }
      keys[i] = prevKeys;
      lengths[i] = prevKeys.length;
    }
    this.offsets(lengths);
    for (const ks of keys) for (const k of ks) this.string(k);
    for (let i = 0; i < maps.length; i++) {
      const m = maps[i];
      for (const k of keys[i]) this.string(m[k]);
    }
  }

  /** The block's bytes (a view of the writer's buffer; the writer must not be reused). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
