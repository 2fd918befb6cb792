//! Bollinger bands: SMA ± k population standard deviations over `period` values.

use serde::{Deserialize, Serialize};

use crate::window::Window;

/// One Bollinger reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bands {
    /// The SMA.
    pub mid: f64,
    /// `mid + k × sd`.
    pub upper: f64,
    /// `mid − k × sd`.
    pub lower: f64,
    /// `(upper − lower) / mid` (NaN when `mid` is 0).
    pub width: f64,
}

impl Bands {
    /// All fields NaN (warming up or bad input).
    pub const NAN: Self = Self {
        mid: f64::NAN,
        upper: f64::NAN,
        lower: f64::NAN,
        width: f64::NAN,
    };

    /// True when every field is NaN.
    pub fn is_nan(&self) -> bool {
        self.mid.is_nan() && self.upper.is_nan() && self.lower.is_nan() && self.width.is_nan()
    }

    /// Where `x` sits in the band: 0 at `lower`, 1 at `upper` (%B); NaN for a zero-width band.
    pub fn percent_b(&self, x: f64) -> f64 {
        let span = self.upper - self.lower;
        if span > 0.0 {
            (x - self.lower) / span
        } else {
            f64::NAN
        }
    }
}

/// Incremental Bollinger bands (population standard deviation, as TA-Lib).
#[derive(Debug, Clone)]
pub struct BollingerState {
    window: Window,
    k: f64,
}

impl BollingerState {
    /// Bands over `period` values at `k` standard deviations. Period 0 or a
    /// `k` that is negative or not finite never produces a value.
    pub fn new(period: usize, k: f64) -> Self {
        let ok = k.is_finite() && k >= 0.0;
        Self {
            window: Window::new(if ok { period } else { 0 }),
            k,
        }
    }

    /// Feeds one value and returns the bands at it (all NaN while warming up or
    /// if `x` is not finite; a non-finite `x` is skipped).
    pub fn update(&mut self, x: f64) -> Bands {
        if !x.is_finite() {
            return Bands::NAN;
        }
        self.window.push(x);
        self.value()
    }

    /// The current bands.
    pub fn value(&self) -> Bands {
        if !self.window.is_full() {
            return Bands::NAN;
        }
        let mid = self.window.mean();
        let half = self.k * self.window.population_variance().sqrt();
        let (upper, lower) = (mid + half, mid - half);
        let width = if mid == 0.0 {
            f64::NAN
        } else {
            (upper - lower) / mid
        };
        Bands {
            mid,
            upper,
            lower,
            width,
        }
    }
}

/// Bollinger bands over `period` values at `k` standard deviations.
pub fn bollinger(values: &[f64], period: usize, k: f64) -> Vec<Bands> {
    let mut s = BollingerState::new(period, k);
    values.iter().map(|&x| s.update(x)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[f64], period: usize, k: f64, want: &[Option<(f64, f64, f64, f64)>]) {
        let got = bollinger(values, period, k);
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            match w {
                None => assert!(g.is_nan(), "[{i}] want NaN, got {g:?}"),
                Some((mid, upper, lower, width)) => {
                    for (name, a, b) in [
                        ("mid", g.mid, *mid),
                        ("upper", g.upper, *upper),
                        ("lower", g.lower, *lower),
                        ("width", g.width, *width),
                    ] {
                        assert!(
                            (a - b).abs() < 1e-12 || (a.is_nan() && b.is_nan()),
                            "[{i}] {name}: want {b}, got {a}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn hand_worked() {
        // window (1,2,3): mean 2, population sd sqrt(2/3); k = 2
        let sd = (2.0f64 / 3.0).sqrt();
        check(
            &[1.0, 2.0, 3.0],
            3,
            2.0,
            &[
                None,
                None,
                Some((2.0, 2.0 + 2.0 * sd, 2.0 - 2.0 * sd, 2.0 * sd)),
            ],
        );
        // Flat input: zero width.
        check(
            &[5.0; 3],
            2,
            2.0,
            &[None, Some((5.0, 5.0, 5.0, 0.0)), Some((5.0, 5.0, 5.0, 0.0))],
        );
        // Mid 0: width undefined.
        check(
            &[-1.0, 1.0],
            2,
            1.0,
            &[None, Some((0.0, 1.0, -1.0, f64::NAN))],
        );
        check(
            &[1.0, f64::NAN, 3.0],
            2,
            1.0,
            &[None, None, Some((2.0, 3.0, 1.0, 1.0))],
        );
        check(&[], 20, 2.0, &[]);
        check(&[1.0, 2.0], 0, 2.0, &[None, None]);
        check(&[1.0, 2.0], 2, f64::NAN, &[None, None]);
        check(&[1.0, 2.0], 2, -1.0, &[None, None]);
    }

    #[test]
    fn percent_b() {
        let b = Bands {
            mid: 10.0,
            upper: 12.0,
            lower: 8.0,
            width: 0.4,
        };
        assert_eq!(b.percent_b(12.0), 1.0);
        assert_eq!(b.percent_b(9.0), 0.25);
        assert!(
            Bands {
                upper: 10.0,
                lower: 10.0,
                ..b
            }
            .percent_b(10.0)
            .is_nan()
        );
    }
}
