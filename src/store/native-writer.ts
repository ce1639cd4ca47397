// Writes one block of ClickHouse's Native format (the columnar format the server's own client
// speaks): varint column and row counts, then per column its name, its type and its values.
// Native input costs the engine a fraction of a text format's parsing (bench/ingest.ts), so the
// collector's hot path encodes otel_traces rows this way.
// Layout, per the format reference (formats/Native, "Native format" in the docs):
// - String: varint byte length + UTF-8 bytes; UInt64/Int64/DateTime64: 8 bytes little-endian;
// - Array(T): one cumulative UInt64 end offset per row, then every element as a column of T;
// - Map(K, V) = Array(Tuple(K, V)): the offsets, then all keys, then all values.
// - LowCardinality(String): a UInt64 serialization version (1) before anything else of the
//   column, even before an enclosing Array's or Map's offsets; then, unless the column has no
//   rows, UInt64 flags (additional keys, update dictionary, index width), the dictionary (count
//   + Strings, the default '' first), the row count and one index per row (as the engine writes
//   it: SerializationLowCardinality). Sent this way the repeated names and attribute keys cost
//   one byte a value instead of their text, and the engine skips converting String columns
//   into the table's LowCardinality ones (half the bytes, ~0.7 µs less per row, bench/ingest.ts).

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

// SerializationLowCardinality's version and flags.
const LC_SHARED_DICTIONARIES_WITH_ADDITIONAL_KEYS = 1;
const LC_HAS_ADDITIONAL_KEYS = 1 << 9;
const LC_NEED_UPDATE_DICTIONARY = 1 << 10;

/** Bytes per index of a LowCardinality column with a dictionary of `size` values (UInt8/16/32). */
export function lowCardinalityIndexWidth(size: number): 1 | 2 | 4 {
  return size <= 0x100 ? 1 : size <= 0x10000 ? 2 : 4;
}

/** One block's values of a LowCardinality(String) column: a dictionary and an index per value. */
export class LowCardinalityColumn {
  /** Distinct values in order of first use; index 0 is the default '', as the engine has it. */
  readonly dictionary: string[] = [''];
  ids = new Uint32Array(256);
  length = 0;
  private readonly index = new Map<string, number>([['', 0]]);

  /** The dictionary index of `s`, added when new. */
  id(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.dictionary.length;
      this.index.set(s, i);
      this.dictionary.push(s);
    }
    return i;
  }

  push(id: number): void {
    if (this.length === this.ids.length) {
      const next = new Uint32Array(this.ids.length * 2);
      next.set(this.ids);
      this.ids = next;
    }
    this.ids[this.length++] = id;
  }

  add(s: string): void {
    this.push(this.id(s));
  }
}

export type StringMap = Readonly<Record<string, string>>;

export class NativeWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(sizeHint = 4096) {
    // Never from Node's shared pool: finish()'s view can be transferred to another thread.
    this.buf = Buffer.allocUnsafeSlow(Math.max(64, sizeHint));
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

  /** A UInt64 below 2^53. */
  u64(n: number): void {
    this.u64Parts(Math.floor(n / 0x1_0000_0000), n >>> 0);
  }

  /** The state prefix of a LowCardinality column: written before its data (and any enclosing offsets). */
  lowCardinalityPrefix(): void {
    this.u64(LC_SHARED_DICTIONARIES_WITH_ADDITIONAL_KEYS);
  }

  /** A whole top-level LowCardinality(String) column (prefix and data) of `rows` values. */
  lowCardinalityStrings(rows: number, valueAt: (i: number) => string): void {
    this.lowCardinalityPrefix();
    const lc = new LowCardinalityColumn();
    for (let i = 0; i < rows; i++) lc.add(valueAt(i));
    this.lowCardinality(lc);
  }

  /** A LowCardinality(String) column's data (after its prefix): the dictionary, then the indexes. */
  lowCardinality(col: LowCardinalityColumn): void {
    this.lowCardinalityIds(col.dictionary, col.ids, col.length);
  }

  /** LowCardinality data from a dictionary and the first `rows` of `ids` (indexes into it). */
  lowCardinalityIds(dictionary: readonly string[], ids: Uint32Array, rows: number): void {
    const width = this.lowCardinalityHeader(dictionary, rows);
    this.ensure(rows * width);
    const b = this.buf;
    let p = this.pos;
    if (width === 1) for (let i = 0; i < rows; i++) b[p++] = ids[i];
    else if (width === 2) for (let i = 0; i < rows; i++, p += 2) b.writeUInt16LE(ids[i], p);
    else if (width === 4) for (let i = 0; i < rows; i++, p += 4) b.writeUInt32LE(ids[i], p);
    this.pos = p;
  }

  /**
   * The head of a LowCardinality column's data: flags, dictionary, row count. Returns the width
   * in bytes of each index to follow; 0 for no rows (nothing is written).
   */
  lowCardinalityHeader(dictionary: readonly string[], rows: number): number {
    if (rows === 0) return 0; // the engine writes nothing past the prefix for no rows
    const width = lowCardinalityIndexWidth(dictionary.length);
    this.u64(LC_HAS_ADDITIONAL_KEYS | LC_NEED_UPDATE_DICTIONARY | (width === 1 ? 0 : width === 2 ? 1 : 2));
    this.u64(dictionary.length);
    this.strings(dictionary);
    this.u64(rows);
    return width;
  }

  /**
   * Makes room for `n` bytes the caller fills itself in `buffer` (valid until the next write),
   * from the returned position on.
   */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  get buffer(): Buffer {
    return this.buf;
  }

  /** Bytes copied as they are (from another Native payload). */
  raw(src: Buffer, start: number, end: number): void {
    this.ensure(end - start);
    this.pos += src.copy(this.buf, this.pos, start, end);
  }

  strings(list: readonly string[]): void {
    for (let i = 0; i < list.length; i++) this.string(list[i]);
  }

  /**
   * A Map(LowCardinality(String), String) column of `maps`, one per row (or per element, inside
   * an Array), after its prefix (lowCardinalityPrefix, which the caller writes first).
   */
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
    const lc = new LowCardinalityColumn();
    for (const ks of keys) for (const k of ks) lc.add(k);
    this.lowCardinality(lc);
    for (let i = 0; i < maps.length; i++) {
      const m = maps[i];
      for (const k of keys[i]) this.string(m[k]);
    }
  }

  /**
   * The block's bytes: a view of the writer's own ArrayBuffer (transferable; the writer must not
   * be reused), copied to its size when the size hint left most of the buffer unused.
   */
  finish(): Buffer {
    if (this.pos >= this.buf.length / 2) return this.buf.subarray(0, this.pos);
    const exact = Buffer.allocUnsafeSlow(this.pos);
    this.buf.copy(exact, 0, 0, this.pos);
    return exact;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
