-- namespace × kind × day: the namespace-wide aggregate (the API's most common question)
-- without paying for the repository column of usage_daily_repo.
CREATE TABLE IF NOT EXISTS usage_daily_namespace
(
    source    LowCardinality(String),
    namespace String,
    day       Date,
    kind      LowCardinality(String),
    count     UInt64
)
ENGINE = SummingMergeTree(count)
PARTITION BY toYYYYMM(day)
ORDER BY (source, namespace, day, kind)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_daily_namespace_mv TO usage_daily_namespace AS
SELECT source, namespace, toDate(datetime) AS day, kind, count() AS count
FROM usage_logs
GROUP BY source, namespace, day, kind;

-- quaylogs:quiesce-writers (the backfill must not race the loader: every writer pauses between batches meanwhile)
-- Backfill what was stored before this migration. Migrations run before any writer starts;
-- emptying first keeps a re-run (after a crash before this file was recorded) exact.
TRUNCATE TABLE usage_daily_namespace;

INSERT INTO usage_daily_namespace
SELECT source, namespace, toDate(datetime) AS day, kind, count() AS count
FROM usage_logs
GROUP BY source, namespace, day, kind;
