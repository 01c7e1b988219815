-- Daily rollups, fed by materialized views over the duplicate-free usage_logs.
-- Counts are summed at merge time; queries always sum() again, so unmerged parts
-- never show. Every aggregate is exact: partial days at the edges of a window are
-- counted from usage_logs itself (see packages/clickhouse/src/tables/aggregates.ts).

-- namespace × repository × kind × day: namespace and repository aggregates, group_by=repository.
CREATE TABLE IF NOT EXISTS usage_daily_repo
(
    source     LowCardinality(String),
    namespace  String,
    day        Date,
    kind       LowCardinality(String),
    repository String,
    count      UInt64
)
ENGINE = SummingMergeTree(count)
PARTITION BY toYYYYMM(day)
ORDER BY (source, namespace, day, kind, repository)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_repo_mv TO usage_daily_repo AS
SELECT source, namespace, toDate(datetime) AS day, kind, repository, count() AS count
FROM usage_logs
GROUP BY source, namespace, day, kind, repository;

-- namespace × performer × kind × day: performer filters, group_by=performer.
CREATE TABLE IF NOT EXISTS usage_daily_performer
(
    source     LowCardinality(String),
    namespace  String,
    day        Date,
    kind       LowCardinality(String),
    performer  String,
    count      UInt64
)
ENGINE = SummingMergeTree(count)
PARTITION BY toYYYYMM(day)
ORDER BY (source, namespace, performer, day, kind)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_performer_mv TO usage_daily_performer AS
SELECT source, namespace, toDate(datetime) AS day, kind, performer, count() AS count
FROM usage_logs
GROUP BY source, namespace, day, kind, performer;

-- kind × day across all namespaces: the superuser's aggregate over years.
CREATE TABLE IF NOT EXISTS usage_daily_kind
(
    source LowCardinality(String),
    day    Date,
    kind   LowCardinality(String),
    count  UInt64
)
ENGINE = SummingMergeTree(count)
ORDER BY (day, kind, source)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_kind_mv TO usage_daily_kind AS
SELECT source, toDate(datetime) AS day, kind, count() AS count
FROM usage_logs
GROUP BY source, day, kind;
