//! The learning contract end to end with the real binary:
//! * OPT-4: a stored bandit posterior for `strategy:{id}` in the current
//!   regime changes the final score exactly as STR-2 says, the weight is
//!   the one a replay of the same trader and minute draws, and a strategy
//!   without a posterior weighs 1;
//! * AI MODE (FIX-10): a trader runs the newest model of its strategy in a
//!   stage its mode may run, with the model's overrides, records the model
//!   in TRADER_STARTED and in every signal, and refuses to start (CRITICAL,
//!   non-zero exit) on invalid overrides — on SQLite and MariaDB.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{
    Mode, ModelEvent, ModelStage, ModelVersionId, RegimeLabel, RiskProfile, StrategyId, TraderId,
};
use serde_json::{Value, json};
use storage::{
    events::EventLevel,
    learning::{BanditState, NewModelVersion},
};
use strategy::StrategyDefinition;
use upbit_sim::Scenario;

use crate::support::{Db, TraderProc, World, test_definition};

async fn run_minutes(w: &mut World, ids: &[(TraderId, &TraderProc)], n: usize) {
    for _ in 0..n {
        w.step().await;
        for (id, p) in ids {
            assert!(
                w.wait_cycle(*id, w.now, Duration::from_mins(1)).await,
                "minute {} of {id}\n{}",
                w.now,
                p.log_tail()
            );
        }
    }
}

async fn signals(w: &World, id: TraderId) -> Vec<(DateTime<Utc>, Value)> {
    w.db.store
        .signals()
        .list(id, DateTime::UNIX_EPOCH, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.signal.ts, s.signal.scores))
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_posterior_weighs_the_final_score() {
    let mut w = World::start(Db::Sqlite, Scenario::Trend, 6, 7).await;
    let with = w.strategy(&test_definition(55.0)).await;
    let without = w.strategy(&test_definition(55.0)).await;
    // A strategy that has done well in TREND (the regime the world writes).
    let state = BanditState {
        arm: format!("strategy:{with}"),
        regime: RegimeLabel::Trend,
        alpha: 300.0,
        beta: 3.0,
        pulls: 200,
        updated_at: w.now,
    };
    w.db.store.bandit_states().upsert(&state).await.unwrap();
    let a = w.trader(with, 5_000_000, Mode::Paper, false, None).await;
    let b = w.trader(without, 5_000_000, Mode::Paper, false, None).await;
    let pa = TraderProc::spawn(&w, a, None);
    let pb = TraderProc::spawn(&w, b, None);
    run_minutes(&mut w, &[(a, &pa), (b, &pb)], 20).await;
    assert!(pa.terminate().await.success());
    assert!(pb.terminate().await.success());

    let sa = signals(&w, a).await;
    assert!(!sa.is_empty(), "the weighted strategy wrote no signal");
    for (ts, s) in &sa {
        let bandit = &s["bandit"];
        assert_eq!(bandit["arm"], format!("strategy:{with}"));
        assert_eq!(bandit["regime"], "TREND");
        assert_eq!(bandit["source"], "SAMPLED", "{bandit}");
        let weight = f(&bandit["weight"]);
        assert_eq!(
            weight.to_bits(),
            f(&s["bandit_weight"]).to_bits(),
            "fed to the evaluator"
        );
        assert!(weight > 1.3 && weight <= 1.5, "{weight}");
        // Same inputs, same weight: a replay of the trader's minute.
        let replay =
            trader::ai::bandit_weight(a, with, Some(RegimeLabel::Trend), Some(&state), *ts)
                .unwrap();
        assert_eq!(replay.weight.to_bits(), weight.to_bits(), "replay at {ts}");
        // STR-2: final = smoothed × regime weight × bandit weight × risk multiplier.
        let want = (f(&s["smoothed_score"])
            * f(&s["regime"]["applied_weight"])
            * weight
            * f(&s["risk_multiplier"]))
        .clamp(0.0, 100.0);
        assert!(
            (f(&s["total_score"]) - want).abs() < 1e-9,
            "{} vs {want}",
            s["total_score"]
        );
        assert_eq!(s["model_version_id"], Value::Null, "not AI MODE");
    }
    // No posterior: the neutral weight.
    let sb = signals(&w, b).await;
    assert!(!sb.is_empty(), "the unweighted strategy wrote no signal");
    for (_, s) in &sb {
        assert_eq!(s["bandit"]["source"], "WARMUP", "{}", s["bandit"]);
        assert_eq!(f(&s["bandit_weight"]).to_bits(), 1.0_f64.to_bits());
    }
    w.db.cleanup().await;
}

/// An AI MODE strategy the synthetic market trades.
fn ai_definition() -> StrategyDefinition {
    let mut d = test_definition(55.0);
    "IT AI MODE".clone_into(&mut d.name);
    d.risk_profile = RiskProfile::AiMode;
    d.risk.profile = RiskProfile::AiMode;
    d.validate().unwrap();
    d
}

/// A model version of `strategy` moved through the lifecycle to `stage`.
async fn model(
    w: &World,
    strategy: StrategyId,
    stage: ModelStage,
    params: Value,
) -> ModelVersionId {
    let models = w.db.store.model_versions();
    let m = models
        .insert(
            &NewModelVersion {
                strategy_id: Some(strategy),
                params,
                metrics: json!({}),
            },
            w.now,
        )
        .await
        .unwrap();
    let later = w.now + chrono::Duration::hours(25);
    let path: &[(ModelEvent, DateTime<Utc>)] = &[
        (ModelEvent::GatePassed, w.now),
        (ModelEvent::DeployPaper, w.now),
        (
            ModelEvent::PromoteEligible {
                paper_deployed_at: w.now,
            },
            later,
        ),
        (ModelEvent::Arm, later),
    ];
    let steps = match stage {
        ModelStage::Draft => 0,
        ModelStage::Validated => 1,
        ModelStage::PaperDeployed => 2,
        ModelStage::LiveEligible => 3,
        ModelStage::LiveArmed => 4,
        other => panic!("no path to {other}"),
    };
    for (event, at) in &path[..steps] {
        models
            .transition(m.id, event.clone(), "test", *at)
            .await
            .unwrap();
    }
    assert_eq!(models.get(m.id).await.unwrap().unwrap().stage, stage);
    m.id
}

async fn started(w: &World, id: TraderId) -> Value {
    let events =
        w.db.store
            .events()
            .list_after_for(id, 0, 1000)
            .await
            .unwrap();
    events
        .into_iter()
        .find(|e| e.kind == "TRADER_STARTED")
        .unwrap_or_else(|| panic!("trader {id} did not start"))
        .data
}

async fn ai_mode(db: Db) {
    let mut w = World::start(db, Scenario::Trend, 6, 7).await;
    let s = w.strategy(&ai_definition()).await;
    let other = w.strategy(&ai_definition()).await;
    // LIVE may run LIVE_ELIGIBLE and LIVE_ARMED; PAPER also PAPER_DEPLOYED.
    let live_model = model(
        &w,
        s,
        ModelStage::LiveEligible,
        json!({"weights": {"TP": 0.37}}),
    )
    .await;
    let paper_model = model(
        &w,
        s,
        ModelStage::PaperDeployed,
        json!({"weights": {"TP": 0.42}}),
    )
    .await;
    // Newer, but not runnable or not this strategy's.
    model(
        &w,
        s,
        ModelStage::Validated,
        json!({"weights": {"TP": 0.11}}),
    )
    .await;
    model(
        &w,
        other,
        ModelStage::LiveArmed,
        json!({"weights": {"TP": 0.12}}),
    )
    .await;
    let cred = w.credential().await;
    let paper = w.trader(s, 4_000_000, Mode::Paper, false, None).await;
    let live = w.trader(s, 4_000_000, Mode::Live, true, Some(cred)).await;
    let pp = TraderProc::spawn(&w, paper, None);
    let pl = TraderProc::spawn(&w, live, None);
    run_minutes(&mut w, &[(paper, &pp), (live, &pl)], 15).await;
    assert!(pp.terminate().await.success());
    assert!(pl.terminate().await.success());
    for (id, want, tp) in [(paper, paper_model, 0.42), (live, live_model, 0.37)] {
        let data = started(&w, id).await;
        assert_eq!(data["model_version_id"], json!(want.get()), "{id}: {data}");
        let sig = signals(&w, id).await;
        assert!(!sig.is_empty(), "trader {id} wrote no signal");
        for (_, s) in &sig {
            assert_eq!(s["model_version_id"], json!(want.get()), "{id}");
            // The model's override is what the evaluator ran.
            assert!(
                (f(&s["scores"]["TP"]["weight"]) - tp).abs() < 1e-12,
                "{id}: {}",
                s["scores"]["TP"]
            );
            assert!(
                (f(&s["scores"]["VCB"]["weight"]) - 0.25).abs() < 1e-12,
                "kept"
            );
        }
    }

    // Invalid overrides: no start, a CRITICAL event naming the field, a
    // non-zero exit.
    let bad_strategy = w.strategy(&ai_definition()).await;
    let bad = model(
        &w,
        bad_strategy,
        ModelStage::PaperDeployed,
        json!({"entry_threshold": 20.0}),
    )
    .await;
    let t = w
        .trader(bad_strategy, 1_000_000, Mode::Paper, false, None)
        .await;
    let mut p = TraderProc::spawn(&w, t, None);
    let status = tokio::time::timeout(Duration::from_mins(1), p.child.wait())
        .await
        .expect("a trader with an invalid model exits")
        .unwrap();
    assert!(!status.success(), "{status:?}\n{}", p.log_tail());
    let events = w.db.store.events().list_after_for(t, 0, 100).await.unwrap();
    let e = events
        .iter()
        .find(|e| e.kind == "MODEL_INVALID")
        .unwrap_or_else(|| panic!("no MODEL_INVALID event\n{}", p.log_tail()));
    assert_eq!(e.level, EventLevel::Critical);
    assert_eq!(e.data["model_version_id"], json!(bad.get()));
    assert_eq!(e.data["field"], "thresholds.exit");
    assert!(!events.iter().any(|e| e.kind == "TRADER_STARTED"));
    assert!(w.db.store.orders().list(t, 10).await.unwrap().is_empty());
    let _ = std::fs::remove_file(&p.log);
    w.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_mode_runs_its_model_sqlite() {
    ai_mode(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_mode_runs_its_model_mariadb() {
    ai_mode(Db::MariaDb).await;
}
