//! Wilder's directional movement system: +DI, −DI, DX and ADX, computed the
//! way TA-Lib does (and `kand`, which the integration tests compare against).
//!
//! For each candle after the first: `+DM = up` if `up > down` and `up > 0`,
//! `−DM = down` if `down > up` and `down > 0` (with `up = high − prev_high`,
//! `down = prev_low − low`), and the true range. The first `period − 1` of
//! each are summed; from then on `sum = sum − sum / period + x`. `±DI = 100 ×
//! ±DM_sum / TR_sum`, `DX = 100 × |+DI − −DI| / (+DI + −DI)` (0 when both are
//! 0: a flat market has no direction). The first ADX is the mean of the first
//! `period` DX values (at index `2 × period − 1`), then Wilder-smoothed.

use crate::Candle;

/// Incremental ADX. `value()` is the ADX; `plus_di`, `minus_di` and `dx` are
/// exposed for explainability (STR-6).
#[derive(Debug, Clone)]
pub struct AdxState {
    period: usize,
    prev: Option<(f64, f64, f64)>,
    /// Number of candles after the first valid one.
    moves: usize,
    sum_plus_dm: f64,
    sum_minus_dm: f64,
    sum_tr: f64,
    plus_di: f64,
    minus_di: f64,
    dx: f64,
    dx_seen: usize,
    dx_sum: f64,
    adx: f64,
}

impl AdxState {
    /// A new ADX; period 0 never produces a value.
    pub fn new(period: usize) -> Self {
        Self {
            period,
            prev: None,
            moves: 0,
            sum_plus_dm: 0.0,
            sum_minus_dm: 0.0,
            sum_tr: 0.0,
            plus_di: f64::NAN,
            minus_di: f64::NAN,
            dx: f64::NAN,
            dx_seen: 0,
            dx_sum: 0.0,
            adx: f64::NAN,
        }
    }

    /// Feeds one candle and returns the ADX at it (NaN while warming up — the
    /// first value comes at the `2 × period`-th valid candle — or if the candle
    /// is invalid; an invalid candle is skipped).
    pub fn update(&mut self, c: &Candle) -> f64 {
        if !c.is_valid() {
            return f64::NAN;
        }
        let Some((ph, pl, pc)) = self.prev.replace((c.high, c.low, c.close)) else {
            return f64::NAN;
        };
        if self.period == 0 {
            return f64::NAN;
        }
        let up = c.high - ph;
        let down = pl - c.low;
        let plus_dm = if up > down && up > 0.0 { up } else { 0.0 };
        let minus_dm = if down > up && down > 0.0 { down } else { 0.0 };
        let tr = c.high.max(pc) - c.low.min(pc);
        self.moves += 1;
        let n = self.period as f64;
        if self.moves < self.period {
            self.sum_plus_dm += plus_dm;
            self.sum_minus_dm += minus_dm;
            self.sum_tr += tr;
            return f64::NAN;
        }
        self.sum_plus_dm = self.sum_plus_dm - self.sum_plus_dm / n + plus_dm;
        self.sum_minus_dm = self.sum_minus_dm - self.sum_minus_dm / n + minus_dm;
        self.sum_tr = self.sum_tr - self.sum_tr / n + tr;
        let (pdi, mdi) = if self.sum_tr == 0.0 {
            (0.0, 0.0)
        } else {
            (
                100.0 * self.sum_plus_dm / self.sum_tr,
                100.0 * self.sum_minus_dm / self.sum_tr,
            )
        };
        self.plus_di = pdi;
        self.minus_di = mdi;
        let di_sum = pdi + mdi;
        self.dx = if di_sum == 0.0 {
            0.0
        } else {
            // Mathematically ≤ 100; clamp the last-ulp rounding excess.
            (100.0 * (pdi - mdi).abs() / di_sum).min(100.0)
        };
        if self.dx_seen < self.period {
            self.dx_seen += 1;
            self.dx_sum += self.dx;
            if self.dx_seen == self.period {
                self.adx = self.dx_sum / n;
            }
        } else {
            self.adx = ((self.adx * (n - 1.0) + self.dx) / n).min(100.0);
        }
        self.value()
    }

    /// The current ADX in `[0, 100]` (NaN while warming up).
    pub fn value(&self) -> f64 {
        if self.period > 0 && self.dx_seen == self.period {
            self.adx
        } else {
            f64::NAN
        }
    }

    /// The current +DI (NaN until `period` moves were seen).
    pub fn plus_di(&self) -> f64 {
        self.plus_di
    }

    /// The current −DI (NaN until `period` moves were seen).
    pub fn minus_di(&self) -> f64 {
        self.minus_di
    }

    /// The current DX (NaN until `period` moves were seen).
    pub fn dx(&self) -> f64 {
        self.dx
    }
}

/// Wilder's ADX over `period` candles (first value at index `2 × period − 1`).
pub fn adx(candles: &[Candle], period: usize) -> Vec<f64> {
    let mut s = AdxState::new(period);
    candles.iter().map(|c| s.update(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{assert_series, bars};

    const NAN: f64 = f64::NAN;

    #[test]
    fn hand_worked_period_2() {
        // (high, low, close)
        let c = bars(&[
            (10.0, 9.0, 9.5),   // first: only a reference
            (11.0, 9.5, 10.5),  // up 1, down -0.5 → +DM 1; TR max(11,9.5)-min(9.5,9.5) = 1.5
            (12.0, 10.0, 11.5), // up 1, down -0.5 → +DM 1; TR 2
            (11.5, 9.0, 9.5),   // up -0.5, down 1 → -DM 1; TR 2.5
            (11.0, 8.0, 10.0),  // up -0.5, down 1 → -DM 1; TR 3
        ]);
        // period 2: sums start with the first move (+DM 1, -DM 0, TR 1.5).
        // move 2: +DM = 1 - 0.5 + 1 = 1.5, -DM = 0, TR = 1.5 - 0.75 + 2 = 2.75
        //   +DI = 54.545…, -DI = 0 → DX 100
        // move 3: +DM = 0.75, -DM = 1, TR = 1.375 + 2.5 = 3.875
        //   +DI = 19.3548…, -DI = 25.8064… → DX = 100 × 6.4516/45.1613 = 14.2857…
        //   ADX = (100 + 14.2857)/2 = 57.142857…
        // move 4: +DM = 0.375, -DM = 1.5, TR = 1.9375 + 3 = 4.9375
        //   +DI = 7.5949…, -DI = 30.3797… → DX = 100 × 22.7848/37.9747 = 60
        //   ADX = (57.142857 + 60)/2 = 58.5714…
        let got = adx(&c, 2);
        assert_series(&got, &[NAN, NAN, NAN, 400.0 / 7.0, 410.0 / 7.0], 1e-9);
        let mut s = AdxState::new(2);
        for x in &c {
            s.update(x);
        }
        assert!((s.dx() - 60.0).abs() < 1e-9);
        assert!((s.plus_di() - 100.0 * 0.375 / 4.9375).abs() < 1e-9);
        assert!((s.minus_di() - 100.0 * 1.5 / 4.9375).abs() < 1e-9);
    }

    #[test]
    fn edge_cases() {
        let flat = bars(&[(1.0, 1.0, 1.0); 10]);
        // No movement and no range: DX defined as 0, so ADX 0 (not NaN).
        assert_series(
            &adx(&flat, 2),
            &[NAN, NAN, NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            0.0,
        );
        assert_series(&adx(&flat, 0), &[NAN; 10], 0.0);
        assert!(adx(&[], 14).is_empty());
        assert_series(&adx(&flat[..1], 1), &[NAN], 0.0);
        assert_series(&adx(&flat[..5], 3), &[NAN; 5], 0.0);
    }

    #[test]
    fn steady_uptrend_has_high_adx_and_stays_in_range() {
        let c: Vec<_> = (0..60)
            .map(|i| {
                let base = 100.0 + f64::from(i);
                (base + 1.0, base - 0.5, base + 0.5)
            })
            .collect();
        let got = adx(&bars(&c), 14);
        let last = *got.last().unwrap();
        assert!(last > 90.0 && last <= 100.0, "{last}");
        assert!(got[..27].iter().all(|x| x.is_nan()));
        assert!(got[27].is_finite());
    }

    #[test]
    fn invalid_candle_is_skipped() {
        let mut c = bars(&[
            (10.0, 9.0, 9.5),
            (11.0, 9.5, 10.5),
            (12.0, 10.0, 11.5),
            (11.5, 9.0, 9.5),
            (11.0, 8.0, 10.0),
        ]);
        let clean = adx(&c, 2);
        c.insert(2, Candle { close: NAN, ..c[2] });
        let dirty = adx(&c, 2);
        assert!(dirty[2].is_nan());
        assert_eq!(dirty[5].to_bits(), clean[4].to_bits());
    }
}
