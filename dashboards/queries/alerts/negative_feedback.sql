-- Weighted share of negative feedback (value < 0) per answering model over the rule's window,
-- at least 10 feedback rows.
SELECT
    r.Provider AS provider,
    r.Model AS model,
    sumIf(f.Weight, f.Value < 0) / nullIf(sum(f.Weight), 0) AS negative_share
FROM llm_feedback AS f
INNER JOIN (
    SELECT
        RequestTraceId,
        argMax(Provider, Timestamp) AS Provider,
        argMax(Model, Timestamp) AS Model
    FROM llm_requests
    WHERE RequestTraceId IN (SELECT TraceId FROM llm_feedback WHERE $__timeFilter(Timestamp))
    GROUP BY RequestTraceId
) AS r ON f.TraceId = r.RequestTraceId
WHERE $__timeFilter(f.Timestamp)
GROUP BY provider, model
HAVING count() >= 10
