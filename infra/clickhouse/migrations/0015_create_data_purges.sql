-- Erasure of a performer's or a namespace's entries (`quaylogs purge`,
-- POST /api/v1/superuser/purge). data_purges is the audit of every erasure: who asked,
-- what, when, how many entries went, and whether it finished (latest version wins).
-- The performer is kept only as a SHA-256 hash, so the audit does not keep the name it erased.
CREATE TABLE IF NOT EXISTS data_purges
(
    purge_id         String,
    version          UInt32,
    requested_by     String,
    requested_at     DateTime64(3, 'UTC'),
    source           String,
    namespace        String,
    performer_sha256 String,
    before           Nullable(DateTime64(3, 'UTC')),
    status           LowCardinality(String),
    rows_deleted     UInt64,
    finished_at      Nullable(DateTime64(3, 'UTC'))
)
ENGINE = ReplacingMergeTree(version)
ORDER BY purge_id;

-- The exact rows one purge round erases, copied from usage_logs in one read before the
-- delete: the delete removes exactly these (by event_key) and the rollups are corrected by
-- exactly their counts, so rows a loader inserts meanwhile are untouched. Emptied when the
-- purge finishes.
CREATE TABLE IF NOT EXISTS purge_rows
(
    purge_id   String,
    round      UInt32,
    source     LowCardinality(String),
    namespace  String,
    day        Date,
    kind       LowCardinality(String),
    repository String,
    performer  String,
    event_key  UInt128
)
ENGINE = MergeTree
ORDER BY (purge_id, round, source, namespace, event_key);
