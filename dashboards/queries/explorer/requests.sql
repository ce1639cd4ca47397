-- Recent sidecar requests, newest first. Status: error (every target failed), rescued (an earlier
-- attempt failed and a later one answered) or ok. trace_id matches x-switchyard-trace-id or the
-- W3C trace id.
SELECT
    Timestamp AS time,
    RequestTraceId AS request_trace_id,
    TraceId AS trace_id,
    ServiceName AS service,
    multiIf(NOT Ok, 'error', Rescued, 'rescued', 'ok') AS status,
    HttpStatus AS http_status,
    Provider AS provider,
    Model AS model,
    Attempts AS attempts,
    round(DurationMs, 1) AS duration_ms,
    CostUSD AS cost_usd,
    InputTokens AS input_tokens,
    OutputTokens AS output_tokens,
    Metadata['user'] AS metadata_user,
    Metadata['feature'] AS metadata_feature,
    ConfigId AS config_id
FROM llm_requests
WHERE $__timeFilter(Timestamp)
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
  AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
  AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
  AND $__conditionalAll(multiIf(NOT Ok, 'error', Rescued, 'rescued', 'ok') IN (${status:sqlstring}), $status)
  AND $__conditionalAll(Metadata['user'] IN (${user:sqlstring}), $user)
  AND $__conditionalAll(Metadata['feature'] IN (${feature:sqlstring}), $feature)
  AND $__conditionalAll((RequestTraceId = ${trace_id:sqlstring} OR TraceId = ${trace_id:sqlstring}), $trace_id)
ORDER BY Timestamp DESC
LIMIT 500
