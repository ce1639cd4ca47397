// Merges a payload of several Native blocks (one per export request, as the spool keeps them)
// into one block before it is inserted. The engine squashes an INSERT's small blocks itself,
// but merging LowCardinality columns whose dictionaries differ block by block costs it a hash
// per value: ~2 µs per span more for 512-row blocks than for one block (bench/ingest.ts notes).
// Here the columns are concatenated, Array/Map offsets rebased and LowCardinality dictionaries
// united with their indexes remapped: a pass over the bytes, no value decoded but the
// dictionaries. Blocks whose columns differ, or a type this module does not know, leave the
// payload as it is (the engine takes several blocks just as well).
import { NativeFormatError, NativeReader } from './native-reader.js';
import { lowCardinalityIndexWidth, NativeWriter } from './native-writer.js';

type TypeNode =
  | { kind: 'string' | 'fixed8' | 'lowCardinality' }
  | { kind: 'array'; of: TypeNode }
  | { kind: 'map'; key: TypeNode; value: TypeNode };

/** One block's data of one (sub)column. */
type Part =
  | { kind: 'bytes'; start: number; end: number }
  | { kind: 'lowCardinality'; rows: number; dictionary: string[]; width: number; start: number }
  | { kind: 'offsets'; start: number; rows: number; total: number; nested: Part[] };

interface Block {
  rows: number;
  columns: Part[];
}

const typeCache = new Map<string, TypeNode>();

function parseType(t: string): TypeNode {
  let node = typeCache.get(t);
  if (node) return node;
  if (t === 'String') node = { kind: 'string' };
  else if (t === 'UInt64' || t === 'Int64' || t === 'DateTime64(9)') node = { kind: 'fixed8' };
  else if (t === 'LowCardinality(String)') node = { kind: 'lowCardinality' };
  else if (t.startsWith('Array(') && t.endsWith(')')) node = { kind: 'array', of: parseType(t.slice(6, -1)) };
  else if (t.startsWith('Map(') && t.endsWith(')')) {
    const inner = t.slice(4, -1);
    // Key types here are String or LowCardinality(String): no comma inside them.
    const comma = inner.indexOf(', ');
    if (comma < 0) throw new NativeFormatError(t);
    node = { kind: 'map', key: parseType(inner.slice(0, comma)), value: parseType(inner.slice(comma + 2)) };
  } else throw new NativeFormatError(t);
  typeCache.set(t, node);
  return node;
}

function readPrefix(t: TypeNode, r: NativeReader): void {
  if (t.kind === 'lowCardinality') {
    if (r.u64() !== 1) throw new NativeFormatError('LowCardinality serialization version');
  } else if (t.kind === 'array') readPrefix(t.of, r);
  else if (t.kind === 'map') {
    readPrefix(t.key, r);
    readPrefix(t.value, r);
  }
}

function readData(t: TypeNode, r: NativeReader, rows: number): Part {
  const start = r.pos;
  switch (t.kind) {
    case 'string':
      r.skipStrings(rows);
      r.check();
      return { kind: 'bytes', start, end: r.pos };
    case 'fixed8':
      r.pos += rows * 8;
      r.check();
      return { kind: 'bytes', start, end: r.pos };
    case 'lowCardinality': {
      if (rows === 0) return { kind: 'lowCardinality', rows, dictionary: [], width: 0, start };
      const flags = r.u64();
      if ((flags & ~0xff) !== ((1 << 9) | (1 << 10))) throw new NativeFormatError('LowCardinality flags');
      const width = 1 << (flags & 0xff);
      const keys = r.u64();
      const dictionary = new Array<string>(keys);
      for (let i = 0; i < keys; i++) dictionary[i] = r.string();
      if (r.u64() !== rows) throw new NativeFormatError('LowCardinality row count');
      const at = r.pos;
      r.pos += rows * width;
      r.check();
      return { kind: 'lowCardinality', rows, dictionary, width, start: at };
    }
    case 'array':
    case 'map': {
      r.pos += rows * 8;
      r.check();
      const total = rows === 0 ? 0 : r.u64At(r.pos - 8);
      const nested =
        t.kind === 'array' ? [readData(t.of, r, total)] : [readData(t.key, r, total), readData(t.value, r, total)];
      return { kind: 'offsets', start, rows, total, nested };
    }
  }
}

function readBlocks(buf: Buffer): { blocks: Block[]; types: TypeNode[]; names: string[] } {
  const r = new NativeReader(buf);
  const blocks: Block[] = [];
  let types: TypeNode[] = [];
  let names: string[] = [];
  while (r.pos < buf.length) {
    const ncols = r.varint();
    const rows = r.varint();
    const header: string[] = [];
    const columns: Part[] = [];
    const blockTypes: TypeNode[] = [];
    for (let c = 0; c < ncols; c++) {
      const name = r.string();
      const typeName = r.string();
      const t = parseType(typeName);
      header.push(`${name}\t${typeName}`);
      blockTypes.push(t);
      readPrefix(t, r);
      columns.push(readData(t, r, rows));
    }
    if (blocks.length === 0) {
      types = blockTypes;
      names = header;
    } else if (header.length !== names.length || header.some((h, i) => h !== names[i]))
      throw new NativeFormatError('blocks differ');
    blocks.push({ rows, columns });
  }
  return { blocks, types, names };
}

function writePrefix(t: TypeNode, w: NativeWriter): void {
  if (t.kind === 'lowCardinality') w.lowCardinalityPrefix();
  else if (t.kind === 'array') writePrefix(t.of, w);
  else if (t.kind === 'map') {
    writePrefix(t.key, w);
    writePrefix(t.value, w);
  }
}

function writeData(t: TypeNode, parts: Part[], src: Buffer, w: NativeWriter): void {
  if (t.kind === 'string' || t.kind === 'fixed8') {
    for (const p of parts) if (p.kind === 'bytes') w.raw(src, p.start, p.end);
    return;
  }
  if (t.kind === 'lowCardinality') return writeLowCardinality(parts, src, w);
  // Array or Map: every block's offsets past the elements of the blocks before it.
  let base = 0;
  for (const p of parts) {
    if (p.kind !== 'offsets') continue;
    if (base === 0) {
      w.raw(src, p.start, p.start + p.rows * 8);
      base += p.total;
      continue;
    }
    const out = w.reserve(p.rows * 8);
    const to = new DataView(w.buffer.buffer, w.buffer.byteOffset + out, p.rows * 8);
    const from = new DataView(src.buffer, src.byteOffset + p.start, p.rows * 8);
    for (let i = 0; i < p.rows * 8; i += 8) {
      const v = base + from.getUint32(i, true) + from.getUint32(i + 4, true) * 0x1_0000_0000;
      const lo = v >>> 0;
      to.setUint32(i, lo, true);
      to.setUint32(i + 4, (v - lo) / 0x1_0000_0000, true);
    }
    base += p.total;
  }
  const nested = (k: number) => parts.map((p) => (p as Extract<Part, { kind: 'offsets' }>).nested[k]);
  if (t.kind === 'array') writeData(t.of, nested(0), src, w);
  else if (t.kind === 'map') {
    writeData(t.key, nested(0), src, w);
    writeData(t.value, nested(1), src, w);
  }
}

function writeLowCardinality(parts: Part[], src: Buffer, w: NativeWriter): void {
  const lcParts = parts.filter((p): p is Extract<Part, { kind: 'lowCardinality' }> => p.kind === 'lowCardinality');
  const ids = new Map<string, number>([['', 0]]);
  const dictionary = [''];
  let rows = 0;
  // Per block: its index → the united one (undefined when that is the identity).
  const remaps = lcParts.map((p) => {
    rows += p.rows;
    const remap = new Uint32Array(p.dictionary.length);
    let identity = true;
    p.dictionary.forEach((s, i) => {
      let id = ids.get(s);
      if (id === undefined) {
        id = dictionary.length;
        ids.set(s, id);
        dictionary.push(s);
      }
      remap[i] = id;
      if (id !== i) identity = false;
    });
    return identity ? undefined : remap;
  });
  const width = lowCardinalityIndexWidth(dictionary.length);
  if (remaps.every((r) => r === undefined) && lcParts.every((p) => p.rows === 0 || p.width === width)) {
    // Blocks from one sender mostly list the same values in the same order: indexes as they are.
    w.lowCardinalityHeader(dictionary, rows);
    for (const p of lcParts) w.raw(src, p.start, p.start + p.rows * width);
    return;
  }
  const united = new Uint32Array(rows);
  let at = 0;
  lcParts.forEach((p, k) => {
    const remap = remaps[k];
    for (let i = 0, from = p.start; i < p.rows; i++, from += p.width) {
      const old = p.width === 1 ? src[from] : p.width === 2 ? src.readUInt16LE(from) : src.readUInt32LE(from);
      if (old >= p.dictionary.length) throw new NativeFormatError('LowCardinality index past its dictionary');
      united[at++] = remap ? remap[old] : old;
    }
  });
  w.lowCardinalityIds(dictionary, united, rows);
}

/** `payload` as one Native block when it holds several of the same columns; else unchanged. */
export function mergeNativeBlocks(payload: Buffer): Buffer {
  let parsed;
  try {
    parsed = readBlocks(payload);
  } catch (err) {
    if (err instanceof NativeFormatError) return payload;
    throw err;
  }
  const { blocks, types, names } = parsed;
  if (blocks.length < 2) return payload;
  try {
    const w = new NativeWriter(payload.length + 1024);
    w.block(
      names.length,
      blocks.reduce((n, b) => n + b.rows, 0),
    );
    for (let c = 0; c < names.length; c++) {
      const [name, type] = names[c].split('\t');
      w.column(name, type);
      writePrefix(types[c], w);
      writeData(
        types[c],
        blocks.map((b) => b.columns[c]),
        payload,
        w,
      );
    }
    return w.finish();
  } catch (err) {
    if (err instanceof NativeFormatError) return payload;
    throw err;
  }
}
