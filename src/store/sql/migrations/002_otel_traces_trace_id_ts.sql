-- The exporter's trace-id lookup table and its materialized view
-- (sqltemplates/traces_id_ts_lookup_table.sql and traces_id_ts_lookup_mv.sql).
CREATE TABLE IF NOT EXISTS {{database}}.{{local:otel_traces_trace_id_ts}}{{on_cluster}} (
    TraceId String CODEC(ZSTD(1)),
    Start DateTime CODEC(Delta, ZSTD(1)),
    End DateTime CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = {{engine:MergeTree}}
PARTITION BY toDate(Start)
ORDER BY (TraceId, Start)
{{ttl:toDateTime(Start)}}
SETTINGS index_granularity=8192, ttl_only_drop_parts = 1;

{{distributed:otel_traces_trace_id_ts:cityHash64(TraceId)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.otel_traces_trace_id_ts_mv{{on_cluster}}
TO {{database}}.{{local:otel_traces_trace_id_ts}}
AS SELECT
    TraceId,
    min(Timestamp) as Start,
    max(Timestamp) as End
FROM {{database}}.{{local:otel_traces}}
WHERE TraceId != ''
GROUP BY TraceId;
