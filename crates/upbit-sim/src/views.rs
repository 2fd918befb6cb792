//! JSON shapes of every response and stream message, field for field as in
//! `upbit-api.md` §2, §3 and §8. Quotation values are JSON numbers, Exchange
//! values decimal strings; absent REST fields are omitted (the WebSocket
//! myOrder message sends `null`, as Upbit does).

use domain::{OrdType, Side};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::{
    book::Book,
    engine::{Balance, Order, OrderEventKind, OrderTrade},
    market::{Candle, MarketInfo, TickerData},
    series::Print,
    synthetic::universe::CAUTION_KEYS,
    units::CandleUnit,
    wire::{
        DecStr, Millis, Num, candle_kst, candle_utc, fmt_kst, fmt_utc, kst_micros, kst_seconds,
    },
};

fn num(d: Decimal) -> Value {
    serde_json::to_value(Num(d)).unwrap_or(Value::Null)
}

fn dec(d: Decimal) -> Value {
    Value::String(crate::wire::dec_text(d))
}

fn rate(d: Decimal) -> Value {
    num(d.round_dp(10))
}

/// `/v1/market/all` item.
pub fn market_all_item(info: &MarketInfo, details: bool) -> Value {
    let mut m = Map::new();
    m.insert("market".into(), json!(info.market.as_str()));
    m.insert("korean_name".into(), json!(info.korean_name));
    m.insert("english_name".into(), json!(info.english_name));
    if details {
        let caution: Map<String, Value> = CAUTION_KEYS
            .iter()
            .zip(info.caution)
            .map(|(k, v)| ((*k).to_owned(), Value::Bool(v)))
            .collect();
        m.insert(
            "market_event".into(),
            json!({ "warning": info.warning, "caution": caution }),
        );
    }
    Value::Object(m)
}

/// One candle of `unit`.
pub fn candle(market: &str, unit: CandleUnit, c: &Candle) -> Value {
    let a = &c.agg;
    let mut m = Map::new();
    m.insert("market".into(), json!(market));
    m.insert("candle_date_time_utc".into(), json!(candle_utc(c.start)));
    m.insert("candle_date_time_kst".into(), json!(candle_kst(c.start)));
    m.insert("opening_price".into(), num(a.open));
    m.insert("high_price".into(), num(a.high));
    m.insert("low_price".into(), num(a.low));
    m.insert("trade_price".into(), num(a.close));
    m.insert("timestamp".into(), json!(a.last_ts));
    m.insert("candle_acc_trade_price".into(), num(a.value));
    m.insert("candle_acc_trade_volume".into(), num(a.volume));
    match unit {
        CandleUnit::Minutes(n) => {
            m.insert("unit".into(), json!(n));
        }
        CandleUnit::Days => {
            let prev = c.prev_close.unwrap_or(a.open);
            let change = a.close - prev;
            m.insert("prev_closing_price".into(), num(prev));
            m.insert("change_price".into(), num(change));
            let r = if prev.is_zero() {
                Decimal::ZERO
            } else {
                change / prev
            };
            m.insert("change_rate".into(), rate(r));
        }
        CandleUnit::Weeks | CandleUnit::Months | CandleUnit::Years => {
            m.insert(
                "first_day_of_period".into(),
                json!(fmt_utc(c.start, "%Y-%m-%d")),
            );
        }
        CandleUnit::Seconds => {}
    }
    Value::Object(m)
}

fn change_word(diff: Decimal) -> &'static str {
    match diff.cmp(&Decimal::ZERO) {
        std::cmp::Ordering::Greater => "RISE",
        std::cmp::Ordering::Less => "FALL",
        std::cmp::Ordering::Equal => "EVEN",
    }
}

fn ticker_common(market: &str, t: &TickerData) -> Map<String, Value> {
    let diff = t.last.price - t.prev_close;
    let r = if t.prev_close.is_zero() {
        Decimal::ZERO
    } else {
        diff / t.prev_close
    };
    let mut m = Map::new();
    m.insert("market".into(), json!(market));
    m.insert("trade_timestamp".into(), json!(t.last.ts));
    m.insert("opening_price".into(), num(t.day.open));
    m.insert("high_price".into(), num(t.day.high));
    m.insert("low_price".into(), num(t.day.low));
    m.insert("trade_price".into(), num(t.last.price));
    m.insert("prev_closing_price".into(), num(t.prev_close));
    m.insert("change".into(), json!(change_word(diff)));
    m.insert("change_price".into(), num(diff.abs()));
    m.insert("change_rate".into(), rate(r.abs()));
    m.insert("signed_change_price".into(), num(diff));
    m.insert("signed_change_rate".into(), rate(r));
    m.insert("trade_volume".into(), num(t.last.volume));
    m.insert("acc_trade_price".into(), num(t.day.value));
    m.insert("acc_trade_price_24h".into(), num(t.value_24h));
    m.insert("acc_trade_volume".into(), num(t.day.volume));
    m.insert("acc_trade_volume_24h".into(), num(t.volume_24h));
    m.insert("highest_52_week_price".into(), num(t.high_52w.0));
    m.insert(
        "highest_52_week_date".into(),
        json!(fmt_utc(t.high_52w.1, "%Y-%m-%d")),
    );
    m.insert("lowest_52_week_price".into(), num(t.low_52w.0));
    m.insert(
        "lowest_52_week_date".into(),
        json!(fmt_utc(t.low_52w.1, "%Y-%m-%d")),
    );
    m
}

/// REST `/v1/ticker` item.
pub fn ticker(market: &str, t: &TickerData, now: Millis) -> Value {
    let mut m = ticker_common(market, t);
    m.insert("trade_date".into(), json!(fmt_utc(t.last.ts, "%Y%m%d")));
    m.insert("trade_time".into(), json!(fmt_utc(t.last.ts, "%H%M%S")));
    m.insert("trade_date_kst".into(), json!(fmt_kst(t.last.ts, "%Y%m%d")));
    m.insert("trade_time_kst".into(), json!(fmt_kst(t.last.ts, "%H%M%S")));
    m.insert("timestamp".into(), json!(now));
    Value::Object(m)
}

/// WebSocket `ticker` message (DEFAULT keys).
pub fn ws_ticker(
    market: &str,
    t: &TickerData,
    sides: (Decimal, Decimal),
    now: Millis,
    stream: &str,
) -> Value {
    let mut m = ticker_common(market, t);
    m.remove("market");
    m.insert("type".into(), json!("ticker"));
    m.insert("code".into(), json!(market));
    m.insert("trade_date".into(), json!(fmt_utc(t.last.ts, "%Y%m%d")));
    m.insert("trade_time".into(), json!(fmt_utc(t.last.ts, "%H%M%S")));
    m.insert("ask_bid".into(), json!(taker_word(t.last.taker)));
    m.insert("acc_ask_volume".into(), num(sides.0));
    m.insert("acc_bid_volume".into(), num(sides.1));
    m.insert("market_state".into(), json!("ACTIVE"));
    m.insert("is_trading_suspended".into(), json!(false));
    m.insert("delisting_date".into(), Value::Null);
    m.insert("market_warning".into(), json!("NONE"));
    m.insert("timestamp".into(), json!(now));
    m.insert("stream_type".into(), json!(stream));
    Value::Object(m)
}

fn taker_word(side: Side) -> &'static str {
    match side {
        Side::Bid => "BID",
        Side::Ask => "ASK",
    }
}

/// REST `/v1/trades/ticks` item.
pub fn trade_tick(market: &str, p: &Print, prev_close: Decimal) -> Value {
    json!({
        "market": market,
        "trade_date_utc": fmt_utc(p.ts, "%Y-%m-%d"),
        "trade_time_utc": fmt_utc(p.ts, "%H:%M:%S"),
        "timestamp": p.ts,
        "trade_price": num(p.price),
        "trade_volume": num(p.volume),
        "prev_closing_price": num(prev_close),
        "change_price": num(p.price - prev_close),
        "ask_bid": taker_word(p.taker),
        "sequential_id": p.seq,
    })
}

/// WebSocket `trade` message.
pub fn ws_trade(
    market: &str,
    p: &Print,
    prev_close: Decimal,
    book: &Book,
    now: Millis,
    stream: &str,
) -> Value {
    let diff = p.price - prev_close;
    let best_ask = book.asks.first();
    let best_bid = book.bids.first();
    json!({
        "type": "trade",
        "code": market,
        "trade_price": num(p.price),
        "trade_volume": num(p.volume),
        "ask_bid": taker_word(p.taker),
        "prev_closing_price": num(prev_close),
        "change": change_word(diff),
        "change_price": num(diff.abs()),
        "trade_date": fmt_utc(p.ts, "%Y-%m-%d"),
        "trade_time": fmt_utc(p.ts, "%H:%M:%S"),
        "trade_timestamp": p.ts,
        "timestamp": now,
        "sequential_id": p.seq,
        "best_ask_price": best_ask.map(|l| num(l.price)),
        "best_ask_size": best_ask.map(|l| num(l.size)),
        "best_bid_price": best_bid.map(|l| num(l.price)),
        "best_bid_size": best_bid.map(|l| num(l.size)),
        "stream_type": stream,
    })
}

/// Orderbook body (REST item or WebSocket message without `type`/`code`).
pub fn orderbook_units(book: &Book, count: usize) -> (Value, Decimal, Decimal) {
    let n = count.min(book.asks.len().max(book.bids.len()));
    let mut units = Vec::with_capacity(n);
    let (mut ta, mut tb) = (Decimal::ZERO, Decimal::ZERO);
    for i in 0..n {
        let a = book.asks.get(i);
        let b = book.bids.get(i);
        ta += a.map_or(Decimal::ZERO, |l| l.size);
        tb += b.map_or(Decimal::ZERO, |l| l.size);
        units.push(json!({
            "ask_price": a.map_or(Value::from(0), |l| num(l.price)),
            "bid_price": b.map_or(Value::from(0), |l| num(l.price)),
            "ask_size": a.map_or(Value::from(0), |l| num(l.size)),
            "bid_size": b.map_or(Value::from(0), |l| num(l.size)),
        }));
    }
    (Value::Array(units), ta, tb)
}

/// REST `/v1/orderbook` item.
pub fn orderbook(market: &str, book: &Book, count: usize, level: Decimal, now: Millis) -> Value {
    let (units, ta, tb) = orderbook_units(book, count);
    json!({
        "market": market,
        "timestamp": now,
        "total_ask_size": num(ta),
        "total_bid_size": num(tb),
        "orderbook_units": units,
        "level": num(level),
    })
}

/// WebSocket `orderbook` message.
pub fn ws_orderbook(
    market: &str,
    book: &Book,
    count: usize,
    level: Decimal,
    now: Millis,
    stream: &str,
) -> Value {
    let (units, ta, tb) = orderbook_units(book, count);
    json!({
        "type": "orderbook",
        "code": market,
        "timestamp": now,
        "total_ask_size": num(ta),
        "total_bid_size": num(tb),
        "orderbook_units": units,
        "level": num(level),
        "stream_type": stream,
    })
}

/// WebSocket `candle.*` message.
pub fn ws_candle(market: &str, unit: CandleUnit, c: &Candle, now: Millis, stream: &str) -> Value {
    let a = &c.agg;
    json!({
        "type": unit.ws_name().unwrap_or_else(|| "candle.1m".to_owned()),
        "code": market,
        "candle_date_time_utc": candle_utc(c.start),
        "candle_date_time_kst": candle_kst(c.start),
        "opening_price": num(a.open),
        "high_price": num(a.high),
        "low_price": num(a.low),
        "trade_price": num(a.close),
        "candle_acc_trade_volume": num(a.volume),
        "candle_acc_trade_price": num(a.value),
        "timestamp": now,
        "stream_type": stream,
    })
}

/// Exchange account item.
pub fn account_item(currency: &str, b: &Balance) -> Value {
    json!({
        "currency": currency,
        "balance": dec(b.balance),
        "locked": dec(b.locked),
        "avg_buy_price": dec(b.avg_buy_price),
        "avg_buy_price_modified": b.avg_buy_price_modified,
        "unit_currency": "KRW",
    })
}

fn trend(t: &OrderTrade) -> &'static str {
    match t.taker_side {
        Side::Bid => "up",
        Side::Ask => "down",
    }
}

/// Exchange order object. `with_trades`: GET /v1/order; `with_funds`: list
/// endpoints (`executed_funds`).
pub fn order(o: &Order, with_trades: bool, with_funds: bool) -> Value {
    let mut m = Map::new();
    m.insert("uuid".into(), json!(o.uuid.to_string()));
    m.insert("side".into(), json!(o.side.as_str()));
    m.insert("ord_type".into(), json!(o.ord_type.as_str()));
    if let Some(p) = o.price {
        m.insert("price".into(), dec(p));
    }
    m.insert("state".into(), json!(o.state.as_str()));
    m.insert("market".into(), json!(o.market_code));
    m.insert("created_at".into(), json!(kst_seconds(o.created_at)));
    if let Some(v) = o.volume {
        m.insert("volume".into(), dec(v));
    }
    if !o.funds_based() {
        m.insert("remaining_volume".into(), dec(o.remaining_volume));
    }
    m.insert("executed_volume".into(), dec(o.executed_volume));
    if with_funds {
        m.insert("executed_funds".into(), dec(o.executed_funds));
    }
    m.insert("reserved_fee".into(), dec(o.reserved_fee));
    m.insert("remaining_fee".into(), dec(o.remaining_fee));
    m.insert("paid_fee".into(), dec(o.paid_fee));
    m.insert("locked".into(), dec(o.locked));
    m.insert("prevented_volume".into(), dec(o.prevented_volume));
    m.insert("prevented_locked".into(), dec(o.prevented_locked));
    m.insert("trades_count".into(), json!(o.trades.len()));
    if let Some(t) = o.time_in_force {
        m.insert("time_in_force".into(), json!(t.as_str()));
    }
    if let Some(s) = o.smp_type {
        m.insert("smp_type".into(), json!(s.as_str()));
    }
    if let Some(id) = &o.identifier {
        m.insert("identifier".into(), json!(id));
    }
    if with_trades {
        let trades: Vec<Value> = o
            .trades
            .iter()
            .map(|t| {
                json!({
                    "market": o.market_code,
                    "uuid": t.uuid.to_string(),
                    "price": dec(t.price),
                    "volume": dec(t.volume),
                    "funds": dec(t.funds),
                    "trend": trend(t),
                    "created_at": kst_micros(t.ts),
                    "side": o.side.as_str(),
                })
            })
            .collect();
        m.insert("trades".into(), Value::Array(trades));
    }
    Value::Object(m)
}

/// WebSocket `myOrder` message for one order event.
pub fn my_order(o: &Order, kind: OrderEventKind, now: Millis) -> Value {
    let trade = match kind {
        OrderEventKind::Trade(i) => o.trades.get(i),
        _ => None,
    };
    let state = match kind {
        OrderEventKind::Created => "wait",
        OrderEventKind::Trade(_) => "trade",
        OrderEventKind::Done => "done",
        OrderEventKind::Cancel => "cancel",
        OrderEventKind::Prevented => "prevented",
    };
    let avg = if o.executed_volume.is_zero() {
        Decimal::ZERO
    } else {
        (o.executed_funds / o.executed_volume).round_dp(8)
    };
    let opt = |d: Option<Decimal>| d.map_or(Value::Null, num);
    let (price, volume) = match trade {
        Some(t) => (Some(t.price), Some(t.volume)),
        None => (o.price, o.volume),
    };
    let remaining =
        (!o.funds_based() || o.ord_type == OrdType::Limit).then_some(o.remaining_volume);
    json!({
        "type": "myOrder",
        "code": o.market_code,
        "uuid": o.uuid.to_string(),
        "ask_bid": taker_word(o.side),
        "order_type": o.ord_type.as_str(),
        "state": state,
        "trade_uuid": trade.map(|t| t.uuid.to_string()),
        "price": opt(price),
        "avg_price": num(avg),
        "volume": opt(volume),
        "remaining_volume": opt(remaining),
        "executed_volume": num(o.executed_volume),
        "trades_count": o.trades.len(),
        "reserved_fee": num(o.reserved_fee),
        "remaining_fee": num(o.remaining_fee),
        "paid_fee": num(o.paid_fee),
        "locked": num(o.locked),
        "executed_funds": num(o.executed_funds),
        "time_in_force": o.time_in_force.map(domain::TimeInForce::as_str),
        "trade_fee": trade.map(|t| num(t.fee)),
        "is_maker": trade.map(|t| t.is_maker),
        "identifier": o.identifier,
        "smp_type": o.smp_type.map(super::engine::SmpType::as_str),
        "prevented_volume": num(o.prevented_volume),
        "prevented_locked": num(o.prevented_locked),
        "trade_timestamp": trade.map(|t| t.ts),
        "order_timestamp": o.created_at,
        "timestamp": now,
        "stream_type": "REALTIME",
    })
}

/// WebSocket `myAsset` message for the changed currencies.
pub fn my_asset(asset_uuid: &str, assets: &[(String, Balance)], now: Millis) -> Value {
    let items: Vec<Value> = assets
        .iter()
        .map(|(c, b)| json!({ "currency": c, "balance": num(b.balance), "locked": num(b.locked) }))
        .collect();
    json!({
        "type": "myAsset",
        "asset_uuid": asset_uuid,
        "assets": items,
        "asset_timestamp": now,
        "timestamp": now,
        "stream_type": "REALTIME",
    })
}

/// Exchange decimal string as a JSON value (used by the chance endpoint).
pub fn dec_value(d: Decimal) -> Value {
    serde_json::to_value(DecStr(d)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests;
