-- Spend per virtual key and UTC day: cost, tokens and requests, and how many of them the policy
-- refused (401/403/412/429 before any attempt). Requests without a key count under ''.
-- CostUSD is NULL for a group where nothing could be priced, as in llm_cost_1h.
CREATE TABLE IF NOT EXISTS {{database}}.{{local:llm_spend_1d_state}}{{on_cluster}} (
    Day Date,
    VirtualKey LowCardinality(String),
    Requests SimpleAggregateFunction(sum, UInt64),
    Refused SimpleAggregateFunction(sum, UInt64),
    PricedRequests SimpleAggregateFunction(sum, UInt64),
    CostUSD SimpleAggregateFunction(sum, Float64),
    InputTokens SimpleAggregateFunction(sum, UInt64),
    OutputTokens SimpleAggregateFunction(sum, UInt64),
    MaxBudgetUsage SimpleAggregateFunction(max, Float32)
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(Day)
ORDER BY (Day, VirtualKey)
{{ttl:Day}};

{{distributed:llm_spend_1d_state:cityHash64(VirtualKey)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.llm_spend_1d_mv{{on_cluster}}
TO {{database}}.{{local:llm_spend_1d_state}}
AS SELECT
    toDate(src.Timestamp) AS Day,
    src.VirtualKey AS VirtualKey,
    count() AS Requests,
    countIf(src.Attempts = 0 AND src.HttpStatus IN (401, 403, 412, 429)) AS Refused,
    countIf(src.CostUSD IS NOT NULL) AS PricedRequests,
    sum(ifNull(src.CostUSD, 0)) AS CostUSD,
    sum(src.InputTokens) AS InputTokens,
    sum(src.OutputTokens) AS OutputTokens,
    max(src.BudgetUsage) AS MaxBudgetUsage
FROM {{database}}.{{local:llm_requests}} AS src
GROUP BY Day, VirtualKey;

CREATE VIEW IF NOT EXISTS {{database}}.llm_spend_1d{{on_cluster}} AS
SELECT
    Day, VirtualKey,
    if(PricedRequests = 0, NULL, CostUSD) AS CostUSD,
    InputTokens, OutputTokens, Requests, Refused, MaxBudgetUsage
FROM (
    SELECT
        Day, VirtualKey,
        sum(Requests) AS Requests,
        sum(Refused) AS Refused,
        sum(PricedRequests) AS PricedRequests,
        sum(CostUSD) AS CostUSD,
        sum(InputTokens) AS InputTokens,
        sum(OutputTokens) AS OutputTokens,
        max(MaxBudgetUsage) AS MaxBudgetUsage
    FROM {{database}}.llm_spend_1d_state
    GROUP BY Day, VirtualKey
);
