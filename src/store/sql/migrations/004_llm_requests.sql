-- One row per sidecar request: every SERVER span that carries switchyard.attempts.
-- Provider/Model are those of the answering attempt, which the sidecar copies onto the
-- request span; Metadata holds every switchyard.metadata.<key> attribute with the prefix cut.
CREATE TABLE IF NOT EXISTS {{database}}.{{local:llm_requests}}{{on_cluster}} (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    RequestTraceId String CODEC(ZSTD(1)),
    ConfigId LowCardinality(String),
    Strategy LowCardinality(String),
    Attempts UInt16,
    Rescued Bool,
    HttpStatus UInt16,
    Ok Bool,
    DurationMs Float64,
    -- NULL when no attempt could be priced
    CostUSD Nullable(Float64),
    InputTokens UInt64,
    OutputTokens UInt64,
    Provider LowCardinality(String),
    Model LowCardinality(String),
    CacheStatus LowCardinality(String),
    Metadata Map(String, String),
    ServiceName LowCardinality(String),
    INDEX idx_request_trace_id RequestTraceId TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1
) ENGINE = {{engine:MergeTree}}
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, toDateTime(Timestamp))
{{ttl:toDateTime(Timestamp)}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

{{distributed:llm_requests:cityHash64(TraceId)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.llm_requests_mv{{on_cluster}}
TO {{database}}.{{local:llm_requests}}
AS SELECT
    Timestamp,
    TraceId,
    SpanId,
    if(SpanAttributes['switchyard.trace_id'] != '', SpanAttributes['switchyard.trace_id'], TraceId) AS RequestTraceId,
    SpanAttributes['switchyard.config_id'] AS ConfigId,
    SpanAttributes['switchyard.strategy'] AS Strategy,
    toUInt16OrZero(SpanAttributes['switchyard.attempts']) AS Attempts,
    (SpanAttributes['switchyard.rescued'] = 'true') AS Rescued,
    toUInt16OrZero(SpanAttributes['http.response.status_code']) AS HttpStatus,
    -- without a status attribute, fall back to the span status
    if(HttpStatus > 0, HttpStatus < 400, StatusCode NOT IN ('Error', 'STATUS_CODE_ERROR')) AS Ok,
    Duration / 1e6 AS DurationMs,
    toFloat64OrNull(SpanAttributes['switchyard.cost_usd']) AS CostUSD,
    toUInt64OrZero(SpanAttributes['gen_ai.usage.input_tokens']) AS InputTokens,
    toUInt64OrZero(SpanAttributes['gen_ai.usage.output_tokens']) AS OutputTokens,
    if(SpanAttributes['gen_ai.provider.name'] != '', SpanAttributes['gen_ai.provider.name'], SpanAttributes['gen_ai.system']) AS Provider,
    if(SpanAttributes['gen_ai.response.model'] != '', SpanAttributes['gen_ai.response.model'], SpanAttributes['gen_ai.request.model']) AS Model,
    SpanAttributes['switchyard.cache_status'] AS CacheStatus,
    CAST(mapApply((k, v) -> (substring(k, 21), v),
                  mapFilter((k, v) -> startsWith(k, 'switchyard.metadata.'), SpanAttributes)), 'Map(String, String)') AS Metadata,
    ServiceName
FROM {{database}}.{{local:otel_traces}}
WHERE SpanKind IN ('Server', 'SPAN_KIND_SERVER')
  AND SpanAttributes['switchyard.attempts'] != '';
