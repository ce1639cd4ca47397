-- Share of each service's guarded requests (those that ran guardrails: GuardrailVerdict set) that a
-- guardrail denied with 446, over the rule's window (5 minutes). A service needs 10 guarded requests
-- in the window for its share to count, so one denied request of a quiet service does not page.
SELECT
    ServiceName AS service,
    countIf(GuardrailVerdict = 'denied') / count() AS denied_share
FROM llm_requests
WHERE $__timeFilter(Timestamp)
  AND GuardrailVerdict != ''
GROUP BY service
HAVING count() >= 10
