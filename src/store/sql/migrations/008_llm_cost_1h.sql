-- Cost and tokens per hour, provider, model, user and feature (metadata keys). A request whose
-- cost is unknown (model without a price) is counted in Requests but not in CostUSD, and
-- CostUSD is NULL for a group where nothing could be priced, so "unknown" never reads as 0.
-- Cost and tokens are the request span's totals, attributed to the answering provider/model.
CREATE TABLE IF NOT EXISTS {{database}}.{{local:llm_cost_1h_state}}{{on_cluster}} (
    Hour DateTime CODEC(Delta, ZSTD(1)),
    Provider LowCardinality(String),
    Model LowCardinality(String),
    User String,
    Feature LowCardinality(String),
    Requests SimpleAggregateFunction(sum, UInt64),
    PricedRequests SimpleAggregateFunction(sum, UInt64),
    CostUSD SimpleAggregateFunction(sum, Float64),
    InputTokens SimpleAggregateFunction(sum, UInt64),
    OutputTokens SimpleAggregateFunction(sum, UInt64)
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(Hour)
ORDER BY (Hour, Provider, Model, User, Feature)
{{ttl:Hour}};

{{distributed:llm_cost_1h_state:cityHash64(Provider, Model)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.llm_cost_1h_mv{{on_cluster}}
TO {{database}}.{{local:llm_cost_1h_state}}
AS SELECT
    toStartOfHour(src.Timestamp) AS Hour,
    src.Provider AS Provider,
    src.Model AS Model,
    src.Metadata['user'] AS User,
    src.Metadata['feature'] AS Feature,
    count() AS Requests,
    countIf(src.CostUSD IS NOT NULL) AS PricedRequests,
    sum(ifNull(src.CostUSD, 0)) AS CostUSD,
    sum(src.InputTokens) AS InputTokens,
    sum(src.OutputTokens) AS OutputTokens
-- source columns are qualified: the output aliases reuse their names
FROM {{database}}.{{local:llm_requests}} AS src
GROUP BY Hour, Provider, Model, User, Feature;

CREATE VIEW IF NOT EXISTS {{database}}.llm_cost_1h{{on_cluster}} AS
SELECT
    Hour, Provider, Model, User, Feature,
    if(PricedRequests = 0, NULL, CostUSD) AS CostUSD,
    InputTokens, OutputTokens, Requests,
    Requests - PricedRequests AS UnpricedRequests
FROM (
    SELECT
        Hour, Provider, Model, User, Feature,
        sum(Requests) AS Requests,
        sum(PricedRequests) AS PricedRequests,
        sum(CostUSD) AS CostUSD,
        sum(InputTokens) AS InputTokens,
        sum(OutputTokens) AS OutputTokens
    FROM {{database}}.llm_cost_1h_state
    GROUP BY Hour, Provider, Model, User, Feature
);
