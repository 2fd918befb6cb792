//! Moving averages: simple (SMA) and exponential (EMA, by period or by alpha),
//! each as a batch function and as an O(1) incremental state.

use crate::window::Window;

/// Simple moving average of the last `period` finite values.
#[derive(Debug, Clone)]
pub struct SmaState {
    window: Window,
}

impl SmaState {
    /// A new SMA; period 0 never produces a value.
    pub fn new(period: usize) -> Self {
        Self {
            window: Window::new(period),
        }
    }

    /// Feeds one value and returns the SMA at it (NaN while warming up or if
    /// `x` is not finite; a non-finite `x` is skipped).
    pub fn update(&mut self, x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NAN;
        }
        self.window.push(x);
        self.value()
    }

    /// The current SMA (NaN until `period` finite values were seen).
    pub fn value(&self) -> f64 {
        if self.window.is_full() {
            self.window.mean()
        } else {
            f64::NAN
        }
    }

    /// The configured period.
    pub fn period(&self) -> usize {
        self.window.period()
    }
}

/// How an [`EmaState`] starts.
#[derive(Debug, Clone, Copy)]
enum Seed {
    /// SMA of the first `period` values (the classic period form).
    Sma {
        period: usize,
        seen: usize,
        sum: f64,
    },
    /// The first value itself (the alpha form).
    First,
    /// Already seeded.
    Done,
    /// Invalid parameters: never produces a value.
    Never,
}

/// Exponential moving average: `ema = ema + alpha × (x − ema)`.
#[derive(Debug, Clone)]
pub struct EmaState {
    alpha: f64,
    seed: Seed,
    ema: f64,
}

impl EmaState {
    /// EMA with `alpha = 2 / (period + 1)`, seeded with the SMA of the first
    /// `period` finite values (TA-Lib convention). Period 0 never produces a value.
    pub fn new(period: usize) -> Self {
        if period == 0 {
            return Self::never();
        }
        Self {
            alpha: 2.0 / (period as f64 + 1.0),
            seed: Seed::Sma {
                period,
                seen: 0,
                sum: 0.0,
            },
            ema: f64::NAN,
        }
    }

    /// EMA with an explicit `alpha` in `(0, 1]`, seeded with the first finite
    /// value (STR-4 smooths the score with alpha 0.3). Any other alpha never
    /// produces a value.
    pub fn with_alpha(alpha: f64) -> Self {
        if !(alpha > 0.0 && alpha <= 1.0) {
            return Self::never();
        }
        Self {
            alpha,
            seed: Seed::First,
            ema: f64::NAN,
        }
    }

    fn never() -> Self {
        Self {
            alpha: f64::NAN,
            seed: Seed::Never,
            ema: f64::NAN,
        }
    }

    /// Feeds one value and returns the EMA at it (NaN while warming up or if
    /// `x` is not finite; a non-finite `x` is skipped).
    pub fn update(&mut self, x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NAN;
        }
        match &mut self.seed {
            Seed::Never => {}
            Seed::First => {
                self.ema = x;
                self.seed = Seed::Done;
            }
            Seed::Sma { period, seen, sum } => {
                *seen += 1;
                *sum += x;
                if *seen == *period {
                    self.ema = *sum / *period as f64;
                    self.seed = Seed::Done;
                }
            }
            Seed::Done => self.ema += self.alpha * (x - self.ema),
        }
        self.value()
    }

    /// The current EMA (NaN until seeded).
    pub fn value(&self) -> f64 {
        match self.seed {
            Seed::Done => self.ema,
            _ => f64::NAN,
        }
    }

    /// The smoothing factor (NaN for an invalid configuration).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

/// Simple moving average over `period` values; see the crate docs for NaN rules.
pub fn sma(values: &[f64], period: usize) -> Vec<f64> {
    let mut s = SmaState::new(period);
    values.iter().map(|&x| s.update(x)).collect()
}

/// EMA with `alpha = 2 / (period + 1)`, seeded with the SMA of the first `period` values.
pub fn ema(values: &[f64], period: usize) -> Vec<f64> {
    let mut s = EmaState::new(period);
    values.iter().map(|&x| s.update(x)).collect()
}

/// EMA with an explicit `alpha` in `(0, 1]`, seeded with the first value.
pub fn ema_alpha(values: &[f64], alpha: f64) -> Vec<f64> {
    let mut s = EmaState::with_alpha(alpha);
    values.iter().map(|&x| s.update(x)).collect()
}

#[cfg(test)]
mod tests;
