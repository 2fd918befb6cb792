//! Helpers shared by the unit tests of this crate.

use chrono::{DateTime, Duration, Utc};

use crate::Candle;

/// Compares two series within `tol`, treating NaN == NaN.
pub(crate) fn assert_series(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "length: {got:?} vs {want:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if w.is_nan() {
            assert!(g.is_nan(), "[{i}] want NaN, got {g} in {got:?}");
        } else {
            assert!((g - w).abs() <= tol, "[{i}] want {w}, got {g} in {got:?}");
        }
    }
}

/// A candle `i` minutes after 2025-01-01 with open = close.
pub(crate) fn candle(i: i64, high: f64, low: f64, close: f64) -> Candle {
    let t0: DateTime<Utc> = "2025-01-01T00:00:00Z".parse().unwrap();
    Candle {
        ts: t0 + Duration::minutes(i),
        open: close,
        high,
        low,
        close,
        volume: 1.0,
        value: close,
    }
}

/// One-minute candles from `(high, low, close)` triples.
pub(crate) fn bars(hlc: &[(f64, f64, f64)]) -> Vec<Candle> {
    hlc.iter()
        .enumerate()
        .map(|(i, &(h, l, c))| candle(i64::try_from(i).unwrap(), h, l, c))
        .collect()
}
