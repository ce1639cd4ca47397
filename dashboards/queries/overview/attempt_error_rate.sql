-- Share of attempts that failed, per provider: a provider can fail often while fallbacks keep
-- the request error rate at zero.
SELECT
    $__timeInterval(Timestamp) AS time,
    Provider AS provider,
    countIf(Error) / count() AS attempt_error_rate
FROM llm_attempts
WHERE $__timeFilter(Timestamp)
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
  AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
  AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
GROUP BY time, provider
ORDER BY time, provider
