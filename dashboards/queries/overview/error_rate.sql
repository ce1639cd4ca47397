-- Share of sidecar requests that failed (every target exhausted), per service.
SELECT
    $__timeInterval(Timestamp) AS time,
    ServiceName AS service,
    countIf(NOT Ok) / count() AS error_rate
FROM llm_requests
WHERE $__timeFilter(Timestamp)
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
GROUP BY time, service
ORDER BY time, service
