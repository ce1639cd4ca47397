-- P50/P95/P99 attempt latency per provider and model over the window, merged from the minute
-- states (a true percentile over all attempts, not an average of per-minute percentiles).
SELECT
    Provider,
    Model,
    sum(Attempts) AS Attempts,
    sum(Errors) AS Errors,
    quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(DurationQuantiles) AS q,
    quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(TtftQuantiles) AS t,
    round(q[1], 1) AS P50Ms,
    round(q[2], 1) AS P95Ms,
    round(q[3], 1) AS P99Ms,
    if(sum(TtftSamples) = 0, NULL, round(t[2], 1)) AS TtftP95Ms
FROM (
    SELECT Provider, Model, Attempts, Errors, TtftSamples, DurationQuantiles, TtftQuantiles
    FROM llm_latency_1m_state
    WHERE Minute >= toStartOfMinute(now() - INTERVAL {{since_seconds}} SECOND)
)
GROUP BY Provider, Model
HAVING Attempts > 0
ORDER BY Attempts DESC, Provider, Model
