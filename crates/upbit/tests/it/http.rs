//! Transport and client behaviour against recorded responses: headers sent
//! (no `Origin`, JWT with the right `query_hash`), `Remaining-Req`, 429 (plain
//! text) stopping the group, 418 blocking everything, retries of idempotent
//! calls only, error mapping and undecodable bodies.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use domain::{Market, Secret};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use rust_decimal_macros::dec;
use serde::Deserialize;
use upbit::{
    ApiErrorKind, ApiRequest, CandleInterval, Credential, ErrorCategory, HttpConfig, MinuteUnit,
    Params, RateGroup, RetryPolicy, UpbitClient, UpbitError, UpbitTransport, UpbitUrls,
    common::credential::query_hash,
    http::rate_limit::{Decision, RateLimits},
};

use crate::server::{Recorded, Reply, TestServer};

const AK: &str = "TEST_ACCESS_KEY_0123456789abcdefghijklmn";
const SK: &str = "TEST_SECRET_KEY_0123456789abcdefghijklmn";

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/test_data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn config(server: &TestServer) -> HttpConfig {
    let mut c = HttpConfig::with_urls(
        UpbitUrls::new(
            &server.base(),
            &format!("ws://{}/websocket/v1", server.addr),
        )
        .unwrap(),
    );
    c.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
    };
    c.limits = RateLimits::default();
    c.limits.pause_after_429 = Duration::from_millis(200);
    c.timeout = Duration::from_millis(500);
    c
}

fn transport(server: &TestServer) -> UpbitTransport {
    UpbitTransport::new(config(server), runtime::SystemClock::shared()).unwrap()
}

fn client(server: &TestServer) -> UpbitClient {
    UpbitClient::new(transport(server))
}

fn signed_client(server: &TestServer) -> UpbitClient {
    let cred = Credential::new(AK, Secret::new(SK)).unwrap();
    UpbitClient::new(transport(server).with_credential(cred))
}

fn btc() -> Market {
    Market::parse("market", "KRW-BTC").unwrap()
}

#[tokio::test]
async fn candles_are_fetched_without_origin_and_feed_the_limiter() {
    let server = TestServer::start(|r, _| {
        assert_eq!(r.path, "/v1/candles/minutes/1");
        Reply::json(200, data("smtm_candles_minutes_1_200.json"))
            .header("remaining-req", "group=candles; min=600; sec=0")
    })
    .await;
    let c = client(&server);
    let candles = c
        .candles(&btc(), CandleInterval::Minutes(MinuteUnit::M1), None, 200)
        .await
        .unwrap();
    assert_eq!(candles.len(), 200);
    assert!(candles.windows(2).all(|w| w[0].open_time < w[1].open_time));

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.query.as_deref(), Some("market=KRW-BTC&count=200"));
    assert!(
        r.headers.get("origin").is_none(),
        "Origin must never be sent"
    );
    assert!(
        r.headers.get("authorization").is_none(),
        "quotation is unsigned"
    );
    assert_eq!(r.headers.get("accept").unwrap(), "application/json");
    // `sec=0` from the server: the candles group waits for the next second.
    assert!(matches!(
        c.transport().limiter().check(RateGroup::Candles),
        Decision::Wait(_)
    ));
    assert_eq!(
        c.transport().limiter().check(RateGroup::Ticker),
        Decision::Proceed
    );
}

#[tokio::test]
async fn every_quotation_endpoint_parses_its_recorded_payload() {
    let server = TestServer::start(|r, _| {
        let file = match r.path.as_str() {
            "/v1/market/all" => "market_all_details.json",
            "/v1/ticker" => "ticker.json",
            "/v1/orderbook" => "orderbook.json",
            "/v1/orderbook/instruments" => "orderbook_instruments.json",
            "/v1/trades/ticks" => "trades_ticks.json",
            "/v1/candles/days" => "candles_days.json",
            "/v1/candles/weeks" => "candles_weeks.json",
            other => panic!("unexpected path {other}"),
        };
        Reply::json(200, data(file))
    })
    .await;
    let c = client(&server);
    let m = c.krw_markets(true).await.unwrap();
    assert_eq!(m[0].cautions.len(), 5);
    let eth = Market::parse("market", "KRW-ETH").unwrap();
    let t = c.tickers(&[btc(), eth]).await.unwrap();
    assert_eq!(t[0].trade_price.get(), dec!(148601000));
    let ob = c.orderbook(&btc()).await.unwrap();
    assert_eq!(ob.best_ask().unwrap().price.get(), dec!(148520000));
    let i = c.instruments(&[btc()]).await.unwrap();
    assert_eq!(i[0].tick_size.get(), dec!(1000));
    let tr = c
        .trades(&upbit::http::query::TradesQuery::latest(btc(), 1))
        .await
        .unwrap();
    assert_eq!(tr[0].sequential_id, 17_510_687_993_360_000);
    let d = c
        .candles(&btc(), CandleInterval::Days, None, 1)
        .await
        .unwrap();
    assert_eq!(d[0].close.get(), dec!(145759000));
    let w = c
        .candles(&btc(), CandleInterval::Weeks, None, 1)
        .await
        .unwrap();
    assert_eq!(w.len(), 1);

    let reqs = server.requests();
    let q = |path: &str| {
        reqs.iter()
            .find(|r| r.path == path)
            .and_then(|r| r.query.clone())
            .unwrap_or_default()
    };
    assert_eq!(q("/v1/market/all"), "is_details=true");
    assert_eq!(q("/v1/ticker"), "markets=KRW-BTC%2CKRW-ETH");
    assert_eq!(q("/v1/orderbook"), "markets=KRW-BTC");
    assert_eq!(q("/v1/trades/ticks"), "market=KRW-BTC&count=1");
}

#[derive(Debug, Deserialize)]
struct Claims {
    access_key: String,
    nonce: String,
    query_hash: Option<String>,
}

/// What a faithful server checks: signature with the raw secret, the
/// access key, and `query_hash` over the percent-decoded query (or body).
fn verify_jwt(r: &Recorded, expect_hash_of: Option<&str>) -> Claims {
    let auth = r.headers.get("authorization").unwrap().to_str().unwrap();
    let token = auth.strip_prefix("Bearer ").unwrap();
    let mut v = Validation::new(Algorithm::HS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    let claims = decode::<Claims>(token, &DecodingKey::from_secret(SK.as_bytes()), &v)
        .unwrap()
        .claims;
    assert_eq!(claims.access_key, AK);
    assert_eq!(claims.query_hash, expect_hash_of.map(query_hash));
    claims
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn signed_requests_carry_a_verifiable_jwt_with_a_fresh_nonce() {
    let server = TestServer::start(|r, _| match r.path.as_str() {
        "/v1/accounts" => Reply::json(200, data("accounts_fractional.json")),
        _ => Reply::json(200, "{}"),
    })
    .await;
    let c = signed_client(&server);
    let b = c.accounts().await.unwrap();
    assert_eq!(b[0].locked, dec!(4999.99999922));
    let b2 = c.accounts().await.unwrap();
    assert_eq!(b, b2);

    // A signed GET with array parameters and a signed POST with a JSON body.
    let params = Params::new()
        .push("market", "KRW-BTC")
        .push_many("states", ["wait", "watch"])
        .push("to", "2025-06-24T13:56:53+09:00");
    let t = c.transport();
    let _: serde_json::Value = t
        .request(
            &ApiRequest::get("/v1/echo", RateGroup::Default)
                .params(params.clone())
                .signed(),
        )
        .await
        .unwrap();
    let _: serde_json::Value = t
        .request(
            &ApiRequest::post("/v1/echo", RateGroup::Default)
                .params(params)
                .signed(),
        )
        .await
        .unwrap();

    let reqs = server.requests();
    let n1 = verify_jwt(&reqs[0], None).nonce;
    let n2 = verify_jwt(&reqs[1], None).nonce;
    assert_ne!(n1, n2, "a fresh nonce per request");

    let get = &reqs[2];
    let raw_query = get.query.clone().unwrap();
    assert_eq!(
        raw_query,
        "market=KRW-BTC&states[]=wait&states[]=watch&to=2025-06-24T13%3A56%3A53%2B09%3A00"
    );
    let decoded = percent_decode(&raw_query);
    assert_eq!(
        decoded,
        "market=KRW-BTC&states[]=wait&states[]=watch&to=2025-06-24T13:56:53+09:00"
    );
    verify_jwt(get, Some(&decoded));

    let post = &reqs[3];
    assert_eq!(post.method, axum::http::Method::POST);
    assert_eq!(post.query, None);
    assert_eq!(
        post.headers.get("content-type").unwrap(),
        "application/json; charset=utf-8"
    );
    assert_eq!(
        post.body,
        r#"{"market":"KRW-BTC","states":["wait","watch"],"to":"2025-06-24T13:56:53+09:00"}"#
    );
    verify_jwt(post, Some(&decoded));
    assert!(reqs.iter().all(|r| r.headers.get("origin").is_none()));
}

#[tokio::test]
async fn a_signed_call_without_credential_is_a_local_error_and_sends_nothing() {
    let server = TestServer::start(|_, _| Reply::json(200, "[]")).await;
    let err = client(&server).accounts().await.unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Local);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn plain_text_429_stops_the_group_and_an_idempotent_call_retries_after_it() {
    let server = TestServer::start(|_, n| {
        if n == 0 {
            Reply::text(429, "Too many API requests.")
                .header("remaining-req", "group=ticker; min=600; sec=0")
        } else {
            Reply::json(200, data("ticker.json"))
        }
    })
    .await;
    let c = client(&server);
    let started = Instant::now();
    let t = c.tickers(&[btc()]).await.unwrap();
    assert_eq!(t.len(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(180),
        "the retry waited for the group to reopen: {:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 2);

    // Without retries the caller sees the typed error and the group is stopped.
    let server = TestServer::start(|_, _| Reply::text(429, "Too many API requests.")).await;
    let mut cfg = config(&server);
    cfg.retry.max_attempts = 1;
    cfg.limits.pause_after_429 = Duration::from_secs(1);
    let c = UpbitClient::from_config(cfg, runtime::SystemClock::shared()).unwrap();
    let err = c.tickers(&[btc()]).await.unwrap_err();
    assert!(
        matches!(
            err,
            UpbitError::RateLimited {
                group: Some(RateGroup::Ticker),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(
        c.transport()
            .limiter()
            .stopped_until(RateGroup::Ticker)
            .is_some()
    );
    assert!(
        c.transport()
            .limiter()
            .stopped_until(RateGroup::Candles)
            .is_none()
    );
}

#[tokio::test]
async fn a_418_blocks_every_group_without_sending() {
    let server =
        TestServer::start(|_, _| Reply::text(418, "blocked").header("retry-after", "30")).await;
    let c = client(&server);
    let err = c.tickers(&[btc()]).await.unwrap_err();
    assert!(matches!(err, UpbitError::Blocked { .. }), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert!(!err.is_retryable());
    assert_eq!(server.requests().len(), 1, "418 is not retried");

    let err = c
        .candles(&btc(), CandleInterval::Days, None, 1)
        .await
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Blocked);
    assert_eq!(
        server.requests().len(),
        1,
        "nothing is sent during the block"
    );
    assert!(c.transport().limiter().blocked_until().is_some());
}

#[tokio::test]
async fn server_errors_retry_gets_but_never_posts() {
    let server = TestServer::start(|r, n| {
        if r.method == axum::http::Method::GET && n == 0 {
            Reply::text(503, "<html>busy</html>")
        } else if r.method == axum::http::Method::POST {
            Reply::json(500, r#"{"error":{"name":"server_error","message":"x"}}"#)
        } else {
            Reply::json(200, data("orderbook.json"))
        }
    })
    .await;
    let c = client(&server);
    let ob = c.orderbooks(&[btc()], Some(30)).await.unwrap();
    assert_eq!(ob.len(), 1);
    assert_eq!(server.requests().len(), 2);
    assert_eq!(
        server.requests()[1].query.as_deref(),
        Some("markets=KRW-BTC&count=30")
    );

    let err = c
        .transport()
        .request_bytes(&ApiRequest::post("/v1/echo", RateGroup::Default))
        .await
        .unwrap_err();
    assert!(
        matches!(err, UpbitError::Server { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.outcome_unknown());
    assert_eq!(server.requests().len(), 3, "a POST is sent once");
}

#[tokio::test]
async fn api_errors_are_typed_and_not_retried() {
    let server = TestServer::start(|r, _| match r.path.as_str() {
        "/v1/accounts" => Reply::json(401, data("error_jwt_verification.json")),
        _ => Reply::json(404, data("error_quotation_404.json")),
    })
    .await;
    let err = signed_client(&server).accounts().await.unwrap_err();
    assert_eq!(err.api_kind(), Some(&ApiErrorKind::JwtVerification));
    assert_eq!(err.category(), ErrorCategory::Auth);
    let err = client(&server).tickers(&[btc()]).await.unwrap_err();
    assert_eq!(err.api_kind(), Some(&ApiErrorKind::Quotation(404)));
    assert_eq!(err.category(), ErrorCategory::NotFound);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn bad_bodies_timeouts_and_dead_servers_are_typed_errors() {
    let server = TestServer::start(|r, _| match r.path.as_str() {
        "/v1/ticker" => Reply::json(200, &data("ticker.json")[..100]),
        "/v1/orderbook" => Reply::json(200, "<html>maintenance</html>"),
        _ => Reply::json(200, "[]").delayed(Duration::from_secs(2)),
    })
    .await;
    let mut cfg = config(&server);
    cfg.retry.max_attempts = 1;
    let c = UpbitClient::from_config(cfg, runtime::SystemClock::shared()).unwrap();
    let err = c.tickers(&[btc()]).await.unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Decode, "{err}");
    let err = c.orderbooks(&[btc()], None).await.unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Decode, "{err}");
    let err = c.krw_markets(false).await.unwrap_err();
    assert!(
        matches!(err, UpbitError::Transport { timeout: true, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());

    // Nothing listens on this port: a connect error, known not to be sent.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let urls = UpbitUrls::new(&format!("http://127.0.0.1:{port}"), "ws://127.0.0.1:1").unwrap();
    let mut cfg = HttpConfig::with_urls(urls);
    cfg.retry.max_attempts = 1;
    let dead = UpbitClient::from_config(cfg, Arc::new(runtime::SystemClock)).unwrap();
    let err = dead.tickers(&[btc()]).await.unwrap_err();
    assert!(
        matches!(
            err,
            UpbitError::Transport {
                maybe_sent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn invalid_parameters_fail_before_sending() {
    let server = TestServer::start(|_, _| Reply::json(200, "[]")).await;
    let c = client(&server);
    let err = c
        .candles(&btc(), CandleInterval::Days, None, 201)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, UpbitError::InvalidRequest(e) if e.field == "count"),
        "{err:?}"
    );
    assert!(c.tickers(&[]).await.is_err());
    assert!(c.orderbooks(&[btc()], Some(31)).await.is_err());
    assert!(server.requests().is_empty());
}
