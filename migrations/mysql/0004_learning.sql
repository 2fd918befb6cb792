-- AI learning pipeline (MariaDB dialect): model versions and candidates,
-- scan runs and feature snapshots (OPT-1), bandit states (OPT-4), config versions.

CREATE TABLE model_versions (
    id                 BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    strategy_id        BIGINT      NULL,
    stage              VARCHAR(32) NOT NULL,
    params             JSON        NOT NULL,
    metrics            JSON        NOT NULL,
    is_baseline        BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at         BIGINT      NOT NULL,
    updated_at         BIGINT      NOT NULL,
    paper_deployed_at  BIGINT      NULL,
    rolled_back_at     BIGINT      NULL,
    KEY ix_model_versions_stage (stage),
    CONSTRAINT fk_model_versions_strategy FOREIGN KEY (strategy_id) REFERENCES strategies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE model_candidates (
    id                BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tuning_run        VARCHAR(128) NOT NULL,
    model_version_id  BIGINT       NULL,
    params            JSON         NOT NULL,
    metrics           JSON         NOT NULL,
    verdict           VARCHAR(16)  NOT NULL,
    created_at        BIGINT       NOT NULL,
    KEY ix_model_candidates_run (tuning_run),
    CONSTRAINT fk_model_candidates_model FOREIGN KEY (model_version_id) REFERENCES model_versions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE scan_runs (
    id               BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ts               BIGINT      NOT NULL,
    trader_id        BIGINT      NULL,
    regime           VARCHAR(32) NULL,
    markets_scanned  BIGINT      NOT NULL,
    data             JSON        NOT NULL,
    KEY ix_scan_runs_ts (ts),
    CONSTRAINT fk_scan_runs_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE feature_snapshots (
    id              BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    scan_run_id     BIGINT      NOT NULL,
    market          VARCHAR(20) NOT NULL,
    ts              BIGINT      NOT NULL,
    features        JSON        NOT NULL,
    score           DOUBLE      NULL,
    label_ret_60m   DOUBLE      NULL,
    label_ret_240m  DOUBLE      NULL,
    label_mfe_240m  DOUBLE      NULL,
    label_mae_240m  DOUBLE      NULL,
    label_dd_240m   DOUBLE      NULL,
    labelled_at     BIGINT      NULL,
    KEY ix_feature_snapshots_ts (ts),
    KEY ix_feature_snapshots_run (scan_run_id),
    CONSTRAINT fk_feature_snapshots_run FOREIGN KEY (scan_run_id) REFERENCES scan_runs (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE bandit_states (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    arm         VARCHAR(128) NOT NULL,
    regime      VARCHAR(32)  NOT NULL,
    alpha       DOUBLE       NOT NULL,
    beta        DOUBLE       NOT NULL,
    pulls       BIGINT       NOT NULL,
    updated_at  BIGINT       NOT NULL,
    UNIQUE KEY uq_bandit_states (arm, regime)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE config_versions (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    scope       VARCHAR(128) NOT NULL,
    version     BIGINT       NOT NULL CHECK (version >= 1),
    data        JSON         NOT NULL,
    created_at  BIGINT       NOT NULL,
    created_by  VARCHAR(128) NOT NULL,
    UNIQUE KEY uq_config_versions (scope, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
