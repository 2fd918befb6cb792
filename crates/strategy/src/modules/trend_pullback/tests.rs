//! Trend Pullback: textbook cases and SPEC §15.1 boundaries.

use super::*;
use crate::modules::fixtures::{
    Case, boundary_series, check, from_closes, input, market, uptrend, wavy,
};

/// A 0.4 %-per-candle uptrend, a 7-candle dip of 0.35 % each back to the
/// 20-EMA, then a green candle.
fn pullback_then_bounce() -> Vec<f64> {
    let mut p = uptrend(70, 0.004);
    let top = p[69];
    for k in 1..=7 {
        p.push(top * (1.0 - 0.0035 * f64::from(k)));
    }
    let low = p[p.len() - 1];
    p.push(low * 1.004);
    p
}

#[test]
fn scenarios() {
    let m = market("KRW-XRP");
    let tp = TrendPullback::default();
    let cases: Vec<Case<Vec<f64>>> = vec![
        (
            "pullback to the fast EMA, then a bounce",
            pullback_then_bounce(),
            (90.0, 100.0),
            &["TP_UPTREND", "TP_PULLBACK_TO_EMA", "TP_BOUNCE_CONFIRMED"],
        ),
        (
            "uptrend far above the fast EMA (chasing)",
            uptrend(80, 0.004),
            (50.0, 60.0),
            &["TP_UPTREND", "TP_NO_PULLBACK", "TP_EXTENDED"],
        ),
        (
            "downtrend",
            (0..80).map(|i| 100.0 * 0.996f64.powi(i)).collect(),
            (0.0, 20.0),
            &["TP_NO_UPTREND", "TP_DOWNTREND"],
        ),
    ];
    for (name, closes, range, codes) in cases {
        let candles = from_closes(&closes, 0.001, 100.0);
        check(&tp, name, &input(&m, &candles), range, codes);
    }
}

#[test]
fn boundaries_score_zero_and_say_why() {
    let m = market("KRW-XRP");
    let tp = TrendPullback::default();
    for (name, candles) in boundary_series() {
        let s = tp.score(&input(&m, &candles));
        assert!((0.0..=100.0).contains(&s.score), "{name}");
        let want = match name {
            "empty" | "single candle" | "NaN prices" => Some("TP_INSUFFICIENT_DATA"),
            "flat market" => Some("TP_FLAT_MARKET"),
            // TP reads prices only: without volume it says what it says with volume
            "zero volume" => {
                let traded = from_closes(&wavy(150, 100.0), 0.001, 10.0);
                assert_eq!(s, tp.score(&input(&m, &traded)));
                assert!(s.raw_metrics["atr"] > 0.0, "{s:?}");
                None
            }
            // a steady climb stays an uptrend across 50 missing candles
            "gap" => {
                assert_eq!(s.reason_codes[0].as_str(), "TP_UPTREND", "{s:?}");
                assert!(s.score > 50.0, "{s:?}");
                None
            }
            _ => unreachable!("{name}"),
        };
        if let Some(code) = want {
            assert!(s.score.abs() < 1e-12, "{name}: {}", s.score);
            assert!(
                s.reason_codes.iter().any(|r| r.as_str() == code),
                "{name}: {:?}",
                s.reason_codes
            );
        }
    }
}

#[test]
fn key_metrics_are_reported() {
    let m = market("KRW-XRP");
    let candles = from_closes(&pullback_then_bounce(), 0.001, 100.0);
    let s = TrendPullback::default().score(&input(&m, &candles));
    for k in [
        "ema_fast",
        "ema_slow",
        "ema_gap_pct",
        "atr",
        "atr_pct",
        "pullback_low_atr",
    ] {
        assert!(s.raw_metrics[k].is_finite(), "{k}");
    }
    assert!(s.raw_metrics["ema_gap_pct"] > 0.0);
}
