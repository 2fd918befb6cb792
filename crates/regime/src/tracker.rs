//! [`InputsTracker`]: the six inputs maintained incrementally, for replays and
//! for a long-running regime writer. Feeding it every closed candle in time
//! order and asking for [`InputsTracker::inputs`] at `now` gives exactly what
//! [`RegimeInputs::from_candles_with`] gives for the same candles (markets in
//! `Market` order), at O(markets × window) per query instead of O(history).

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};
use domain::Market;
use indicators::{AdxState, AtrState, Candle, Interval, Resampler};

use crate::{
    InputParams, RegimeInputs,
    inputs::{CrossSection, atr_pct, whipsaw_from},
};

/// Per-market state: the rolling window and the completed whipsaw bars.
#[derive(Debug, Clone)]
struct Track {
    last_ts: Option<DateTime<Utc>>,
    window: VecDeque<Candle>,
    bars: Resampler,
    closes: VecDeque<(DateTime<Utc>, f64)>,
}

/// Incremental computation of [`RegimeInputs`].
///
/// Rules: push each market's closed candles in time order (a candle not
/// later than that market's previous one, or invalid, is ignored), and query
/// with non-decreasing `now`. The BTC market is part of the universe too.
#[derive(Debug, Clone)]
pub struct InputsTracker {
    params: InputParams,
    btc: Market,
    btc_bars: Resampler,
    adx: AdxState,
    atr: AtrState,
    btc_close: f64,
    markets: BTreeMap<Market, Track>,
}

impl InputsTracker {
    /// A tracker whose trend inputs come from `btc`.
    pub fn new(btc: Market, params: InputParams) -> Self {
        Self {
            adx: AdxState::new(params.adx_period),
            atr: AtrState::new(params.atr_period),
            btc_bars: Resampler::new(Interval::H4),
            btc_close: f64::NAN,
            markets: BTreeMap::new(),
            btc,
            params,
        }
    }

    /// The parameters in use.
    pub fn params(&self) -> &InputParams {
        &self.params
    }

    /// Number of markets seen so far.
    pub fn market_count(&self) -> usize {
        self.markets.len()
    }

    /// Adds one closed candle of `market`.
    pub fn push(&mut self, market: &Market, candle: &Candle) {
        if !candle.is_valid() {
            return;
        }
        if *market == self.btc
            && let Some(bar) = self.btc_bars.push(candle)
        {
            self.feed_btc(&bar);
        }
        let track = match self.markets.get_mut(market) {
            Some(t) => t,
            None => self.markets.entry(market.clone()).or_insert_with(|| Track {
                last_ts: None,
                window: VecDeque::new(),
                bars: Resampler::new(self.params.whipsaw_interval),
                closes: VecDeque::new(),
            }),
        };
        if track.last_ts.is_some_and(|t| candle.ts <= t) {
            return;
        }
        track.last_ts = Some(candle.ts);
        // Nothing older than `ts − window` can be in a later window.
        let horizon = self.params.window_start(candle.ts);
        while track.window.front().is_some_and(|c| c.ts < horizon) {
            track.window.pop_front();
        }
        track.window.push_back(*candle);
        if let Some(bar) = track.bars.push(candle) {
            track.closes.push_back((bar.ts, bar.close));
            if track.closes.len() > self.params.whipsaw_bars {
                track.closes.pop_front();
            }
        }
    }

    fn feed_btc(&mut self, bar: &Candle) {
        self.adx.update(bar);
        self.atr.update(bar);
        self.btc_close = bar.close;
    }

    /// The six inputs at `now`.
    pub fn inputs(&mut self, now: DateTime<Utc>) -> RegimeInputs {
        if let Some(bar) = self.btc_bars.close_until(now) {
            self.feed_btc(&bar);
        }
        let window_start = self.params.window_start(now);
        let whipsaw_start = whipsaw_from(now, &self.params);
        let mut cross = CrossSection::default();
        for track in self.markets.values_mut() {
            while track.window.front().is_some_and(|c| c.ts < window_start) {
                track.window.pop_front();
            }
            cross.add_window(track.window.iter().filter(|c| c.ts < now));
            if let Some(bar) = track.bars.close_until(now) {
                track.closes.push_back((bar.ts, bar.close));
                if track.closes.len() > self.params.whipsaw_bars {
                    track.closes.pop_front();
                }
            }
            cross.add_whipsaw(
                track
                    .closes
                    .iter()
                    .filter(|(ts, _)| *ts >= whipsaw_start)
                    .map(|(_, c)| *c),
                &self.params,
            );
        }
        let (breadth_up_1h, dispersion_1h, top5_value_share_1h, whipsaw_5m) =
            cross.finish(&self.params);
        RegimeInputs {
            btc_adx_4h: self.adx.value(),
            btc_atr_pct_4h: atr_pct(self.atr.value(), self.btc_close),
            breadth_up_1h,
            dispersion_1h,
            top5_value_share_1h,
            whipsaw_5m,
        }
    }
}
