-- Market data (MariaDB dialect): candles, collector health, regimes (REG-5).

CREATE TABLE candles (
    market         VARCHAR(20)    NOT NULL,
    interval_code  VARCHAR(8)     NOT NULL,
    ts             BIGINT         NOT NULL,
    open           DECIMAL(40,20) NOT NULL,
    high           DECIMAL(40,20) NOT NULL,
    low            DECIMAL(40,20) NOT NULL,
    close          DECIMAL(40,20) NOT NULL,
    volume         DECIMAL(40,20) NOT NULL,
    value_krw      DECIMAL(40,20) NULL,
    PRIMARY KEY (market, interval_code, ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE collector_health (
    market          VARCHAR(20) NOT NULL PRIMARY KEY,
    last_candle_ts  BIGINT      NULL,
    lag_ms          BIGINT      NOT NULL,
    updated_at      BIGINT      NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE market_regimes (
    id                   BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ts                   BIGINT      NOT NULL,
    label                VARCHAR(32) NOT NULL,
    regime_score         DOUBLE      NOT NULL,
    btc_adx_4h           DOUBLE      NOT NULL,
    btc_atr_pct_4h       DOUBLE      NOT NULL,
    breadth_up_1h        DOUBLE      NOT NULL,
    dispersion_1h        DOUBLE      NOT NULL,
    top5_value_share_1h  DOUBLE      NOT NULL,
    whipsaw_5m           DOUBLE      NOT NULL,
    engine_version       VARCHAR(32) NOT NULL,
    KEY ix_market_regimes_ts (ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
