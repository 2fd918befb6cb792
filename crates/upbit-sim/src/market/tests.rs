//! Replay cursor, candle paging, trades paging, ticker and book consumption.

use rust_decimal_macros::dec;

use super::*;
use crate::{
    series::{Bar, PrintParams},
    wire::MINUTE_MS,
};

const T0: Millis = 1_735_689_600_000; // 2025-01-01T00:00:00Z

fn bar(o: Decimal, c: Decimal, v: Decimal) -> Bar {
    Bar {
        open: o,
        high: o.max(c) + dec!(1000),
        low: o.min(c) - dec!(1000),
        close: c,
        volume: v,
        value: c * v,
    }
}

/// 10 one-minute bars with minute 3 empty.
fn market(now: Millis) -> MarketState {
    let mut bars: Vec<Bar> = (0..10)
        .map(|i| {
            let o = dec!(100_000_000) + Decimal::from(i * 10_000);
            bar(o, o + dec!(10_000), dec!(1.5))
        })
        .collect();
    bars[3].volume = Decimal::ZERO;
    let series = Series::new(
        T0,
        MINUTE_MS,
        bars,
        PrintParams {
            seed: 1,
            typical_volume: dec!(1.5),
        },
        true,
    );
    let info = MarketInfo {
        market: Market::parse("market", "KRW-BTC").unwrap(),
        korean_name: "비트코인".into(),
        english_name: "Bitcoin".into(),
        warning: false,
        caution: [false; 5],
        offline: false,
        tick_override: None,
    };
    MarketState::new(info, series, 1, now)
}

#[test]
fn advance_replays_each_print_once_in_order() {
    let mut m = market(T0 + 30_000);
    let before = m.last().unwrap();
    let mut out = Vec::new();
    m.advance(T0 + 5 * MINUTE_MS, &mut out);
    assert!(
        out.iter()
            .all(|p| p.ts > T0 + 30_000 && p.ts <= T0 + 5 * MINUTE_MS)
    );
    assert!(out.first().unwrap().ts > before.ts);
    for w in out.windows(2) {
        assert!(w[0].ts < w[1].ts);
    }
    let n = out.len();
    m.advance(T0 + 5 * MINUTE_MS, &mut out);
    assert_eq!(out.len(), n, "no print twice");
    let all = m.prints_between(T0 + 30_001, T0 + 5 * MINUTE_MS + 1, T0 + 5 * MINUTE_MS);
    assert_eq!(all, out);
    // Past the end the last price stays.
    m.advance(T0 + 100 * MINUTE_MS, &mut out);
    assert_eq!(m.last().unwrap().price, dec!(100_100_000));
}

#[test]
fn candles_newest_first_to_exclusive_and_gaps() {
    let now = T0 + 9 * MINUTE_MS + 59_999;
    let mut m = market(now);
    let c = m.candles(CandleUnit::Minutes(1), None, 200, now);
    assert_eq!(c.len(), 9, "10 minutes, one without trades");
    assert_eq!(c[0].start, T0 + 9 * MINUTE_MS);
    assert!(c.windows(2).all(|w| w[0].start > w[1].start));
    assert!(!c.iter().any(|k| k.start == T0 + 3 * MINUTE_MS));
    // `to` is exclusive: candles starting before 00:05 → 00:04 first.
    let c = m.candles(CandleUnit::Minutes(1), Some(T0 + 5 * MINUTE_MS), 2, now);
    assert_eq!(
        c.iter().map(|k| k.start).collect::<Vec<_>>(),
        vec![T0 + 4 * MINUTE_MS, T0 + 2 * MINUTE_MS]
    );
    // 5-minute candles aggregate the bars.
    let c = m.candles(CandleUnit::Minutes(5), None, 10, now);
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].agg.volume, dec!(6)); // four non-empty bars
    assert_eq!(c[1].agg.open, dec!(100_000_000));
    // The open candle only counts prints up to now.
    let early = T0 + 20_000;
    let mut m = market(early);
    let c = m.candles(CandleUnit::Minutes(1), None, 1, early);
    assert!(c[0].agg.volume < dec!(1.5));
    assert!(c[0].agg.last_ts <= early);
    // Days carry the previous close (none before the data).
    let c = m.candles(CandleUnit::Days, None, 5, early);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].prev_close, None);
}

#[test]
fn trades_page_backwards_with_a_cursor() {
    let now = T0 + 10 * MINUTE_MS;
    let m = market(now);
    let first = m.trades(T0, None, None, 5, now);
    assert_eq!(first.len(), 5);
    assert!(first.windows(2).all(|w| w[0].seq > w[1].seq));
    let next = m.trades(T0, None, Some(first[4].seq), 5, now);
    assert!(next[0].seq < first[4].seq);
    let all = m.trades(T0, None, None, 500, now);
    let total: Decimal = all.iter().map(|p| p.volume).sum();
    assert_eq!(total, dec!(13.5));
    let before = m.trades(T0, Some(T0 + MINUTE_MS), None, 500, now);
    assert!(before.iter().all(|p| p.ts < T0 + MINUTE_MS));
    // A different day has none.
    assert!(m.trades(T0 - DAY_MS, None, None, 5, now).is_empty());
}

#[test]
fn ticker_and_own_trades() {
    let now = T0 + 10 * MINUTE_MS;
    let mut m = market(now);
    let t = m.ticker(now).unwrap();
    assert_eq!(t.day.open, dec!(100_000_000));
    assert_eq!(t.day.close, dec!(100_100_000));
    assert_eq!(t.volume_24h, dec!(13.5));
    assert_eq!(t.prev_close, t.day.open);
    let p = m.record_trade(now, dec!(100_200_000), dec!(0.5), Side::Bid);
    assert!(p.ts >= t.last.ts);
    let t = m.ticker(now).unwrap();
    assert_eq!(t.last.price, dec!(100_200_000));
    assert_eq!(t.day.volume, dec!(14));
    assert_eq!(t.high_52w.0, t.day.high);
}

#[test]
fn consumption_thins_the_synthetic_book_until_the_next_print() {
    let now = T0 + 90_000;
    let mut m = market(now);
    let book = m.synthetic_book();
    let best = book.asks[0];
    m.consume(Side::Ask, best.price, best.size);
    assert_eq!(m.synthetic_book().asks[0].price, book.asks[1].price);
    let mut out = Vec::new();
    m.advance(now + MINUTE_MS, &mut out);
    assert!(!out.is_empty());
    assert_eq!(m.synthetic_book().asks.len(), crate::book::MAX_LEVELS);
}
