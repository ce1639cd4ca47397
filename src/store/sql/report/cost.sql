-- Cost per provider and model over the exact window, from the requests. Unknown prices are
-- counted apart and never summed as 0. Source columns are qualified because the output
-- aliases reuse their names.
SELECT
    r.Provider AS Provider,
    r.Model AS Model,
    count() AS Requests,
    sum(r.CostUSD) AS CostUSD,
    countIf(r.CostUSD IS NULL) AS UnpricedRequests,
    sum(r.InputTokens) AS InputTokens,
    sum(r.OutputTokens) AS OutputTokens
FROM llm_requests AS r
WHERE r.Timestamp >= now() - INTERVAL {{since_seconds}} SECOND AND r.Provider != ''
GROUP BY Provider, Model
ORDER BY CostUSD DESC NULLS LAST, Provider, Model
