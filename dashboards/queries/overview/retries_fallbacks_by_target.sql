-- Per target (index path in the routing config): attempts, failures, retries (the previous attempt
-- of the same request went to the same target) and fallbacks (it went to another target).
SELECT
    Target AS target,
    Provider AS provider,
    Model AS model,
    count() AS attempts,
    countIf(Error) AS failed,
    countIf(Attempt > 0 AND prev_target = Target) AS retries,
    countIf(Attempt > 0 AND prev_target != Target) AS fallbacks
FROM (
    SELECT
        Target, Provider, Model, Attempt, Error,
        lagInFrame(Target, 1, '') OVER (
            PARTITION BY TraceId, ParentSpanId ORDER BY Attempt ASC
            ROWS BETWEEN 1 PRECEDING AND CURRENT ROW
        ) AS prev_target
    FROM llm_attempts
    WHERE $__timeFilter(Timestamp)
      AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
      AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
      AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
)
GROUP BY target, provider, model
ORDER BY target, provider, model
