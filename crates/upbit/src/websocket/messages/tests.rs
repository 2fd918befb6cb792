//! Every documented WebSocket message parses to exact typed values; bad
//! frames are typed errors.

use proptest::prelude::*;
use rust_decimal_macros::dec;

use super::*;
use crate::common::{
    enums::{Change, MinuteUnit},
    parse::naive_utc,
};

macro_rules! data {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/", $name)).as_slice()
    };
}

fn single(bytes: &[u8]) -> WsMessage {
    let mut v = parse_frame(bytes).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

#[test]
fn ticker() {
    let WsMessage::Ticker { ticker, stream } = single(data!("ws_ticker.json")) else {
        panic!("not a ticker")
    };
    assert_eq!(stream, StreamType::Realtime);
    assert_eq!(ticker.market.as_str(), "KRW-BTC");
    assert_eq!(ticker.trade_price.get(), dec!(148601000));
    assert_eq!(ticker.change, Change::Fall);
    assert_eq!(ticker.signed_change_rate, dec!(-0.0009143656));
    assert_eq!(ticker.acc_trade_price.get(), dec!(31615925234.05438));
    assert_eq!(ticker.market_state.as_deref(), Some("ACTIVE"));
    assert_eq!(ticker.last_taker_side, Some(Side::Bid));
}

#[test]
fn list_format_frames_hold_several_messages() {
    let v = parse_frame(data!("ws_ticker_list.json")).unwrap();
    assert_eq!(v.len(), 1);
    let WsMessage::Ticker { ticker, stream } = &v[0] else {
        panic!("not a ticker")
    };
    assert_eq!(*stream, StreamType::Snapshot);
    assert_eq!(ticker.market.as_str(), "KRW-ETH");
    assert_eq!(ticker.last_taker_side, Some(Side::Ask));
}

#[test]
fn trade() {
    let WsMessage::Trade {
        trade,
        best_ask,
        best_bid,
        ..
    } = single(data!("ws_trade.json"))
    else {
        panic!("not a trade")
    };
    assert_eq!(trade.sequential_id, 17_516_060_403_650_000);
    assert_eq!(trade.volume.get(), dec!(0.00016823));
    assert_eq!(trade.taker_side, Side::Bid);
    assert_eq!(trade.traded_at.timestamp_millis(), 1_751_606_040_365);
    assert_eq!(best_ask.unwrap().size.get(), dec!(0.012));
    assert_eq!(best_bid.unwrap().price.get(), dec!(148600000));
}

#[test]
fn orderbook_and_candle() {
    let WsMessage::Orderbook { orderbook, .. } = single(data!("ws_orderbook.json")) else {
        panic!("not an orderbook")
    };
    assert_eq!(orderbook.best_bid().unwrap().size.get(), dec!(0.04296774));
    let WsMessage::Candle { candle, .. } = single(data!("ws_candle_1m.json")) else {
        panic!("not a candle")
    };
    assert_eq!(candle.interval, CandleInterval::Minutes(MinuteUnit::M1));
    assert_eq!(
        candle.open_time,
        naive_utc("t", "2025-01-02T04:28:00").unwrap()
    );
    assert_eq!(candle.value.get(), dec!(860750.2324));
    assert_eq!(candle.volume.get(), dec!(0.00606119));
}

#[test]
fn my_order_and_my_asset() {
    let WsMessage::MyOrder(o) = single(data!("ws_my_order.json")) else {
        panic!("not myOrder")
    };
    assert_eq!(o.state, MyOrderState::Trade);
    assert_eq!(o.side, Side::Bid);
    assert_eq!(o.ord_type, OrdType::Limit);
    assert_eq!(
        o.trade_uuid.as_deref(),
        Some("68315169-fba4-4175-ade3-aff14a616657")
    );
    assert_eq!(o.price, Some(dec!(140000000)));
    assert_eq!(o.paid_fee, Some(dec!(420)));
    assert_eq!(o.executed_funds.unwrap().get(), dec!(840000));
    assert_eq!(o.time_in_force, None);
    assert_eq!(o.is_maker, Some(true));
    assert_eq!(o.identifier.as_deref(), Some("my-client-id-0002"));
    assert_eq!(o.trade_at.unwrap().timestamp_millis(), 1_751_608_800_123);

    let WsMessage::MyAsset(a) = single(data!("ws_my_asset.json")) else {
        panic!("not myAsset")
    };
    assert_eq!(a.assets[0].currency.as_str(), "KRW");
    assert_eq!(a.assets[0].balance, dec!(1386929.37231066));
    assert_eq!(a.assets[0].locked, dec!(10329.67012749));
    // Balances as strings parse too.
    let s = br#"{"type":"myAsset","asset_uuid":"x","assets":[{"currency":"BTC","balance":"0.5","locked":"0"}],"asset_timestamp":1,"timestamp":2}"#;
    let WsMessage::MyAsset(a) = single(s) else {
        panic!("not myAsset")
    };
    assert_eq!(a.assets[0].balance, dec!(0.5));
}

#[test]
fn status_errors_and_unknown_types() {
    assert_eq!(
        single(br#"{"status":"UP"}"#),
        WsMessage::Status("UP".into())
    );
    assert_eq!(
        single(br#"{"error":{"name":"INVALID_AUTH","message":"bad"}}"#),
        WsMessage::Error {
            name: "INVALID_AUTH".into(),
            message: "bad".into()
        }
    );
    assert!(
        parse_frame(br#"{"type":"somethingNew","x":1}"#)
            .unwrap()
            .is_empty()
    );
    assert!(
        parse_frame(br#"{"method":"LIST_SUBSCRIPTIONS","result":[]}"#)
            .unwrap()
            .is_empty()
    );
    for bad in [
        &b""[..],
        b"PONG",
        b"[1]",
        br#"{"type":"ticker"}"#,
        br#"{"type":"candle.2m","code":"KRW-BTC"}"#,
        br#"{"type":"myOrder","code":"KRW-BTC","uuid":"u","ask_bid":"BID","order_type":"limit","state":"weird","timestamp":1}"#,
    ] {
        let err = parse_frame(bad).unwrap_err();
        assert_eq!(err.category(), crate::ErrorCategory::Decode, "{err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_and_mutated_frames_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let _ = parse_frame(&bytes);
        for full in [
            data!("ws_ticker.json"),
            data!("ws_trade.json"),
            data!("ws_orderbook.json"),
            data!("ws_candle_1m.json"),
            data!("ws_my_order.json"),
            data!("ws_my_asset.json"),
        ] {
            let mut b = full.to_vec();
            let i = pos.index(b.len());
            b[i] = byte;
            let _ = parse_frame(&b);
            // Any cut before the closing brace is incomplete JSON.
            let end = full.iter().rposition(|b| *b == b'}').unwrap_or(0);
            let c = cut.index(end.max(1));
            prop_assert!(parse_frame(&full[..c]).is_err());
        }
    }
}
