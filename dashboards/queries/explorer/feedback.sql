-- Feedback about the selected request (or the latest feedback when none is selected).
SELECT
    Timestamp AS time,
    TraceId AS request_trace_id,
    Value AS value,
    Weight AS weight,
    toJSONString(Metadata) AS metadata
FROM llm_feedback
WHERE $__timeFilter(Timestamp)
  AND $__conditionalAll(TraceId = ${trace_id:sqlstring}, $trace_id)
ORDER BY Timestamp DESC
LIMIT 200
