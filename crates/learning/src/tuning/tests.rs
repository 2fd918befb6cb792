//! The standard space and its mapping onto `StrategyOverrides`, space and
//! config errors, and tuning runs over a synthetic backtest: K + 1 trials,
//! determinism for a seed, only PASS adoptable, TPE beating random search.

use std::fmt;

use chrono::{DateTime, Duration, TimeZone, Utc};
use risk::RiskOverrides;
use rust_decimal::Decimal;

use super::*;
use crate::{EvalWindow, SignalOutcome};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap()
}

fn window() -> EvalWindow {
    EvalWindow::new(t0(), t0() + Duration::days(14)).unwrap()
}

#[derive(Debug)]
struct BacktestFailed;

impl fmt::Display for BacktestFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("backtest failed")
    }
}

impl std::error::Error for BacktestFailed {}

/// A synthetic backtest: quality peaks at entry 74, top-N 25, a TP share of
/// 0.45 and a TREND multiplier of 1.3; the mean net return per signal is
/// `0.004 × quality`, the count falls as the threshold rises, and returns
/// alternate `mean ± 0.01` over the 14-day window.
fn synthetic(c: &Candidate) -> Vec<SignalOutcome> {
    let d = &c.definition;
    let sum: f64 = d.weights.values().sum();
    let tp = d.weights.get("TP").copied().unwrap_or(0.0) / sum;
    let entry = d.thresholds.entry;
    let quality = 1.0
        - ((entry - 74.0) / 10.0).powi(2)
        - ((d.universe.top_n as f64 - 25.0) / 30.0).powi(2)
        - ((tp - 0.45) * 2.0).powi(2)
        - (d.regime_policy.trend - 1.3).powi(2);
    let mean = 0.004 * quality;
    let n = ((100.0 - entry) * 8.0).round().max(2.0) as usize;
    let step = Duration::days(14).num_seconds() / n as i64;
    (0..n)
        .map(|i| SignalOutcome {
            ts: t0() + Duration::seconds(step * i as i64),
            r_net: if i % 2 == 0 { mean + 0.01 } else { mean - 0.01 },
            mae: 0.008,
        })
        .collect()
}

#[allow(clippy::unnecessary_wraps, reason = "it has the objective's signature")]
fn ok(c: &Candidate) -> Result<Vec<SignalOutcome>, BacktestFailed> {
    Ok(synthetic(c))
}

fn standard() -> SearchSpace {
    SearchSpace::standard(StrategyOverrides::default()).unwrap()
}

#[test]
fn standard_space_covers_the_five_groups() {
    let s = standard();
    let names: Vec<String> = s.dimensions().iter().map(|d| d.target.name()).collect();
    assert_eq!(
        names,
        [
            "weights.LF",
            "weights.LSR",
            "weights.REGIME",
            "weights.TP",
            "weights.VCB",
            "thresholds.entry",
            "universe.top_n",
            "regime_policy.breakout_rotation",
            "regime_policy.trend",
            "regime_policy.range",
            "risk.risk_multiplier",
        ]
    );
    for g in [
        ParamGroup::FeatureWeights,
        ParamGroup::PenaltyWeights,
        ParamGroup::ScoreThreshold,
        ParamGroup::TopN,
        ParamGroup::RegimePolicy,
    ] {
        assert!(
            s.dimensions().iter().any(|d| d.target.group() == g),
            "{g:?}"
        );
    }
    // The incumbent is STANDARD's numbers.
    let inc = s.incumbent_params();
    assert_eq!(inc["weights.TP"], 0.30);
    assert_eq!(inc["thresholds.entry"], 70.0);
    assert_eq!(inc["universe.top_n"], 20.0);
    assert_eq!(inc["regime_policy.trend"], 1.1);
    assert_eq!(inc["risk.risk_multiplier"], 1.0);
}

#[test]
fn dimensions_serialise() {
    let dims = standard().dimensions().to_vec();
    let json = serde_json::to_value(&dims).unwrap();
    assert_eq!(
        json[3],
        serde_json::json!({"target": "MODULE_WEIGHT", "key": "TP", "lo": 0.0, "hi": 1.0})
    );
    assert_eq!(
        json[5],
        serde_json::json!({"target": "ENTRY_THRESHOLD", "lo": 55.0, "hi": 85.0})
    );
    assert_eq!(json[8]["key"], "TREND");
    let back: Vec<Dimension> = serde_json::from_value(json).unwrap();
    assert_eq!(back, dims);
    let space = SearchSpace::new(StrategyOverrides::default(), back).unwrap();
    assert_eq!(space.dimensions(), standard().dimensions());
}

#[test]
fn params_map_onto_overrides() {
    let s = standard();
    let mut p = s.incumbent_params();
    p.insert("weights.TP".into(), 0.7);
    p.insert("thresholds.entry".into(), 62.5);
    p.insert("universe.top_n".into(), 33.0);
    p.insert("regime_policy.range".into(), 0.6);
    p.insert("risk.risk_multiplier".into(), 0.85);
    let (o, d) = s.resolve(&p).unwrap();
    assert_eq!(o.weights["TP"], 0.7);
    assert_eq!(d.weights["TP"], 0.7);
    assert_eq!(d.weights["VCB"], 0.25);
    assert_eq!(o.entry_threshold, Some(62.5));
    // The exit threshold keeps STANDARD's 30-point gap.
    assert_eq!(o.exit_threshold, Some(32.5));
    assert_eq!(d.thresholds.exit, 32.5);
    assert_eq!(d.universe.top_n, 33);
    assert_eq!(d.regime_policy.range, 0.6);
    // Not tuned: CHOP and PANIC keep the base values.
    assert_eq!(d.regime_policy.chop, 0.5);
    assert_eq!(d.regime_policy.panic, 0.0);
    assert_eq!(d.risk.risk_multiplier, Decimal::new(85, 2));
    assert_eq!(d.risk_profile, domain::RiskProfile::AiMode);
    // The deployed overrides' other fields are carried over.
    let base = StrategyOverrides {
        exit_threshold: Some(20.0),
        risk: Some(RiskOverrides {
            risk_per_trade: Some(Decimal::new(8, 3)),
            ..RiskOverrides::default()
        }),
        ..StrategyOverrides::default()
    };
    let s2 = SearchSpace::standard(base).unwrap();
    let (o2, d2) = s2.resolve(&p).unwrap();
    assert_eq!(d2.risk.risk_per_trade, Decimal::new(8, 3));
    assert_eq!(o2.exit_threshold, Some(62.5 - 50.0));
}

#[test]
fn resolve_errors_name_the_parameter() {
    let s = standard();
    let inc = s.incumbent_params();
    let mut missing = inc.clone();
    missing.remove("universe.top_n");
    let mut extra = inc.clone();
    extra.insert("weights.XX".into(), 0.1);
    let mut fractional = inc.clone();
    fractional.insert("universe.top_n".into(), 20.5);
    let mut boost = inc.clone();
    boost.insert("risk.risk_multiplier".into(), 1.2);
    let mut nan = inc.clone();
    nan.insert("weights.LF".into(), f64::NAN);
    let mut zero = inc.clone();
    for id in ["LF", "LSR", "REGIME", "TP", "VCB"] {
        zero.insert(format!("weights.{id}"), 0.0);
    }
    let cases = [
        (missing, "params.universe.top_n"),
        (extra, "params.weights.XX"),
        (fractional, "params.universe.top_n"),
        (boost, "params.risk.risk_multiplier"),
        (nan, "params.weights.LF"),
        (zero, "candidate.weights"),
    ];
    for (p, field) in cases {
        assert_eq!(s.resolve(&p).unwrap_err().field(), Some(field));
    }
}

#[test]
fn space_errors_name_the_dimension() {
    let d = StrategyOverrides::default();
    let cases: Vec<(Vec<Dimension>, &str)> = vec![
        (vec![], "space.dims"),
        (
            vec![Dimension::new(Target::EntryThreshold, 80.0, 60.0)],
            "space.dims[0].hi",
        ),
        (
            vec![Dimension::new(Target::EntryThreshold, 50.0, 120.0)],
            "space.dims[0].hi",
        ),
        (
            vec![Dimension::new(Target::TopN, 5.5, 50.0)],
            "space.dims[0].lo",
        ),
        (
            vec![Dimension::new(Target::RiskMultiplier, 0.8, 1.3)],
            "space.dims[0].hi",
        ),
        (
            vec![Dimension::new(
                Target::ModuleWeight("NOPE".into()),
                0.0,
                1.0,
            )],
            "space.dims[0].key",
        ),
        (
            vec![Dimension::new(
                Target::RegimeWeight(RegimeLabel::Chop),
                0.0,
                1.0,
            )],
            "space.dims[0].key",
        ),
        (
            vec![
                Dimension::new(Target::TopN, 5.0, 10.0),
                Dimension::new(Target::TopN, 5.0, 20.0),
            ],
            "space.dims[1].target",
        ),
    ];
    for (dims, field) in cases {
        assert_eq!(
            SearchSpace::new(d.clone(), dims).unwrap_err().field(),
            Some(field)
        );
    }
    let bad_base = StrategyOverrides {
        top_n: Some(0),
        ..StrategyOverrides::default()
    };
    assert_eq!(
        SearchSpace::standard(bad_base).unwrap_err().field(),
        Some("space.base.universe.top_n")
    );
}

#[test]
fn config_errors_name_the_field() {
    let d = TuningConfig::default();
    assert_eq!(d.k, 60);
    d.validate().unwrap();
    let cases = [
        (TuningConfig { k: 0, ..d }, "tuning.k"),
        (TuningConfig { startup: 61, ..d }, "tuning.startup"),
        (TuningConfig { gamma: 0.0, ..d }, "tuning.gamma"),
        (
            TuningConfig {
                ei_candidates: 0,
                ..d
            },
            "tuning.ei_candidates",
        ),
        (
            TuningConfig {
                objective: Objective::LowerBound { z: f64::NAN },
                ..d
            },
            "tuning.objective.z",
        ),
        (
            TuningConfig {
                gate: crate::GateConfig {
                    min_signals: 0,
                    ..crate::GateConfig::default()
                },
                ..d
            },
            "gate.min_signals",
        ),
    ];
    for (cfg, field) in cases {
        let err = tune(&standard(), window(), &cfg, ok).unwrap_err();
        match err {
            TuneError::Learning(e) => assert_eq!(e.field(), Some(field)),
            TuneError::Objective { .. } => panic!("{field}: objective error"),
        }
    }
}

#[test]
fn a_round_makes_k_plus_one_trials_and_adopts_only_a_pass() {
    let cfg = TuningConfig {
        seed: 7,
        ..TuningConfig::default()
    };
    let mut calls = 0;
    let report = tune(&standard(), window(), &cfg, |c| {
        calls += 1;
        ok(c)
    })
    .unwrap();
    assert_eq!(report.trials.len(), 61);
    assert_eq!(
        calls,
        61 - report
            .trials
            .iter()
            .filter(|t| t.verdict().is_none())
            .count()
    );
    assert_eq!(report.trials[0].params, standard().incumbent_params());
    for (i, t) in report.trials.iter().enumerate() {
        assert_eq!(t.index, i);
        assert!(t.loss.is_finite());
        for d in standard().dimensions() {
            let v = t.params[&d.target.name()];
            if i > 0 {
                assert!(
                    v >= d.lo && v <= d.hi,
                    "trial {i}: {} = {v}",
                    d.target.name()
                );
            }
        }
    }
    let adoptable = report.adoptable();
    assert!(!adoptable.is_empty());
    assert!(adoptable.iter().all(|t| t.verdict() == Some(Verdict::Pass)));
    match report.decision() {
        Decision::Adopt { index } => {
            let t = &report.trials[index];
            assert!(t.is_adoptable());
            assert!(index > 0);
            assert_eq!(
                t.index,
                adoptable.iter().find(|a| a.index > 0).unwrap().index
            );
        }
        other => panic!("expected an adoption, got {other:?}"),
    }
    // The report is storable.
    let json = serde_json::to_string(&report).unwrap();
    let back: TuningReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.trials.len(), 61);
}

#[test]
fn same_seed_same_candidates_other_seed_others() {
    let run = |seed| {
        let cfg = TuningConfig {
            seed,
            k: 25,
            ..TuningConfig::default()
        };
        tune(&standard(), window(), &cfg, ok).unwrap()
    };
    let a = run(42);
    let b = run(42);
    let c = run(43);
    assert_eq!(a, b);
    assert_ne!(
        a.trials.iter().map(|t| &t.params).collect::<Vec<_>>(),
        c.trials.iter().map(|t| &t.params).collect::<Vec<_>>()
    );
}

#[test]
fn nothing_passes_nothing_is_adopted() {
    // Every candidate loses after costs.
    let losing = |c: &Candidate| -> Result<Vec<SignalOutcome>, BacktestFailed> {
        Ok(synthetic(c)
            .into_iter()
            .map(|o| SignalOutcome {
                r_net: o.r_net - 0.01,
                ..o
            })
            .collect())
    };
    let cfg = TuningConfig {
        k: 15,
        ..TuningConfig::default()
    };
    let report = tune(&standard(), window(), &cfg, losing).unwrap();
    assert!(report.adoptable().is_empty());
    assert_eq!(report.decision(), Decision::NoneAdoptable);
    assert!(
        report
            .trials
            .iter()
            .all(|t| t.verdict() == Some(Verdict::Reject))
    );
}

#[test]
fn a_better_incumbent_is_kept() {
    // Everything passes, and the incumbent (entry 70) is the optimum.
    let peaked = |c: &Candidate| -> Result<Vec<SignalOutcome>, BacktestFailed> {
        let mean = 0.01 - (c.definition.thresholds.entry - 70.0).abs() * 1e-4;
        Ok((0..200)
            .map(|i| SignalOutcome {
                ts: t0() + Duration::hours(i),
                r_net: if i % 2 == 0 { mean + 0.01 } else { mean - 0.01 },
                mae: 0.005,
            })
            .collect())
    };
    let space = SearchSpace::new(
        StrategyOverrides::default(),
        vec![Dimension::new(Target::EntryThreshold, 55.0, 85.0)],
    )
    .unwrap();
    let cfg = TuningConfig {
        k: 20,
        ..TuningConfig::default()
    };
    let report = tune(&space, window(), &cfg, peaked).unwrap();
    assert!(report.trials.iter().all(Trial::is_adoptable));
    assert_eq!(report.decision(), Decision::KeepIncumbent);
    assert_eq!(report.adoptable()[0].index, 0);
}

#[test]
fn objective_errors_and_bad_outcomes_stop_the_run() {
    let mut n = 0;
    let err = tune(&standard(), window(), &TuningConfig::default(), |c| {
        n += 1;
        if n == 4 { Err(BacktestFailed) } else { ok(c) }
    })
    .unwrap_err();
    assert!(
        matches!(err, TuneError::Objective { index: 3, .. }),
        "{err}"
    );
    assert!(!err.is_retryable());

    let err = tune(&standard(), window(), &TuningConfig::default(), |c| {
        let mut v = synthetic(c);
        if c.index == 2 {
            v[5].r_net = f64::NAN;
        }
        Ok::<_, BacktestFailed>(v)
    })
    .unwrap_err();
    match err {
        TuneError::Learning(e) => assert_eq!(e.field(), Some("trials[2].outcomes[5].r_net")),
        TuneError::Objective { .. } => panic!("expected a learning error"),
    }
}

#[test]
fn tpe_beats_random_search() {
    // Same budget (K = 60): TPE after 10 random candidates versus 60 random
    // ones, best objective score averaged over 12 seeds.
    let best = |startup: usize, seed: u64| {
        let cfg = TuningConfig {
            seed,
            startup,
            ..TuningConfig::default()
        };
        let report = tune(&standard(), window(), &cfg, ok).unwrap();
        report
            .trials
            .iter()
            .skip(1)
            .filter_map(Trial::score)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let seeds = 0..12_u64;
    let tpe: f64 = seeds.clone().map(|s| best(10, s)).sum::<f64>() / 12.0;
    let random: f64 = seeds.map(|s| best(60, s)).sum::<f64>() / 12.0;
    assert!(tpe > random, "TPE {tpe} vs random {random}");
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn a_seed_replays_and_stays_in_range(seed in any::<u64>(), startup in 0_usize..12) {
            let cfg = TuningConfig { seed, k: 12, startup, ..TuningConfig::default() };
            let a = tune(&standard(), window(), &cfg, ok).unwrap();
            let b = tune(&standard(), window(), &cfg, ok).unwrap();
            prop_assert_eq!(&a, &b);
            for t in a.trials.iter().skip(1) {
                for d in standard().dimensions() {
                    let v = t.params[&d.target.name()];
                    prop_assert!(v >= d.lo && v <= d.hi, "{} = {}", d.target.name(), v);
                }
            }
            if let Decision::Adopt { index } = a.decision() {
                prop_assert!(a.trials[index].is_adoptable());
            }
        }
    }
}
