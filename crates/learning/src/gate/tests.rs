//! Verdicts at the boundaries: empty set, one signal, identical returns,
//! exactly at each threshold, every hard fail, and configuration errors.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::{EvalWindow, SignalOutcome, evaluate};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap()
}

/// `n` signals spread evenly over `days`, returns alternating `mean ± dev`
/// (for odd n the last one is `mean`), all with MAE `mae`.
fn set(n: usize, days: i64, mean: f64, dev: f64, mae: f64) -> Vec<SignalOutcome> {
    let step = Duration::days(days).num_seconds() / (n.max(1) as i64);
    (0..n)
        .map(|i| SignalOutcome {
            ts: t0() + Duration::seconds(step * i as i64),
            r_net: if n % 2 == 1 && i == n - 1 {
                mean
            } else if i % 2 == 0 {
                mean + dev
            } else {
                mean - dev
            },
            mae,
        })
        .collect()
}

fn with_losses(mut v: Vec<SignalOutcome>, losses: &[f64]) -> Vec<SignalOutcome> {
    for (o, l) in v.iter_mut().zip(losses) {
        o.r_net = *l;
    }
    v
}

fn run(outcomes: &[SignalOutcome], days: i64, cfg: &GateConfig) -> GateResult {
    let w = EvalWindow::new(t0(), t0() + Duration::days(days)).unwrap();
    gate(&evaluate(outcomes, w).unwrap(), cfg).unwrap()
}

/// Every mismatch, as text (empty when the case holds).
fn check(
    name: &str,
    outcomes: &[SignalOutcome],
    days: i64,
    want: Verdict,
    failed: &[Rule],
) -> Option<String> {
    let r = run(outcomes, days, &GateConfig::default());
    let got: Vec<Rule> = r.failed().map(|c| c.rule).collect();
    (r.verdict != want || got != failed || r.is_adoptable() != (want == Verdict::Pass)).then(|| {
        format!(
            "{name}: want {want:?} {failed:?}, got {:?} {got:?}",
            r.verdict
        )
    })
}

#[test]
fn verdict_table() {
    use Rule as R;
    use Verdict::{Hold, Pass, Reject};
    let cases: Vec<(&str, Vec<SignalOutcome>, i64, Verdict, Vec<Rule>)> = vec![
        (
            "empty set: no evidence",
            vec![],
            10,
            Hold,
            vec![R::MinSignals],
        ),
        (
            "one good signal (and too few per day)",
            set(1, 10, 0.01, 0.0, 0.005),
            10,
            Hold,
            vec![R::MinSignals, R::MinSignalsPerDay],
        ),
        (
            "one signal losing 20 %: the tail hard fail applies at any size",
            set(1, 10, -0.20, 0.0, 0.20),
            10,
            Reject,
            vec![
                R::TailLossQ01,
                R::AdverseExcursionMae95,
                R::MinSignals,
                R::MeanNetReturn,
                R::TailLossQ05,
                R::MaeMean,
                R::MinSignalsPerDay,
            ],
        ),
        (
            "identical positive returns: no variance, no evidence",
            set(40, 10, 0.003, 0.0, 0.005),
            10,
            Hold,
            vec![R::DefinedVariance],
        ),
        (
            "identical negative returns",
            set(40, 10, -0.001, 0.0, 0.005),
            10,
            Reject,
            vec![
                R::NonPositiveExpectancy,
                R::DefinedVariance,
                R::MeanNetReturn,
            ],
        ),
        (
            "identical zero returns: E = 0 is not positive",
            set(40, 10, 0.0, 0.0, 0.005),
            10,
            Reject,
            vec![
                R::NonPositiveExpectancy,
                R::DefinedVariance,
                R::MeanNetReturn,
            ],
        ),
        (
            "a clear edge",
            set(100, 10, 0.004, 0.01, 0.008),
            10,
            Pass,
            vec![],
        ),
        (
            "a clear edge on 29 signals",
            set(29, 10, 0.004, 0.01, 0.008),
            10,
            Hold,
            vec![R::MinSignals],
        ),
        (
            "a clear edge in 6 days",
            set(100, 6, 0.004, 0.01, 0.008),
            6,
            Hold,
            vec![R::MinDays],
        ),
        (
            "negative mean with enough signals",
            set(100, 10, -0.002, 0.01, 0.008),
            10,
            Reject,
            vec![
                R::NonPositiveExpectancy,
                R::MeanNetReturn,
                R::Sharpe,
                R::Significance,
            ],
        ),
        (
            "negative mean on few signals is only held",
            set(10, 10, -0.002, 0.01, 0.008),
            10,
            Hold,
            vec![R::MinSignals, R::MeanNetReturn, R::Sharpe, R::Significance],
        ),
        (
            "positive mean below the 0.05 % bar",
            set(400, 10, 0.0004, 0.001, 0.008),
            10,
            Reject,
            vec![R::MeanNetReturn],
        ),
        (
            "real but not yet significant edge",
            set(40, 10, 0.002, 0.01, 0.008),
            10,
            Hold,
            vec![R::Significance],
        ),
        (
            "two 9 % losses in 100: Q01 below -8 %",
            with_losses(set(100, 10, 0.006, 0.01, 0.008), &[-0.09, -0.09]),
            10,
            Reject,
            vec![R::TailLossQ01],
        ),
        (
            "MAE_95 above 5 %",
            set(100, 10, 0.004, 0.01, 0.051),
            10,
            Reject,
            vec![R::AdverseExcursionMae95, R::MaeMean],
        ),
        (
            "60 signals a day",
            set(600, 10, 0.004, 0.01, 0.008),
            10,
            Reject,
            vec![R::Overtrading],
        ),
        (
            "MAE_mean above 2 % (but MAE_95 within 5 %)",
            set(100, 10, 0.004, 0.01, 0.021),
            10,
            Reject,
            vec![R::MaeMean],
        ),
        (
            "a signal every three days",
            set(40, 120, 0.004, 0.01, 0.008),
            120,
            Reject,
            vec![R::MinSignalsPerDay],
        ),
        (
            "wide losses: Q05 below -3 %",
            set(100, 10, 0.006, 0.045, 0.008),
            10,
            Reject,
            vec![R::TailLossQ05, R::Significance],
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(name, outcomes, days, want, failed)| {
            check(name, outcomes, *days, *want, failed)
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn thresholds_are_inclusive() {
    // Exactly on every soft limit passes; exactly on the hard limits is not a fail.
    let m = Metrics {
        n: 30,
        days: 7.0,
        e: Some(0.0005),
        sd: Some(0.01),
        sharpe: Some(0.05),
        t_stat: Some(2.0),
        q05: Some(-0.03),
        q01: Some(-0.08),
        mae_mean: Some(0.02),
        mae_95: Some(0.05),
        spd: 0.5,
        win_rate: Some(0.5),
    };
    let r = gate(&m, &GateConfig::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Pass, "{:#?}", r.checks);
    let over = Metrics {
        spd: 50.0 + 1e-9,
        ..m
    };
    assert_eq!(
        gate(&over, &GateConfig::default()).unwrap().verdict,
        Verdict::Reject
    );
    let at_cap = Metrics { spd: 50.0, ..m };
    assert_eq!(
        gate(&at_cap, &GateConfig::default()).unwrap().verdict,
        Verdict::Pass
    );
}

#[test]
fn config_errors_name_the_field() {
    let d = GateConfig::default();
    d.validate().unwrap();
    let cases = [
        (
            GateConfig {
                min_signals: 0,
                ..d
            },
            "gate.min_signals",
        ),
        (GateConfig { min_days: 0.0, ..d }, "gate.min_days"),
        (
            GateConfig {
                min_days: f64::NAN,
                ..d
            },
            "gate.min_days",
        ),
        (
            GateConfig {
                min_mean_net: -0.01,
                ..d
            },
            "gate.min_mean_net",
        ),
        (
            GateConfig {
                min_t_stat: f64::INFINITY,
                ..d
            },
            "gate.min_t_stat",
        ),
        (
            GateConfig {
                hard_min_q01: -0.01,
                ..d
            },
            "gate.hard_min_q01",
        ),
        (
            GateConfig {
                hard_max_mae_95: 0.01,
                ..d
            },
            "gate.hard_max_mae_95",
        ),
        (
            GateConfig {
                hard_max_spd: 0.5,
                ..d
            },
            "gate.hard_max_spd",
        ),
    ];
    let m = evaluate(
        &[],
        EvalWindow::new(t0(), t0() + Duration::days(1)).unwrap(),
    )
    .unwrap();
    for (cfg, field) in cases {
        assert_eq!(gate(&m, &cfg).unwrap_err().field(), Some(field), "{cfg:?}");
    }
}

#[test]
fn verdict_and_config_serde() {
    for (v, s) in [
        (Verdict::Pass, "\"PASS\""),
        (Verdict::Hold, "\"HOLD\""),
        (Verdict::Reject, "\"REJECT\""),
    ] {
        assert_eq!(serde_json::to_string(&v).unwrap(), s);
        assert_eq!(format!("\"{}\"", v.as_str()), s);
    }
    let partial: GateConfig = serde_json::from_str(r#"{"min_signals": 50}"#).unwrap();
    assert_eq!(partial.min_signals, 50);
    assert_eq!(partial.hard_min_q01, GateConfig::default().hard_min_q01);
    assert!(serde_json::from_str::<GateConfig>(r#"{"min_signal": 50}"#).is_err());
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn opt(v: f64, some: bool) -> Option<f64> {
        some.then_some(v)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn verdict_follows_the_decision_order(
            n in 0_usize..200,
            days in 0.1_f64..60.0,
            e in -0.02_f64..0.02,
            sd in 0.0_f64..0.05,
            q in (-0.2_f64..0.0, -0.2_f64..0.0),
            mae in (0.0_f64..0.08, 0.0_f64..0.08),
            defined in any::<bool>(),
        ) {
            let sharpe = (sd > 0.0 && n >= 2 && defined).then(|| e / sd);
            let m = Metrics {
                n,
                days,
                e: opt(e, n > 0),
                sd: opt(sd, n >= 2),
                sharpe,
                t_stat: sharpe.map(|s| s * (n as f64).sqrt()),
                q05: opt(q.0.max(q.1), n > 0),
                q01: opt(q.0.min(q.1), n > 0),
                mae_mean: opt(mae.0.min(mae.1), n > 0),
                mae_95: opt(mae.0.max(mae.1), n > 0),
                spd: n as f64 / days,
                win_rate: None,
            };
            let r = gate(&m, &GateConfig::default()).unwrap();
            let hard = r.checks.iter().any(|c| c.kind == RuleKind::HardFail && c.status == CheckStatus::Failed);
            if hard {
                prop_assert_eq!(r.verdict, Verdict::Reject);
            }
            if r.verdict == Verdict::Pass {
                prop_assert!(r.checks.iter().all(|c| c.status == CheckStatus::Passed), "{:?}", r.checks);
                prop_assert!(n >= 30 && days >= 7.0 && e >= 0.0005);
            }
            if n < 30 && !hard {
                prop_assert_eq!(r.verdict, Verdict::Hold);
            }
        }
    }
}
