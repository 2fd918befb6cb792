//! Returns, true range, Wilder's ATR and realized volatility.

use crate::{Candle, window::Window};

/// True range of `c` given the previous close: `max(high, prev) − min(low, prev)`.
fn tr_with(c: &Candle, prev_close: f64) -> f64 {
    c.high.max(prev_close) - c.low.min(prev_close)
}

/// True range per candle. The first valid candle has no previous close, so its
/// true range is `high − low`; invalid candles give NaN and are skipped (the
/// next candle uses the last valid close).
pub fn true_range(candles: &[Candle]) -> Vec<f64> {
    let mut prev: Option<f64> = None;
    candles
        .iter()
        .map(|c| {
            if !c.is_valid() {
                return f64::NAN;
            }
            let tr = prev.map_or(c.high - c.low, |p| tr_with(c, p));
            prev = Some(c.close);
            tr
        })
        .collect()
}

/// Average true range with Wilder smoothing, as TA-Lib computes it: the first
/// valid candle only provides a previous close; the first ATR is the mean of
/// the next `period` true ranges; then `atr = (atr × (period − 1) + tr) / period`.
#[derive(Debug, Clone)]
pub struct AtrState {
    period: usize,
    prev_close: Option<f64>,
    seen: usize,
    sum: f64,
    atr: f64,
}

impl AtrState {
    /// A new ATR; period 0 never produces a value.
    pub fn new(period: usize) -> Self {
        Self {
            period,
            prev_close: None,
            seen: 0,
            sum: 0.0,
            atr: f64::NAN,
        }
    }

    /// Feeds one candle and returns the ATR at it (NaN while warming up or if
    /// the candle is invalid; an invalid candle is skipped).
    pub fn update(&mut self, c: &Candle) -> f64 {
        if !c.is_valid() {
            return f64::NAN;
        }
        let Some(prev) = self.prev_close.replace(c.close) else {
            return f64::NAN;
        };
        if self.period == 0 {
            return f64::NAN;
        }
        let tr = tr_with(c, prev);
        let n = self.period as f64;
        if self.seen < self.period {
            self.seen += 1;
            self.sum += tr;
            if self.seen == self.period {
                self.atr = self.sum / n;
            }
        } else {
            self.atr = (self.atr * (n - 1.0) + tr) / n;
        }
        self.value()
    }

    /// The current ATR (NaN until `period` true ranges were seen).
    pub fn value(&self) -> f64 {
        if self.period > 0 && self.seen == self.period {
            self.atr
        } else {
            f64::NAN
        }
    }
}

/// Wilder's ATR over `period` candles (TA-Lib look-back: first value at index `period`).
pub fn atr(candles: &[Candle], period: usize) -> Vec<f64> {
    let mut s = AtrState::new(period);
    candles.iter().map(|c| s.update(c)).collect()
}

/// Simple returns `v[i] / v[i−1] − 1`; the first entry is NaN, and so is any
/// entry whose pair is not finite or whose base is zero.
pub fn returns(values: &[f64]) -> Vec<f64> {
    pairwise(values, |prev, x| {
        if prev.is_finite() && x.is_finite() && prev != 0.0 {
            x / prev - 1.0
        } else {
            f64::NAN
        }
    })
}

/// Log returns `ln(v[i] / v[i−1])`; NaN first and wherever either value is
/// not finite or not positive.
pub fn log_returns(values: &[f64]) -> Vec<f64> {
    pairwise(values, log_return)
}

fn log_return(prev: f64, x: f64) -> f64 {
    if prev.is_finite() && x.is_finite() && prev > 0.0 && x > 0.0 {
        (x / prev).ln()
    } else {
        f64::NAN
    }
}

fn pairwise(values: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len());
    let mut prev = f64::NAN;
    for &x in values {
        out.push(f(prev, x));
        prev = x;
    }
    out
}

/// Realized volatility: the sample standard deviation (n − 1) of the last
/// `period` finite log returns of a price series. Not annualised.
#[derive(Debug, Clone)]
pub struct RealizedVolState {
    prev: f64,
    window: Window,
}

impl RealizedVolState {
    /// A new estimator; periods below 2 never produce a value (a sample
    /// standard deviation needs two returns).
    pub fn new(period: usize) -> Self {
        Self {
            prev: f64::NAN,
            window: Window::new(if period < 2 { 0 } else { period }),
        }
    }

    /// Feeds one price and returns the volatility at it. The log return is
    /// taken against the immediately previous price, as `log_returns` does; a
    /// NaN return is skipped by the window.
    pub fn update(&mut self, price: f64) -> f64 {
        let r = log_return(self.prev, price);
        self.prev = price;
        if !r.is_finite() {
            return f64::NAN;
        }
        self.window.push(r);
        self.value()
    }

    /// The current volatility (NaN until `period` returns were seen).
    pub fn value(&self) -> f64 {
        if self.window.is_full() {
            self.window.sample_variance().sqrt()
        } else {
            f64::NAN
        }
    }
}

/// Rolling sample standard deviation of the last `period` log returns.
pub fn realized_vol(values: &[f64], period: usize) -> Vec<f64> {
    let mut s = RealizedVolState::new(period);
    values.iter().map(|&x| s.update(x)).collect()
}

#[cfg(test)]
mod tests;
