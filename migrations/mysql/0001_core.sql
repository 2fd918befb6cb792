-- Core control-plane tables (MariaDB dialect): strategies and their versions,
-- credentials (secret sealed with AES-256-GCM), traders, admin users, sessions.
-- Conventions (same in the SQLite files): timestamps are BIGINT epoch
-- milliseconds UTC; money is DECIMAL(40,20) (TEXT canonical decimal in SQLite);
-- JSON columns hold a JSON document; utf8mb4_bin gives the byte-exact
-- comparisons SQLite uses. MariaDB DDL is not transactional: keep files small.

CREATE TABLE strategies (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name        VARCHAR(128) NOT NULL,
    created_at  BIGINT       NOT NULL,
    created_by  VARCHAR(128) NOT NULL,
    UNIQUE KEY uq_strategies_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE strategy_versions (
    id                BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    strategy_id       BIGINT       NOT NULL,
    version           BIGINT       NOT NULL CHECK (version >= 1),
    definition        JSON         NOT NULL,
    risk_profile      VARCHAR(32)  NOT NULL,
    created_at        BIGINT       NOT NULL,
    created_by        VARCHAR(128) NOT NULL,
    paper_started_at  BIGINT       NULL,
    protection_until  BIGINT       NULL,
    UNIQUE KEY uq_strategy_versions (strategy_id, version),
    CONSTRAINT fk_strategy_versions_strategy FOREIGN KEY (strategy_id) REFERENCES strategies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE credentials (
    id                 BIGINT        NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name               VARCHAR(128)  NOT NULL,
    access_key         VARCHAR(128)  NOT NULL,
    secret_nonce       VARBINARY(12) NOT NULL,
    secret_ciphertext  BLOB          NOT NULL,
    created_at         BIGINT        NOT NULL,
    UNIQUE KEY uq_credentials_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE traders (
    id                 BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name               VARCHAR(128)   NOT NULL,
    -- = name while the trader exists, NULL once removed: names are unique
    -- among live traders and free again after REMOVE.
    active_name        VARCHAR(128)   NULL,
    strategy_id        BIGINT         NOT NULL,
    seed_krw           DECIMAL(40,20) NOT NULL,
    credential_id      BIGINT         NULL,
    mode               VARCHAR(8)     NOT NULL CHECK (mode IN ('PAPER', 'LIVE')),
    run_state          VARCHAR(16)    NOT NULL CHECK (run_state IN ('STOPPED', 'RUNNING', 'REMOVED')),
    armed              BOOLEAN        NOT NULL DEFAULT FALSE,
    order_salt         VARCHAR(16)    NOT NULL,
    created_at         BIGINT         NOT NULL,
    updated_at         BIGINT         NOT NULL,
    last_heartbeat_at  BIGINT         NULL,
    removed_at         BIGINT         NULL,
    UNIQUE KEY uq_traders_active_name (active_name),
    -- FIX-8 at the database level: only a LIVE, not removed trader can be armed.
    CONSTRAINT ck_traders_armed CHECK (armed = 0 OR (mode = 'LIVE' AND run_state <> 'REMOVED')),
    CONSTRAINT fk_traders_strategy FOREIGN KEY (strategy_id) REFERENCES strategies (id),
    CONSTRAINT fk_traders_credential FOREIGN KEY (credential_id) REFERENCES credentials (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE admin_users (
    id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username       VARCHAR(64)  NOT NULL,
    password_hash  VARCHAR(255) NOT NULL,
    created_at     BIGINT       NOT NULL,
    updated_at     BIGINT       NOT NULL,
    UNIQUE KEY uq_admin_users_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE sessions (
    id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    token_hash     VARCHAR(64)  NOT NULL,
    admin_user_id  BIGINT       NOT NULL,
    csrf_token     VARCHAR(128) NOT NULL,
    created_at     BIGINT       NOT NULL,
    expires_at     BIGINT       NOT NULL,
    UNIQUE KEY uq_sessions_token (token_hash),
    KEY ix_sessions_expires (expires_at),
    CONSTRAINT fk_sessions_admin FOREIGN KEY (admin_user_id) REFERENCES admin_users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
