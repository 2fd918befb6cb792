//! Figures for the trainer's learning work, printed (release profile):
//!
//! * one OPT-3 tuning round — the incumbent plus K = 60 TPE candidates over
//!   the standard 11-dimension space — against a synthetic backtest that
//!   returns ≈ 150–360 signal outcomes per candidate, split into the tuner's
//!   own time (TPE ask/tell, candidate validation, metrics, gate) and the
//!   objective's;
//! * OPT-1 labelling throughput: 240-minute labels over a day of 1-minute
//!   candles;
//! * OPT-4 bandit weights per second.
//!
//! Run: `cargo bench -p learning --bench tuning_bench`. Data is generated;
//! nothing is read from disk.

#![allow(clippy::print_stdout, reason = "a bench prints its figures")]

use std::{convert::Infallible, hint::black_box, time::Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::RegimeLabel;
use indicators::Candle;
use learning::{
    Bandit, BanditConfig, Candidate, EvalWindow, LabelConfig, LabelOutcome, SearchSpace,
    SignalOutcome, TuningConfig, label, tune,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use strategy::StrategyOverrides;

const ROUNDS: usize = 10;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0)
        .single()
        .expect("valid time")
}

/// The synthetic backtest of the tuning tests: a smooth quality surface over
/// threshold, top-N, the TP weight share and the TREND multiplier.
fn synthetic(c: &Candidate) -> Vec<SignalOutcome> {
    let d = &c.definition;
    let sum: f64 = d.weights.values().sum();
    let tp = d.weights.get("TP").copied().unwrap_or(0.0) / sum;
    let entry = d.thresholds.entry;
    let quality = 1.0
        - ((entry - 74.0) / 10.0).powi(2)
        - ((d.universe.top_n as f64 - 25.0) / 30.0).powi(2)
        - ((tp - 0.45) * 2.0).powi(2)
        - (d.regime_policy.trend - 1.3).powi(2);
    let mean = 0.004 * quality;
    let n = ((100.0 - entry) * 8.0).round().max(2.0) as usize;
    let step = Duration::days(14).num_seconds() / n as i64;
    (0..n)
        .map(|i| SignalOutcome {
            ts: t0() + Duration::seconds(step * i as i64),
            r_net: if i % 2 == 0 { mean + 0.01 } else { mean - 0.01 },
            mae: 0.008,
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn tuning_round() {
    let space = SearchSpace::standard(StrategyOverrides::default()).expect("standard space");
    let window = EvalWindow::new(t0(), t0() + Duration::days(14)).expect("window");
    let mut totals = Vec::new();
    let mut objective_times = Vec::new();
    let mut last = None;
    for round in 0..ROUNDS {
        let cfg = TuningConfig {
            seed: round as u64,
            ..TuningConfig::default()
        };
        let mut in_objective = 0.0;
        let start = Instant::now();
        let report = tune(&space, window, &cfg, |c| {
            let s = Instant::now();
            let out = synthetic(c);
            in_objective += s.elapsed().as_secs_f64();
            Ok::<_, Infallible>(out)
        })
        .expect("tuning round");
        totals.push(start.elapsed().as_secs_f64());
        objective_times.push(in_objective);
        last = Some(black_box(report));
    }
    let report = last.expect("at least one round");
    let total = median(totals);
    let objective = median(objective_times);
    let tuner = total - objective;
    let trials = report.trials.len();
    let passed = report.adoptable().len();
    let best = report
        .adoptable()
        .first()
        .and_then(|t| t.score())
        .unwrap_or(f64::NAN);
    println!(
        "tuning round (K = 60 + incumbent, 11 dims, median of {ROUNDS}): {:.1} ms total, \
         {:.1} ms tuner ({:.0} µs per candidate), {:.1} ms in the synthetic objective; \
         {passed}/{trials} PASS, best lower bound {:.4} %, decision {:?}",
        total * 1e3,
        tuner * 1e3,
        tuner * 1e6 / trials as f64,
        objective * 1e3,
        best * 100.0,
        report.decision()
    );
}

fn labelling() {
    // One day and a half of 1-minute candles, a gentle random walk.
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut price = 1000.0;
    let candles: Vec<Candle> = (0..2160)
        .map(|m| {
            let o = price;
            let c = o * (1.0 + (next() - 0.5) * 0.004);
            price = c;
            Candle {
                ts: t0() + Duration::minutes(m),
                open: o,
                high: o.max(c) * 1.001,
                low: o.min(c) * 0.999,
                close: c,
                volume: 1.0,
                value: c,
            }
        })
        .collect();
    let sealed = t0() + Duration::minutes(2160);
    let cfg = LabelConfig::default();
    let snapshots: Vec<DateTime<Utc>> = (0..1440).map(|m| t0() + Duration::minutes(m)).collect();
    let start = Instant::now();
    let mut ready = 0;
    for _ in 0..5 {
        for t in &snapshots {
            if let LabelOutcome::Ready(_) =
                label(*t, black_box(&candles), sealed, &cfg).expect("label")
            {
                ready += 1;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "labels: {:.0} per second (240-minute window over a 2160-candle series; {ready} ready)",
        (5 * snapshots.len()) as f64 / secs
    );
}

fn bandit() {
    let mut b = Bandit::new(BanditConfig::default()).expect("bandit");
    for i in 0..200 {
        let r = if i % 3 == 0 { -0.01 } else { 0.012 };
        b.update(
            "STANDARD",
            RegimeLabel::Trend,
            r,
            t0() + Duration::minutes(i),
        )
        .expect("update");
    }
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let n: u32 = 200_000;
    let start = Instant::now();
    let mut sum = 0.0;
    for _ in 0..n {
        sum += b
            .weight("STANDARD", RegimeLabel::Trend, &mut rng)
            .expect("weight")
            .weight;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "bandit: {:.1} M weights per second (mean weight {:.3})",
        f64::from(n) / secs / 1e6,
        sum / f64::from(n)
    );
}

fn main() {
    tuning_round();
    labelling();
    bandit();
}
