//! Volatility Contraction Breakout: squeeze + breakout, breakdown, inside the
//! bands, and SPEC §15.1 boundaries.

use super::*;
use crate::modules::fixtures::{Case, boundary_series, check, from_closes, input, market};

/// 50 candles of ±1 % waves, 40 of ±0.1 % (the squeeze), then `last`, with
/// `last_volume` on the final candle (others 100).
fn squeeze_then(last: f64, last_volume: f64) -> Vec<indicators::Candle> {
    let mut p: Vec<f64> = (0..50)
        .map(|i| 100.0 * (1.0 + 0.01 * (f64::from(i) * 0.8).sin()))
        .collect();
    p.extend((0..40).map(|i| 100.0 * (1.0 + 0.001 * (f64::from(i) * 0.9).sin())));
    p.push(last);
    let mut c = from_closes(&p, 0.0005, 100.0);
    if let Some(l) = c.last_mut() {
        l.volume = last_volume;
    }
    c
}

/// Waves whose amplitude grows steadily: band width keeps widening.
fn expanding() -> Vec<f64> {
    (0..100)
        .map(|i| {
            let x = f64::from(i);
            100.0 * (1.0 + 0.0003 * x * (x * 0.9).sin())
        })
        .collect()
}

#[test]
fn scenarios() {
    let m = market("KRW-XRP");
    let vcb = VolatilityBreakout::default();
    let cases: Vec<Case<Vec<indicators::Candle>>> = vec![
        (
            "squeeze, breakout on 3x volume",
            squeeze_then(101.2, 300.0),
            (95.0, 100.0),
            &["VCB_SQUEEZE", "VCB_BREAKOUT_UP", "VCB_VOLUME_SPIKE"],
        ),
        (
            "squeeze, breakout on normal volume",
            squeeze_then(101.2, 100.0),
            (80.0, 95.0),
            &["VCB_SQUEEZE", "VCB_BREAKOUT_UP"],
        ),
        (
            "squeeze, breakdown on volume",
            squeeze_then(98.8, 300.0),
            (0.0, 5.0),
            &["VCB_SQUEEZE", "VCB_BREAKDOWN"],
        ),
        (
            "squeeze, still inside the bands",
            squeeze_then(100.0, 100.0),
            (45.0, 55.0),
            &["VCB_SQUEEZE", "VCB_INSIDE_BANDS"],
        ),
        (
            "expanding volatility: no squeeze",
            from_closes(&expanding(), 0.001, 100.0),
            (0.0, 100.0),
            &["VCB_NO_SQUEEZE"],
        ),
    ];
    for (name, candles, range, codes) in cases {
        check(&vcb, name, &input(&m, &candles), range, codes);
    }
}

#[test]
fn boundaries() {
    let m = market("KRW-XRP");
    let vcb = VolatilityBreakout::default();
    for (name, candles) in boundary_series() {
        let s = vcb.score(&input(&m, &candles));
        assert!((0.0..=100.0).contains(&s.score), "{name}");
        let want = match name {
            "empty" | "single candle" | "NaN prices" => Some("VCB_INSUFFICIENT_DATA"),
            "flat market" => Some("VCB_FLAT_MARKET"),
            "zero volume" => Some("VCB_ZERO_VOLUME"),
            // enough candles on both sides of the gap: a full answer
            "gap" => {
                assert!(
                    !s.reason_codes
                        .iter()
                        .any(|r| r.as_str() == "VCB_INSUFFICIENT_DATA"),
                    "{s:?}"
                );
                assert!(s.raw_metrics.contains_key("bb_width_pct_rank"), "{s:?}");
                None
            }
            _ => unreachable!("{name}"),
        };
        if let Some(code) = want {
            assert!(
                s.reason_codes.iter().any(|r| r.as_str() == code),
                "{name}: {:?}",
                s.reason_codes
            );
        }
        if matches!(
            name,
            "empty" | "single candle" | "flat market" | "NaN prices"
        ) {
            assert!(s.score.abs() < 1e-12, "{name}");
        }
    }
}
