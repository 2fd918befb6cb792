//! Builders shared by the integration tests (public constructors only).

use chrono::{DateTime, TimeZone, Utc};
use domain::{Krw, Market, OrderIdentifier, Position, Price, TraderId, Volume};
use proptest::prelude::*;
use risk::{BookLevel, OrderBook};
use rust_decimal::Decimal;

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 12, 0, 0).single().unwrap()
}

pub(crate) fn m(code: &str) -> Market {
    code.parse().unwrap()
}

pub(crate) fn ident() -> OrderIdentifier {
    OrderIdentifier::for_attempt(TraderId::new(1).unwrap(), "it", 1, 0).unwrap()
}

/// A book with `levels` asks from `best` upwards, one tick (1 KRW) apart.
pub(crate) fn book(market: &str, best: i64, per_level: i64, levels: i64) -> OrderBook {
    let asks = (0..levels)
        .map(|i| BookLevel {
            price: Price::new(Decimal::from(best + i)).unwrap(),
            volume: Volume::new(Decimal::from(per_level)).unwrap(),
        })
        .collect();
    let bids = (1..=levels)
        .map(|i| BookLevel {
            price: Price::new(Decimal::from(best - i)).unwrap(),
            volume: Volume::new(Decimal::from(per_level)).unwrap(),
        })
        .collect();
    OrderBook::new(m(market), asks, bids).unwrap()
}

pub(crate) fn position(market: &str, entry: i64, size: i64, stop: i64) -> Position {
    let entry = Price::new(Decimal::from(entry)).unwrap();
    let size = Volume::new(Decimal::from(size)).unwrap();
    Position {
        trader_id: TraderId::new(1).unwrap(),
        market: m(market),
        open_time: t0(),
        avg_entry_price: entry,
        size,
        cost_krw: entry * size,
        stop_price: Price::new(Decimal::from(stop)).unwrap(),
        high_water: entry,
        tags: vec![],
    }
}

/// Random open positions: (entry 100..10,000, size 1..2,000, stop 50–99 % of entry).
pub(crate) fn positions() -> impl Strategy<Value = Vec<Position>> {
    prop::collection::vec((100i64..10_000, 1i64..2_000, 50i64..100), 0..6).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (entry, size, pct))| {
                let code = ["KRW-A", "KRW-B", "KRW-C", "KRW-D", "KRW-E", "KRW-F"][i];
                position(code, entry, size, (entry * pct / 100).max(1))
            })
            .collect()
    })
}

pub(crate) fn krw(v: i64) -> Krw {
    Krw::from_i64(v)
}
