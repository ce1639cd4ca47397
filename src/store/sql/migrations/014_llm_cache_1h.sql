-- The response cache per hour, routing config and virtual key: requests that passed the cache
-- stage, hits (and semantic hits, for when semantic mode lands), misses, forced refreshes, what
-- the hits saved (the original answers' cost, switchyard.cache.saved_cost_usd) and the time they
-- saved (the original request's duration, switchyard.cache.original_ms, minus the hit's own).
-- Read from the request (SERVER) spans directly: the saved figures are not llm_requests columns.
-- Requests counts every request span, DISABLED ones included (HitRate is over cacheable ones).
CREATE TABLE IF NOT EXISTS {{database}}.{{local:llm_cache_1h_state}}{{on_cluster}} (
    Hour DateTime CODEC(Delta, ZSTD(1)),
    ConfigId LowCardinality(String),
    VirtualKey LowCardinality(String),
    Requests SimpleAggregateFunction(sum, UInt64),
    Cacheable SimpleAggregateFunction(sum, UInt64),
    Hits SimpleAggregateFunction(sum, UInt64),
    SemanticHits SimpleAggregateFunction(sum, UInt64),
    Misses SimpleAggregateFunction(sum, UInt64),
    Refreshes SimpleAggregateFunction(sum, UInt64),
    SavedCostUSD SimpleAggregateFunction(sum, Float64),
    SavedMs SimpleAggregateFunction(sum, Float64)
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(Hour)
ORDER BY (Hour, ConfigId, VirtualKey)
{{ttl:Hour}};

{{distributed:llm_cache_1h_state:cityHash64(ConfigId, VirtualKey)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.llm_cache_1h_mv{{on_cluster}}
TO {{database}}.{{local:llm_cache_1h_state}}
AS SELECT
    toStartOfHour(src.Timestamp) AS Hour,
    src.SpanAttributes['switchyard.config_id'] AS ConfigId,
    src.SpanAttributes['switchyard.virtual_key'] AS VirtualKey,
    count() AS Requests,
    countIf(src.SpanAttributes['switchyard.cache_status'] NOT IN ('', 'DISABLED')) AS Cacheable,
    countIf(src.SpanAttributes['switchyard.cache_status'] IN ('HIT', 'SEMANTIC HIT')) AS Hits,
    countIf(src.SpanAttributes['switchyard.cache_status'] = 'SEMANTIC HIT') AS SemanticHits,
    countIf(src.SpanAttributes['switchyard.cache_status'] IN ('MISS', 'SEMANTIC MISS')) AS Misses,
    countIf(src.SpanAttributes['switchyard.cache_status'] = 'REFRESH') AS Refreshes,
    sum(toFloat64OrZero(src.SpanAttributes['switchyard.cache.saved_cost_usd'])) AS SavedCostUSD,
    sumIf(greatest(toFloat64OrZero(src.SpanAttributes['switchyard.cache.original_ms']) - src.Duration / 1e6, 0),
          src.SpanAttributes['switchyard.cache_status'] IN ('HIT', 'SEMANTIC HIT')) AS SavedMs
FROM {{database}}.{{local:otel_traces}} AS src
WHERE src.SpanKind IN ('Server', 'SPAN_KIND_SERVER')
  AND src.SpanAttributes['switchyard.attempts'] != ''
GROUP BY Hour, ConfigId, VirtualKey;

CREATE VIEW IF NOT EXISTS {{database}}.llm_cache_1h{{on_cluster}} AS
SELECT
    Hour, ConfigId, VirtualKey,
    Requests, Cacheable, Hits, SemanticHits, Misses, Refreshes,
    if(Cacheable = 0, NULL, Hits / Cacheable) AS HitRate,
    SavedCostUSD, SavedMs
FROM (
    SELECT
        Hour, ConfigId, VirtualKey,
        sum(Requests) AS Requests,
        sum(Cacheable) AS Cacheable,
        sum(Hits) AS Hits,
        sum(SemanticHits) AS SemanticHits,
        sum(Misses) AS Misses,
        sum(Refreshes) AS Refreshes,
        sum(SavedCostUSD) AS SavedCostUSD,
        sum(SavedMs) AS SavedMs
    FROM {{database}}.llm_cache_1h_state
    GROUP BY Hour, ConfigId, VirtualKey
);
