//! Regime Engine v1.0 on the simulator's named scenarios (5 calm days of
//! history, then the scenario): a crash is PANIC within minutes, a steady
//! trend TREND, a flat market RANGE, a whipsawing one CHOP. Each runs over
//! several seeds and two universe sizes; the assertions are about labels,
//! not about snapshots of numbers.
//!
//! Real data is covered by `crates/regime/tests/it/real_data.rs` (LUNA and
//! FTX collapses are PANIC, a calm summer never is).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use domain::RegimeLabel;
use regime::{InputParams, InputsTracker, Regime, RegimeConfig, RegimeInputs};
use trainer::collector::convert::to_indicator;
use upbit_sim::Scenario;

use crate::synthetic::{btc, candles, start};

const WARMUP: i64 = 7200;

/// `(minute of the scenario, regime or none)` for every minute from `from`
/// to `to` (scenario minutes), the engine fed minute by minute.
fn labels(
    scenario: Scenario,
    markets: usize,
    seed: u64,
    scenario_start: DateTime<Utc>,
    from: i64,
    to: i64,
) -> Vec<(i64, Option<Regime>, RegimeInputs)> {
    let rows = candles(scenario, markets, seed, scenario_start, WARMUP, to);
    let mut tracker = InputsTracker::new(btc(), InputParams::default());
    let cfg = RegimeConfig::default();
    let mut out = Vec::new();
    let mut i = 0;
    for k in from..=to {
        let t = scenario_start + Duration::minutes(k);
        while let Some(c) = rows.get(i).filter(|c| c.ts < t) {
            tracker.push(&c.market, &to_indicator(c));
            i += 1;
        }
        let inputs = tracker.inputs(t);
        out.push((k, Regime::assess(t, inputs, &cfg).ok(), inputs));
    }
    out
}

fn share(run: &[(i64, Option<Regime>, RegimeInputs)], label: RegimeLabel) -> f64 {
    let n = run
        .iter()
        .filter(|(_, r, _)| r.as_ref().is_some_and(|r| r.label == label))
        .count();
    n as f64 / run.len() as f64
}

fn mix(run: &[(i64, Option<Regime>, RegimeInputs)]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (_, r, _) in run {
        let key = r.as_ref().map_or("NONE", |r| r.label.as_str()).to_owned();
        *m.entry(key).or_default() += 1;
    }
    m
}

/// Universe sizes × seeds every scenario is checked on.
const CASES: [(usize, u64); 4] = [(12, 1), (12, 2), (30, 3), (30, 4)];

#[test]
fn crash_is_panic_within_minutes() {
    for (markets, seed) in CASES {
        // The panic scenario: calm for 120 minutes, then the crash.
        let run = labels(Scenario::Panic, markets, seed, start(), 0, 200);
        let crash = 120;
        let calm: Vec<_> = run.iter().filter(|(k, ..)| *k <= crash).cloned().collect();
        assert_eq!(
            share(&calm, RegimeLabel::Panic),
            0.0,
            "{markets}/{seed}: {:?}",
            mix(&calm)
        );
        // Breadth collapses within 5 minutes …
        let (_, _, early) = run.iter().find(|(k, ..)| *k == crash + 5).unwrap();
        assert!(early.breadth_up_1h <= 0.2, "{markets}/{seed}: {early:?}");
        // … and the label is PANIC within 25 minutes of the first fall.
        let first = run
            .iter()
            .find(|(_, r, _)| r.as_ref().is_some_and(|r| r.label == RegimeLabel::Panic))
            .map_or_else(
                || panic!("{markets}/{seed}: never PANIC: {:?}", mix(&run)),
                |(k, ..)| *k,
            );
        assert!(
            (crash..=crash + 25).contains(&first),
            "{markets}/{seed}: first PANIC at minute {first}"
        );
        // It stays PANIC through the rest of the crash hour.
        let crash_hour: Vec<_> = run
            .iter()
            .filter(|(k, ..)| (first..crash + 60).contains(k))
            .cloned()
            .collect();
        assert!(
            share(&crash_hour, RegimeLabel::Panic) >= 0.9,
            "{markets}/{seed}: {:?}",
            mix(&crash_hour)
        );
    }
}

#[test]
fn steady_trend_is_trend() {
    for (markets, seed) in CASES {
        // ADX builds up over days: look at the third day of the trend.
        let run = labels(Scenario::Trend, markets, seed, start(), 2880, 4320);
        assert!(
            share(&run, RegimeLabel::Trend) >= 0.9,
            "{markets}/{seed}: {:?}",
            mix(&run)
        );
        assert_eq!(share(&run, RegimeLabel::Panic), 0.0);
    }
}

#[test]
fn flat_market_is_range() {
    for (markets, seed) in CASES {
        let run = labels(Scenario::Range, markets, seed, start(), 720, 2880);
        assert!(
            share(&run, RegimeLabel::Range) >= 0.9,
            "{markets}/{seed}: {:?}",
            mix(&run)
        );
        assert_eq!(share(&run, RegimeLabel::Panic), 0.0);
        assert_eq!(share(&run, RegimeLabel::Trend), 0.0, "{:?}", mix(&run));
    }
}

#[test]
fn whipsaw_is_chop() {
    for (markets, seed) in CASES {
        // Pushes follow the UTC 5-minute candles, whatever minute the
        // scenario starts on (here: two minutes past a boundary).
        let off = start() + Duration::minutes(2);
        let run = labels(Scenario::Chop, markets, seed, off, 60, 1440);
        assert!(
            share(&run, RegimeLabel::Chop) >= 0.9,
            "{markets}/{seed}: {:?}",
            mix(&run)
        );
        let (_, _, inputs) = &run[run.len() / 2];
        assert!(
            inputs.whipsaw_5m >= 0.62 && inputs.btc_adx_4h < 25.0,
            "{inputs:?}"
        );
        // REG-4: no new entries in CHOP.
        assert!(!RegimeLabel::Chop.allows_entries());
    }
}
