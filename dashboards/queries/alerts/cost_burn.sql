-- Spend rate per service in USD per hour, projected from the rule's window (15 minutes).
SELECT
    ServiceName AS service,
    ifNull(sum(CostUSD), 0) * 3600 / dateDiff('second', $__fromTime, $__toTime) AS usd_per_hour
FROM llm_requests
WHERE $__timeFilter(Timestamp)
GROUP BY service
