-- Hourly rollup of llm_latency_1m for long ranges: a 30-day panel merges 720 states per series
-- here instead of 43,200 minute states (see bench/views.ts). Same sketch and accuracy as the
-- minute table; dashboards pick this one when their bucket is an hour or wider.
CREATE TABLE IF NOT EXISTS {{database}}.{{local:llm_latency_1h_state}}{{on_cluster}} (
    Hour DateTime CODEC(Delta, ZSTD(1)),
    Provider LowCardinality(String),
    Model LowCardinality(String),
    Attempts SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    TtftSamples SimpleAggregateFunction(sum, UInt64),
    DurationQuantiles AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), Float64),
    TtftQuantiles AggregateFunction(quantilesDD(0.01, 0.5, 0.95, 0.99), Nullable(Float64))
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(Hour)
ORDER BY (Hour, Provider, Model)
{{ttl:Hour}};

{{distributed:llm_latency_1h_state:cityHash64(Provider, Model)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.llm_latency_1h_mv{{on_cluster}}
TO {{database}}.{{local:llm_latency_1h_state}}
AS SELECT
    toStartOfHour(src.Timestamp) AS Hour,
    src.Provider AS Provider,
    src.Model AS Model,
    count() AS Attempts,
    countIf(src.Error) AS Errors,
    countIf(src.TtftMs IS NOT NULL) AS TtftSamples,
    quantilesDDState(0.01, 0.5, 0.95, 0.99)(src.DurationMs) AS DurationQuantiles,
    quantilesDDState(0.01, 0.5, 0.95, 0.99)(src.TtftMs) AS TtftQuantiles
FROM {{database}}.{{local:llm_attempts}} AS src
GROUP BY Hour, Provider, Model;

CREATE VIEW IF NOT EXISTS {{database}}.llm_latency_1h{{on_cluster}} AS
SELECT
    Hour, Provider, Model, Attempts, Errors,
    d[1] AS P50Ms, d[2] AS P95Ms, d[3] AS P99Ms,
    if(TtftSamples = 0, NULL, t[1]) AS TtftP50Ms,
    if(TtftSamples = 0, NULL, t[2]) AS TtftP95Ms,
    if(TtftSamples = 0, NULL, t[3]) AS TtftP99Ms
FROM (
    SELECT
        Hour, Provider, Model,
        sum(Attempts) AS Attempts,
        sum(Errors) AS Errors,
        sum(TtftSamples) AS TtftSamples,
        quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(DurationQuantiles) AS d,
        quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(TtftQuantiles) AS t
    FROM {{database}}.llm_latency_1h_state
    GROUP BY Hour, Provider, Model
);
