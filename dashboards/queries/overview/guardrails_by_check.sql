-- Guardrail checks over the time range, per guardrail and check: how many ran, failed, denied
-- (block: the request or the answer refused with 446) and refused an attempt (retry), the failure
-- share and the mean time per check. From the hourly rollup llm_guardrails_1h, by whole hours: the
-- hour the range starts in counts whole; filtered by service (the rollup has no provider or model).
SELECT
    Guardrail AS guardrail,
    CheckId AS check_id,
    Phase AS phase,
    Action AS action,
    sum(Checks) AS checks,
    sum(Failures) AS failures,
    sum(Denials) AS denials,
    sum(Retries) AS retries,
    sum(Failures) / sum(Checks) AS failure_share,
    sum(AvgDurationMs * Checks) / sum(Checks) AS avg_ms
FROM llm_guardrails_1h
WHERE Hour >= toStartOfHour($__fromTime) AND Hour <= $__toTime
  AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
GROUP BY guardrail, check_id, phase, action
ORDER BY denials DESC, failures DESC, checks DESC, guardrail, check_id
LIMIT 50
