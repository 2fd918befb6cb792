//! Screener tests: every filter, the top-N cut, deterministic order, bad
//! input, and snapshots built from candles and a book.

use domain::{Price, RiskProfile, Volume};
use risk::BookLevel;
use rust_decimal::Decimal;

use super::*;
use crate::{
    StrategyDefinition,
    modules::fixtures::{from_closes, t, wavy},
};

fn snap(
    code: &str,
    value: f64,
    spread: f64,
    depth: f64,
    vol: f64,
    warning: bool,
) -> MarketSnapshot {
    MarketSnapshot {
        market: code.parse().unwrap(),
        value_24h: value,
        spread,
        avg_depth5: depth,
        volatility: vol,
        warning,
    }
}

fn good(code: &str, value: f64) -> MarketSnapshot {
    snap(code, value, 0.001, 50e6, 0.001, false)
}

fn settings() -> UniverseSettings {
    StrategyDefinition::builtin(RiskProfile::Standard).universe
}

fn reasons_of(s: &Screening, code: &str) -> Vec<String> {
    s.rejected
        .iter()
        .find(|r| r.market.as_str() == code)
        .map(|r| r.reasons.iter().map(ToString::to_string).collect())
        .unwrap_or_default()
}

#[test]
fn each_filter_rejects_with_its_reason() {
    let u = settings();
    let cases = [
        (
            snap("KRW-A", 1e9, 0.001, 50e6, 0.001, false),
            vec!["SCR_VALUE_TOO_LOW"],
        ),
        (
            snap("KRW-B", 1e11, 0.006, 50e6, 0.001, false),
            vec!["SCR_SPREAD_TOO_WIDE"],
        ),
        (
            snap("KRW-C", 1e11, 0.001, 1e6, 0.001, false),
            vec!["SCR_DEPTH_TOO_THIN"],
        ),
        (
            snap("KRW-D", 1e11, 0.001, 50e6, 0.00001, false),
            vec!["SCR_VOLATILITY_TOO_LOW"],
        ),
        (
            snap("KRW-E", 1e11, 0.001, 50e6, 0.05, false),
            vec!["SCR_VOLATILITY_TOO_HIGH"],
        ),
        (
            snap("KRW-F", 1e11, 0.001, 50e6, 0.001, true),
            vec!["SCR_MARKET_WARNING"],
        ),
        (
            snap("KRW-G", f64::NAN, f64::NAN, 50e6, 0.001, false),
            vec!["SCR_BAD_INPUT", "SCR_VALUE_TOO_LOW", "SCR_SPREAD_TOO_WIDE"],
        ),
        (
            snap("KRW-H", 1e9, 0.02, 0.0, f64::NAN, true),
            vec![
                "SCR_BAD_INPUT",
                "SCR_MARKET_WARNING",
                "SCR_VALUE_TOO_LOW",
                "SCR_SPREAD_TOO_WIDE",
                "SCR_DEPTH_TOO_THIN",
                "SCR_VOLATILITY_TOO_LOW",
            ],
        ),
    ];
    let snaps: Vec<MarketSnapshot> = cases.iter().map(|(s, _)| s.clone()).collect();
    let out = screen(&snaps, &u);
    assert!(out.candidates.is_empty());
    for (s, want) in cases {
        assert_eq!(reasons_of(&out, s.market.as_str()), want, "{}", s.market);
    }
    // warnings are allowed when the strategy does not exclude them
    let mut lax = u.clone();
    lax.exclude_warnings = false;
    let out = screen(&[snap("KRW-F", 1e11, 0.001, 50e6, 0.001, true)], &lax);
    assert_eq!(out.candidates.len(), 1);
}

#[test]
fn top_n_by_value_in_a_deterministic_order() {
    let mut u = settings();
    u.top_n = 3;
    let snaps = vec![
        good("KRW-C", 3e10),
        good("KRW-A", 9e10),
        good("KRW-B", 9e10), // tie with A: code order
        good("KRW-D", 1e10),
        snap("KRW-E", 5e10, 0.009, 50e6, 0.001, false), // rejected, does not take a slot
        good("KRW-A", 1e9),                             // duplicate: first one kept
    ];
    let out = screen(&snaps, &u);
    let got: Vec<(&str, usize)> = out
        .candidates
        .iter()
        .map(|c| (c.market.as_str(), c.rank))
        .collect();
    assert_eq!(got, vec![("KRW-A", 1), ("KRW-B", 2), ("KRW-C", 3)]);
    assert_eq!(reasons_of(&out, "KRW-D"), vec!["SCR_OUTSIDE_TOP_N"]);
    assert_eq!(reasons_of(&out, "KRW-E"), vec!["SCR_SPREAD_TOO_WIDE"]);
    // input order does not matter
    let mut rev = snaps.clone();
    rev.reverse();
    let again = screen(&rev, &u);
    let names = |s: &Screening| {
        s.candidates
            .iter()
            .map(|c| c.market.to_string())
            .collect::<Vec<_>>()
    };
    // (the duplicate KRW-A now comes first in the input, but ordering by value
    // still visits the 9e10 snapshot first)
    assert_eq!(names(&again), names(&out));
    assert!(screen(&[], &u).candidates.is_empty());
}

#[test]
fn near_limit_flags() {
    let u = settings();
    let out = screen(
        &[
            snap("KRW-A", 1e11, 0.0045, 11e6, 0.001, false),
            good("KRW-B", 1e11),
        ],
        &u,
    );
    let flags: Vec<Vec<String>> = out
        .candidates
        .iter()
        .map(|c| c.reason_flags.iter().map(ToString::to_string).collect())
        .collect();
    assert_eq!(
        flags[0],
        vec!["SCR_TOP_N", "SCR_NEAR_SPREAD_LIMIT", "SCR_NEAR_DEPTH_LIMIT"]
    );
    assert_eq!(flags[1], vec!["SCR_TOP_N"]);
}

#[test]
fn snapshot_from_candles_and_book() {
    let m: Market = "KRW-XRP".parse().unwrap();
    // 300 one-minute candles at ~100 KRW, volume 10 each, value left empty
    let mut candles = from_closes(&wavy(300, 100.0), 0.001, 10.0);
    for (i, c) in candles.iter_mut().enumerate() {
        c.ts = t(0) + Duration::minutes(i64::try_from(i).unwrap());
        c.value = 0.0;
    }
    let now = candles[299].ts + Duration::minutes(1);
    let lvl = |p: i64, v: i64| BookLevel {
        price: Price::new(Decimal::from(p)).unwrap(),
        volume: Volume::new(Decimal::from(v)).unwrap(),
    };
    let book = OrderBook::new(
        m.clone(),
        (0..5).map(|i| lvl(101 + i, 1000)).collect(),
        vec![lvl(100, 1000)],
    )
    .unwrap();
    let s = MarketSnapshot::from_data(m.clone(), &candles, Some(&book), false, now);
    // value falls back to close × volume
    let want: f64 = candles.iter().map(|c| c.close * 10.0).sum();
    assert!((s.value_24h - want).abs() < 1e-6);
    assert!((s.spread - 1.0 / 100.5).abs() < 1e-12);
    assert!((s.avg_depth5 - 103_000.0).abs() < 1e-6);
    assert!(
        s.volatility > 0.0 && s.volatility < 0.01,
        "{}",
        s.volatility
    );
    // only the last 24 h count
    let later = now + Duration::hours(24) - Duration::minutes(100);
    let s2 = MarketSnapshot::from_data(m.clone(), &candles, None, false, later);
    let want: f64 = candles[200..].iter().map(|c| c.close * 10.0).sum();
    assert!(
        (s2.value_24h - want).abs() < 1e-6,
        "{} vs {want}",
        s2.value_24h
    );
    assert!(s2.spread.is_nan());
    assert!(s2.avg_depth5.abs() < 1e-12);
    // too little history for volatility
    let s3 = MarketSnapshot::from_data(m, &candles[..5], None, false, now);
    assert!(s3.volatility.is_nan());
    let out = screen(&[s3], &settings());
    assert!(
        out.rejected[0]
            .reasons
            .iter()
            .any(|r| r.as_str() == "SCR_BAD_INPUT")
    );
}

#[test]
fn snapshots_of_the_boundary_series() {
    // SPEC §15.1: a market whose history is empty, one candle, flat, without
    // volume, with NaN prices, or with a gap is screened with its reasons,
    // never crashes the screener and never poisons the numbers with NaN.
    let m: Market = "KRW-XRP".parse().unwrap();
    let lvl = |p: i64, v: i64| BookLevel {
        price: Price::new(Decimal::from(p)).unwrap(),
        volume: Volume::new(Decimal::from(v)).unwrap(),
    };
    let book = OrderBook::new(
        m.clone(),
        (0..5).map(|i| lvl(101 + i, 1000)).collect(),
        vec![lvl(100, 1000)],
    )
    .unwrap();
    // every filter open, except: some value and some movement
    let u = UniverseSettings {
        top_n: 10,
        min_value_24h_krw: 1.0,
        max_spread: 0.1,
        min_avg_depth5_krw: 0.0,
        min_volatility: 1e-6,
        max_volatility: 1.0,
        exclude_warnings: true,
    };
    for (name, candles) in crate::modules::fixtures::boundary_series() {
        let now = candles.last().map_or(t(0), |c| c.ts) + Duration::minutes(1);
        let s = MarketSnapshot::from_data(m.clone(), &candles, Some(&book), false, now);
        assert!(s.value_24h.is_finite(), "{name}: {s:?}");
        let out = screen(std::slice::from_ref(&s), &u);
        let reasons: Vec<String> = out
            .rejected
            .first()
            .map(|r| r.reasons.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        let want: &[&str] = match name {
            // no trades and no returns: value 0, volatility unknown
            "empty" => &[
                "SCR_BAD_INPUT",
                "SCR_VALUE_TOO_LOW",
                "SCR_VOLATILITY_TOO_LOW",
            ],
            // one candle has value but no return
            "single candle" => &["SCR_BAD_INPUT", "SCR_VOLATILITY_TOO_LOW"],
            "flat market" => &["SCR_VOLATILITY_TOO_LOW"],
            "zero volume" => &["SCR_VALUE_TOO_LOW"],
            // the NaN candles are left out of value and volatility
            "NaN prices" | "gap" => &[],
            _ => unreachable!("{name}"),
        };
        assert_eq!(reasons, want, "{name}: {s:?}");
        assert_eq!(out.candidates.len(), usize::from(want.is_empty()), "{name}");
    }
}
