// Serialises store rows for chdb's raw insert. JSON escaping makes any string (quotes,
// newlines, NULs, unicode) safe, and ClickHouse parses "seconds.fraction" into DateTime64
// exactly, which a nanosecond integer is not (it would be read as seconds).
// Spans go as JSONCompactEachRow (one JSON array per row, columns named once in the INSERT):
// one JSON.stringify of a flat array per row, ~30% less JS time and ~15% less engine parsing
// than JSONEachRow objects for the same rows (bench/ingest.ts, 4096-row batches).
import type { FeedbackRow, OtelTraceRow } from './types.js';

const NANOS = /^\d{1,20}$/;

/** '1700000000123456789' (ns since epoch) -> '1700000000.123456789'. */
export function nanosToDateTime64(ns: string): string {
  if (!NANOS.test(ns)) throw new Error(`invalid nanosecond timestamp: ${JSON.stringify(ns).slice(0, 40)}`);
  const padded = ns.length >= 10 ? ns : ns.padStart(10, '0');
  return `${padded.slice(0, -9) || '0'}.${padded.slice(-9)}`;
}

function millisToDateTime64(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`invalid millisecond timestamp: ${ms}`);
  const whole = Math.floor(ms);
  return `${Math.floor(whole / 1000)}.${String(whole % 1000).padStart(3, '0')}`;
}

/** otel_traces columns in the order traceRowCompact writes them. */
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

const NO_EVENTS: readonly string[] = Object.freeze([]);

/** One JSONCompactEachRow line of otel_traces, columns in TRACE_COLUMNS order. */
export function traceRowCompact(r: OtelTraceRow): string {
  const ev = r['Events.Timestamp'];
  return JSON.stringify([
    nanosToDateTime64(r.Timestamp),
    r.TraceId,
    r.SpanId,
    r.ParentSpanId,
    r.TraceState,
    r.SpanName,
    r.SpanKind,
    r.ServiceName,
    r.ResourceAttributes,
    r.ScopeName,
    r.ScopeVersion,
    r.SpanAttributes,
    r.Duration,
    r.StatusCode,
    r.StatusMessage,
    ev.length === 0 ? NO_EVENTS : ev.map(nanosToDateTime64),
    r['Events.Name'],
    r['Events.Attributes'],
    r['Links.TraceId'],
    r['Links.SpanId'],
    r['Links.TraceState'],
    r['Links.Attributes'],
  ]);
}

export function feedbackRowJson(row: FeedbackRow): string {
  return JSON.stringify({ ...row, Timestamp: millisToDateTime64(row.Timestamp) });
}

/** One line per row, newline-terminated, as one Buffer. */
export function toJsonLines<T>(rows: readonly T[], line: (row: T) => string): Buffer {
  const lines = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) lines[i] = line(rows[i]);
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

/** otel_traces rows as the bytes every store's insertEncoded('traces', …) takes (JSONCompactEachRow, TRACE_COLUMNS). */
export function encodeTraceRows(rows: readonly OtelTraceRow[]): Buffer {
  return toJsonLines(rows, traceRowCompact);
}

/** llm_feedback rows as the bytes insertEncoded('feedback', …) takes (JSONEachRow). */
export function encodeFeedbackRows(rows: readonly FeedbackRow[]): Buffer {
  return toJsonLines(rows, feedbackRowJson);
}

/** Which rows an encoded payload holds, and its ClickHouse input format. */
export const ENCODED = {
  traces: { table: 'otel_traces', format: 'JSONCompactEachRow', columns: TRACE_COLUMNS },
  feedback: { table: 'llm_feedback', format: 'JSONEachRow', columns: undefined },
} as const;
export type EncodedKind = keyof typeof ENCODED;
