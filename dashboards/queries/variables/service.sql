-- Services (resource service.name of the sidecars) seen in the time range.
SELECT DISTINCT ServiceName
FROM llm_requests
WHERE $__timeFilter(Timestamp) AND ServiceName != ''
ORDER BY ServiceName
