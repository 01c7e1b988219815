-- Global messages (Quay's /api/v1/messages): banners a superuser shows to every user of
-- the console. Control-plane rows, versioned and read with FINAL; deleting writes a
-- tombstone (is_deleted = 1).

CREATE TABLE IF NOT EXISTS global_messages
(
    uuid       String,
    content    String,
    -- text/plain | text/markdown
    media_type LowCardinality(String),
    -- info | warning | error
    severity   LowCardinality(String),
    created_by String,
    created    DateTime64(3, 'UTC'),
    version    UInt64,
    is_deleted UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY uuid;
