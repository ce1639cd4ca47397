// A protobufjs BufferReader that hands out one string per distinct short byte sequence. OTLP
// bodies repeat the same attribute keys and many values (model, provider, operation) in every
// span: decoding each again costs a native call and an allocation, and a fresh string used as
// an object key must be internalised by V8 before lookups. Short strings are looked up in a
// small direct-mapped table by their bytes (FNV-1a), so a repeat costs a hash and a compare.
// The generated decoders of the official .proto files are unchanged: they take any Reader.
import protobuf from 'protobufjs';

const SLOTS = 4096; // power of two
const MAX_BYTES = 32; // longer strings (ids, messages) rarely repeat: decoded as usual

const slab = new Uint8Array(SLOTS * MAX_BYTES);
const lengths = new Uint8Array(SLOTS); // 0 = empty slot (the empty string is never stored)
const strings: string[] = new Array<string>(SLOTS).fill('');

type NodeBuffer = Buffer & { utf8Slice(start: number, end: number): string };

export class InterningReader extends protobuf.BufferReader {
  constructor(buffer: Buffer) {
    super(buffer);
  }

  override string(): string {
    const len = this.uint32();
    const start = this.pos;
    const end = start + len;
    const buf = this.buf as NodeBuffer;
    if (len === 0) return '';
    if (len > MAX_BYTES || end > this.len) {
      // As BufferReader does: a length past the end reads what is there (the decoder fails next).
      this.pos = Math.min(end, this.len);
      return buf.utf8Slice(start, this.pos);
    }
    this.pos = end;
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const slot = (h >>> 0) & (SLOTS - 1);
    const base = slot * MAX_BYTES;
    if (lengths[slot] === len) {
      let i = 0;
      while (i < len && slab[base + i] === buf[start + i]) i++;
      if (i === len) return strings[slot];
    }
    const s = buf.utf8Slice(start, end);
    for (let i = 0; i < len; i++) slab[base + i] = buf[start + i];
    lengths[slot] = len;
    strings[slot] = s;
    return s;
  }
}
