-- Gray failure: P95 attempt latency per provider and model over the rule's window (2 minutes),
-- exact over raw attempts. Cached answers are excluded; at least 10 attempts make a value.
SELECT
    Provider AS provider,
    Model AS model,
    quantileExact(0.95)(DurationMs) AS p95_ms
FROM llm_attempts
WHERE $__timeFilter(Timestamp) AND Outcome != 'cached'
GROUP BY provider, model
HAVING count() >= 10
