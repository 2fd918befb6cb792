-- Events and audit logs (MariaDB dialect): the live action log (SSE resumes
-- from events.id), config-change audit, trader and model lifecycle audits.

CREATE TABLE events (
    id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ts         BIGINT      NOT NULL,
    trader_id  BIGINT      NULL,
    level      VARCHAR(8)  NOT NULL CHECK (level IN ('INFO', 'WARN', 'CRITICAL')),
    kind       VARCHAR(64) NOT NULL,
    message    TEXT        NOT NULL,
    data       JSON        NOT NULL,
    KEY ix_events_trader (trader_id, id),
    KEY ix_events_ts (ts),
    CONSTRAINT fk_events_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE config_audit (
    id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ts         BIGINT       NOT NULL,
    actor      VARCHAR(128) NOT NULL,
    entity     VARCHAR(64)  NOT NULL,
    entity_id  VARCHAR(128) NOT NULL,
    old_value  JSON         NULL,
    new_value  JSON         NULL,
    KEY ix_config_audit_entity (entity, entity_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE trader_transitions (
    id              BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    trader_id       BIGINT       NOT NULL,
    at              BIGINT       NOT NULL,
    event           VARCHAR(32)  NOT NULL,
    actor           VARCHAR(128) NOT NULL,
    from_run_state  VARCHAR(16)  NOT NULL,
    from_mode       VARCHAR(8)   NOT NULL,
    from_armed      BOOLEAN      NOT NULL,
    to_run_state    VARCHAR(16)  NOT NULL,
    to_mode         VARCHAR(8)   NOT NULL,
    to_armed        BOOLEAN      NOT NULL,
    KEY ix_trader_transitions_trader (trader_id, id),
    CONSTRAINT fk_trader_transitions_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE model_transitions (
    id                BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    model_version_id  BIGINT       NOT NULL,
    at                BIGINT       NOT NULL,
    actor             VARCHAR(128) NOT NULL,
    from_stage        VARCHAR(32)  NOT NULL,
    to_stage          VARCHAR(32)  NOT NULL,
    event             JSON         NOT NULL,
    KEY ix_model_transitions_model (model_version_id, id),
    CONSTRAINT fk_model_transitions_model FOREIGN KEY (model_version_id) REFERENCES model_versions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
