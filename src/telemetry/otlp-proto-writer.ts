// OTLP/protobuf ExportTraceServiceRequest written straight from the SDK's ReadableSpan[] in one
// pass: no intermediate object tree and no size-estimating first pass. Submessages reserve one
// byte for their length and are back-patched (shifted when the length needs more bytes), into a
// buffer reused across calls; the result is a copy of exactly the written bytes.
//
// The output is byte-for-byte what @opentelemetry/otlp-transformer's ProtobufTraceSerializer
// (0.223) writes for the same spans: the same field order, the same fields written when empty
// (dropped counts, status code, the resource's dropped count), the same grouping (resource, then
// instrumentation scope, by object identity, in first-seen order) and the same AnyValue mapping
// (integers within int64 as int_value, other numbers as double_value, Uint8Array as bytes_value,
// arrays, plain objects as kvlist_value, null and undefined as an empty AnyValue).
// test/telemetry/otlp-proto-writer.test.ts holds it to that.
// Field numbers: opentelemetry/proto/{trace,common,resource}/v1/*.proto (src/collector/proto).
import type { AttributeValue, Attributes, HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

const INITIAL = 1 << 16;
/** Past this the buffer is let go after the call instead of kept for the next one. */
const KEEP = 1 << 22;

let buf = Buffer.allocUnsafe(INITIAL);
let pos = 0;
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

function need(n: number): void {
  if (pos + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const next = Buffer.allocUnsafe(size);
  buf.copy(next, 0, 0, pos);
  buf = next;
}

/** Unsigned 32-bit varint; the caller made room (5 bytes at most). */
function varint(v: number): void {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
}

/** A varint from any JS number as protobuf int64 (two's complement when negative), as the SDK does. */
function varint64(value: number): void {
  need(10);
  if (value >= 0 && value <= 0xffffffff) return varint(value >>> 0);
  let low: number;
  let high: number;
  if (value >= 0) {
    low = value >>> 0;
    high = (value / 0x100000000) >>> 0;
  } else {
    const abs = Math.abs(value);
    low = ~(abs >>> 0) >>> 0;
    high = ~((abs / 0x100000000) >>> 0) >>> 0;
    low = (low + 1) >>> 0;
    if (low === 0) high = (high + 1) >>> 0;
  }
  while (high > 0 || low > 0x7f) {
    buf[pos++] = (low & 0x7f) | 0x80;
    low = ((low >>> 7) | (high << 25)) >>> 0;
    high >>>= 7;
  }
  buf[pos++] = low;
}

/** Starts a length-delimited submessage after its tag; returns where its length goes. */
function open(): number {
  need(1);
  return pos++;
}

/** Writes the length reserved at `at`, moving the body when the length takes more than one byte. */
function close(at: number): void {
  const len = pos - at - 1;
  if (len < 0x80) {
    buf[at] = len;
    return;
  }
  const extra = len < 0x4000 ? 1 : len < 0x200000 ? 2 : len < 0x10000000 ? 3 : 4;
  need(extra);
  buf.copyWithin(at + 1 + extra, at + 1, pos);
  pos += extra;
  let p = at;
  let v = len;
  while (v > 0x7f) {
    buf[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[p] = v;
}

/** A string field's bytes (length + UTF-8) after its tag: short ASCII in JS, the rest natively. */
function str(s: string): void {
  const n = s.length;
  if (n >= 0x80) return strNative(s);
  if (pos + n + 1 > buf.length) need(n + 1);
  const b = buf;
  let p = pos;
  b[p++] = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return strNative(s);
    b[p++] = c;
  }
  pos = p;
}

function strNative(s: string): void {
  const len = Buffer.byteLength(s, 'utf8');
  need(len + 5);
  varint(len);
  pos += buf.write(s, pos, len, 'utf8');
}

/** Hex digit values by char code, as the SDK reads them (other characters as `code - 55`). */
const HEX = new Int16Array(256);
for (let c = 0; c < 256; c++) HEX[c] = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c - 55;

function hexNibble(c: number): number {
  return c < 256 ? HEX[c] : c - 55;
}

/** A bytes field from a hex id (trace/span id), tag included. */
function hexField(tag: number, hex: string): void {
  const n = hex.length >> 1;
  need(n + 6);
  buf[pos++] = tag;
  varint(n);
  const b = buf;
  let p = pos;
  for (let i = 0; i < 2 * n; i += 2) b[p++] = (hexNibble(hex.charCodeAt(i)) << 4) | hexNibble(hex.charCodeAt(i + 1));
  pos = p;
}

function fixed32(v: number): void {
  buf[pos++] = v & 0xff;
  buf[pos++] = (v >>> 8) & 0xff;
  buf[pos++] = (v >>> 16) & 0xff;
  buf[pos++] = (v >>> 24) & 0xff;
}

/** HrTime as fixed64 unix nanos, tag included; exact past 2^53 ns (the SDK's arithmetic). */
function timeField(tag: number, t: HrTime): void {
  need(9);
  buf[pos++] = tag;
  const seconds = t[0];
  const lower = (seconds & 0xffff) * 1e9;
  const upper = ((seconds / 0x10000) >>> 0) * 1e9;
  const lowWithCarry = (lower >>> 0) + (((upper & 0xffff) * 0x10000) >>> 0) + t[1];
  const high =
    (Math.floor(lower / 0x100000000) + ((upper / 0x10000) >>> 0) + Math.floor(lowWithCarry / 0x100000000)) >>> 0;
  fixed32(lowWithCarry >>> 0);
  fixed32(high);
}

/** A uint32 field written even when 0 (as the SDK writes dropped counts). */
function countField(tag: number, v: number): void {
  need(11);
  buf[pos++] = tag;
  varint64(v);
}

function anyValue(value: unknown): void {
  const t = typeof value;
  if (t === 'string') {
    need(1);
    buf[pos++] = 0x0a;
    str(value as string);
  } else if (t === 'boolean') {
    need(2);
    buf[pos++] = 0x10;
    buf[pos++] = value ? 1 : 0;
  } else if (t === 'number') {
    const v = value as number;
    if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63) {
      need(1);
      buf[pos++] = 0x18;
      varint64(v);
    } else {
      need(9);
      buf[pos++] = 0x21;
      f64[0] = v;
      for (let i = 0; i < 8; i++) buf[pos++] = f64Bytes[i];
    }
  } else if (value instanceof Uint8Array) {
    need(value.length + 6);
    buf[pos++] = 0x3a;
    varint(value.length);
    buf.set(value, pos);
    pos += value.length;
  } else if (Array.isArray(value)) {
    need(1);
    buf[pos++] = 0x2a;
    const arr = open();
    for (const item of value) {
      need(1);
      buf[pos++] = 0x0a;
      const at = open();
      anyValue(item);
      close(at);
    }
    close(arr);
  } else if (t === 'object' && value !== null) {
    need(1);
    buf[pos++] = 0x32;
    const list = open();
    attributes(0x0a, value as Attributes);
    close(list);
  }
}

/** KeyValue.key with its tag and length, then AnyValue's tag, encoded once per attribute name. */
const keyPrefixes = new Map<string, Uint8Array>();
const KEY_CACHE_MAX = 4096;

function keyPrefix(key: string): Uint8Array | undefined {
  const cached = keyPrefixes.get(key);
  if (cached !== undefined || keyPrefixes.size >= KEY_CACHE_MAX) return cached;
  const utf8 = Buffer.from(key, 'utf8');
  if (utf8.length >= 0x80) return undefined;
  const prefix = new Uint8Array(utf8.length + 3);
  prefix[0] = 0x0a;
  prefix[1] = utf8.length;
  prefix.set(utf8, 2);
  prefix[utf8.length + 2] = 0x12;
  keyPrefixes.set(key, prefix);
  return prefix;
}

/** Repeated KeyValue under `tag`: own enumerable keys in order. */
function attributes(tag: number, attrs: Attributes): void {
  for (const key in attrs) {
    if (!Object.hasOwn(attrs, key)) continue;
    const prefix = keyPrefix(key);
    let kv: number;
    if (prefix !== undefined) {
      const n = prefix.length;
      if (pos + n + 3 > buf.length) need(n + 3);
      const b = buf;
      let p = pos;
      b[p++] = tag;
      kv = p++;
      b.set(prefix, p);
      pos = p + n;
    } else {
      need(3);
      buf[pos++] = tag;
      kv = pos++;
      buf[pos++] = 0x0a;
      str(key);
      need(1);
      buf[pos++] = 0x12;
    }
    const v = open();
    anyValue(attrs[key] as AttributeValue | undefined);
    close(v);
    close(kv);
  }
}

/** OTLP span flags: W3C trace flags, "has is_remote", and is_remote. */
function flagsOf(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);
}

function event(e: TimedEvent): void {
  need(1);
  buf[pos++] = 0x5a;
  const at = open();
  timeField(0x09, e.time);
  need(1);
  buf[pos++] = 0x12;
  str(e.name);
  if (e.attributes) attributes(0x1a, e.attributes);
  countField(0x20, e.droppedAttributesCount || 0);
  close(at);
}

/** trace_id, span_id and trace_state: fields 1-3 of both Span and Span.Link. */
function ids(ctx: SpanContext): void {
  hexField(0x0a, ctx.traceId);
  hexField(0x12, ctx.spanId);
  const ts = ctx.traceState?.serialize();
  if (ts) {
    need(1);
    buf[pos++] = 0x1a;
    str(ts);
  }
}

function link(l: Link): void {
  need(1);
  buf[pos++] = 0x6a;
  const at = open();
  const ctx: SpanContext = l.context;
  ids(ctx);
  if (l.attributes) attributes(0x22, l.attributes);
  countField(0x28, l.droppedAttributesCount || 0);
  need(5);
  buf[pos++] = 0x35;
  fixed32(flagsOf(ctx.traceFlags, ctx.isRemote));
  close(at);
}

function span(s: ReadableSpan): void {
  need(1);
  buf[pos++] = 0x12; // ScopeSpans.spans
  const at = open();
  const ctx = s.spanContext();
  ids(ctx);
  const parent = s.parentSpanContext;
  if (parent?.spanId) hexField(0x22, parent.spanId);
  need(1);
  buf[pos++] = 0x2a;
  str(s.name);
  const kind = s.kind == null ? 0 : s.kind + 1;
  if (kind !== 0) {
    need(2);
    buf[pos++] = 0x30;
    varint(kind);
  }
  timeField(0x39, s.startTime);
  timeField(0x41, s.endTime);
  if (s.attributes) attributes(0x4a, s.attributes);
  countField(0x50, s.droppedAttributesCount);
  for (const e of s.events) event(e);
  countField(0x60, s.droppedEventsCount);
  for (const l of s.links) link(l);
  countField(0x70, s.droppedLinksCount);
  need(1);
  buf[pos++] = 0x7a;
  const status = open();
  if (s.status.message) {
    need(1);
    buf[pos++] = 0x12;
    str(s.status.message);
  }
  countField(0x18, s.status.code);
  close(status);
  need(6);
  buf[pos++] = 0x85;
  buf[pos++] = 0x01;
  fixed32(flagsOf(ctx.traceFlags, parent?.isRemote));
  close(at);
}

/** Scope attributes are newer than the SDK's InstrumentationScope type; written when present. */
type Scope = ReadableSpan['instrumentationScope'] & { attributes?: Attributes; droppedAttributesCount?: number };
type Resource = ReadableSpan['resource'];

function scopeSpans(scope: Scope, spans: ReadableSpan[]): void {
  need(4);
  buf[pos++] = 0x12; // ResourceSpans.scope_spans
  const at = open();
  buf[pos++] = 0x0a; // ScopeSpans.scope
  const sc = open();
  need(1);
  buf[pos++] = 0x0a;
  str(scope.name);
  if (scope.version) {
    need(1);
    buf[pos++] = 0x12;
    str(scope.version);
  }
  if (scope.attributes) attributes(0x1a, scope.attributes);
  if (scope.droppedAttributesCount) countField(0x20, scope.droppedAttributesCount);
  close(sc);
  for (const s of spans) span(s);
  if (scope.schemaUrl) {
    need(1);
    buf[pos++] = 0x1a;
    str(scope.schemaUrl);
  }
  close(at);
}

function resourceSpans(resource: Resource, scopes: Map<Scope, ReadableSpan[]>): void {
  need(4);
  buf[pos++] = 0x0a; // ExportTraceServiceRequest.resource_spans
  const at = open();
  buf[pos++] = 0x0a; // ResourceSpans.resource
  const res = open();
  const attrs = resource.attributes;
  if (attrs) attributes(0x0a, attrs);
  need(2);
  buf[pos++] = 0x10; // Resource.dropped_attributes_count: the SDK always writes 0
  buf[pos++] = 0;
  close(res);
  for (const [scope, spans] of scopes) scopeSpans(scope, spans);
  if (resource.schemaUrl) {
    need(1);
    buf[pos++] = 0x1a;
    str(resource.schemaUrl);
  }
  close(at);
}

/** ExportTraceServiceRequest bytes for these spans (what ProtobufTraceSerializer.serializeRequest returns). */
export function encodeTraceRequest(spans: ReadableSpan[]): Uint8Array {
  const groups = new Map<Resource, Map<Scope, ReadableSpan[]>>();
  for (const s of spans) {
    let scopes = groups.get(s.resource);
    if (!scopes) groups.set(s.resource, (scopes = new Map()));
    const list = scopes.get(s.instrumentationScope);
    if (list) list.push(s);
    else scopes.set(s.instrumentationScope, [s]);
  }
  pos = 0;
  for (const [resource, scopes] of groups) resourceSpans(resource, scopes);
  const out = new Uint8Array(pos);
  out.set(buf.subarray(0, pos));
  if (buf.length > KEEP) buf = Buffer.allocUnsafe(INITIAL);
  return out;
}
