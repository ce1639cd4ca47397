-- The response cache over the time range, per routing config: requests, the cacheable ones (a
-- cache: on their config), hits (semantic hits among them), misses, forced refreshes, the hit rate
-- over cacheable requests, and what the hits saved: the original answers' cost and provider time.
-- From the hourly rollup llm_cache_1h, by whole hours (the hour the range starts in counts whole);
-- not filtered by service, provider or model (the rollup has none). Configs without a cache are left out.
SELECT
    ConfigId AS config,
    sum(Requests) AS requests,
    sum(Cacheable) AS cacheable,
    sum(Hits) AS hits,
    sum(SemanticHits) AS semantic_hits,
    sum(Misses) AS misses,
    sum(Refreshes) AS refreshes,
    if(sum(Cacheable) = 0, NULL, sum(Hits) / sum(Cacheable)) AS hit_rate,
    sum(SavedCostUSD) AS saved_cost_usd,
    sum(SavedMs) / 1000 AS saved_seconds
FROM llm_cache_1h
WHERE Hour >= toStartOfHour($__fromTime) AND Hour <= $__toTime
GROUP BY config
HAVING cacheable > 0
ORDER BY hits DESC, cacheable DESC, config
LIMIT 50
