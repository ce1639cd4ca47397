// Shared pieces of the fuzz tests: run settings (seed, runs), and structure-aware mutators for
// protobuf wire data (OTLP, with the field types of the vendored .proto files), JSON documents
// and text (YAML/JSON configs). Every mutation is a plain record that fast-check generates and
// shrinks; applying it is deterministic, so a seed replays a failure exactly.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import protobuf from 'protobufjs';

// ---------------------------------------------------------------------------------------------
// Run settings

export interface FuzzSettings {
  seed: number;
  /** FUZZ_RUNS when set, else the property's own default. */
  runs(defaultRuns: number): number;
}

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return n;
}

/** FUZZ_SEED (default: a fresh one per process) and FUZZ_RUNS (default: each property's own). */
export function fuzzSettings(): FuzzSettings {
  const seed = envInt('FUZZ_SEED') ?? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  const runs = envInt('FUZZ_RUNS');
  return { seed, runs: (d) => (runs !== undefined && runs > 0 ? runs : d) };
}

/**
 * fc.assert with the file's seed; a failure names the seed (and fast-check's replay path) so
 * `FUZZ_SEED=<seed> npx vitest run <file>` reproduces it.
 */
export async function fuzz<T>(
  settings: FuzzSettings,
  defaultRuns: number,
  prop: fc.IAsyncPropertyWithHooks<T> | fc.IPropertyWithHooks<T> | fc.IAsyncProperty<T> | fc.IProperty<T>,
): Promise<void> {
  try {
    // On a failure fast-check shrinks (reruns smaller inputs against the live server) within the
    // test's timeout; the describe titles carry the seed too, so even a timeout names it.
    await fc.assert(prop as fc.IAsyncProperty<T>, { seed: settings.seed, numRuns: settings.runs(defaultRuns) });
  } catch (err) {
    const e = err as Error;
    e.message = `fuzz failure (reproduce with FUZZ_SEED=${settings.seed}):\n${e.message}`;
    throw e;
  }
}

/** Deterministic values from the seed for corpus building (ids, payload bytes). */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

export function pick<T>(list: readonly T[], n: number): T {
  return list[Math.abs(n) % list.length];
}

// ---------------------------------------------------------------------------------------------
// Interesting values

/** Byte strings that break decoders: invalid UTF-8, overlong forms, surrogates, NULs, noise. */
export const NASTY_BYTES: readonly Uint8Array[] = [
  new Uint8Array([]),
  new Uint8Array([0xff]),
  new Uint8Array([0xc0, 0xaf]), // overlong '/'
  new Uint8Array([0xed, 0xa0, 0x80]), // UTF-16 surrogate encoded in UTF-8
  new Uint8Array([0xf4, 0x90, 0x80, 0x80]), // past U+10FFFF
  new Uint8Array([0xe2, 0x82]), // truncated sequence
  new Uint8Array([0x00, 0x00, 0x00]),
  new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // overlong varint
  Buffer.from('\u202e\u0000\ufeff'),
  Buffer.from('service.name'),
  Buffer.from('a'.repeat(300)),
  Buffer.from('🚀'.repeat(20)),
];

/** Varint values at the edges of the 32/53/64-bit ranges. */
export const EDGE_VARINTS: readonly bigint[] = [
  0n,
  1n,
  2n,
  5n,
  6n,
  127n,
  128n,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
];

function f64(x: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b;
}

/** fixed64/fixed32/double payloads: extremes, NaN/Inf, and wrong widths. */
export const EDGE_FIXED: readonly Uint8Array[] = [
  new Uint8Array(8),
  new Uint8Array(8).fill(0xff),
  Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
  Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0x80]),
  f64(NaN),
  f64(Infinity),
  f64(-Infinity),
  f64(-0),
  f64(1e308),
  f64(5e-324),
  new Uint8Array(4).fill(0xff),
  new Uint8Array(3),
];

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];

/** Keys worth adding to a JSON object: prototype names, empty, unicode, near-miss names. */
export const NASTY_KEYS: readonly string[] = [
  ...PROTO_KEYS,
  '',
  ' ',
  'x'.repeat(100),
  '\u0000',
  '\ud800',
  'é',
  '🚀',
  'model',
  'stream',
  'messages',
  'traceId',
  'spanId',
  'resourceSpans',
  'value',
  'values',
  'stringValue',
  'intValue',
  'kvlistValue',
  'arrayValue',
  'providers',
  'configs',
  'targets',
  'strategy',
];

export const RAW = Symbol('raw JSON text');
/** A JSON "value" written verbatim (numbers and literals JSON.stringify cannot produce). */
export type RawJson = { [RAW]: string };
const raw = (text: string): RawJson => ({ [RAW]: text });

/** Values to put anywhere in a JSON document. */
export const NASTY_JSON: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0,
  2 ** 53 + 2,
  1e21,
  Number.MAX_VALUE,
  '',
  ' ',
  '0',
  '-1',
  '1.5',
  '1e3',
  '0x10',
  'NaN',
  'Infinity',
  '-Infinity',
  '18446744073709551615',
  '18446744073709551616',
  '-9223372036854775809',
  '99999999999999999999999999999999',
  'true',
  'null',
  '\ud800',
  '\udfff\ud800',
  '\u0000',
  '\u202e',
  'é🚀',
  'x'.repeat(2000),
  '0af7651916cd43dd8448eb211c80319c',
  '0af7651916cd43dd8448eb211c80319', // odd length
  '0af7651916cd43dd8448eb211c80319c00', // 17 bytes
  'zzf7651916cd43dd8448eb211c80319c', // not hex
  'CvdlGRbNQ92ESOshHIAxnA==', // base64 of an id
  'b7ad6b7169203331',
  '00000000000000000000000000000000',
  'SPAN_KIND_SERVER',
  'STATUS_CODE_ERROR',
  'SPAN_KIND_NOPE',
  [],
  {},
  [null],
  [[]],
  [{}],
  { '': null },
  { stringValue: 'x' },
  { intValue: '12' },
  { intValue: 1.5 },
  { doubleValue: 'NaN' },
  { boolValue: 'true' },
  { bytesValue: '!!' },
  { arrayValue: null },
  { arrayValue: { values: [{ kvlistValue: { values: [{ key: 'k' }] } }] } },
  { kvlistValue: { values: [{ key: 5, value: {} }] } },
  raw('1e400'),
  raw('-1e400'),
  raw('123456789012345678901234567890'),
  raw('-0.0'),
  raw('0.0000000000000000000000000001'),
  raw('1E+2'),
];

// ---------------------------------------------------------------------------------------------
// Bytes

export type ByteOp =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'set'; at: number; byte: number }
  | { k: 'insert'; at: number; bytes: number }
  | { k: 'delete'; at: number; len: number }
  | { k: 'truncate'; at: number }
  | { k: 'repeat'; at: number; len: number; times: number };

export const byteOpArb: fc.Arbitrary<ByteOp> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    k: fc.constant('set' as const),
    at: fc.nat(),
    byte: fc.constantFrom(0x00, 0x01, 0x02, 0x07, 0x0a, 0x12, 0x1a, 0x22, 0x7f, 0x80, 0xff),
  }),
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(), bytes: fc.nat() }),
  fc.record({ k: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ k: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    k: fc.constant('repeat' as const),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 32 }),
    times: fc.integer({ min: 2, max: 50 }),
  }),
);

export function applyByteOp(buf: Uint8Array, op: ByteOp): Uint8Array {
  const n = buf.length;
  const at = n === 0 ? 0 : op.at % (n + 1);
  switch (op.k) {
    case 'flip': {
      if (n === 0) return buf;
      const out = Uint8Array.from(buf);
      out[op.at % n] ^= 1 << op.bit;
      return out;
    }
    case 'set': {
      if (n === 0) return Uint8Array.of(op.byte);
      const out = Uint8Array.from(buf);
      out[op.at % n] = op.byte;
      return out;
    }
    case 'insert':
      return concat([buf.subarray(0, at), pick(NASTY_BYTES, op.bytes), buf.subarray(at)]);
    case 'delete':
      return concat([buf.subarray(0, at), buf.subarray(Math.min(n, at + op.len))]);
    case 'truncate':
      return buf.subarray(0, at);
    case 'repeat': {
      const slice = buf.subarray(at, Math.min(n, at + op.len));
      return concat([buf.subarray(0, at), ...Array.from({ length: op.times }, () => slice), buf.subarray(at)]);
    }
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

// ---------------------------------------------------------------------------------------------
// Protobuf wire format, read with the OTLP message types so mutations know what a field is

function protoRoot(): protobuf.Root {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'collector', 'proto');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(dir, target);
  root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto']);
  root.resolveAll();
  return root;
}

const root = protoRoot();
export const EXPORT_REQUEST = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const ANY_VALUE = root.lookupType('opentelemetry.proto.common.v1.AnyValue');

export interface WireField {
  num: number;
  /** The wire type the payload is encoded with. */
  wt: number;
  /** The wire type written in the tag (a mutation may make it lie). */
  tagWt?: number;
  /** The message type of a length-delimited field that holds one (from the .proto files). */
  type?: protobuf.Type;
  /** The field's name in its parent message, when known. */
  name?: string;
  varint?: bigint;
  /** Extra continuation bytes in the varint (non-canonical; > 10 bytes is invalid). */
  overlong?: number;
  bytes?: Uint8Array;
  kids?: WireField[];
  /** A length prefix that lies. */
  len?: bigint;
}

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated varint');
    v |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [v, pos];
    shift += 7n;
  }
}

/** Parses valid protobuf bytes into fields; sub-messages are parsed with their .proto type. */
export function parseWire(buf: Uint8Array, type: protobuf.Type | undefined = EXPORT_REQUEST): WireField[] {
  const out: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const num = Number(tag >> 3n);
    const wt = Number(tag & 7n);
    const field = type?.fieldsById[num];
    const f: WireField = { num, wt, name: field?.name };
    if (wt === 0) {
      [f.varint, pos] = readVarint(buf, pos);
    } else if (wt === 1 || wt === 5) {
      const n = wt === 1 ? 8 : 4;
      f.bytes = buf.slice(pos, pos + n);
      pos += n;
    } else if (wt === 2) {
      const [len, q] = readVarint(buf, pos);
      const payload = buf.slice(q, q + Number(len));
      pos = q + Number(len);
      const sub = field?.resolvedType;
      if (sub instanceof protobuf.Type) {
        f.type = sub;
        f.kids = parseWire(payload, sub);
      } else f.bytes = payload;
    } else throw new Error(`wire type ${wt} in a seed`);
    out.push(f);
  }
  return out;
}

function varintBytes(v: bigint, overlong = 0): number[] {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  if (overlong > 0) {
    out.push(Number(u) | 0x80);
    for (let i = 1; i < overlong; i++) out.push(0x80);
    out.push(0);
  } else out.push(Number(u));
  return out;
}

export function serializeWire(fields: readonly WireField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    parts.push(Uint8Array.from(varintBytes((BigInt(f.num) << 3n) | BigInt(f.tagWt ?? f.wt))));
    if (f.wt === 0) parts.push(Uint8Array.from(varintBytes(f.varint ?? 0n, f.overlong)));
    else if (f.wt === 2) {
      const payload = f.kids ? serializeWire(f.kids) : (f.bytes ?? new Uint8Array());
      parts.push(Uint8Array.from(varintBytes(f.len ?? BigInt(payload.length), f.overlong)), payload);
    } else if (f.bytes) parts.push(f.bytes);
  }
  return concat(parts);
}

function cloneWire(fields: readonly WireField[]): WireField[] {
  return fields.map((f) => ({ ...f, kids: f.kids && cloneWire(f.kids) }));
}

interface Located {
  f: WireField;
  parent: WireField[];
  i: number;
}

function walkWire(fields: WireField[], out: Located[] = []): Located[] {
  fields.forEach((f, i) => {
    out.push({ f, parent: fields, i });
    if (f.kids) walkWire(f.kids, out);
  });
  return out;
}

/**
 * The bytes of an AnyValue nested `depth` levels deep through ArrayValue / KeyValueList, built
 * from the inside out without recursion (so any depth is cheap to make).
 */
export function deepAnyValueBytes(depth: number, kvlist: boolean): Uint8Array {
  const leaf = serializeWire([{ num: 1, wt: 2, bytes: Buffer.from('leaf') }]);
  const prefixes: number[][] = [];
  let size = leaf.length;
  const tagLen = (num: number, len: number) => [...varintBytes(BigInt((num << 3) | 2)), ...varintBytes(BigInt(len))];
  for (let i = 0; i < depth; i++) {
    let p: number[];
    if (kvlist) {
      const kv = [...tagLen(1, 1), 0x6b /* k */, ...tagLen(2, size)];
      const list = tagLen(1, kv.length + size);
      p = [...tagLen(6, list.length + kv.length + size), ...list, ...kv];
    } else {
      const arr = tagLen(1, size);
      p = [...tagLen(5, arr.length + size), ...arr];
    }
    prefixes.push(p);
    size += p.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (let i = prefixes.length - 1; i >= 0; i--) {
    out.set(prefixes[i], at);
    at += prefixes[i].length;
  }
  out.set(leaf, at);
  return out;
}

export type ProtoOp =
  | { k: 'delete'; at: number }
  | { k: 'duplicate'; at: number }
  | { k: 'swap'; at: number; with: number }
  | { k: 'tagWt'; at: number; wt: number }
  | { k: 'fieldNum'; at: number; num: number }
  | { k: 'payload'; at: number; bytes: number }
  | { k: 'idLen'; at: number; len: number; fill: number }
  | { k: 'varint'; at: number; value: number }
  | { k: 'fixed'; at: number; value: number }
  | { k: 'lenLie'; at: number; delta: number }
  | { k: 'overlong'; at: number; extra: number }
  | { k: 'unknown'; at: number; num: number; wt: number; bytes: number }
  | { k: 'nest'; at: number; depth: number; kvlist: boolean }
  | { k: 'oneofs'; at: number };

const natAt = fc.nat();
export const protoOpArb: fc.Arbitrary<ProtoOp> = fc.oneof(
  fc.record({ k: fc.constant('delete' as const), at: natAt }),
  fc.record({ k: fc.constant('duplicate' as const), at: natAt }),
  fc.record({ k: fc.constant('swap' as const), at: natAt, with: natAt }),
  fc.record({ k: fc.constant('tagWt' as const), at: natAt, wt: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    k: fc.constant('fieldNum' as const),
    at: natAt,
    num: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom(2 ** 29 - 1, 19000, 2 ** 29, 2 ** 31)),
  }),
  fc.record({ k: fc.constant('payload' as const), at: natAt, bytes: fc.nat() }),
  fc.record({
    k: fc.constant('idLen' as const),
    at: natAt,
    len: fc.integer({ min: 0, max: 40 }),
    fill: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ k: fc.constant('varint' as const), at: natAt, value: fc.nat() }),
  fc.record({ k: fc.constant('fixed' as const), at: natAt, value: fc.nat() }),
  fc.record({
    k: fc.constant('lenLie' as const),
    at: natAt,
    delta: fc.oneof(fc.integer({ min: -4, max: 4 }), fc.constantFrom(2 ** 31 - 1, 2 ** 32 + 3, 2 ** 35, 1e6)),
  }),
  fc.record({ k: fc.constant('overlong' as const), at: natAt, extra: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    k: fc.constant('unknown' as const),
    at: natAt,
    num: fc.integer({ min: 0, max: 2 ** 29 - 1 }),
    wt: fc.integer({ min: 0, max: 7 }),
    bytes: fc.nat(),
  }),
  fc.record({
    k: fc.constant('nest' as const),
    at: natAt,
    depth: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constantFrom(49, 50, 51, 99, 100, 101, 500)),
    kvlist: fc.boolean(),
  }),
  fc.record({ k: fc.constant('oneofs' as const), at: natAt }),
);

const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** Applies structure-aware mutations to a parsed request; returns the new bytes. */
export function mutateProto(seed: readonly WireField[], ops: readonly ProtoOp[]): Uint8Array {
  const top = cloneWire(seed);
  for (const op of ops) {
    const all = walkWire(top);
    if (all.length === 0) {
      top.push({ num: 1, wt: 2, kids: [] });
      continue;
    }
    const { f, parent, i } = all[op.at % all.length];
    const among = (want: (x: WireField) => boolean) => {
      const c = all.filter((x) => want(x.f));
      return c.length ? c[op.at % c.length] : undefined;
    };
    switch (op.k) {
      case 'delete':
        parent.splice(i, 1);
        break;
      case 'duplicate':
        parent.splice(i, 0, cloneWire([f])[0]);
        break;
      case 'swap': {
        const j = op.with % parent.length;
        [parent[i], parent[j]] = [parent[j], parent[i]];
        break;
      }
      case 'tagWt':
        f.tagWt = op.wt;
        break;
      case 'fieldNum':
        f.num = op.num;
        break;
      case 'payload': {
        const t = among((x) => x.wt === 2) ?? { f };
        t.f.kids = undefined;
        t.f.bytes = pick(NASTY_BYTES, op.bytes);
        t.f.wt = 2;
        break;
      }
      case 'idLen': {
        const t = among((x) => ID_FIELDS.has(x.name ?? '')) ?? { f };
        t.f.wt = 2;
        t.f.kids = undefined;
        t.f.bytes = new Uint8Array(op.len).fill(op.fill);
        break;
      }
      case 'varint': {
        const t = among((x) => x.wt === 0);
        if (t) t.f.varint = pick(EDGE_VARINTS, op.value);
        break;
      }
      case 'fixed': {
        const t = among((x) => x.wt === 1 || x.wt === 5);
        if (t) t.f.bytes = pick(EDGE_FIXED, op.value);
        break;
      }
      case 'lenLie': {
        const t = among((x) => x.wt === 2);
        if (!t) break;
        const actual = t.f.kids ? serializeWire(t.f.kids).length : (t.f.bytes?.length ?? 0);
        t.f.len = BigInt(Math.max(0, actual + Math.trunc(op.delta)));
        break;
      }
      case 'overlong': {
        const t = among((x) => x.wt === 0 || x.wt === 2);
        if (t) t.f.overlong = op.extra;
        break;
      }
      case 'unknown': {
        const host = f.kids ?? parent;
        const bytes = pick(NASTY_BYTES, op.bytes);
        host.splice(op.at % (host.length + 1), 0, {
          num: op.num,
          wt: op.wt,
          varint: BigInt(bytes.length),
          bytes: op.wt === 1 ? pick(EDGE_FIXED, op.bytes) : bytes,
        });
        break;
      }
      case 'nest': {
        const t = among((x) => x.type === ANY_VALUE);
        if (!t) break;
        t.f.kids = undefined;
        t.f.bytes = deepAnyValueBytes(op.depth, op.kvlist);
        break;
      }
      case 'oneofs': {
        // Two members of AnyValue's oneof at once (the last one on the wire wins).
        const t = among((x) => x.type === ANY_VALUE);
        t?.f.kids?.push({ num: 3, wt: 0, varint: 2n ** 63n }, { num: 2, wt: 0, varint: 7n });
        break;
      }
    }
  }
  return serializeWire(top);
}

// ---------------------------------------------------------------------------------------------
// JSON documents

type Json = unknown;

interface JsonSlot {
  /** The container and key holding the value (undefined for the document itself). */
  parent?: Record<string, Json> | Json[];
  key?: string | number;
  value: Json;
}

function walkJson(doc: Json, out: JsonSlot[] = [], parent?: JsonSlot['parent'], key?: string | number): JsonSlot[] {
  out.push({ parent, key, value: doc });
  if (Array.isArray(doc))
    doc.forEach((v, i) => {
      walkJson(v, out, doc, i);
    });
  else if (doc && typeof doc === 'object' && !(RAW in doc))
    for (const k of Object.keys(doc)) walkJson((doc as Record<string, Json>)[k], out, doc as Record<string, Json>, k);
  return out;
}

/** Sets an own property even for "__proto__" (plain assignment would change the prototype). */
export function setOwn(obj: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function cloneJson(v: Json): Json {
  if (Array.isArray(v)) return v.map(cloneJson);
  if (v && typeof v === 'object') {
    if (RAW in v) return v;
    const out: Record<string, Json> = {};
    for (const k of Object.keys(v)) setOwn(out, k, cloneJson((v as Record<string, Json>)[k]));
    return out;
  }
  return v;
}

export type JsonOp =
  | { k: 'delete'; at: number }
  | { k: 'set'; at: number; value: number }
  | { k: 'addKey'; at: number; key: number; value: number }
  | { k: 'retype'; at: number }
  | { k: 'wrap'; at: number; depth: number; asArray: boolean }
  | { k: 'nestAny'; at: number; depth: number; kvlist: boolean }
  | { k: 'grow'; at: number; times: number };

export const jsonOpArb: fc.Arbitrary<JsonOp> = fc.oneof(
  fc.record({ k: fc.constant('delete' as const), at: natAt }),
  fc.record({ k: fc.constant('set' as const), at: natAt, value: fc.nat() }),
  fc.record({ k: fc.constant('addKey' as const), at: natAt, key: fc.nat(), value: fc.nat() }),
  fc.record({ k: fc.constant('retype' as const), at: natAt }),
  fc.record({
    k: fc.constant('wrap' as const),
    at: natAt,
    depth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(100, 129, 1000, 6000)),
    asArray: fc.boolean(),
  }),
  fc.record({
    k: fc.constant('nestAny' as const),
    at: natAt,
    depth: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constantFrom(100, 300, 3000)),
    kvlist: fc.boolean(),
  }),
  fc.record({ k: fc.constant('grow' as const), at: natAt, times: fc.integer({ min: 2, max: 200 }) }),
);

/** An OTLP AnyValue nested `depth` levels deep, as verbatim JSON text (never walked again). */
export function deepJsonAnyValue(depth: number, kvlist: boolean): RawJson {
  const [open, close] = kvlist
    ? ['{"kvlistValue":{"values":[{"key":"k","value":', '}]}}']
    : ['{"arrayValue":{"values":[', ']}}'];
  return raw(`${open.repeat(depth)}{"stringValue":"leaf"}${close.repeat(depth)}`);
}

/** The same value as another JSON type: numbers ↔ strings, scalars ↔ containers. */
function retype(v: Json): Json {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return /^-?\d+(\.\d+)?$/.test(v) ? raw(v) : [v];
  if (typeof v === 'boolean') return v ? 1 : 'false';
  if (v === null) return {};
  if (Array.isArray(v)) return v.length ? v[0] : null;
  return [v];
}

/** Applies JSON mutations to a copy of the document. */
export function mutateJson(seed: Json, ops: readonly JsonOp[]): Json {
  let doc = cloneJson(seed);
  const put = (s: JsonSlot, v: Json) => {
    if (!s.parent) doc = v;
    else if (Array.isArray(s.parent)) s.parent[s.key as number] = v;
    else setOwn(s.parent, s.key as string, v);
  };
  for (const op of ops) {
    const all = walkJson(doc);
    const s = all[op.at % all.length];
    switch (op.k) {
      case 'delete':
        if (!s.parent) doc = undefined;
        else if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
        else delete s.parent[s.key as string];
        break;
      case 'set':
        put(s, cloneJson(pick(NASTY_JSON, op.value)));
        break;
      case 'addKey': {
        const objs = all.filter(
          (x) => x.value && typeof x.value === 'object' && !Array.isArray(x.value) && !(RAW in x.value),
        );
        if (objs.length)
          setOwn(
            objs[op.at % objs.length].value as Record<string, Json>,
            pick(NASTY_KEYS, op.key),
            cloneJson(pick(NASTY_JSON, op.value)),
          );
        break;
      }
      case 'retype':
        put(s, retype(s.value));
        break;
      case 'wrap': {
        // Verbatim text: deep values are never walked (or overflow the stack) here.
        const [open, close] = op.asArray ? ['[', ']'] : ['{"a":', '}'];
        put(s, raw(open.repeat(op.depth) + (jsonText(s.value) || 'null') + close.repeat(op.depth)));
        break;
      }
      case 'nestAny': {
        // Structure-aware: an OTLP attribute value (a KeyValue's "value") nested deeply.
        const values = all.filter((x) => x.key === 'value' && x.parent && !Array.isArray(x.parent));
        const t = values.length ? values[op.at % values.length] : s;
        put(t, deepJsonAnyValue(op.depth, op.kvlist));
        break;
      }
      case 'grow': {
        const arrays = all.filter((x) => Array.isArray(x.value) && (x.value as Json[]).length > 0);
        if (!arrays.length) break;
        const a = arrays[op.at % arrays.length].value as Json[];
        const first = a[0];
        // Bounded: repeated grows multiply, and a document of megabytes tests nothing new.
        if (jsonText(first).length * op.times > 100_000) break;
        for (let i = 1; i < op.times; i++) a.push(cloneJson(first));
        break;
      }
    }
  }
  return doc;
}

/** JSON text of a document, with RawJson values written verbatim. */
export function jsonText(doc: Json): string {
  const raws: string[] = [];
  const text = JSON.stringify(doc, (_k, v: Json) => {
    if (v && typeof v === 'object' && RAW in v) {
      raws.push((v as RawJson)[RAW]);
      return `__fuzz_raw_${raws.length - 1}__`;
    }
    return v;
  });
  if (text === undefined) return '';
  return raws.length ? text.replace(/"__fuzz_raw_(\d+)__"/g, (_m, i: string) => raws[Number(i)]) : text;
}

// ---------------------------------------------------------------------------------------------
// Text (YAML and JSON source)

/** Fragments that mean something to YAML or JSON parsers (or to our ${VAR} interpolation). */
export const TEXT_FRAGMENTS: readonly string[] = [
  '{',
  '}',
  '[',
  ']',
  '"',
  "'",
  ':',
  ': ',
  ',',
  '\\',
  '\n',
  '\n  ',
  '\t',
  ' ',
  '- ',
  '#',
  '&a ',
  '*a',
  '*nope',
  '<<: *a',
  '!!binary ',
  '!!js/function ',
  '!!python/object:os.system ',
  '!custom ',
  '|',
  '>-',
  '? ',
  '%YAML 1.1\n',
  '---\n',
  '\n---\n',
  '...',
  '~',
  '.nan',
  '-.inf',
  '0x1f',
  '0o17',
  '1_000',
  '1e999',
  '-0',
  'yes',
  'off',
  '2001-12-14t21:59:43.10-05:00',
  '${UNSET_FUZZ_VAR}',
  '${FUZZ_VAR:-fallback}',
  '${FUZZ_VAR}',
  '${',
  '$${FUZZ_VAR}',
  '__proto__',
  'constructor',
  '\ufeff',
  '\u0000',
  '\ud800',
  '\u2028',
  'é🚀',
  'x'.repeat(1000),
  '[['.repeat(300),
  '{a: '.repeat(200),
  '- '.repeat(200),
];

export type TextOp =
  | { k: 'insert'; at: number; frag: number }
  | { k: 'delete'; at: number; len: number }
  | { k: 'replaceScalar'; at: number; frag: number }
  | { k: 'dupLine'; at: number }
  | { k: 'indent'; at: number; by: number }
  | { k: 'truncate'; at: number };

export const textOpArb: fc.Arbitrary<TextOp> = fc.oneof(
  fc.record({ k: fc.constant('insert' as const), at: natAt, frag: fc.nat() }),
  fc.record({ k: fc.constant('delete' as const), at: natAt, len: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ k: fc.constant('replaceScalar' as const), at: natAt, frag: fc.nat() }),
  fc.record({ k: fc.constant('dupLine' as const), at: natAt }),
  fc.record({ k: fc.constant('indent' as const), at: natAt, by: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ k: fc.constant('truncate' as const), at: natAt }),
);

export function applyTextOp(text: string, op: TextOp): string {
  const at = op.at % (text.length + 1);
  switch (op.k) {
    case 'insert':
      return text.slice(0, at) + pick(TEXT_FRAGMENTS, op.frag) + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + op.len);
    case 'replaceScalar': {
      // The word (scalar) around the position.
      const m = /[A-Za-z0-9@_.\-${}]+/g;
      const words = [...text.matchAll(m)];
      if (!words.length) return text;
      const w = words[op.at % words.length];
      return text.slice(0, w.index) + pick(TEXT_FRAGMENTS, op.frag) + text.slice(w.index! + w[0].length);
    }
    case 'dupLine':
    case 'indent': {
      const lines = text.split('\n');
      const i = op.at % lines.length;
      if (op.k === 'dupLine') lines.splice(i, 0, lines[i]);
      else lines[i] = op.by >= 0 ? ' '.repeat(op.by) + lines[i] : lines[i].slice(-op.by);
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, at);
  }
}
