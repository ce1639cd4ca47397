-- The ten targets with the most failed attempts, with their failure rate and commonest errors.
SELECT
    Provider AS provider,
    Model AS model,
    Target AS target,
    countIf(Error) AS failures,
    count() AS attempts,
    failures / attempts AS failure_rate,
    arrayStringConcat(topKIf(3)(if(ErrorType != '', ErrorType, Outcome), Error), ', ') AS top_errors
FROM llm_attempts
WHERE $__timeFilter(Timestamp)
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
  AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
  AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
GROUP BY provider, model, target
HAVING failures > 0
ORDER BY failures DESC, failure_rate DESC, provider, model, target
LIMIT 10
