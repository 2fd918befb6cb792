//! Domain-facing market data: what [`crate::http::UpbitClient`](crate::http::client::UpbitClient) and the
//! WebSocket return. Money is exact (`Price`/`Volume`/`Krw`), instants are UTC
//! and markets are validated KRW markets (FIX-1).
//!
//! Quotation volumes arrive as JSON doubles; a value whose shortest text has
//! more than 8 decimals (float noise in an accumulated sum) is rounded to
//! Upbit's 8-decimal volume precision. Everything else is taken exactly.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::{Currency, Krw, Market, Price, Side, Volume};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::common::enums::{CandleInterval, Change};

/// A KRW market from the market list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketListing {
    /// `KRW-BTC`.
    pub market: Market,
    /// Korean name.
    pub korean_name: String,
    /// English name.
    pub english_name: String,
    /// 유의 종목 (under delisting review); only known with details.
    pub warning: bool,
    /// 주의 종목 alert flags; empty without details.
    pub cautions: BTreeMap<String, bool>,
}

impl MarketListing {
    /// True when any caution flag is set.
    pub fn has_caution(&self) -> bool {
        self.cautions.values().any(|v| *v)
    }
}

/// One OHLCV candle with exact decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    /// Market.
    pub market: Market,
    /// Candle length.
    pub interval: CandleInterval,
    /// Start of the candle (UTC).
    pub open_time: DateTime<Utc>,
    /// Open.
    pub open: Price,
    /// High.
    pub high: Price,
    /// Low.
    pub low: Price,
    /// Close (last trade in the candle).
    pub close: Price,
    /// Base volume.
    pub volume: Volume,
    /// Quote turnover in KRW.
    pub value: Krw,
    /// Time of the last trade in the candle.
    pub last_trade_at: DateTime<Utc>,
}

/// A ticker snapshot (REST, or WebSocket with the extra fields set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticker {
    /// Market.
    pub market: Market,
    /// Last price.
    pub trade_price: Price,
    /// Open since 00:00 UTC.
    pub opening_price: Price,
    /// High since 00:00 UTC.
    pub high_price: Price,
    /// Low since 00:00 UTC.
    pub low_price: Price,
    /// Previous UTC-day close.
    pub prev_closing_price: Price,
    /// Direction versus the previous close.
    pub change: Change,
    /// Signed change in KRW.
    pub signed_change_price: Decimal,
    /// Signed change rate (0.01 = 1 %).
    pub signed_change_rate: Decimal,
    /// Volume of the last trade.
    pub trade_volume: Volume,
    /// Turnover since 00:00 UTC.
    pub acc_trade_price: Krw,
    /// Rolling 24 h turnover.
    pub acc_trade_price_24h: Krw,
    /// Volume since 00:00 UTC.
    pub acc_trade_volume: Volume,
    /// Rolling 24 h volume.
    pub acc_trade_volume_24h: Volume,
    /// 52-week high.
    pub highest_52_week_price: Option<Price>,
    /// 52-week low.
    pub lowest_52_week_price: Option<Price>,
    /// Last trade time.
    pub trade_time: DateTime<Utc>,
    /// Snapshot time.
    pub timestamp: DateTime<Utc>,
    /// WebSocket only: `PREVIEW` / `ACTIVE` / `DELISTED`.
    pub market_state: Option<String>,
    /// WebSocket only: taker side of the last trade.
    pub last_taker_side: Option<Side>,
}

/// One price level of an order book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderbookLevel {
    /// Price.
    pub price: Price,
    /// Resting size.
    pub size: Volume,
}

/// An order book: asks ascending, bids descending, best first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Orderbook {
    /// Market.
    pub market: Market,
    /// Snapshot time.
    pub timestamp: DateTime<Utc>,
    /// Asks, lowest first.
    pub asks: Vec<OrderbookLevel>,
    /// Bids, highest first.
    pub bids: Vec<OrderbookLevel>,
    /// Sum of ask sizes over the returned levels.
    pub total_ask_size: Volume,
    /// Sum of bid sizes over the returned levels.
    pub total_bid_size: Volume,
    /// Aggregation level (0 = native tick).
    pub level: Decimal,
}

impl Orderbook {
    /// The best ask, if any.
    pub fn best_ask(&self) -> Option<OrderbookLevel> {
        self.asks.first().copied()
    }

    /// The best bid, if any.
    pub fn best_bid(&self) -> Option<OrderbookLevel> {
        self.bids.first().copied()
    }

    /// KRW resting on the ask side (what a market buy can consume).
    pub fn ask_depth_krw(&self) -> Krw {
        self.asks.iter().map(|l| l.price * l.size).sum()
    }

    /// KRW resting on the bid side.
    pub fn bid_depth_krw(&self) -> Krw {
        self.bids.iter().map(|l| l.price * l.size).sum()
    }
}

/// Per-market instrument info.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// Market.
    pub market: Market,
    /// Quote currency.
    pub quote_currency: Currency,
    /// The authoritative tick size for this market.
    pub tick_size: Price,
    /// Supported order-book aggregation levels.
    pub supported_levels: Vec<Decimal>,
}

/// One public trade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trade {
    /// Market.
    pub market: Market,
    /// Price.
    pub price: Price,
    /// Volume.
    pub volume: Volume,
    /// The taker's side (`Bid` = a buyer took the ask).
    pub taker_side: Side,
    /// Execution time.
    pub traded_at: DateTime<Utc>,
    /// Unique id; not a guaranteed order (sort by time, then id).
    pub sequential_id: u64,
    /// Previous close, when sent.
    pub prev_closing_price: Option<Price>,
    /// Signed change versus the previous close, when sent.
    pub change_price: Option<Decimal>,
}

/// One balance of the account. Amounts are in `currency` units (KRW or the
/// coin), exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Currency.
    pub currency: Currency,
    /// Free amount.
    pub balance: Decimal,
    /// Held by open orders or withdrawals.
    pub locked: Decimal,
    /// Average buy price in `unit_currency`; `None` when zero (KRW, never bought).
    pub avg_buy_price: Option<Price>,
    /// The user edited the average price in the app.
    pub avg_buy_price_modified: bool,
    /// Currency of the average price (KRW for KRW-market purchases).
    pub unit_currency: Currency,
}

impl Balance {
    /// Free plus locked.
    pub fn total(&self) -> Decimal {
        self.balance + self.locked
    }

    /// The free amount as KRW, when this is the KRW balance.
    pub fn free_krw(&self) -> Option<Krw> {
        self.currency
            .is_krw()
            .then(|| Krw::from_decimal(self.balance))
    }

    /// The total held as a volume (coin balances; 8 decimals), when valid.
    pub fn total_volume(&self) -> Option<Volume> {
        if self.currency.is_krw() {
            return None;
        }
        Volume::new(self.total()).ok()
    }
}
