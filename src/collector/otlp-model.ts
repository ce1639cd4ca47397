// The in-memory shape of an OTLP ExportTraceServiceRequest that the mapper reads. It is the
// shape protobufjs decodes to (camelCase fields, bytes as Uint8Array, 64-bit ints as Long);
// the JSON decoder converts OTLP/JSON into the same shape so one mapper serves both.

/** protobufjs' Long (or anything carrying the two 32-bit halves). */
export interface LongBits {
  low: number;
  high: number;
}

/** A 64-bit integer: Long from protobuf, bigint from JSON. */
export type Int64 = LongBits | bigint;

export type AnyValueKind =
  | 'stringValue'
  | 'boolValue'
  | 'intValue'
  | 'doubleValue'
  | 'arrayValue'
  | 'kvlistValue'
  | 'bytesValue';

export interface AnyValue {
  /** Which member of the `value` oneof is set; protobufjs exposes it as a virtual getter. */
  value?: AnyValueKind | string;
  stringValue?: string;
  boolValue?: boolean;
  intValue?: Int64;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] | null } | null;
  kvlistValue?: { values?: KeyValue[] | null } | null;
  bytesValue?: Uint8Array;
}

export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}

export interface SpanEvent {
  timeUnixNano?: Int64 | null;
  name?: string;
  attributes?: KeyValue[] | null;
}

export interface SpanLink {
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
  traceState?: string;
  attributes?: KeyValue[] | null;
}

export interface Span {
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
  traceState?: string;
  parentSpanId?: Uint8Array | null;
  name?: string;
  kind?: number;
  startTimeUnixNano?: Int64 | null;
  endTimeUnixNano?: Int64 | null;
  attributes?: KeyValue[] | null;
  events?: SpanEvent[] | null;
  links?: SpanLink[] | null;
  status?: { code?: number; message?: string } | null;
}

export interface ScopeSpans {
  scope?: { name?: string; version?: string } | null;
  spans?: Span[] | null;
}

export interface ResourceSpans {
  resource?: { attributes?: KeyValue[] | null } | null;
  scopeSpans?: ScopeSpans[] | null;
}

export interface ExportTraceRequest {
  resourceSpans?: ResourceSpans[] | null;
}
