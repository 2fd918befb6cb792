//! A fixed-capacity ring buffer of the last `period` finite values with running
//! sums, shared by SMA, Bollinger and realized volatility.
//!
//! Running sums drift over millions of updates, and plain sums of squares lose
//! precision when the values are large (KRW prices around 1e8). So the sums
//! are kept around a shift `k` (`Σ(x−k)`, `Σ(x−k)²`) and every time the ring
//! wraps the sums are recomputed exactly from the buffer with `k` moved to the
//! current mean: amortised O(1) per update, bounded error, deterministic.

#[derive(Debug, Clone)]
pub(crate) struct Window {
    buf: Vec<f64>,
    head: usize,
    len: usize,
    shift: f64,
    sum: f64,
    sum_sq: f64,
}

impl Window {
    /// A window of `period` values; period 0 is never full.
    pub(crate) fn new(period: usize) -> Self {
        Self {
            buf: vec![0.0; period],
            head: 0,
            len: 0,
            shift: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
        }
    }

    pub(crate) fn period(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len > 0 && self.len == self.buf.len()
    }

    /// Appends a finite value, evicting the oldest one when full.
    pub(crate) fn push(&mut self, x: f64) {
        let period = self.buf.len();
        if period == 0 {
            return;
        }
        if self.len == 0 {
            self.shift = x;
        }
        if self.len == period {
            let old = self.buf[self.head] - self.shift;
            self.sum -= old;
            self.sum_sq -= old * old;
        } else {
            self.len += 1;
        }
        self.buf[self.head] = x;
        let d = x - self.shift;
        self.sum += d;
        self.sum_sq += d * d;
        self.head += 1;
        if self.head == period {
            self.head = 0;
            self.reanchor();
        }
    }

    /// Recomputes the sums exactly around the current mean.
    fn reanchor(&mut self) {
        let n = self.len as f64;
        let mean = self.buf[..self.len].iter().sum::<f64>() / n;
        self.shift = mean;
        self.sum = 0.0;
        self.sum_sq = 0.0;
        for &x in &self.buf[..self.len] {
            let d = x - mean;
            self.sum += d;
            self.sum_sq += d * d;
        }
    }

    /// Mean of the values held (NaN when empty).
    pub(crate) fn mean(&self) -> f64 {
        if self.len == 0 {
            return f64::NAN;
        }
        self.shift + self.sum / self.len as f64
    }

    /// Population variance (divide by n), never negative.
    pub(crate) fn population_variance(&self) -> f64 {
        if self.len == 0 {
            return f64::NAN;
        }
        let n = self.len as f64;
        let m = self.sum / n;
        (self.sum_sq / n - m * m).max(0.0)
    }

    /// Sample variance (divide by n − 1), never negative; NaN below two values.
    pub(crate) fn sample_variance(&self) -> f64 {
        if self.len < 2 {
            return f64::NAN;
        }
        let n = self.len as f64;
        ((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        (mean, var)
    }

    #[test]
    fn large_values_keep_precision_over_many_updates() {
        // KRW-BTC-sized prices with small moves: the naive Σx² − (Σx)²/n
        // formula would lose most digits of the variance here.
        let mut w = Window::new(20);
        let mut xs = Vec::new();
        for i in 0..100_000_u32 {
            let x = 163_000_000.0 + f64::from(i % 37) * 1000.0 - f64::from(i % 11) * 500.0;
            xs.push(x);
            w.push(x);
        }
        let (mean, var) = naive(&xs[xs.len() - 20..]);
        assert!((w.mean() - mean).abs() < 1e-6, "{} vs {mean}", w.mean());
        assert!(
            (w.population_variance() - var).abs() / var < 1e-9,
            "{} vs {var}",
            w.population_variance()
        );
    }

    #[test]
    fn constant_input_has_zero_variance_not_negative() {
        let mut w = Window::new(3);
        for _ in 0..10 {
            w.push(0.1);
        }
        assert_eq!(w.population_variance(), 0.0);
        assert_eq!(w.sample_variance(), 0.0);
        assert!((w.mean() - 0.1).abs() < 1e-15);
    }

    #[test]
    fn zero_period_is_never_full() {
        let mut w = Window::new(0);
        w.push(1.0);
        assert!(!w.is_full());
        assert_eq!(w.period(), 0);
        assert!(w.mean().is_nan());
    }
}
