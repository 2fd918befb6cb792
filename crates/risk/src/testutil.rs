//! Builders shared by the unit tests (compiled for tests only).

use chrono::{DateTime, TimeZone, Utc};
use domain::{Krw, Market, Position, Price, TraderId, Volume};
use rust_decimal::Decimal;

use crate::{BookLevel, OrderBook};

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 12, 0, 0).single().unwrap()
}

pub(crate) fn m(code: &str) -> Market {
    code.parse().unwrap()
}

pub(crate) fn price(v: Decimal) -> Price {
    Price::new(v).unwrap()
}

pub(crate) fn lvl(p: Decimal, v: Decimal) -> BookLevel {
    BookLevel {
        price: price(p),
        volume: Volume::new(v).unwrap(),
    }
}

/// A deep book around 1,000 KRW: 10 ask levels 1000..1009 with 10,000 units each
/// (≈ 10 M KRW per level), bids 999 downwards.
pub(crate) fn deep_book(market: &str) -> OrderBook {
    let asks = (0..10)
        .map(|i| lvl(Decimal::from(1000 + i), Decimal::from(10_000)))
        .collect();
    let bids = (0..10)
        .map(|i| lvl(Decimal::from(999 - i), Decimal::from(10_000)))
        .collect();
    OrderBook::new(m(market), asks, bids).unwrap()
}

/// A position whose risk to stop is `cost − stop × size` with the given numbers.
pub(crate) fn position(market: &str, entry: Decimal, size: Decimal, stop: Decimal) -> Position {
    let size = Volume::new(size).unwrap();
    let entry = price(entry);
    Position {
        trader_id: TraderId::new(1).unwrap(),
        market: m(market),
        open_time: t0(),
        avg_entry_price: entry,
        size,
        cost_krw: entry * size,
        stop_price: price(stop),
        high_water: entry,
        tags: vec![],
    }
}

pub(crate) fn krw(v: i64) -> Krw {
    Krw::from_i64(v)
}
