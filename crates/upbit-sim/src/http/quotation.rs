//! Quotation endpoints (`upbit-api.md` §2): markets, candles, ticker,
//! orderbook, instruments, trades. Errors carry an integer `name`.

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::Endpoint;
use crate::{
    error::ApiError,
    params::Params,
    units::CandleUnit,
    views,
    wire::{DAY_MS, Millis, day_start, dec_text},
    world::World,
};

/// Runs a Quotation endpoint.
pub fn handle(ep: Endpoint, w: &mut World, p: &Params, now: Millis) -> Result<Value, ApiError> {
    match ep {
        Endpoint::MarketAll => market_all(w, p),
        Endpoint::Candles(unit) => candles(w, unit, p, now),
        Endpoint::Ticker => ticker(w, p, now),
        Endpoint::TickerAll => ticker_all(w, p, now),
        Endpoint::Orderbook => orderbook(w, p, now),
        Endpoint::Instruments => instruments(w, p),
        Endpoint::Trades => trades(w, p, now),
        _ => Err(ApiError::invalid_parameter()),
    }
}

fn parse_bool(raw: Option<&str>) -> Result<bool, ApiError> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::type_mismatch()),
    }
}

fn market_all(w: &World, p: &Params) -> Result<Value, ApiError> {
    let details = parse_bool(p.get("is_details").or_else(|| p.get("isDetails")))?;
    Ok(Value::Array(
        w.markets
            .iter()
            .map(|m| views::market_all_item(&m.info, details))
            .collect(),
    ))
}

/// `count` with a default and a silent upper clamp (Upbit returns 200 for 500).
fn count(p: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match p.get("count") {
        None => Ok(default),
        Some(raw) => {
            let n: i64 = raw.trim().parse().map_err(|_| ApiError::type_mismatch())?;
            if n <= 0 {
                return Err(ApiError::invalid_parameter());
            }
            Ok(usize::try_from(n).unwrap_or(max).min(max))
        }
    }
}

/// Parses a candle `to`: RFC 3339 with `Z` or an offset, or a naive
/// `yyyy-MM-dd HH:mm:ss` / `yyyy-MM-ddTHH:mm:ss` taken as UTC.
pub fn parse_to(raw: &str) -> Option<Millis> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    DateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%z")
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp_millis())
}

fn market_of(w: &World, p: &Params) -> Result<usize, ApiError> {
    let code = p.get("market").ok_or_else(ApiError::missing_parameter)?;
    w.market_index(code).ok_or_else(ApiError::code_not_found)
}

fn candles(w: &mut World, unit: CandleUnit, p: &Params, now: Millis) -> Result<Value, ApiError> {
    let i = market_of(w, p)?;
    let n = count(p, 1, 200)?;
    let to = match p.get("to") {
        None => None,
        Some(raw) => Some(parse_to(raw).ok_or_else(ApiError::invalid_parameter)?),
    };
    if let Some(unit_raw) = p.get("converting_price_unit")
        && (unit != CandleUnit::Days || unit_raw != "KRW")
    {
        return Err(ApiError::invalid_parameter());
    }
    // Second candles exist for the last three months only.
    if unit == CandleUnit::Seconds && to.is_some_and(|t| t < now - 90 * DAY_MS) {
        return Ok(Value::Array(Vec::new()));
    }
    let m = &mut w.markets[i];
    let code = m.info.market.as_str().to_owned();
    let list = m.candles(unit, to, n, now);
    Ok(Value::Array(
        list.iter().map(|c| views::candle(&code, unit, c)).collect(),
    ))
}

fn markets_param(w: &World, p: &Params) -> Result<Vec<usize>, ApiError> {
    let codes = p.list("markets");
    if codes.is_empty() {
        return Err(ApiError::missing_parameter());
    }
    codes
        .iter()
        .map(|c| w.market_index(c).ok_or_else(ApiError::code_not_found))
        .collect()
}

fn ticker(w: &mut World, p: &Params, now: Millis) -> Result<Value, ApiError> {
    let ids = markets_param(w, p)?;
    let mut out = Vec::with_capacity(ids.len());
    for i in ids {
        let m = &mut w.markets[i];
        if let Some(t) = m.ticker(now) {
            out.push(views::ticker(m.info.market.as_str(), &t, now));
        }
    }
    Ok(Value::Array(out))
}

fn ticker_all(w: &mut World, p: &Params, now: Millis) -> Result<Value, ApiError> {
    let quotes = p.list("quote_currencies");
    if quotes.is_empty() {
        return Err(ApiError::missing_parameter());
    }
    let mut out = Vec::new();
    if quotes.iter().any(|q| q == "KRW") {
        for m in &mut w.markets {
            if let Some(t) = m.ticker(now) {
                out.push(views::ticker(m.info.market.as_str(), &t, now));
            }
        }
    }
    Ok(Value::Array(out))
}

/// Aggregation levels a market supports: `0` and tick × 10^k, k = 1..5.
pub(crate) fn supported_levels(tick: Decimal) -> Vec<Decimal> {
    let mut v = vec![Decimal::ZERO];
    let mut l = tick;
    for _ in 0..5 {
        l *= Decimal::TEN;
        v.push(l.normalize());
    }
    v
}

fn orderbook(w: &mut World, p: &Params, now: Millis) -> Result<Value, ApiError> {
    let ids = markets_param(w, p)?;
    let n = count(p, 30, 30)?;
    let level = match p.get("level") {
        None => Decimal::ZERO,
        Some(raw) => Decimal::from_str_exact(raw.trim())
            .map_err(|_| ApiError::type_mismatch())?
            .normalize(),
    };
    let mut out = Vec::with_capacity(ids.len());
    for i in ids {
        let book = w.book(i);
        let m = &w.markets[i];
        let tick = m.tick(m.last().map_or(Decimal::ONE, |x| x.price));
        if !supported_levels(tick).contains(&level) {
            continue;
        }
        let shown = if level.is_zero() {
            book
        } else {
            book.aggregated(level)
        };
        out.push(views::orderbook(
            m.info.market.as_str(),
            &shown,
            n,
            level,
            now,
        ));
    }
    Ok(Value::Array(out))
}

fn instruments(w: &World, p: &Params) -> Result<Value, ApiError> {
    let ids = markets_param(w, p)?;
    Ok(Value::Array(
        ids.iter()
            .map(|&i| {
                let m = &w.markets[i];
                let tick = m.tick(m.last().map_or(Decimal::ONE, |x| x.price));
                json!({
                    "market": m.info.market.as_str(),
                    "quote_currency": "KRW",
                    "tick_size": dec_text(tick),
                    "supported_levels": supported_levels(tick).into_iter().map(dec_text).collect::<Vec<_>>(),
                })
            })
            .collect(),
    ))
}

fn trades(w: &mut World, p: &Params, now: Millis) -> Result<Value, ApiError> {
    let i = market_of(w, p)?;
    let n = count(p, 1, 500)?;
    let days_ago = match p.get("days_ago") {
        None => 0,
        Some(raw) => {
            let d: i64 = raw.trim().parse().map_err(|_| ApiError::type_mismatch())?;
            if !(1..=7).contains(&d) {
                return Err(ApiError::invalid_parameter());
            }
            d
        }
    };
    let day = day_start(now) - days_ago * DAY_MS;
    let before = match p.get("to") {
        None => None,
        Some(raw) => {
            let t = NaiveTime::parse_from_str(raw.trim(), "%H%M%S")
                .or_else(|_| NaiveTime::parse_from_str(raw.trim(), "%H:%M:%S"))
                .map_err(|_| ApiError::invalid_parameter())?;
            Some(day + i64::from(t.num_seconds_from_midnight()) * 1000)
        }
    };
    let cursor = match p.get("cursor") {
        None => None,
        Some(raw) => Some(
            raw.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::type_mismatch())?,
        ),
    };
    let prints = w.markets[i].trades(day, before, cursor, n, now);
    let code = w.markets[i].info.market.as_str().to_owned();
    let mut out = Vec::with_capacity(prints.len());
    for pr in &prints {
        let prev = w.prev_close(i, pr.ts, now);
        out.push(views::trade_tick(&code, pr, prev));
    }
    Ok(Value::Array(out))
}

use chrono::Timelike;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_formats() {
        let want = Some(1_750_773_413_000); // 2025-06-24T13:56:53Z
        assert_eq!(parse_to("2025-06-24T13:56:53Z"), want);
        assert_eq!(parse_to("2025-06-24 13:56:53"), want);
        assert_eq!(parse_to("2025-06-24T13:56:53"), want);
        assert_eq!(parse_to("2025-06-24T22:56:53+09:00"), want);
        assert_eq!(parse_to("yesterday"), None);
    }

    #[test]
    fn levels() {
        let l = supported_levels(Decimal::new(1000, 0));
        assert_eq!(
            l.iter().map(|d| dec_text(*d)).collect::<Vec<_>>(),
            ["0", "10000", "100000", "1000000", "10000000", "100000000"]
        );
    }
}
