//! The six inputs of REG-2 and how they are computed from candles.
//!
//! All inputs are "as of `now`" and read only candles that have closed by
//! then (open time `< now`; pass closed candles only). Definitions, with the
//! defaults of [`InputParams`]:
//!
//! | input | definition |
//! |---|---|
//! | `btc_adx_4h` | Wilder ADX(14) of BTC over completed UTC-aligned 4h bars (Upbit 240-minute candles) |
//! | `btc_atr_pct_4h` | Wilder ATR(14) of the same bars ÷ the last completed bar's close × 100 (percent) |
//! | `breadth_up_1h` | fraction of markets whose return over the last 60 minutes is > 0 |
//! | `dispersion_1h` | cross-sectional standard deviation of those returns, in percent |
//! | `top5_value_share_1h` | KRW turnover of the 5 busiest markets ÷ all markets' turnover, last 60 minutes |
//! | `whipsaw_5m` | mean over markets of the direction-change rate of the last 24 completed 5-minute closes |
//!
//! The 60-minute window is rolling (candles opened in `[now − 60 min, now)`),
//! so a crash shows up within minutes instead of at the next hour boundary;
//! a market's window return is `last close / first open − 1`. The 4h bars are
//! completed aligned bars: a partial bar would make ATR saw-tooth every four
//! hours. Cross-sectional inputs need at least `min_markets` markets with data
//! in the window, else they are NaN ("insufficient data", never a guess).

use std::{borrow::Cow, fmt};

use chrono::{DateTime, Duration, Utc};
use domain::Market;
use indicators::{
    AdxState, AtrState, Candle, Interval, breadth_up, dispersion, resample, top_n_value_share,
    whipsaw,
};
use serde::{Deserialize, Serialize};

use crate::InputParams;

/// How many of the busiest markets `top5_value_share_1h` sums.
pub const TOP_N: usize = 5;

/// The name of one input, in REG-2 order (also the JSON / column name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputName {
    /// `btc_adx_4h`
    BtcAdx4h,
    /// `btc_atr_pct_4h`
    BtcAtrPct4h,
    /// `breadth_up_1h`
    BreadthUp1h,
    /// `dispersion_1h`
    Dispersion1h,
    /// `top5_value_share_1h`
    Top5ValueShare1h,
    /// `whipsaw_5m`
    Whipsaw5m,
}

impl InputName {
    /// All six, in REG-2 order.
    pub const ALL: [Self; 6] = [
        Self::BtcAdx4h,
        Self::BtcAtrPct4h,
        Self::BreadthUp1h,
        Self::Dispersion1h,
        Self::Top5ValueShare1h,
        Self::Whipsaw5m,
    ];

    /// The REG-2 name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BtcAdx4h => "btc_adx_4h",
            Self::BtcAtrPct4h => "btc_atr_pct_4h",
            Self::BreadthUp1h => "breadth_up_1h",
            Self::Dispersion1h => "dispersion_1h",
            Self::Top5ValueShare1h => "top5_value_share_1h",
            Self::Whipsaw5m => "whipsaw_5m",
        }
    }

    /// The range a valid value lies in (inclusive).
    pub const fn range(self) -> (f64, f64) {
        match self {
            Self::BtcAdx4h => (0.0, 100.0),
            Self::BtcAtrPct4h | Self::Dispersion1h => (0.0, f64::MAX),
            Self::BreadthUp1h | Self::Top5ValueShare1h | Self::Whipsaw5m => (0.0, 1.0),
        }
    }
}

impl fmt::Display for InputName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The six inputs (REG-2). NaN means "could not be computed" and serialises
/// as `null`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegimeInputs {
    /// BTC ADX on 4h bars (points, 0–100).
    #[serde(with = "crate::serde_nan")]
    pub btc_adx_4h: f64,
    /// BTC ATR on 4h bars as a percent of price.
    #[serde(with = "crate::serde_nan")]
    pub btc_atr_pct_4h: f64,
    /// Fraction of markets up over the last hour (0–1).
    #[serde(with = "crate::serde_nan")]
    pub breadth_up_1h: f64,
    /// Cross-sectional standard deviation of 1h returns (percent).
    #[serde(with = "crate::serde_nan")]
    pub dispersion_1h: f64,
    /// Turnover share of the 5 busiest markets over the last hour (0–1).
    #[serde(with = "crate::serde_nan")]
    pub top5_value_share_1h: f64,
    /// Mean 5-minute direction-change rate across markets (0–1).
    #[serde(with = "crate::serde_nan")]
    pub whipsaw_5m: f64,
}

impl RegimeInputs {
    /// All six missing.
    pub const MISSING: Self = Self {
        btc_adx_4h: f64::NAN,
        btc_atr_pct_4h: f64::NAN,
        breadth_up_1h: f64::NAN,
        dispersion_1h: f64::NAN,
        top5_value_share_1h: f64::NAN,
        whipsaw_5m: f64::NAN,
    };

    /// One input by name.
    pub fn get(&self, name: InputName) -> f64 {
        match name {
            InputName::BtcAdx4h => self.btc_adx_4h,
            InputName::BtcAtrPct4h => self.btc_atr_pct_4h,
            InputName::BreadthUp1h => self.breadth_up_1h,
            InputName::Dispersion1h => self.dispersion_1h,
            InputName::Top5ValueShare1h => self.top5_value_share_1h,
            InputName::Whipsaw5m => self.whipsaw_5m,
        }
    }

    /// `(name, value)` in REG-2 order.
    pub fn iter(&self) -> impl Iterator<Item = (InputName, f64)> + '_ {
        InputName::ALL.into_iter().map(|n| (n, self.get(n)))
    }

    /// The inputs that are NaN (not computable), in REG-2 order.
    pub fn missing(&self) -> Vec<InputName> {
        self.iter()
            .filter(|(_, v)| v.is_nan())
            .map(|(n, _)| n)
            .collect()
    }

    /// Bit-for-bit equality that counts NaN equal to NaN (`==` does not),
    /// for determinism checks.
    pub fn same_as(&self, other: &Self) -> bool {
        self.iter()
            .zip(other.iter())
            .all(|((_, a), (_, b))| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()))
    }

    /// Computes the inputs at `now` with the default [`InputParams`].
    /// `btc_1m` is BTC's candles; `markets_1m` is the universe (include BTC
    /// there too if it belongs to the breadth). Candles are 1-minute (any
    /// interval up to 5 minutes works; coarser data needs a coarser
    /// `whipsaw_interval`), closed by `now`, in time order (unordered input
    /// is sorted first).
    pub fn from_candles(
        btc_1m: &[Candle],
        markets_1m: &[(Market, &[Candle])],
        now: DateTime<Utc>,
    ) -> Self {
        Self::from_candles_with(btc_1m, markets_1m, now, &InputParams::default())
    }

    /// [`Self::from_candles`] with explicit parameters.
    pub fn from_candles_with(
        btc_1m: &[Candle],
        markets_1m: &[(Market, &[Candle])],
        now: DateTime<Utc>,
        params: &InputParams,
    ) -> Self {
        let (btc_adx_4h, btc_atr_pct_4h) = btc_trend(&closed(btc_1m, now), now, params);
        let mut cross = CrossSection::default();
        for (_, candles) in markets_1m {
            let candles = closed(candles, now);
            let start = candles.partition_point(|c| c.ts < params.window_start(now));
            let mut prev = None;
            cross.add_window(candles[start..].iter().filter(|c| {
                // Valid candles, each timestamp once (as the tracker keeps them).
                let fresh = c.is_valid() && prev.is_none_or(|p| c.ts > p);
                if fresh {
                    prev = Some(c.ts);
                }
                fresh
            }));
            let from = whipsaw_from(now, params);
            let start = candles.partition_point(|c| c.ts < from);
            let mut bars = resample(&candles[start..], params.whipsaw_interval);
            let iv = params.whipsaw_interval;
            bars.retain(|b| iv.ended_by(b.ts, now));
            cross.add_whipsaw(bars.iter().map(|b| b.close), params);
        }
        let (breadth_up_1h, dispersion_1h, top5_value_share_1h, whipsaw_5m) = cross.finish(params);
        Self {
            btc_adx_4h,
            btc_atr_pct_4h,
            breadth_up_1h,
            dispersion_1h,
            top5_value_share_1h,
            whipsaw_5m,
        }
    }
}

/// The open time of the first whipsaw bar that can count at `now`.
pub(crate) fn whipsaw_from(now: DateTime<Utc>, params: &InputParams) -> DateTime<Utc> {
    let iv = params.whipsaw_interval;
    let bars = i64::try_from(params.whipsaw_bars).unwrap_or(i64::MAX);
    let back = Duration::try_seconds(iv.seconds().saturating_mul(bars)).unwrap_or(Duration::MAX);
    iv.bucket_start(now)
        .checked_sub_signed(back)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The candles with open time before `now`, in time order.
fn closed(candles: &[Candle], now: DateTime<Utc>) -> Cow<'_, [Candle]> {
    if candles.is_sorted_by_key(|c| c.ts) {
        Cow::Borrowed(&candles[..candles.partition_point(|c| c.ts < now)])
    } else {
        let mut v: Vec<Candle> = candles.iter().filter(|c| c.ts < now).copied().collect();
        v.sort_by_key(|c| c.ts);
        Cow::Owned(v)
    }
}

/// ADX and ATR% of BTC on completed 4h bars.
fn btc_trend(btc: &[Candle], now: DateTime<Utc>, params: &InputParams) -> (f64, f64) {
    let mut adx = AdxState::new(params.adx_period);
    let mut atr = AtrState::new(params.atr_period);
    let mut last_close = f64::NAN;
    for bar in resample(btc, Interval::H4) {
        if !Interval::H4.ended_by(bar.ts, now) {
            break;
        }
        adx.update(&bar);
        atr.update(&bar);
        last_close = bar.close;
    }
    (adx.value(), atr_pct(atr.value(), last_close))
}

pub(crate) fn atr_pct(atr: f64, close: f64) -> f64 {
    if close > 0.0 {
        atr / close * 100.0
    } else {
        f64::NAN
    }
}

/// Accumulates per-market window returns, turnover and whipsaw.
#[derive(Debug, Default)]
pub(crate) struct CrossSection {
    returns_pct: Vec<f64>,
    values: Vec<f64>,
    whipsaws: Vec<f64>,
}

impl CrossSection {
    /// Adds one market's valid candles inside the window (in time order).
    pub(crate) fn add_window<'a>(&mut self, mut window: impl Iterator<Item = &'a Candle>) {
        let Some(first) = window.next() else {
            return;
        };
        let mut last_close = first.close;
        let mut value = first.value;
        for c in window {
            last_close = c.close;
            value += c.value;
        }
        if first.open > 0.0 {
            self.returns_pct
                .push((last_close / first.open - 1.0) * 100.0);
        }
        if value.is_finite() && value >= 0.0 {
            self.values.push(value);
        }
    }

    /// Adds one market's completed whipsaw-bar closes (in time order).
    pub(crate) fn add_whipsaw(&mut self, closes: impl Iterator<Item = f64>, params: &InputParams) {
        let closes: Vec<f64> = closes.collect();
        if closes.len() >= params.whipsaw_min_bars() {
            let w = whipsaw(&closes);
            if w.is_finite() {
                self.whipsaws.push(w);
            }
        }
    }

    /// `(breadth, dispersion, top5 share, whipsaw)`, NaN below `min_markets`.
    pub(crate) fn finish(&self, params: &InputParams) -> (f64, f64, f64, f64) {
        let enough = |n: usize| n >= params.min_markets;
        let (breadth, disp) = if enough(self.returns_pct.len()) {
            (breadth_up(&self.returns_pct), dispersion(&self.returns_pct))
        } else {
            (f64::NAN, f64::NAN)
        };
        let top = if enough(self.values.len()) {
            top_n_value_share(&self.values, TOP_N)
        } else {
            f64::NAN
        };
        let whip = if enough(self.whipsaws.len()) {
            self.whipsaws.iter().sum::<f64>() / self.whipsaws.len() as f64
        } else {
            f64::NAN
        };
        (breadth, disp, top, whip)
    }
}

#[cfg(test)]
mod tests;
