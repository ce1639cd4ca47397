-- The policy layer on llm_requests: which virtual key called (its name, never the secret), the
-- guardrails' verdict, how full the fullest budget the request was reserved against was
-- (used + reserved over the limit, 0 when none applied), and the caller's own id for this
-- turn (x-switchyard-span-id / x-portkey-span-id). The view is recreated to fill them;
-- spans inserted between its DROP and CREATE (only while this migration runs) miss llm_requests.
ALTER TABLE {{database}}.{{local:llm_requests}}{{on_cluster}}
    ADD COLUMN IF NOT EXISTS VirtualKey LowCardinality(String) AFTER CacheStatus,
    ADD COLUMN IF NOT EXISTS GuardrailVerdict LowCardinality(String) AFTER VirtualKey,
    ADD COLUMN IF NOT EXISTS BudgetUsage Float32 AFTER GuardrailVerdict,
    ADD COLUMN IF NOT EXISTS CallerSpanId String CODEC(ZSTD(1)) AFTER BudgetUsage;

{{drop_distributed:llm_requests}};

{{distributed:llm_requests:cityHash64(TraceId)}};

DROP VIEW IF EXISTS {{database}}.llm_requests_mv{{on_cluster}};

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
    SpanAttributes['switchyard.virtual_key'] AS VirtualKey,
    SpanAttributes['switchyard.guardrails.verdict'] AS GuardrailVerdict,
    toFloat32OrZero(SpanAttributes['switchyard.budget.usage']) AS BudgetUsage,
    SpanAttributes['switchyard.span_id'] AS CallerSpanId,
    CAST(mapApply((k, v) -> (substring(k, 21), v),
                  mapFilter((k, v) -> startsWith(k, 'switchyard.metadata.'), SpanAttributes)), 'Map(String, String)') AS Metadata,
    ServiceName
FROM {{database}}.{{local:otel_traces}}
WHERE SpanKind IN ('Server', 'SPAN_KIND_SERVER')
  AND SpanAttributes['switchyard.attempts'] != '';
