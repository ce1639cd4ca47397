-- Feedback from POST /v1/feedback. TraceId is the x-switchyard-trace-id value, joined to
-- llm_requests.RequestTraceId at query time (feedback may arrive before the spans).
CREATE TABLE IF NOT EXISTS {{database}}.{{local:llm_feedback}}{{on_cluster}} (
    Timestamp DateTime64(3) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    Value Float64,
    Weight Float64 DEFAULT 1,
    Metadata Map(String, String),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = {{engine:MergeTree}}
PARTITION BY toYYYYMM(Timestamp)
ORDER BY (TraceId, Timestamp)
{{ttl:toDateTime(Timestamp)}};

{{distributed:llm_feedback:cityHash64(TraceId)}};
