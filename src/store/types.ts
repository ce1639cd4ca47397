// The seam between the collector (writer) and the stores (embedded chdb, remote ClickHouse).
// Rows use the OpenTelemetry Collector ClickHouse exporter's `otel_traces` column names.

/** One row of `otel_traces`, as the OTel Collector ClickHouse exporter writes it. */
export interface OtelTraceRow {
  /** Span start, nanoseconds since the epoch as a decimal string (DateTime64(9)). */
  Timestamp: string;
  TraceId: string; // 32 lowercase hex chars
  SpanId: string; // 16 lowercase hex chars
  ParentSpanId: string; // '' for a root span
  TraceState: string;
  SpanName: string;
  SpanKind: string; // 'Server' | 'Client' | 'Internal' | 'Producer' | 'Consumer' | 'Unspecified'
  ServiceName: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Record<string, string>;
  Duration: string; // nanoseconds (UInt64) as a decimal string
  StatusCode: string; // 'Ok' | 'Error' | 'Unset'
  StatusMessage: string;
  'Events.Timestamp': string[];
  'Events.Name': string[];
  'Events.Attributes': Record<string, string>[];
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': Record<string, string>[];
}

/** One row of `llm_feedback`. */
export interface FeedbackRow {
  /** Milliseconds since the epoch. */
  Timestamp: number;
  /** The x-switchyard-trace-id value the feedback is about. */
  TraceId: string;
  Value: number; // -10..10
  Weight: number; // 0..1
  Metadata: Record<string, string>;
}

export interface SpanStore {
  /** Insert a batch; resolves when the store has durably accepted it, rejects otherwise. */
  insertTraces(rows: OtelTraceRow[]): Promise<void>;
  insertFeedback(rows: FeedbackRow[]): Promise<void>;
  /**
   * Insert rows already encoded by encodeTraceRows / encodeFeedbackRows (src/store/rows.ts): the
   * collector keeps these bytes in its write-ahead log, so rows are serialised once.
   * 'tracesJson' is the JSON-lines span encoding of spool records written before Native.
   */
  insertEncoded(kind: 'traces' | 'tracesJson' | 'feedback', payload: Buffer): Promise<void>;
  /** Run a query and return the raw response body in the given ClickHouse FORMAT. */
  query(sql: string, format?: string): Promise<string>;
  /** Cheap liveness probe used by the writer to decide between writing and spooling. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
