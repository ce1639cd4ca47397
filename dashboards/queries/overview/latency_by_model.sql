-- Attempt latency P50/P95/P99 per provider and model, merged from the per-minute DDSketch states
-- (within 1% of the exact value). The state table has no service column: not filtered by service.
SELECT time, target, q[1] AS p50_ms, q[2] AS p95_ms, q[3] AS p99_ms
FROM (
    SELECT
        $__timeInterval(Minute) AS time,
        concat(Provider, ' ', Model) AS target,
        quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(DurationQuantiles) AS q
    FROM llm_latency_1m_state
    WHERE $__timeFilter(Minute)
      AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
      AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
    GROUP BY time, target
)
ORDER BY time, target
