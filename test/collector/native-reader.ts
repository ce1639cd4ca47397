// Test helper: reads ClickHouse Native blocks back into row objects, for the types the
// collector's encoder writes (String, UInt64, DateTime64(9), LowCardinality(String),
// Map(LowCardinality(String), String) and Arrays of them). Values come back as the OtelTraceRow shapes: decimal strings for 64-bit numbers.
// The engine itself is the real check of the encoding (test/store/native-writer.test.ts);
// this lets the in-memory store double see rows without one.
import { NativeReader as Reader } from '../../src/store/native-reader.js';

// A column's decoder: `prefix` reads the state prefix (LowCardinality's version, written before
// everything else of the column, enclosing offsets included), `data` its values.
interface Decoder {
  prefix(r: Reader): void;
  data(r: Reader, count: number): unknown[];
}
const noPrefix = () => undefined;

/** LowCardinality(String) data: flags, dictionary, row count, indexes (nothing for no rows). */
function lowCardinalityStrings(r: Reader, n: number): string[] {
  if (n === 0) return [];
  const flags = Number(r.u64Big());
  const width = 1 << (flags & 0xff);
  if (!(flags & (1 << 9))) throw new Error('native-reader: LowCardinality without additional keys');
  const dict = Array.from({ length: Number(r.u64Big()) }, () => r.string());
  const rows = Number(r.u64Big());
  if (rows !== n) throw new Error(`native-reader: LowCardinality has ${rows} rows, expected ${n}`);
  return Array.from({ length: n }, () => {
    const buf = r.buf;
    const id = width === 1 ? buf[r.pos] : width === 2 ? buf.readUInt16LE(r.pos) : buf.readUInt32LE(r.pos);
    r.pos += width;
    if (dict[id] === undefined) throw new Error(`native-reader: LowCardinality index ${id} past the dictionary`);
    return dict[id];
  });
}

function lcVersion(r: Reader): void {
  const v = r.u64Big();
  if (v !== 1n) throw new Error(`native-reader: LowCardinality serialization version ${v}`);
}

function decoderFor(type: string): Decoder {
  if (type === 'String') return { prefix: noPrefix, data: (r, n) => Array.from({ length: n }, () => r.string()) };
  if (type === 'LowCardinality(String)') return { prefix: lcVersion, data: lowCardinalityStrings };
  if (type === 'UInt64' || type === 'DateTime64(9)')
    return { prefix: noPrefix, data: (r, n) => Array.from({ length: n }, () => r.u64Big().toString()) };
  const array = /^Array\((.*)\)$/.exec(type);
  if (array) {
    const inner = decoderFor(array[1]);
    return {
      prefix: inner.prefix,
      data: (r, n) => {
        const ends = Array.from({ length: n }, () => Number(r.u64Big()));
        const values = inner.data(r, n === 0 ? 0 : ends[n - 1]);
        return ends.map((end, i) => values.slice(i === 0 ? 0 : ends[i - 1], end));
      },
    };
  }
  const map = /^Map\((String|LowCardinality\(String\)), String\)$/.exec(type);
  if (map) {
    const keyDecoder = decoderFor(map[1]);
    return {
      prefix: keyDecoder.prefix,
      data: (r, n) => {
        const ends = Array.from({ length: n }, () => Number(r.u64Big()));
        const total = n === 0 ? 0 : ends[n - 1];
        const keys = keyDecoder.data(r, total) as string[];
        const values = Array.from({ length: total }, () => r.string());
        // fromEntries defines own properties: a "__proto__" key stays data.
        return ends.map((end, i) => {
          const from = i === 0 ? 0 : ends[i - 1];
          return Object.fromEntries(keys.slice(from, end).map((k, j) => [k, values[from + j]]));
        });
      },
    };
  }
  throw new Error(`native-reader: unsupported type ${type}`);
}

/** Every row of every block in `payload`, as objects keyed by column name. */
export function readNativeBlocks(payload: Buffer): Record<string, unknown>[] {
  const r = new Reader(payload);
  const rows: Record<string, unknown>[] = [];
  while (!r.done) {
    const columns = r.varint();
    const n = r.varint();
    const block = Array.from({ length: n }, () => ({}) as Record<string, unknown>);
    for (let c = 0; c < columns; c++) {
      const name = r.string();
      const decoder = decoderFor(r.string());
      decoder.prefix(r);
      const values = decoder.data(r, n);
      for (let i = 0; i < n; i++) block[i][name] = values[i];
    }
    rows.push(...block);
  }
  return rows;
}
