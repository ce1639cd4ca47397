-- Sidecar services that sent request spans in the rule's window (1 hour) but none in its last
-- 5 minutes. Total silence returns no rows at all, which the rule treats as alerting (noDataState).
SELECT
    ServiceName AS service,
    countIf(Timestamp >= $__toTime - INTERVAL 5 MINUTE) AS recent_requests
FROM llm_requests
WHERE $__timeFilter(Timestamp)
GROUP BY service
