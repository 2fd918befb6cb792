//! Synthetic candle series for the module tests: flat, trending, squeezing,
//! sweeping — built from a close path with a fixed wick, so each scenario's
//! shape is obvious from its construction.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{Market, RegimeLabel};
use indicators::Candle;
use regime::Classification;

use crate::score::ModuleInput;

pub(crate) fn t(i: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap()
        + Duration::minutes(5 * i64::try_from(i).unwrap())
}

pub(crate) fn market(code: &str) -> Market {
    code.parse().unwrap()
}

/// Candles from a close path: open = previous close, wicks of `wick` × price
/// beyond the body, constant volume.
pub(crate) fn from_closes(closes: &[f64], wick: f64, volume: f64) -> Vec<Candle> {
    closes
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let o = if i == 0 { c } else { closes[i - 1] };
            Candle {
                ts: t(i),
                open: o,
                high: o.max(c) * (1.0 + wick),
                low: o.min(c) * (1.0 - wick),
                close: c,
                volume,
                value: volume * c,
            }
        })
        .collect()
}

/// A gently wavy path around `level` (±0.2 %), `n` candles.
pub(crate) fn wavy(n: usize, level: f64) -> Vec<f64> {
    (0..n)
        .map(|i| level * (1.0 + 0.002 * (i as f64 * 0.9).sin()))
        .collect()
}

/// `n` identical candles (a flat market).
pub(crate) fn flat(n: usize) -> Vec<Candle> {
    (0..n)
        .map(|i| Candle {
            ts: t(i),
            open: 100.0,
            high: 100.0,
            low: 100.0,
            close: 100.0,
            volume: 10.0,
            value: 1000.0,
        })
        .collect()
}

/// A steady uptrend of `step` (fraction) per candle with a small wave.
pub(crate) fn uptrend(n: usize, step: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            100.0 * (1.0 + step).powi(i32::try_from(i).unwrap()) * (1.0 + 0.001 * (i as f64).sin())
        })
        .collect()
}

pub(crate) fn regime(label: RegimeLabel, score: f64) -> Classification {
    Classification { label, score }
}

/// A module input for `m` with no leader data.
pub(crate) fn input<'a>(m: &'a Market, candles: &'a [Candle]) -> ModuleInput<'a> {
    ModuleInput {
        market: m,
        candles,
        leader_market: m,
        leader_candles: None,
        regime: regime(RegimeLabel::Trend, 70.0),
    }
}

/// A table row: name, series, accepted score range, required reason codes.
pub(crate) type Case<T> = (&'static str, T, (f64, f64), &'static [&'static str]);

/// Scores `input` with `module` and checks the score range and that every
/// `codes` entry is present; also that scoring twice gives the same result.
pub(crate) fn check(
    module: &dyn crate::score::ScoreModule,
    name: &str,
    input: &ModuleInput<'_>,
    range: (f64, f64),
    codes: &[&str],
) -> crate::score::ModuleScore {
    let s = module.score(input);
    assert!(
        s.score >= range.0 && s.score <= range.1,
        "{name}: score {} outside {range:?}; {:?}",
        s.score,
        s
    );
    for c in codes {
        assert!(
            s.reason_codes.iter().any(|r| r.as_str() == *c),
            "{name}: missing {c} in {:?}",
            s.reason_codes
        );
    }
    // (compared as text: a NaN metric is NaN both times but never `==`)
    assert_eq!(
        format!("{s:?}"),
        format!("{:?}", module.score(input)),
        "{name}: not deterministic"
    );
    s
}

/// The SPEC §15.1 boundary series every module must survive: empty, a
/// single candle, a flat market, zero volume, NaN prices, a gap.
pub(crate) fn boundary_series() -> Vec<(&'static str, Vec<Candle>)> {
    let mut zero_volume = from_closes(&wavy(150, 100.0), 0.001, 0.0);
    for c in &mut zero_volume {
        c.value = 0.0;
    }
    let mut nan = from_closes(&wavy(150, 100.0), 0.001, 10.0);
    nan[149].close = f64::NAN;
    nan[140].high = f64::NAN;
    let mut gap = from_closes(&uptrend(150, 0.002), 0.001, 10.0);
    for (i, c) in gap.iter_mut().enumerate().skip(100) {
        c.ts = t(i + 50); // 50 missing candles
    }
    vec![
        ("empty", Vec::new()),
        ("single candle", flat(1)),
        ("flat market", flat(150)),
        ("zero volume", zero_volume),
        ("NaN prices", nan),
        ("gap", gap),
    ]
}
