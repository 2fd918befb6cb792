-- Market data (SQLite dialect): candles, collector health, regimes (REG-5).

CREATE TABLE candles (
    market         TEXT    NOT NULL,
    interval_code  TEXT    NOT NULL,
    ts             INTEGER NOT NULL,
    open           TEXT    NOT NULL,
    high           TEXT    NOT NULL,
    low            TEXT    NOT NULL,
    close          TEXT    NOT NULL,
    volume         TEXT    NOT NULL,
    value_krw      TEXT    NULL,
    PRIMARY KEY (market, interval_code, ts)
) WITHOUT ROWID;

CREATE TABLE collector_health (
    market          TEXT    NOT NULL PRIMARY KEY,
    last_candle_ts  INTEGER NULL,
    lag_ms          INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE market_regimes (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    ts                   INTEGER NOT NULL,
    label                TEXT    NOT NULL,
    regime_score         REAL    NOT NULL,
    btc_adx_4h           REAL    NOT NULL,
    btc_atr_pct_4h       REAL    NOT NULL,
    breadth_up_1h        REAL    NOT NULL,
    dispersion_1h        REAL    NOT NULL,
    top5_value_share_1h  REAL    NOT NULL,
    whipsaw_5m           REAL    NOT NULL,
    engine_version       TEXT    NOT NULL
);
CREATE INDEX ix_market_regimes_ts ON market_regimes (ts);
