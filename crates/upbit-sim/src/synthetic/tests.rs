//! Properties of the synthetic generator: validity, determinism, correlation
//! and the shape of each named scenario.

use chrono::TimeZone;
use domain::tick::is_on_tick;
use rust_decimal::prelude::ToPrimitive;

use super::*;
use crate::series::{Series, extra_in};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).single().unwrap()
}

/// Closes of one market, in time order.
fn closes(rows: &[CandleRow], market: &str) -> Vec<f64> {
    rows.iter()
        .filter(|r| r.market.as_str() == market)
        .map(|r| r.close.to_f64_lossy())
        .collect()
}

fn returns(c: &[f64]) -> Vec<f64> {
    c.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
}

fn corr(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}

fn stdev(r: &[f64]) -> f64 {
    let n = r.len() as f64;
    let m = r.iter().sum::<f64>() / n;
    (r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt()
}

#[test]
fn rows_are_valid_sorted_and_on_the_grid() {
    let rows = generate(Scenario::Mixed, 6, 1, t0(), 120);
    assert_eq!(rows.len(), 6 * 120);
    for w in rows.windows(2) {
        assert!((w[0].timestamp_utc, &w[0].market) < (w[1].timestamp_utc, &w[1].market));
    }
    for r in &rows {
        assert!(r.low <= r.open.min(r.close) && r.high >= r.open.max(r.close));
        for p in [r.open, r.high, r.low, r.close] {
            assert!(is_on_tick(p.get()), "{} {p}", r.market);
        }
        assert!(!r.volume.is_zero());
        let v = r.value.unwrap().get();
        assert!(v >= r.low.get() * r.volume.get() && v <= r.high.get() * r.volume.get());
    }
    // Open of each minute is the previous close.
    let btc: Vec<&CandleRow> = rows
        .iter()
        .filter(|r| r.market.as_str() == "KRW-BTC")
        .collect();
    for w in btc.windows(2) {
        assert_eq!(w[1].open, w[0].close);
    }
}

#[test]
fn deterministic_for_a_seed() {
    let a = generate(Scenario::Chop, 3, 9, t0(), 30);
    let b = generate(Scenario::Chop, 3, 9, t0(), 30);
    let c = generate(Scenario::Chop, 3, 10, t0(), 30);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn alts_follow_btc() {
    let rows = generate(Scenario::Range, 6, 3, t0(), 1000);
    let btc = returns(&closes(&rows, "KRW-BTC"));
    for alt in ["KRW-ETH", "KRW-XRP", "KRW-SOL"] {
        let r = returns(&closes(&rows, alt));
        let c = corr(&btc, &r);
        assert!(c > 0.4, "{alt} correlation {c}");
    }
}

#[test]
fn scenario_shapes() {
    // Trend: a clear rise over a day.
    let trend = closes(&generate(Scenario::Trend, 2, 4, t0(), 1440), "KRW-BTC");
    assert!(
        trend[1439] > trend[0] * 1.03,
        "trend {} -> {}",
        trend[0],
        trend[1439]
    );
    // Range: stays in a band.
    let range = closes(&generate(Scenario::Range, 2, 4, t0(), 1440), "KRW-BTC");
    let (lo, hi) = range
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
    assert!(hi / lo < 1.06, "range band {lo}..{hi}");
    // Chop: more volatile than range.
    let chop = closes(&generate(Scenario::Chop, 2, 4, t0(), 1440), "KRW-BTC");
    assert!(stdev(&returns(&chop)) > 1.5 * stdev(&returns(&range)));
    // Panic: a deep drawdown in the crash window, alts worse than BTC.
    let rows = generate(Scenario::Panic, 5, 4, t0(), 420);
    let btc = closes(&rows, "KRW-BTC");
    assert!(
        btc[180] < btc[119] * 0.85,
        "crash {} -> {}",
        btc[119],
        btc[180]
    );
    let doge = closes(&rows, "KRW-DOGE");
    assert!(doge[180] / doge[119] < btc[180] / btc[119]);
    // Volume spikes in the crash.
    let vol = |m: usize| {
        rows.iter()
            .filter(|r| r.market.as_str() == "KRW-BTC")
            .nth(m)
            .unwrap()
            .volume
            .to_f64_lossy()
    };
    let calm: f64 = (0..100).map(vol).sum();
    let crash: f64 = (120..180).map(vol).sum();
    assert!(crash / 60.0 > 2.0 * calm / 100.0);
}

#[test]
fn breakout_then_rotation() {
    let rows = generate(Scenario::BreakoutRotation, 8, 5, t0(), 1200);
    let btc = closes(&rows, "KRW-BTC");
    let compress = stdev(&returns(&btc[..360]));
    let breakout = stdev(&returns(&btc[360..600]));
    assert!(breakout > 2.0 * compress);
    assert!(
        btc[599] > btc[359] * 1.03,
        "breakout {} -> {}",
        btc[359],
        btc[599]
    );
    // In the first rotation window (600..720) group 0 alts beat group 1 alts.
    let gain = |m: &str| {
        let c = closes(&rows, m);
        c[719] / c[600]
    };
    let specs = universe(8, 5);
    let g0: Vec<&str> = specs
        .iter()
        .skip(1)
        .filter(|s| s.group == 0)
        .map(|s| s.market.as_str())
        .collect();
    let g1: Vec<&str> = specs
        .iter()
        .skip(1)
        .filter(|s| s.group == 1)
        .map(|s| s.market.as_str())
        .collect();
    let avg = |ms: &[&str]| ms.iter().map(|m| gain(m)).sum::<f64>() / ms.len() as f64;
    assert!(avg(&g0) > avg(&g1), "rotation {} vs {}", avg(&g0), avg(&g1));
}

#[test]
fn values_equal_the_replayed_prints() {
    let mut g = Generator::new(Scenario::Trend, 2, 11, t0(), -10);
    let start = g.next_start();
    let bars: Vec<Vec<Bar>> = (0..20).map(|_| g.next_minute()).collect();
    for m in 0..2 {
        let series = Series::new(
            start,
            MINUTE_MS,
            bars.iter().map(|b| b[m]).collect(),
            g.print_params(m),
            false,
        );
        for i in 0..20 {
            let prints = series.prints(i);
            let bar = series.bar(i).unwrap();
            let value: Decimal = prints.iter().map(|p| p.price * p.volume).sum();
            let volume: Decimal = prints.iter().map(|p| p.volume).sum();
            assert_eq!(value, bar.value);
            assert_eq!(volume, bar.volume);
            assert_eq!(prints.first().unwrap().price, bar.open);
            assert_eq!(prints.last().unwrap().price, bar.close);
            let agg = series
                .aggregate(
                    &[],
                    series.bar_start(i),
                    series.bar_start(i + 1),
                    i64::MAX / 2,
                )
                .unwrap();
            assert_eq!(agg.high, bar.high);
            assert_eq!(agg.low, bar.low);
            assert_eq!(agg.last_ts, prints.last().unwrap().ts);
        }
        assert!(extra_in(&[], 0, 10).is_empty());
    }
    assert!(bars[0][0].volume.to_f64().unwrap() > 0.0);
}
