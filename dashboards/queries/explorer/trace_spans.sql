-- Every span of the selected request's W3C trace (the caller's spans too), shaped for Grafana's
-- trace panel as the ClickHouse plugin's trace-ID query shapes otel_traces.
SELECT
    TraceId AS traceID,
    SpanId AS spanID,
    ParentSpanId AS parentSpanID,
    ServiceName AS serviceName,
    SpanName AS operationName,
    multiply(toUnixTimestamp64Nano(Timestamp), 0.000001) AS startTime,
    multiply(Duration, 0.000001) AS duration,
    arrayMap(key -> map('key', key, 'value', SpanAttributes[key]), mapKeys(SpanAttributes)) AS tags,
    arrayMap(key -> map('key', key, 'value', ResourceAttributes[key]), mapKeys(ResourceAttributes)) AS serviceTags,
    if(StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 2, 0) AS statusCode
FROM otel_traces
WHERE TraceId IN (
        SELECT TraceId FROM llm_requests
        WHERE $__timeFilter(Timestamp)
          AND (RequestTraceId = ${trace_id:sqlstring} OR TraceId = ${trace_id:sqlstring})
    )
  AND $__timeFilter(Timestamp)
ORDER BY Timestamp ASC
LIMIT 1000
