// OTLP spans → `otel_traces` rows, column for column as the OpenTelemetry Collector contrib
// ClickHouse exporter fills them (exporter_traces.go): ids as lowercase hex ('' when all
// zero), SpanKind/StatusCode via ptrace's String() names, attributes via Value.AsString(),
// Timestamp = span start and Duration = end - start, both in nanoseconds.
// Spans the OTLP spec calls invalid (trace id not 16 non-zero bytes, span id not 8 non-zero
// bytes, malformed parent/link ids) are not stored; they are counted for partial_success.
import type { OtelTraceRow } from '../store/types.js';
import { anyValueAsString, attributesToMap, uint64 } from './any-value.js';
import type { ExportTraceRequest, KeyValue, Span } from './otlp-model.js';

// ptrace.SpanKind.String() and ptrace.StatusCode.String().
const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS_CODES = ['Unset', 'Ok', 'Error'];
// Most spans have no events or links: share one frozen empty array instead of six per row.
const NONE = Object.freeze([]) as unknown as never[];

export interface MappedSpans {
  rows: OtelTraceRow[];
  rejected: number;
  /** First reason a span was rejected, for partial_success.error_message. */
  firstError: string;
}

function hex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

function isZero(id: Uint8Array): boolean {
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return false;
  return true;
}

/** traceutil.*IDToHexOrEmptyString: '' for an absent or all-zero id. */
function hexOrEmpty(id: Uint8Array | null | undefined): string {
  return !id || id.length === 0 || isZero(id) ? '' : hex(id);
}

/** Why the span must be rejected, or '' when it is valid. */
function invalidReason(span: Span): string {
  const t = span.traceId;
  if (!t || t.length !== 16) return `trace_id must be 16 bytes, got ${t ? t.length : 0}`;
  if (isZero(t)) return 'trace_id is all zeroes';
  const s = span.spanId;
  if (!s || s.length !== 8) return `span_id must be 8 bytes, got ${s ? s.length : 0}`;
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

function mapSpan(
  span: Span,
  service: string,
  resourceAttributes: Record<string, string>,
  scopeName: string,
  scopeVersion: string,
): OtelTraceRow {
  const start = uint64(span.startTimeUnixNano);
  const end = uint64(span.endTimeUnixNano);
  // The column is UInt64: a span that ends before it starts gets 0 rather than a failed insert.
  const duration = end > start ? end - start : 0n;
  const events = span.events;
  const links = span.links;
  const hasEvents = !!events && events.length > 0;
  const hasLinks = !!links && links.length > 0;
  const status = span.status;
  return {
    Timestamp: start.toString(),
    TraceId: hexOrEmpty(span.traceId),
    SpanId: hexOrEmpty(span.spanId),
    ParentSpanId: hexOrEmpty(span.parentSpanId),
    TraceState: span.traceState ?? '',
    SpanName: span.name ?? '',
    SpanKind: SPAN_KINDS[span.kind ?? 0] ?? '',
    ServiceName: service,
    ResourceAttributes: resourceAttributes,
    ScopeName: scopeName,
    ScopeVersion: scopeVersion,
    SpanAttributes: attributesToMap(span.attributes),
    Duration: duration.toString(),
    StatusCode: STATUS_CODES[status?.code ?? 0] ?? '',
    StatusMessage: status?.message ?? '',
    'Events.Timestamp': hasEvents ? events.map((e) => uint64(e.timeUnixNano).toString()) : NONE,
    'Events.Name': hasEvents ? events.map((e) => e.name ?? '') : NONE,
    'Events.Attributes': hasEvents ? events.map((e) => attributesToMap(e.attributes)) : NONE,
    'Links.TraceId': hasLinks ? links.map((l) => hexOrEmpty(l.traceId)) : NONE,
    'Links.SpanId': hasLinks ? links.map((l) => hexOrEmpty(l.spanId)) : NONE,
    'Links.TraceState': hasLinks ? links.map((l) => l.traceState ?? '') : NONE,
    'Links.Attributes': hasLinks ? links.map((l) => attributesToMap(l.attributes)) : NONE,
  };
}

export function mapTraceRequest(req: ExportTraceRequest): MappedSpans {
  const rows: OtelTraceRow[] = [];
  let rejected = 0;
  let firstError = '';
  for (const rs of req.resourceSpans ?? []) {
    const resAttrs = rs.resource?.attributes;
    const service = serviceName(resAttrs);
    const resourceAttributes = attributesToMap(resAttrs);
    for (const ss of rs.scopeSpans ?? []) {
      const scopeName = ss.scope?.name ?? '';
      const scopeVersion = ss.scope?.version ?? '';
      for (const span of ss.spans ?? []) {
        const reason = invalidReason(span);
        if (reason) {
          rejected++;
          if (!firstError) firstError = reason;
          continue;
        }
        // Rows share the resource map object: it is never mutated after this point.
        rows.push(mapSpan(span, service, resourceAttributes, scopeName, scopeVersion));
      }
    }
  }
  return { rows, rejected, firstError };
}
