//! Candle conversions at the collector's edges: Upbit's exact candles into
//! storage rows, and storage rows into the `f64` candles indicators read.

use indicators::Candle as IndicatorCandle;
use rust_decimal::prelude::ToPrimitive;
use storage::market_data::{Candle, CandleInterval};
use upbit::{CandleInterval as UpbitInterval, MinuteUnit};

/// Upbit's 1-minute interval.
pub const UPBIT_M1: UpbitInterval = UpbitInterval::Minutes(MinuteUnit::M1);

/// An Upbit 1-minute candle as a storage row (`None` for other intervals).
pub fn from_upbit(c: &upbit::Candle) -> Option<Candle> {
    (c.interval == UPBIT_M1).then(|| Candle {
        market: c.market.clone(),
        interval: CandleInterval::M1,
        ts: c.open_time,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
        value: Some(c.value),
    })
}

/// A stored candle in indicator space. A missing turnover is approximated
/// as `close × volume`, as the replay does.
pub fn to_indicator(c: &Candle) -> IndicatorCandle {
    let f = |d: rust_decimal::Decimal| d.to_f64().unwrap_or(f64::NAN);
    let close = f(c.close.get());
    let volume = f(c.volume.get());
    IndicatorCandle {
        ts: c.ts,
        open: f(c.open.get()),
        high: f(c.high.get()),
        low: f(c.low.get()),
        close,
        volume,
        value: c.value.map_or(close * volume, |v| f(v.get())),
    }
}
