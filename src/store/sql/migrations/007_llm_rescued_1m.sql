-- Requests per minute and how many were rescued. Derived from the request spans alone:
--   FailedFirstAttempts = rescued requests + failed requests that made at least one attempt
-- (a failed request whose first attempt had succeeded cannot exist, and a rescued request is
-- by definition one whose earlier attempt failed), so each request is counted in one minute.
-- RescueRate = Rescued / FailedFirstAttempts, NULL in a minute with no failed first attempt.
CREATE TABLE IF NOT EXISTS {{database}}.{{local:llm_rescued_1m_state}}{{on_cluster}} (
    Minute DateTime CODEC(Delta, ZSTD(1)),
    Requests SimpleAggregateFunction(sum, UInt64),
    Failed SimpleAggregateFunction(sum, UInt64),
    FailedFirstAttempts SimpleAggregateFunction(sum, UInt64),
    Rescued SimpleAggregateFunction(sum, UInt64)
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(Minute)
ORDER BY Minute
{{ttl:Minute}};

{{distributed:llm_rescued_1m_state:rand()}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.llm_rescued_1m_mv{{on_cluster}}
TO {{database}}.{{local:llm_rescued_1m_state}}
AS SELECT
    toStartOfMinute(src.Timestamp) AS Minute,
    count() AS Requests,
    countIf(NOT src.Ok) AS Failed,
    countIf(src.Rescued OR (NOT src.Ok AND src.Attempts > 0)) AS FailedFirstAttempts,
    countIf(src.Rescued) AS Rescued
-- source columns are qualified: the output aliases reuse their names
FROM {{database}}.{{local:llm_requests}} AS src
GROUP BY Minute;

CREATE VIEW IF NOT EXISTS {{database}}.llm_rescued_1m{{on_cluster}} AS
SELECT
    Minute, Requests, Failed, FailedFirstAttempts, Rescued,
    Rescued / nullIf(FailedFirstAttempts, 0) AS RescueRate
FROM (
    SELECT
        Minute,
        sum(Requests) AS Requests,
        sum(Failed) AS Failed,
        sum(FailedFirstAttempts) AS FailedFirstAttempts,
        sum(Rescued) AS Rescued
    FROM {{database}}.llm_rescued_1m_state
    GROUP BY Minute
);
