// OTLP spans → `otel_traces` rows as one Native block, column for column as the OpenTelemetry
// Collector contrib ClickHouse exporter fills them (exporter_traces.go): ids as lowercase hex
// ('' when all zero), SpanKind/StatusCode via ptrace's String() names, attributes via
// Value.AsString(), Timestamp = span start and Duration = end - start, both in nanoseconds.
// Spans the OTLP spec calls invalid (trace id not 16 non-zero bytes, span id not 8 non-zero
// bytes, malformed parent/link ids) are not stored; they are counted for partial_success.
// The decoded messages are written straight into the block's columns, without a row object
// per span: this is the collector's hottest path (bench/ingest.ts).
import { LowCardinalityColumn, NativeWriter } from '../store/native-writer.js';
import { TRACE_COLUMNS, TRACE_NATIVE_TYPES } from '../store/rows.js';
import { anyValueAsString } from './any-value.js';
import type { ExportTraceRequest, Int64, KeyValue, Span } from './otlp-model.js';

// ptrace.SpanKind.String() and ptrace.StatusCode.String().
const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS_CODES = ['Unset', 'Ok', 'Error'];

export interface EncodedSpans {
  /** One Native block of otel_traces rows (empty when no span was accepted). */
  payload: Buffer;
  rows: number;
  rejected: number;
  /** First reason a span was rejected, for partial_success.error_message. */
  firstError: string;
}

function isZero(id: Uint8Array): boolean {
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return false;
  return true;
}

/** Why the span must be rejected, or '' when it is valid. */
function invalidReason(span: Span): string {
  const t = span.traceId;
  if (t?.length !== 16) return `trace_id must be 16 bytes, got ${t ? t.length : 0}`;
  if (isZero(t)) return 'trace_id is all zeroes';
  const s = span.spanId;
  if (s?.length !== 8) return `span_id must be 8 bytes, got ${s ? s.length : 0}`;
  if (isZero(s)) return 'span_id is all zeroes';
  const p = span.parentSpanId;
  if (p && p.length !== 0 && p.length !== 8) return `parent_span_id must be empty or 8 bytes, got ${p.length}`;
  for (const link of span.links ?? []) {
    const lt = link.traceId;
    if (lt && lt.length !== 0 && lt.length !== 16) return `link trace_id must be 16 bytes, got ${lt.length}`;
    const ls = link.spanId;
    if (ls && ls.length !== 0 && ls.length !== 8) return `link span_id must be 8 bytes, got ${ls.length}`;
  }
  return '';
}

function serviceName(attrs: KeyValue[] | null | undefined): string {
  if (!attrs) return '';
  // pcommon Map.Get returns the first match.
  for (const kv of attrs) if (kv.key === 'service.name') return anyValueAsString(kv.value);
  return '';
}

/**
 * Attribute lists flattened into one keys column (LowCardinality: dictionary indexes) and one
 * values column, with a count per list. A key repeated within a list keeps its first position
 * and its last value (as a map built from it).
 */
class FlatMaps {
  readonly counts: number[] = [];
  readonly keys = new LowCardinalityColumn();
  readonly values: string[] = [];
  // Per key index: the list that last used it and where its value is (duplicate check in O(1)).
  private lastList = new Int32Array(64);
  private valueAt = new Int32Array(64);
  private lists = 0;
  // The last resource list added with addFlat and its key indexes.
  private flatKeys: readonly string[] | undefined;
  private flatIds: number[] = [];

  add(kvs: KeyValue[] | null | undefined): void {
    const start = this.values.length;
    const list = ++this.lists;
    if (kvs) {
      for (let i = 0; i < kvs.length; i++) {
        const id = this.keys.id(kvs[i].key ?? '');
        const value = anyValueAsString(kvs[i].value);
        if (id >= this.lastList.length) this.grow(id);
        if (this.lastList[id] === list) {
          this.values[this.valueAt[id]] = value;
          continue;
        }
        this.lastList[id] = list;
        this.valueAt[id] = this.values.length;
        this.keys.push(id);
        this.values.push(value);
      }
    }
    this.counts.push(this.values.length - start);
  }

  /** Adds a list flattened once before (a resource's attributes, shared by its spans). */
  addFlat(keys: readonly string[], values: readonly string[]): void {
    if (keys !== this.flatKeys) {
      this.flatKeys = keys;
      this.flatIds = keys.map((k) => this.keys.id(k));
    }
    const ids = this.flatIds;
    for (let i = 0; i < ids.length; i++) {
      this.keys.push(ids[i]);
      this.values.push(values[i]);
    }
    this.counts.push(ids.length);
  }

  /** The keys added so far, as strings. */
  keyList(): string[] {
    const { ids, dictionary } = this.keys;
    return Array.from(ids.subarray(0, this.keys.length), (id) => dictionary[id]);
  }

  /** The Map(LowCardinality(String), String) data, after its prefix. */
  write(w: NativeWriter): void {
    w.offsets(this.counts);
    w.lowCardinality(this.keys);
    w.strings(this.values);
  }

  private grow(id: number): void {
    let size = this.lastList.length * 2;
    while (size <= id) size *= 2;
    const last = new Int32Array(size);
    last.set(this.lastList);
    const at = new Int32Array(size);
    at.set(this.valueAt);
    this.lastList = last;
    this.valueAt = at;
  }
}

interface Scope {
  service: string;
  resourceKeys: string[];
  resourceValues: string[];
  name: string;
  version: string;
}

// 64-bit values from their halves without BigInt: Long from protobuf, bigint from JSON.
let hi = 0;
let lo = 0;
function split(v: Int64 | null | undefined): void {
  if (v == null) {
    hi = 0;
    lo = 0;
  } else if (typeof v === 'bigint') {
    const u = BigInt.asUintN(64, v);
    hi = Number(u >> 32n);
    lo = Number(u & 0xffffffffn);
  } else {
    hi = v.high >>> 0;
    lo = v.low >>> 0;
  }
}

/** Unsigned nanoseconds as DateTime64(9) (Int64): saturated past year 2262. */
function writeTime(w: NativeWriter, v: Int64 | null | undefined): void {
  split(v);
  if (hi > 0x7fffffff) w.u64Parts(0x7fffffff, 0xffffffff);
  else w.u64Parts(hi, lo);
}

export function encodeTraceRequest(req: ExportTraceRequest): EncodedSpans {
  const spans: Span[] = [];
  const scopeOf: Scope[] = [];
  let rejected = 0;
  let firstError = '';
  for (const rs of req.resourceSpans ?? []) {
    const resAttrs = rs.resource?.attributes;
    const flat = new FlatMaps();
    flat.add(resAttrs);
    const resourceKeys = flat.keyList();
    for (const ss of rs.scopeSpans ?? []) {
      const scope: Scope = {
        service: serviceName(resAttrs),
        resourceKeys,
        resourceValues: flat.values,
        name: ss.scope?.name ?? '',
        version: ss.scope?.version ?? '',
      };
      for (const span of ss.spans ?? []) {
        const reason = invalidReason(span);
        if (reason) {
          rejected++;
          if (!firstError) firstError = reason;
          continue;
        }
        spans.push(span);
        scopeOf.push(scope);
      }
    }
  }
  const n = spans.length;
  if (n === 0) return { payload: Buffer.alloc(0), rows: 0, rejected, firstError };

  const w = new NativeWriter(1024 + n * 400);
  const col = (name: (typeof TRACE_COLUMNS)[number]) => w.column(name, TRACE_NATIVE_TYPES[name]);
  w.block(TRACE_COLUMNS.length, n);
  col('Timestamp');
  for (let i = 0; i < n; i++) writeTime(w, spans[i].startTimeUnixNano);
  col('TraceId');
  for (let i = 0; i < n; i++) w.hexId(spans[i].traceId);
  col('SpanId');
  for (let i = 0; i < n; i++) w.hexId(spans[i].spanId);
  col('ParentSpanId');
  for (let i = 0; i < n; i++) w.hexId(spans[i].parentSpanId);
  col('TraceState');
  for (let i = 0; i < n; i++) w.string(spans[i].traceState ?? '');
  const lowCardinality = (
    name: 'SpanName' | 'SpanKind' | 'ServiceName' | 'StatusCode',
    value: (i: number) => string,
  ) => {
    col(name);
    w.lowCardinalityStrings(n, value);
  };
  lowCardinality('SpanName', (i) => spans[i].name ?? '');
  lowCardinality('SpanKind', (i) => SPAN_KINDS[spans[i].kind ?? 0] ?? '');
  lowCardinality('ServiceName', (i) => scopeOf[i].service);
  col('ResourceAttributes');
  w.lowCardinalityPrefix();
  const res = new FlatMaps();
  for (let i = 0; i < n; i++) res.addFlat(scopeOf[i].resourceKeys, scopeOf[i].resourceValues);
  res.write(w);
  col('ScopeName');
  for (let i = 0; i < n; i++) w.string(scopeOf[i].name);
  col('ScopeVersion');
  for (let i = 0; i < n; i++) w.string(scopeOf[i].version);
  col('SpanAttributes');
  w.lowCardinalityPrefix();
  const attrs = new FlatMaps();
  for (let i = 0; i < n; i++) attrs.add(spans[i].attributes);
  attrs.write(w);
  col('Duration');
  for (let i = 0; i < n; i++) writeDuration(w, spans[i]);
  lowCardinality('StatusCode', (i) => STATUS_CODES[spans[i].status?.code ?? 0] ?? '');
  col('StatusMessage');
  for (let i = 0; i < n; i++) w.string(spans[i].status?.message ?? '');
  writeEventsAndLinks(w, spans, col);
  return { payload: w.finish(), rows: n, rejected, firstError };
}

/** end - start in nanoseconds; a span that ends before it starts gets 0 (the column is UInt64). */
function writeDuration(w: NativeWriter, span: Span): void {
  split(span.startTimeUnixNano);
  const sHi = hi;
  const sLo = lo;
  split(span.endTimeUnixNano);
  if (hi < sHi || (hi === sHi && lo <= sLo)) return w.u64Parts(0, 0);
  const borrow = lo < sLo ? 1 : 0;
  w.u64Parts(hi - sHi - borrow, (lo - sLo + 0x1_0000_0000) % 0x1_0000_0000);
}

type Col = (name: (typeof TRACE_COLUMNS)[number]) => void;

/** The Events.* and Links.* columns: arrays of per-span lists, one offsets column each. */
function writeEventsAndLinks(w: NativeWriter, spans: Span[], col: Col): void {
  // Array(LowCardinality(...)) and Array(Map(LowCardinality(String), ...)): the prefix goes first.
  const array = <T>(
    name: Parameters<Col>[0],
    counts: number[],
    list: (s: Span) => readonly T[] | null | undefined,
    write: (x: T) => void,
    lcPrefix = false,
  ) => {
    col(name);
    if (lcPrefix) w.lowCardinalityPrefix();
    w.offsets(counts);
    for (const s of spans) for (const x of list(s) ?? []) write(x);
  };
  const attributeMaps = <T extends { attributes?: KeyValue[] | null }>(
    name: Parameters<Col>[0],
    counts: number[],
    list: (s: Span) => readonly T[] | null | undefined,
  ) => {
    const maps = new FlatMaps();
    array(name, counts, list, (x) => maps.add(x.attributes), true);
    maps.write(w);
  };
  const events = (s: Span) => s.events;
  const eventCounts = spans.map((s) => s.events?.length ?? 0);
  array('Events.Timestamp', eventCounts, events, (e) => writeTime(w, e.timeUnixNano));
  const names = new LowCardinalityColumn();
  array('Events.Name', eventCounts, events, (e) => names.add(e.name ?? ''), true);
  w.lowCardinality(names);
  attributeMaps('Events.Attributes', eventCounts, events);
  const links = (s: Span) => s.links;
  const linkCounts = spans.map((s) => s.links?.length ?? 0);
  array('Links.TraceId', linkCounts, links, (l) => w.hexId(l.traceId));
  array('Links.SpanId', linkCounts, links, (l) => w.hexId(l.spanId));
  array('Links.TraceState', linkCounts, links, (l) => w.string(l.traceState ?? ''));
  attributeMaps('Links.Attributes', linkCounts, links);
}
