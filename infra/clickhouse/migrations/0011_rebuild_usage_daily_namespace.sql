-- quaylogs:quiesce-writers (the copy must hold every count the view wrote: writers pause between batches while it runs)
-- usage_daily_namespace for the namespace aggregate: namespace first (the aggregate fixes it, not
-- the source), one partition instead of one per month (a 30-day window read fewer parts), and
-- 256-row granules (a namespace's days are a few hundred rows). Rebuilt as 0010 rebuilds
-- usage_logs: copy, swap atomically (EXCHANGE TABLES; the view writes into the table by name),
-- drop the old table; writers paused meanwhile, every step idempotent. The copy sums the
-- counts per key, so unmerged parts (and a purge's negated counts) arrive folded.
DROP TABLE IF EXISTS usage_daily_namespace_rebuild SYNC;

CREATE TABLE IF NOT EXISTS usage_daily_namespace_rebuild
(
    source    LowCardinality(String),
    namespace String,
    day       Date,
    kind      LowCardinality(String),
    count     UInt64
)
ENGINE = SummingMergeTree(count)
ORDER BY (namespace, day, kind, source)
SETTINGS non_replicated_deduplication_window = 10000, index_granularity = 256;

INSERT INTO usage_daily_namespace_rebuild SETTINGS distributed_foreground_insert = 1
SELECT source, namespace, day, kind, sum(count) AS count
FROM usage_daily_namespace
GROUP BY source, namespace, day, kind
HAVING count > 0;

EXCHANGE TABLES usage_daily_namespace AND usage_daily_namespace_rebuild;

DROP TABLE IF EXISTS usage_daily_namespace_rebuild SYNC;
