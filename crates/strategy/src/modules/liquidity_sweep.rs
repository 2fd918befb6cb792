//! Liquidity Sweep Reversal (LSR, STR-3): price runs the stops under a recent
//! swing low (the lowest low of the 20 candles before the last 3), then closes
//! back above it — a long setup. A sweep that does not reclaim is a breakdown.
//!
//! With `depth` the sweep below the level in ATR, `reclaim = ramp((close −
//! level) / ATR, 0, 0.5)`, `wick` the sweep candle's lower-wick share of its
//! range and `volume = ramp(spike, 1, 2.5)` (peak of the last 3 over the 20
//! before): reclaimed → `0.35 × tent(depth; 0, 0.1, 1, 2.5) + 0.35 × reclaim
//! + 0.15 × ramp(wick, 0.2, 0.6) + 0.15 × volume`; not reclaimed →
//! `−0.5 × ramp(depth, 0, 1.5)`; no sweep → 0 (neutral). Score `50 + 50 × signal`.

use indicators::atr;

use super::common::{last, ramp, tent, to_score, volume_spike};
use crate::score::{ModuleInput, ModuleScore, ScoreModule};

/// The Liquidity Sweep Reversal module.
#[derive(Debug, Clone)]
pub struct LiquiditySweep {
    /// Candles that define the swing low (before the sweep window).
    pub swing_lookback: usize,
    /// Most recent candles in which the sweep is looked for.
    pub sweep_bars: usize,
    /// ATR period.
    pub atr_period: usize,
    /// Candles the volume baseline averages.
    pub volume_period: usize,
}

impl Default for LiquiditySweep {
    fn default() -> Self {
        Self {
            swing_lookback: 20,
            sweep_bars: 3,
            atr_period: 14,
            volume_period: 20,
        }
    }
}

impl ScoreModule for LiquiditySweep {
    fn id(&self) -> &'static str {
        crate::definition::module_ids::LSR
    }

    fn min_candles(&self) -> usize {
        (self.swing_lookback + self.sweep_bars)
            .max(self.volume_period + self.sweep_bars)
            .max(self.atr_period + 1)
    }

    fn score(&self, input: &ModuleInput<'_>) -> ModuleScore {
        let c = input.candles;
        let n = c.len();
        if n < self.min_candles() {
            return ModuleScore::new(0.0)
                .reason("LSR_INSUFFICIENT_DATA")
                .metric("bars", n as f64);
        }
        let a = last(&atr(c, self.atr_period));
        let x = c[n - 1].close;
        if !a.is_finite() || !x.is_finite() {
            return ModuleScore::new(0.0).reason("LSR_INSUFFICIENT_DATA");
        }
        if a <= 0.0 {
            return ModuleScore::new(0.0)
                .reason("LSR_FLAT_MARKET")
                .metric("atr", a);
        }
        let split = n - self.sweep_bars;
        let level = c[split - self.swing_lookback..split]
            .iter()
            .map(|k| k.low)
            .fold(f64::INFINITY, f64::min);
        // The sweep candle: the lowest low of the recent window (latest on a tie).
        let Some(sweep) = c[split..]
            .iter()
            .rev()
            .min_by(|p, q| p.low.total_cmp(&q.low))
        else {
            return ModuleScore::new(0.0).reason("LSR_INSUFFICIENT_DATA");
        };
        let base = ModuleScore::new(50.0).metric("swing_low", level);
        if sweep.low >= level {
            return base.reason("LSR_NO_SWEEP").metric("sweep_depth_atr", 0.0);
        }
        let depth = (level - sweep.low) / a;
        let reclaim_atr = (x - level) / a;
        let range = sweep.high - sweep.low;
        let wick = if range > 0.0 {
            (sweep.open.min(sweep.close) - sweep.low) / range
        } else {
            0.0
        };
        let spike = volume_spike(c, self.sweep_bars, self.volume_period);
        let volume = ramp(spike, 1.0, 2.5);
        let reclaimed = x > level;
        let signal = if reclaimed {
            0.35 * tent(depth, 0.0, 0.1, 1.0, 2.5)
                + 0.35 * ramp(reclaim_atr, 0.0, 0.5)
                + 0.15 * ramp(wick, 0.2, 0.6)
                + 0.15 * volume
        } else {
            -0.5 * ramp(depth, 0.0, 1.5)
        };
        ModuleScore {
            score: crate::score::clamp_score(to_score(signal)),
            ..base
        }
        .reason("LSR_SWEEP_LOW")
        .reason(if reclaimed {
            "LSR_RECLAIM"
        } else {
            "LSR_NO_RECLAIM"
        })
        .reason_if(reclaimed && wick >= 0.4, "LSR_LONG_WICK")
        .reason_if(spike >= 1.5, "LSR_VOLUME_SPIKE")
        .reason_if(spike.is_nan(), "LSR_ZERO_VOLUME")
        .reason_if(depth > 2.5, "LSR_TOO_DEEP")
        .metric("sweep_depth_atr", depth)
        .metric("reclaim_atr", reclaim_atr)
        .metric("wick_ratio", wick)
        .metric("volume_spike_pct", (spike - 1.0) * 100.0)
    }
}

#[cfg(test)]
mod tests;
