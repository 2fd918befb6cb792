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

/// The operator's side of RUN-4: a trip changes only the kill-switch columns
/// (a trader that never wrote gets a clean row); a resume only applies while
/// the kill switch is on and clears what a confirmed resume clears.
async fn operator_trip_and_resume(db: TestDb) {
    let store = &db.store;
    let a = trader(store, "a").await;
    let b = trader(store, "b").await;
    let mut blacklist = BTreeMap::new();
    blacklist.insert(market("XRP"), t0() + Duration::minutes(10));
    let running = SafetyState {
        daily_loss: Krw::from_i64(12_345),
        consecutive_losses: 2,
        blacklist,
        ..SafetyState::new(a.id, day(), t0())
    };
    store.safety().put(&running).await.unwrap();

    let later = t0() + Duration::minutes(5);
    store
        .safety()
        .trip_kill_switch(a.id, "admin: liquidate", day().succ_opt().unwrap(), later)
        .await
        .unwrap();
    let got = store.safety().get(a.id).await.unwrap().unwrap();
    assert_eq!(
        got,
        SafetyState {
            kill_switch: true,
            kill_reason: Some("admin: liquidate".into()),
            updated_at: later,
            ..running.clone()
        },
        "only the kill-switch columns change"
    );

    // No row yet: a clean one for the given day.
    store
        .safety()
        .trip_kill_switch(b.id, "admin: by hand", day(), later)
        .await
        .unwrap();
    assert_eq!(
        store.safety().get(b.id).await.unwrap().unwrap(),
        SafetyState {
            kill_switch: true,
            kill_reason: Some("admin: by hand".into()),
            ..SafetyState::new(b.id, day(), later)
        }
    );

    let resumed_at = later + Duration::minutes(1);
    assert!(
        store
            .safety()
            .resume_kill_switch(a.id, resumed_at)
            .await
            .unwrap()
    );
    assert_eq!(
        store.safety().get(a.id).await.unwrap().unwrap(),
        SafetyState {
            kill_switch: false,
            kill_reason: None,
            daily_loss: Krw::ZERO,
            consecutive_losses: 0,
            updated_at: resumed_at,
            ..running
        },
        "the loss counts from the resume; the blacklist stays"
    );
    // Not on (any more), or no row at all: nothing written.
    assert!(
        !store
            .safety()
            .resume_kill_switch(a.id, later)
            .await
            .unwrap()
    );
    let c = trader(store, "c").await;
    assert!(
        !store
            .safety()
            .resume_kill_switch(c.id, later)
            .await
            .unwrap()
    );
    assert_eq!(store.safety().get(c.id).await.unwrap(), None);
    let err = store
        .safety()
        .trip_kill_switch(missing_trader(), "x", day(), later)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("trader_id"), "{err}");
    let err = store
        .safety()
        .trip_kill_switch(c.id, &"x".repeat(2001), day(), later)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("kill_reason"), "{err}");
    assert_eq!(store.safety().get(c.id).await.unwrap(), None);
}

both_backends!(
    operator_trip_and_resume,
    put_get_overwrite_and_list,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
);
