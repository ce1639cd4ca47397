-- Sidecar requests per second, per service. Provider/model filters match the answering target,
-- so requests that failed everywhere drop out when a provider or model is selected.
SELECT
    $__timeInterval(Timestamp) AS time,
    ServiceName AS service,
    count() / $__interval_s AS rps
FROM llm_requests
WHERE $__timeFilter(Timestamp)
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
  AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
  AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
GROUP BY time, service
ORDER BY time, service
