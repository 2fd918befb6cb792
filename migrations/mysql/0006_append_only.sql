-- AUD-1 at the database level (MariaDB dialect): the append-only tables refuse
-- UPDATE and DELETE with SQLSTATE 45000, whoever connects. The storage crate
-- has no such statements for them either (a test scans its SQL). TRUNCATE and
-- DROP bypass triggers; only the migration owner may run DDL.

CREATE TRIGGER trg_signals_no_update BEFORE UPDATE ON signals FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'signals is append-only (AUD-1)';
CREATE TRIGGER trg_signals_no_delete BEFORE DELETE ON signals FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'signals is append-only (AUD-1)';

CREATE TRIGGER trg_order_events_no_update BEFORE UPDATE ON order_events FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'order_events is append-only (AUD-1)';
CREATE TRIGGER trg_order_events_no_delete BEFORE DELETE ON order_events FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'order_events is append-only (AUD-1)';

CREATE TRIGGER trg_fills_no_update BEFORE UPDATE ON fills FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'fills is append-only (AUD-1)';
CREATE TRIGGER trg_fills_no_delete BEFORE DELETE ON fills FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'fills is append-only (AUD-1)';

CREATE TRIGGER trg_position_events_no_update BEFORE UPDATE ON position_events FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'position_events is append-only (AUD-1)';
CREATE TRIGGER trg_position_events_no_delete BEFORE DELETE ON position_events FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'position_events is append-only (AUD-1)';

CREATE TRIGGER trg_trades_no_update BEFORE UPDATE ON trades FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'trades is append-only (AUD-1)';
CREATE TRIGGER trg_trades_no_delete BEFORE DELETE ON trades FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'trades is append-only (AUD-1)';

CREATE TRIGGER trg_events_no_update BEFORE UPDATE ON events FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events is append-only (AUD-1)';
CREATE TRIGGER trg_events_no_delete BEFORE DELETE ON events FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events is append-only (AUD-1)';

CREATE TRIGGER trg_config_audit_no_update BEFORE UPDATE ON config_audit FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'config_audit is append-only (AUD-1)';
CREATE TRIGGER trg_config_audit_no_delete BEFORE DELETE ON config_audit FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'config_audit is append-only (AUD-1)';

CREATE TRIGGER trg_trader_transitions_no_update BEFORE UPDATE ON trader_transitions FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'trader_transitions is append-only (AUD-1)';
CREATE TRIGGER trg_trader_transitions_no_delete BEFORE DELETE ON trader_transitions FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'trader_transitions is append-only (AUD-1)';

CREATE TRIGGER trg_model_transitions_no_update BEFORE UPDATE ON model_transitions FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'model_transitions is append-only (AUD-1)';
CREATE TRIGGER trg_model_transitions_no_delete BEFORE DELETE ON model_transitions FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'model_transitions is append-only (AUD-1)';
