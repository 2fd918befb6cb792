//! AUD-1: signals, order history, fills, position history, trades, events,
//! the config audit and both lifecycle audits are append-only.
//!
//! Two layers enforce it:
//!
//! * **The API (compile time).** `Signals`, `Fills`, `Trades`, `Events`,
//!   `ConfigAudit`, `TraderTransitions` and `ModelTransitions` have only
//!   `append`/`insert` and read methods, and `Orders`/`Positions` write
//!   `order_events`/`position_events` only by inserting. There is no method
//!   to call, so code that tries to update or delete an audit row through
//!   the store does not compile. The crate's unit tests
//!   (`src/tests.rs`) keep it that way: one scans every SQL string of the
//!   crate for UPDATE/DELETE/REPLACE/TRUNCATE/upserts on these tables, the
//!   other checks that those repositories expose only insert and read methods.
//! * **The database (run time, tested here).** Triggers refuse UPDATE and
//!   DELETE on these tables for any client, so even raw SQL past the store
//!   cannot rewrite history. (TRUNCATE and DROP are DDL and need the
//!   migration owner's rights.)

use domain::{
    Fill, Krw, Mode, ModelEvent, OrderRequest, Position, Price, ReasonCode, Side, SignalAction,
    TradeRecord, TraderEvent, Volume,
};
use rust_decimal_macros::dec;
use serde_json::json;
use storage::{
    Backend, StorageError,
    audit::{ConfigAuditEntry, NewConfigAudit},
    events::{EventLevel, NewEvent},
    learning::NewModelVersion,
    orders::{Attempt, OrderStatus, OrderUpdate},
    signals::NewSignal,
};

use crate::{
    fixtures::{market, t0, trader},
    harness::TestDb,
};

/// Each append-only table with a column an UPDATE would change.
const TABLES: [(&str, &str); 9] = [
    ("signals", "ts"),
    ("order_events", "ts"),
    ("fills", "ts"),
    ("position_events", "ts"),
    ("trades", "exit_time"),
    ("events", "ts"),
    ("config_audit", "ts"),
    ("trader_transitions", "at"),
    ("model_transitions", "at"),
];

/// Writes at least one row into every append-only table through the API.
async fn fill_every_table(db: &TestDb) {
    let store = &db.store;
    let t = trader(store, "audited").await; // config_audit
    store
        .traders()
        .update_state(t.id, TraderEvent::Run, "admin", t0())
        .await
        .unwrap(); // trader_transitions
    store
        .signals()
        .append(&NewSignal {
            trader_id: t.id,
            market: market("BTC"),
            ts: t0(),
            total_score: 71.0,
            scores: json!({}),
            regime: None,
            action: SignalAction::Enter,
            reason_codes: vec![ReasonCode::new_static("TP_PULLBACK")],
        })
        .await
        .unwrap();
    let o = store
        .orders()
        .insert_intent(t.id, Attempt::First, t0(), |id| {
            OrderRequest::market_buy(market("BTC"), Krw::from_i64(10_000), id)
        })
        .await
        .unwrap(); // order_events
    let price = Price::new(dec!(148_601_000)).unwrap();
    let volume = Volume::new(dec!(0.00006729)).unwrap();
    store
        .orders()
        .apply_fill(
            t.id,
            &Fill {
                trade_uuid: "trade-1".into(),
                order_uuid: "order-1".into(),
                identifier: o.identifier.clone(),
                market: market("BTC"),
                side: Side::Bid,
                price,
                volume,
                funds: price * volume,
                fee: Krw::from_decimal(dec!(5)),
                ts: t0(),
            },
            &OrderUpdate {
                uuid: Some("order-1".into()),
                status: OrderStatus::Done,
                executed_volume: volume,
                executed_funds: price * volume,
                paid_fee: Krw::from_decimal(dec!(5)),
                error: None,
            },
            t0(),
        )
        .await
        .unwrap(); // fills
    let p = Position {
        trader_id: t.id,
        market: market("BTC"),
        open_time: t0(),
        avg_entry_price: price,
        size: volume,
        cost_krw: price * volume,
        stop_price: price,
        high_water: price,
        tags: vec![],
    };
    let lot = store.positions().open(&p, t0()).await.unwrap(); // position_events
    store
        .positions()
        .close(
            lot,
            &TradeRecord {
                trader_id: t.id,
                market: market("BTC"),
                entry_time: t0(),
                entry_price: price,
                size: volume,
                stop_price: price,
                exit_time: t0(),
                exit_price: price,
                pnl: Krw::ZERO,
                mode: Mode::Paper,
            },
            None,
            t0(),
        )
        .await
        .unwrap(); // trades
    store
        .events()
        .append(&NewEvent {
            ts: t0(),
            trader_id: Some(t.id),
            level: EventLevel::Info,
            kind: "ORDER_FILLED".into(),
            message: "filled".into(),
            data: json!(null),
        })
        .await
        .unwrap();
    let m = store
        .model_versions()
        .insert(
            &NewModelVersion {
                strategy_id: None,
                params: json!({}),
                metrics: json!({}),
            },
            t0(),
        )
        .await
        .unwrap();
    store
        .model_versions()
        .transition(m.id, ModelEvent::GatePassed, "trainer", t0())
        .await
        .unwrap(); // model_transitions
}

async fn triggers_refuse_update_and_delete_by_raw_sql(db: TestDb) {
    fill_every_table(&db).await;
    let triggers = match db.backend() {
        Backend::Sqlite => {
            db.raw_i64("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'")
                .await
        }
        Backend::MariaDb => {
            db.raw_i64(
                "SELECT COUNT(*) FROM information_schema.triggers \
                 WHERE trigger_schema = DATABASE()",
            )
            .await
        }
    };
    assert_eq!(triggers, 2 * i64::try_from(TABLES.len()).unwrap());

    for (table, column) in TABLES {
        let rows = db.count(table).await;
        assert!(rows >= 1, "{table} has rows to protect");
        let min = format!("SELECT MIN({column}) FROM {table}");
        let max = format!("SELECT MAX({column}) FROM {table}");
        let before = (db.raw_i64(&min).await, db.raw_i64(&max).await);
        for sql in [
            format!("UPDATE {table} SET {column} = {column} + 1"),
            format!(
                "UPDATE {table} SET {column} = 0 WHERE id = (SELECT MIN(id) FROM (SELECT id FROM {table}) AS x)"
            ),
            format!("DELETE FROM {table}"),
            format!("DELETE FROM {table} WHERE id > 0"),
        ] {
            let err = db.raw_exec(&sql).await.unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("{table} is append-only (AUD-1)")),
                "{sql}: {err}"
            );
            let err = StorageError::from(err);
            assert!(err.is_append_only_violation(), "{err}");
            assert!(!err.is_retryable(), "{err}");
        }
        assert_eq!(db.count(table).await, rows, "{table}: nothing deleted");
        let after = (db.raw_i64(&min).await, db.raw_i64(&max).await);
        assert_eq!(after, before, "{table}: nothing changed");
        // Inserting stays possible: the table is append-only, not read-only.
    }

    // Control: a current-view table is mutable by the same raw path, so the
    // refusals above come from the triggers, not from the test connection.
    assert_eq!(
        db.raw_exec("UPDATE traders SET last_heartbeat_at = 1")
            .await
            .unwrap(),
        1
    );
    assert!(
        db.raw_exec("DELETE FROM collector_health").await.is_ok(),
        "an ordinary table accepts DELETE"
    );
}

async fn the_store_keeps_appending_after_refusals(db: TestDb) {
    fill_every_table(&db).await;
    let before = db.count("events").await;
    assert!(db.raw_exec("DELETE FROM events").await.is_err());
    let t = db.store.traders().list(false).await.unwrap().remove(0);
    db.store
        .events()
        .append(&NewEvent {
            ts: t0(),
            trader_id: Some(t.id),
            level: EventLevel::Warn,
            kind: "AFTER".into(),
            message: String::new(),
            data: json!({}),
        })
        .await
        .unwrap();
    assert_eq!(db.count("events").await, before + 1);
    let history = db.store.trader_transitions().list(t.id, 10).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].transition.event, "RUN");
}

/// Config changes made outside the repositories (e.g. an env-driven
/// setting) go through `ConfigAudit::append`: read back exactly, newest
/// first, per entity; bad input names the field and writes nothing.
async fn config_audit_append_and_read(db: TestDb) {
    let store = &db.store;
    let first = NewConfigAudit {
        ts: t0(),
        actor: "admin".into(),
        entity: "config".into(),
        entity_id: "notify.telegram".into(),
        old_value: None,
        new_value: Some(json!({"enabled": true, "chat": "운영"})),
    };
    let second = NewConfigAudit {
        ts: t0() + chrono::Duration::seconds(1),
        actor: "operator".into(),
        old_value: first.new_value.clone(),
        new_value: None,
        ..first.clone()
    };
    let other = NewConfigAudit {
        entity_id: "risk".into(),
        ..first.clone()
    };
    let a = store.config_audit().append(&first).await.unwrap();
    let b = store.config_audit().append(&second).await.unwrap();
    let c = store.config_audit().append(&other).await.unwrap();
    assert!(a < b && b < c);
    let entry = |id, e: &NewConfigAudit| ConfigAuditEntry {
        id,
        ts: e.ts,
        actor: e.actor.clone(),
        entity: e.entity.clone(),
        entity_id: e.entity_id.clone(),
        old_value: e.old_value.clone(),
        new_value: e.new_value.clone(),
    };
    assert_eq!(
        store
            .config_audit()
            .list_for("config", "notify.telegram", 10)
            .await
            .unwrap(),
        vec![entry(b, &second), entry(a, &first)]
    );
    assert_eq!(
        store.config_audit().list(2).await.unwrap(),
        vec![entry(c, &other), entry(b, &second)]
    );
    for (bad, field) in [
        (
            NewConfigAudit {
                actor: String::new(),
                ..first.clone()
            },
            "actor",
        ),
        (
            NewConfigAudit {
                entity: "e".repeat(65),
                ..first.clone()
            },
            "entity",
        ),
        (
            NewConfigAudit {
                entity_id: " padded".into(),
                ..first.clone()
            },
            "entity_id",
        ),
    ] {
        let err = store.config_audit().append(&bad).await.unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("config_audit").await, 3);
}

both_backends!(
    config_audit_append_and_read,
    triggers_refuse_update_and_delete_by_raw_sql,
    the_store_keeps_appending_after_refusals,
);
