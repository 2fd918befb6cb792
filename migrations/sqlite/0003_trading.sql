-- Trading state and its append-only history (SQLite dialect): order intents,
-- orders (current view) + order_events, fills, positions (current view) +
-- position_events, trades, equity snapshots, signals, trader safety state.

CREATE TABLE order_intents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    trader_id   INTEGER NOT NULL REFERENCES traders (id),
    created_at  INTEGER NOT NULL
);

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    intent_id        INTEGER NOT NULL REFERENCES order_intents (id),
    attempt          INTEGER NOT NULL,
    trader_id        INTEGER NOT NULL REFERENCES traders (id),
    identifier       TEXT    NOT NULL UNIQUE,
    uuid             TEXT    NULL UNIQUE,
    market           TEXT    NOT NULL,
    side             TEXT    NOT NULL,
    ord_type         TEXT    NOT NULL,
    time_in_force    TEXT    NULL,
    price            TEXT    NULL,
    volume           TEXT    NULL,
    status           TEXT    NOT NULL,
    executed_volume  TEXT    NOT NULL,
    executed_funds   TEXT    NOT NULL,
    paid_fee         TEXT    NOT NULL,
    error            TEXT    NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (intent_id, attempt)
);
CREATE INDEX ix_orders_trader_status ON orders (trader_id, status);

CREATE TABLE order_events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id         INTEGER NOT NULL REFERENCES orders (id),
    trader_id        INTEGER NOT NULL REFERENCES traders (id),
    identifier       TEXT    NOT NULL,
    ts               INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    uuid             TEXT    NULL,
    executed_volume  TEXT    NOT NULL,
    executed_funds   TEXT    NOT NULL,
    paid_fee         TEXT    NOT NULL,
    error            TEXT    NULL
);
CREATE INDEX ix_order_events_order ON order_events (order_id);

CREATE TABLE fills (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    trader_id   INTEGER NOT NULL REFERENCES traders (id),
    trade_uuid  TEXT    NOT NULL UNIQUE,
    order_uuid  TEXT    NOT NULL,
    identifier  TEXT    NOT NULL,
    market      TEXT    NOT NULL,
    side        TEXT    NOT NULL,
    price       TEXT    NOT NULL,
    volume      TEXT    NOT NULL,
    funds       TEXT    NOT NULL,
    fee         TEXT    NOT NULL,
    ts          INTEGER NOT NULL
);
CREATE INDEX ix_fills_trader_ts ON fills (trader_id, ts);
CREATE INDEX ix_fills_identifier ON fills (identifier);

CREATE TABLE positions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    trader_id        INTEGER NOT NULL REFERENCES traders (id),
    market           TEXT    NOT NULL,
    open_time        INTEGER NOT NULL,
    avg_entry_price  TEXT    NOT NULL,
    size             TEXT    NOT NULL,
    cost_krw         TEXT    NOT NULL,
    stop_price       TEXT    NOT NULL,
    high_water       TEXT    NOT NULL,
    tags             TEXT    NOT NULL,
    mark_price       TEXT    NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX ix_positions_trader ON positions (trader_id);

CREATE TABLE position_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    position_id  INTEGER NOT NULL,
    trader_id    INTEGER NOT NULL REFERENCES traders (id),
    market       TEXT    NOT NULL,
    ts           INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    snapshot     TEXT    NULL
);
CREATE INDEX ix_position_events_position ON position_events (position_id);
CREATE INDEX ix_position_events_trader ON position_events (trader_id, ts);

CREATE TABLE trades (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    trader_id    INTEGER NOT NULL REFERENCES traders (id),
    position_id  INTEGER NULL,
    market       TEXT    NOT NULL,
    entry_time   INTEGER NOT NULL,
    entry_price  TEXT    NOT NULL,
    size         TEXT    NOT NULL,
    stop_price   TEXT    NOT NULL,
    exit_time    INTEGER NOT NULL,
    exit_price   TEXT    NOT NULL,
    pnl          TEXT    NOT NULL,
    mode         TEXT    NOT NULL
);
CREATE INDEX ix_trades_trader_exit ON trades (trader_id, exit_time);

CREATE TABLE equity_snapshots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    trader_id   INTEGER NOT NULL REFERENCES traders (id),
    ts          INTEGER NOT NULL,
    equity_krw  TEXT    NOT NULL,
    cash_krw    TEXT    NOT NULL
);
CREATE INDEX ix_equity_trader_ts ON equity_snapshots (trader_id, ts);
CREATE INDEX ix_equity_ts ON equity_snapshots (ts);

CREATE TABLE signals (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    trader_id     INTEGER NOT NULL REFERENCES traders (id),
    market        TEXT    NOT NULL,
    ts            INTEGER NOT NULL,
    total_score   REAL    NOT NULL,
    scores        TEXT    NOT NULL,
    regime        TEXT    NULL,
    action        TEXT    NOT NULL,
    reason_codes  TEXT    NOT NULL
);
CREATE INDEX ix_signals_trader_ts ON signals (trader_id, ts);

CREATE TABLE trader_safety_state (
    trader_id           INTEGER NOT NULL PRIMARY KEY REFERENCES traders (id),
    trading_day         TEXT    NOT NULL,
    daily_loss_krw      TEXT    NOT NULL,
    consecutive_losses  INTEGER NOT NULL,
    kill_switch         INTEGER NOT NULL,
    kill_reason         TEXT    NULL,
    blacklist           TEXT    NOT NULL,
    updated_at          INTEGER NOT NULL
);
