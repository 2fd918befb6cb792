//! Small numeric helpers shared by the score modules: ramps and tents that map
//! a metric onto `[0, 1]` (NaN → 0), volume spikes, percentile ranks.

use indicators::Candle;

/// The last element, or NaN.
pub(crate) fn last(v: &[f64]) -> f64 {
    v.last().copied().unwrap_or(f64::NAN)
}

/// The element `back` places before the last (0 = last), or NaN.
pub(crate) fn back(v: &[f64], back: usize) -> f64 {
    v.len()
        .checked_sub(1 + back)
        .and_then(|i| v.get(i))
        .copied()
        .unwrap_or(f64::NAN)
}

/// 0 at `lo`, 1 at `hi`, linear between, clamped; NaN → 0. `lo < hi`.
pub(crate) fn ramp(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() {
        return 0.0;
    }
    ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
}

/// A trapezoid: 0 outside `[lo, hi]`, 1 on `[peak_lo, peak_hi]`, linear between; NaN → 0.
pub(crate) fn tent(x: f64, lo: f64, peak_lo: f64, peak_hi: f64, hi: f64) -> f64 {
    if x.is_nan() || x <= lo || x >= hi {
        return 0.0;
    }
    if x < peak_lo {
        (x - lo) / (peak_lo - lo)
    } else if x <= peak_hi {
        1.0
    } else {
        (hi - x) / (hi - peak_hi)
    }
}

/// Clamps to `[-1, 1]`; NaN → 0.
pub(crate) fn signed_unit(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(-1.0, 1.0) }
}

/// `signal ∈ [-1, 1]` → score `50 + 50 × signal`.
pub(crate) fn to_score(signal: f64) -> f64 {
    50.0 + 50.0 * signed_unit(signal)
}

/// The largest volume of the last `recent` candles divided by the mean volume
/// of the `period` candles before them. NaN when that mean is zero (no
/// trading) or the history is too short.
pub(crate) fn volume_spike(candles: &[Candle], recent: usize, period: usize) -> f64 {
    let n = candles.len();
    if recent == 0 || period == 0 || n < recent + period {
        return f64::NAN;
    }
    let base = &candles[n - recent - period..n - recent];
    let mean = base.iter().map(|c| c.volume).sum::<f64>() / period as f64;
    let peak = candles[n - recent..]
        .iter()
        .map(|c| c.volume)
        .fold(f64::NAN, f64::max);
    if !(mean.is_finite() && mean > 0.0) {
        return f64::NAN;
    }
    peak / mean
}

/// Fraction of the finite values in `window` that are `≤ x` (NaN when `x` is
/// NaN or the window has no finite value).
pub(crate) fn pct_rank(x: f64, window: &[f64]) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let finite = window.iter().filter(|v| v.is_finite());
    let total = finite.clone().count();
    if total == 0 {
        return f64::NAN;
    }
    finite.filter(|v| **v <= x).count() as f64 / total as f64
}

/// The closes of `candles`.
pub(crate) fn closes(candles: &[Candle]) -> Vec<f64> {
    candles.iter().map(|c| c.close).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for (x, want) in [(f64::NAN, 0.0), (-1.0, 0.0), (0.5, 0.5), (2.0, 1.0)] {
            assert!((ramp(x, 0.0, 1.0) - want).abs() < 1e-12, "ramp {x}");
        }
        for (x, want) in [
            (f64::NAN, 0.0),
            (0.0, 0.0),
            (0.5, 0.5),
            (1.5, 1.0),
            (2.5, 0.5),
            (3.0, 0.0),
        ] {
            assert!(
                (tent(x, 0.0, 1.0, 2.0, 3.0) - want).abs() < 1e-12,
                "tent {x}"
            );
        }
        assert!((to_score(f64::NAN) - 50.0).abs() < 1e-12);
        assert!((to_score(5.0) - 100.0).abs() < 1e-12);
        assert!((to_score(-5.0)).abs() < 1e-12);
        assert!(back(&[1.0], 1).is_nan());
        assert!((back(&[1.0, 2.0], 1) - 1.0).abs() < 1e-12);
        assert!(last(&[]).is_nan());
    }

    #[test]
    fn ranks_and_spikes() {
        assert!((pct_rank(2.0, &[1.0, 2.0, 3.0, f64::NAN]) - 2.0 / 3.0).abs() < 1e-12);
        assert!(pct_rank(2.0, &[f64::NAN]).is_nan());
        assert!(pct_rank(f64::NAN, &[1.0]).is_nan());
        let c = |v: f64| Candle {
            ts: chrono::DateTime::<chrono::Utc>::default(),
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: v,
            value: v,
        };
        let series: Vec<Candle> = [1.0, 1.0, 1.0, 1.0, 3.0].iter().map(|v| c(*v)).collect();
        assert!((volume_spike(&series, 1, 4) - 3.0).abs() < 1e-12);
        assert!(volume_spike(&series, 1, 5).is_nan()); // too short
        let zero: Vec<Candle> = [0.0, 0.0, 0.0, 5.0].iter().map(|v| c(*v)).collect();
        assert!(volume_spike(&zero, 1, 3).is_nan()); // zero-volume base
    }
}
