-- Attempts per sidecar request: 1 is a clean first try; more means retries or fallbacks.
SELECT
    $__timeInterval(Timestamp) AS time,
    avg(Attempts) AS avg_attempts,
    max(Attempts) AS max_attempts
FROM llm_requests
WHERE $__timeFilter(Timestamp)
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
GROUP BY time
ORDER BY time
