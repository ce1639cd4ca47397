-- Requests rescued by a retry or fallback, and the rescue rate (as in llm_rescued_1m).
SELECT
    $__timeInterval(Timestamp) AS time,
    countIf(Rescued) AS rescued,
    countIf(Rescued) / nullIf(countIf(Rescued OR (NOT Ok AND Attempts > 0)), 0) AS rescue_rate
FROM llm_requests
WHERE $__timeFilter(Timestamp)
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
GROUP BY time
ORDER BY time
