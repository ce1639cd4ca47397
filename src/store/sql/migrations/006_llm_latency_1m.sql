-- Attempt latency per minute, provider and model, kept as mergeable quantile states so a
-- 30-day panel reads ~43k small rows per series instead of every attempt.
--
-- Quantile function: quantilesDD (DDSketch) with relative accuracy 0.01. Its guarantee is on the
-- value: the p-quantile it returns is within +-1% of the sample value at that rank (ClickHouse
-- takes rank floor(p*(n-1))), for any distribution, and states merge without loosening the bound,
-- so minutes merged into hours or days stay within 1% (test/store/views.test.ts checks it against
-- the exact quantiles). quantilesTDigest has no worst-case bound and its answer depends on merge
-- order; quantiles (reservoir of 8192) is exact only below 8192 samples per state and random
-- beyond; quantileTiming clips at 30 s, which long generations exceed. A state holds
-- O(log(max/min)/0.01) buckets: about 700 for 1 ms..1000 s.
-- For panels over wider buckets, merge the states rather than reading the per-minute view
-- (or read llm_latency_1h, the hourly rollup, for ranges of days):
--   SELECT toStartOfHour(Minute) AS t, Provider, Model,
--          quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(DurationQuantiles)[2] AS P95Ms
--   FROM llm_latency_1m_state WHERE Minute >= now() - INTERVAL 30 DAY GROUP BY t, Provider, Model
CREATE TABLE IF NOT EXISTS {{database}}.{{local:llm_latency_1m_state}}{{on_cluster}} (
    Minute DateTime CODEC(Delta, ZSTD(1)),
    Provider LowCardinality(String),
    Model LowCardinality(String),
    Attempts SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    TtftSamples SimpleAggregateFunction(sum, UInt64),
    DurationQuantiles AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), Float64),
    TtftQuantiles AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), Nullable(Float64))
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(Minute)
ORDER BY (Minute, Provider, Model)
{{ttl:Minute}};

{{distributed:llm_latency_1m_state:cityHash64(Provider, Model)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.llm_latency_1m_mv{{on_cluster}}
TO {{database}}.{{local:llm_latency_1m_state}}
AS SELECT
    toStartOfMinute(src.Timestamp) AS Minute,
    src.Provider AS Provider,
    src.Model AS Model,
    count() AS Attempts,
    countIf(src.Error) AS Errors,
    countIf(src.TtftMs IS NOT NULL) AS TtftSamples,
    quantilesDDState(0.01, 0.5, 0.95, 0.99)(src.DurationMs) AS DurationQuantiles,
    quantilesDDState(0.01, 0.5, 0.95, 0.99)(src.TtftMs) AS TtftQuantiles
FROM {{database}}.{{local:llm_attempts}} AS src
GROUP BY Minute, Provider, Model;

CREATE VIEW IF NOT EXISTS {{database}}.llm_latency_1m{{on_cluster}} AS
SELECT
    Minute, Provider, Model, Attempts, Errors,
    d[1] AS P50Ms, d[2] AS P95Ms, d[3] AS P99Ms,
    if(TtftSamples = 0, NULL, t[1]) AS TtftP50Ms,
    if(TtftSamples = 0, NULL, t[2]) AS TtftP95Ms,
    if(TtftSamples = 0, NULL, t[3]) AS TtftP99Ms
FROM (
    SELECT
        Minute, Provider, Model,
        sum(Attempts) AS Attempts,
        sum(Errors) AS Errors,
        sum(TtftSamples) AS TtftSamples,
        quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(DurationQuantiles) AS d,
        quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(TtftQuantiles) AS t
    FROM {{database}}.llm_latency_1m_state
    GROUP BY Minute, Provider, Model
);
