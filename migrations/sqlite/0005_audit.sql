-- Events and audit logs (SQLite dialect): the live action log (SSE resumes
-- from events.id), config-change audit, trader and model lifecycle audits.

CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ts         INTEGER NOT NULL,
    trader_id  INTEGER NULL REFERENCES traders (id),
    level      TEXT    NOT NULL CHECK (level IN ('INFO', 'WARN', 'CRITICAL')),
    kind       TEXT    NOT NULL,
    message    TEXT    NOT NULL,
    data       TEXT    NOT NULL
);
CREATE INDEX ix_events_trader ON events (trader_id, id);
CREATE INDEX ix_events_ts ON events (ts);

CREATE TABLE config_audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ts         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    entity     TEXT    NOT NULL,
    entity_id  TEXT    NOT NULL,
    old_value  TEXT    NULL,
    new_value  TEXT    NULL
);
CREATE INDEX ix_config_audit_entity ON config_audit (entity, entity_id);

CREATE TABLE trader_transitions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    trader_id       INTEGER NOT NULL REFERENCES traders (id),
    at              INTEGER NOT NULL,
    event           TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    from_run_state  TEXT    NOT NULL,
    from_mode       TEXT    NOT NULL,
    from_armed      INTEGER NOT NULL,
    to_run_state    TEXT    NOT NULL,
    to_mode         TEXT    NOT NULL,
    to_armed        INTEGER NOT NULL
);
CREATE INDEX ix_trader_transitions_trader ON trader_transitions (trader_id, id);

CREATE TABLE model_transitions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    model_version_id  INTEGER NOT NULL REFERENCES model_versions (id),
    at                INTEGER NOT NULL,
    actor             TEXT    NOT NULL,
    from_stage        TEXT    NOT NULL,
    to_stage          TEXT    NOT NULL,
    event             TEXT    NOT NULL
);
CREATE INDEX ix_model_transitions_model ON model_transitions (model_version_id, id);
