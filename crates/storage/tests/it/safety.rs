//! Per-trader runtime-guard state (STAB-1, RISK-6, RUN-1): written whole,
//! overwritten in place, read back exactly (loss, kill switch and reason,
//! blacklist with its deadlines); an unknown trader is refused naming the
//! field.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use domain::Krw;
use storage::{StorageError, safety::SafetyState};

use crate::{
    fixtures::{market, missing_trader, t0, trader},
    harness::TestDb,
};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
}

async fn put_get_overwrite_and_list(db: TestDb) {
    let store = &db.store;
    let a = trader(store, "a").await;
    let b = trader(store, "b").await;
    assert_eq!(store.safety().get(a.id).await.unwrap(), None);

    let clean = SafetyState::new(a.id, day(), t0());
    store.safety().put(&clean).await.unwrap();
    assert_eq!(store.safety().get(a.id).await.unwrap().unwrap(), clean);

    let mut blacklist = BTreeMap::new();
    blacklist.insert(market("XRP"), t0() + Duration::minutes(10));
    blacklist.insert(market("1INCH"), t0() + Duration::minutes(3));
    let tripped = SafetyState {
        trading_day: day().succ_opt().unwrap(),
        daily_loss: "30000.123456789012345678".parse().unwrap(),
        consecutive_losses: 4,
        kill_switch: true,
        kill_reason: Some("일일 손실 한도 (daily loss limit) 🚨".into()),
        blacklist,
        updated_at: t0() + Duration::minutes(1),
        ..clean.clone()
    };
    store.safety().put(&tripped).await.unwrap();
    let got = store.safety().get(a.id).await.unwrap().unwrap();
    assert_eq!(got, tripped, "the second put replaces the first");
    assert!(got.is_blacklisted(&market("XRP"), t0() + Duration::minutes(5)));
    assert!(!got.is_blacklisted(&market("1INCH"), t0() + Duration::minutes(5)));
    assert!(!got.is_blacklisted(&market("BTC"), t0()));

    // A gain is a negative loss; cleared kill switch and empty blacklist.
    let other = SafetyState {
        daily_loss: Krw::from_i64(-2500),
        ..SafetyState::new(b.id, day(), t0())
    };
    store.safety().put(&other).await.unwrap();
    assert_eq!(
        store.safety().list().await.unwrap(),
        vec![tripped.clone(), other]
    );
    assert_eq!(db.count("trader_safety_state").await, 2);

    // Clearing the kill switch is another whole write.
    let resumed = SafetyState {
        kill_switch: false,
        kill_reason: None,
        ..tripped
    };
    store.safety().put(&resumed).await.unwrap();
    assert_eq!(store.safety().get(a.id).await.unwrap().unwrap(), resumed);
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "t").await;
    let good = SafetyState::new(t.id, day(), t0());
    for (s, field) in [
        (
            SafetyState {
                trader_id: missing_trader(),
                ..good.clone()
            },
            "trader_id",
        ),
        (
            SafetyState {
                kill_reason: Some("x".repeat(2001)),
                ..good.clone()
            },
            "kill_reason",
        ),
        (
            SafetyState {
                daily_loss: "0.000000000000000000001".parse().unwrap(),
                ..good.clone()
            },
            "daily_loss",
        ),
    ] {
        let err = store.safety().put(&s).await.unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("trader_safety_state").await, 0);
}

both_backends!(
    put_get_overwrite_and_list,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
);
