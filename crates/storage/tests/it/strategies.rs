//! Strategies and their versions: create (version 1), every change a new
//! version with an old → new audit row, per-version STAB-4 protection that
//! starts once, and refusals that name the field and write nothing.

use chrono::Duration;
use domain::{RiskProfile, StrategyId, lifecycle::PROTECTION_PERIOD};
use serde_json::json;
use storage::{
    StorageError,
    strategies::{NAME_MAX, NewStrategy},
    truncate_to_millis,
};

use crate::{
    fixtures::{strategy, t0},
    harness::TestDb,
};

async fn create_version_and_read_back(db: TestDb) {
    let store = &db.store;
    let s = strategy(store, "trend-follow").await;
    assert_eq!(s.latest.version, 1);
    assert_eq!(s.latest.strategy_id, s.id);
    assert_eq!(s.latest.risk_profile, RiskProfile::Standard);
    assert_eq!(s.created_by, "admin");
    assert_eq!(s.created_at, truncate_to_millis(t0()));
    assert_eq!(s.latest.protection_until, None);
    assert_eq!(
        s.latest.protection_deadline(),
        chrono::DateTime::<chrono::Utc>::MAX_UTC
    );
    assert_eq!(store.strategies().get(s.id).await.unwrap().unwrap(), s);

    // Unicode names at the length limit survive both backends.
    let long = NewStrategy {
        name: "전".repeat(NAME_MAX),
        definition: json!({"modules": {}, "note": "🚀"}),
        risk_profile: RiskProfile::AiMode,
    };
    let l = store
        .strategies()
        .create(&long, "admin", t0())
        .await
        .unwrap();
    assert_eq!(store.strategies().get(l.id).await.unwrap().unwrap(), l);

    // A change is a new version; the strategy reads with its latest.
    let later = t0() + Duration::hours(2);
    let def2 = json!({"modules": {"tp": 0.5}, "entry_threshold": 75});
    let v2 = store
        .strategies()
        .add_version(s.id, &def2, RiskProfile::ProfitFirst, "operator", later)
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.created_by, "operator");
    let got = store.strategies().get(s.id).await.unwrap().unwrap();
    assert_eq!(got.latest, v2);
    assert_eq!(got.name, s.name, "the strategy row itself is unchanged");
    assert_eq!(
        store.strategies().versions(s.id).await.unwrap(),
        vec![s.latest.clone(), v2.clone()]
    );
    assert_eq!(
        store.strategies().latest_version(s.id).await.unwrap(),
        Some(v2.clone())
    );
    assert_eq!(
        store.strategies().version(s.latest.id).await.unwrap(),
        Some(s.latest.clone())
    );
    assert_eq!(
        store
            .strategies()
            .list()
            .await
            .unwrap()
            .iter()
            .map(|x| (x.id, x.latest.version))
            .collect::<Vec<_>>(),
        vec![(s.id, 2), (l.id, 1)]
    );

    // The audit holds the creation and the change (old → new), newest first.
    let audit = store
        .config_audit()
        .list_for("strategy", &s.id.to_string(), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].actor, "operator");
    assert_eq!(audit[0].ts, truncate_to_millis(later));
    assert_eq!(audit[0].old_value.as_ref().unwrap()["version"], 1);
    assert_eq!(audit[0].new_value.as_ref().unwrap()["version"], 2);
    assert_eq!(
        audit[0].new_value.as_ref().unwrap()["risk_profile"],
        "PROFIT_FIRST"
    );
    assert_eq!(audit[1].old_value, None);
}

async fn paper_protection_starts_once_per_version(db: TestDb) {
    let store = &db.store;
    let s = strategy(store, "s").await;
    let start = t0() + Duration::minutes(5);
    let v = store
        .strategies()
        .mark_paper_started(s.latest.id, start)
        .await
        .unwrap();
    assert_eq!(v.paper_started_at, Some(truncate_to_millis(start)));
    assert_eq!(
        v.protection_until,
        Some(truncate_to_millis(start) + PROTECTION_PERIOD)
    );
    // Idempotent: a second start keeps the first.
    let again = store
        .strategies()
        .mark_paper_started(s.latest.id, start + Duration::hours(3))
        .await
        .unwrap();
    assert_eq!(again, v);
    // A new version starts unprotected: LIVE is refused until it ran 24 h.
    let v2 = store
        .strategies()
        .add_version(s.id, &json!({}), RiskProfile::Crazy, "admin", start)
        .await
        .unwrap();
    assert_eq!(v2.protection_until, None);
    let err = store
        .strategies()
        .mark_paper_started(987_654, start)
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let store = &db.store;
    let good = NewStrategy {
        name: "ok".into(),
        definition: json!({"modules": {}}),
        risk_profile: RiskProfile::SafetyFirst,
    };
    let long_actor = "a".repeat(129);
    let cases: Vec<(NewStrategy, &str, &str)> = vec![
        (
            NewStrategy {
                name: String::new(),
                ..good.clone()
            },
            "admin",
            "name",
        ),
        (
            NewStrategy {
                name: "n".repeat(NAME_MAX + 1),
                ..good.clone()
            },
            "admin",
            "name",
        ),
        (
            NewStrategy {
                name: "tab\there".into(),
                ..good.clone()
            },
            "admin",
            "name",
        ),
        (
            NewStrategy {
                definition: json!([1, 2]),
                ..good.clone()
            },
            "admin",
            "definition",
        ),
        (
            NewStrategy {
                definition: json!("text"),
                ..good.clone()
            },
            "admin",
            "definition",
        ),
        (good.clone(), "", "actor"),
        (good.clone(), long_actor.as_str(), "actor"),
    ];
    for (new, actor, field) in &cases {
        let err = store
            .strategies()
            .create(new, actor, t0())
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(*field), "{err}");
    }
    assert_eq!(db.count("strategies").await, 0);
    assert_eq!(db.count("strategy_versions").await, 0);
    assert_eq!(db.count("config_audit").await, 0);

    // Unknown risk profile text (from a form or JSON) names the field.
    let err = "AGGRESSIVE".parse::<RiskProfile>().unwrap_err();
    assert_eq!(err.field, "risk_profile");
    let err = serde_json::from_value::<RiskProfile>(json!("standard")).unwrap_err();
    assert!(err.to_string().contains("risk_profile"), "{err}");

    // Duplicate name: a non-retryable conflict; the first is untouched.
    let s = store
        .strategies()
        .create(&good, "admin", t0())
        .await
        .unwrap();
    let err = store
        .strategies()
        .create(&good, "admin", t0())
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Conflict { .. }), "{err}");
    assert_eq!(err.field(), Some("name"));
    assert!(!err.is_retryable());
    assert_eq!(db.count("strategies").await, 1);
    assert_eq!(db.count("strategy_versions").await, 1);

    // A bad new version writes nothing either.
    let audit_before = db.count("config_audit").await;
    let err = store
        .strategies()
        .add_version(s.id, &json!(null), RiskProfile::Crazy, "admin", t0())
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("definition"), "{err}");
    let err = store
        .strategies()
        .add_version(
            StrategyId::new(987_654).unwrap(),
            &json!({}),
            RiskProfile::Crazy,
            "admin",
            t0(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
    assert_eq!(db.count("strategy_versions").await, 1);
    assert_eq!(db.count("config_audit").await, audit_before);
}

both_backends!(
    create_version_and_read_back,
    paper_protection_starts_once_per_version,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
);
