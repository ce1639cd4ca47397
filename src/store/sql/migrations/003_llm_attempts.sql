-- One row per LLM attempt: every CLIENT span that carries gen_ai.operation.name.
-- Attribute values are strings in otel_traces; the *OrNull/*OrZero casts never fail an insert.
-- Both SpanKind/StatusCode spellings are accepted: 'Client'/'Error' (exporter) and
-- 'SPAN_KIND_CLIENT'/'STATUS_CODE_ERROR' (older exporters, OTLP JSON enum names).
CREATE TABLE IF NOT EXISTS {{database}}.{{local:llm_attempts}}{{on_cluster}} (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    RequestTraceId String CODEC(ZSTD(1)),
    Attempt UInt16,
    Target LowCardinality(String),
    Provider LowCardinality(String),
    Model LowCardinality(String),
    Operation LowCardinality(String),
    Outcome LowCardinality(String),
    HttpStatus UInt16,
    -- span status Error, or an outcome other than ok/cached
    Error Bool,
    ErrorType LowCardinality(String),
    DurationMs Float64,
    -- NULL when not a stream (no first token to time)
    TtftMs Nullable(Float64),
    InputTokens UInt64,
    OutputTokens UInt64,
    CachedInputTokens UInt64,
    -- NULL when the price of the model is unknown: kept apart from a real 0
    CostUSD Nullable(Float64),
    Stream Bool,
    ServiceName LowCardinality(String),
    INDEX idx_request_trace_id RequestTraceId TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1
) ENGINE = {{engine:MergeTree}}
PARTITION BY toDate(Timestamp)
ORDER BY (Provider, Model, toDateTime(Timestamp))
{{ttl:toDateTime(Timestamp)}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

{{distributed:llm_attempts:cityHash64(TraceId)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.llm_attempts_mv{{on_cluster}}
TO {{database}}.{{local:llm_attempts}}
AS SELECT
    Timestamp,
    TraceId,
    SpanId,
    ParentSpanId,
    if(SpanAttributes['switchyard.trace_id'] != '', SpanAttributes['switchyard.trace_id'], TraceId) AS RequestTraceId,
    toUInt16OrZero(SpanAttributes['switchyard.attempt']) AS Attempt,
    SpanAttributes['switchyard.target'] AS Target,
    if(SpanAttributes['gen_ai.provider.name'] != '', SpanAttributes['gen_ai.provider.name'], SpanAttributes['gen_ai.system']) AS Provider,
    if(SpanAttributes['gen_ai.response.model'] != '', SpanAttributes['gen_ai.response.model'], SpanAttributes['gen_ai.request.model']) AS Model,
    SpanAttributes['gen_ai.operation.name'] AS Operation,
    SpanAttributes['switchyard.outcome'] AS Outcome,
    toUInt16OrZero(SpanAttributes['http.response.status_code']) AS HttpStatus,
    (StatusCode IN ('Error', 'STATUS_CODE_ERROR') OR Outcome NOT IN ('', 'ok', 'cached')) AS Error,
    SpanAttributes['error.type'] AS ErrorType,
    Duration / 1e6 AS DurationMs,
    toFloat64OrNull(SpanAttributes['switchyard.ttft_ms']) AS TtftMs,
    toUInt64OrZero(SpanAttributes['gen_ai.usage.input_tokens']) AS InputTokens,
    toUInt64OrZero(SpanAttributes['gen_ai.usage.output_tokens']) AS OutputTokens,
    toUInt64OrZero(SpanAttributes['gen_ai.usage.cache_read.input_tokens']) AS CachedInputTokens,
    toFloat64OrNull(SpanAttributes['switchyard.cost_usd']) AS CostUSD,
    (SpanAttributes['gen_ai.request.stream'] = 'true') AS Stream,
    ServiceName
FROM {{database}}.{{local:otel_traces}}
WHERE SpanKind IN ('Client', 'SPAN_KIND_CLIENT')
  AND SpanAttributes['gen_ai.operation.name'] != '';
