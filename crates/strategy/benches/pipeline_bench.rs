//! One evaluation cycle over 500 synthetic markets, timed stage by stage and
//! printed: snapshots + screener, resampling to the signal interval, all five
//! score modules + aggregation, correlation clusters, and sizing + PRE-1..8
//! for every market (the worst case: every market asking to enter).
//!
//! Run: `cargo bench -p strategy --bench pipeline_bench` (release profile).
//! Data is generated (seeded xorshift random walks, 600 one-minute candles per
//! market, ten-level books); nothing is read from disk.

#![allow(clippy::print_stdout, reason = "a bench prints its figures")]

use std::{collections::BTreeMap, hint::black_box, time::Instant};

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{
    Krw, Market, OrderIdentifier, OrderRequest, Price, RegimeLabel, RiskProfile, Side, TraderId,
    Volume, tick,
};
use indicators::Candle;
use regime::Classification;
use risk::{
    ApiStatus, BookLevel, Clusters, EntryContext, MarketStatus, OrderBook, RuntimeGuard,
    approve_entry,
};
use rust_decimal::Decimal;
use strategy::{
    Cycle, EntryInputs, Evaluator, MarketSnapshot, ScoreState, StrategyDefinition, screen,
};

const MARKETS: usize = 500;
const HISTORY: usize = 600;
const ITERATIONS: usize = 30;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0)
        .single()
        .expect("valid time")
}

fn market(i: usize) -> Market {
    format!("KRW-M{i:03}").parse().expect("market code")
}

fn candles(rng: &mut Rng, start: f64) -> Vec<Candle> {
    let mut p = start;
    (0..HISTORY)
        .map(|i| {
            let o = p;
            p *= 1.0 + (rng.next() - 0.49) * 0.004;
            let v = 10.0 + rng.next() * 1_000.0;
            Candle {
                ts: t0() + Duration::minutes(i64::try_from(i).expect("small")),
                open: o,
                high: o.max(p) * (1.0 + rng.next() * 0.001),
                low: o.min(p) * (1.0 - rng.next() * 0.001),
                close: p,
                volume: v,
                value: v * p,
            }
        })
        .collect()
}

fn book(m: &Market, last: f64) -> OrderBook {
    let ask = tick::round_price(Decimal::try_from(last).expect("price"), Side::Ask).expect("ask");
    let t = tick::tick_size(ask.get());
    let lvl = |p: Decimal| BookLevel {
        price: Price::new(p).expect("price"),
        volume: Volume::floor_from(Decimal::from(500_000_000) / p),
    };
    OrderBook::new(
        m.clone(),
        (0..10)
            .map(|i| lvl(ask.get() + t * Decimal::from(i)))
            .collect(),
        (1..=10)
            .map(|i| ask.get() - t * Decimal::from(i))
            .filter(|p| *p > Decimal::ZERO)
            .map(lvl)
            .collect(),
    )
    .expect("book")
}

#[derive(Default)]
struct Times {
    screen: f64,
    resample: f64,
    score: f64,
    clusters: f64,
    entries: f64,
    worst_case_checks: f64,
    total: f64,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let markets: Vec<Market> = (0..MARKETS).map(market).collect();
    let data: Vec<Vec<Candle>> = (0..MARKETS)
        .map(|i| candles(&mut rng, 100.0 + 10.0 * i as f64))
        .collect();
    let books: Vec<OrderBook> = markets
        .iter()
        .zip(&data)
        .map(|(m, c)| book(m, c[HISTORY - 1].close))
        .collect();
    let now = t0() + Duration::minutes(i64::try_from(HISTORY).expect("small"));

    let mut def = StrategyDefinition::builtin(RiskProfile::Standard);
    def.leader = markets[0].clone();
    // Let every market through the screener so every module runs on all 500.
    def.universe.top_n = MARKETS;
    def.universe.min_value_24h_krw = 0.0;
    def.universe.min_avg_depth5_krw = 0.0;
    def.universe.max_spread = 0.1;
    def.universe.min_volatility = 0.0;
    def.universe.max_volatility = 1.0;
    let ev = Evaluator::with_builtin_modules(def).expect("evaluator");
    let params = ev.definition().risk.clone();
    let guard = RuntimeGuard::new(Krw::from_i64(100_000_000), now);
    let regime = Classification {
        label: RegimeLabel::Trend,
        score: 70.0,
    };
    let mut states: BTreeMap<Market, ScoreState> = BTreeMap::new();
    let mut times: Vec<Times> = Vec::with_capacity(ITERATIONS);
    let mut entries_seen = 0usize;
    let mut wanting_seen = 0usize;

    for iteration in 0..ITERATIONS {
        let mut t = Times::default();
        let cycle_start = Instant::now();

        let s = Instant::now();
        let snaps: Vec<MarketSnapshot> = markets
            .iter()
            .zip(&data)
            .zip(&books)
            .map(|((m, c), b)| MarketSnapshot::from_data(m.clone(), c, Some(b), false, now))
            .collect();
        let screening = screen(&snaps, &ev.definition().universe);
        t.screen = ms(s);

        let s = Instant::now();
        let signal: Vec<Vec<Candle>> = data.iter().map(|c| ev.signal_candles(c, now)).collect();
        t.resample = ms(s);

        let s = Instant::now();
        let cycle = Cycle {
            now,
            regime,
            regime_stale: false,
            leader_candles: Some(&signal[0]),
            bandit_weight: None,
        };
        let index: BTreeMap<&Market, usize> =
            markets.iter().enumerate().map(|(i, m)| (m, i)).collect();
        let evals: Vec<_> = screening
            .candidates
            .iter()
            .map(|c| {
                let i = index[&c.market];
                ev.evaluate(&c.market, &signal[i], &cycle, states.get(&c.market))
            })
            .collect();
        for e in &evals {
            states.insert(e.market.clone(), e.state);
        }
        t.score = ms(s);

        // Clusters over the markets that want to enter (what PRE-5 consults).
        let s = Instant::now();
        let wanting: Vec<usize> = evals
            .iter()
            .filter(|e| e.final_score() >= ev.definition().thresholds.entry)
            .map(|e| index[&e.market])
            .collect();
        let returns: Vec<(Market, Vec<f64>)> = wanting
            .iter()
            .map(|&i| {
                let c = &signal[i];
                (
                    markets[i].clone(),
                    c.windows(2)
                        .map(|w| (w[1].close / w[0].close).ln())
                        .collect(),
                )
            })
            .collect();
        let series: Vec<(Market, &[f64])> = returns
            .iter()
            .map(|(m, r)| (m.clone(), r.as_slice()))
            .collect();
        let clusters = Clusters::build(&series, params.corr_high);
        t.clusters = ms(s);
        if iteration == 0 {
            wanting_seen = wanting.len();
        }

        // Sizing + PRE-1..8 for every market whose score asks to enter.
        let s = Instant::now();
        for (n, e) in evals.iter().enumerate() {
            let i = index[&e.market];
            let d = ev.decide_entry(
                e,
                &EntryInputs {
                    equity: Krw::from_i64(100_000_000),
                    cash: Krw::from_i64(100_000_000),
                    reserved: Krw::ZERO,
                    open_positions: &[],
                    book: &books[i],
                    clusters: &clusters,
                    guard: &guard,
                    api: ApiStatus::default(),
                    market_status: MarketStatus::default(),
                    identifier: OrderIdentifier::for_attempt(
                        TraderId::new(1).expect("id"),
                        "bench",
                        i64::try_from(n).expect("small"),
                        0,
                    )
                    .expect("identifier"),
                },
            );
            if d.order.is_some() && iteration == 0 {
                entries_seen += 1;
            }
            black_box(d.record.to_json());
        }
        t.entries = ms(s);
        t.total = ms(cycle_start);

        // Worst case for the checks alone: an order for every market.
        let s = Instant::now();
        for (i, m) in markets.iter().enumerate() {
            let Some(best) = books[i].best_ask() else {
                continue;
            };
            let volume = Volume::affordable(Krw::from_i64(1_000_000), best);
            let Ok(order) = OrderRequest::limit(
                m.clone(),
                Side::Bid,
                best,
                volume,
                None,
                OrderIdentifier::parse("identifier", "bench").expect("identifier"),
            ) else {
                continue;
            };
            let stop =
                tick::round_price(best.get() * Decimal::new(98, 2), Side::Ask).expect("stop");
            let ctx = EntryContext {
                params: &params,
                now,
                equity: Krw::from_i64(100_000_000),
                cash: Krw::from_i64(100_000_000),
                reserved: Krw::ZERO,
                open_positions: &[],
                stop_price: stop,
                regime: RegimeLabel::Trend,
                regime_stale: false,
                total_score: 80.0,
                entry_threshold: 70.0,
                book: &books[i],
                clusters: &clusters,
                guard: &guard,
                api: ApiStatus::default(),
                market_status: MarketStatus::default(),
            };
            black_box(approve_entry(order, &ctx).is_ok());
        }
        t.worst_case_checks = ms(s);
        times.push(t);
    }

    // Full clusters over all 500 markets (an upper bound for PRE-5's input).
    let s = Instant::now();
    let all_returns: Vec<(Market, Vec<f64>)> = markets
        .iter()
        .zip(&data)
        .map(|(m, c)| {
            let sig = ev.signal_candles(c, now);
            (
                m.clone(),
                sig.windows(2)
                    .map(|w| (w[1].close / w[0].close).ln())
                    .collect(),
            )
        })
        .collect();
    let series: Vec<(Market, &[f64])> = all_returns
        .iter()
        .map(|(m, r)| (m.clone(), r.as_slice()))
        .collect();
    black_box(Clusters::build(&series, params.corr_high));
    let full_clusters = ms(s);

    let stat = |f: fn(&Times) -> f64| {
        let mut v: Vec<f64> = times.iter().skip(1).map(f).collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    println!(
        "strategy pipeline bench: {MARKETS} markets × {HISTORY} one-minute candles, \
         {ITERATIONS} cycles (first discarded), median / min / max in ms"
    );
    for (name, f) in [
        (
            "snapshots + screener",
            (|t: &Times| t.screen) as fn(&Times) -> f64,
        ),
        ("resample to 5m", |t| t.resample),
        ("5 modules + aggregation", |t| t.score),
        ("clusters (entry-wanting markets)", |t| t.clusters),
        ("decide_entry (sizing + PRE-1..8 + record JSON)", |t| {
            t.entries
        }),
        ("CYCLE TOTAL", |t| t.total),
        ("worst case: approve_entry for all 500", |t| {
            t.worst_case_checks
        }),
    ] {
        let (med, lo, hi) = stat(f);
        println!("  {name:<48} {med:8.2} {lo:8.2} {hi:8.2}");
    }
    println!(
        "  {:<48} {full_clusters:8.2}",
        "clusters over all 500 markets (once)"
    );
    println!(
        "  cycle 1: {} candidates scored, {wanting_seen} with an entry signal, {entries_seen} approved",
        states.len()
    );
}
