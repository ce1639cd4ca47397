-- Gray-failure routing per interval: hedged attempts started (switchyard.hedge) and those that
-- answered, their cut-off rivals (outcome cancelled), and slow targets ejected and returned
-- (switchyard.ejection events on request spans).
SELECT
    time,
    sum(hedges) AS hedges,
    sum(hedges_won) AS hedges_won,
    sum(cancelled) AS cancelled,
    sum(ejected) AS ejected,
    sum(returned) AS returned
FROM (
    SELECT
        $__timeInterval(Timestamp) AS time,
        countIf(Hedge) AS hedges,
        countIf(Hedge AND Outcome = 'ok') AS hedges_won,
        countIf(Outcome = 'cancelled') AS cancelled,
        0 AS ejected,
        0 AS returned
    FROM llm_attempts
    WHERE $__timeFilter(Timestamp)
      AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
      AND $__conditionalAll(Provider IN (${provider:sqlstring}), $provider)
      AND $__conditionalAll(Model IN (${model:sqlstring}), $model)
    GROUP BY time
    UNION ALL
    SELECT
        $__timeInterval(Timestamp) AS time,
        0, 0, 0,
        sum(arrayCount((n, a) -> n = 'switchyard.ejection' AND a['switchyard.ejection.action'] = 'eject', Events.Name, Events.Attributes)),
        sum(arrayCount((n, a) -> n = 'switchyard.ejection' AND a['switchyard.ejection.action'] = 'return', Events.Name, Events.Attributes))
    FROM otel_traces
    WHERE $__timeFilter(Timestamp)
      AND SpanKind IN ('Server', 'SPAN_KIND_SERVER')
      AND has(Events.Name, 'switchyard.ejection')
      AND $__conditionalAll(ServiceName IN (${service:sqlstring}), $service)
    GROUP BY time
)
GROUP BY time
ORDER BY time
