-- AUD-1 at the database level (SQLite dialect): the append-only tables refuse
-- UPDATE and DELETE with an error, whoever connects. The storage crate has no
-- such statements for them either (a test scans its SQL).

CREATE TRIGGER trg_signals_no_update BEFORE UPDATE ON signals
BEGIN SELECT RAISE(ABORT, 'signals is append-only (AUD-1)'); END;
CREATE TRIGGER trg_signals_no_delete BEFORE DELETE ON signals
BEGIN SELECT RAISE(ABORT, 'signals is append-only (AUD-1)'); END;

CREATE TRIGGER trg_order_events_no_update BEFORE UPDATE ON order_events
BEGIN SELECT RAISE(ABORT, 'order_events is append-only (AUD-1)'); END;
CREATE TRIGGER trg_order_events_no_delete BEFORE DELETE ON order_events
BEGIN SELECT RAISE(ABORT, 'order_events is append-only (AUD-1)'); END;

CREATE TRIGGER trg_fills_no_update BEFORE UPDATE ON fills
BEGIN SELECT RAISE(ABORT, 'fills is append-only (AUD-1)'); END;
CREATE TRIGGER trg_fills_no_delete BEFORE DELETE ON fills
BEGIN SELECT RAISE(ABORT, 'fills is append-only (AUD-1)'); END;

CREATE TRIGGER trg_position_events_no_update BEFORE UPDATE ON position_events
BEGIN SELECT RAISE(ABORT, 'position_events is append-only (AUD-1)'); END;
CREATE TRIGGER trg_position_events_no_delete BEFORE DELETE ON position_events
BEGIN SELECT RAISE(ABORT, 'position_events is append-only (AUD-1)'); END;

CREATE TRIGGER trg_trades_no_update BEFORE UPDATE ON trades
BEGIN SELECT RAISE(ABORT, 'trades is append-only (AUD-1)'); END;
CREATE TRIGGER trg_trades_no_delete BEFORE DELETE ON trades
BEGIN SELECT RAISE(ABORT, 'trades is append-only (AUD-1)'); END;

CREATE TRIGGER trg_events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only (AUD-1)'); END;
CREATE TRIGGER trg_events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only (AUD-1)'); END;

CREATE TRIGGER trg_config_audit_no_update BEFORE UPDATE ON config_audit
BEGIN SELECT RAISE(ABORT, 'config_audit is append-only (AUD-1)'); END;
CREATE TRIGGER trg_config_audit_no_delete BEFORE DELETE ON config_audit
BEGIN SELECT RAISE(ABORT, 'config_audit is append-only (AUD-1)'); END;

CREATE TRIGGER trg_trader_transitions_no_update BEFORE UPDATE ON trader_transitions
BEGIN SELECT RAISE(ABORT, 'trader_transitions is append-only (AUD-1)'); END;
CREATE TRIGGER trg_trader_transitions_no_delete BEFORE DELETE ON trader_transitions
BEGIN SELECT RAISE(ABORT, 'trader_transitions is append-only (AUD-1)'); END;

CREATE TRIGGER trg_model_transitions_no_update BEFORE UPDATE ON model_transitions
BEGIN SELECT RAISE(ABORT, 'model_transitions is append-only (AUD-1)'); END;
CREATE TRIGGER trg_model_transitions_no_delete BEFORE DELETE ON model_transitions
BEGIN SELECT RAISE(ABORT, 'model_transitions is append-only (AUD-1)'); END;
