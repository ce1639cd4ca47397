-- Applied migration versions. On a cluster every node holds a replica of one copy, so the
-- runner sees the same history whichever node it talks to.
CREATE TABLE IF NOT EXISTS {{database}}.schema_migrations{{on_cluster}} (
    Version UInt32,
    Name String,
    AppliedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = {{engine_unsharded:MergeTree}}
ORDER BY Version;
