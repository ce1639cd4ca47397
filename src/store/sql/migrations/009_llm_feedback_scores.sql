-- Feedback scores per model and provider, joined at query time so feedback that arrived
-- before its spans counts as soon as the spans land. Only requests that have feedback are read
-- (the IN filter uses the RequestTraceId bloom index). When one x-switchyard-trace-id names
-- several requests, the feedback goes to the latest of them. GLOBAL keeps the subqueries
-- correct over Distributed tables and costs nothing on a single node.
CREATE VIEW IF NOT EXISTS {{database}}.llm_feedback_scores{{on_cluster}} AS
SELECT
    r.Provider AS Provider,
    r.Model AS Model,
    count() AS Count,
    avg(f.Value) AS MeanScore,
    sum(f.Value * f.Weight) / nullIf(sum(f.Weight), 0) AS WeightedScore
FROM {{database}}.llm_feedback AS f
GLOBAL INNER JOIN (
    SELECT
        RequestTraceId,
        argMax(Provider, Timestamp) AS Provider,
        argMax(Model, Timestamp) AS Model
    FROM {{database}}.llm_requests
    WHERE RequestTraceId GLOBAL IN (SELECT TraceId FROM {{database}}.llm_feedback)
    GROUP BY RequestTraceId
) AS r ON f.TraceId = r.RequestTraceId
GROUP BY Provider, Model;
