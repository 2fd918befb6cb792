//! Candle backfill across many pages: `to` paging (exclusive, newest first on
//! the wire), the 200-per-request cap, gaps kept as gaps, oldest-first result.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::Market;
use serde_json::json;
use upbit::{CandleInterval, MinuteUnit};

use crate::server::{Reply, TestServer};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 1, 0, 0, 0).unwrap()
}

/// Minutes 0..450 after `t0`, except 100..110 (no trades → no candle).
fn minutes() -> Vec<DateTime<Utc>> {
    (0..450)
        .filter(|m| !(100..110).contains(m))
        .map(|m| t0() + Duration::minutes(m))
        .collect()
}

/// Serves minute candles like Upbit: before `to` (exclusive), newest first,
/// at most `count` (clamped to 200).
async fn candle_server() -> TestServer {
    TestServer::start(|r, _| {
        let to = r
            .param("to")
            .map(|s| DateTime::parse_from_rfc3339(&s).unwrap().with_timezone(&Utc));
        let count: usize = r.param("count").unwrap().parse::<usize>().unwrap().min(200);
        let body: Vec<_> = minutes()
            .into_iter()
            .rev()
            .filter(|t| to.is_none_or(|to| *t < to))
            .take(count)
            .enumerate()
            .map(|(i, t)| {
                json!({
                    "market": "KRW-BTC",
                    "candle_date_time_utc": t.format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "candle_date_time_kst": (t + Duration::hours(9)).format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "opening_price": 100_000_000 + i,
                    "high_price": 100_000_500 + i,
                    "low_price": 99_999_000 + i,
                    "trade_price": 100_000_100 + i,
                    "timestamp": t.timestamp_millis() + 59_000,
                    "candle_acc_trade_price": 1234.5,
                    "candle_acc_trade_volume": 0.012_345_67,
                    "unit": 1
                })
            })
            .collect();
        Reply::json(200, serde_json::to_vec(&body).unwrap())
            .header("remaining-req", "group=candles; min=600; sec=9")
    })
    .await
}

fn client(server: &TestServer) -> upbit::UpbitClient {
    let urls = upbit::UpbitUrls::new(&server.base(), "ws://127.0.0.1:1/websocket/v1").unwrap();
    upbit::UpbitClient::from_config(
        upbit::HttpConfig::with_urls(urls),
        runtime::SystemClock::shared(),
    )
    .unwrap()
}

const M1: CandleInterval = CandleInterval::Minutes(MinuteUnit::M1);

fn btc() -> Market {
    Market::parse("market", "KRW-BTC").unwrap()
}

#[tokio::test]
async fn candles_between_pages_back_and_keeps_gaps() {
    let server = candle_server().await;
    let c = client(&server);
    let start = t0() + Duration::minutes(20);
    let end = t0() + Duration::minutes(440);
    let got = c.candles_between(&btc(), M1, start, end).await.unwrap();
    let want: Vec<_> = minutes()
        .into_iter()
        .filter(|t| *t >= start && *t < end)
        .collect();
    let times: Vec<_> = got.iter().map(|c| c.open_time).collect();
    assert_eq!(
        times, want,
        "exactly the candles in [start, end), oldest first"
    );
    assert_eq!(got.len(), 410);

    // Pages: to=end (200), to=oldest of page 1 (200), to=oldest of page 2 (rest).
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    let tos: Vec<_> = reqs.iter().map(|r| r.param("to").unwrap()).collect();
    assert_eq!(tos[0], "2025-07-01T07:20:00Z");
    assert_eq!(tos[1], "2025-07-01T04:00:00Z");
    assert_eq!(tos[2], "2025-07-01T00:30:00Z");
    assert!(
        reqs.iter()
            .all(|r| r.param("count").as_deref() == Some("200"))
    );
}

#[tokio::test]
async fn latest_candles_fetches_any_count_and_stops_at_the_beginning() {
    let server = candle_server().await;
    let c = client(&server);
    let got = c.latest_candles(&btc(), M1, 300, None).await.unwrap();
    assert_eq!(got.len(), 300);
    assert_eq!(got.last().unwrap().open_time, t0() + Duration::minutes(449));
    assert!(got.windows(2).all(|w| w[0].open_time < w[1].open_time));
    assert_eq!(server.requests().len(), 2);

    // Asking for more than exists ends when a short page arrives.
    let all = c.latest_candles(&btc(), M1, 10_000, None).await.unwrap();
    assert_eq!(all.len(), minutes().len());
    assert_eq!(all[0].open_time, t0());
    assert!(
        c.candles_between(&btc(), M1, t0(), t0())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_server_that_ignores_to_cannot_make_paging_loop() {
    let server = TestServer::start(|_, _| {
        let body: Vec<_> = (0..200)
            .map(|i| {
                let t = t0() + Duration::minutes(i);
                json!({
                    "market": "KRW-BTC",
                    "candle_date_time_utc": t.format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "opening_price": 1, "high_price": 1, "low_price": 1, "trade_price": 1,
                    "timestamp": t.timestamp_millis(),
                    "candle_acc_trade_price": 1, "candle_acc_trade_volume": 1, "unit": 1
                })
            })
            .collect();
        Reply::json(200, serde_json::to_vec(&body).unwrap())
    })
    .await;
    let c = client(&server);
    let err = c
        .candles_between(
            &btc(),
            M1,
            t0() - Duration::days(1),
            t0() + Duration::days(1),
        )
        .await
        .unwrap_err();
    assert_eq!(err.category(), upbit::ErrorCategory::Decode, "{err}");
    assert!(server.requests().len() <= 2);
}
