-- AI learning pipeline (SQLite dialect): model versions and candidates,
-- scan runs and feature snapshots (OPT-1), bandit states (OPT-4), config versions.

CREATE TABLE model_versions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    strategy_id        INTEGER NULL REFERENCES strategies (id),
    stage              TEXT    NOT NULL,
    params             TEXT    NOT NULL,
    metrics            TEXT    NOT NULL,
    is_baseline        INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    paper_deployed_at  INTEGER NULL,
    rolled_back_at     INTEGER NULL
);
CREATE INDEX ix_model_versions_stage ON model_versions (stage);

CREATE TABLE model_candidates (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    tuning_run        TEXT    NOT NULL,
    model_version_id  INTEGER NULL REFERENCES model_versions (id),
    params            TEXT    NOT NULL,
    metrics           TEXT    NOT NULL,
    verdict           TEXT    NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE INDEX ix_model_candidates_run ON model_candidates (tuning_run);

CREATE TABLE scan_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    ts               INTEGER NOT NULL,
    trader_id        INTEGER NULL REFERENCES traders (id),
    regime           TEXT    NULL,
    markets_scanned  INTEGER NOT NULL,
    data             TEXT    NOT NULL
);
CREATE INDEX ix_scan_runs_ts ON scan_runs (ts);

CREATE TABLE feature_snapshots (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_run_id     INTEGER NOT NULL REFERENCES scan_runs (id),
    market          TEXT    NOT NULL,
    ts              INTEGER NOT NULL,
    features        TEXT    NOT NULL,
    score           REAL    NULL,
    label_ret_60m   REAL    NULL,
    label_ret_240m  REAL    NULL,
    label_mfe_240m  REAL    NULL,
    label_mae_240m  REAL    NULL,
    label_dd_240m   REAL    NULL,
    labelled_at     INTEGER NULL
);
CREATE INDEX ix_feature_snapshots_ts ON feature_snapshots (ts);
CREATE INDEX ix_feature_snapshots_run ON feature_snapshots (scan_run_id);

CREATE TABLE bandit_states (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    arm         TEXT    NOT NULL,
    regime      TEXT    NOT NULL,
    alpha       REAL    NOT NULL,
    beta        REAL    NOT NULL,
    pulls       INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (arm, regime)
);

CREATE TABLE config_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    scope       TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    data        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    UNIQUE (scope, version)
);
