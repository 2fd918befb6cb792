//! Model choice, overrides and the bandit weight (the learning contract).

use chrono::{Duration, TimeZone, Utc};
use domain::{Mode, ModelStage, ModelVersionId, RegimeLabel, RiskProfile, StrategyId, TraderId};
use serde_json::json;
use storage::learning::{BanditState, ModelVersion};
use strategy::{StrategyDefinition, StrategyOverrides};

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 9, 30, 0).single().unwrap()
}

fn model(id: i64, strategy: i64, stage: ModelStage, params: serde_json::Value) -> ModelVersion {
    ModelVersion {
        id: ModelVersionId::new(id).unwrap(),
        strategy_id: Some(StrategyId::new(strategy).unwrap()),
        stage,
        params,
        metrics: json!({}),
        is_baseline: false,
        created_at: t0(),
        updated_at: t0(),
        paper_deployed_at: None,
        rolled_back_at: None,
    }
}

fn sid(n: i64) -> StrategyId {
    StrategyId::new(n).unwrap()
}

#[test]
fn the_newest_model_of_a_stage_the_mode_may_run() {
    use ModelStage as S;
    let models = vec![
        model(1, 7, S::LiveArmed, json!({})),
        model(2, 7, S::LiveEligible, json!({})),
        model(3, 7, S::PaperDeployed, json!({})),
        model(4, 7, S::Validated, json!({})),
        model(5, 7, S::RolledBack, json!({})),
        model(6, 8, S::LiveArmed, json!({})),
        model(7, 7, S::Draft, json!({})),
    ];
    let cases = [
        // (strategy, mode, expected model id)
        (7, Mode::Paper, Some(3)),
        (7, Mode::Live, Some(2)),
        (8, Mode::Paper, Some(6)),
        (8, Mode::Live, Some(6)),
        (9, Mode::Paper, None),
    ];
    for (strategy, mode, want) in cases {
        let got = pick_model(&models, sid(strategy), mode).map(|m| m.id.get());
        assert_eq!(got, want, "strategy {strategy} in {mode}");
    }
    // Only DRAFT/VALIDATED/ROLLED_BACK models: none runs.
    let idle = vec![
        model(1, 7, S::Draft, json!({})),
        model(2, 7, S::Validated, json!({})),
        model(3, 7, S::RolledBack, json!({})),
        model(4, 7, S::Rejected, json!({})),
    ];
    for mode in [Mode::Paper, Mode::Live] {
        assert!(pick_model(&idle, sid(7), mode).is_none());
    }
    assert_eq!(
        ModelStage::usable_in(Mode::Live),
        &[S::LiveEligible, S::LiveArmed]
    );
}

#[test]
fn overrides_apply_to_the_stored_definition_or_name_the_field() {
    let mut stored = StrategyDefinition::ai_mode(&StrategyOverrides::default()).unwrap();
    stored.universe.min_value_24h_krw = 1e8;
    stored.validate().unwrap();
    let ok = model(
        3,
        7,
        ModelStage::PaperDeployed,
        json!({"entry_threshold": 62.5, "weights": {"TP": 0.4}, "top_n": 12}),
    );
    let d = apply_model(&stored, &ok).unwrap();
    assert!((d.thresholds.entry - 62.5).abs() < 1e-12);
    assert!((d.weights["TP"] - 0.4).abs() < 1e-12);
    assert_eq!(d.universe.top_n, 12);
    assert!((d.universe.min_value_24h_krw - 1e8).abs() < 1e-3, "kept");
    assert_eq!(d.risk_profile, RiskProfile::AiMode);
    let cases = [
        (json!({"alpha": 0.5}), "params"),
        (json!([1, 2]), "params"),
        (json!({"entry_threshold": "high"}), "params"),
        (json!({"weights": {"NEW": 1.0}}), "weights.NEW"),
        (json!({"entry_threshold": 30.0}), "thresholds.exit"),
        (json!({"top_n": 0}), "universe.top_n"),
        (
            json!({"risk": {"daily_loss_limit": "0.5"}}),
            "risk.daily_loss_limit",
        ),
    ];
    for (params, field) in cases {
        let m = model(9, 7, ModelStage::LiveArmed, params.clone());
        let err = apply_model(&stored, &m).unwrap_err();
        assert_eq!(err.field, field, "{params}: {err}");
        assert!(err.message.contains("model version 9"), "{err}");
    }
}

fn state(regime: RegimeLabel, alpha: f64, beta: f64, pulls: u64) -> BanditState {
    BanditState {
        arm: "strategy:7".to_owned(),
        regime,
        alpha,
        beta,
        pulls,
        updated_at: t0(),
    }
}

#[test]
fn bandit_weight_rules() {
    let trader = TraderId::new(3).unwrap();
    let strong = |r| state(r, 300.0, 3.0, 200);
    let cases: Vec<(&str, Option<RegimeLabel>, Option<BanditState>, &str)> = vec![
        ("missing state", Some(RegimeLabel::Trend), None, "WARMUP"),
        (
            "no regime",
            None,
            Some(strong(RegimeLabel::Trend)),
            "NO_REGIME",
        ),
        (
            "CHOP",
            Some(RegimeLabel::Chop),
            Some(strong(RegimeLabel::Chop)),
            "DISABLED",
        ),
        (
            "PANIC",
            Some(RegimeLabel::Panic),
            Some(strong(RegimeLabel::Panic)),
            "DISABLED",
        ),
        (
            "warm-up",
            Some(RegimeLabel::Trend),
            Some(state(RegimeLabel::Trend, 300.0, 3.0, 4)),
            "WARMUP",
        ),
        (
            "another regime's row",
            Some(RegimeLabel::Range),
            Some(strong(RegimeLabel::Trend)),
            "WARMUP",
        ),
    ];
    for (name, regime, st, source) in cases {
        let p = bandit_weight(trader, sid(7), regime, st.as_ref(), t0()).unwrap();
        assert_eq!(p.weight.to_bits(), 1.0_f64.to_bits(), "{name}");
        assert_eq!(p.source, source, "{name}");
        assert!(p.theta.is_none(), "{name}");
        assert_eq!(p.arm, "strategy:7");
    }
    // A strong posterior in TREND: a sampled weight well above 1, the same
    // for the same trader and minute, within [0.5, 1.5] for every minute.
    let st = strong(RegimeLabel::Trend);
    let p = bandit_weight(trader, sid(7), Some(RegimeLabel::Trend), Some(&st), t0()).unwrap();
    assert_eq!(p.source, "SAMPLED");
    assert!(p.weight > 1.3 && p.weight <= 1.5, "{p:?}");
    assert_eq!(p.pulls, 200);
    let again = bandit_weight(trader, sid(7), Some(RegimeLabel::Trend), Some(&st), t0()).unwrap();
    assert_eq!(p.weight.to_bits(), again.weight.to_bits(), "replay");
    // Seconds inside the minute do not matter; the minute and the trader do.
    let later = t0() + Duration::seconds(42);
    let same = bandit_weight(trader, sid(7), Some(RegimeLabel::Trend), Some(&st), later).unwrap();
    assert_eq!(p.weight.to_bits(), same.weight.to_bits());
    assert_ne!(
        bandit_seed(trader, t0()),
        bandit_seed(trader, t0() + Duration::minutes(1))
    );
    assert_ne!(
        bandit_seed(trader, t0()),
        bandit_seed(TraderId::new(4).unwrap(), t0())
    );
    // A poor posterior pulls the weight down.
    let poor = state(RegimeLabel::Trend, 3.0, 300.0, 200);
    let low = bandit_weight(trader, sid(7), Some(RegimeLabel::Trend), Some(&poor), t0()).unwrap();
    assert!(low.weight < 0.7 && low.weight >= 0.5, "{low:?}");
    for k in 0..200 {
        let t = t0() + Duration::minutes(k);
        let w = bandit_weight(
            trader,
            sid(7),
            Some(RegimeLabel::Range),
            Some(&state(RegimeLabel::Range, 4.0, 4.0, 9)),
            t,
        )
        .unwrap()
        .weight;
        assert!((0.5..=1.5).contains(&w), "{w}");
    }
    // A corrupt stored posterior is an error naming it, never a panic.
    let bad = state(RegimeLabel::Trend, 0.0, 3.0, 200);
    let err =
        bandit_weight(trader, sid(7), Some(RegimeLabel::Trend), Some(&bad), t0()).unwrap_err();
    assert!(err.to_string().contains("alpha"), "{err}");
}
