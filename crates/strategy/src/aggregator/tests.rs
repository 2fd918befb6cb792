//! Aggregator tests: weighted mean, smoothing, bandit rules, STR-2 formula and
//! thresholds, and the [0, 100] property.

use chrono::TimeZone;
use domain::RiskProfile;
use proptest::prelude::*;

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn base_score_is_the_normalised_weighted_mean() {
    let cases: &[(&[(f64, f64)], f64)] = &[
        (&[(0.3, 100.0), (0.7, 0.0)], 30.0),
        (&[(3.0, 100.0), (7.0, 0.0)], 30.0), // weights need not sum to 1
        (&[(1.0, f64::NAN), (1.0, 80.0)], 40.0), // NaN counts as 0
        (&[(1.0, 250.0)], 100.0),            // clamped
        (&[(0.0, 90.0)], 0.0),
        (&[], 0.0),
    ];
    for (weighted, want) in cases {
        assert!(close(base_score(weighted), *want), "{weighted:?}");
    }
}

#[test]
fn smoothing_is_an_ema_that_restarts_after_a_gap() {
    let reset = Duration::minutes(30);
    let s1 = smooth(None, 80.0, 0.3, reset, t0());
    assert!(close(s1.ema, 80.0));
    assert_eq!(s1.samples, 1);
    let s2 = smooth(Some(&s1), 40.0, 0.3, reset, t0() + Duration::minutes(1));
    assert!(close(s2.ema, 0.3 * 40.0 + 0.7 * 80.0));
    assert_eq!(s2.samples, 2);
    // exactly at the reset age: still smoothing; beyond it: restart
    let s3 = smooth(Some(&s2), 0.0, 0.3, reset, s2.updated_at + reset);
    assert!(close(s3.ema, 0.7 * s2.ema));
    let s4 = smooth(
        Some(&s2),
        10.0,
        0.3,
        reset,
        s2.updated_at + reset + Duration::seconds(1),
    );
    assert!(close(s4.ema, 10.0));
    assert_eq!(s4.samples, 1);
    // time going backwards restarts too
    let s5 = smooth(Some(&s2), 10.0, 0.3, reset, t0() - Duration::minutes(1));
    assert_eq!(s5.samples, 1);
}

#[test]
fn bandit_weight_rules() {
    use RegimeLabel::*;
    for (input, label, want) in [
        (Some(1.3), Trend, 1.3),
        (Some(3.0), Trend, 1.5),
        (Some(0.1), Range, 0.5),
        (Some(f64::NAN), Trend, 1.0),
        (None, BreakoutRotation, 1.0),
        (Some(1.5), Chop, 1.0),
        (Some(0.5), Panic, 1.0),
    ] {
        assert!(
            close(effective_bandit_weight(input, label), want),
            "{input:?} {label}"
        );
    }
}

#[test]
fn final_score_follows_str2_and_thresholds() {
    let def = StrategyDefinition::builtin(RiskProfile::Standard);
    let regime = Classification {
        label: RegimeLabel::Trend,
        score: 50.0,
    };
    // TREND w = 1.1, at confidence 50: applied 1.05
    let (a, s) = aggregate(&def, &[(1.0, 80.0)], None, regime, Some(1.1), t0());
    assert!(close(a.base_score, 80.0));
    assert!(close(a.regime_weight, 1.05));
    assert!(close(a.bandit_weight, 1.1));
    assert!(close(a.final_score, 80.0 * 1.05 * 1.1));
    assert_eq!(a.signal, ScoreSignal::Entry);
    assert!(close(s.ema, 80.0));
    // clamped at 100
    let (a, _) = aggregate(&def, &[(1.0, 100.0)], None, regime, Some(1.5), t0());
    assert!(close(a.final_score, 100.0));
    // thresholds: ≥ 70 entry, < 40 exit, else hold (neutral regime weight)
    let neutral = Classification {
        label: RegimeLabel::Trend,
        score: 0.0,
    };
    for (score, want) in [
        (70.0, ScoreSignal::Entry),
        (69.99, ScoreSignal::Hold),
        (40.0, ScoreSignal::Hold),
        (39.99, ScoreSignal::Exit),
    ] {
        let (a, _) = aggregate(&def, &[(1.0, score)], None, neutral, None, t0());
        assert_eq!(a.signal, want, "{score}");
    }
    // PANIC at full confidence zeroes the score; a NaN confidence is neutral
    let panic = Classification {
        label: RegimeLabel::Panic,
        score: 100.0,
    };
    let (a, _) = aggregate(&def, &[(1.0, 90.0)], None, panic, None, t0());
    assert!(close(a.final_score, 0.0));
    assert_eq!(a.signal, ScoreSignal::Exit);
    let unknown = Classification {
        label: RegimeLabel::Trend,
        score: f64::NAN,
    };
    let (a, _) = aggregate(&def, &[(1.0, 90.0)], None, unknown, None, t0());
    assert!(close(a.final_score, 90.0));
    // the risk multiplier is part of the product (SAFETY_FIRST 0.9)
    let safety = StrategyDefinition::builtin(RiskProfile::SafetyFirst);
    let (a, _) = aggregate(&safety, &[(1.0, 80.0)], None, neutral, None, t0());
    assert!(close(a.final_score, 72.0));
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e6f64..1e6,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        0.0f64..=100.0,
    ]
}

proptest! {
    #[test]
    fn final_score_is_always_within_0_and_100(
        scores in prop::collection::vec((0.0f64..5.0, any_f64()), 0..8),
        prev in prop::option::of(any_f64()),
        regime_score in any_f64(),
        label in prop::sample::select(RegimeLabel::ALL.to_vec()),
        bandit in prop::option::of(any_f64()),
        profile in prop::sample::select(RiskProfile::ALL.to_vec()),
    ) {
        let def = StrategyDefinition::builtin(profile);
        let prev = prev.map(|ema| ScoreState { ema, updated_at: t0(), samples: 1 });
        let regime = Classification { label, score: regime_score };
        let (a, s) = aggregate(&def, &scores, prev.as_ref(), regime, bandit, t0());
        prop_assert!((0.0..=100.0).contains(&a.final_score), "{a:?}");
        prop_assert!((0.0..=100.0).contains(&a.base_score));
        prop_assert!(s.ema.is_finite() || prev.is_some_and(|p| !p.ema.is_finite()));
        // same inputs, same outputs
        let (b, _) = aggregate(&def, &scores, prev.as_ref(), regime, bandit, t0());
        prop_assert_eq!(a, b);
    }
}
