//! Traders: round trip, field-naming refusals with nothing written, the
//! audited lifecycle (STAB-4 protection, FIX-8 ARM), heartbeat and REMOVE.

use chrono::Duration;
use domain::{
    Krw, Mode, RunState, StrategyId, TraderEvent, TraderState, TransitionError,
    lifecycle::PROTECTION_PERIOD,
};
use storage::{StorageError, traders::NewTrader};

use crate::{
    fixtures::{credential, missing_trader, strategy, t0, trader, trader_on},
    harness::TestDb,
};

async fn create_get_list_round_trip(db: TestDb) {
    let store = &db.store;
    let s = strategy(store, "trend").await;
    let cred = credential(store, "main").await;
    let a = trader_on(store, "alpha", s.id, Some(cred)).await;
    let b = trader_on(store, "beta", s.id, None).await;
    assert_eq!(a.state, TraderState::new());
    assert_eq!(a.seed_krw, Krw::from_i64(1_000_000));
    assert_eq!(a.order_salt.len(), storage::traders::SALT_LEN);
    assert_ne!(a.order_salt, b.order_salt);
    assert_eq!(a.created_at, storage::truncate_to_millis(t0()));

    assert_eq!(store.traders().get(a.id).await.unwrap().unwrap(), a);
    assert_eq!(
        store.traders().get_by_name("beta").await.unwrap().unwrap(),
        b
    );
    assert_eq!(
        store.traders().list(false).await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    assert!(
        store
            .traders()
            .get(missing_trader())
            .await
            .unwrap()
            .is_none()
    );

    // The creation is in the config audit, in the same transaction.
    let audit = store
        .config_audit()
        .list_for("trader", &a.id.to_string(), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor, "admin");
    assert_eq!(audit[0].new_value.as_ref().unwrap()["seed_krw"], "1000000");
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let store = &db.store;
    let s = strategy(store, "s").await;
    let audit_before = store.config_audit().list(100).await.unwrap().len();
    let good = NewTrader {
        name: "ok".into(),
        strategy_id: s.id,
        seed_krw: Krw::from_i64(500_000),
        credential_id: None,
    };
    let cases: Vec<(NewTrader, &str)> = vec![
        (
            NewTrader {
                name: String::new(),
                ..good.clone()
            },
            "name",
        ),
        (
            NewTrader {
                name: " padded".into(),
                ..good.clone()
            },
            "name",
        ),
        (
            NewTrader {
                name: "x".repeat(65),
                ..good.clone()
            },
            "name",
        ),
        (
            NewTrader {
                seed_krw: Krw::from_i64(0),
                ..good.clone()
            },
            "seed_krw",
        ),
        (
            NewTrader {
                seed_krw: Krw::from_i64(-5),
                ..good.clone()
            },
            "seed_krw",
        ),
        (
            NewTrader {
                seed_krw: "100.5".parse().unwrap(),
                ..good.clone()
            },
            "seed_krw",
        ),
        (
            NewTrader {
                strategy_id: StrategyId::new(999).unwrap(),
                ..good.clone()
            },
            "strategy_id",
        ),
        (
            NewTrader {
                credential_id: Some(domain::CredentialId::new(999).unwrap()),
                ..good.clone()
            },
            "credential_id",
        ),
    ];
    for (new, field) in cases {
        let err = store
            .traders()
            .create(&new, "admin", t0())
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert!(store.traders().list(true).await.unwrap().is_empty());
    assert_eq!(
        store.config_audit().list(100).await.unwrap().len(),
        audit_before
    );

    store.traders().create(&good, "admin", t0()).await.unwrap();
    let err = store
        .traders()
        .create(&good, "admin", t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict { .. }), "{err}");
    assert_eq!(err.field(), Some("name"));
    assert!(!err.is_retryable());
    assert_eq!(store.traders().list(true).await.unwrap().len(), 1);
}

async fn lifecycle_is_audited_and_enforces_protection_and_arm(db: TestDb) {
    let store = &db.store;
    let s = strategy(store, "s").await;
    let paper_only = trader_on(store, "paper-only", s.id, None).await;
    let cred = credential(store, "c").await;
    let t = trader_on(store, "live-candidate", s.id, Some(cred)).await;
    let traders = store.traders();

    let run = traders
        .update_state(t.id, TraderEvent::Run, "admin", t0())
        .await
        .unwrap();
    assert_eq!(run.to.run, RunState::Running);
    // A second RUN is refused by the domain table; nothing is written.
    let err = traders
        .update_state(t.id, TraderEvent::Run, "admin", t0())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Transition(TransitionError::NotAllowed { .. })
        ),
        "{err}"
    );

    // STAB-4: LIVE is refused while the strategy version's protection runs.
    let version = store
        .strategies()
        .mark_paper_started(s.latest.id, t0())
        .await
        .unwrap();
    assert_eq!(
        version.protection_until,
        Some(storage::truncate_to_millis(t0()) + PROTECTION_PERIOD)
    );
    let live = TraderEvent::SetMode {
        mode: Mode::Live,
        protection_until: version.protection_deadline(),
    };
    let err = traders
        .update_state(t.id, live, "admin", t0() + Duration::hours(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Transition(TransitionError::ProtectionActive { .. })
        ),
        "{err}"
    );
    assert_eq!(
        traders.get(t.id).await.unwrap().unwrap().state.mode,
        Mode::Paper
    );

    // A LIVE trader needs a credential.
    let after = t0() + PROTECTION_PERIOD + Duration::minutes(1);
    let err = traders
        .update_state(paper_only.id, live, "admin", after)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("credential_id"), "{err}");

    traders
        .update_state(t.id, live, "admin", after)
        .await
        .unwrap();
    let arm = TraderEvent::Arm {
        protection_until: version.protection_deadline(),
    };
    let armed = traders
        .update_state(t.id, arm, "operator", after)
        .await
        .unwrap();
    assert!(armed.to.armed);
    let stored = traders.get(t.id).await.unwrap().unwrap();
    assert!(stored.state.armed_proof().is_some());
    assert_eq!(stored.updated_at, storage::truncate_to_millis(after));

    // STOP disarms; the whole history is in the audit, in order.
    traders
        .update_state(t.id, TraderEvent::Stop, "admin", after)
        .await
        .unwrap();
    let history = store.trader_transitions().list(t.id, 100).await.unwrap();
    let events: Vec<_> = history
        .iter()
        .map(|h| h.transition.event.as_str())
        .collect();
    assert_eq!(events, ["RUN", "SET_MODE_LIVE", "ARM", "STOP"]);
    assert_eq!(history[2].actor, "operator");
    assert!(!history[3].transition.to.armed);
    assert_eq!(history[0].transition.from, TraderState::new());
}

async fn heartbeat_and_remove(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "ephemeral").await;
    let beat = t0() + Duration::seconds(30);
    store.traders().heartbeat(t.id, beat).await.unwrap();
    assert_eq!(
        store
            .traders()
            .get(t.id)
            .await
            .unwrap()
            .unwrap()
            .last_heartbeat_at,
        Some(storage::truncate_to_millis(beat))
    );
    let err = store
        .traders()
        .heartbeat(missing_trader(), beat)
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");

    store.traders().remove(t.id, "admin", beat).await.unwrap();
    let removed = store.traders().get(t.id).await.unwrap().unwrap();
    assert_eq!(removed.state.run, RunState::Removed);
    assert_eq!(removed.removed_at, Some(storage::truncate_to_millis(beat)));
    assert!(store.traders().list(false).await.unwrap().is_empty());
    assert_eq!(store.traders().list(true).await.unwrap().len(), 1);
    assert!(matches!(
        store.traders().heartbeat(t.id, beat).await.unwrap_err(),
        StorageError::NotFound { .. }
    ));
    // REMOVE is terminal, and the name is free again.
    assert!(
        store
            .traders()
            .update_state(t.id, domain::TraderEvent::Run, "admin", beat)
            .await
            .is_err()
    );
    let again = trader_on(store, "ephemeral", t.strategy_id, None).await;
    assert_ne!(again.id, t.id);
}

/// Operators racing on one trader: the transition happens once, is audited
/// once, and every loser is refused (table) or told to retry (conflict).
async fn racing_transitions_apply_once(db: TestDb) {
    let store = db.store.clone();
    let t = trader(&store, "raced").await;
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move {
                s.traders()
                    .update_state(t.id, TraderEvent::Run, "admin", t0())
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(tr) => {
                ok += 1;
                assert_eq!(tr.to.run, RunState::Running);
            }
            Err(StorageError::Transition(TransitionError::NotAllowed { .. })) => {}
            Err(e) => assert!(
                e.is_retryable() && matches!(e, StorageError::Conflict { .. }),
                "{e}"
            ),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(
        store
            .trader_transitions()
            .list(t.id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.traders().get(t.id).await.unwrap().unwrap().state.run,
        RunState::Running
    );
}

both_backends!(
    racing_transitions_apply_once,
    create_get_list_round_trip,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
    lifecycle_is_audited_and_enforces_protection_and_arm,
    heartbeat_and_remove,
);
