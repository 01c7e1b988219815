-- Scheduled exports (a quaylogs extension): what to export and how often, and one
-- row per exported period. A period's row is written when its export is submitted;
-- the export id is derived from (schedule, period start), so a duplicate fire of the
-- scheduler finds the row, or at worst submits the very same export id again.

CREATE TABLE IF NOT EXISTS export_schedules
(
    schedule_id    String,
    namespace      String,
    repository     String,
    created_by     String,
    -- daily | weekly | cron
    every          LowCardinality(String),
    -- the cron pattern (UTC) that fires it; daily = '0 0 * * *', weekly = '0 0 * * 1'
    pattern        String,
    kinds          Array(String),
    performer      String,
    format         LowCardinality(String),
    compress       LowCardinality(String),
    callback_url   String,
    callback_email String,
    created        DateTime64(3, 'UTC'),
    version        UInt64,
    is_deleted     UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY schedule_id;

CREATE TABLE IF NOT EXISTS export_schedule_runs
(
    schedule_id  String,
    window_start DateTime64(3, 'UTC'),
    window_end   DateTime64(3, 'UTC'),
    export_id    String,
    fired_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(fired_at)
ORDER BY (schedule_id, window_start);
