-- One row per Quay usage-log entry. Duplicates never reach this table (the loader
-- drops event_keys it already stored), which is what lets the rollups below be exact.
CREATE TABLE IF NOT EXISTS usage_logs
(
    source          LowCardinality(String),
    namespace       String,
    repository      String,
    kind            LowCardinality(String),
    performer       String,
    ip              String CODEC(ZSTD(1)),
    datetime        DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    metadata        String CODEC(ZSTD(3)),
    event_key       UInt128,
    request_url     String CODEC(ZSTD(3)),
    http_method     LowCardinality(String),
    user_agent      String CODEC(ZSTD(3)),
    request_id      String CODEC(ZSTD(1)),
    auth_type       LowCardinality(String),
    performer_kind  LowCardinality(String),
    x_forwarded_for String CODEC(ZSTD(1)),
    received_at     DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(DoubleDelta, ZSTD(1)),
    INDEX idx_repository repository TYPE bloom_filter(0.01) GRANULARITY 2,
    INDEX idx_performer performer TYPE bloom_filter(0.01) GRANULARITY 2,
    INDEX idx_kind kind TYPE set(256) GRANULARITY 2
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(datetime)
ORDER BY (source, namespace, datetime, event_key)
SETTINGS non_replicated_deduplication_window = 10000, index_granularity = 8192;
