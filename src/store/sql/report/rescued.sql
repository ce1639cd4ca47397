-- Requests, failures and rescues over the window (minute states). Source columns are
-- qualified because the output aliases reuse their names.
SELECT
    sum(s.Requests) AS Requests,
    sum(s.Failed) AS Failed,
    sum(s.FailedFirstAttempts) AS FailedFirstAttempts,
    sum(s.Rescued) AS Rescued,
    sum(s.Rescued) / nullIf(sum(s.FailedFirstAttempts), 0) AS RescueRate
FROM llm_rescued_1m_state AS s
WHERE s.Minute >= toStartOfMinute(now() - INTERVAL {{since_seconds}} SECOND)
