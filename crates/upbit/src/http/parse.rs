//! Wire model → domain type conversion, and JSON decoding into
//! [`UpbitError::Decode`](crate::http::error::UpbitError::Decode) (never a panic) for any body.
//!
//! Each `*_from_slice` function goes from raw bytes to domain values in one
//! step; the clients, the fuzz tests and the bench use them.

use domain::{Currency, Krw, Market, Price, ValidationError, Volume, tick::VOLUME_DECIMALS};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::DeserializeOwned;

use crate::{
    common::{
        enums::{CandleInterval, Change, parse_ask_bid},
        parse::{millis_to_utc, naive_utc},
    },
    http::{
        error::UpbitError,
        models::{
            AccountWire, CandleWire, InstrumentWire, MarketWire, OrderbookWire, TickerWire,
            TradeTickWire,
        },
    },
    model::{Balance, Candle, Instrument, MarketListing, Orderbook, OrderbookLevel, Ticker, Trade},
};

/// Decodes a JSON body, naming `context` in the error.
pub fn decode_json<T: DeserializeOwned>(context: &str, body: &[u8]) -> Result<T, UpbitError> {
    serde_json::from_slice(body).map_err(|e| UpbitError::decode(context, e.to_string()))
}

fn invalid(context: &str) -> impl Fn(ValidationError) -> UpbitError + '_ {
    move |e| UpbitError::decode(context, e.to_string())
}

/// A strictly positive price, naming `field`.
pub fn price(field: &str, v: Decimal) -> Result<Price, ValidationError> {
    Price::new(v).map_err(|e| e.in_field(field))
}

/// A Quotation volume (sent as a double): non-negative; more than 8 decimals
/// is float noise and is rounded to Upbit's 8-decimal precision.
pub fn quote_volume(field: &str, v: Decimal) -> Result<Volume, ValidationError> {
    let v = if v.normalize().scale() > VOLUME_DECIMALS {
        v.round_dp_with_strategy(VOLUME_DECIMALS, RoundingStrategy::MidpointNearestEven)
    } else {
        v
    };
    Volume::new(v).map_err(|e| e.in_field(field))
}

/// A market code that must be a KRW market.
pub fn market(field: &str, raw: &str) -> Result<Market, ValidationError> {
    Market::parse(field, raw)
}

fn currency(field: &str, raw: &str) -> Result<Currency, ValidationError> {
    Currency::parse(field, raw)
}

/// A market-list item; `Ok(None)` for non-KRW markets (FIX-1).
pub fn market_listing(w: &MarketWire) -> Result<Option<MarketListing>, ValidationError> {
    if !w.market.starts_with("KRW-") {
        return Ok(None);
    }
    let event = w.market_event.clone().unwrap_or_default();
    let warning = event.warning
        || w.market_warning
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("CAUTION"));
    Ok(Some(MarketListing {
        market: market("market", &w.market)?,
        korean_name: w.korean_name.clone(),
        english_name: w.english_name.clone(),
        warning,
        cautions: event.caution,
    }))
}

/// One candle of a response for `interval`.
pub fn candle(w: &CandleWire, interval: CandleInterval) -> Result<Candle, ValidationError> {
    if let (Some(unit), CandleInterval::Minutes(u)) = (w.unit, interval)
        && unit != u.minutes()
    {
        return Err(ValidationError::new(
            "unit",
            format!("expected {}-minute candles, got unit {unit}", u.minutes()),
        ));
    }
    let open = price("opening_price", w.opening_price)?;
    let high = price("high_price", w.high_price)?;
    let low = price("low_price", w.low_price)?;
    let close = price("trade_price", w.trade_price)?;
    if low > high || open > high || close > high || open < low || close < low {
        return Err(ValidationError::new(
            "high_price",
            format!("inconsistent OHLC o={open} h={high} l={low} c={close}"),
        ));
    }
    Ok(Candle {
        market: market("market", &w.market)?,
        interval,
        open_time: naive_utc("candle_date_time_utc", &w.candle_date_time_utc)?,
        open,
        high,
        low,
        close,
        volume: quote_volume("candle_acc_trade_volume", w.candle_acc_trade_volume)?,
        value: Krw::from_decimal(w.candle_acc_trade_price),
        last_trade_at: millis_to_utc("timestamp", w.timestamp)?,
    })
}

/// Parses `RISE`/`EVEN`/`FALL`.
pub fn change(raw: &str) -> Result<Change, ValidationError> {
    match raw {
        "RISE" => Ok(Change::Rise),
        "EVEN" => Ok(Change::Even),
        "FALL" => Ok(Change::Fall),
        other => Err(ValidationError::new(
            "change",
            format!("expected RISE, EVEN or FALL, got {other:?}"),
        )),
    }
}

fn opt_price(field: &str, v: Option<Decimal>) -> Result<Option<Price>, ValidationError> {
    match v {
        Some(d) if !d.is_zero() => price(field, d).map(Some),
        _ => Ok(None),
    }
}

/// One REST ticker.
pub fn ticker(w: &TickerWire) -> Result<Ticker, ValidationError> {
    Ok(Ticker {
        market: market("market", &w.market)?,
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
        market_state: None,
        last_taker_side: None,
    })
}

/// One level; `None` when the side is empty at this depth (price or size 0).
fn level(field: &str, p: Decimal, s: Decimal) -> Result<Option<OrderbookLevel>, ValidationError> {
    if p.is_zero() || s.is_zero() {
        return Ok(None);
    }
    Ok(Some(OrderbookLevel {
        price: price(field, p)?,
        size: quote_volume(field, s)?,
    }))
}

/// One order book, split into asks and bids.
pub fn orderbook(w: &OrderbookWire) -> Result<Orderbook, ValidationError> {
    let mut asks = Vec::with_capacity(w.orderbook_units.len());
    let mut bids = Vec::with_capacity(w.orderbook_units.len());
    for u in &w.orderbook_units {
        if let Some(l) = level("ask_price", u.ask_price, u.ask_size)? {
            asks.push(l);
        }
        if let Some(l) = level("bid_price", u.bid_price, u.bid_size)? {
            bids.push(l);
        }
    }
    Ok(Orderbook {
        market: market("market", &w.market)?,
        timestamp: millis_to_utc("timestamp", w.timestamp)?,
        asks,
        bids,
        total_ask_size: quote_volume("total_ask_size", w.total_ask_size)?,
        total_bid_size: quote_volume("total_bid_size", w.total_bid_size)?,
        level: w.level.unwrap_or_default(),
    })
}

/// One instrument.
pub fn instrument(w: &InstrumentWire) -> Result<Instrument, ValidationError> {
    let supported_levels = w
        .supported_levels
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => crate::common::parse::decimal_from_str(s),
            serde_json::Value::Number(n) => crate::common::parse::decimal_from_str(&n.to_string()),
            other => Err(format!("expected a number, got {other}")),
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| ValidationError::new("supported_levels", m))?;
    Ok(Instrument {
        market: market("market", &w.market)?,
        quote_currency: currency("quote_currency", &w.quote_currency)?,
        tick_size: price("tick_size", w.tick_size)?,
        supported_levels,
    })
}

/// One public trade.
pub fn trade(w: &TradeTickWire) -> Result<Trade, ValidationError> {
    Ok(Trade {
        market: market("market", &w.market)?,
        price: price("trade_price", w.trade_price)?,
        volume: quote_volume("trade_volume", w.trade_volume)?,
        taker_side: parse_ask_bid("ask_bid", &w.ask_bid)?,
        traded_at: millis_to_utc("timestamp", w.timestamp)?,
        sequential_id: w.sequential_id,
        prev_closing_price: opt_price("prev_closing_price", w.prev_closing_price)?,
        change_price: w.change_price,
    })
}

/// One account balance.
pub fn balance(w: &AccountWire) -> Result<Balance, ValidationError> {
    let check_non_negative = |field: &str, v: Decimal| {
        if v.is_sign_negative() && !v.is_zero() {
            Err(ValidationError::new(
                field,
                format!("must not be negative, got {v}"),
            ))
        } else {
            Ok(v.normalize())
        }
    };
    Ok(Balance {
        currency: currency("currency", &w.currency)?,
        balance: check_non_negative("balance", w.balance)?,
        locked: check_non_negative("locked", w.locked)?,
        avg_buy_price: opt_price("avg_buy_price", w.avg_buy_price)?,
        avg_buy_price_modified: w.avg_buy_price_modified,
        unit_currency: match &w.unit_currency {
            Some(c) => currency("unit_currency", c)?,
            None => Currency::krw(),
        },
    })
}

/// Candles from a raw body, **oldest first** (the wire is newest first).
pub fn candles_from_slice(
    body: &[u8],
    interval: CandleInterval,
) -> Result<Vec<Candle>, UpbitError> {
    let ctx = "candles";
    let wire: Vec<CandleWire> = decode_json(ctx, body)?;
    let mut out = wire
        .iter()
        .map(|w| candle(w, interval))
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid(ctx))?;
    out.sort_by_key(|c| c.open_time);
    Ok(out)
}

/// KRW market listings from a raw body (other quote markets skipped).
pub fn markets_from_slice(body: &[u8]) -> Result<Vec<MarketListing>, UpbitError> {
    let ctx = "market/all";
    let wire: Vec<MarketWire> = decode_json(ctx, body)?;
    let mut out = Vec::with_capacity(wire.len());
    for w in &wire {
        if let Some(m) = market_listing(w).map_err(invalid(ctx))? {
            out.push(m);
        }
    }
    Ok(out)
}

/// Tickers from a raw body.
pub fn tickers_from_slice(body: &[u8]) -> Result<Vec<Ticker>, UpbitError> {
    let ctx = "ticker";
    let wire: Vec<TickerWire> = decode_json(ctx, body)?;
    wire.iter()
        .map(ticker)
        .collect::<Result<_, _>>()
        .map_err(invalid(ctx))
}

/// Order books from a raw body.
pub fn orderbooks_from_slice(body: &[u8]) -> Result<Vec<Orderbook>, UpbitError> {
    let ctx = "orderbook";
    let wire: Vec<OrderbookWire> = decode_json(ctx, body)?;
    wire.iter()
        .map(orderbook)
        .collect::<Result<_, _>>()
        .map_err(invalid(ctx))
}

/// Instruments from a raw body.
pub fn instruments_from_slice(body: &[u8]) -> Result<Vec<Instrument>, UpbitError> {
    let ctx = "orderbook/instruments";
    let wire: Vec<InstrumentWire> = decode_json(ctx, body)?;
    wire.iter()
        .map(instrument)
        .collect::<Result<_, _>>()
        .map_err(invalid(ctx))
}

/// Trades from a raw body (wire order: newest first).
pub fn trades_from_slice(body: &[u8]) -> Result<Vec<Trade>, UpbitError> {
    let ctx = "trades/ticks";
    let wire: Vec<TradeTickWire> = decode_json(ctx, body)?;
    wire.iter()
        .map(trade)
        .collect::<Result<_, _>>()
        .map_err(invalid(ctx))
}

/// Balances from a raw body.
pub fn balances_from_slice(body: &[u8]) -> Result<Vec<Balance>, UpbitError> {
    let ctx = "accounts";
    let wire: Vec<AccountWire> = decode_json(ctx, body)?;
    wire.iter()
        .map(balance)
        .collect::<Result<_, _>>()
        .map_err(invalid(ctx))
}

#[cfg(test)]
mod tests;
