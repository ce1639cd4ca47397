-- Time to first token (streams only) P50/P95 per provider and model, from the DDSketch states;
-- long ranges with hour-or-wider buckets read the hourly rollup (see latency_by_model.sql).
SELECT time, target, q[1] AS ttft_p50_ms, q[2] AS ttft_p95_ms
FROM (
    SELECT
        $__timeInterval(t) AS time,
        concat(Provider, ' ', Model) AS target,
        quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(TtftQuantiles) AS q
    FROM (
        SELECT Hour AS t, Provider, Model, TtftSamples, TtftQuantiles FROM llm_latency_1h_state
        WHERE $__interval_ms >= 3600000 AND $__range_s >= 86400
          AND Hour >= toStartOfHour($__fromTime) AND Hour <= $__toTime
        UNION ALL
        SELECT Minute AS t, Provider, Model, TtftSamples, TtftQuantiles FROM llm_latency_1m_state
        WHERE ($__interval_ms < 3600000 OR $__range_s < 86400) AND $__timeFilter(Minute)
    )
    WHERE $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
      AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
    GROUP BY time, target
    HAVING sum(TtftSamples) > 0
)
ORDER BY time, target
