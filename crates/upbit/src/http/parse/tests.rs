//! Every recorded payload parses to exact values; arbitrary and truncated
//! bytes give a typed error, never a panic.

use chrono::TimeZone;
use proptest::prelude::*;
use rust_decimal_macros::dec;

use super::*;
use crate::common::enums::MinuteUnit;

macro_rules! data {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/", $name)).as_slice()
    };
}

const M1: CandleInterval = CandleInterval::Minutes(MinuteUnit::M1);

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

#[test]
fn minute_candle_example_is_exact() {
    let c = candles_from_slice(data!("candles_minutes_1.json"), M1).unwrap();
    assert_eq!(c.len(), 1);
    let c = &c[0];
    assert_eq!(c.market.as_str(), "KRW-BTC");
    assert_eq!(c.open_time, utc(2025, 7, 1, 12, 0, 0));
    assert_eq!(c.open.get(), dec!(145831000));
    assert_eq!(c.high.get(), dec!(145831000));
    assert_eq!(c.low.get(), dec!(145752000));
    assert_eq!(c.close.get(), dec!(145759000));
    assert_eq!(c.volume.get(), dec!(27.58904602));
    assert_eq!(c.value.get(), dec!(4022470467.03403));
    assert_eq!(c.last_trade_at.timestamp_millis(), 1_751_371_259_833);
}

#[test]
fn day_week_and_foreign_candles() {
    let d = candles_from_slice(data!("candles_days.json"), CandleInterval::Days).unwrap();
    assert_eq!(d[0].open_time, utc(2025, 7, 1, 0, 0, 0));
    assert_eq!(d[0].volume.get(), dec!(1234.56789012));
    let wire: Vec<CandleWire> = decode_json("t", data!("candles_days.json")).unwrap();
    assert_eq!(wire[0].change_price, Some(dec!(-2237000)));
    assert_eq!(wire[0].change_rate, Some(dec!(-0.0151152734)));
    assert_eq!(wire[0].unit, None);

    let w = candles_from_slice(data!("candles_weeks.json"), CandleInterval::Weeks).unwrap();
    assert_eq!(w[0].open_time, utc(2025, 6, 30, 0, 0, 0));
    let wire: Vec<CandleWire> = decode_json("t", data!("candles_weeks.json")).unwrap();
    assert_eq!(wire[0].first_day_of_period.as_deref(), Some("2025-06-30"));

    // ccxt fixture: every value quoted, market USDT-BTC. The wire parses...
    let wire: Vec<CandleWire> = decode_json("t", data!("ccxt_candles_minutes_60.json")).unwrap();
    assert_eq!(wire[0].unit, Some(60));
    assert_eq!(wire[0].trade_price, dec!(73578.655));
    assert_eq!(wire[0].timestamp, 1_710_328_237_828);
    // ...and the domain refuses the non-KRW market (FIX-1), naming the field.
    let err = candle(&wire[0], CandleInterval::Minutes(MinuteUnit::M60)).unwrap_err();
    assert_eq!(err.field, "market");
    // The same shape on a KRW market converts.
    let mut krw = wire[0].clone();
    krw.market = "KRW-BTC".into();
    let c = candle(&krw, CandleInterval::Minutes(MinuteUnit::M60)).unwrap();
    assert_eq!(c.open.get(), dec!(72738.58583492));
    // A unit that contradicts the requested interval is rejected.
    assert_eq!(candle(&krw, M1).unwrap_err().field, "unit");
}

#[test]
fn real_200_candle_response_is_oldest_first_and_exact() {
    let c = candles_from_slice(data!("smtm_candles_minutes_1_200.json"), M1).unwrap();
    assert_eq!(c.len(), 200);
    assert!(c.windows(2).all(|w| w[0].open_time < w[1].open_time));
    assert_eq!(c[0].open_time, utc(2020, 2, 20, 8, 0, 0));
    let last = c.last().unwrap();
    assert_eq!(last.open_time, utc(2020, 2, 20, 11, 19, 0));
    assert_eq!(last.open.get(), dec!(11509000));
    assert_eq!(last.value.get(), dec!(30279009.54681));
    assert_eq!(last.volume.get(), dec!(2.63267824));
    let three = candles_from_slice(
        data!("smtm_candles_minutes_3_60.json"),
        CandleInterval::Minutes(MinuteUnit::M3),
    )
    .unwrap();
    assert_eq!(three.len(), 60);
}

#[test]
fn tickers() {
    let t = tickers_from_slice(data!("ticker.json")).unwrap();
    let t = &t[0];
    assert_eq!(t.trade_price.get(), dec!(148601000));
    assert_eq!(t.change, Change::Fall);
    assert_eq!(t.signed_change_price, dec!(-136000));
    assert_eq!(t.signed_change_rate, dec!(-0.0009143656));
    assert_eq!(t.trade_volume.get(), dec!(0.00016823));
    assert_eq!(t.acc_trade_price_24h.get(), dec!(178448329314.96686));
    assert_eq!(t.acc_trade_volume_24h.get(), dec!(1198.26954807));
    assert_eq!(t.highest_52_week_price.unwrap().get(), dec!(163325000));
    assert_eq!(t.trade_time.timestamp_millis(), 1_751_606_040_365);
    assert_eq!(t.timestamp.timestamp_millis(), 1_751_606_040_403);

    let wire: Vec<TickerWire> = decode_json("t", data!("ccxt_ticker.json")).unwrap();
    assert_eq!(wire[0].acc_trade_price, dec!(306095.1228293561797048));
    assert_eq!(wire[0].trade_timestamp, 1_710_328_237_798);
    assert_eq!(ticker(&wire[0]).unwrap_err().field, "market");
}

#[test]
fn orderbooks_and_instruments() {
    let o = orderbooks_from_slice(data!("orderbook.json")).unwrap();
    let o = &o[0];
    assert_eq!(o.best_ask().unwrap().price.get(), dec!(148520000));
    assert_eq!(o.best_ask().unwrap().size.get(), dec!(0.0134662));
    assert_eq!(o.best_bid().unwrap().price.get(), dec!(148490000));
    assert_eq!(o.asks.len(), 2);
    assert_eq!(o.bids[1].price.get(), dec!(148480000));
    assert_eq!(o.total_ask_size.get(), dec!(10.37591054));
    assert_eq!(o.level, dec!(0));
    assert_eq!(
        o.ask_depth_krw().get(),
        dec!(148520000) * dec!(0.0134662) + dec!(148521000) * dec!(0.5)
    );

    let i = instruments_from_slice(data!("orderbook_instruments.json")).unwrap();
    assert_eq!(i[0].tick_size.get(), dec!(1000));
    assert_eq!(i[0].quote_currency.as_str(), "KRW");
    assert_eq!(i[0].supported_levels.len(), 6);
    assert_eq!(i[0].supported_levels[5], dec!(100000000));
}

#[test]
fn empty_book_side_levels_are_skipped() {
    let body = br#"[{"market":"KRW-XRP","timestamp":1,"total_ask_size":1,"total_bid_size":0,
        "orderbook_units":[{"ask_price":3000,"bid_price":0,"ask_size":1,"bid_size":0}]}]"#;
    let o = &orderbooks_from_slice(body).unwrap()[0];
    assert_eq!(o.asks.len(), 1);
    assert!(o.bids.is_empty());
    assert_eq!(o.best_bid(), None);
}

#[test]
fn trades() {
    let t = trades_from_slice(data!("trades_ticks.json")).unwrap();
    assert_eq!(t[0].sequential_id, 17_510_687_993_360_000);
    assert_eq!(t[0].taker_side, domain::Side::Bid);
    assert_eq!(t[0].price.get(), dec!(147058000));
    assert_eq!(t[0].volume.get(), dec!(0.00006043));
    assert_eq!(t[0].change_price, Some(dec!(206000)));
    let wire: Vec<TradeTickWire> = decode_json("t", data!("ccxt_trades_ticks.json")).unwrap();
    assert_eq!(wire[0].sequential_id, 17_103_275_719_220_001);
    assert_eq!(wire[0].ask_bid, "ASK");
}

#[test]
fn markets_and_balances() {
    let m = markets_from_slice(data!("market_all_details.json")).unwrap();
    assert_eq!(m[0].market.as_str(), "KRW-BTC");
    assert_eq!(m[0].korean_name, "비트코인");
    assert!(!m[0].warning);
    assert_eq!(m[0].cautions.len(), 5);
    assert!(!m[0].has_caution());
    let plain = markets_from_slice(data!("ccxt_market_all.json")).unwrap();
    let codes: Vec<_> = plain.iter().map(|m| m.market.as_str()).collect();
    assert_eq!(codes, ["KRW-BTC", "KRW-ETH"], "non-KRW markets are skipped");

    let b = balances_from_slice(data!("accounts.json")).unwrap();
    assert_eq!(b[0].free_krw().unwrap().get(), dec!(1000000));
    assert_eq!(b[0].avg_buy_price, None);
    assert_eq!(b[1].currency.as_str(), "BTC");
    assert_eq!(b[1].avg_buy_price.unwrap().get(), dec!(140000000));
    assert_eq!(b[1].total_volume().unwrap().get(), dec!(2));
    let f = balances_from_slice(data!("accounts_fractional.json")).unwrap();
    assert_eq!(f[0].balance, dec!(0.34202415));
    assert_eq!(f[0].locked, dec!(4999.99999922));
    assert_eq!(f[0].total(), dec!(5000.34202337));
    assert!(f[1].avg_buy_price_modified);
}

#[test]
fn float_noise_in_volumes_is_rounded_to_8_decimals_but_prices_stay_exact() {
    let body = br#"[{"market":"KRW-BTC","candle_date_time_utc":"2025-07-01T12:00:00",
        "opening_price":0.1,"high_price":0.30000000000000004,"low_price":0.1,"trade_price":0.2,
        "timestamp":1751371259833,"candle_acc_trade_price":1.1,"candle_acc_trade_volume":0.30000000000000004}]"#;
    let c = &candles_from_slice(body, M1).unwrap()[0];
    assert_eq!(c.volume.get(), dec!(0.3));
    assert_eq!(c.high.get(), dec!(0.30000000000000004));
}

#[test]
fn bad_values_are_typed_errors() {
    for (body, want) in [
        (&b"not json"[..], "candles"),
        (br#"{"error":{"name":404}}"#, "candles"),
        (br#"[{"market":"KRW-BTC"}]"#, "candles"),
        (
            br#"[{"market":"KRW-BTC","candle_date_time_utc":"x","opening_price":1,"high_price":1,"low_price":1,"trade_price":1,"timestamp":1,"candle_acc_trade_price":1,"candle_acc_trade_volume":1}]"#,
            "candle_date_time_utc",
        ),
        (
            br#"[{"market":"KRW-BTC","candle_date_time_utc":"2025-07-01T12:00:00","opening_price":0,"high_price":1,"low_price":1,"trade_price":1,"timestamp":1,"candle_acc_trade_price":1,"candle_acc_trade_volume":1}]"#,
            "opening_price",
        ),
        (
            br#"[{"market":"KRW-BTC","candle_date_time_utc":"2025-07-01T12:00:00","opening_price":5,"high_price":1,"low_price":1,"trade_price":1,"timestamp":1,"candle_acc_trade_price":1,"candle_acc_trade_volume":1}]"#,
            "high_price",
        ),
        (
            br#"[{"market":"KRW-BTC","candle_date_time_utc":"2025-07-01T12:00:00","opening_price":1,"high_price":1,"low_price":1,"trade_price":1,"timestamp":1,"candle_acc_trade_price":1,"candle_acc_trade_volume":-1}]"#,
            "candle_acc_trade_volume",
        ),
    ] {
        let err = candles_from_slice(body, M1).unwrap_err();
        assert_eq!(err.category(), crate::ErrorCategory::Decode, "{err}");
        assert!(err.to_string().contains(want), "{want}: {err}");
    }
    let err = balances_from_slice(
        br#"[{"currency":"KRW","balance":"-1","locked":"0","avg_buy_price":"0"}]"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("balance"), "{err}");
}

type Parser = fn(&[u8]) -> Result<(), UpbitError>;

fn parsers() -> Vec<(&'static str, Parser, &'static [u8])> {
    vec![
        (
            "candles",
            |b| candles_from_slice(b, M1).map(drop),
            data!("candles_minutes_1.json"),
        ),
        (
            "candles200",
            |b| candles_from_slice(b, M1).map(drop),
            data!("smtm_candles_minutes_1_200.json"),
        ),
        (
            "ticker",
            |b| tickers_from_slice(b).map(drop),
            data!("ticker.json"),
        ),
        (
            "orderbook",
            |b| orderbooks_from_slice(b).map(drop),
            data!("orderbook.json"),
        ),
        (
            "instruments",
            |b| instruments_from_slice(b).map(drop),
            data!("orderbook_instruments.json"),
        ),
        (
            "trades",
            |b| trades_from_slice(b).map(drop),
            data!("trades_ticks.json"),
        ),
        (
            "markets",
            |b| markets_from_slice(b).map(drop),
            data!("market_all_details.json"),
        ),
        (
            "accounts",
            |b| balances_from_slice(b).map(drop),
            data!("accounts.json"),
        ),
    ]
}

#[test]
fn every_truncation_of_a_real_payload_is_an_error_not_a_panic() {
    for (name, parse, full) in parsers() {
        assert!(parse(full).is_ok(), "{name} full payload");
        // Cutting off the closing `]` (and anything before it) must fail.
        let end = full.iter().rposition(|b| *b == b']').unwrap();
        let step = (end / 400).max(1);
        for cut in (0..end).step_by(step) {
            let err = parse(&full[..cut]).unwrap_err();
            assert_eq!(
                err.category(),
                crate::ErrorCategory::Decode,
                "{name} cut {cut}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for (_, parse, _) in parsers() {
            let _ = parse(&bytes);
        }
    }

    #[test]
    fn mutated_real_payloads_never_panic(
        idx in 0usize..8,
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let all = parsers();
        let (_, parse, full) = all[idx % all.len()];
        let mut b = full.to_vec();
        let i = pos.index(b.len());
        b[i] = byte;
        let _ = parse(&b);
    }

    #[test]
    fn arbitrary_json_values_in_candle_fields_never_panic(
        price in prop_oneof![
            any::<f64>().prop_map(|f| f.to_string()),
            any::<i64>().prop_map(|i| i.to_string()),
            "\"[0-9.e+-]{0,30}\"",
            Just("null".to_owned()),
            Just("{}".to_owned()),
        ],
        ts in prop_oneof![any::<i64>().prop_map(|i| i.to_string()), "\"[0-9]{0,25}\""],
    ) {
        let body = format!(
            r#"[{{"market":"KRW-BTC","candle_date_time_utc":"2025-07-01T12:00:00","opening_price":{price},"high_price":{price},"low_price":{price},"trade_price":{price},"timestamp":{ts},"candle_acc_trade_price":{price},"candle_acc_trade_volume":{price}}}]"#
        );
        let _ = candles_from_slice(body.as_bytes(), M1);
    }
}
