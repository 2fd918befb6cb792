//! Volatility Contraction Breakout (VCB, STR-3): Bollinger bands that have
//! been unusually narrow (a squeeze) followed by a close through the upper
//! band on rising volume is a long setup; a close through the lower band is
//! the opposite.
//!
//! `squeeze = 1 − ramp(rank, 0.1, 0.5)` where `rank` is the percentile of the
//! narrowest band width of the previous 5 candles within the last 60;
//! `up = ramp((close − previous upper) / ATR, −0.25, 0.5)`, `down` the mirror
//! on the lower band; `volume = ramp(spike, 1, 2.5)` with `spike` the last
//! volume over the mean of the 20 before. Signal
//! `up × (0.4 + 0.35 × squeeze + 0.25 × volume) − down × (0.5 + 0.5 × volume)`,
//! score `50 + 50 × signal`: inside the bands the module is neutral.

use indicators::{atr, bollinger};

use super::common::{closes, last, pct_rank, ramp, to_score, volume_spike};
use crate::score::{ModuleInput, ModuleScore, ScoreModule};

/// The Volatility Contraction Breakout module.
#[derive(Debug, Clone)]
pub struct VolatilityBreakout {
    /// Bollinger period.
    pub bb_period: usize,
    /// Bollinger width in standard deviations.
    pub bb_k: f64,
    /// Candles the band-width percentile is taken over.
    pub lookback: usize,
    /// Recent candles searched for the squeeze.
    pub squeeze_bars: usize,
    /// ATR period.
    pub atr_period: usize,
    /// Candles the volume baseline averages.
    pub volume_period: usize,
}

impl Default for VolatilityBreakout {
    fn default() -> Self {
        Self {
            bb_period: 20,
            bb_k: 2.0,
            lookback: 60,
            squeeze_bars: 5,
            atr_period: 14,
            volume_period: 20,
        }
    }
}

impl ScoreModule for VolatilityBreakout {
    fn id(&self) -> &'static str {
        crate::definition::module_ids::VCB
    }

    fn min_candles(&self) -> usize {
        self.bb_period + self.lookback
    }

    fn score(&self, input: &ModuleInput<'_>) -> ModuleScore {
        let c = input.candles;
        let n = c.len();
        if n < self.min_candles() {
            return ModuleScore::new(0.0)
                .reason("VCB_INSUFFICIENT_DATA")
                .metric("bars", n as f64);
        }
        let close = closes(c);
        let bands = bollinger(&close, self.bb_period, self.bb_k);
        let widths: Vec<f64> = bands.iter().map(|b| b.width).collect();
        let a = last(&atr(c, self.atr_period));
        let x = last(&close);
        let prev = bands[n - 2];
        let cur = bands[n - 1];
        if [a, x, prev.upper, prev.lower, cur.width]
            .iter()
            .any(|v| !v.is_finite())
        {
            return ModuleScore::new(0.0).reason("VCB_INSUFFICIENT_DATA");
        }
        if a <= 0.0 {
            return ModuleScore::new(0.0)
                .reason("VCB_FLAT_MARKET")
                .metric("atr", a);
        }
        let min_recent = widths[n - 1 - self.squeeze_bars..n - 1]
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let rank = pct_rank(min_recent, &widths[n - 1 - self.lookback..n - 1]);
        let squeeze = 1.0 - ramp(rank, 0.1, 0.5);
        let up_atr = (x - prev.upper) / a;
        let down_atr = (prev.lower - x) / a;
        let up = ramp(up_atr, -0.25, 0.5);
        let down = ramp(down_atr, -0.25, 0.5);
        let spike = volume_spike(c, 1, self.volume_period);
        let volume = ramp(spike, 1.0, 2.5);
        let signal = up * (0.4 + 0.35 * squeeze + 0.25 * volume) - down * (0.5 + 0.5 * volume);
        ModuleScore::new(to_score(signal))
            .reason(if squeeze >= 0.5 {
                "VCB_SQUEEZE"
            } else {
                "VCB_NO_SQUEEZE"
            })
            .reason(if x > prev.upper {
                "VCB_BREAKOUT_UP"
            } else if x < prev.lower {
                "VCB_BREAKDOWN"
            } else {
                "VCB_INSIDE_BANDS"
            })
            .reason_if(spike >= 1.5, "VCB_VOLUME_SPIKE")
            .reason_if(spike.is_nan(), "VCB_ZERO_VOLUME")
            .metric("bb_width", cur.width)
            .metric("bb_width_min_recent", min_recent)
            .metric("bb_width_pct_rank", rank)
            .metric("close_vs_upper_atr", up_atr)
            .metric("volume_spike_pct", (spike - 1.0) * 100.0)
            .metric("atr_pct", a / x * 100.0)
    }
}

#[cfg(test)]
mod tests;
