-- Metadata user values (x-switchyard-metadata) seen in the time range.
SELECT DISTINCT Metadata['user'] AS metadata_user
FROM llm_requests
WHERE $__timeFilter(Timestamp) AND Metadata['user'] != ''
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
ORDER BY metadata_user
LIMIT 1000
