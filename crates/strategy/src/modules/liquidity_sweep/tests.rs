//! Liquidity Sweep Reversal: sweep and reclaim, breakdown, no sweep, and
//! SPEC §15.1 boundaries.

use indicators::Candle;

use super::*;
use crate::modules::fixtures::{Case, boundary_series, check, from_closes, input, market, t};

/// 40 candles ranging ±0.3 % around 100.
fn range() -> Vec<f64> {
    (0..40)
        .map(|i| 100.0 * (1.0 + 0.003 * (f64::from(i) * 0.7).sin()))
        .collect()
}

/// The range, then a candle that spikes below it on 2.5x volume and closes
/// back inside with a long lower wick, then a green follow-through.
fn sweep_and_reclaim() -> Vec<Candle> {
    let mut c = from_closes(&range(), 0.001, 100.0);
    let last = c[39].close;
    c.push(Candle {
        ts: t(40),
        open: last,
        high: last * 1.001,
        low: 99.2,
        close: 99.9,
        volume: 250.0,
        value: 0.0,
    });
    c.push(Candle {
        ts: t(41),
        open: 99.9,
        high: 100.3,
        low: 99.8,
        close: 100.2,
        volume: 150.0,
        value: 0.0,
    });
    c
}

#[test]
fn scenarios() {
    let m = market("KRW-XRP");
    let lsr = LiquiditySweep::default();
    let mut breakdown = range();
    breakdown.extend([99.0, 98.9]);
    let cases: Vec<Case<Vec<Candle>>> = vec![
        (
            "sweep below the range low, reclaimed on volume with a long wick",
            sweep_and_reclaim(),
            (90.0, 100.0),
            &[
                "LSR_SWEEP_LOW",
                "LSR_RECLAIM",
                "LSR_LONG_WICK",
                "LSR_VOLUME_SPIKE",
            ],
        ),
        (
            "broke below and stayed there",
            from_closes(&breakdown, 0.001, 100.0),
            (20.0, 35.0),
            &["LSR_SWEEP_LOW", "LSR_NO_RECLAIM"],
        ),
        (
            "the same sweep with no volume at all: the volume term is 0",
            sweep_and_reclaim()
                .into_iter()
                .map(|c| Candle {
                    volume: 0.0,
                    value: 0.0,
                    ..c
                })
                .collect(),
            (80.0, 93.0),
            &["LSR_SWEEP_LOW", "LSR_RECLAIM", "LSR_ZERO_VOLUME"],
        ),
        (
            "inside the range",
            from_closes(&range(), 0.001, 100.0),
            (50.0, 50.0),
            &["LSR_NO_SWEEP"],
        ),
    ];
    for (name, candles, want, codes) in cases {
        check(&lsr, name, &input(&m, &candles), want, codes);
    }
}

#[test]
fn boundaries() {
    let m = market("KRW-XRP");
    let lsr = LiquiditySweep::default();
    for (name, candles) in boundary_series() {
        let s = lsr.score(&input(&m, &candles));
        assert!((0.0..=100.0).contains(&s.score), "{name}");
        match name {
            "empty" | "single candle" => {
                assert!(s.score.abs() < 1e-12, "{name}");
                assert_eq!(s.reason_codes[0].as_str(), "LSR_INSUFFICIENT_DATA");
            }
            "flat market" => assert_eq!(s.reason_codes[0].as_str(), "LSR_FLAT_MARKET"),
            "NaN prices" => assert!(s.score.abs() < 1e-12, "{name}: {s:?}"),
            // a gentle wave and a steady climb (before and after the gap) sweep nothing
            "zero volume" | "gap" => {
                assert!((s.score - 50.0).abs() < 1e-12, "{name}: {s:?}");
                assert_eq!(s.reason_codes[0].as_str(), "LSR_NO_SWEEP", "{name}");
            }
            _ => unreachable!("{name}"),
        }
    }
}
