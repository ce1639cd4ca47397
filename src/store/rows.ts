// Serialises store rows into the payloads stores insert. Spans go as one ClickHouse Native block
// (columnar, binary: the engine reads it at a fraction of a text format's cost; see
// native-writer.ts); the collector's hot path writes the same block straight from decoded OTLP
// (collector/map-spans.ts), this module from row objects (insertTraces, legacy spool segments).
// Spool records written before Native (format 1) hold JSONCompactEachRow lines: stores still
// insert them ('tracesJson'). Feedback goes as JSONEachRow: JSON escaping makes any string safe,
// and ClickHouse parses "seconds.fraction" into DateTime64 exactly.
import { LowCardinalityColumn, NativeWriter } from './native-writer.js';
import type { FeedbackRow, OtelTraceRow } from './types.js';

function millisToDateTime64(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`invalid millisecond timestamp: ${ms}`);
  const whole = Math.floor(ms);
  return `${Math.floor(whole / 1000)}.${String(whole % 1000).padStart(3, '0')}`;
}

/** otel_traces columns in the order the span encodings write them. */
export const TRACE_COLUMNS = [
  'Timestamp',
  'TraceId',
  'SpanId',
  'ParentSpanId',
  'TraceState',
  'SpanName',
  'SpanKind',
  'ServiceName',
  'ResourceAttributes',
  'ScopeName',
  'ScopeVersion',
  'SpanAttributes',
  'Duration',
  'StatusCode',
  'StatusMessage',
  'Events.Timestamp',
  'Events.Name',
  'Events.Attributes',
  'Links.TraceId',
  'Links.SpanId',
  'Links.TraceState',
  'Links.Attributes',
] as const satisfies readonly (keyof OtelTraceRow)[];

/**
 * The Native type each otel_traces column is sent as: the table's own types (so the engine
 * converts nothing), without its codecs.
 */
export const TRACE_NATIVE_TYPES: Readonly<Record<(typeof TRACE_COLUMNS)[number], string>> = {
  Timestamp: 'DateTime64(9)',
  TraceId: 'String',
  SpanId: 'String',
  ParentSpanId: 'String',
  TraceState: 'String',
  SpanName: 'LowCardinality(String)',
  SpanKind: 'LowCardinality(String)',
  ServiceName: 'LowCardinality(String)',
  ResourceAttributes: 'Map(LowCardinality(String), String)',
  ScopeName: 'String',
  ScopeVersion: 'String',
  SpanAttributes: 'Map(LowCardinality(String), String)',
  Duration: 'UInt64',
  StatusCode: 'LowCardinality(String)',
  StatusMessage: 'String',
  'Events.Timestamp': 'Array(DateTime64(9))',
  'Events.Name': 'Array(LowCardinality(String))',
  'Events.Attributes': 'Array(Map(LowCardinality(String), String))',
  'Links.TraceId': 'Array(String)',
  'Links.SpanId': 'Array(String)',
  'Links.TraceState': 'Array(String)',
  'Links.Attributes': 'Array(Map(LowCardinality(String), String))',
};

export function feedbackRowJson(row: FeedbackRow): string {
  return JSON.stringify({ ...row, Timestamp: millisToDateTime64(row.Timestamp) });
}

/** One line per row, newline-terminated, as one Buffer. */
export function toJsonLines<T>(rows: readonly T[], line: (row: T) => string): Buffer {
  const lines = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) lines[i] = line(rows[i]);
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/**
 * otel_traces rows as the bytes every store's insertEncoded('traces', …) takes: one Native
 * block, columns in TRACE_COLUMNS order. Blocks concatenate: a spool segment of several is
 * itself a valid Native payload.
 */
export function encodeTraceRows(rows: readonly OtelTraceRow[]): Buffer {
  const n = rows.length;
  const w = new NativeWriter(1024 + n * 400);
  w.block(TRACE_COLUMNS.length, n);
  const col = (name: (typeof TRACE_COLUMNS)[number]) => w.column(name, TRACE_NATIVE_TYPES[name]);
  const strings = (
    name: 'TraceId' | 'SpanId' | 'ParentSpanId' | 'TraceState' | 'ScopeName' | 'ScopeVersion' | 'StatusMessage',
  ) => {
    col(name);
    for (let i = 0; i < n; i++) w.string(rows[i][name]);
  };
  const lowCardinality = (name: 'SpanName' | 'SpanKind' | 'ServiceName' | 'StatusCode') => {
    col(name);
    w.lowCardinalityStrings(n, (i) => rows[i][name]);
  };
  const maps = (name: 'ResourceAttributes' | 'SpanAttributes') => {
    col(name);
    w.lowCardinalityPrefix();
    w.maps(rows.map((r) => r[name]));
  };
  col('Timestamp');
  for (let i = 0; i < n; i++) w.dateTime64ns(rows[i].Timestamp);
  strings('TraceId');
  strings('SpanId');
  strings('ParentSpanId');
  strings('TraceState');
  lowCardinality('SpanName');
  lowCardinality('SpanKind');
  lowCardinality('ServiceName');
  maps('ResourceAttributes');
  strings('ScopeName');
  strings('ScopeVersion');
  maps('SpanAttributes');
  col('Duration');
  for (let i = 0; i < n; i++) w.uint64(rows[i].Duration);
  lowCardinality('StatusCode');
  strings('StatusMessage');
  // Nested columns are arrays of equal length per row: one offsets column each.
  const eventCounts = Uint32Array.from(rows, (r) => r['Events.Timestamp'].length);
  col('Events.Timestamp');
  w.offsets(eventCounts);
  for (const r of rows) for (const t of r['Events.Timestamp']) w.dateTime64ns(t);
  col('Events.Name');
  w.lowCardinalityPrefix();
  w.offsets(eventCounts);
  const names = new LowCardinalityColumn();
  for (const r of rows) for (const name of r['Events.Name']) names.add(name);
  w.lowCardinality(names);
  col('Events.Attributes');
  w.lowCardinalityPrefix();
  w.offsets(eventCounts);
  w.maps(rows.flatMap((r) => r['Events.Attributes']));
  const linkCounts = Uint32Array.from(rows, (r) => r['Links.TraceId'].length);
  for (const name of ['Links.TraceId', 'Links.SpanId', 'Links.TraceState'] as const) {
    col(name);
    w.offsets(linkCounts);
    for (const r of rows) for (const v of r[name]) w.string(v);
  }
  col('Links.Attributes');
  w.lowCardinalityPrefix();
  w.offsets(linkCounts);
  w.maps(rows.flatMap((r) => r['Links.Attributes']));
  return w.finish();
}

/** llm_feedback rows as the bytes insertEncoded('feedback', …) takes (JSONEachRow). */
export function encodeFeedbackRows(rows: readonly FeedbackRow[]): Buffer {
  return toJsonLines(rows, feedbackRowJson);
}

/** ' (`a`, `b`)' for an INSERT's column list ('' without columns). */
export function columnList(columns: readonly string[] | undefined): string {
  return columns ? ` (${columns.map((c) => `\`${c}\``).join(', ')})` : '';
}

/** Which rows an encoded payload holds, and its ClickHouse input format. */
export const ENCODED = {
  traces: { table: 'otel_traces', format: 'Native', columns: TRACE_COLUMNS },
  /** Spool records written by versions before Native. */
  tracesJson: { table: 'otel_traces', format: 'JSONCompactEachRow', columns: TRACE_COLUMNS },
  feedback: { table: 'llm_feedback', format: 'JSONEachRow', columns: undefined },
} as const;
export type EncodedKind = keyof typeof ENCODED;
