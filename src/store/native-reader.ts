// Reads the primitives of ClickHouse's Native format (varint lengths, strings, UInt64) from a
// buffer: what native-merge.ts walks blocks with (and the tests read blocks back with).

export class NativeFormatError extends Error {}

export class NativeReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(): number {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new NativeFormatError('truncated Native payload');
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
  }
  string(): string {
    const len = this.varint();
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
  skipStrings(n: number): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const b = buf[pos];
      // Lengths under 128 (nearly all) are one byte.
      if (b < 0x80) pos += 1 + b;
      else {
        this.pos = pos;
        const len = this.varint();
        pos = this.pos + len;
      }
    }
    this.pos = pos;
  }
  /** A UInt64 as a number (exact below 2^53: counts and offsets). */
  u64(): number {
    const v = this.u64At(this.pos);
    this.pos += 8;
    return v;
  }
  /** The UInt64 at `at`, as a number, without moving. */
  u64At(at: number): number {
    return this.buf.readUInt32LE(at) + this.buf.readUInt32LE(at + 4) * 0x1_0000_0000;
  }
  u64Big(): bigint {
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  /** Throws when a skip went past the end. */
  check(): void {
    if (this.pos > this.buf.length) throw new NativeFormatError('truncated Native payload');
  }
}
