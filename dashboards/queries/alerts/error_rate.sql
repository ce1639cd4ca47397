-- Share of sidecar requests that failed (every target exhausted) per service, at least 20 requests.
SELECT
    ServiceName AS service,
    countIf(NOT Ok) / count() AS error_rate
FROM llm_requests
WHERE $__timeFilter(Timestamp)
GROUP BY service
HAVING count() >= 20
