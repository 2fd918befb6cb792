//! Sensible labels on known real periods (hourly KRW candles of six markets).
//!
//! The hourly files cannot give 5-minute bars, so these runs measure the
//! whipsaw input on 1-hour bars (`whipsaw_interval = 1h`), a documented proxy;
//! everything else is computed exactly as in production.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use domain::{Market, RegimeLabel};
use indicators::{Candle, Interval};
use regime::{InputParams, InputsTracker, Regime, RegimeConfig, RegimeError, RegimeInputs};

use crate::data::{btc, by_market, load};

fn hourly_params() -> InputParams {
    InputParams {
        whipsaw_interval: Interval::H1,
        ..InputParams::default()
    }
}

/// Replays hourly rows, evaluating at every hour boundary once the hour's
/// candles have closed. Returns `(now, outcome)` per hour.
fn replay_hourly(rows: &[(Market, Candle)]) -> Vec<(DateTime<Utc>, Result<Regime, RegimeError>)> {
    let mut tracker = InputsTracker::new(btc(), hourly_params());
    let cfg = RegimeConfig::default();
    let mut out = Vec::new();
    let mut current: Option<DateTime<Utc>> = None;
    for (market, candle) in rows {
        if current.is_some_and(|t| candle.ts > t) {
            // Every candle opened at `t` or earlier has closed by `candle.ts`.
            let now = candle.ts;
            out.push((now, Regime::assess(now, tracker.inputs(now), &cfg)));
        }
        current = Some(candle.ts);
        tracker.push(market, candle);
    }
    out
}

fn labels_between(
    run: &[(DateTime<Utc>, Result<Regime, RegimeError>)],
    from: &str,
    to: &str,
) -> Vec<(DateTime<Utc>, RegimeLabel, f64)> {
    let (from, to): (DateTime<Utc>, DateTime<Utc>) = (from.parse().unwrap(), to.parse().unwrap());
    run.iter()
        .filter(|(t, _)| *t >= from && *t < to)
        .filter_map(|(t, r)| r.as_ref().ok().map(|r| (*t, r.label, r.score)))
        .collect()
}

fn count(labels: &[(DateTime<Utc>, RegimeLabel, f64)], label: RegimeLabel) -> usize {
    labels.iter().filter(|(_, l, _)| *l == label).count()
}

#[test]
fn luna_collapse_is_panic() {
    let run = replay_hourly(&load("upbit_krw_6mkts_1h_2022-04-10_2022-05-15.csv.gz"));
    let crash = labels_between(&run, "2022-05-07T00:00:00Z", "2022-05-14T00:00:00Z");
    assert!(
        crash.len() > 150,
        "classified hours in the crash week: {}",
        crash.len()
    );
    let panic = count(&crash, RegimeLabel::Panic);
    assert!(panic >= 10, "PANIC hours during LUNA: {panic}");
    assert!(
        crash
            .iter()
            .any(|(_, l, s)| *l == RegimeLabel::Panic && *s >= 90.0),
        "at least one confident PANIC"
    );
    // Before the collapse (late April) the market was not in PANIC.
    let before = labels_between(&run, "2022-04-20T00:00:00Z", "2022-05-05T00:00:00Z");
    assert!(before.len() > 300);
    assert_eq!(count(&before, RegimeLabel::Panic), 0, "{before:?}");
}

#[test]
fn ftx_collapse_is_panic() {
    let run = replay_hourly(&load("upbit_krw_6mkts_1h_2022-10-10_2022-11-14.csv.gz"));
    let crash = labels_between(&run, "2022-11-08T00:00:00Z", "2022-11-12T00:00:00Z");
    let panic = count(&crash, RegimeLabel::Panic);
    assert!(
        panic >= 5,
        "PANIC hours during FTX: {panic} of {}",
        crash.len()
    );
    // The first FTX crash hour (2022-11-08 18:00 UTC) came while the 4h ATR
    // was still calm: only the dispersion branch can catch it that early.
    let first = crash
        .iter()
        .find(|(_, l, _)| *l == RegimeLabel::Panic)
        .unwrap();
    assert!(
        first.0 <= "2022-11-08T20:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        "{first:?}"
    );
    // Mid-October 2022 was famously quiet (BTC's lowest volatility in years):
    // no PANIC. (Late October is not asserted: DOGE's +100 % / −20 % swings
    // then blow up the dispersion of a six-market universe on their own.)
    let quiet = labels_between(&run, "2022-10-16T00:00:00Z", "2022-10-28T00:00:00Z");
    assert!(quiet.len() > 250, "{}", quiet.len());
    assert_eq!(count(&quiet, RegimeLabel::Panic), 0);
}

#[test]
fn calm_summer_is_never_panic() {
    let run = replay_hourly(&load("upbit_krw_6mkts_1h_2023-06-15_2023-08-09.csv.gz"));
    // After warm-up (ADX needs 28 completed 4h bars = 4.7 days).
    let from: DateTime<Utc> = "2023-06-25T00:00:00Z".parse().unwrap();
    let after: Vec<_> = run.iter().filter(|(t, _)| *t >= from).collect();
    let classified: Vec<&Regime> = after.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
    assert!(
        classified.len() * 100 >= after.len() * 95,
        "{} of {} hours classified",
        classified.len(),
        after.len()
    );
    let mut counts: BTreeMap<RegimeLabel, usize> = BTreeMap::new();
    for r in &classified {
        *counts.entry(r.label).or_default() += 1;
        assert!((0.0..=100.0).contains(&r.score));
    }
    assert_eq!(counts.get(&RegimeLabel::Panic), None, "{counts:?}");
    // Mostly quiet labels.
    let quiet = counts.get(&RegimeLabel::Range).unwrap_or(&0)
        + counts.get(&RegimeLabel::Trend).unwrap_or(&0);
    assert!(quiet * 100 >= classified.len() * 70, "{counts:?}");
    // The first hours have too little history: explicit insufficient data.
    let (_, first) = &run[0];
    assert!(matches!(first, Err(e) if e.is_retryable()), "{first:?}");
}

#[test]
fn tracker_matches_batch_on_real_hourly_data() {
    let rows = load("upbit_krw_6mkts_1h_2022-04-10_2022-05-15.csv.gz");
    let markets = by_market(&rows);
    let btc_candles = &markets[&btc()];
    let slices: Vec<(Market, &[Candle])> = markets
        .iter()
        .map(|(m, c)| (m.clone(), c.as_slice()))
        .collect();
    let mut tracker = InputsTracker::new(btc(), hourly_params());
    let mut i = 0;
    let start: DateTime<Utc> = "2022-04-10T00:00:00Z".parse().unwrap();
    for h in (1..=35 * 24).step_by(37) {
        let now = start + Duration::hours(h);
        while i < rows.len() && rows[i].1.ts + Duration::hours(1) <= now {
            tracker.push(&rows[i].0, &rows[i].1);
            i += 1;
        }
        let inc = tracker.inputs(now);
        let batch = RegimeInputs::from_candles_with(btc_candles, &slices, now, &hourly_params());
        assert!(
            inc.same_as(&batch),
            "{now}: tracker {inc:?} vs batch {batch:?}"
        );
    }
}

#[test]
fn one_minute_path_on_real_candles() {
    let rows = load("upbit_krw_5mkts_1m_2025-09-01T00-06.csv.gz");
    let markets = by_market(&rows);
    let slices: Vec<(Market, &[Candle])> = markets
        .iter()
        .map(|(m, c)| (m.clone(), c.as_slice()))
        .collect();
    let now: DateTime<Utc> = "2025-09-01T06:00:00Z".parse().unwrap();
    let inputs = RegimeInputs::from_candles(&markets[&btc()], &slices, now);
    // Six hours is far too little for 4h ADX/ATR: refused explicitly.
    match regime::classify(&inputs, &RegimeConfig::default()) {
        Err(RegimeError::InsufficientData { missing }) => assert_eq!(
            missing,
            vec![regime::InputName::BtcAdx4h, regime::InputName::BtcAtrPct4h]
        ),
        other => panic!("expected insufficient data, got {other:?}"),
    }
    // The cross-sectional inputs are real and plausible.
    assert!((0.0..=1.0).contains(&inputs.breadth_up_1h));
    assert!(
        inputs.dispersion_1h > 0.0 && inputs.dispersion_1h < 5.0,
        "{inputs:?}"
    );
    assert_eq!(
        inputs.top5_value_share_1h, 1.0,
        "five markets: top five is everything"
    );
    assert!((0.3..=0.8).contains(&inputs.whipsaw_5m), "{inputs:?}");
    // Minute by minute, the tracker agrees with the batch form.
    let mut tracker = InputsTracker::new(btc(), InputParams::default());
    let mut i = 0;
    let start: DateTime<Utc> = "2025-09-01T00:00:00Z".parse().unwrap();
    for minute in (1..=360).step_by(7) {
        let t = start + Duration::minutes(minute);
        while i < rows.len() && rows[i].1.ts + Duration::minutes(1) <= t {
            tracker.push(&rows[i].0, &rows[i].1);
            i += 1;
        }
        let batch = RegimeInputs::from_candles(&markets[&btc()], &slices, t);
        assert!(tracker.inputs(t).same_as(&batch), "{t}");
    }
}
