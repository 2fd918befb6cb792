//! Order client tests: recorded payloads parse exactly, bodies and queries
//! are what Upbit expects (hash pinned with Python's hashlib), and against a
//! recorded-payload server: signed requests, the right paths and groups, and
//! `create_or_recover` never placing twice.

#![allow(
    clippy::many_single_char_names,
    reason = "short names in assertion-heavy payload checks"
)]

mod fuzz;
mod server;

use std::time::Duration;

use chrono::TimeZone;
use domain::{
    Krw, Market, OrdType, OrderIdentifier, OrderRequest, OrderState, Price, Secret, Side,
    TimeInForce, TraderId, Volume,
};
use rust_decimal_macros::dec;
use upbit::{
    Credential, ErrorCategory, HttpConfig, RateGroup, RetryPolicy, UpbitTransport, UpbitUrls,
    common::credential::query_hash, http::parse::decode_json, http::rate_limit::Decision,
};

use super::{
    client::*,
    models::{BatchCancelWire, ChanceWire, OrderWire},
    types,
};
use server::{Action, MiniServer, Req};

macro_rules! data {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/upbit_orders/test_data/",
            $name
        ))
    };
}

fn btc() -> Market {
    Market::parse("market", "KRW-BTC").unwrap()
}

fn ident() -> OrderIdentifier {
    OrderIdentifier::for_attempt(TraderId::new(7).unwrap(), "k3x9", 120, 2).unwrap()
}

fn limit_bid() -> OrderRequest {
    OrderRequest::limit(
        btc(),
        Side::Bid,
        Price::new(dec!(100000000)).unwrap(),
        Volume::new(dec!(0.01)).unwrap(),
        None,
        ident(),
    )
    .unwrap()
}

fn order_json(identifier: &str) -> String {
    data!("create_limit_bid.json").replacen(
        "\"trades_count\": 0",
        &format!("\"trades_count\": 0, \"identifier\": \"{identifier}\""),
        1,
    )
}

#[test]
fn recorded_order_payloads_parse_exactly() {
    let w: OrderWire = decode_json("t", data!("create_limit_bid.json").as_bytes()).unwrap();
    let o = types::order(&w).unwrap();
    assert_eq!(o.state, OrderState::Wait);
    assert_eq!(o.side, Side::Bid);
    assert_eq!(o.ord_type, OrdType::Limit);
    assert_eq!(o.price.unwrap().get(), dec!(140000000));
    assert_eq!(o.volume.unwrap().get(), dec!(1));
    assert_eq!(o.reserved_fee.get(), dec!(70000));
    assert_eq!(o.locked, dec!(140070000));
    assert_eq!(o.trades_count, 0);
    assert_eq!(
        o.created_at,
        chrono::Utc.with_ymd_and_hms(2025, 7, 4, 6, 0, 0).unwrap()
    );

    // The real KR market-sell example: no price, one fill, unrounded fee.
    // (KRW-USDT is a KRW market, so it converts.)
    let w: OrderWire =
        decode_json("t", data!("get_order_market_sell_done.json").as_bytes()).unwrap();
    let o = types::order(&w).unwrap();
    assert_eq!(o.price, None);
    assert_eq!(o.state, OrderState::Done);
    assert_eq!(o.paid_fee.get(), dec!(3.697095875));
    assert_eq!(o.trades.len(), 1);
    let t = &o.trades[0];
    assert_eq!(t.funds.get(), dec!(7394.19175));
    assert_eq!(t.price.get() * t.volume.get(), t.funds.get());
    assert_eq!(t.created_at.timestamp_subsec_micros(), 597_751);
    assert_eq!(o.average_fill_price().unwrap().get(), dec!(1375));
    assert!(o.is_final());

    let w: Vec<OrderWire> = decode_json("t", data!("list_open.json").as_bytes()).unwrap();
    let o = types::order(&w[0]).unwrap();
    assert_eq!(o.executed_funds.unwrap().get(), dec!(840000));
    assert_eq!(o.time_in_force, Some(TimeInForce::PostOnly));
    assert_eq!(o.identifier.as_deref(), Some("my-client-id-0001"));
    assert_eq!(o.order_identifier().unwrap().as_str(), "my-client-id-0001");
    assert_eq!(o.remaining_volume.unwrap().get(), dec!(0.004));
    assert_eq!(o.average_fill_price().unwrap().get(), dec!(140000000));

    let w: OrderWire = decode_json("t", data!("cancel_and_new.json").as_bytes()).unwrap();
    let o = types::order(&w).unwrap();
    assert_eq!(
        o.new_order_uuid.as_deref(),
        Some("cb1cce56-6237-4a78-bc11-4cfffc1bb4c2")
    );
    assert_eq!(o.new_order_identifier.as_deref(), Some("22"));
    // The real response quoted trades_count.
    let quoted =
        data!("cancel_and_new.json").replace("\"trades_count\": 0", "\"trades_count\": \"0\"");
    let w: OrderWire = decode_json("t", quoted.as_bytes()).unwrap();
    assert_eq!(w.trades_count, Some(0));

    let w: BatchCancelWire = decode_json("t", data!("cancel_batch.json").as_bytes()).unwrap();
    let b = types::batch_cancel(&w);
    assert_eq!((b.success_count, b.failed_count), (2, 1));
    assert_eq!(b.succeeded[1].identifier.as_deref(), Some("id-2"));
    assert_eq!(b.failed[0].market, "KRW-BTC");

    let w: ChanceWire = decode_json("t", data!("chance.json").as_bytes()).unwrap();
    let c = types::chance(&w).unwrap();
    assert_eq!(c.bid_fee, dec!(0.0005));
    assert_eq!(c.maker_ask_fee, dec!(0.0005));
    assert_eq!(c.bid_min_total.unwrap().get(), dec!(5000));
    assert_eq!(c.max_total.unwrap().get(), dec!(1000000000));
    assert_eq!(c.bid_account.free_krw().unwrap().get(), dec!(10000));
    assert_eq!(c.ask_account.balance, dec!(0.001));
    assert!(c.bid_types.iter().any(|t| t == "best_ioc"));
    // Older shape: min_total as a number, price_unit null.
    let old = data!("chance.json").replace(
        "\"min_total\": \"5000\"",
        "\"min_total\": 5000, \"price_unit\": null",
    );
    let w: ChanceWire = decode_json("t", old.as_bytes()).unwrap();
    assert_eq!(w.market.bid.min_total, Some(dec!(5000)));
}

#[test]
fn invalid_order_values_are_typed_errors() {
    for (from, to, field) in [
        ("\"side\": \"bid\"", "\"side\": \"buy\"", "side"),
        ("\"state\": \"wait\"", "\"state\": \"open\"", "state"),
        (
            "\"market\": \"KRW-BTC\"",
            "\"market\": \"BTC-ETH\"",
            "market",
        ),
        ("\"price\": \"140000000\"", "\"price\": \"-1\"", "price"),
        (
            "\"volume\": \"1.0\"",
            "\"volume\": \"0.123456789\"",
            "volume",
        ),
        (
            "\"created_at\": \"2025-07-04T15:00:00+09:00\"",
            "\"created_at\": \"2025-07-04 15:00\"",
            "created_at",
        ),
    ] {
        let body = data!("create_limit_bid.json").replace(from, to);
        assert_ne!(body, data!("create_limit_bid.json"), "{from} not found");
        let w: OrderWire = decode_json("t", body.as_bytes()).unwrap();
        assert_eq!(types::order(&w).unwrap_err().field, field);
    }
    assert!(decode_json::<OrderWire>("t", b"{\"uuid\":1}").is_err());
}

#[test]
fn create_bodies_follow_the_order_type_matrix() {
    let limit = order_body(&limit_bid());
    assert_eq!(
        limit.to_json_body(),
        r#"{"market":"KRW-BTC","side":"bid","volume":"0.01","price":"100000000","ord_type":"limit","identifier":"t7-k3x9-120-2"}"#
    );
    // python3: hashlib.sha512(b"market=KRW-BTC&side=bid&volume=0.01&price=100000000&ord_type=limit&identifier=t7-k3x9-120-2").hexdigest()
    assert_eq!(
        query_hash(&limit.hash_input()),
        "5ed1e2394d986687ce5f41f0449a0a7e8b7643a96a3a9f46cd36da81d31096e4bcc9c5a9b1d57056e3bd0ecaa53689b0722a4ac0bd95b00e7af1983afac5ea0f"
    );

    let buy = OrderRequest::market_buy(btc(), Krw::from_i64(10_000), ident()).unwrap();
    assert_eq!(
        order_body(&buy).to_json_body(),
        r#"{"market":"KRW-BTC","side":"bid","price":"10000","ord_type":"price","identifier":"t7-k3x9-120-2"}"#
    );
    let sell = OrderRequest::market_sell(
        btc(),
        Volume::new(dec!(0.001)).unwrap(),
        Price::new(dec!(100000000)).unwrap(),
        ident(),
    )
    .unwrap();
    assert_eq!(
        order_body(&sell).to_json_body(),
        r#"{"market":"KRW-BTC","side":"ask","volume":"0.001","ord_type":"market","identifier":"t7-k3x9-120-2"}"#
    );
    let ioc = OrderRequest::limit(
        btc(),
        Side::Ask,
        Price::new(dec!(100000000)).unwrap(),
        Volume::new(dec!(0.01)).unwrap(),
        Some(TimeInForce::Ioc),
        ident(),
    )
    .unwrap();
    assert!(
        order_body(&ioc)
            .hash_input()
            .ends_with("&ord_type=limit&time_in_force=ioc&identifier=t7-k3x9-120-2")
    );
}

#[tokio::test]
async fn list_and_cancel_queries_validate() {
    let q = OpenOrdersQuery {
        market: Some(btc()),
        states: vec![OrderState::Wait, OrderState::Watch],
        limit: Some(100),
        order_by: Some(OrderBy::Asc),
        ..OpenOrdersQuery::default()
    };
    let bad = OpenOrdersQuery {
        states: vec![OrderState::Done],
        ..OpenOrdersQuery::default()
    };
    let too_many = OpenOrdersQuery {
        limit: Some(101),
        ..OpenOrdersQuery::default()
    };
    let t0 = chrono::Utc.with_ymd_and_hms(2025, 7, 1, 0, 0, 0).unwrap();
    let wide = ClosedOrdersQuery {
        start_time: Some(t0),
        end_time: Some(t0 + chrono::Duration::days(8)),
        ..ClosedOrdersQuery::default()
    };
    let open_state = ClosedOrdersQuery {
        states: vec![OrderState::Wait],
        ..ClosedOrdersQuery::default()
    };
    let both = CancelAllQuery {
        pairs: vec![btc()],
        quote_currencies: vec![domain::Currency::krw()],
        ..CancelAllQuery::default()
    };
    {
        let server = MiniServer::start(|_, _| Action::Reply(200, "[]".into())).await;
        let c = client(&server);
        assert!(c.open_orders(&q).await.unwrap().is_empty());
        for err in [
            c.open_orders(&bad).await.unwrap_err(),
            c.open_orders(&too_many).await.unwrap_err(),
            c.closed_orders(&wide).await.unwrap_err(),
            c.closed_orders(&open_state).await.unwrap_err(),
            c.cancel_all(&both).await.unwrap_err(),
            c.cancel_by_ids(&OrderKeys::Uuids(vec![]))
                .await
                .unwrap_err(),
            c.cancel_by_ids(&OrderKeys::Uuids(vec!["u".into(); 21]))
                .await
                .unwrap_err(),
            c.orders_by_ids(&OrderKeys::Uuids(vec!["u".into(); 101]), None, None)
                .await
                .unwrap_err(),
        ] {
            assert_eq!(err.category(), ErrorCategory::Local, "{err}");
        }
        let reqs = server.requests();
        assert_eq!(reqs.len(), 1, "invalid queries send nothing");
        assert_eq!(
            reqs[0].query.as_deref(),
            Some("market=KRW-BTC&states[]=wait&states[]=watch&limit=100&order_by=asc")
        );
    }
}

const AK: &str = "TEST_ACCESS_KEY_0123456789abcdefghijklmn";
const SK: &str = "TEST_SECRET_KEY_0123456789abcdefghijklmn";

fn client(server: &MiniServer) -> UpbitOrderClient {
    let mut cfg = HttpConfig::with_urls(
        UpbitUrls::new(&server.base(), "ws://127.0.0.1:1/websocket/v1").unwrap(),
    );
    cfg.retry = RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
    };
    cfg.timeout = Duration::from_secs(2);
    let t = UpbitTransport::new(cfg, upbit::SystemClock::shared())
        .unwrap()
        .with_credential(Credential::new(AK, Secret::new(SK)).unwrap());
    UpbitOrderClient::new(t).unwrap()
}

fn fast() -> RecoverPolicy {
    RecoverPolicy {
        create_attempts: 3,
        lookup_attempts: 2,
        pause: Duration::from_millis(10),
    }
}

fn b64url_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("bad base64url"),
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        acc = (acc << 6) | u32::from(val(c));
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The JWT's claims, after checking its `query_hash` covers `hashed`.
fn check_jwt(r: &Req, hashed: Option<&str>) -> serde_json::Value {
    let auth = r.header("authorization").expect("signed");
    let token = auth.strip_prefix("Bearer ").unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&b64url_decode(payload)).unwrap();
    assert_eq!(claims["access_key"], AK);
    match hashed {
        Some(h) => assert_eq!(claims["query_hash"], query_hash(h)),
        None => assert!(claims.get("query_hash").is_none()),
    }
    claims
}

#[tokio::test]
async fn create_posts_a_signed_json_body() {
    let server = MiniServer::start(|r, _| {
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/orders"));
        Action::Reply(201, order_json("t7-k3x9-120-2"))
    })
    .await;
    let c = client(&server);
    let o = c.create(&limit_bid()).await.unwrap();
    assert_eq!(o.identifier.as_deref(), Some("t7-k3x9-120-2"));
    let r = &server.requests()[0];
    assert_eq!(r.body, order_body(&limit_bid()).to_json_body());
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(r.header("origin").is_none());
    check_jwt(r, Some(&order_body(&limit_bid()).hash_input()));
}

#[tokio::test]
async fn a_lost_create_response_is_recovered_by_identifier_without_a_second_post() {
    let server = MiniServer::start(|r, _| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/v1/orders") => Action::Drop,
        ("GET", "/v1/order") => Action::Reply(200, order_json("t7-k3x9-120-2")),
        other => panic!("unexpected {other:?}"),
    })
    .await;
    let out = client(&server)
        .create_or_recover_with(&limit_bid(), &fast())
        .await
        .unwrap();
    assert!(matches!(out, CreateOutcome::Recovered(_)), "{out:?}");
    assert_eq!(out.order().uuid, "cdd92199-2897-4e14-9448-f923320408ad");
    let reqs = server.requests();
    let posts = reqs.iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1, "never a second create once the order exists");
    let get = reqs.iter().find(|r| r.method == "GET").unwrap();
    assert_eq!(get.query.as_deref(), Some("identifier=t7-k3x9-120-2"));
    check_jwt(get, Some("identifier=t7-k3x9-120-2"));
}

#[tokio::test]
async fn a_create_that_never_landed_is_retried_with_the_same_identifier() {
    let server = MiniServer::start(|r, n| match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/v1/orders") if n == 0 => Action::Drop,
        ("POST", "/v1/orders") => Action::Reply(201, order_json("t7-k3x9-120-2")),
        ("GET", "/v1/order") => Action::Reply(
            404,
            r#"{"error":{"name":"order_not_found","message":"주문을 찾지 못했습니다."}}"#.into(),
        ),
        other => panic!("unexpected {other:?}"),
    })
    .await;
    let out = client(&server)
        .create_or_recover_with(&limit_bid(), &fast())
        .await
        .unwrap();
    assert!(matches!(out, CreateOutcome::Created(_)), "{out:?}");
    let reqs = server.requests();
    let kinds: Vec<_> = reqs.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(kinds, ["POST", "GET", "POST"], "look up before every retry");
    assert_eq!(reqs[0].body, reqs[2].body, "same body, same identifier");
    let n0 = check_jwt(&reqs[0], Some(&order_body(&limit_bid()).hash_input()))["nonce"].clone();
    let n2 = check_jwt(&reqs[2], Some(&order_body(&limit_bid()).hash_input()))["nonce"].clone();
    assert_ne!(n0, n2, "a retry carries a fresh nonce");
}

#[tokio::test]
async fn a_duplicate_identifier_refusal_finds_the_existing_order() {
    let server = MiniServer::start(|r, _| match r.method.as_str() {
        "POST" => Action::Reply(
            400,
            r#"{"error":{"name":"duplicate_identifier","message":"x"}}"#.into(),
        ),
        _ => Action::Reply(200, order_json("t7-k3x9-120-2")),
    })
    .await;
    let out = client(&server)
        .create_or_recover_with(&limit_bid(), &fast())
        .await
        .unwrap();
    assert!(matches!(out, CreateOutcome::Recovered(_)));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn definite_rejections_are_returned_without_lookup_or_retry() {
    let server = MiniServer::start(|_, _| {
        Action::Reply(
            400,
            r#"{"error":{"name":"insufficient_funds_bid","message":"주문가능한 금액(KRW)이 부족합니다."}}"#
                .into(),
        )
    })
    .await;
    let err = client(&server)
        .create_or_recover_with(&limit_bid(), &fast())
        .await
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::InsufficientFunds);
    assert!(!err.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_unknowable_outcome_is_an_error_and_never_a_second_create() {
    let server = MiniServer::start(|r, _| match r.method.as_str() {
        "POST" => Action::Drop,
        _ => Action::Reply(503, "busy".into()),
    })
    .await;
    let err = client(&server)
        .create_or_recover_with(&limit_bid(), &fast())
        .await
        .unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Transient, "{err}");
    let reqs = server.requests();
    assert_eq!(reqs.iter().filter(|r| r.method == "POST").count(), 1);
    assert!(reqs.iter().filter(|r| r.method == "GET").count() >= 2);
}

#[tokio::test]
async fn every_endpoint_uses_its_method_path_and_group() {
    let server = MiniServer::start(|r, _| {
        let body = match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v1/orders/chance") => data!("chance.json").to_owned(),
            ("POST", "/v1/orders/test") => data!("create_limit_bid.json").to_owned(),
            ("GET", "/v1/order") => data!("get_order_market_sell_done.json").to_owned(),
            // The docs show this one wrapped in an array.
            ("DELETE", "/v1/order") => format!("[{}]", data!("create_limit_bid.json")),
            ("GET", "/v1/orders/open" | "/v1/orders/closed" | "/v1/orders/uuids") => {
                data!("list_open.json").to_owned()
            }
            ("DELETE", "/v1/orders/uuids" | "/v1/orders/open") => {
                data!("cancel_batch.json").to_owned()
            }
            other => panic!("unexpected {other:?}"),
        };
        Action::Reply(200, body)
    })
    .await;
    let c = client(&server);
    let uuid = OrderKey::Uuid("3b67e543-8ad3-48d0-8451-0dad315cae73".into());
    assert_eq!(c.chance(&btc()).await.unwrap().bid_fee, dec!(0.0005));
    assert_eq!(
        c.create_test(&limit_bid()).await.unwrap().state,
        OrderState::Wait
    );
    assert_eq!(c.get(&uuid).await.unwrap().trades.len(), 1);
    assert_eq!(c.cancel(&uuid).await.unwrap().state, OrderState::Wait);
    let t0 = chrono::Utc.with_ymd_and_hms(2025, 7, 1, 0, 0, 0).unwrap();
    let closed = ClosedOrdersQuery {
        market: Some(btc()),
        states: vec![OrderState::Done, OrderState::Cancel],
        start_time: Some(t0),
        end_time: None,
        limit: Some(50),
        order_by: Some(OrderBy::Asc),
    };
    assert_eq!(c.closed_orders(&closed).await.unwrap().len(), 1);
    assert_eq!(
        c.open_orders(&OpenOrdersQuery::default())
            .await
            .unwrap()
            .len(),
        1
    );
    let ids = OrderKeys::Identifiers(vec![ident()]);
    assert_eq!(
        c.orders_by_ids(&ids, Some(&btc()), None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(c.cancel_by_ids(&ids).await.unwrap().success_count, 2);
    let all = CancelAllQuery {
        cancel_side: Some(CancelSide::Bid),
        pairs: vec![btc()],
        count: Some(300),
        ..CancelAllQuery::default()
    };
    assert_eq!(c.cancel_all(&all).await.unwrap().failed_count, 1);
    // The batch cancel of open orders has its own 1-per-2-s group.
    assert!(matches!(
        c.transport().limiter().check(RateGroup::OrderCancelAll),
        Decision::Wait(_)
    ));

    let reqs = server.requests();
    let seen: Vec<_> = reqs
        .iter()
        .map(|r| {
            (
                r.method.as_str(),
                r.path.as_str(),
                r.query.as_deref().map(percent_decode),
            )
        })
        .collect();
    let want_queries = [
        Some("market=KRW-BTC".to_owned()),
        None,
        Some("uuid=3b67e543-8ad3-48d0-8451-0dad315cae73".to_owned()),
        Some("uuid=3b67e543-8ad3-48d0-8451-0dad315cae73".to_owned()),
        Some(
            "market=KRW-BTC&states[]=done&states[]=cancel&start_time=2025-07-01T00:00:00Z&limit=50&order_by=asc"
                .to_owned(),
        ),
        None,
        Some("market=KRW-BTC&identifiers[]=t7-k3x9-120-2".to_owned()),
        Some("identifiers[]=t7-k3x9-120-2".to_owned()),
        Some("cancel_side=bid&pairs=KRW-BTC&count=300".to_owned()),
    ];
    assert_eq!(seen.len(), want_queries.len());
    for ((method, path, query), want) in seen.iter().zip(want_queries) {
        assert_eq!(query, &want, "{method} {path}");
    }
    // Every call is signed; the hash covers the decoded query or the body.
    for r in &reqs {
        let hashed = match r.method.as_str() {
            "POST" => Some(order_body(&limit_bid()).hash_input()),
            _ => r.query.as_deref().map(percent_decode),
        };
        check_jwt(r, hashed.as_deref());
    }
}

#[test]
fn the_order_client_needs_a_credential() {
    let t = UpbitTransport::new(HttpConfig::default(), upbit::SystemClock::shared()).unwrap();
    let err = UpbitOrderClient::new(t).unwrap_err();
    assert_eq!(err.category(), ErrorCategory::Local);
}
