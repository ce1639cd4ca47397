-- Feedback received in the window, scored per model and provider (same join as the
-- llm_feedback_scores view, restricted in time).
SELECT
    r.Provider AS Provider,
    r.Model AS Model,
    count() AS Count,
    avg(f.Value) AS MeanScore,
    sum(f.Value * f.Weight) / nullIf(sum(f.Weight), 0) AS WeightedScore
FROM (
    SELECT TraceId, Value, Weight FROM llm_feedback
    WHERE Timestamp >= now() - INTERVAL {{since_seconds}} SECOND
) AS f
GLOBAL INNER JOIN (
    SELECT RequestTraceId, argMax(Provider, Timestamp) AS Provider, argMax(Model, Timestamp) AS Model
    FROM llm_requests
    WHERE RequestTraceId GLOBAL IN (
        SELECT TraceId FROM llm_feedback WHERE Timestamp >= now() - INTERVAL {{since_seconds}} SECOND
    )
    GROUP BY RequestTraceId
) AS r ON f.TraceId = r.RequestTraceId
GROUP BY Provider, Model
ORDER BY Count DESC, Provider, Model
