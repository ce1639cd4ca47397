-- Attempt latency P50/P95/P99 per provider and model, merged from the DDSketch states (within 1%
-- of the exact value). Ranges of a day or more with buckets of an hour or more merge the hourly
-- rollup, 60x fewer states than the minute table (bench/views: 30 days in ~60-120 ms instead of
-- ~0.5-0.9 s); only one side of the UNION reads any rows. The hourly side counts the whole first
-- hour (at most an hour before the range's start: under 1/24 of it). The state tables have no
-- service column: not filtered by service.
SELECT time, target, q[1] AS p50_ms, q[2] AS p95_ms, q[3] AS p99_ms
FROM (
    SELECT
        $__timeInterval(t) AS time,
        concat(Provider, ' ', Model) AS target,
        quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(DurationQuantiles) AS q
    FROM (
        SELECT Hour AS t, Provider, Model, DurationQuantiles FROM llm_latency_1h_state
        WHERE $__interval_ms >= 3600000 AND $__range_s >= 86400
          AND Hour >= toStartOfHour($__fromTime) AND Hour <= $__toTime
        UNION ALL
        SELECT Minute AS t, Provider, Model, DurationQuantiles FROM llm_latency_1m_state
        WHERE ($__interval_ms < 3600000 OR $__range_s < 86400) AND $__timeFilter(Minute)
    )
    WHERE $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
      AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
    GROUP BY time, target
)
ORDER BY time, target
