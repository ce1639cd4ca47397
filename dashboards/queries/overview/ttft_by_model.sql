-- Time to first token (streams only) P50/P95 per provider and model, from the DDSketch states.
SELECT time, target, q[1] AS ttft_p50_ms, q[2] AS ttft_p95_ms
FROM (
    SELECT
        $__timeInterval(Minute) AS time,
        concat(Provider, ' ', Model) AS target,
        quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(TtftQuantiles) AS q
    FROM llm_latency_1m_state
    WHERE $__timeFilter(Minute)
      AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
      AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
    GROUP BY time, target
    HAVING sum(TtftSamples) > 0
)
ORDER BY time, target
