-- Metadata feature values (x-switchyard-metadata) seen in the time range.
SELECT DISTINCT Metadata['feature'] AS metadata_feature
FROM llm_requests
WHERE $__timeFilter(Timestamp) AND Metadata['feature'] != ''
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
ORDER BY metadata_feature
LIMIT 1000
