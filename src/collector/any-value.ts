// OTLP attribute values flattened to strings exactly as the Go collector's pcommon
// Value.AsString() does, because the ClickHouse exporter stores attributes that way:
// strings as is, ints in decimal, bools true/false, doubles in ES6 number format, bytes as
// standard base64, arrays and maps as Go encoding/json text (sorted keys, HTML-safe escapes).
import type { AnyValue, Int64, KeyValue } from './otlp-model.js';

/** Unsigned 64-bit value (fixed64 timestamps). */
export function uint64(v: Int64 | null | undefined): bigint {
  if (v == null) return 0n;
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  return (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
}

/** Signed 64-bit value (AnyValue.int_value). */
export function int64(v: Int64 | null | undefined): bigint {
  return BigInt.asIntN(64, uint64(v));
}

/** Go's strconv float formatting as used by pcommon (ES6 style), including "-0". */
function float64String(f: number): string {
  if (Object.is(f, -0)) return '-0';
  return String(f);
}

function nonFinite(f: number): string {
  // Go: fmt.Sprintf("json: unsupported value: %s", strconv.FormatFloat(f, 'g', -1, 64))
  const g = Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf';
  return `json: unsupported value: ${g}`;
}

const htmlUnsafe = /[<>&\u2028\u2029]/g;

/** encoding/json string escaping: JSON.stringify plus Go's HTML-safe escapes. */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(htmlUnsafe, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const hasOwn = Object.prototype.hasOwnProperty;
const ONEOF = [
  'stringValue',
  'intValue',
  'boolValue',
  'doubleValue',
  'arrayValue',
  'kvlistValue',
  'bytesValue',
] as const;

function kindOf(v: AnyValue): string | undefined {
  // Values from the JSON decoder carry `value` as an own property. protobufjs messages expose
  // it as a prototype getter that allocates on every call; in them, only the member that was
  // on the wire is an own property, so look for it directly (hot path: one check for strings).
  if (hasOwn.call(v, 'value')) return v.value || undefined;
  for (let i = 0; i < ONEOF.length; i++) if (hasOwn.call(v, ONEOF[i])) return ONEOF[i];
  return undefined;
}

class UnsupportedJson extends Error {}

/** Encodes the value as Go's json.Marshal(value.AsRaw()) would. */
function toGoJson(v: AnyValue | null | undefined): string {
  if (!v) return 'null';
  switch (kindOf(v)) {
    case 'stringValue':
      return goJsonString(v.stringValue ?? '');
    case 'boolValue':
      return v.boolValue ? 'true' : 'false';
    case 'intValue':
      return int64(v.intValue).toString();
    case 'doubleValue': {
      const f = v.doubleValue ?? 0;
      if (!Number.isFinite(f)) throw new UnsupportedJson();
      return float64String(f);
    }
    case 'bytesValue':
      return `"${base64(v.bytesValue)}"`;
    case 'arrayValue':
      return `[${(v.arrayValue?.values ?? []).map(toGoJson).join(',')}]`;
    case 'kvlistValue':
      return mapJson(v.kvlistValue?.values ?? []);
    default:
      return 'null';
  }
}

function mapJson(kvs: KeyValue[]): string {
  // pcommon Map.AsRaw() keeps the last value of a repeated key; encoding/json sorts keys.
  const byKey = new Map<string, AnyValue | null | undefined>();
  for (const kv of kvs) byKey.set(kv.key, kv.value);
  const keys = [...byKey.keys()].sort(compareUtf8);
  return `{${keys.map((k) => `${goJsonString(k)}:${toGoJson(byKey.get(k))}`).join(',')}}`;
}

/** Go sorts map keys by their bytes; for UTF-16 strings that is code point order. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function base64(bytes: Uint8Array | null | undefined): string {
  if (!bytes || bytes.length === 0) return '';
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** pcommon Value.AsString(). */
export function anyValueAsString(v: AnyValue | null | undefined): string {
  if (!v) return '';
  switch (kindOf(v)) {
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ? 'true' : 'false';
    case 'intValue':
      return int64(v.intValue).toString();
    case 'doubleValue': {
      const f = v.doubleValue ?? 0;
      return Number.isFinite(f) ? float64String(f) : nonFinite(f);
    }
    case 'bytesValue':
      return base64(v.bytesValue);
    case 'arrayValue':
    case 'kvlistValue':
      try {
        return toGoJson(v);
      } catch (err) {
        // json.Marshal fails on NaN/Inf inside a container; AsString then yields "".
        if (err instanceof UnsupportedJson) return '';
        throw err;
      }
    default:
      return '';
  }
}
