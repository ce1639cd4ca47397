-- Spend in USD per answering model. Requests of unpriced models add nothing (CostUSD is NULL).
SELECT
    $__timeInterval(Timestamp) AS time,
    Model AS model,
    sum(CostUSD) AS cost_usd
FROM llm_requests
WHERE $__timeFilter(Timestamp) AND Model != ''
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
  AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
  AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
GROUP BY time, model
ORDER BY time, model
