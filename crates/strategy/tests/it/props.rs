//! Property tests over arbitrary candle series (random walks with NaN prices,
//! zero volume and gaps mixed in): every module's score and the final score
//! stay in [0, 100], and the same inputs give the same, byte-identical result
//! (STR-2, STR-8).

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{Market, RegimeLabel, RiskProfile, SignalAction};
use indicators::Candle;
use proptest::prelude::*;
use regime::Classification;
use strategy::{Cycle, Evaluator, ModuleInput, ModuleRegistry, StrategyDefinition};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap()
}

/// One step: return, wick, volume, and a defect (0 none, 1 NaN close,
/// 2 zero volume, 3 a gap of 1–5 candles before it).
fn step() -> impl Strategy<Value = (f64, f64, f64, u8, i64)> {
    (
        -0.03f64..0.03,
        0.0f64..0.01,
        0.0f64..1_000.0,
        prop_oneof![8 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)],
        1i64..6,
    )
}

fn series(steps: &[(f64, f64, f64, u8, i64)], start: f64) -> Vec<Candle> {
    let mut out = Vec::with_capacity(steps.len());
    let mut price = start;
    let mut ts = t0();
    for &(r, wick, volume, defect, gap) in steps {
        let open = price;
        price *= 1.0 + r;
        ts += Duration::minutes(5 * if defect == 3 { gap + 1 } else { 1 });
        out.push(Candle {
            ts,
            open,
            high: open.max(price) * (1.0 + wick),
            low: open.min(price) * (1.0 - wick),
            close: if defect == 1 { f64::NAN } else { price },
            volume: if defect == 2 { 0.0 } else { volume },
            value: volume * price,
        });
    }
    out
}

fn markets() -> (Market, Market) {
    ("KRW-XRP".parse().unwrap(), "KRW-BTC".parse().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn module_scores_stay_in_range_and_are_deterministic(
        steps in prop::collection::vec(step(), 0..160),
        leader_steps in prop::collection::vec(step(), 0..160),
        label in prop::sample::select(RegimeLabel::ALL.to_vec()),
        confidence in prop_oneof![0.0f64..=100.0, Just(f64::NAN)],
    ) {
        let (xrp, btc) = markets();
        let candles = series(&steps, 1_000.0);
        let leader = series(&leader_steps, 100_000_000.0);
        let input = ModuleInput {
            market: &xrp,
            candles: &candles,
            leader_market: &btc,
            leader_candles: Some(&leader),
            regime: Classification { label, score: confidence },
        };
        let registry = ModuleRegistry::builtin();
        for id in registry.ids() {
            let module = registry.get(id).unwrap();
            let a = module.score(&input);
            prop_assert!((0.0..=100.0).contains(&a.score), "{id}: {}", a.score);
            prop_assert!(!a.reason_codes.is_empty(), "{id} gave no reason");
            let b = module.score(&input);
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn evaluation_and_record_are_bounded_and_byte_identical(
        steps in prop::collection::vec(step(), 0..160),
        label in prop::sample::select(RegimeLabel::ALL.to_vec()),
        confidence in 0.0f64..=100.0,
        bandit in prop::option::of(0.0f64..3.0),
        profile in prop::sample::select(RiskProfile::ALL.to_vec()),
    ) {
        let (xrp, _) = markets();
        let ev = Evaluator::with_builtin_modules(StrategyDefinition::builtin(profile)).unwrap();
        let candles = series(&steps, 1_000.0);
        let cycle = Cycle {
            now: t0() + Duration::days(2),
            regime: Classification { label, score: confidence },
            regime_stale: false,
            leader_candles: None,
            bandit_weight: bandit,
        };
        let a = ev.evaluate(&xrp, &candles, &cycle, None);
        prop_assert!((0.0..=100.0).contains(&a.final_score()));
        let b = ev.evaluate(&xrp, &candles, &cycle, None);
        let ra = ev.record(&a, SignalAction::Hold, vec![]).to_json();
        let rb = ev.record(&b, SignalAction::Hold, vec![]).to_json();
        prop_assert_eq!(ra, rb);
    }
}
