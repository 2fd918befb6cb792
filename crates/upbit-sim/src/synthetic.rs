//! A seeded synthetic generator of N correlated KRW markets (SIM synthetic
//! mode, also called directly by the regime tests).
//!
//! Model: a BTC-led one-factor model. Each minute the market factor moves by
//! the scenario's drift (plus mean reversion towards the segment anchor) and
//! Gaussian noise, in six sub-steps; every market follows `beta × factor`
//! plus its own idiosyncratic noise (and, in rotation phases, a group alpha).
//! High and low come from the sub-step path, volume from the market's typical
//! turnover scaled by the regime and by the size of the move. All prices sit
//! on Upbit's KRW tick grid; the stochastic model runs in `f64` (it is a
//! model, like an indicator) and its output is quantised to exact decimals.
//! Each candle's `value` is the exact sum of the trade prints the simulator
//! will replay for it, so candles and trades always agree.

/// Scenario names and their regime schedules.
pub mod scenario;
/// The market universe (codes, names, price levels, betas).
pub mod universe;

use chrono::{DateTime, Utc};
use domain::{Krw, Price, Volume};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rust_decimal::{
    Decimal, RoundingStrategy,
    prelude::{FromPrimitive, ToPrimitive},
};

pub use scenario::Scenario;
pub use universe::{MarketSpec, universe};

use crate::{
    data::CandleRow,
    series::{Bar, PrintParams, mix, prints_of_bar, snap_to_grid},
    wire::{MINUTE_MS, Millis, utc},
};

/// Per-minute volatility of the market factor (≈ 3 % a day).
const FACTOR_VOL: f64 = 0.0008;
/// Sub-steps per minute for the intra-minute path.
const SUBSTEPS: usize = 6;

/// A streaming generator: one call to [`Generator::next_minute`] yields one
/// 1-minute bar for every market.
#[derive(Debug, Clone)]
pub struct Generator {
    scenario: Scenario,
    specs: Vec<MarketSpec>,
    rng: ChaCha8Rng,
    /// Log price of each market relative to its start price.
    log_px: Vec<f64>,
    /// Last close of each market (exact, on the grid).
    close: Vec<Decimal>,
    /// Factor level and the anchor of the current segment.
    factor: f64,
    anchor: f64,
    segment: i64,
    /// Minute index relative to the scenario start of the next bar.
    k: i64,
    /// Start time of the next bar.
    next_start: Millis,
    /// Bars generated so far (the print seed index).
    produced: usize,
    seed: u64,
}

impl Generator {
    /// A generator whose first bar starts at `first_bar` and is minute
    /// `first_k` of the scenario (negative = warm-up before the scenario).
    pub fn new(
        scenario: Scenario,
        markets: usize,
        seed: u64,
        first_bar: DateTime<Utc>,
        first_k: i64,
    ) -> Self {
        let specs = universe(markets, seed);
        let close = specs.iter().map(|s| s.start_price).collect();
        Self {
            scenario,
            log_px: vec![0.0; specs.len()],
            close,
            specs,
            rng: ChaCha8Rng::seed_from_u64(mix(seed, 0x5EED)),
            factor: 0.0,
            anchor: 0.0,
            segment: i64::MIN,
            k: first_k,
            next_start: first_bar.timestamp_millis().div_euclid(MINUTE_MS) * MINUTE_MS,
            produced: 0,
            seed,
        }
    }

    /// The market specs, index-aligned with the bars.
    pub fn specs(&self) -> &[MarketSpec] {
        &self.specs
    }

    /// Start time of the next bar.
    pub fn next_start(&self) -> Millis {
        self.next_start
    }

    /// The print parameters the simulator must use for market `i` so that
    /// replayed prints sum to the generated `value`.
    pub fn print_params(&self, i: usize) -> PrintParams {
        let spec = &self.specs[i];
        PrintParams {
            seed: mix(self.seed, 1000 + i as u64),
            typical_volume: typical_volume(spec),
        }
    }

    /// Generates the next minute for every market.
    pub fn next_minute(&mut self) -> Vec<Bar> {
        let reg = scenario::regime_at(self.scenario, self.k, self.next_start.div_euclid(MINUTE_MS));
        if reg.segment != self.segment {
            self.segment = reg.segment;
            self.anchor = self.factor;
        }
        // Factor path in sub-steps.
        let pull = -reg.revert * (self.factor - self.anchor);
        let step_drift = (reg.drift + pull) / SUBSTEPS as f64;
        let step_vol = FACTOR_VOL * reg.vol / (SUBSTEPS as f64).sqrt();
        let mut f_steps = [0.0f64; SUBSTEPS];
        for s in &mut f_steps {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            *s = step_drift + step_vol * z;
        }
        self.factor += f_steps.iter().sum::<f64>();

        let start = self.next_start;
        let index = self.produced;
        let mut bars = Vec::with_capacity(self.specs.len());
        for i in 0..self.specs.len() {
            let bar = self.market_minute(i, &reg, &f_steps, start, index);
            bars.push(bar);
        }
        self.k += 1;
        self.next_start += MINUTE_MS;
        self.produced += 1;
        bars
    }

    fn market_minute(
        &mut self,
        i: usize,
        reg: &scenario::Regime,
        f_steps: &[f64; SUBSTEPS],
        start: Millis,
        index: usize,
    ) -> Bar {
        let spec = &self.specs[i];
        let is_btc = i == 0;
        let beta = if is_btc {
            1.0
        } else {
            spec.beta * reg.alt_beta
        };
        let alpha = match reg.rotation {
            Some((active, on, off)) if !is_btc => {
                if spec.group == active {
                    on
                } else {
                    off
                }
            }
            _ => 0.0,
        };
        // Gentle pull of each market (BTC included) towards its beta-implied
        // level keeps the cross-section from drifting apart over long runs,
        // and keeps BTC's own noise from random-walking a flat market into
        // a trend.
        let implied = beta * self.factor;
        let tether = -0.002 * (self.log_px[i] - implied);
        let idio_step = spec.idio_vol * reg.idio / (SUBSTEPS as f64).sqrt();
        let start_px = spec.start_price.to_f64().unwrap_or(1.0);
        let mut x = self.log_px[i];
        let mut hi = x;
        let mut lo = x;
        for f in f_steps {
            let e: f64 = StandardNormal.sample(&mut self.rng);
            x += beta * f + idio_step * e + (alpha + tether) / SUBSTEPS as f64;
            hi = hi.max(x);
            lo = lo.min(x);
        }
        let ret = x - self.log_px[i];
        self.log_px[i] = x;

        let to_price =
            |lx: f64| Decimal::from_f64(start_px * lx.exp()).map_or(Decimal::ONE, snap_to_grid);
        let open = self.close[i];
        let close = to_price(x);
        let high = to_price(hi).max(open).max(close);
        let low = to_price(lo).min(open).min(close);
        self.close[i] = close;

        // Volume: typical turnover, regime, move size, noise.
        let move_sigma = (FACTOR_VOL * beta).hypot(spec.idio_vol).max(1e-6);
        let intensity = 0.6 + 1.5 * (ret.abs() / move_sigma).min(6.0);
        let noise: f64 = StandardNormal.sample(&mut self.rng);
        let krw = spec.turnover_per_min * reg.volume * intensity * (0.35 * noise).exp();
        let px = close.to_f64().unwrap_or(1.0).max(1e-8);
        let volume = Decimal::from_f64(krw / px)
            .unwrap_or(Decimal::ONE)
            .round_dp_with_strategy(8, RoundingStrategy::ToZero)
            .max(Decimal::new(4, 8));
        let mut bar = Bar {
            open,
            high,
            low,
            close,
            volume,
            value: Decimal::ZERO,
        };
        let params = PrintParams {
            seed: mix(self.seed, 1000 + i as u64),
            typical_volume: typical_volume(spec),
        };
        bar.value = prints_of_bar(&bar, start, MINUTE_MS, params, index)
            .iter()
            .map(|p| p.price * p.volume)
            .sum();
        bar
    }
}

/// Typical 1-minute base volume of a market at its start price.
fn typical_volume(spec: &MarketSpec) -> Decimal {
    let px = spec.start_price.to_f64().unwrap_or(1.0).max(1e-8);
    Decimal::from_f64(spec.turnover_per_min / px)
        .unwrap_or(Decimal::ONE)
        .round_dp(8)
        .max(Decimal::new(1, 8))
}

/// Generates `minutes` 1-minute candles for each of `markets` markets from
/// `start` (rounded down to the minute), sorted by `(timestamp, market)` like
/// the real-data CSV files. Deterministic for a given `seed`.
pub fn generate(
    scenario: Scenario,
    markets: usize,
    seed: u64,
    start: DateTime<Utc>,
    minutes: u32,
) -> Vec<CandleRow> {
    let mut g = Generator::new(scenario, markets, seed, start, 0);
    let mut rows = Vec::with_capacity(markets * minutes as usize);
    for _ in 0..minutes {
        let t = utc(g.next_start());
        let bars = g.next_minute();
        let mut minute: Vec<CandleRow> = bars
            .iter()
            .zip(g.specs())
            .filter_map(|(b, spec)| row(spec, t, b))
            .collect();
        minute.sort_by(|a, b| a.market.cmp(&b.market));
        rows.extend(minute);
    }
    rows
}

fn row(spec: &MarketSpec, t: DateTime<Utc>, b: &Bar) -> Option<CandleRow> {
    Some(CandleRow {
        market: spec.market.clone(),
        timestamp_utc: t,
        open: Price::new(b.open).ok()?,
        high: Price::new(b.high).ok()?,
        low: Price::new(b.low).ok()?,
        close: Price::new(b.close).ok()?,
        volume: Volume::new(b.volume).ok()?,
        value: Some(Krw::from_decimal(b.value)),
    })
}

#[cfg(test)]
mod tests;
