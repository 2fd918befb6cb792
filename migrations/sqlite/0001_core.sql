-- Core control-plane tables (SQLite dialect): strategies and their versions,
-- credentials (secret sealed with AES-256-GCM), traders, admin users, sessions.
-- Conventions (same in the MariaDB files): timestamps are BIGINT epoch
-- milliseconds UTC; money is the canonical decimal string (TEXT here,
-- DECIMAL(40,20) in MariaDB); JSON is TEXT holding a JSON document.

CREATE TABLE strategies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL
);

CREATE TABLE strategy_versions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    strategy_id       INTEGER NOT NULL REFERENCES strategies (id),
    version           INTEGER NOT NULL CHECK (version >= 1),
    definition        TEXT    NOT NULL,
    risk_profile      TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    created_by        TEXT    NOT NULL,
    paper_started_at  INTEGER NULL,
    protection_until  INTEGER NULL,
    UNIQUE (strategy_id, version)
);

CREATE TABLE credentials (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT    NOT NULL UNIQUE,
    access_key         TEXT    NOT NULL,
    secret_nonce       BLOB    NOT NULL,
    secret_ciphertext  BLOB    NOT NULL,
    created_at         INTEGER NOT NULL
);

CREATE TABLE traders (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT    NOT NULL,
    -- = name while the trader exists, NULL once removed: names are unique
    -- among live traders and free again after REMOVE.
    active_name        TEXT    NULL UNIQUE,
    strategy_id        INTEGER NOT NULL REFERENCES strategies (id),
    seed_krw           TEXT    NOT NULL,
    credential_id      INTEGER NULL REFERENCES credentials (id),
    mode               TEXT    NOT NULL CHECK (mode IN ('PAPER', 'LIVE')),
    run_state          TEXT    NOT NULL CHECK (run_state IN ('STOPPED', 'RUNNING', 'REMOVED')),
    armed              INTEGER NOT NULL DEFAULT 0,
    order_salt         TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    last_heartbeat_at  INTEGER NULL,
    removed_at         INTEGER NULL,
    -- FIX-8 at the database level: only a LIVE, not removed trader can be armed.
    CHECK (armed = 0 OR (mode = 'LIVE' AND run_state <> 'REMOVED'))
);
CREATE INDEX ix_traders_strategy ON traders (strategy_id);
CREATE INDEX ix_traders_credential ON traders (credential_id);

CREATE TABLE admin_users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    username       TEXT    NOT NULL UNIQUE,
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash     TEXT    NOT NULL UNIQUE,
    admin_user_id  INTEGER NOT NULL REFERENCES admin_users (id),
    csrf_token     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX ix_sessions_expires ON sessions (expires_at);
