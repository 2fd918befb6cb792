//! Migrations (applying twice is a no-op, `check_schema` refuses a database
//! that is behind or edited) and persistence across a pool restart (DB-1).

use chrono::Duration;
use domain::Krw;
use serde_json::json;
use storage::{
    StorageError,
    events::{EventLevel, NewEvent},
    market_data::{Candle, CandleInterval},
};

use crate::{
    fixtures::{market, t0, trader},
    harness::TestDb,
};

async fn migrate_twice_is_a_noop(db: TestDb) {
    let store = &db.store;
    let before = store.applied_migrations().await.unwrap();
    assert_eq!(before.len(), 6);
    assert!(before.iter().all(|m| m.success));
    assert_eq!(store.expected_schema_version(), 6);
    let t = trader(store, "keeps-data").await;
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.applied_migrations().await.unwrap(), before);
    store.check_schema().await.unwrap();
    // Data written before the repeated migrations is untouched.
    assert_eq!(store.traders().get(t.id).await.unwrap().unwrap(), t);
}

async fn check_schema_refuses_behind_or_edited(db: TestDb) {
    let fresh = db.fresh_store().await;
    match fresh.check_schema().await {
        Err(StorageError::SchemaBehind { missing }) => assert_eq!(missing, vec![1, 2, 3, 4, 5, 6]),
        other => panic!("expected SchemaBehind, got {other:?}"),
    }
    fresh.migrate().await.unwrap();
    fresh.check_schema().await.unwrap();
    fresh.close().await;

    // Forget the newest migration: behind by one.
    db.raw_exec("DELETE FROM _sqlx_migrations WHERE version = 6")
        .await
        .unwrap();
    match db.store.check_schema().await {
        Err(StorageError::SchemaBehind { missing }) => assert_eq!(missing, vec![6]),
        other => panic!("expected SchemaBehind, got {other:?}"),
    }
    // An edited (re-hashed) applied file is refused.
    db.raw_exec("UPDATE _sqlx_migrations SET checksum = description WHERE version = 2")
        .await
        .unwrap();
    match db.store.check_schema().await {
        Err(StorageError::SchemaMismatch { version, .. }) => assert_eq!(version, 2),
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
}

async fn data_survives_closing_and_reopening_the_pool(mut db: TestDb) {
    let store = db.store.clone();
    let t = trader(&store, "durable").await;
    let event_id = store
        .events()
        .append(&NewEvent {
            ts: t0(),
            trader_id: Some(t.id),
            level: EventLevel::Info,
            kind: "TRADER_CREATED".into(),
            message: "created".into(),
            data: json!({"seed": "1000000"}),
        })
        .await
        .unwrap();
    let candle = Candle {
        market: market("BTC"),
        interval: CandleInterval::M1,
        ts: t0() - Duration::milliseconds(123),
        open: "148601000".parse().unwrap(),
        high: "148700000".parse().unwrap(),
        low: "148500000".parse().unwrap(),
        close: "148650000".parse().unwrap(),
        volume: "0.12345678".parse().unwrap(),
        value: Some(Krw::from_i64(18_350_000)),
    };
    store
        .candles()
        .upsert_many(std::slice::from_ref(&candle))
        .await
        .unwrap();

    let reopened = db.reopen().await;
    assert!(store.ping().await.is_err(), "the old pool is closed");
    reopened.ping().await.unwrap();
    reopened.check_schema().await.unwrap();
    assert_eq!(reopened.traders().get(t.id).await.unwrap().unwrap(), t);
    let events = reopened.events().list_after(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, event_id);
    let got = reopened
        .candles()
        .latest(&candle.market, CandleInterval::M1, 5)
        .await
        .unwrap();
    assert_eq!(got, vec![candle]);
}

async fn unsupported_url_names_only_the_scheme(_db: TestDb) {
    let err = storage::Store::connect("postgres://user:hunter2@host/db")
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::UnsupportedUrl { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("postgres"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "the password never reaches a message: {text}"
    );
    assert_eq!(
        storage::default_sqlite_url("/var/lib/platform"),
        "sqlite:///var/lib/platform/platform.db?mode=rwc"
    );
}

both_backends!(
    migrate_twice_is_a_noop,
    check_schema_refuses_behind_or_edited,
    data_survives_closing_and_reopening_the_pool,
    unsupported_url_names_only_the_scheme,
);
