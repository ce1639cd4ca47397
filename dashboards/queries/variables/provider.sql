-- Providers attempted in the time range, for the selected services.
SELECT DISTINCT Provider
FROM llm_attempts
WHERE $__timeFilter(Timestamp) AND Provider != ''
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
ORDER BY Provider
