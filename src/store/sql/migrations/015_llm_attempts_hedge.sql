-- Hedged requests on llm_attempts: Hedge is true for an attempt started beside a slow one after
-- the group's hedge delay (span attribute switchyard.hedge); the loser of a race has Outcome
-- 'cancelled'. The view is recreated to fill it; spans inserted between its DROP and CREATE
-- (only while this migration runs) miss llm_attempts.
ALTER TABLE {{database}}.{{local:llm_attempts}}{{on_cluster}}
    ADD COLUMN IF NOT EXISTS Hedge Bool AFTER Stream;

{{drop_distributed:llm_attempts}};

{{distributed:llm_attempts:cityHash64(TraceId)}};

DROP VIEW IF EXISTS {{database}}.llm_attempts_mv{{on_cluster}};

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
    (SpanAttributes['switchyard.hedge'] = 'true') AS Hedge,
    ServiceName
FROM {{database}}.{{local:otel_traces}}
WHERE SpanKind IN ('Client', 'SPAN_KIND_CLIENT')
  AND SpanAttributes['gen_ai.operation.name'] != '';
