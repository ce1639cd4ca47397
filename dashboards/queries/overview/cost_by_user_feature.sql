-- Spend and tokens per metadata user and feature (x-switchyard-metadata), biggest first.
SELECT
    Metadata['user'] AS metadata_user,
    Metadata['feature'] AS metadata_feature,
    count() AS requests,
    countIf(CostUSD IS NULL) AS unpriced_requests,
    sum(CostUSD) AS cost_usd,
    sum(InputTokens) + sum(OutputTokens) AS tokens
FROM llm_requests
WHERE $__timeFilter(Timestamp)
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
  AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
  AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
GROUP BY metadata_user, metadata_feature
ORDER BY cost_usd DESC, requests DESC, metadata_user, metadata_feature
LIMIT 50
