-- Headline numbers over the whole time range. Rescue rate follows llm_rescued_1m: rescued requests
-- over requests whose first attempt failed (rescued + failed requests that made an attempt).
SELECT
    count() AS requests,
    countIf(NOT Ok) / count() AS error_rate,
    countIf(Rescued) AS rescued,
    countIf(Rescued) / nullIf(countIf(Rescued OR (NOT Ok AND Attempts > 0)), 0) AS rescue_rate,
    avg(Attempts) AS attempts_per_request,
    sum(CostUSD) AS cost_usd
FROM llm_requests
WHERE $__timeFilter(Timestamp)
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
