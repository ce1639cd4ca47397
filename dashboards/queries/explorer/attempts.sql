-- Attempts of the selected request (trace_id), or of the most recent requests: grouped by request,
-- newest request first, attempts in order.
SELECT
    Timestamp AS time,
    RequestTraceId AS request_trace_id,
    TraceId AS trace_id,
    Attempt AS attempt,
    Target AS target,
    Provider AS provider,
    Model AS model,
    Outcome AS outcome,
    HttpStatus AS http_status,
    ErrorType AS error_type,
    round(DurationMs, 1) AS duration_ms,
    TtftMs AS ttft_ms,
    InputTokens AS input_tokens,
    OutputTokens AS output_tokens,
    CostUSD AS cost_usd
FROM (
    SELECT *, max(Timestamp) OVER (PARTITION BY TraceId, ParentSpanId) AS request_seen
    FROM llm_attempts
    WHERE $__timeFilter(Timestamp)
      AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
      AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
      AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
      AND $__conditionalAll((RequestTraceId = ${trace_id:sqlstring} OR TraceId = ${trace_id:sqlstring}), $trace_id)
)
ORDER BY request_seen DESC, ParentSpanId, Attempt ASC
LIMIT 500
