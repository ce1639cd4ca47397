-- Guardrail checks per hour, service, guardrail, check, phase and action, from the request
-- spans' switchyard.guardrail events (one per check run; never the text checked): how many ran,
-- how many failed, how many of the failures denied (action block: the request or answer was
-- refused with 446) or refused an attempt (action retry), and their total time.
CREATE TABLE IF NOT EXISTS {{database}}.{{local:llm_guardrails_1h_state}}{{on_cluster}} (
    Hour DateTime CODEC(Delta, ZSTD(1)),
    ServiceName LowCardinality(String),
    Guardrail LowCardinality(String),
    CheckId LowCardinality(String),
    Phase LowCardinality(String),
    Action LowCardinality(String),
    Checks SimpleAggregateFunction(sum, UInt64),
    Failures SimpleAggregateFunction(sum, UInt64),
    Denials SimpleAggregateFunction(sum, UInt64),
    Retries SimpleAggregateFunction(sum, UInt64),
    DurationMs SimpleAggregateFunction(sum, Float64)
) ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(Hour)
ORDER BY (Hour, ServiceName, Guardrail, CheckId, Phase, Action)
{{ttl:Hour}};

{{distributed:llm_guardrails_1h_state:cityHash64(Guardrail, CheckId)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.llm_guardrails_1h_mv{{on_cluster}}
TO {{database}}.{{local:llm_guardrails_1h_state}}
AS SELECT
    toStartOfHour(ev.1) AS Hour,
    src.ServiceName AS ServiceName,
    ev.3['switchyard.guardrail.id'] AS Guardrail,
    ev.3['switchyard.guardrail.check'] AS CheckId,
    ev.3['switchyard.guardrail.phase'] AS Phase,
    ev.3['switchyard.guardrail.action'] AS Action,
    count() AS Checks,
    countIf(ev.3['switchyard.guardrail.verdict'] = 'fail') AS Failures,
    countIf(ev.3['switchyard.guardrail.verdict'] = 'fail' AND ev.3['switchyard.guardrail.action'] = 'block') AS Denials,
    countIf(ev.3['switchyard.guardrail.verdict'] = 'fail' AND ev.3['switchyard.guardrail.action'] = 'retry') AS Retries,
    sum(toFloat64OrZero(ev.3['switchyard.guardrail.duration_ms'])) AS DurationMs
FROM {{database}}.{{local:otel_traces}} AS src
ARRAY JOIN arrayFilter(e -> e.2 = 'switchyard.guardrail', arrayZip(src.`Events.Timestamp`, src.`Events.Name`, src.`Events.Attributes`)) AS ev
WHERE src.SpanKind IN ('Server', 'SPAN_KIND_SERVER')
GROUP BY Hour, ServiceName, Guardrail, CheckId, Phase, Action;

CREATE VIEW IF NOT EXISTS {{database}}.llm_guardrails_1h{{on_cluster}} AS
SELECT
    Hour, ServiceName, Guardrail, CheckId, Phase, Action,
    Checks, Failures, Denials, Retries,
    if(Checks = 0, 0, DurationMs / Checks) AS AvgDurationMs
FROM (
    SELECT
        Hour, ServiceName, Guardrail, CheckId, Phase, Action,
        sum(Checks) AS Checks,
        sum(Failures) AS Failures,
        sum(Denials) AS Denials,
        sum(Retries) AS Retries,
        sum(DurationMs) AS DurationMs
    FROM {{database}}.llm_guardrails_1h_state
    GROUP BY Hour, ServiceName, Guardrail, CheckId, Phase, Action
);
