//! Wire structs of the read-only REST endpoints, exactly as Upbit sends them
//! (upbit-api.md §2, §3.1). Amounts read through the one number-or-string
//! parser ([`crate::common::parse`]); fields Upbit omits when null are
//! `Option`s with `#[serde(default)]`; unknown fields are ignored.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::common::parse::{decimal, int, opt_decimal, opt_int};

/// One item of the market list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct MarketWire {
    /// `KRW-BTC`.
    pub market: String,
    /// Korean name.
    #[serde(default)]
    pub korean_name: String,
    /// English name.
    #[serde(default)]
    pub english_name: String,
    /// With `is_details=true`: warning and caution flags.
    #[serde(default)]
    pub market_event: Option<MarketEventWire>,
    /// Older/global API: `NONE` or `CAUTION`.
    #[serde(default)]
    pub market_warning: Option<String>,
}

/// `market_event` of the market list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct MarketEventWire {
    /// 유의 종목: under delisting review.
    #[serde(default)]
    pub warning: bool,
    /// 주의 종목 alert flags by name.
    #[serde(default)]
    pub caution: BTreeMap<String, bool>,
}

/// One candle (minutes, seconds, days, weeks, months, years).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CandleWire {
    /// Market code.
    pub market: String,
    /// Start of the candle, naive UTC.
    pub candle_date_time_utc: String,
    /// Start of the candle, naive KST.
    #[serde(default)]
    pub candle_date_time_kst: Option<String>,
    /// Open.
    #[serde(with = "decimal")]
    pub opening_price: Decimal,
    /// High.
    #[serde(with = "decimal")]
    pub high_price: Decimal,
    /// Low.
    #[serde(with = "decimal")]
    pub low_price: Decimal,
    /// Close (last trade).
    #[serde(with = "decimal")]
    pub trade_price: Decimal,
    /// Time of the last trade in the candle (ms).
    #[serde(with = "int")]
    pub timestamp: i64,
    /// Quote turnover (KRW).
    #[serde(with = "decimal")]
    pub candle_acc_trade_price: Decimal,
    /// Base volume.
    #[serde(with = "decimal")]
    pub candle_acc_trade_volume: Decimal,
    /// Minute unit (minute candles only).
    #[serde(default, with = "opt_int")]
    pub unit: Option<u32>,
    /// Day candles: previous close.
    #[serde(default, with = "opt_decimal")]
    pub prev_closing_price: Option<Decimal>,
    /// Day candles: signed change.
    #[serde(default, with = "opt_decimal")]
    pub change_price: Option<Decimal>,
    /// Day candles: signed change rate.
    #[serde(default, with = "opt_decimal")]
    pub change_rate: Option<Decimal>,
    /// Day candles with `converting_price_unit`.
    #[serde(default, with = "opt_decimal")]
    pub converted_trade_price: Option<Decimal>,
    /// Week/month/year candles: `yyyy-MM-dd`.
    #[serde(default)]
    pub first_day_of_period: Option<String>,
}

/// One ticker.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TickerWire {
    /// Market code.
    pub market: String,
    /// UTC `yyyyMMdd` of the last trade.
    #[serde(default)]
    pub trade_date: Option<String>,
    /// UTC `HHmmss` of the last trade.
    #[serde(default)]
    pub trade_time: Option<String>,
    /// KST date.
    #[serde(default)]
    pub trade_date_kst: Option<String>,
    /// KST time.
    #[serde(default)]
    pub trade_time_kst: Option<String>,
    /// Last trade time (ms).
    #[serde(with = "int")]
    pub trade_timestamp: i64,
    /// Open (since 00:00 UTC).
    #[serde(with = "decimal")]
    pub opening_price: Decimal,
    /// High.
    #[serde(with = "decimal")]
    pub high_price: Decimal,
    /// Low.
    #[serde(with = "decimal")]
    pub low_price: Decimal,
    /// Last price.
    #[serde(with = "decimal")]
    pub trade_price: Decimal,
    /// Previous UTC-day close.
    #[serde(with = "decimal")]
    pub prev_closing_price: Decimal,
    /// `RISE` / `EVEN` / `FALL`.
    pub change: String,
    /// Absolute change.
    #[serde(default, with = "opt_decimal")]
    pub change_price: Option<Decimal>,
    /// Absolute change rate.
    #[serde(default, with = "opt_decimal")]
    pub change_rate: Option<Decimal>,
    /// Signed change.
    #[serde(with = "decimal")]
    pub signed_change_price: Decimal,
    /// Signed change rate.
    #[serde(with = "decimal")]
    pub signed_change_rate: Decimal,
    /// Volume of the last trade.
    #[serde(with = "decimal")]
    pub trade_volume: Decimal,
    /// Turnover since 00:00 UTC.
    #[serde(with = "decimal")]
    pub acc_trade_price: Decimal,
    /// Rolling 24 h turnover.
    #[serde(with = "decimal")]
    pub acc_trade_price_24h: Decimal,
    /// Volume since 00:00 UTC.
    #[serde(with = "decimal")]
    pub acc_trade_volume: Decimal,
    /// Rolling 24 h volume.
    #[serde(with = "decimal")]
    pub acc_trade_volume_24h: Decimal,
    /// 52-week high.
    #[serde(default, with = "opt_decimal")]
    pub highest_52_week_price: Option<Decimal>,
    /// Date of the 52-week high.
    #[serde(default)]
    pub highest_52_week_date: Option<String>,
    /// 52-week low.
    #[serde(default, with = "opt_decimal")]
    pub lowest_52_week_price: Option<Decimal>,
    /// Date of the 52-week low.
    #[serde(default)]
    pub lowest_52_week_date: Option<String>,
    /// Snapshot time (ms).
    #[serde(with = "int")]
    pub timestamp: i64,
}

/// One order book.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderbookWire {
    /// Market code.
    pub market: String,
    /// Snapshot time (ms).
    #[serde(with = "int")]
    pub timestamp: i64,
    /// Sum of ask sizes over the returned levels.
    #[serde(with = "decimal")]
    pub total_ask_size: Decimal,
    /// Sum of bid sizes over the returned levels.
    #[serde(with = "decimal")]
    pub total_bid_size: Decimal,
    /// Level pairs, best first.
    pub orderbook_units: Vec<OrderbookUnitWire>,
    /// Aggregation level (KRW only).
    #[serde(default, with = "opt_decimal")]
    pub level: Option<Decimal>,
}

/// One ask/bid level pair.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrderbookUnitWire {
    /// Ask price.
    #[serde(with = "decimal")]
    pub ask_price: Decimal,
    /// Bid price.
    #[serde(with = "decimal")]
    pub bid_price: Decimal,
    /// Ask size.
    #[serde(with = "decimal")]
    pub ask_size: Decimal,
    /// Bid size.
    #[serde(with = "decimal")]
    pub bid_size: Decimal,
}

/// Per-market instrument info (authoritative tick size).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InstrumentWire {
    /// Market code.
    pub market: String,
    /// Quote currency.
    pub quote_currency: String,
    /// Tick size (a string on the wire).
    #[serde(with = "decimal")]
    pub tick_size: Decimal,
    /// Supported aggregation levels (KR only).
    #[serde(default)]
    pub supported_levels: Vec<serde_json::Value>,
}

/// One recent trade.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TradeTickWire {
    /// Market code.
    pub market: String,
    /// UTC `yyyy-MM-dd`.
    #[serde(default)]
    pub trade_date_utc: Option<String>,
    /// UTC `HH:mm:ss`.
    #[serde(default)]
    pub trade_time_utc: Option<String>,
    /// Trade time (ms).
    #[serde(with = "int")]
    pub timestamp: i64,
    /// Price.
    #[serde(with = "decimal")]
    pub trade_price: Decimal,
    /// Volume.
    #[serde(with = "decimal")]
    pub trade_volume: Decimal,
    /// Previous close.
    #[serde(default, with = "opt_decimal")]
    pub prev_closing_price: Option<Decimal>,
    /// Signed change versus the previous close.
    #[serde(default, with = "opt_decimal")]
    pub change_price: Option<Decimal>,
    /// Taker side: `BID` = a buyer took the ask.
    pub ask_bid: String,
    /// Unique id (may exceed 2^53).
    #[serde(with = "int")]
    pub sequential_id: u64,
}

/// One balance of the account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountWire {
    /// Currency code.
    pub currency: String,
    /// Free amount.
    #[serde(with = "decimal")]
    pub balance: Decimal,
    /// Amount held by open orders or withdrawals.
    #[serde(with = "decimal")]
    pub locked: Decimal,
    /// Average buy price in `unit_currency`.
    #[serde(default, with = "opt_decimal")]
    pub avg_buy_price: Option<Decimal>,
    /// The user edited the average price in the app.
    #[serde(default)]
    pub avg_buy_price_modified: bool,
    /// Currency of the average price.
    #[serde(default)]
    pub unit_currency: Option<String>,
}
