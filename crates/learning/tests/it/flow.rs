//! The trainer's flow on a real day of candles: label snapshots (OPT-1), turn
//! a momentum rule's signals into net outcomes, measure and gate them
//! (OPT-2), move a DRAFT model through the lifecycle, tune the rule's
//! threshold (OPT-3), learn bandit weights (OPT-4) and run the drift check
//! (STAB-2) — every step through the public API.

use std::{collections::BTreeMap, convert::Infallible};

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{ModelStage, ModelVersionId, RegimeLabel};
use indicators::Candle;
use learning::{
    Bandit, BanditConfig, ClosedTrade, CostModel, Decision, Dimension, DriftConfig, DriftMonitor,
    EvalWindow, GateConfig, Horizon, LabelConfig, LabelOutcome, Labels, SearchSpace, SignalOutcome,
    Target, TuningConfig, Update, Verdict, evaluate, gate, label, on_gate, tune,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use strategy::StrategyOverrides;

use crate::{candles, sealed};

fn day_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 6, 0, 0, 0).single().unwrap()
}

/// A snapshot: market, time, a 0–100 momentum score from the 30 minutes
/// *before* it, and its labels.
struct Snapshot {
    market: String,
    t: DateTime<Utc>,
    score: f64,
    labels: Labels,
}

fn momentum(series: &[Candle], t: DateTime<Utc>) -> Option<f64> {
    let before: Vec<&Candle> = series.iter().filter(|c| c.ts < t).collect();
    let last = before.last()?;
    let past = before
        .iter()
        .rev()
        .find(|c| c.ts <= t - Duration::minutes(30))?;
    Some((50.0 + 5000.0 * (last.close / past.close - 1.0)).clamp(0.0, 100.0))
}

fn snapshots() -> Vec<Snapshot> {
    let data = candles();
    let complete_until = sealed(&data);
    let mut out = Vec::new();
    for (market, series) in &data {
        for i in 6..(24 * 12) {
            let t = day_start() + Duration::minutes(5 * i);
            let Some(score) = momentum(series, t) else {
                continue;
            };
            if let LabelOutcome::Ready(labels) =
                label(t, series, complete_until, &LabelConfig::default()).unwrap()
            {
                out.push(Snapshot {
                    market: market.clone(),
                    t,
                    score,
                    labels,
                });
            }
        }
    }
    out
}

fn signals(snaps: &[Snapshot], threshold: f64) -> Vec<SignalOutcome> {
    let costs = CostModel::default();
    let mut v: Vec<SignalOutcome> = snaps
        .iter()
        .filter(|s| s.score >= threshold)
        .map(|s| SignalOutcome::from_labels(s.t, &s.labels, Horizon::M240, &costs))
        .collect();
    v.sort_by_key(|o| o.ts);
    v
}

fn window() -> EvalWindow {
    EvalWindow::new(day_start(), day_start() + Duration::days(1)).unwrap()
}

#[test]
fn labels_to_verdict_to_lifecycle() {
    let snaps = snapshots();
    assert!(snaps.len() > 500, "{}", snaps.len());
    let outcomes = signals(&snaps, 60.0);
    assert!(outcomes.len() >= 10, "{}", outcomes.len());
    let m = evaluate(&outcomes, window()).unwrap();
    assert_eq!(m.n, outcomes.len());
    assert!((m.days - 1.0).abs() < 1e-12);
    // Costs are in: every net return is the gross 240-minute label minus 0.2 %.
    let gross: f64 = snaps
        .iter()
        .filter(|s| s.score >= 60.0)
        .map(|s| s.labels.ret_240m)
        .sum::<f64>()
        / m.n as f64;
    assert!((m.e.unwrap() - (gross - 0.002)).abs() < 1e-12);
    // One day is not evidence under the default gate: never adoptable.
    let g = gate(&m, &GateConfig::default()).unwrap();
    assert_ne!(g.verdict, Verdict::Pass);
    let t = on_gate(ModelStage::Draft, g.verdict, day_start()).unwrap();
    match g.verdict {
        Verdict::Hold => assert_eq!(t, None),
        Verdict::Reject => assert_eq!(t.unwrap().to, ModelStage::Rejected),
        Verdict::Pass => unreachable!(),
    }
}

#[test]
fn tuning_on_real_outcomes_adopts_only_a_pass() {
    let snaps = snapshots();
    let space = SearchSpace::new(
        StrategyOverrides::default(),
        vec![Dimension::new(Target::EntryThreshold, 52.0, 85.0)],
    )
    .unwrap();
    let objective = |c: &learning::Candidate| {
        Ok::<_, Infallible>(signals(&snaps, c.definition.thresholds.entry))
    };
    // Default gate: a single day never passes, so nothing is adopted.
    let strict = tune(
        &space,
        window(),
        &TuningConfig {
            k: 20,
            ..TuningConfig::default()
        },
        objective,
    )
    .unwrap();
    assert_eq!(strict.trials.len(), 21);
    assert!(strict.adoptable().is_empty());
    assert_eq!(strict.decision(), Decision::NoneAdoptable);
    // A gate relaxed for one day: whatever is adopted PASSed.
    let relaxed = TuningConfig {
        k: 20,
        seed: 3,
        gate: GateConfig {
            min_signals: 10,
            min_days: 0.5,
            min_t_stat: 0.5,
            ..GateConfig::default()
        },
        ..TuningConfig::default()
    };
    let report = tune(&space, window(), &relaxed, objective).unwrap();
    match report.decision() {
        Decision::Adopt { index } => {
            let t = &report.trials[index];
            assert_eq!(t.verdict(), Some(Verdict::Pass));
            let inc = &report.trials[0];
            assert!(!inc.is_adoptable() || t.score() > inc.score());
        }
        Decision::KeepIncumbent => assert!(report.trials[0].is_adoptable()),
        Decision::NoneAdoptable => assert!(report.trials.iter().skip(1).all(|t| !t.is_adoptable())),
    }
}

#[test]
fn bandit_and_drift_on_real_outcomes() {
    let snaps = snapshots();
    let costs = CostModel::default();
    // Each market is an arm; BTC's signals count as TREND, DOGE's alternate
    // TREND and CHOP (the CHOP ones must teach nothing).
    let mut bandit = Bandit::new(BanditConfig::default()).unwrap();
    let mut learnt = BTreeMap::<String, u64>::new();
    for (i, s) in snaps.iter().filter(|s| s.score >= 55.0).enumerate() {
        let regime = if s.market == "KRW-DOGE" && i % 2 == 1 {
            RegimeLabel::Chop
        } else {
            RegimeLabel::Trend
        };
        let r = costs.net(s.labels.ret_240m);
        match bandit
            .update(&s.market, regime, r, s.t + Duration::minutes(240))
            .unwrap()
        {
            Update::Applied(state) => {
                *learnt.entry(s.market.clone()).or_default() += 1;
                assert_eq!(state.pulls, learnt[&s.market]);
            }
            Update::Skipped { regime } => assert_eq!(regime, RegimeLabel::Chop),
        }
    }
    assert!(learnt.values().all(|n| *n >= 5), "{learnt:?}");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for arm in ["KRW-BTC", "KRW-DOGE"] {
        for regime in RegimeLabel::ALL {
            let w = bandit.weight(arm, *regime, &mut rng).unwrap();
            assert!((0.5..=1.5).contains(&w.weight));
            if !regime.allows_entries() {
                assert_eq!(w.weight, 1.0);
            }
        }
    }
    let restored: Bandit = serde_json::from_str(&serde_json::to_string(&bandit).unwrap()).unwrap();
    assert_eq!(restored, bandit);

    // The same signals as a deployed model's trades: 20 % of equity each.
    let trades: Vec<ClosedTrade> = {
        let mut v: Vec<ClosedTrade> = signals(&snaps, 55.0)
            .iter()
            .map(|o| ClosedTrade {
                closed_at: o.ts + Duration::minutes(240),
                net_return: o.r_net,
                equity_return: 0.2 * o.r_net,
            })
            .collect();
        v.sort_by_key(|t| t.closed_at);
        v
    };
    let now = trades.last().unwrap().closed_at;
    let mut monitor = DriftMonitor::new(ModelVersionId::new(2).unwrap(), None);
    let check = monitor
        .check(&trades, now, &DriftConfig::default())
        .unwrap();
    let in_window: Vec<&ClosedTrade> = trades
        .iter()
        .filter(|t| t.closed_at > now - Duration::hours(24))
        .collect();
    let sum: f64 = in_window.iter().map(|t| t.equity_return).sum();
    assert_eq!(check.metrics.trades, in_window.len());
    assert!((check.metrics.net_return_24h - sum).abs() < 1e-12);
    let run = trades
        .iter()
        .rev()
        .take_while(|t| t.net_return < 0.0)
        .count() as u32;
    assert_eq!(check.metrics.consecutive_losses, run);
    assert_eq!(check.should_roll_back(), sum < -0.02 - 1e-9 || run >= 5);
    // No baseline: drift is not judged.
    assert!(!check.is_warn());
}
