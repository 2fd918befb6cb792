//! Field sets and JSON types against the examples in `upbit-api.md`.

use std::collections::BTreeSet;

use domain::{Market, OrderState, TimeInForce};
use rust_decimal_macros::dec;
use uuid::Uuid;

use super::*;
use crate::series::Agg;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn agg() -> Agg {
    Agg {
        open: dec!(145831000),
        high: dec!(145831000),
        low: dec!(145752000),
        close: dec!(145759000),
        volume: dec!(27.58904602),
        value: dec!(4022470467.03403),
        last_ts: 1_751_371_259_833,
    }
}

#[test]
fn minute_and_day_candles() {
    let c = Candle {
        start: 1_751_371_200_000,
        agg: agg(),
        prev_close: None,
    };
    let v = candle("KRW-BTC", CandleUnit::Minutes(1), &c);
    assert_eq!(
        keys(&v),
        set(&[
            "market",
            "candle_date_time_utc",
            "candle_date_time_kst",
            "opening_price",
            "high_price",
            "low_price",
            "trade_price",
            "timestamp",
            "candle_acc_trade_price",
            "candle_acc_trade_volume",
            "unit"
        ])
    );
    assert_eq!(v["candle_date_time_utc"], "2025-07-01T12:00:00");
    assert_eq!(v["candle_date_time_kst"], "2025-07-01T21:00:00");
    assert_eq!(v["opening_price"].to_string(), "145831000");
    assert_eq!(
        v["candle_acc_trade_price"].as_f64(),
        Some(4_022_470_467.034_03)
    );
    let d = Candle {
        prev_close: Some(dec!(147996000)),
        ..c
    };
    let v = candle("KRW-BTC", CandleUnit::Days, &d);
    assert_eq!(v["change_price"].as_i64(), Some(145_759_000 - 147_996_000));
    assert_eq!(v["change_rate"].as_f64(), Some(-0.015_115_273_4));
    assert!(v.get("unit").is_none());
    let w = candle("KRW-BTC", CandleUnit::Weeks, &c);
    assert_eq!(w["first_day_of_period"], "2025-07-01");
}

fn order() -> Order {
    Order {
        uuid: Uuid::nil(),
        account: 0,
        market: 0,
        market_code: "KRW-USDT".into(),
        base: "USDT".into(),
        side: Side::Ask,
        ord_type: OrdType::Market,
        price: None,
        volume: Some(dec!(5.377594)),
        time_in_force: None,
        smp_type: None,
        identifier: None,
        state: OrderState::Done,
        created_at: 1_754_725_440_000,
        remaining_volume: dec!(0),
        executed_volume: dec!(5.377594),
        executed_funds: dec!(7394.19175),
        reserved_fee: dec!(0),
        remaining_fee: dec!(0),
        paid_fee: dec!(3.697095875),
        locked: dec!(0),
        prevented_volume: dec!(0),
        prevented_locked: dec!(0),
        reserve_rate: dec!(0),
        best_limit: None,
        trades: vec![OrderTrade {
            uuid: Uuid::nil(),
            price: dec!(1375),
            volume: dec!(5.377594),
            funds: dec!(7394.19175),
            fee: dec!(3.697095875),
            is_maker: false,
            taker_side: Side::Ask,
            ts: 1_754_725_440_597,
        }],
        resting: false,
        prevented: false,
    }
}

#[test]
fn order_matches_the_real_market_sell_example() {
    let v = order_json();
    assert_eq!(
        keys(&v),
        set(&[
            "market",
            "uuid",
            "side",
            "ord_type",
            "state",
            "created_at",
            "volume",
            "remaining_volume",
            "executed_volume",
            "reserved_fee",
            "remaining_fee",
            "paid_fee",
            "locked",
            "prevented_volume",
            "prevented_locked",
            "trades_count",
            "trades"
        ])
    );
    assert_eq!(v["created_at"], "2025-08-09T16:44:00+09:00");
    assert_eq!(v["paid_fee"], "3.697095875");
    assert_eq!(v["remaining_volume"], "0");
    assert_eq!(v["trades_count"], 1);
    let t = &v["trades"][0];
    assert_eq!(
        keys(t),
        set(&[
            "market",
            "uuid",
            "price",
            "volume",
            "funds",
            "trend",
            "created_at",
            "side"
        ])
    );
    assert_eq!(t["created_at"], "2025-08-09T16:44:00.597000+09:00");
    assert_eq!(t["trend"], "down");
    assert_eq!(t["funds"], "7394.19175");
}

fn order_json() -> Value {
    super::order(&order(), true, false)
}

#[test]
fn list_items_have_executed_funds_and_optional_fields() {
    let mut o = order();
    o.ord_type = OrdType::Limit;
    o.price = Some(dec!(1375));
    o.time_in_force = Some(TimeInForce::PostOnly);
    o.identifier = Some("my-1".into());
    let v = super::order(&o, false, true);
    assert_eq!(v["executed_funds"], "7394.19175");
    assert_eq!(v["time_in_force"], "post_only");
    assert_eq!(v["identifier"], "my-1");
    assert!(v.get("trades").is_none());
    assert!(v.get("smp_type").is_none());
    // Market buy: no volume, no remaining_volume.
    let mut b = order();
    b.side = Side::Bid;
    b.ord_type = OrdType::Price;
    b.price = Some(dec!(10000));
    b.volume = None;
    let v = super::order(&b, false, false);
    assert!(v.get("volume").is_none() && v.get("remaining_volume").is_none());
}

#[test]
fn ticker_field_set_is_exact() {
    let p = Print {
        ts: 1_751_606_040_365,
        price: dec!(148601000),
        volume: dec!(0.00016823),
        taker: Side::Bid,
        seq: 17_516_060_403_650_000,
    };
    let t = TickerData {
        last: p,
        day: agg(),
        prev_close: dec!(148737000),
        volume_24h: dec!(1198.26954807),
        value_24h: dec!(178448329314.96686),
        high_52w: (dec!(163325000), 1_737_331_200_000),
        low_52w: (dec!(72100000), 1_722_816_000_000),
    };
    let v = ticker("KRW-BTC", &t, 1_751_606_040_403);
    assert_eq!(
        keys(&v),
        set(&[
            "market",
            "trade_date",
            "trade_time",
            "trade_date_kst",
            "trade_time_kst",
            "trade_timestamp",
            "opening_price",
            "high_price",
            "low_price",
            "trade_price",
            "prev_closing_price",
            "change",
            "change_price",
            "change_rate",
            "signed_change_price",
            "signed_change_rate",
            "trade_volume",
            "acc_trade_price",
            "acc_trade_price_24h",
            "acc_trade_volume",
            "acc_trade_volume_24h",
            "highest_52_week_price",
            "highest_52_week_date",
            "lowest_52_week_price",
            "lowest_52_week_date",
            "timestamp"
        ])
    );
    assert_eq!(v["change"], "FALL");
    assert_eq!(v["trade_date"], "20250704");
    assert_eq!(v["trade_time"], "051400");
    assert_eq!(v["trade_time_kst"], "141400");
    assert_eq!(v["signed_change_price"].as_i64(), Some(-136_000));
    assert_eq!(v["change_rate"].as_f64(), Some(0.000_914_365_6));
    assert_eq!(v["highest_52_week_date"], "2025-01-20");
    let tick = trade_tick("KRW-BTC", &p, dec!(148737000));
    assert_eq!(tick["sequential_id"].as_i64(), Some(17_516_060_403_650_000));
    assert_eq!(tick["ask_bid"], "BID");
    assert_eq!(tick["trade_time_utc"], "05:14:00");
}

#[test]
fn market_all_details() {
    let info = MarketInfo {
        market: Market::parse("m", "KRW-BTC").unwrap(),
        korean_name: "비트코인".into(),
        english_name: "Bitcoin".into(),
        warning: true,
        caution: [false, true, false, false, false],
        offline: false,
        tick_override: None,
    };
    assert_eq!(
        keys(&market_all_item(&info, false)),
        set(&["market", "korean_name", "english_name"])
    );
    let v = market_all_item(&info, true);
    assert_eq!(v["market_event"]["warning"], true);
    assert_eq!(v["market_event"]["caution"]["TRADING_VOLUME_SOARING"], true);
    assert_eq!(v["market_event"]["caution"].as_object().unwrap().len(), 5);
}
