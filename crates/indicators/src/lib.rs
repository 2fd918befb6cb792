//! f64 technical indicators and candle resampling for the scoring and regime crates.
//!
//! Pure: no I/O, no clock, no randomness. Money stays exact elsewhere (`domain`);
//! indicators, features and scores are `f64` (ENGINEERING §3.2).
//!
//! Conventions shared by every indicator here:
//!
//! * **Batch forms** (`sma`, `atr`, …) return a vector of the input's length.
//!   An entry is `NaN` while the indicator warms up and wherever the input at
//!   that position is bad (not finite; for candles, non-finite prices or
//!   `high < low`).
//! * A bad input is **skipped**: it yields `NaN` at its own position and leaves
//!   the indicator's state untouched, so one broken tick does not poison the
//!   rest of the series. Gaps in time are not filled: consecutive inputs are
//!   treated as consecutive bars, as every charting package does.
//! * Period `0` (or an alpha outside `(0, 1]`) never warms up: all `NaN`, no panic.
//! * **Incremental forms** (`SmaState`, `AtrState`, …) cost O(1) per update and
//!   give bit-identical results to the batch forms, because the batch forms
//!   are implemented by driving the incremental state over the input.
//! * ATR and ADX follow TA-Lib (Wilder smoothing, same seeding and look-back),
//!   checked against the `kand` crate in the integration tests.
#![cfg_attr(
    test,
    allow(clippy::float_cmp, reason = "tests pin exact, hand-worked values")
)]

/// Moving averages: SMA, EMA (period or alpha) and their incremental states.
pub mod average;
/// Bollinger bands and their incremental state.
pub mod bands;
/// The OHLCV [`Candle`] and the candle [`Interval`]s.
pub mod candle;
/// Cross-sectional statistics over many markets: breadth, dispersion, turnover share, whipsaw.
pub mod cross_section;
/// Directional movement: ADX (with +DI / -DI / DX) after Wilder.
pub mod directional;
/// Aggregating 1-minute candles into coarser Upbit-aligned candles.
pub mod resample;
/// Returns, true range, ATR and realized volatility.
pub mod volatility;
/// Ring buffer with running, periodically re-anchored sums (internal to the rolling indicators).
mod window;

pub use average::{EmaState, SmaState, ema, ema_alpha, sma};
pub use bands::{Bands, BollingerState, bollinger};
pub use candle::{Candle, Interval, ParseIntervalError};
pub use cross_section::{breadth_up, dispersion, top_n_value_share, whipsaw};
pub use directional::{AdxState, adx};
pub use resample::{Resampler, resample};
pub use volatility::{
    AtrState, RealizedVolState, atr, log_returns, realized_vol, returns, true_range,
};
/// Helpers shared by the unit tests.
#[cfg(test)]
mod test_util;
