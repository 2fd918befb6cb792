//! Conformance of the Upbit order client (`execution::upbit_orders`) against
//! the project's simulator started in-process: every order endpoint with its
//! typed answer, the error paths with their retry classes, local validation
//! that sends nothing, and `create_or_recover` never placing an order twice
//! (lost answers, 429s, duplicate identifiers).

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use domain::{
    Krw, Market, OrdType, OrderIdentifier, OrderRequest, OrderState, Price, Secret, Side,
    TimeInForce, TraderId, Volume,
};
use execution::upbit_orders::{
    CancelAllQuery, CancelSide, ClosedOrdersQuery, CreateOutcome, OpenOrdersQuery, OrderBy,
    OrderKey, OrderKeys, RecoverPolicy, UpbitOrderClient, order_body,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};
use upbit::{
    ApiErrorKind, Credential, ErrorCategory, HttpConfig, Params, RetryPolicy, SystemClock,
    UpbitClient, UpbitError, UpbitTransport, UpbitUrls, http::query::ParamValue,
};
use upbit_sim::{AccountSpec, MarketSource, SimConfig, SimHandle, Simulator};

const AK: &str = "orders-access";
const SK: &str = "orders-secret-0123456789";

fn data_file() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../upbit-sim/tests/data/upbit_krw_3mkts_1m_2025-09-01_5h.csv")
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 3, 0, 0).single().unwrap()
}

/// The real 3-market replay at 03:00 UTC, frozen, with a funded account and
/// a view-only one.
async fn sim() -> SimHandle {
    let mut c = SimConfig::new(MarketSource::Files(vec![data_file()]));
    c.speed = 0.0;
    c.start = Some(start());
    c.seed = 3;
    let mut view_only = AccountSpec::new("view-only", SK, &[("KRW", "1000000")]);
    view_only.permissions = Some(vec!["view_accounts".into(), "view_orders".into()]);
    c.accounts = vec![
        AccountSpec::new(AK, SK, &[("KRW", "100000000"), ("XRP", "10000")]),
        view_only,
    ];
    Simulator::start(c).await.unwrap()
}

fn http_config(h: &SimHandle, timeout: Duration) -> HttpConfig {
    let mut c = HttpConfig::with_urls(UpbitUrls::new(&h.base_url(), &h.ws_url()).unwrap());
    c.timeout = timeout;
    c.retry = RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
    };
    c
}

fn orders_as(h: &SimHandle, ak: &str, sk: &str, timeout: Duration) -> UpbitOrderClient {
    let t = UpbitTransport::new(http_config(h, timeout), SystemClock::shared())
        .unwrap()
        .with_credential(Credential::new(ak, Secret::new(sk)).unwrap());
    UpbitOrderClient::new(t).unwrap()
}

fn orders(h: &SimHandle) -> UpbitOrderClient {
    orders_as(h, AK, SK, Duration::from_secs(5))
}

fn market(code: &str) -> Market {
    Market::parse("market", code).unwrap()
}

fn ident(intent: i64) -> OrderIdentifier {
    OrderIdentifier::for_attempt(TraderId::new(7).unwrap(), "conf", intent, 0).unwrap()
}

/// `(best ask, best bid)` of a market, read with the read-only client.
async fn top(h: &SimHandle, code: &str) -> (Decimal, Decimal) {
    let c = UpbitClient::new(
        UpbitTransport::new(
            http_config(h, Duration::from_secs(5)),
            SystemClock::shared(),
        )
        .unwrap(),
    );
    let b = c.orderbook(&market(code)).await.unwrap();
    (b.asks[0].price.get(), b.bids[0].price.get())
}

fn limit(
    code: &str,
    side: Side,
    price: Decimal,
    volume: Decimal,
    tif: Option<TimeInForce>,
    id: i64,
) -> OrderRequest {
    OrderRequest::limit(
        market(code),
        side,
        Price::new(price).unwrap(),
        Volume::new(volume).unwrap(),
        tif,
        ident(id),
    )
    .unwrap()
}

async fn admin(h: &SimHandle, path: &str, body: Option<Value>) -> Value {
    let http = reqwest::Client::new();
    let url = format!("{}/_sim{path}", h.base_url());
    let req = match body {
        Some(b) => http.post(url).json(&b),
        None => http.get(url),
    };
    req.send().await.unwrap().json().await.unwrap()
}

/// Create attempts the simulator received (its admin log).
async fn create_attempts(h: &SimHandle) -> usize {
    admin(h, "/orders", None).await.as_array().unwrap().len()
}

fn kind(e: &UpbitError) -> ApiErrorKind {
    e.api_kind()
        .cloned()
        .unwrap_or_else(|| panic!("not an API error: {e:?}"))
}

#[tokio::test]
async fn chance_and_the_limit_order_lifecycle() {
    let h = sim().await;
    let c = orders(&h);
    let xrp = market("KRW-XRP");
    let chance = c.chance(&xrp).await.unwrap();
    assert_eq!(chance.market, xrp);
    assert_eq!(
        (chance.bid_fee, chance.ask_fee, chance.maker_bid_fee),
        (dec!(0.0005), dec!(0.0005), dec!(0.0005))
    );
    assert_eq!(chance.bid_min_total.unwrap().get(), dec!(5000));
    assert_eq!(chance.max_total.unwrap().get(), dec!(1000000000));
    assert_eq!(chance.bid_account.balance, dec!(100000000));
    assert_eq!(chance.ask_account.balance, dec!(10000));
    assert!(chance.bid_types.iter().any(|t| t == "price"));
    assert_eq!(chance.state.as_deref(), Some("active"));

    let (_, bid) = top(&h, "KRW-XRP").await;
    let price = bid - Decimal::TEN;
    let req = limit("KRW-XRP", Side::Bid, price, dec!(20), None, 1);
    let created = c.create(&req).await.unwrap();
    assert_eq!(
        (created.state, created.side, created.ord_type),
        (OrderState::Wait, Side::Bid, OrdType::Limit)
    );
    assert_eq!(created.identifier.as_deref(), Some(ident(1).as_str()));
    assert_eq!(created.order_identifier(), Some(ident(1)));
    assert_eq!(created.price.unwrap().get(), price);
    assert_eq!(created.volume.unwrap().get(), dec!(20));
    assert_eq!(created.reserved_fee.get(), price * dec!(20) * dec!(0.0005));
    assert_eq!(created.locked, price * dec!(20) * dec!(1.0005));
    assert_eq!(created.created_at, start());
    assert!(created.trades.is_empty() && created.executed_funds.is_none());

    let by_uuid = c.get(&OrderKey::Uuid(created.uuid.clone())).await.unwrap();
    let by_id = c.get(&OrderKey::Identifier(ident(1))).await.unwrap();
    assert_eq!(by_uuid, by_id);
    assert_eq!(by_uuid.uuid, created.uuid);
    let open = c
        .open_orders(&OpenOrdersQuery {
            market: Some(xrp.clone()),
            states: vec![OrderState::Wait, OrderState::Watch],
            ..OpenOrdersQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].executed_funds.unwrap().get(), Decimal::ZERO);

    let snapshot = c.cancel(&OrderKey::Identifier(ident(1))).await.unwrap();
    assert_eq!(snapshot.state, OrderState::Wait, "the pre-cancel snapshot");
    let after = c.get(&OrderKey::Uuid(created.uuid.clone())).await.unwrap();
    assert_eq!(after.state, OrderState::Cancel);
    assert!(after.is_final());
    assert_eq!(after.locked, Decimal::ZERO);
    let closed = c
        .closed_orders(&ClosedOrdersQuery {
            states: vec![OrderState::Cancel],
            start_time: Some(start() - chrono::Duration::hours(1)),
            end_time: Some(start() + chrono::Duration::hours(1)),
            order_by: Some(OrderBy::Asc),
            ..ClosedOrdersQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].uuid, created.uuid);

    // Cancelling again, or an unknown order: order_not_found.
    for key in [
        OrderKey::Uuid(created.uuid.clone()),
        OrderKey::Identifier(ident(99)),
    ] {
        let err = c.cancel(&key).await.unwrap_err();
        assert_eq!(kind(&err), ApiErrorKind::OrderNotFound, "{key:?}");
        assert_eq!(err.category(), ErrorCategory::NotFound);
    }
    let err = c.get(&OrderKey::Identifier(ident(99))).await.unwrap_err();
    assert_eq!(kind(&err), ApiErrorKind::OrderNotFound);
}

#[tokio::test]
async fn market_orders_time_in_force_and_test_orders() {
    let h = sim().await;
    let c = orders(&h);
    let xrp = market("KRW-XRP");

    // Market buy: a KRW total, filled against the book (done or cancel with fills).
    let buy =
        OrderRequest::market_buy(xrp.clone(), Krw::from_decimal(dec!(100000)), ident(10)).unwrap();
    let placed = c.create(&buy).await.unwrap();
    assert_eq!((placed.ord_type, placed.volume), (OrdType::Price, None));
    let filled = c.get(&OrderKey::Uuid(placed.uuid)).await.unwrap();
    assert!(filled.is_final());
    assert!(!filled.trades.is_empty());
    let funds = filled.filled_funds().get();
    assert!(funds <= dec!(100000) && funds > dec!(99990), "{funds}");
    assert_eq!(filled.paid_fee.get(), funds * dec!(0.0005));
    let avg = filled.average_fill_price().unwrap().get();
    assert_eq!(avg, funds / filled.executed_volume.get());
    assert!(
        filled
            .trades
            .iter()
            .all(|t| t.side == Side::Bid && t.created_at == start())
    );

    // Market sell of volume, valued at the best bid for the minimum.
    let (ask, bid) = top(&h, "KRW-XRP").await;
    let sell = OrderRequest::market_sell(
        xrp.clone(),
        Volume::new(dec!(30)).unwrap(),
        Price::new(bid).unwrap(),
        ident(11),
    )
    .unwrap();
    let placed = c.create(&sell).await.unwrap();
    assert_eq!((placed.ord_type, placed.price), (OrdType::Market, None));
    let done = c.get(&OrderKey::Uuid(placed.uuid)).await.unwrap();
    assert_eq!(done.state, OrderState::Done);
    assert_eq!(done.executed_volume.get(), dec!(30));

    // Time in force on limits.
    for (tif, price, state, id) in [
        (TimeInForce::Ioc, ask, OrderState::Done, 12),
        (TimeInForce::Fok, ask, OrderState::Done, 13),
        (TimeInForce::PostOnly, ask, OrderState::Cancel, 14),
        (
            TimeInForce::PostOnly,
            bid - Decimal::TEN,
            OrderState::Wait,
            15,
        ),
    ] {
        let (ask_now, _) = top(&h, "KRW-XRP").await;
        let price = if price == ask { ask_now } else { price };
        let o = c
            .create(&limit("KRW-XRP", Side::Bid, price, dec!(2), Some(tif), id))
            .await
            .unwrap();
        assert_eq!(o.time_in_force, Some(tif));
        let o = c.get(&OrderKey::Uuid(o.uuid)).await.unwrap();
        assert_eq!(o.state, state, "{tif:?}");
    }

    // The test endpoint validates without creating.
    let probe = limit("KRW-XRP", Side::Bid, bid - Decimal::TEN, dec!(2), None, 16);
    let t = c.create_test(&probe).await.unwrap();
    assert_eq!(t.state, OrderState::Wait);
    let err = c.get(&OrderKey::Uuid(t.uuid)).await.unwrap_err();
    assert_eq!(kind(&err), ApiErrorKind::OrderNotFound);
    let too_big = limit("KRW-XRP", Side::Bid, bid, dec!(200000), None, 17);
    let err = c.create_test(&too_big).await.unwrap_err();
    assert_eq!(kind(&err), ApiErrorKind::InsufficientFundsBid);
    // ... and the identifier is still free.
    c.create(&probe).await.unwrap();
}

#[tokio::test]
async fn lists_by_ids_and_batch_cancels() {
    let h = sim().await;
    let c = orders(&h);
    let (ask, bid) = top(&h, "KRW-XRP").await;
    let mut uuids = Vec::new();
    for i in 0..4 {
        let o = c
            .create(&limit(
                "KRW-XRP",
                Side::Bid,
                bid - Decimal::from(10 + i),
                dec!(3),
                None,
                20 + i,
            ))
            .await
            .unwrap();
        uuids.push(o.uuid);
        h.step(chrono::Duration::seconds(1)).unwrap();
    }
    let sell = c
        .create(&limit(
            "KRW-XRP",
            Side::Ask,
            ask + dec!(20),
            dec!(3),
            None,
            30,
        ))
        .await
        .unwrap();
    let open = c
        .open_orders(&OpenOrdersQuery {
            limit: Some(2),
            page: Some(1),
            order_by: Some(OrderBy::Desc),
            ..OpenOrdersQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        open.iter().map(|o| o.uuid.clone()).collect::<Vec<_>>(),
        vec![sell.uuid.clone(), uuids[3].clone()]
    );
    let by_ids = c
        .orders_by_ids(
            &OrderKeys::Uuids(vec![uuids[0].clone(), uuids[2].clone()]),
            Some(&market("KRW-XRP")),
            Some(OrderBy::Asc),
        )
        .await
        .unwrap();
    assert_eq!(
        by_ids.iter().map(|o| o.uuid.clone()).collect::<Vec<_>>(),
        vec![uuids[0].clone(), uuids[2].clone()]
    );
    let by_idents = c
        .orders_by_ids(&OrderKeys::Identifiers(vec![ident(21)]), None, None)
        .await
        .unwrap();
    assert_eq!(by_idents[0].uuid, uuids[1]);

    let b = c
        .cancel_by_ids(&OrderKeys::Uuids(vec![
            uuids[0].clone(),
            "00000000-0000-4000-8000-000000000000".into(),
        ]))
        .await
        .unwrap();
    assert_eq!((b.success_count, b.failed_count), (1, 1));
    assert_eq!(b.succeeded[0].uuid, uuids[0]);
    assert_eq!(b.succeeded[0].market, "KRW-XRP");
    assert_eq!(
        b.succeeded[0].identifier.as_deref(),
        Some(ident(20).as_str())
    );

    // Cancel-all: bids only, then the rest — the second call waits out the
    // group's 2-second window instead of being refused.
    let bids = c
        .cancel_all(&CancelAllQuery {
            cancel_side: Some(CancelSide::Bid),
            pairs: vec![market("KRW-XRP")],
            ..CancelAllQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(bids.success_count, 3);
    let started = Instant::now();
    let rest = c.cancel_all(&CancelAllQuery::default()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        rest.succeeded
            .iter()
            .map(|r| r.uuid.clone())
            .collect::<Vec<_>>(),
        vec![sell.uuid]
    );
    let health = admin(&h, "/health", None).await;
    assert_eq!(health["rate_limited"]["429"], 0);
    assert!(
        c.open_orders(&OpenOrdersQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn rejections_are_typed_and_local_validation_sends_nothing() {
    let h = sim().await;
    let c = orders(&h);
    let (_, bid) = top(&h, "KRW-XRP").await;
    let body = |price: &str, volume: &str| {
        Params::new()
            .push("market", "KRW-XRP")
            .push("side", "bid")
            .push("volume", volume)
            .push("price", price)
            .push("ord_type", "limit")
    };
    for (b, want, category) in [
        (
            body("3800.5", "2"),
            ApiErrorKind::InvalidPriceBid,
            ErrorCategory::OrderRejected,
        ),
        (
            body("3000", "1"),
            ApiErrorKind::UnderMinTotalBid,
            ErrorCategory::OrderRejected,
        ),
        (
            body("3000", "0.123456789"),
            ApiErrorKind::InvalidVolumeBid,
            ErrorCategory::OrderRejected,
        ),
        (
            body("3000", "100000"),
            ApiErrorKind::InsufficientFundsBid,
            ErrorCategory::InsufficientFunds,
        ),
        (
            body("3000", "abc"),
            ApiErrorKind::ValidationError,
            ErrorCategory::BadRequest,
        ),
    ] {
        let err = c.raw_create(b).await.unwrap_err();
        assert_eq!(kind(&err), want, "{err}");
        assert_eq!(err.category(), category);
        assert!(!err.is_retryable());
    }
    let sell_all = Params::new()
        .push("market", "KRW-XRP")
        .push("side", "ask")
        .push("volume", "1")
        .push("ord_type", "market");
    let err = c.raw_create(sell_all).await.unwrap_err();
    assert_eq!(kind(&err), ApiErrorKind::UnderMinTotalAsk, "{err}");
    assert!(matches!(&err, UpbitError::Api { name, .. } if name == "under_min_total_market_ask"));
    let sell = limit("KRW-XRP", Side::Ask, bid + dec!(50), dec!(20000), None, 40);
    let err = c.create(&sell).await.unwrap_err();
    assert_eq!(kind(&err), ApiErrorKind::InsufficientFundsAsk);
    // The same identifier twice.
    let ok = limit("KRW-XRP", Side::Bid, bid - Decimal::TEN, dec!(2), None, 41);
    c.create(&ok).await.unwrap();
    let err = c.create(&ok).await.unwrap_err();
    assert_eq!(kind(&err), ApiErrorKind::ValidationError);
    // Permissions and credentials.
    let view = orders_as(&h, "view-only", SK, Duration::from_secs(5));
    let err = view
        .create(&limit(
            "KRW-XRP",
            Side::Bid,
            bid - Decimal::TEN,
            dec!(2),
            None,
            42,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        (kind(&err), err.category()),
        (ApiErrorKind::OutOfScope, ErrorCategory::Permission)
    );
    assert_eq!(
        view.open_orders(&OpenOrdersQuery::default())
            .await
            .unwrap()
            .len(),
        0
    );
    let wrong = orders_as(&h, AK, "not-the-secret", Duration::from_secs(5));
    let err = wrong.chance(&market("KRW-XRP")).await.unwrap_err();
    assert_eq!(
        (kind(&err), err.category()),
        (ApiErrorKind::JwtVerification, ErrorCategory::Auth)
    );
    // Maintenance.
    admin(&h, "/markets/KRW-ETH", Some(json!({"offline": true}))).await;
    let eth = OrderRequest::limit(
        market("KRW-ETH"),
        Side::Bid,
        Price::new(dec!(6000000)).unwrap(),
        Volume::new(dec!(0.01)).unwrap(),
        None,
        ident(43),
    )
    .unwrap();
    let err = c.create(&eth).await.unwrap_err();
    assert_eq!(
        (kind(&err), err.category()),
        (ApiErrorKind::MarketOffline, ErrorCategory::MarketOffline)
    );

    // Invalid queries fail before anything is sent.
    let before = admin(&h, "/health", None).await;
    for err in [
        c.open_orders(&OpenOrdersQuery {
            states: vec![OrderState::Done],
            ..OpenOrdersQuery::default()
        })
        .await
        .unwrap_err(),
        c.open_orders(&OpenOrdersQuery {
            limit: Some(101),
            ..OpenOrdersQuery::default()
        })
        .await
        .unwrap_err(),
        c.closed_orders(&ClosedOrdersQuery {
            start_time: Some(start() - chrono::Duration::days(8)),
            end_time: Some(start()),
            ..ClosedOrdersQuery::default()
        })
        .await
        .unwrap_err(),
        c.orders_by_ids(&OrderKeys::Uuids(vec![]), None, None)
            .await
            .unwrap_err(),
        c.cancel_by_ids(&OrderKeys::Identifiers((0..21).map(ident).collect()))
            .await
            .unwrap_err(),
        c.cancel_all(&CancelAllQuery {
            count: Some(301),
            ..CancelAllQuery::default()
        })
        .await
        .unwrap_err(),
    ] {
        assert_eq!(err.category(), ErrorCategory::Local, "{err}");
    }
    assert_eq!(admin(&h, "/health", None).await["orders"], before["orders"]);
}

#[tokio::test]
async fn create_or_recover_never_places_twice() {
    let h = sim().await;
    let (_, bid) = top(&h, "KRW-XRP").await;
    let policy = RecoverPolicy {
        create_attempts: 3,
        lookup_attempts: 3,
        pause: Duration::from_millis(50),
    };
    let c = orders(&h);
    let req = |id| limit("KRW-XRP", Side::Bid, bid - Decimal::TEN, dec!(2), None, id);

    // Plain success.
    let out = c.create_or_recover_with(&req(50), &policy).await.unwrap();
    assert!(matches!(out, CreateOutcome::Created(_)));
    assert_eq!(create_attempts(&h).await, 1);

    // The answer is lost (slower than the client's timeout) but the order
    // exists: found by identifier, not created again.
    admin(
        &h,
        "/faults",
        Some(json!({"create_response_delay_ms": 1500})),
    )
    .await;
    let impatient = orders_as(&h, AK, SK, Duration::from_millis(400));
    let out = impatient
        .create_or_recover_with(&req(51), &policy)
        .await
        .unwrap();
    let CreateOutcome::Recovered(o) = out else {
        panic!("expected a recovered order, got {out:?}");
    };
    assert_eq!(o.identifier.as_deref(), Some(ident(51).as_str()));
    assert_eq!(o.state, OrderState::Wait);
    assert_eq!(create_attempts(&h).await, 2, "one create for intent 51");
    admin(&h, "/faults", Some(json!({"reset": true}))).await;

    // A 429 proves nothing was created: retried after the group's pause.
    admin(&h, "/faults", Some(json!({"force_429": 1}))).await;
    let out = c.create_or_recover_with(&req(52), &policy).await.unwrap();
    assert!(matches!(out, CreateOutcome::Created(_)), "{out:?}");
    assert_eq!(
        create_attempts(&h).await,
        3,
        "the refused attempt never reached the engine"
    );

    // A retry of an order that was in fact created earlier: the duplicate
    // identifier is refused, the lookup finds the original.
    let out = c.create_or_recover_with(&req(50), &policy).await.unwrap();
    let CreateOutcome::Recovered(o) = out else {
        panic!("expected the original order, got {out:?}");
    };
    assert_eq!(o.identifier.as_deref(), Some(ident(50).as_str()));

    // Errors that prove nothing exists are returned without a second attempt.
    let poor = limit(
        "KRW-XRP",
        Side::Bid,
        bid - Decimal::TEN,
        dec!(100000),
        None,
        53,
    );
    let before = create_attempts(&h).await;
    let err = c.create_or_recover_with(&poor, &policy).await.unwrap_err();
    assert_eq!(err.category(), ErrorCategory::InsufficientFunds);
    assert_eq!(create_attempts(&h).await, before + 1);

    // Exactly one order per intent exists.
    let open = c.open_orders(&OpenOrdersQuery::default()).await.unwrap();
    let mut ids: Vec<String> = open.iter().filter_map(|o| o.identifier.clone()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [ident(50), ident(51), ident(52)].map(|i| i.as_str().to_owned())
    );
    // The body hashed and sent is the one `order_body` builds.
    let log = admin(&h, "/orders", None).await;
    let sent: Vec<(String, String)> = serde_json::from_value(log[0]["params"].clone()).unwrap();
    let expected: Vec<(String, String)> = order_body(&req(50))
        .iter()
        .map(|(k, v)| match v {
            ParamValue::One(v) => (k.clone(), v.clone()),
            ParamValue::Many(_) => panic!("an order body has no arrays"),
        })
        .collect();
    assert_eq!(sent, expected);
}
