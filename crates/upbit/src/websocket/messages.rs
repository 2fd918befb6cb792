//! Incoming WebSocket messages (upbit-api.md §8.3, `DEFAULT` format): wire
//! structs and their typed form.
//!
//! [`parse_frame`](crate::websocket::messages::parse_frame) takes the bytes of one text or binary frame (Upbit sends
//! binary UTF-8 JSON) and returns the typed messages in it: one object, or an
//! array of them (`JSON_LIST` format). Errors from the server
//! (`{"error":{"name":"WRONG_FORMAT",…}}`) and keep-alive status
//! (`{"status":"UP"}`) are messages too; unknown types are skipped.

use chrono::{DateTime, Utc};
use domain::{Currency, Krw, OrdType, Side, TimeInForce, ValidationError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    common::{
        enums::{CandleInterval, StreamType, parse_ask_bid},
        parse::{decimal, int, millis_to_utc, opt_decimal, opt_int},
    },
    http::{
        error::UpbitError,
        models::OrderbookUnitWire,
        parse::{change, market, price, quote_volume},
    },
    model::{Candle, Orderbook, OrderbookLevel, Ticker, Trade},
};

/// `ticker` message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsTickerWire {
    /// Market code.
    pub code: String,
    /// Open.
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
    /// Previous close.
    #[serde(with = "decimal")]
    pub prev_closing_price: Decimal,
    /// `RISE`/`EVEN`/`FALL`.
    pub change: String,
    /// Signed change.
    #[serde(with = "decimal")]
    pub signed_change_price: Decimal,
    /// Signed change rate.
    #[serde(with = "decimal")]
    pub signed_change_rate: Decimal,
    /// Last trade volume.
    #[serde(with = "decimal")]
    pub trade_volume: Decimal,
    /// Volume since 00:00 UTC.
    #[serde(with = "decimal")]
    pub acc_trade_volume: Decimal,
    /// Rolling 24 h volume.
    #[serde(with = "decimal")]
    pub acc_trade_volume_24h: Decimal,
    /// Turnover since 00:00 UTC.
    #[serde(with = "decimal")]
    pub acc_trade_price: Decimal,
    /// Rolling 24 h turnover.
    #[serde(with = "decimal")]
    pub acc_trade_price_24h: Decimal,
    /// Last trade time (ms).
    #[serde(with = "int")]
    pub trade_timestamp: i64,
    /// Taker side of the last trade.
    #[serde(default)]
    pub ask_bid: Option<String>,
    /// 52-week high.
    #[serde(default, with = "opt_decimal")]
    pub highest_52_week_price: Option<Decimal>,
    /// 52-week low.
    #[serde(default, with = "opt_decimal")]
    pub lowest_52_week_price: Option<Decimal>,
    /// `PREVIEW`/`ACTIVE`/`DELISTED`.
    #[serde(default)]
    pub market_state: Option<String>,
    /// Message time (ms).
    #[serde(with = "int")]
    pub timestamp: i64,
    /// Snapshot or realtime.
    #[serde(default)]
    pub stream_type: Option<StreamType>,
}

/// `trade` message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsTradeWire {
    /// Market code.
    pub code: String,
    /// Price.
    #[serde(with = "decimal")]
    pub trade_price: Decimal,
    /// Volume.
    #[serde(with = "decimal")]
    pub trade_volume: Decimal,
    /// Taker side.
    pub ask_bid: String,
    /// Previous close.
    #[serde(default, with = "opt_decimal")]
    pub prev_closing_price: Option<Decimal>,
    /// Signed change.
    #[serde(default, with = "opt_decimal")]
    pub change_price: Option<Decimal>,
    /// Trade time (ms).
    #[serde(with = "int")]
    pub trade_timestamp: i64,
    /// Unique id.
    #[serde(with = "int")]
    pub sequential_id: u64,
    /// Best ask after the trade.
    #[serde(default, with = "opt_decimal")]
    pub best_ask_price: Option<Decimal>,
    /// Its size.
    #[serde(default, with = "opt_decimal")]
    pub best_ask_size: Option<Decimal>,
    /// Best bid after the trade.
    #[serde(default, with = "opt_decimal")]
    pub best_bid_price: Option<Decimal>,
    /// Its size.
    #[serde(default, with = "opt_decimal")]
    pub best_bid_size: Option<Decimal>,
    /// Snapshot or realtime.
    #[serde(default)]
    pub stream_type: Option<StreamType>,
}

/// `orderbook` message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsOrderbookWire {
    /// Market code.
    pub code: String,
    /// Time (ms).
    #[serde(with = "int")]
    pub timestamp: i64,
    /// Ask total.
    #[serde(with = "decimal")]
    pub total_ask_size: Decimal,
    /// Bid total.
    #[serde(with = "decimal")]
    pub total_bid_size: Decimal,
    /// Levels.
    pub orderbook_units: Vec<OrderbookUnitWire>,
    /// Aggregation level.
    #[serde(default, with = "opt_decimal")]
    pub level: Option<Decimal>,
    /// Snapshot or realtime.
    #[serde(default)]
    pub stream_type: Option<StreamType>,
}

/// `candle.*` message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsCandleWire {
    /// `candle.1m` …
    #[serde(rename = "type")]
    pub ty: String,
    /// Market code.
    pub code: String,
    /// Candle start, naive UTC.
    pub candle_date_time_utc: String,
    /// Open.
    #[serde(with = "decimal")]
    pub opening_price: Decimal,
    /// High.
    #[serde(with = "decimal")]
    pub high_price: Decimal,
    /// Low.
    #[serde(with = "decimal")]
    pub low_price: Decimal,
    /// Close.
    #[serde(with = "decimal")]
    pub trade_price: Decimal,
    /// Base volume.
    #[serde(with = "decimal")]
    pub candle_acc_trade_volume: Decimal,
    /// Quote turnover.
    #[serde(with = "decimal")]
    pub candle_acc_trade_price: Decimal,
    /// Time (ms).
    #[serde(with = "int")]
    pub timestamp: i64,
    /// Snapshot or realtime.
    #[serde(default)]
    pub stream_type: Option<StreamType>,
}

/// `myOrder` message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsMyOrderWire {
    /// Market code.
    pub code: String,
    /// Order uuid.
    pub uuid: String,
    /// `ASK`/`BID`.
    pub ask_bid: String,
    /// `limit`/`price`/`market`/`best`.
    pub order_type: String,
    /// `wait`/`watch`/`trade`/`done`/`cancel`/`prevented`.
    pub state: String,
    /// Fill id (state `trade`).
    #[serde(default)]
    pub trade_uuid: Option<String>,
    /// Order price, or the fill price for state `trade`.
    #[serde(default, with = "opt_decimal")]
    pub price: Option<Decimal>,
    /// Average fill price.
    #[serde(default, with = "opt_decimal")]
    pub avg_price: Option<Decimal>,
    /// Order volume, or the fill volume for state `trade`.
    #[serde(default, with = "opt_decimal")]
    pub volume: Option<Decimal>,
    /// Remaining volume.
    #[serde(default, with = "opt_decimal")]
    pub remaining_volume: Option<Decimal>,
    /// Executed volume.
    #[serde(default, with = "opt_decimal")]
    pub executed_volume: Option<Decimal>,
    /// Number of fills.
    #[serde(default, with = "opt_int")]
    pub trades_count: Option<u32>,
    /// Reserved fee.
    #[serde(default, with = "opt_decimal")]
    pub reserved_fee: Option<Decimal>,
    /// Remaining reserved fee.
    #[serde(default, with = "opt_decimal")]
    pub remaining_fee: Option<Decimal>,
    /// Fee paid so far.
    #[serde(default, with = "opt_decimal")]
    pub paid_fee: Option<Decimal>,
    /// Still locked.
    #[serde(default, with = "opt_decimal")]
    pub locked: Option<Decimal>,
    /// Quote value filled so far.
    #[serde(default, with = "opt_decimal")]
    pub executed_funds: Option<Decimal>,
    /// `ioc`/`fok`/`post_only`.
    #[serde(default)]
    pub time_in_force: Option<String>,
    /// Fee of this fill.
    #[serde(default, with = "opt_decimal")]
    pub trade_fee: Option<Decimal>,
    /// This fill was a maker fill.
    #[serde(default)]
    pub is_maker: Option<bool>,
    /// Client identifier.
    #[serde(default)]
    pub identifier: Option<String>,
    /// SMP type.
    #[serde(default)]
    pub smp_type: Option<String>,
    /// SMP-cancelled volume.
    #[serde(default, with = "opt_decimal")]
    pub prevented_volume: Option<Decimal>,
    /// SMP-released amount.
    #[serde(default, with = "opt_decimal")]
    pub prevented_locked: Option<Decimal>,
    /// Fill time (ms).
    #[serde(default, with = "opt_int")]
    pub trade_timestamp: Option<i64>,
    /// Order creation time (ms).
    #[serde(default, with = "opt_int")]
    pub order_timestamp: Option<i64>,
    /// Message time (ms).
    #[serde(with = "int")]
    pub timestamp: i64,
    /// Snapshot or realtime.
    #[serde(default)]
    pub stream_type: Option<StreamType>,
}

/// One asset of a `myAsset` message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsAssetWire {
    /// Currency.
    pub currency: String,
    /// Free amount (number or string).
    #[serde(with = "decimal")]
    pub balance: Decimal,
    /// Locked amount.
    #[serde(with = "decimal")]
    pub locked: Decimal,
}

/// `myAsset` message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WsMyAssetWire {
    /// Event id.
    pub asset_uuid: String,
    /// Changed currencies.
    pub assets: Vec<WsAssetWire>,
    /// Balance time (ms).
    #[serde(with = "int")]
    pub asset_timestamp: i64,
    /// Message time (ms).
    #[serde(with = "int")]
    pub timestamp: i64,
    /// Snapshot or realtime.
    #[serde(default)]
    pub stream_type: Option<StreamType>,
}

/// State of a `myOrder` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MyOrderState {
    /// Open.
    Wait,
    /// Reserved order waiting for its trigger.
    Watch,
    /// A fill happened (price/volume are the fill's).
    Trade,
    /// Fully filled.
    Done,
    /// Cancelled.
    Cancel,
    /// Cancelled by self-match prevention.
    Prevented,
}

/// A typed `myOrder` event. Amounts are exact decimals (zero where Upbit sends 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyOrderEvent {
    /// Market.
    pub market: domain::Market,
    /// Order uuid.
    pub uuid: String,
    /// Our side.
    pub side: Side,
    /// Order type.
    pub ord_type: OrdType,
    /// Event state.
    pub state: MyOrderState,
    /// Fill id (state `Trade`).
    pub trade_uuid: Option<String>,
    /// Order price, or the fill price for `Trade`.
    pub price: Option<Decimal>,
    /// Average fill price.
    pub avg_price: Option<Decimal>,
    /// Order volume, or the fill volume for `Trade`.
    pub volume: Option<Decimal>,
    /// Remaining volume.
    pub remaining_volume: Option<Decimal>,
    /// Executed volume.
    pub executed_volume: Option<Decimal>,
    /// Number of fills.
    pub trades_count: Option<u32>,
    /// Reserved fee.
    pub reserved_fee: Option<Decimal>,
    /// Remaining reserved fee.
    pub remaining_fee: Option<Decimal>,
    /// Fee paid so far.
    pub paid_fee: Option<Decimal>,
    /// Still locked.
    pub locked: Option<Decimal>,
    /// Quote value filled so far.
    pub executed_funds: Option<Krw>,
    /// Time in force.
    pub time_in_force: Option<TimeInForce>,
    /// Fee of this fill.
    pub trade_fee: Option<Decimal>,
    /// Maker fill.
    pub is_maker: Option<bool>,
    /// Client identifier.
    pub identifier: Option<String>,
    /// SMP-cancelled volume.
    pub prevented_volume: Option<Decimal>,
    /// SMP-released amount.
    pub prevented_locked: Option<Decimal>,
    /// Fill time.
    pub trade_at: Option<DateTime<Utc>>,
    /// Order creation time.
    pub order_at: Option<DateTime<Utc>>,
    /// Message time.
    pub timestamp: DateTime<Utc>,
    /// Snapshot or realtime.
    pub stream: StreamType,
}

/// One changed balance of a `myAsset` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetBalance {
    /// Currency.
    pub currency: Currency,
    /// Free amount.
    pub balance: Decimal,
    /// Locked amount.
    pub locked: Decimal,
}

/// A typed `myAsset` event (only the changed currencies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetEvent {
    /// Event id.
    pub asset_uuid: String,
    /// Changed balances.
    pub assets: Vec<AssetBalance>,
    /// Balance time.
    pub asset_at: DateTime<Utc>,
    /// Message time.
    pub timestamp: DateTime<Utc>,
    /// Snapshot or realtime.
    pub stream: StreamType,
}

/// A typed WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsMessage {
    /// Ticker update.
    Ticker {
        /// The ticker.
        ticker: Ticker,
        /// Snapshot or realtime.
        stream: StreamType,
    },
    /// Public trade.
    Trade {
        /// The trade.
        trade: Trade,
        /// Best ask after it, when sent.
        best_ask: Option<OrderbookLevel>,
        /// Best bid after it, when sent.
        best_bid: Option<OrderbookLevel>,
        /// Snapshot or realtime.
        stream: StreamType,
    },
    /// Order book.
    Orderbook {
        /// The book.
        orderbook: Orderbook,
        /// Snapshot or realtime.
        stream: StreamType,
    },
    /// Candle (the open candle repeats; the last message wins).
    Candle {
        /// The candle.
        candle: Candle,
        /// Snapshot or realtime.
        stream: StreamType,
    },
    /// Own order event.
    MyOrder(Box<MyOrderEvent>),
    /// Own balance change.
    MyAsset(AssetEvent),
    /// Keep-alive status (`UP`).
    Status(String),
    /// Server error (`INVALID_AUTH`, `WRONG_FORMAT`, `NO_TICKET`, …).
    Error {
        /// Error name.
        name: String,
        /// Message.
        message: String,
    },
}

fn stream(s: Option<StreamType>) -> StreamType {
    s.unwrap_or(StreamType::Realtime)
}

fn opt_level(p: Option<Decimal>, s: Option<Decimal>) -> Option<OrderbookLevel> {
    let (p, s) = (p?, s?);
    Some(OrderbookLevel {
        price: price("best_price", p).ok()?,
        size: quote_volume("best_size", s).ok()?,
    })
}

fn opt_price(field: &str, v: Option<Decimal>) -> Result<Option<domain::Price>, ValidationError> {
    match v {
        Some(d) if !d.is_zero() => price(field, d).map(Some),
        _ => Ok(None),
    }
}

fn opt_millis(field: &str, v: Option<i64>) -> Result<Option<DateTime<Utc>>, ValidationError> {
    v.map(|ms| millis_to_utc(field, ms)).transpose()
}

fn ticker(w: WsTickerWire) -> Result<WsMessage, ValidationError> {
    let t = Ticker {
        market: market("code", &w.code)?,
        trade_price: price("trade_price", w.trade_price)?,
        opening_price: price("opening_price", w.opening_price)?,
        high_price: price("high_price", w.high_price)?,
        low_price: price("low_price", w.low_price)?,
        prev_closing_price: price("prev_closing_price", w.prev_closing_price)?,
        change: change(&w.change)?,
        signed_change_price: w.signed_change_price,
        signed_change_rate: w.signed_change_rate,
        trade_volume: quote_volume("trade_volume", w.trade_volume)?,
        acc_trade_price: Krw::from_decimal(w.acc_trade_price),
        acc_trade_price_24h: Krw::from_decimal(w.acc_trade_price_24h),
        acc_trade_volume: quote_volume("acc_trade_volume", w.acc_trade_volume)?,
        acc_trade_volume_24h: quote_volume("acc_trade_volume_24h", w.acc_trade_volume_24h)?,
        highest_52_week_price: opt_price("highest_52_week_price", w.highest_52_week_price)?,
        lowest_52_week_price: opt_price("lowest_52_week_price", w.lowest_52_week_price)?,
        trade_time: millis_to_utc("trade_timestamp", w.trade_timestamp)?,
        timestamp: millis_to_utc("timestamp", w.timestamp)?,
        market_state: w.market_state,
        last_taker_side: w
            .ask_bid
            .as_deref()
            .map(|s| parse_ask_bid("ask_bid", s))
            .transpose()?,
    };
    Ok(WsMessage::Ticker {
        ticker: t,
        stream: stream(w.stream_type),
    })
}

fn trade(w: &WsTradeWire) -> Result<WsMessage, ValidationError> {
    let t = Trade {
        market: market("code", &w.code)?,
        price: price("trade_price", w.trade_price)?,
        volume: quote_volume("trade_volume", w.trade_volume)?,
        taker_side: parse_ask_bid("ask_bid", &w.ask_bid)?,
        traded_at: millis_to_utc("trade_timestamp", w.trade_timestamp)?,
        sequential_id: w.sequential_id,
        prev_closing_price: opt_price("prev_closing_price", w.prev_closing_price)?,
        change_price: w.change_price,
    };
    Ok(WsMessage::Trade {
        trade: t,
        best_ask: opt_level(w.best_ask_price, w.best_ask_size),
        best_bid: opt_level(w.best_bid_price, w.best_bid_size),
        stream: stream(w.stream_type),
    })
}

fn orderbook(w: WsOrderbookWire) -> Result<WsMessage, ValidationError> {
    let wire = crate::http::models::OrderbookWire {
        market: w.code,
        timestamp: w.timestamp,
        total_ask_size: w.total_ask_size,
        total_bid_size: w.total_bid_size,
        orderbook_units: w.orderbook_units,
        level: w.level,
    };
    Ok(WsMessage::Orderbook {
        orderbook: crate::http::parse::orderbook(&wire)?,
        stream: stream(w.stream_type),
    })
}

fn candle(w: WsCandleWire) -> Result<WsMessage, ValidationError> {
    let interval = CandleInterval::from_ws_type(&w.ty)
        .ok_or_else(|| ValidationError::new("type", format!("unknown candle type {:?}", w.ty)))?;
    let wire = crate::http::models::CandleWire {
        market: w.code,
        candle_date_time_utc: w.candle_date_time_utc,
        candle_date_time_kst: None,
        opening_price: w.opening_price,
        high_price: w.high_price,
        low_price: w.low_price,
        trade_price: w.trade_price,
        timestamp: w.timestamp,
        candle_acc_trade_price: w.candle_acc_trade_price,
        candle_acc_trade_volume: w.candle_acc_trade_volume,
        unit: None,
        prev_closing_price: None,
        change_price: None,
        change_rate: None,
        converted_trade_price: None,
        first_day_of_period: None,
    };
    Ok(WsMessage::Candle {
        candle: crate::http::parse::candle(&wire, interval)?,
        stream: stream(w.stream_type),
    })
}

fn my_order(w: WsMyOrderWire) -> Result<WsMessage, ValidationError> {
    let state = match w.state.as_str() {
        "wait" => MyOrderState::Wait,
        "watch" => MyOrderState::Watch,
        "trade" => MyOrderState::Trade,
        "done" => MyOrderState::Done,
        "cancel" => MyOrderState::Cancel,
        "prevented" => MyOrderState::Prevented,
        other => {
            return Err(ValidationError::new(
                "state",
                format!("unknown order state {other:?}"),
            ));
        }
    };
    Ok(WsMessage::MyOrder(Box::new(MyOrderEvent {
        market: market("code", &w.code)?,
        uuid: w.uuid,
        side: parse_ask_bid("ask_bid", &w.ask_bid)?,
        ord_type: OrdType::parse("order_type", &w.order_type)?,
        state,
        trade_uuid: w.trade_uuid,
        price: w.price,
        avg_price: w.avg_price,
        volume: w.volume,
        remaining_volume: w.remaining_volume,
        executed_volume: w.executed_volume,
        trades_count: w.trades_count,
        reserved_fee: w.reserved_fee,
        remaining_fee: w.remaining_fee,
        paid_fee: w.paid_fee,
        locked: w.locked,
        executed_funds: w.executed_funds.map(Krw::from_decimal),
        time_in_force: w
            .time_in_force
            .as_deref()
            .map(|s| TimeInForce::parse("time_in_force", s))
            .transpose()?,
        trade_fee: w.trade_fee,
        is_maker: w.is_maker,
        identifier: w.identifier,
        prevented_volume: w.prevented_volume,
        prevented_locked: w.prevented_locked,
        trade_at: opt_millis("trade_timestamp", w.trade_timestamp)?,
        order_at: opt_millis("order_timestamp", w.order_timestamp)?,
        timestamp: millis_to_utc("timestamp", w.timestamp)?,
        stream: stream(w.stream_type),
    })))
}

fn my_asset(w: WsMyAssetWire) -> Result<WsMessage, ValidationError> {
    let assets = w
        .assets
        .into_iter()
        .map(|a| {
            Ok(AssetBalance {
                currency: Currency::parse("currency", &a.currency)?,
                balance: a.balance,
                locked: a.locked,
            })
        })
        .collect::<Result<Vec<_>, ValidationError>>()?;
    Ok(WsMessage::MyAsset(AssetEvent {
        asset_uuid: w.asset_uuid,
        assets,
        asset_at: millis_to_utc("asset_timestamp", w.asset_timestamp)?,
        timestamp: millis_to_utc("timestamp", w.timestamp)?,
        stream: stream(w.stream_type),
    }))
}

fn typed<T: serde::de::DeserializeOwned>(ty: &str, v: Value) -> Result<T, UpbitError> {
    serde_json::from_value(v).map_err(|e| UpbitError::decode(format!("ws {ty}"), e.to_string()))
}

fn one(v: Value, out: &mut Vec<WsMessage>) -> Result<(), UpbitError> {
    let Value::Object(obj) = &v else {
        return Err(UpbitError::decode("ws", "expected a JSON object"));
    };
    if let Some(err) = obj.get("error") {
        let text = |k: &str| match err.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        out.push(WsMessage::Error {
            name: text("name"),
            message: text("message"),
        });
        return Ok(());
    }
    if let Some(status) = obj.get("status") {
        out.push(WsMessage::Status(
            status
                .as_str()
                .map_or_else(|| status.to_string(), str::to_owned),
        ));
        return Ok(());
    }
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let ctx = format!("ws {ty}");
    let bad = |e: ValidationError| UpbitError::decode(ctx.clone(), e.to_string());
    let msg = match ty.as_str() {
        "ticker" => ticker(typed(&ty, v)?).map_err(bad)?,
        "trade" => trade(&typed(&ty, v)?).map_err(bad)?,
        "orderbook" => orderbook(typed(&ty, v)?).map_err(bad)?,
        "myOrder" => my_order(typed(&ty, v)?).map_err(bad)?,
        "myAsset" => my_asset(typed(&ty, v)?).map_err(bad)?,
        t if t.starts_with("candle.") => candle(typed(&ty, v)?).map_err(bad)?,
        other => {
            tracing::debug!(kind = other, "skipping unknown WebSocket message");
            return Ok(());
        }
    };
    out.push(msg);
    Ok(())
}

/// Parses one frame's payload (text or binary UTF-8 JSON).
pub fn parse_frame(payload: &[u8]) -> Result<Vec<WsMessage>, UpbitError> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| UpbitError::decode("ws frame", e.to_string()))?;
    let mut out = Vec::new();
    match v {
        Value::Array(items) => {
            for item in items {
                one(item, &mut out)?;
            }
        }
        other => one(other, &mut out)?,
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
