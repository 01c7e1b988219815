-- The poller's progress: per polled source and namespace ('' = a superuser source, which
-- reads every namespace at once), the first UTC day the next poll reads. Quay's logs API
-- only knows whole days, so a poll re-reads from that day to today; content event keys
-- make the overlap harmless. The last poll's outcome is kept for status pages.
-- A newer version replaces an older one; read with FINAL.
CREATE TABLE IF NOT EXISTS poll_checkpoints
(
    source        LowCardinality(String),
    namespace     String,
    next_day      Date,
    last_poll_at  Nullable(DateTime64(3, 'UTC')),
    last_entry_at Nullable(DateTime64(3, 'UTC')),
    entries_read  UInt64,
    last_error    String,
    last_error_at Nullable(DateTime64(3, 'UTC')),
    version       UInt64,
    is_deleted    UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (source, namespace);
