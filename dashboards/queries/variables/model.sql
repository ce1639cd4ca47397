-- Models attempted in the time range, for the selected services and providers.
SELECT DISTINCT Model
FROM llm_attempts
WHERE $__timeFilter(Timestamp) AND Model != ''
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
  AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
ORDER BY Model
