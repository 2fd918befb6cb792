//! Bench binary (run on demand: `cargo bench -p regime --bench regime_bench`):
//! prints how long one 1-minute regime step takes over 500 synthetic markets
//! (batch and incremental, with per-market indicators), and the replay rate
//! in candles/s over a year of generated 1-minute data. SPEC §15.6 asks for
//! 500 symbols × 1 minute; the target is well under the minute (< 50 ms).
#![allow(clippy::print_stdout, reason = "a bench binary prints its figures")]

use std::{hint::black_box, time::Instant};

use chrono::{DateTime, Duration, Utc};
use domain::Market;
use indicators::{
    AdxState, AtrState, BollingerState, Candle, EmaState, Interval, adx, atr, bollinger, ema,
    resample,
};
use regime::{InputParams, InputsTracker, RegimeConfig, RegimeInputs, classify};

/// xorshift64*: deterministic, dependency-free noise for synthetic paths.
struct Noise(u64);

impl Noise {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly N(0, 1) (sum of uniforms).
    fn gauss(&mut self) -> f64 {
        (0..4).map(|_| self.next_f64()).sum::<f64>() * 3f64.sqrt() - 2.0 * 3f64.sqrt()
    }
}

/// A synthetic market: geometric random walk with per-market volatility.
struct Walk {
    price: f64,
    vol: f64,
    noise: Noise,
}

impl Walk {
    fn new(seed: u64) -> Self {
        let mut noise = Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let vol = 0.0005 + 0.002 * noise.next_f64();
        Self {
            price: 100.0 + 10_000.0 * noise.next_f64(),
            vol,
            noise,
        }
    }

    fn candle(&mut self, ts: DateTime<Utc>) -> Candle {
        let open = self.price;
        let close = open * (1.0 + self.vol * self.noise.gauss());
        self.price = close;
        let wick = self.vol * open * self.noise.next_f64();
        let volume = 10.0 * self.noise.next_f64();
        Candle {
            ts,
            open,
            high: open.max(close) + wick,
            low: open.min(close) - wick,
            close,
            volume,
            value: volume * close,
        }
    }
}

fn median_ms(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn market(i: usize) -> Market {
    if i == 0 {
        "KRW-BTC".parse().unwrap_or_else(|_| unreachable!())
    } else {
        format!("KRW-M{i}")
            .parse()
            .unwrap_or_else(|_| unreachable!())
    }
}

/// Per-market incremental indicator states (what a scorer keeps).
struct States(EmaState, EmaState, AtrState, AdxState, BollingerState);

fn step_over_500_markets() {
    const MARKETS: usize = 500;
    const HISTORY_MIN: i64 = 240; // window + whipsaw look-back, with margin
    const BTC_DAYS: i64 = 30;
    let now: DateTime<Utc> = "2025-06-01T00:00:00Z"
        .parse()
        .unwrap_or_else(|_| unreachable!());
    let btc: Vec<Candle> = {
        let mut w = Walk::new(1);
        (0..BTC_DAYS * 1440)
            .map(|m| w.candle(now - Duration::minutes(BTC_DAYS * 1440 - m)))
            .collect()
    };
    let series: Vec<(Market, Vec<Candle>)> = (0..MARKETS)
        .map(|i| {
            let mut w = Walk::new(i as u64 + 7);
            let candles = (0..HISTORY_MIN)
                .map(|m| w.candle(now - Duration::minutes(HISTORY_MIN - m)))
                .collect();
            (market(i), candles)
        })
        .collect();
    let slices: Vec<(Market, &[Candle])> = series
        .iter()
        .map(|(m, c)| (m.clone(), c.as_slice()))
        .collect();
    let cfg = RegimeConfig::default();

    // Batch: everything recomputed from the candles for this one step.
    let mut batch = Vec::new();
    let mut regime_only = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let inputs = RegimeInputs::from_candles(&btc, &slices, now);
        let c = classify(&inputs, &cfg);
        regime_only.push(t.elapsed().as_secs_f64() * 1e3);
        black_box(&c);
        for (_, candles) in &series {
            let closes: Vec<f64> = candles.iter().map(|c| c.close).collect();
            black_box(ema(&closes, 20));
            black_box(ema(&closes, 50));
            black_box(atr(candles, 14));
            black_box(adx(candles, 14));
            black_box(bollinger(&closes, 20, 2.0));
            black_box(resample(candles, Interval::M5));
        }
        batch.push(t.elapsed().as_secs_f64() * 1e3);
    }

    // Incremental: a warmed tracker and per-market indicator states; one step
    // = one new candle per market, then inputs + classify.
    let mut tracker = InputsTracker::new(market(0), InputParams::default());
    for c in &btc[..btc.len() - HISTORY_MIN as usize] {
        tracker.push(&market(0), c);
    }
    let mut states: Vec<States> = (0..MARKETS)
        .map(|_| {
            States(
                EmaState::new(20),
                EmaState::new(50),
                AtrState::new(14),
                AdxState::new(14),
                BollingerState::new(20, 2.0),
            )
        })
        .collect();
    let mut walks: Vec<Walk> = (0..MARKETS).map(|i| Walk::new(i as u64 + 7)).collect();
    let mut t0 = now - Duration::minutes(HISTORY_MIN);
    let mut steps = Vec::new();
    for step in 0..(HISTORY_MIN + 60) {
        let ts = t0;
        t0 += Duration::minutes(1);
        let started = Instant::now();
        for (i, (w, s)) in walks.iter_mut().zip(&mut states).enumerate() {
            let c = w.candle(ts);
            tracker.push(&market(i), &c);
            black_box((s.0.update(c.close), s.1.update(c.close), s.2.update(&c)));
            black_box((s.3.update(&c), s.4.update(c.close)));
        }
        let inputs = tracker.inputs(t0);
        black_box(classify(&inputs, &cfg).ok());
        if step >= HISTORY_MIN {
            steps.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }

    println!("one 1-minute step over {MARKETS} synthetic markets:");
    println!(
        "  batch regime inputs + classify (BTC {BTC_DAYS} d + {MARKETS} × {HISTORY_MIN} min of 1m candles): {:.2} ms (median of 15)",
        median_ms(regime_only)
    );
    println!(
        "  batch, plus EMA20/EMA50/ATR14/ADX14/BB20 + 5m resample per market:   {:.2} ms (median of 15)",
        median_ms(batch)
    );
    println!(
        "  incremental (tracker.push ×{MARKETS} + 5 indicator updates ×{MARKETS} + inputs + classify): {:.3} ms (median of 60)",
        median_ms(steps)
    );
}

fn replay_one_year() {
    const MARKETS: usize = 10;
    const MINUTES: i64 = 365 * 1440;
    let start: DateTime<Utc> = "2024-01-01T00:00:00Z"
        .parse()
        .unwrap_or_else(|_| unreachable!());
    let names: Vec<Market> = (0..MARKETS).map(market).collect();
    let cfg = RegimeConfig::default();

    // Generation alone, to separate its cost from the engine's.
    let mut walks: Vec<Walk> = (0..MARKETS).map(|i| Walk::new(i as u64 + 100)).collect();
    let t = Instant::now();
    for m in 0..MINUTES {
        let ts = start + Duration::minutes(m);
        for w in &mut walks {
            black_box(w.candle(ts));
        }
    }
    let gen_secs = t.elapsed().as_secs_f64();

    let mut walks: Vec<Walk> = (0..MARKETS).map(|i| Walk::new(i as u64 + 100)).collect();
    let mut tracker = InputsTracker::new(names[0].clone(), InputParams::default());
    let mut classified = 0_u64;
    let t = Instant::now();
    for m in 0..MINUTES {
        let ts = start + Duration::minutes(m);
        for (w, name) in walks.iter_mut().zip(&names) {
            tracker.push(name, &w.candle(ts));
        }
        let inputs = tracker.inputs(ts + Duration::minutes(1));
        if classify(&inputs, &cfg).is_ok() {
            classified += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let candles = MINUTES as f64 * MARKETS as f64;
    println!("replay of one year of 1-minute data ({MARKETS} markets, step 1m, {MINUTES} steps):");
    println!(
        "  {:.2} s total, {:.2} s of it generating candles → engine {:.0} candles/s, {:.0} steps/s ({classified} steps classified)",
        secs,
        gen_secs,
        candles / (secs - gen_secs).max(1e-9),
        MINUTES as f64 / (secs - gen_secs).max(1e-9),
    );
}

fn main() {
    step_over_500_markets();
    replay_one_year();
}
