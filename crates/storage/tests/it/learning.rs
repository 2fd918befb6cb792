//! The learning pipeline's tables: model versions and their audited
//! lifecycle (no LIVE_ARMED without PAPER_DEPLOYED and 24 h), the single
//! baseline, tuning candidates, scan runs and labelled feature snapshots,
//! bandit posteriors and versioned configuration with its audit.

use chrono::{DateTime, Duration, Utc};
use domain::{
    ModelEvent, ModelStage, ModelVersionId, RegimeLabel, TransitionError,
    lifecycle::PROTECTION_PERIOD,
};
use serde_json::json;
use storage::{
    StorageError,
    learning::{
        BanditState, FeatureLabels, GateVerdict, ModelCandidate, NewFeatureSnapshot,
        NewModelCandidate, NewModelVersion, NewScanRun, ScanRun,
    },
    truncate_to_millis,
};

use crate::{
    fixtures::{market, missing_trader, strategy, t0, trader},
    harness::TestDb,
};

fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

fn model() -> NewModelVersion {
    NewModelVersion {
        strategy_id: None,
        params: json!({"weights": {"tp": 0.3, "vcb": 0.25}, "threshold": 70, "top_n": 5}),
        metrics: json!({"E": "0.0123", "sharpe": 1.5, "q05": -0.02}),
    }
}

async fn model_lifecycle_is_audited_and_guarded(db: TestDb) {
    let store = &db.store;
    let s = strategy(store, "tuned").await;
    let m = store
        .model_versions()
        .insert(
            &NewModelVersion {
                strategy_id: Some(s.id),
                ..model()
            },
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(m.stage, ModelStage::Draft);
    assert_eq!(m.created_at, truncate_to_millis(t0()));
    assert_eq!(
        store.model_versions().get(m.id).await.unwrap(),
        Some(m.clone())
    );
    let mv = store.model_versions();

    // ARM straight from DRAFT is refused by the table; nothing is written.
    let err = mv
        .transition(m.id, ModelEvent::Arm, "trainer", at(1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Transition(TransitionError::NotAllowed { .. })
        ),
        "{err}"
    );
    assert_eq!(db.count("model_transitions").await, 0);

    mv.transition(m.id, ModelEvent::GatePassed, "trainer", at(1))
        .await
        .unwrap();
    mv.transition(m.id, ModelEvent::DeployPaper, "trainer", at(2))
        .await
        .unwrap();
    let deployed = mv.get(m.id).await.unwrap().unwrap();
    assert_eq!(deployed.stage, ModelStage::PaperDeployed);
    assert_eq!(deployed.paper_deployed_at, Some(truncate_to_millis(at(2))));
    // Promotion before 24 h of PAPER is refused, with the time left.
    let promote = ModelEvent::PromoteEligible {
        paper_deployed_at: deployed.paper_deployed_at.unwrap(),
    };
    let err = mv
        .transition(
            m.id,
            promote.clone(),
            "trainer",
            at(2) + Duration::hours(23),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StorageError::Transition(TransitionError::ProtectionActive {
                remaining_secs: 3600
            })
        ),
        "{err}"
    );
    let after = at(2) + PROTECTION_PERIOD;
    mv.transition(m.id, promote, "trainer", after)
        .await
        .unwrap();
    let armed = mv
        .transition(m.id, ModelEvent::Arm, "admin", after)
        .await
        .unwrap();
    assert_eq!(
        (armed.from, armed.to),
        (ModelStage::LiveEligible, ModelStage::LiveArmed)
    );
    let rb = ModelEvent::AutoRollback {
        reason: "net_return_24h < -3%".into(),
    };
    mv.transition(m.id, rb.clone(), "trainer", after + Duration::hours(1))
        .await
        .unwrap();
    let rolled = mv.get(m.id).await.unwrap().unwrap();
    assert_eq!(rolled.stage, ModelStage::RolledBack);
    assert_eq!(
        rolled.rolled_back_at,
        Some(truncate_to_millis(after + Duration::hours(1)))
    );
    assert_eq!(rolled.paper_deployed_at, deployed.paper_deployed_at, "kept");

    let history = store.model_transitions().list(m.id, 100).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| (h.transition.from, h.transition.to))
            .collect::<Vec<_>>(),
        [
            (ModelStage::Draft, ModelStage::Validated),
            (ModelStage::Validated, ModelStage::PaperDeployed),
            (ModelStage::PaperDeployed, ModelStage::LiveEligible),
            (ModelStage::LiveEligible, ModelStage::LiveArmed),
            (ModelStage::LiveArmed, ModelStage::RolledBack),
        ]
    );
    assert_eq!(history[3].actor, "admin");
    assert_eq!(history[4].transition.event, rb, "the event with its reason");
    assert_eq!(
        history[4].transition.at,
        truncate_to_millis(after + Duration::hours(1))
    );

    // Listing by stage, newest first; metrics replaced in place.
    let draft = mv.insert(&model(), at(3)).await.unwrap();
    assert_eq!(
        mv.list(None, 10)
            .await
            .unwrap()
            .iter()
            .map(|v| v.id)
            .collect::<Vec<_>>(),
        vec![draft.id, m.id]
    );
    assert_eq!(
        mv.list(Some(ModelStage::Draft), 10).await.unwrap(),
        vec![draft.clone()]
    );
    mv.update_metrics(draft.id, &json!({"drift": 0.5}), at(4))
        .await
        .unwrap();
    let updated = mv.get(draft.id).await.unwrap().unwrap();
    assert_eq!(updated.metrics, json!({"drift": 0.5}));
    assert_eq!(updated.updated_at, truncate_to_millis(at(4)));

    // Exactly one baseline.
    assert_eq!(mv.baseline().await.unwrap(), None);
    mv.set_baseline(m.id, at(5)).await.unwrap();
    mv.set_baseline(draft.id, at(6)).await.unwrap();
    let baseline = mv.baseline().await.unwrap().unwrap();
    assert_eq!(baseline.id, draft.id);
    assert!(!mv.get(m.id).await.unwrap().unwrap().is_baseline);
    let missing = ModelVersionId::new(987_654).unwrap();
    assert!(matches!(
        mv.set_baseline(missing, at(7)).await.unwrap_err(),
        StorageError::NotFound { .. }
    ));
    assert_eq!(
        mv.baseline().await.unwrap().unwrap().id,
        draft.id,
        "unchanged"
    );
    assert!(matches!(
        mv.transition(missing, ModelEvent::GatePassed, "trainer", at(7))
            .await
            .unwrap_err(),
        StorageError::NotFound { .. }
    ));
}

async fn candidates_scans_and_features(db: TestDb) {
    let store = &db.store;
    let t = trader(store, "scanner").await;
    let m = store.model_versions().insert(&model(), t0()).await.unwrap();
    let c1 = NewModelCandidate {
        tuning_run: "run-2026-01-05".into(),
        model_version_id: Some(m.id),
        params: json!({"k": 1}),
        metrics: json!({"E": 0.5}),
        verdict: GateVerdict::Pass,
    };
    let c2 = NewModelCandidate {
        model_version_id: None,
        verdict: GateVerdict::Reject,
        ..c1.clone()
    };
    let c3 = NewModelCandidate {
        tuning_run: "other-run".into(),
        verdict: GateVerdict::Hold,
        ..c2.clone()
    };
    let id1 = store.model_candidates().insert(&c1, at(1)).await.unwrap();
    let id2 = store.model_candidates().insert(&c2, at(2)).await.unwrap();
    let id3 = store.model_candidates().insert(&c3, at(3)).await.unwrap();
    let cand = |id, c: &NewModelCandidate, m| ModelCandidate {
        id,
        created_at: at(m),
        candidate: c.clone(),
    };
    assert_eq!(
        store
            .model_candidates()
            .list_run("run-2026-01-05")
            .await
            .unwrap(),
        vec![cand(id1, &c1, 1), cand(id2, &c2, 2)]
    );
    assert_eq!(
        store.model_candidates().list_recent(2).await.unwrap(),
        vec![cand(id3, &c3, 3), cand(id2, &c2, 2)]
    );

    let run = NewScanRun {
        ts: at(10),
        trader_id: Some(t.id),
        regime: Some(RegimeLabel::BreakoutRotation),
        markets_scanned: 187,
        data: json!({"top_n": 5, "filters": ["liquidity"]}),
    };
    let own = NewScanRun {
        ts: at(20),
        trader_id: None,
        regime: None,
        markets_scanned: 0,
        data: json!(null),
    };
    let run_id = store.scan_runs().insert(&run).await.unwrap();
    let own_id = store.scan_runs().insert(&own).await.unwrap();
    assert_eq!(
        store.scan_runs().list(at(0), at(30), 10).await.unwrap(),
        vec![
            ScanRun {
                id: run_id,
                run: run.clone()
            },
            ScanRun {
                id: own_id,
                run: own
            }
        ]
    );
    assert_eq!(
        store
            .scan_runs()
            .list(at(0), at(20), 10)
            .await
            .unwrap()
            .len(),
        1
    );

    let snaps: Vec<NewFeatureSnapshot> = ["BTC", "ETH", "XRP"]
        .iter()
        .zip(0_i64..)
        .map(|(base, i)| NewFeatureSnapshot {
            scan_run_id: run_id,
            market: market(base),
            ts: at(10 + i),
            features: json!({"rsi": 55, "vol_z": "1.25", "i": i}),
            score: (i != 1).then_some(0.5 + f64::from(u8::try_from(i).unwrap())),
        })
        .collect();
    let ids = store.feature_snapshots().insert_many(&snaps).await.unwrap();
    assert_eq!(ids.len(), 3);
    let labels = FeatureLabels {
        ret_60m: 0.012,
        ret_240m: -0.034,
        mfe_240m: 0.05,
        mae_240m: -0.041,
        dd_240m: 0.07,
    };
    store
        .feature_snapshots()
        .set_labels(ids[0], &labels, at(300))
        .await
        .unwrap();
    let range = store
        .feature_snapshots()
        .range(at(0), at(100), 10)
        .await
        .unwrap();
    assert_eq!(range.len(), 3);
    assert_eq!(range[0].snapshot, snaps[0]);
    assert_eq!(range[0].labels, Some(labels));
    assert_eq!(range[0].labelled_at, Some(at(300)));
    assert_eq!(range[1].snapshot, snaps[1]);
    assert_eq!(range[1].labels, None);
    // Unlabelled and old enough: the labeller's queue.
    let queue = store
        .feature_snapshots()
        .unlabelled(at(11), 10)
        .await
        .unwrap();
    assert_eq!(queue.iter().map(|f| f.id).collect::<Vec<_>>(), vec![ids[1]]);
    assert_eq!(
        store
            .feature_snapshots()
            .unlabelled(at(100), 1)
            .await
            .unwrap()[0]
            .id,
        ids[1]
    );
}

async fn bandits_and_config_versions(db: TestDb) {
    let store = &db.store;
    let trend = BanditState {
        arm: "trend-follow".into(),
        regime: RegimeLabel::Trend,
        alpha: 3.5,
        beta: 1.25,
        pulls: 4,
        updated_at: t0(),
    };
    let range = BanditState {
        regime: RegimeLabel::Range,
        alpha: 1.0,
        beta: 1.0,
        pulls: 0,
        ..trend.clone()
    };
    store.bandit_states().upsert(&trend).await.unwrap();
    store.bandit_states().upsert(&range).await.unwrap();
    let pulled = BanditState {
        alpha: 4.5,
        pulls: 5,
        updated_at: at(1),
        ..trend.clone()
    };
    store.bandit_states().upsert(&pulled).await.unwrap();
    assert_eq!(
        store
            .bandit_states()
            .get("trend-follow", RegimeLabel::Trend)
            .await
            .unwrap(),
        Some(pulled.clone())
    );
    assert_eq!(
        store
            .bandit_states()
            .get("trend-follow", RegimeLabel::Panic)
            .await
            .unwrap(),
        None
    );
    // Ordered by arm, then by the regime's wire string.
    assert_eq!(
        store.bandit_states().list().await.unwrap(),
        vec![range, pulled]
    );
    assert_eq!(db.count("bandit_states").await, 2);

    let cv = store.config_versions();
    assert_eq!(cv.latest("risk").await.unwrap(), None);
    let v1 = cv
        .append("risk", &json!({"max_daily_loss_pct": 3}), "admin", t0())
        .await
        .unwrap();
    let v2 = cv
        .append(
            "risk",
            &json!({"max_daily_loss_pct": 2.5}),
            "operator",
            at(1),
        )
        .await
        .unwrap();
    let other = cv
        .append("strategy:3", &json!({}), "admin", at(2))
        .await
        .unwrap();
    assert_eq!((v1.version, v2.version, other.version), (1, 2, 1));
    assert_eq!(cv.latest("risk").await.unwrap(), Some(v2.clone()));
    assert_eq!(cv.get("risk", 1).await.unwrap(), Some(v1.clone()));
    assert_eq!(cv.get("risk", 3).await.unwrap(), None);
    assert_eq!(cv.list("risk").await.unwrap(), vec![v1.clone(), v2.clone()]);
    // Rollback = reading an old version and appending it again.
    let v3 = cv.append("risk", &v1.data, "admin", at(3)).await.unwrap();
    assert_eq!((v3.version, &v3.data), (3, &v1.data));
    let audit = store
        .config_audit()
        .list_for("config", "risk", 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 3);
    assert_eq!(audit[0].old_value, Some(v2.data));
    assert_eq!(audit[0].new_value, Some(v1.data.clone()));
    assert_eq!(audit[2].old_value, None);
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let store = &db.store;
    for (m, field) in [
        (
            NewModelVersion {
                params: json!([]),
                ..model()
            },
            "params",
        ),
        (
            NewModelVersion {
                metrics: json!(1),
                ..model()
            },
            "metrics",
        ),
        (
            NewModelVersion {
                strategy_id: Some(domain::StrategyId::new(987_654).unwrap()),
                ..model()
            },
            "strategy_id",
        ),
    ] {
        let err = store.model_versions().insert(&m, t0()).await.unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("model_versions").await, 0);
    let m = store.model_versions().insert(&model(), t0()).await.unwrap();
    let err = store
        .model_versions()
        .transition(m.id, ModelEvent::GatePassed, "", t0())
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("actor"), "{err}");
    assert_eq!(
        store
            .model_versions()
            .get(m.id)
            .await
            .unwrap()
            .unwrap()
            .stage,
        ModelStage::Draft
    );
    let err = store
        .model_versions()
        .update_metrics(m.id, &json!("x"), t0())
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("metrics"), "{err}");

    let cand = NewModelCandidate {
        tuning_run: "r".into(),
        model_version_id: None,
        params: json!({}),
        metrics: json!({}),
        verdict: GateVerdict::Hold,
    };
    for (c, field) in [
        (
            NewModelCandidate {
                tuning_run: String::new(),
                ..cand.clone()
            },
            "tuning_run",
        ),
        (
            NewModelCandidate {
                tuning_run: "r".repeat(129),
                ..cand.clone()
            },
            "tuning_run",
        ),
        (
            NewModelCandidate {
                params: json!(null),
                ..cand.clone()
            },
            "params",
        ),
        (
            NewModelCandidate {
                model_version_id: Some(ModelVersionId::new(987_654).unwrap()),
                ..cand.clone()
            },
            "model_version_id",
        ),
    ] {
        let err = store.model_candidates().insert(&c, t0()).await.unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("model_candidates").await, 0);
    assert_eq!("MAYBE".parse::<GateVerdict>().unwrap_err().field, "verdict");

    let err = store
        .scan_runs()
        .insert(&NewScanRun {
            ts: t0(),
            trader_id: Some(missing_trader()),
            regime: None,
            markets_scanned: 1,
            data: json!({}),
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("trader_id"), "{err}");
    assert_eq!(db.count("scan_runs").await, 0);

    // One bad snapshot in a batch: none is written, the bad one is named.
    let run = store
        .scan_runs()
        .insert(&NewScanRun {
            ts: t0(),
            trader_id: None,
            regime: None,
            markets_scanned: 2,
            data: json!({}),
        })
        .await
        .unwrap();
    let good = NewFeatureSnapshot {
        scan_run_id: run,
        market: market("BTC"),
        ts: t0(),
        features: json!({}),
        score: Some(1.0),
    };
    for (bad, field) in [
        (
            NewFeatureSnapshot {
                score: Some(f64::NAN),
                ..good.clone()
            },
            "snapshots[1].score",
        ),
        (
            NewFeatureSnapshot {
                features: json!([1]),
                ..good.clone()
            },
            "snapshots[1].features",
        ),
        (
            NewFeatureSnapshot {
                scan_run_id: 987_654,
                ..good.clone()
            },
            "scan_run_id",
        ),
    ] {
        let err = store
            .feature_snapshots()
            .insert_many(&[good.clone(), bad])
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("feature_snapshots").await, 0);
    let id = store
        .feature_snapshots()
        .insert_many(&[good])
        .await
        .unwrap()[0];
    let err = store
        .feature_snapshots()
        .set_labels(
            id,
            &FeatureLabels {
                ret_60m: 0.0,
                ret_240m: 0.0,
                mfe_240m: f64::INFINITY,
                mae_240m: 0.0,
                dd_240m: 0.0,
            },
            t0(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("label_mfe_240m"), "{err}");
    assert!(
        store
            .feature_snapshots()
            .range(t0(), at(1), 10)
            .await
            .unwrap()[0]
            .labels
            .is_none()
    );
    let err = store
        .feature_snapshots()
        .set_labels(
            987_654,
            &FeatureLabels {
                ret_60m: 0.0,
                ret_240m: 0.0,
                mfe_240m: 0.0,
                mae_240m: 0.0,
                dd_240m: 0.0,
            },
            t0(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");

    let bandit = BanditState {
        arm: "a".into(),
        regime: RegimeLabel::Chop,
        alpha: 1.0,
        beta: 1.0,
        pulls: 0,
        updated_at: t0(),
    };
    for (b, field) in [
        (
            BanditState {
                alpha: 0.0,
                ..bandit.clone()
            },
            "alpha",
        ),
        (
            BanditState {
                beta: f64::NAN,
                ..bandit.clone()
            },
            "beta",
        ),
        (
            BanditState {
                pulls: u64::MAX,
                ..bandit.clone()
            },
            "pulls",
        ),
        (
            BanditState {
                arm: "a".repeat(129),
                ..bandit.clone()
            },
            "arm",
        ),
    ] {
        let err = store.bandit_states().upsert(&b).await.unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("bandit_states").await, 0);

    for (scope, data, actor, field) in [
        ("", json!({}), "admin", "scope"),
        ("risk", json!([]), "admin", "data"),
        ("risk", json!({}), "", "actor"),
    ] {
        let err = store
            .config_versions()
            .append(scope, &data, actor, t0())
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("config_versions").await, 0);
    assert_eq!(db.count("config_audit").await, 0);
}

/// Writers racing on one scope: versions stay 1, 2, … without gaps or
/// duplicates, each with its audit row; a loser gets a retryable error.
async fn racing_config_writers_never_duplicate_a_version(db: TestDb) {
    let store = db.store.clone();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                s.config_versions()
                    .append("risk", &json!({"writer": i}), "admin", at(i))
                    .await
            })
        })
        .collect();
    let mut won = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(v) => won.push(v.version),
            Err(e) => assert!(e.is_retryable(), "a lost race is retryable: {e}"),
        }
    }
    won.sort_unstable();
    assert!(!won.is_empty());
    let want: Vec<u32> = (1..=u32::try_from(won.len()).unwrap()).collect();
    assert_eq!(won, want);
    let listed = store.config_versions().list("risk").await.unwrap();
    assert_eq!(listed.iter().map(|v| v.version).collect::<Vec<_>>(), want);
    assert_eq!(
        store
            .config_audit()
            .list_for("config", "risk", 100)
            .await
            .unwrap()
            .len(),
        won.len()
    );
}

/// What the trainer's jobs need beyond single-row writes: a whole tuning run
/// (candidates + the adopted DRAFT) in one transaction and never twice; a
/// baseline per strategy; labels written once, in batches, and snapshots
/// marked unlabellable; bandit posteriors written together with their
/// watermark.
async fn trainer_batches_are_atomic_and_once_only(db: TestDb) {
    let store = &db.store;
    let s1 = strategy(store, "ai-one").await;
    let s2 = strategy(store, "ai-two").await;
    let cand = |run: &str, v: GateVerdict, i: i64| NewModelCandidate {
        tuning_run: run.into(),
        model_version_id: None,
        params: json!({"weights.TP": 0.1 * f64::from(u8::try_from(i).unwrap())}),
        metrics: json!({"index": i}),
        verdict: v,
    };
    let run: Vec<NewModelCandidate> = (1..=3)
        .map(|i| {
            cand(
                "tune-s1",
                if i == 2 {
                    GateVerdict::Pass
                } else {
                    GateVerdict::Reject
                },
                i,
            )
        })
        .collect();
    let adopted = NewModelVersion {
        strategy_id: Some(s1.id),
        params: json!({"entry_threshold": 72.5}),
        metrics: json!({"gate": {"verdict": "PASS"}}),
    };
    let rec = store
        .model_candidates()
        .record_run(&run, Some((1, &adopted)), at(1))
        .await
        .unwrap();
    let m1 = rec.model.clone().unwrap();
    assert_eq!(m1.stage, ModelStage::Draft);
    assert_eq!(
        store.model_versions().get(m1.id).await.unwrap(),
        Some(m1.clone())
    );
    let stored = store.model_candidates().list_run("tune-s1").await.unwrap();
    assert_eq!(
        stored.iter().map(|c| c.id).collect::<Vec<_>>(),
        rec.candidate_ids
    );
    assert_eq!(
        stored
            .iter()
            .map(|c| c.candidate.model_version_id)
            .collect::<Vec<_>>(),
        vec![None, Some(m1.id), None]
    );
    // The same run again: refused, nothing more written.
    let err = store
        .model_candidates()
        .record_run(&run, Some((1, &adopted)), at(2))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("tuning_run"), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(db.count("model_candidates").await, 3);
    assert_eq!(db.count("model_versions").await, 1);
    // A run without adoption; a bad candidate writes nothing at all.
    let none = store
        .model_candidates()
        .record_run(&[cand("tune-s2", GateVerdict::Hold, 1)], None, at(3))
        .await
        .unwrap();
    assert_eq!(none.model, None);
    let mut bad = vec![
        cand("tune-s3", GateVerdict::Pass, 1),
        cand("tune-s3", GateVerdict::Pass, 2),
    ];
    bad[1].metrics = json!([1, 2]);
    for (cands, adopt, field) in [
        (bad.clone(), None, "candidates[1].metrics"),
        (
            vec![
                cand("tune-s3", GateVerdict::Pass, 1),
                cand("x", GateVerdict::Pass, 2),
            ],
            None,
            "candidates[1].tuning_run",
        ),
        (
            vec![cand("tune-s3", GateVerdict::Pass, 1)],
            Some((5, &adopted)),
            "adopt.index",
        ),
        (Vec::new(), None, "candidates"),
    ] {
        let err = store
            .model_candidates()
            .record_run(&cands, adopt, at(4))
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("model_candidates").await, 4);

    // Baselines per strategy; listing per strategy, newest first.
    let mv = store.model_versions();
    let m2 = mv
        .insert(
            &NewModelVersion {
                strategy_id: Some(s2.id),
                ..model()
            },
            at(5),
        )
        .await
        .unwrap();
    let m3 = mv
        .insert(
            &NewModelVersion {
                strategy_id: Some(s1.id),
                ..model()
            },
            at(6),
        )
        .await
        .unwrap();
    mv.set_strategy_baseline(m1.id, at(7)).await.unwrap();
    mv.set_strategy_baseline(m2.id, at(7)).await.unwrap();
    assert_eq!(mv.baseline_for(s1.id).await.unwrap().unwrap().id, m1.id);
    assert_eq!(mv.baseline_for(s2.id).await.unwrap().unwrap().id, m2.id);
    mv.set_strategy_baseline(m3.id, at(8)).await.unwrap();
    assert_eq!(mv.baseline_for(s1.id).await.unwrap().unwrap().id, m3.id);
    assert!(!mv.get(m1.id).await.unwrap().unwrap().is_baseline);
    assert_eq!(mv.baseline_for(s2.id).await.unwrap().unwrap().id, m2.id);
    assert!(matches!(
        mv.set_strategy_baseline(ModelVersionId::new(999).unwrap(), at(9))
            .await
            .unwrap_err(),
        StorageError::NotFound { .. }
    ));
    assert_eq!(
        mv.list_for_strategy(s1.id, 10)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![m3.id, m1.id]
    );

    // Labels in a batch, once; unlabellable snapshots leave the queue.
    let run_id = store
        .scan_runs()
        .insert(&NewScanRun {
            ts: at(10),
            trader_id: None,
            regime: Some(RegimeLabel::Trend),
            markets_scanned: 3,
            data: json!({}),
        })
        .await
        .unwrap();
    let snaps: Vec<NewFeatureSnapshot> = ["BTC", "ETH", "XRP"]
        .iter()
        .map(|b| NewFeatureSnapshot {
            scan_run_id: run_id,
            market: market(b),
            ts: at(10),
            features: json!({"modules": {"TP": 50.0}}),
            score: Some(50.0),
        })
        .collect();
    let ids = store.feature_snapshots().insert_many(&snaps).await.unwrap();
    let l = |r: f64| FeatureLabels {
        ret_60m: r,
        ret_240m: r,
        mfe_240m: 0.01,
        mae_240m: 0.02,
        dd_240m: 0.03,
    };
    let fs = store.feature_snapshots();
    let err = fs
        .set_labels_many(&[(ids[0], l(0.01)), (ids[1], l(f64::NAN))], at(300))
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("labels[1].label_ret_60m"), "{err}");
    let err = fs
        .set_labels_many(&[(ids[0], l(0.01)), (999_999, l(0.0))], at(300))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
    assert_eq!(
        fs.unlabelled(at(100), 10).await.unwrap().len(),
        3,
        "all or nothing"
    );
    fs.set_labels_many(&[(ids[0], l(0.01)), (ids[1], l(-0.02))], at(300))
        .await
        .unwrap();
    // A second write does not overwrite labels already written.
    fs.set_labels_many(&[(ids[0], l(0.5))], at(301))
        .await
        .unwrap();
    assert_eq!(
        fs.mark_unavailable(&[ids[2], ids[0]], at(302))
            .await
            .unwrap(),
        1
    );
    let read = fs.range(at(0), at(100), 10).await.unwrap();
    assert_eq!(read[0].labels, Some(l(0.01)));
    assert_eq!(read[0].labelled_at, Some(at(300)));
    assert_eq!(read[1].labels, Some(l(-0.02)));
    assert_eq!(read[2].labels, None);
    assert_eq!(read[2].labelled_at, Some(at(302)));
    assert!(
        read.iter()
            .all(storage::learning::FeatureSnapshot::is_settled)
    );
    assert!(fs.unlabelled(at(100), 10).await.unwrap().is_empty());

    // A scan run with its snapshots in one transaction; a bad snapshot writes neither.
    let runs_before = db.count("scan_runs").await;
    let scan = NewScanRun {
        ts: at(15),
        trader_id: None,
        regime: None,
        markets_scanned: 2,
        data: json!({"group": "M5 KRW-BTC"}),
    };
    let mut two = snaps[..2].to_vec();
    two[1].features = json!("not an object");
    let err = store
        .scan_runs()
        .insert_with_snapshots(&scan, &two)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("snapshots[1].features"), "{err}");
    assert_eq!(db.count("scan_runs").await, runs_before);
    let (scan_id, snap_ids) = store
        .scan_runs()
        .insert_with_snapshots(&scan, &snaps[..2])
        .await
        .unwrap();
    let stored: Vec<_> = fs
        .range(at(10), at(11), 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.snapshot.scan_run_id == scan_id)
        .collect();
    assert_eq!(stored.iter().map(|f| f.id).collect::<Vec<_>>(), snap_ids);
    assert_eq!(stored[0].snapshot.features, snaps[0].features);

    // Posteriors and their watermark: together, or not at all.
    let st = |arm: &str, alpha: f64| BanditState {
        arm: arm.into(),
        regime: RegimeLabel::Trend,
        alpha,
        beta: 2.5,
        pulls: 3,
        updated_at: at(20),
    };
    let b = store.bandit_states();
    let v = b
        .upsert_with_watermark(
            &[st("strategy:1", 2.5), st("strategy:2", 3.0)],
            "trainer.bandit",
            &json!({"through": 7}),
            "trainer",
            at(20),
        )
        .await
        .unwrap();
    assert_eq!(v.version, 1);
    let err = b
        .upsert_with_watermark(
            &[st("strategy:1", 9.0), st("strategy:2", 0.0)],
            "trainer.bandit",
            &json!({"through": 8}),
            "trainer",
            at(21),
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("states[1].alpha"), "{err}");
    assert_eq!(
        b.get("strategy:1", RegimeLabel::Trend).await.unwrap(),
        Some(st("strategy:1", 2.5))
    );
    let latest = store
        .config_versions()
        .latest("trainer.bandit")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.data, json!({"through": 7}));
    b.upsert_with_watermark(
        &[st("strategy:1", 4.0)],
        "trainer.bandit",
        &json!({"through": 9}),
        "trainer",
        at(22),
    )
    .await
    .unwrap();
    assert_eq!(
        b.get("strategy:1", RegimeLabel::Trend)
            .await
            .unwrap()
            .unwrap()
            .alpha
            .to_bits(),
        4.0f64.to_bits(),
        "the posterior reads back bit-exact"
    );
    assert_eq!(
        store
            .config_audit()
            .list_for("config", "trainer.bandit", 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

both_backends!(
    racing_config_writers_never_duplicate_a_version,
    model_lifecycle_is_audited_and_guarded,
    candidates_scans_and_features,
    bandits_and_config_versions,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
    trainer_batches_are_atomic_and_once_only,
);
