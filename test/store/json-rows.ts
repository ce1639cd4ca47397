// Test helper: otel_traces rows as JSONCompactEachRow lines (TRACE_COLUMNS order), the span
// encoding of spool records before Native blocks (format 1). Stores still insert such payloads
// ('tracesJson'); tests build them here, and compare the Native encoding against ClickHouse's
// own parsing of the same rows.
import { toJsonLines } from '../../src/store/rows.js';
import type { OtelTraceRow } from '../../src/store/types.js';

const NANOS = /^\d{1,20}$/;

/** '1700000000123456789' (ns since epoch) -> '1700000000.123456789'. */
function nanosToDateTime64(ns: string): string {
  if (!NANOS.test(ns)) throw new Error(`invalid nanosecond timestamp: ${JSON.stringify(ns).slice(0, 40)}`);
  const padded = ns.length >= 10 ? ns : ns.padStart(10, '0');
  return `${padded.slice(0, -9) || '0'}.${padded.slice(-9)}`;
}

const NO_EVENTS: readonly string[] = Object.freeze([]);

/** One JSONCompactEachRow line of otel_traces, columns in TRACE_COLUMNS order. */
function traceRowCompact(r: OtelTraceRow): string {
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

/** otel_traces rows as JSONCompactEachRow lines (TRACE_COLUMNS). */
export function encodeTraceRowsJson(rows: readonly OtelTraceRow[]): Buffer {
  return toJsonLines(rows, traceRowCompact);
}
