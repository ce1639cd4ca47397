-- A provider failing while users are still served: of the requests whose first attempt went to a
-- provider, the share that a retry or fallback rescued. At least 20 requests per provider.
SELECT
    a.Provider AS provider,
    countIf(r.Rescued) / count() AS rescued_share
FROM llm_requests AS r
INNER JOIN (
    SELECT TraceId, ParentSpanId, Provider
    FROM llm_attempts
    WHERE $__timeFilter(Timestamp) AND Attempt = 0
) AS a ON a.TraceId = r.TraceId AND a.ParentSpanId = r.SpanId
WHERE $__timeFilter(r.Timestamp)
GROUP BY provider
HAVING count() >= 20
