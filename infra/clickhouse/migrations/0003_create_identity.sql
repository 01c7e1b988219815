-- Control plane: quaylogs' own users, their admin grants and their app tokens.
-- Mutable rows live in ReplacingMergeTree(version, is_deleted) and are read with FINAL.

CREATE TABLE IF NOT EXISTS users
(
    username   String,
    email      String,
    superuser  UInt8,
    created    DateTime64(3, 'UTC'),
    version    UInt64,
    is_deleted UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY username;

-- Admin grants: the organizations and repositories (ns/repo) a user administers.
CREATE TABLE IF NOT EXISTS grants
(
    username      String,
    organizations Array(String),
    repositories  Array(String),
    version       UInt64,
    is_deleted    UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY username;

-- App tokens. Only a SHA-256 of the token is used to authenticate; the token
-- code itself is kept AES-256-GCM-encrypted (key from QUAYLOGS_SECRET) solely so
-- that GET /api/v1/user/apptoken/{uuid} can return it as Quay does.
CREATE TABLE IF NOT EXISTS app_tokens
(
    uuid          String,
    username      String,
    title         String,
    token_hash    String,
    code_sealed   String,
    created       DateTime64(3, 'UTC'),
    expiration    Nullable(DateTime64(3, 'UTC')),
    version       UInt64,
    is_deleted    UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY uuid;

-- When each app token was last used. Kept apart from app_tokens so that recording
-- a use can never overwrite (and so undo) a concurrent revocation.
CREATE TABLE IF NOT EXISTS app_token_access
(
    uuid          String,
    last_accessed DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(last_accessed)
ORDER BY uuid;

-- What quaylogs knows about Quay accounts (for avatars and namespace kinds).
CREATE TABLE IF NOT EXISTS accounts
(
    source  LowCardinality(String),
    name    String,
    kind    LowCardinality(String),
    email   String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (name, source);
