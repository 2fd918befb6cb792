//! Trend Pullback (TP, STR-3): in an uptrend (fast EMA above a rising slow
//! EMA), a dip back to the fast EMA that is bouncing is a long setup.
//!
//! Signal in `[-1, 1]`, score `50 + 50 × signal`:
//! * no uptrend: `0.8 × min(trend, 0)` — a downtrend pushes the score below 50;
//! * uptrend: `0.3 × trend + 0.45 × pullback + 0.25 × bounce − 0.5 × extended`
//!   (`− 0.3` when the close fell below the slow EMA), where
//!   `trend = clamp((EMA_fast − EMA_slow) / ATR / 1.5)`, `pullback` is 1 when
//!   the lowest low of the last 3 candles came within −0.5…+0.3 ATR of the fast
//!   EMA (fading to 0 at −1.5 / +1.5 ATR), `bounce` counts a green candle and a
//!   higher close (½ each), and `extended` ramps from 1.5 to 3 ATR above the
//!   fast EMA (chasing).

use indicators::{atr, ema};

use super::common::{back, closes, last, ramp, signed_unit, tent, to_score};
use crate::score::{ModuleInput, ModuleScore, ScoreModule};

/// The Trend Pullback module.
#[derive(Debug, Clone)]
pub struct TrendPullback {
    /// Fast EMA period.
    pub fast: usize,
    /// Slow EMA period.
    pub slow: usize,
    /// ATR period.
    pub atr_period: usize,
    /// Bars over which the slow EMA's slope is measured.
    pub slope_bars: usize,
}

impl Default for TrendPullback {
    fn default() -> Self {
        Self {
            fast: 20,
            slow: 50,
            atr_period: 14,
            slope_bars: 5,
        }
    }
}

impl ScoreModule for TrendPullback {
    fn id(&self) -> &'static str {
        crate::definition::module_ids::TP
    }

    fn min_candles(&self) -> usize {
        self.slow + self.slope_bars + 1
    }

    fn score(&self, input: &ModuleInput<'_>) -> ModuleScore {
        let candles = input.candles;
        if candles.len() < self.min_candles() {
            return ModuleScore::new(0.0)
                .reason("TP_INSUFFICIENT_DATA")
                .metric("bars", candles.len() as f64);
        }
        let close = closes(candles);
        let ef = ema(&close, self.fast);
        let es = ema(&close, self.slow);
        let atrs = atr(candles, self.atr_period);
        let (x, f, s, a) = (last(&close), last(&ef), last(&es), last(&atrs));
        let s_prev = back(&es, self.slope_bars);
        if [x, f, s, a, s_prev].iter().any(|v| !v.is_finite()) {
            return ModuleScore::new(0.0).reason("TP_INSUFFICIENT_DATA");
        }
        if a <= 0.0 || x <= 0.0 {
            return ModuleScore::new(0.0)
                .reason("TP_FLAT_MARKET")
                .metric("atr", a);
        }
        let gap_atr = (f - s) / a;
        let slope = (s - s_prev) / a;
        let trend = signed_unit(gap_atr / 1.5);
        let low3 = candles[candles.len() - 3..]
            .iter()
            .map(|k| k.low)
            .fold(f64::INFINITY, f64::min);
        let d_low = (low3 - f) / a;
        let close_vs_fast = (x - f) / a;
        let uptrend = f > s && slope > 0.0;

        let mut out;
        if uptrend {
            let broken = x < s;
            let pullback = if broken {
                0.0
            } else {
                tent(d_low, -1.5, -0.5, 0.3, 1.5)
            };
            let last_c = &candles[candles.len() - 1];
            let prev_close = back(&close, 1);
            let bounce = 0.5 * f64::from(u8::from(x > last_c.open))
                + 0.5 * f64::from(u8::from(x > prev_close));
            let extended = ramp(close_vs_fast, 1.5, 3.0);
            let signal = 0.3 * trend + 0.45 * pullback + 0.25 * bounce
                - 0.5 * extended
                - if broken { 0.3 } else { 0.0 };
            out = ModuleScore::new(to_score(signal))
                .reason("TP_UPTREND")
                .reason(if pullback >= 0.5 {
                    "TP_PULLBACK_TO_EMA"
                } else {
                    "TP_NO_PULLBACK"
                })
                .reason_if(bounce >= 1.0, "TP_BOUNCE_CONFIRMED")
                .reason_if(extended > 0.0, "TP_EXTENDED")
                .reason_if(broken, "TP_BELOW_SLOW_EMA")
                .metric("pullback", pullback)
                .metric("bounce", bounce);
        } else {
            out = ModuleScore::new(to_score(0.8 * trend.min(0.0)))
                .reason("TP_NO_UPTREND")
                .reason_if(f < s && slope < 0.0, "TP_DOWNTREND");
        }
        out = out
            .metric("ema_fast", f)
            .metric("ema_slow", s)
            .metric("ema_gap_pct", (f - s) / s * 100.0)
            .metric("ema_gap_atr", gap_atr)
            .metric("slow_slope_atr", slope)
            .metric("pullback_low_atr", d_low)
            .metric("close_vs_fast_atr", close_vs_fast)
            .metric("atr", a)
            .metric("atr_pct", a / x * 100.0);
        out
    }
}

#[cfg(test)]
mod tests;
