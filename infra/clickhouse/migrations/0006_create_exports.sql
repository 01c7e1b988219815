-- Log exports (Quay's exportlogs): one row per export, and one row per delivery
-- channel of an export. Both are control-plane rows, versioned and read with FINAL.
-- Each row has a single writer at a time (the API creates the export, then its
-- generation job owns it; each channel's delivery job owns its own row), so
-- concurrent channels never overwrite each other's state.

CREATE TABLE IF NOT EXISTS exports
(
    export_id      String,
    namespace      String,
    repository     String,
    requested_by   String,
    schedule_id    String,
    window_start   DateTime64(3, 'UTC'),
    window_end     DateTime64(3, 'UTC'),
    kinds          Array(String),
    exclude_kinds  Array(String),
    performer      String,
    format         LowCardinality(String),
    compress       LowCardinality(String),
    callback_url   String,
    callback_email String,
    -- queued | running | generated | failed
    status         LowCardinality(String),
    -- Quay's outcome once known: success | failed | timedout | invalidrequest
    outcome        LowCardinality(String),
    attempts       UInt32,
    last_error     String,
    rows           UInt64,
    bytes          UInt64,
    file_id        String,
    link_url       String,
    link_expires   Nullable(DateTime64(3, 'UTC')),
    created        DateTime64(3, 'UTC'),
    updated        DateTime64(3, 'UTC'),
    version        UInt64,
    is_deleted     UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY export_id;

CREATE TABLE IF NOT EXISTS export_deliveries
(
    export_id        String,
    -- callback | email
    channel          LowCardinality(String),
    target           String,
    -- pending | delivering | delivered | failed
    status           LowCardinality(String),
    -- the export outcome this channel reports (success | failed | timedout | invalidrequest)
    reports          LowCardinality(String),
    attempts         UInt32,
    last_error       String,
    last_status_code UInt16,
    webhook_id       String,
    next_attempt     Nullable(DateTime64(3, 'UTC')),
    delivered_at     Nullable(DateTime64(3, 'UTC')),
    updated          DateTime64(3, 'UTC'),
    version          UInt64,
    is_deleted       UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (export_id, channel);
