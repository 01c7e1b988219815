-- Importers' progress (quaylogs import quay-db): per source, Quay database and log
-- table, the last row id whose entries are all in the ingest stream. A newer version
-- replaces an older one; read with FINAL.
CREATE TABLE IF NOT EXISTS import_checkpoints
(
    source     LowCardinality(String),
    target     String,
    table_name LowCardinality(String),
    last_id    UInt64,
    rows       UInt64,
    updated_at DateTime64(3, 'UTC'),
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (source, target, table_name);
