-- Feedback (POST /v1/feedback) received in the time range, per model that answered the request.
-- Joined as in llm_feedback_scores: feedback names the x-switchyard-trace-id, and when several
-- requests share one, the latest of them takes it.
SELECT
    r.Provider AS provider,
    r.Model AS model,
    count() AS feedback,
    avg(f.Value) AS mean_score,
    sum(f.Value * f.Weight) / nullIf(sum(f.Weight), 0) AS weighted_score,
    countIf(f.Value < 0) / count() AS negative_share
FROM llm_feedback AS f
INNER JOIN (
    SELECT
        RequestTraceId,
        argMax(Provider, Timestamp) AS Provider,
        argMax(Model, Timestamp) AS Model
    FROM llm_requests
    WHERE RequestTraceId IN (SELECT TraceId FROM llm_feedback WHERE $__timeFilter(Timestamp))
      AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
    GROUP BY RequestTraceId
) AS r ON f.TraceId = r.RequestTraceId
WHERE $__timeFilter(f.Timestamp)
  AND $__conditionalAll(r.Provider IN (${provider:sqlstring}), $provider)
  AND $__conditionalAll(r.Model IN (${model:sqlstring}), $model)
GROUP BY provider, model
ORDER BY mean_score ASC, provider, model
