//! Quotation endpoints over HTTP: shapes, JSON types, paging, errors, headers.

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::support::{dec, replay};

#[tokio::test]
async fn market_all_with_and_without_details() {
    let sim = replay().await;
    let r = sim.get("/v1/market/all").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.remaining(), "group=market; min=600; sec=9");
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert!(
        list.iter()
            .any(|m| m["market"] == "KRW-BTC" && m["korean_name"] == "비트코인")
    );
    assert!(list[0].get("market_event").is_none());
    for q in [
        "/v1/market/all?is_details=true",
        "/v1/market/all?isDetails=true",
    ] {
        let r = sim.get(q).await;
        assert_eq!(
            r.body[0]["market_event"]["caution"]
                .as_object()
                .unwrap()
                .len(),
            5,
            "{q}"
        );
    }
    assert_eq!(
        sim.get("/v1/market/all?is_details=maybe")
            .await
            .error_name(),
        "400"
    );
}

#[tokio::test]
async fn candles_reproduce_the_real_minutes() {
    let sim = replay().await;
    // 02:59 UTC is a complete real candle: KRW-BTC row of the data file.
    let r = sim
        .get("/v1/candles/minutes/1?market=KRW-BTC&to=2025-09-01T03:00:00Z&count=1")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.remaining(), "group=candles; min=600; sec=9");
    let c = &r.body[0];
    assert_eq!(c["candle_date_time_utc"], "2025-09-01T02:59:00");
    assert_eq!(c["candle_date_time_kst"], "2025-09-01T11:59:00");
    let row = std::fs::read_to_string(crate::support::data_file())
        .unwrap()
        .lines()
        .find(|l| l.starts_with("KRW-BTC,2025-09-01T02:59:00Z"))
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    assert_eq!(dec(&c["opening_price"]), d(&row[2]));
    assert_eq!(dec(&c["high_price"]), d(&row[3]));
    assert_eq!(dec(&c["low_price"]), d(&row[4]));
    assert_eq!(dec(&c["trade_price"]), d(&row[5]));
    assert_eq!(dec(&c["candle_acc_trade_volume"]), d(&row[6]));
    assert!(
        c["opening_price"].is_u64(),
        "integer prices have no decimal point"
    );
    assert_eq!(c["unit"], 1);
    assert!(c["timestamp"].as_i64().unwrap() < 1_756_695_600_000);
}

#[tokio::test]
async fn candle_paging_newest_first_to_exclusive_count_clamped() {
    let sim = replay().await;
    let r = sim
        .get("/v1/candles/minutes/5?market=KRW-ETH&count=500")
        .await;
    let list = r.body.as_array().unwrap();
    // Exactly 03:00:00.000: 3 hours of data = 36 five-minute candles, newest first.
    assert_eq!(list.len(), 36);
    assert_eq!(list[0]["candle_date_time_utc"], "2025-09-01T02:55:00");
    let times: Vec<&str> = list
        .iter()
        .map(|c| c["candle_date_time_utc"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]));
    // Page backwards with `to` = oldest of the previous page (+Z): no overlap.
    let first = sim
        .get("/v1/candles/minutes/1?market=KRW-XRP&count=200")
        .await;
    let page1 = first.body.as_array().unwrap();
    assert_eq!(page1.len(), 180, "3 h of minutes");
    let oldest = page1[99]["candle_date_time_utc"].as_str().unwrap();
    let page2 = sim
        .get(&format!(
            "/v1/candles/minutes/1?market=KRW-XRP&count=3&to={oldest}Z"
        ))
        .await;
    assert_eq!(
        page2.body[0]["candle_date_time_utc"],
        page1[100]["candle_date_time_utc"]
    );
    // Same with a naive time (UTC) and a +09:00 offset.
    for to in ["2025-09-01%2002:00:00", "2025-09-01T11:00:00%2B09:00"] {
        let r = sim
            .get(&format!(
                "/v1/candles/minutes/1?market=KRW-XRP&count=1&to={to}"
            ))
            .await;
        assert_eq!(
            r.body[0]["candle_date_time_utc"], "2025-09-01T01:59:00",
            "{to}"
        );
    }
    // Day candles: one day so far, with change fields; weeks carry first_day_of_period.
    let d = sim.get("/v1/candles/days?market=KRW-BTC&count=10").await;
    assert_eq!(d.body.as_array().unwrap().len(), 1);
    assert!(d.body[0].get("change_rate").is_some() && d.body[0].get("unit").is_none());
    let w = sim.get("/v1/candles/weeks?market=KRW-BTC").await;
    assert_eq!(w.body[0]["first_day_of_period"], "2025-09-01");
    let mo = sim.get("/v1/candles/months?market=KRW-BTC").await;
    assert_eq!(mo.body[0]["candle_date_time_utc"], "2025-09-01T00:00:00");
    // The open candle appears with the first trade and keeps updating.
    sim.step(20);
    let a = sim.get("/v1/candles/minutes/1?market=KRW-BTC").await;
    assert_eq!(a.body[0]["candle_date_time_utc"], "2025-09-01T03:00:00");
    sim.step(39);
    let b = sim.get("/v1/candles/minutes/1?market=KRW-BTC").await;
    assert_eq!(b.body[0]["candle_date_time_utc"], "2025-09-01T03:00:00");
    assert!(
        dec(&b.body[0]["candle_acc_trade_volume"]) > dec(&a.body[0]["candle_acc_trade_volume"])
    );
    assert!(b.body[0]["timestamp"].as_i64() > a.body[0]["timestamp"].as_i64());
}

#[tokio::test]
async fn candle_errors() {
    let sim = replay().await;
    for (q, status, name) in [
        ("/v1/candles/minutes/1?market=KRW-DOGE", 404, "404"),
        ("/v1/candles/minutes/1", 400, "400"),
        ("/v1/candles/minutes/1?market=KRW-BTC&count=abc", 400, "400"),
        ("/v1/candles/minutes/1?market=KRW-BTC&count=0", 400, "400"),
        (
            "/v1/candles/minutes/1?market=KRW-BTC&to=yesterday",
            400,
            "400",
        ),
        ("/v1/candles/minutes/7?market=KRW-BTC", 404, "404"),
    ] {
        let r = sim.get(q).await;
        assert_eq!(
            (r.status.as_u16(), r.error_name().as_str()),
            (status, name),
            "{q}: {}",
            r.body
        );
        assert!(
            r.body["error"]["name"].is_number(),
            "Quotation error names are integers"
        );
    }
}

#[tokio::test]
async fn ticker_and_ticker_all() {
    let sim = replay().await;
    for q in [
        "/v1/ticker?markets=KRW-BTC,KRW-ETH",
        "/v1/ticker?markets=KRW-BTC%2CKRW-ETH",
        "/v1/ticker?markets=KRW-BTC&markets=KRW-ETH",
    ] {
        let r = sim.get(q).await;
        assert_eq!(r.status, StatusCode::OK, "{q}");
        let list = r.body.as_array().unwrap();
        assert_eq!(list.len(), 2, "{q}");
        assert_eq!(list[0]["market"], "KRW-BTC");
    }
    let r = sim.get("/v1/ticker?markets=KRW-BTC").await;
    let t = &r.body[0];
    assert_eq!(t["trade_date"], "20250901");
    assert!(t["trade_time"].as_str().unwrap().starts_with("02"));
    let open = dec(&t["opening_price"]);
    assert_eq!(
        open,
        "150700000".parse::<Decimal>().unwrap(),
        "first trade of the UTC day"
    );
    let diff = dec(&t["trade_price"]) - dec(&t["prev_closing_price"]);
    assert_eq!(dec(&t["signed_change_price"]), diff);
    assert!(["RISE", "EVEN", "FALL"].contains(&t["change"].as_str().unwrap()));
    assert!(dec(&t["acc_trade_volume"]) > Decimal::ZERO);
    assert!(
        t.get("market_state").is_none(),
        "REST ticker has no WebSocket-only fields"
    );
    let all = sim.get("/v1/ticker/all?quote_currencies=KRW").await;
    assert_eq!(all.body.as_array().unwrap().len(), 3);
    assert_eq!(
        sim.get("/v1/ticker/all?quote_currencies=BTC").await.body,
        Value::Array(vec![])
    );
    assert_eq!(
        sim.get("/v1/ticker?markets=KRW-BTC,KRW-NOPE").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(sim.get("/v1/ticker").await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn orderbook_levels_count_and_instruments() {
    let sim = replay().await;
    let r = sim.get("/v1/orderbook?markets=KRW-BTC").await;
    let ob = &r.body[0];
    let units = ob["orderbook_units"].as_array().unwrap();
    assert_eq!(units.len(), 30);
    let asks: Vec<Decimal> = units.iter().map(|u| dec(&u["ask_price"])).collect();
    let bids: Vec<Decimal> = units.iter().map(|u| dec(&u["bid_price"])).collect();
    assert!(asks.windows(2).all(|w| w[0] < w[1]) && bids.windows(2).all(|w| w[0] > w[1]));
    assert!(bids[0] < asks[0]);
    let total: Decimal = units.iter().map(|u| dec(&u["ask_size"])).sum();
    assert_eq!(dec(&ob["total_ask_size"]), total);
    assert_eq!(ob["level"], 0);
    let r = sim.get("/v1/orderbook?markets=KRW-BTC&count=5").await;
    assert_eq!(r.body[0]["orderbook_units"].as_array().unwrap().len(), 5);
    let r = sim.get("/v1/orderbook?markets=KRW-BTC&level=100000").await;
    let agg = r.body[0]["orderbook_units"].as_array().unwrap();
    assert!(
        agg.iter()
            .all(|u| dec(&u["ask_price"]) % Decimal::from(100_000) == Decimal::ZERO)
    );
    assert_eq!(
        sim.get("/v1/orderbook?markets=KRW-BTC&level=12345")
            .await
            .body,
        Value::Array(vec![])
    );
    let i = sim
        .get("/v1/orderbook/instruments?markets=KRW-BTC,KRW-XRP")
        .await;
    assert_eq!(i.body[0]["tick_size"], "1000");
    assert_eq!(i.body[1]["tick_size"], "1");
    assert_eq!(i.body[0]["supported_levels"][1], "10000");
    assert!(i.remaining().starts_with("group=orderbook; min=600; sec="));
}

#[tokio::test]
async fn trades_ticks_page_with_cursor() {
    let sim = replay().await;
    let r = sim.get("/v1/trades/ticks?market=KRW-BTC&count=5").await;
    assert_eq!(r.remaining(), "group=trade; min=600; sec=9");
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 5);
    let ids: Vec<i64> = list
        .iter()
        .map(|t| t["sequential_id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]));
    assert!(ids[0] > 1 << 53, "sequential_id is a big integer");
    assert_eq!(list[0]["trade_date_utc"], "2025-09-01");
    assert!(["ASK", "BID"].contains(&list[0]["ask_bid"].as_str().unwrap()));
    let next = sim
        .get(&format!(
            "/v1/trades/ticks?market=KRW-BTC&count=5&cursor={}",
            ids[4]
        ))
        .await;
    assert!(next.body[0]["sequential_id"].as_i64().unwrap() < ids[4]);
    let early = sim
        .get("/v1/trades/ticks?market=KRW-BTC&count=3&to=010000")
        .await;
    assert!(early.body[0]["trade_time_utc"].as_str().unwrap() < "01:00:00");
    let early2 = sim
        .get("/v1/trades/ticks?market=KRW-BTC&count=3&to=01:00:00")
        .await;
    assert_eq!(early.body, early2.body);
    assert_eq!(
        sim.get("/v1/trades/ticks?market=KRW-BTC&days_ago=1")
            .await
            .body,
        Value::Array(vec![])
    );
    assert_eq!(
        sim.get("/v1/trades/ticks?market=KRW-BTC&days_ago=9")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        sim.get("/v1/trades/ticks?market=KRW-BTC&count=501")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        500
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_upbit_shape() {
    let sim = replay().await;
    let r = sim.get("/v1/nope").await;
    assert_eq!(
        (r.status, r.error_name().as_str()),
        (StatusCode::NOT_FOUND, "404")
    );
    let r = sim
        .raw(
            reqwest::Method::PUT,
            "/v1/ticker?markets=KRW-BTC",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.body["error"]["message"].is_string());
}

#[tokio::test]
async fn gzip_when_asked() {
    let sim = replay().await;
    let raw = reqwest::Client::new()
        .get(format!(
            "{}/v1/candles/minutes/1?market=KRW-BTC&count=50",
            sim.base
        ))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers().get("content-encoding").unwrap(), "gzip");
    let bytes = raw.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 50);
}
