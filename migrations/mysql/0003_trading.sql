-- Trading state and its append-only history (MariaDB dialect): order intents,
-- orders (current view) + order_events, fills, positions (current view) +
-- position_events, trades, equity snapshots, signals, trader safety state.

CREATE TABLE order_intents (
    id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    trader_id   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT fk_order_intents_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE orders (
    id               BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    intent_id        BIGINT         NOT NULL,
    attempt          BIGINT         NOT NULL,
    trader_id        BIGINT         NOT NULL,
    identifier       VARCHAR(64)    NOT NULL,
    uuid             VARCHAR(64)    NULL,
    market           VARCHAR(20)    NOT NULL,
    side             VARCHAR(8)     NOT NULL,
    ord_type         VARCHAR(16)    NOT NULL,
    time_in_force    VARCHAR(16)    NULL,
    price            DECIMAL(40,20) NULL,
    volume           DECIMAL(40,20) NULL,
    status           VARCHAR(16)    NOT NULL,
    executed_volume  DECIMAL(40,20) NOT NULL,
    executed_funds   DECIMAL(40,20) NOT NULL,
    paid_fee         DECIMAL(40,20) NOT NULL,
    error            TEXT           NULL,
    created_at       BIGINT         NOT NULL,
    updated_at       BIGINT         NOT NULL,
    UNIQUE KEY uq_orders_identifier (identifier),
    UNIQUE KEY uq_orders_uuid (uuid),
    UNIQUE KEY uq_orders_intent_attempt (intent_id, attempt),
    KEY ix_orders_trader_status (trader_id, status),
    CONSTRAINT fk_orders_intent FOREIGN KEY (intent_id) REFERENCES order_intents (id),
    CONSTRAINT fk_orders_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE order_events (
    id               BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_id         BIGINT         NOT NULL,
    trader_id        BIGINT         NOT NULL,
    identifier       VARCHAR(64)    NOT NULL,
    ts               BIGINT         NOT NULL,
    status           VARCHAR(16)    NOT NULL,
    uuid             VARCHAR(64)    NULL,
    executed_volume  DECIMAL(40,20) NOT NULL,
    executed_funds   DECIMAL(40,20) NOT NULL,
    paid_fee         DECIMAL(40,20) NOT NULL,
    error            TEXT           NULL,
    KEY ix_order_events_order (order_id),
    CONSTRAINT fk_order_events_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT fk_order_events_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE fills (
    id          BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    trader_id   BIGINT         NOT NULL,
    trade_uuid  VARCHAR(64)    NOT NULL,
    order_uuid  VARCHAR(64)    NOT NULL,
    identifier  VARCHAR(64)    NOT NULL,
    market      VARCHAR(20)    NOT NULL,
    side        VARCHAR(8)     NOT NULL,
    price       DECIMAL(40,20) NOT NULL,
    volume      DECIMAL(40,20) NOT NULL,
    funds       DECIMAL(40,20) NOT NULL,
    fee         DECIMAL(40,20) NOT NULL,
    ts          BIGINT         NOT NULL,
    UNIQUE KEY uq_fills_trade_uuid (trade_uuid),
    KEY ix_fills_trader_ts (trader_id, ts),
    KEY ix_fills_identifier (identifier),
    CONSTRAINT fk_fills_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE positions (
    id               BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    trader_id        BIGINT         NOT NULL,
    market           VARCHAR(20)    NOT NULL,
    open_time        BIGINT         NOT NULL,
    avg_entry_price  DECIMAL(40,20) NOT NULL,
    size             DECIMAL(40,20) NOT NULL,
    cost_krw         DECIMAL(40,20) NOT NULL,
    stop_price       DECIMAL(40,20) NOT NULL,
    high_water       DECIMAL(40,20) NOT NULL,
    tags             JSON           NOT NULL,
    mark_price       DECIMAL(40,20) NULL,
    updated_at       BIGINT         NOT NULL,
    KEY ix_positions_trader (trader_id),
    CONSTRAINT fk_positions_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE position_events (
    id           BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    position_id  BIGINT      NOT NULL,
    trader_id    BIGINT      NOT NULL,
    market       VARCHAR(20) NOT NULL,
    ts           BIGINT      NOT NULL,
    kind         VARCHAR(16) NOT NULL,
    snapshot     JSON        NULL,
    KEY ix_position_events_position (position_id),
    KEY ix_position_events_trader (trader_id, ts),
    CONSTRAINT fk_position_events_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE trades (
    id           BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    trader_id    BIGINT         NOT NULL,
    position_id  BIGINT         NULL,
    market       VARCHAR(20)    NOT NULL,
    entry_time   BIGINT         NOT NULL,
    entry_price  DECIMAL(40,20) NOT NULL,
    size         DECIMAL(40,20) NOT NULL,
    stop_price   DECIMAL(40,20) NOT NULL,
    exit_time    BIGINT         NOT NULL,
    exit_price   DECIMAL(40,20) NOT NULL,
    pnl          DECIMAL(40,20) NOT NULL,
    mode         VARCHAR(8)     NOT NULL,
    KEY ix_trades_trader_exit (trader_id, exit_time),
    CONSTRAINT fk_trades_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE equity_snapshots (
    id          BIGINT         NOT NULL AUTO_INCREMENT PRIMARY KEY,
    trader_id   BIGINT         NOT NULL,
    ts          BIGINT         NOT NULL,
    equity_krw  DECIMAL(40,20) NOT NULL,
    cash_krw    DECIMAL(40,20) NOT NULL,
    KEY ix_equity_trader_ts (trader_id, ts),
    KEY ix_equity_ts (ts),
    CONSTRAINT fk_equity_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE signals (
    id            BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    trader_id     BIGINT      NOT NULL,
    market        VARCHAR(20) NOT NULL,
    ts            BIGINT      NOT NULL,
    total_score   DOUBLE      NOT NULL,
    scores        JSON        NOT NULL,
    regime        VARCHAR(32) NULL,
    action        VARCHAR(16) NOT NULL,
    reason_codes  JSON        NOT NULL,
    KEY ix_signals_trader_ts (trader_id, ts),
    CONSTRAINT fk_signals_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE trader_safety_state (
    trader_id           BIGINT         NOT NULL PRIMARY KEY,
    trading_day         VARCHAR(10)    NOT NULL,
    daily_loss_krw      DECIMAL(40,20) NOT NULL,
    consecutive_losses  BIGINT         NOT NULL,
    kill_switch         BOOLEAN        NOT NULL,
    kill_reason         TEXT           NULL,
    blacklist           JSON           NOT NULL,
    updated_at          BIGINT         NOT NULL,
    CONSTRAINT fk_safety_trader FOREIGN KEY (trader_id) REFERENCES traders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
