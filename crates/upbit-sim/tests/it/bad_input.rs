//! Bad input never breaks the simulator: malformed JSON and form bodies,
//! invalid UTF-8, wrong types, huge and tiny numbers, overlong values and
//! random parameters all get Upbit's error envelope (integer `name` on
//! Quotation, string `name` on Exchange) with a 4xx status — never a 500,
//! never a dropped connection — and the server keeps serving.

use proptest::{
    prelude::*,
    test_runner::{Config, TestRunner},
};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Key, Resp, Sim, enc, replay, sign};

/// Asserts a non-5xx answer and, for errors, Upbit's envelope.
fn sane(r: &Resp, what: &str, quotation: bool) {
    assert!(
        r.status.as_u16() < 500,
        "{what}: HTTP {} {}",
        r.status,
        r.body
    );
    if !r.status.is_success() {
        let name = &r.body["error"]["name"];
        if quotation {
            assert!(
                name.is_u64(),
                "{what}: Quotation names are integers: {}",
                r.body
            );
        } else {
            assert!(name.is_string() || name.is_u64(), "{what}: {}", r.body);
        }
        assert!(r.body["error"]["message"].is_string(), "{what}: {}", r.body);
    }
}

#[tokio::test]
async fn malformed_quotation_requests_get_upbit_errors() {
    let sim = replay().await;
    let long = "A".repeat(20_000);
    for (q, status) in [
        (
            "/v1/candles/minutes/1?market=KRW-BTC&count=99999999999999999999999",
            400,
        ),
        ("/v1/candles/minutes/1?market=KRW-BTC&count=-5", 400),
        ("/v1/candles/minutes/1?market=KRW-BTC&count=1.5", 400),
        (
            "/v1/candles/minutes/1?market=KRW-BTC&to=9999-12-31T23:59:59Z",
            200,
        ),
        (
            "/v1/candles/minutes/1?market=KRW-BTC&to=0001-01-01T00:00:00Z",
            200,
        ),
        ("/v1/candles/minutes/1?market=KRW-BTC&to=%FF%FE", 400),
        ("/v1/candles/minutes/1?market=%00", 404),
        (
            "/v1/candles/days?market=KRW-BTC&converting_price_unit=USD",
            400,
        ),
        (
            "/v1/candles/minutes/99999999999999999999?market=KRW-BTC",
            404,
        ),
        ("/v1/ticker?markets=,,,,", 400),
        (
            "/v1/orderbook?markets=KRW-BTC&level=0.0000000000000000000000000001",
            200,
        ),
        ("/v1/orderbook?markets=KRW-BTC&level=1e400", 400),
        ("/v1/orderbook?markets=KRW-BTC&count=4294967296000", 200),
        (
            "/v1/trades/ticks?market=KRW-BTC&cursor=-9223372036854775808",
            200,
        ),
        (
            "/v1/trades/ticks?market=KRW-BTC&cursor=99999999999999999999",
            400,
        ),
        ("/v1/trades/ticks?market=KRW-BTC&to=25:61:61", 400),
        (
            "/v1/trades/ticks?market=KRW-BTC&days_ago=99999999999999999999",
            400,
        ),
        ("/v1/market/all?is_details=%ZZ", 400),
        ("/v1/market/all?a=%", 200),
    ] {
        let r = sim.get(q).await;
        sane(&r, q, true);
        assert_eq!(r.status.as_u16(), status, "{q}: {}", r.body);
    }
    let r = sim.get(&format!("/v1/ticker?markets={long}")).await;
    sane(&r, "long market", true);
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(sim.get("/v1/market/all").await.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_exchange_requests_get_upbit_errors() {
    let sim = replay().await;
    let k = Key::new("bad");
    sim.add_account(&k, &[("KRW", "1000000"), ("XRP", "100")]);
    let long = "x".repeat(1000);
    let order = |volume: &'static str, price: &'static str| {
        vec![
            ("market", "KRW-XRP"),
            ("side", "bid"),
            ("volume", volume),
            ("price", price),
            ("ord_type", "limit"),
        ]
    };
    for (params, name) in [
        (order("1e30", "3800"), "validation_error"),
        (
            order("99999999999999999999999999999999", "3800"),
            "validation_error",
        ),
        (
            order("2", "79228162514264337593543950335"),
            "invalid_price_bid",
        ),
        (
            order("79228162514264337593543950335", "3000"),
            "over_max_total_bid",
        ),
        (
            order("1", "0.000000000000000000000000001"),
            "invalid_price_bid",
        ),
        (order("NaN", "3800"), "validation_error"),
        (order("", "3800"), "validation_error"),
        (order("0", "3800"), "validation_error"),
        (
            vec![
                ("market", long.as_str()),
                ("side", "bid"),
                ("volume", "2"),
                ("price", "3800"),
                ("ord_type", "limit"),
            ],
            "validation_error",
        ),
        (
            vec![
                ("market", "KRW-XRP"),
                ("side", ""),
                ("volume", "2"),
                ("price", "3800"),
                ("ord_type", "limit"),
            ],
            "validation_error",
        ),
        (
            vec![
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "2"),
                ("price", "3000"),
                ("ord_type", "limit"),
                ("identifier", long.as_str()),
            ],
            "validation_error",
        ),
    ] {
        let r = sim.create(&k, &params).await;
        sane(&r, &format!("{params:?}"), false);
        assert_eq!(r.error_name(), name, "{params:?}: {}", r.body);
    }
    // Bodies: non-objects, nested values, out-of-range numbers, bad UTF-8.
    for body in [
        json!({"market": {"a": 1}, "side": "bid"}).to_string(),
        json!({"market": ["KRW-XRP"], "side": "bid"}).to_string(),
        r#"{"market":"KRW-XRP","volume":1e400}"#.to_owned(),
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]".to_owned(),
        "null".to_owned(),
    ] {
        let t = sign(&k, &sim.next_nonce(), Some("market=KRW-XRP"), jsonwebtoken::Algorithm::HS256);
        let r = sim
            .raw(Method::POST, "/v1/orders", Some(&t), Some(("application/json", body.clone())))
            .await;
        sane(&r, &body, false);
        assert!(r.status.is_client_error(), "{body}: {}", r.body);
    }
    let t = sign(
        &k,
        &sim.next_nonce(),
        Some("x"),
        jsonwebtoken::Algorithm::HS256,
    );
    let r = sim
        .http
        .post(format!("{}/v1/orders", sim.base))
        .header("Authorization", format!("Bearer {t}"))
        .header("Content-Type", "application/json")
        .body(vec![0xFF, 0xFE, b'{', b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["name"], "validation_error");

    // Query parameters at the edges of their types.
    let many: Vec<String> = (0..150).map(|i| format!("id-{i}")).collect();
    let mut ids: Vec<(&str, &str)> = many.iter().map(|s| ("identifiers[]", s.as_str())).collect();
    ids.truncate(101);
    for (method, path, params) in [
        (
            Method::GET,
            "/v1/orders/closed",
            vec![("start_time", "9223372036854775807")],
        ),
        (
            Method::GET,
            "/v1/orders/closed",
            vec![("end_time", "-9223372036854775808")],
        ),
        (
            Method::GET,
            "/v1/orders/open",
            vec![("page", "18446744073709551615")],
        ),
        (Method::GET, "/v1/orders/open", vec![("page", "0")]),
        (
            Method::DELETE,
            "/v1/orders/open",
            vec![("count", "99999999999999999999")],
        ),
        (Method::GET, "/v1/orders/uuids", ids.clone()),
        (Method::GET, "/v1/order", vec![("uuid", "not-a-uuid")]),
    ] {
        let r = sim.private(&k, method.clone(), path, &params).await;
        sane(&r, path, false);
    }
    assert_eq!(
        sim.private(&k, Method::GET, "/v1/accounts", &[])
            .await
            .status,
        StatusCode::OK
    );
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,24}",
        "[0-9eE.+-]{0,40}",
        "[0-9]{18,60}",
        "0\\.[0-9]{20,40}",
        Just("KRW-XRP".to_owned()),
        Just("bid".to_owned()),
        Just("ask".to_owned()),
        Just("limit".to_owned()),
        Just("price".to_owned()),
        Just("market".to_owned()),
        Just("best".to_owned()),
        Just("ioc".to_owned()),
        Just("3800".to_owned()),
        Just("2".to_owned()),
    ]
}

const ORDER_KEYS: [&str; 8] = [
    "market",
    "side",
    "volume",
    "price",
    "ord_type",
    "time_in_force",
    "identifier",
    "smp_type",
];

const QUOTATION_PATHS: [&str; 6] = [
    "/v1/candles/minutes/1",
    "/v1/candles/days",
    "/v1/ticker",
    "/v1/orderbook",
    "/v1/trades/ticks",
    "/v1/market/all",
];

const QUOTATION_KEYS: [&str; 8] = [
    "market",
    "markets",
    "count",
    "to",
    "level",
    "cursor",
    "days_ago",
    "is_details",
];

const LIST_KEYS: [&str; 8] = [
    "state",
    "states[]",
    "page",
    "limit",
    "order_by",
    "market",
    "start_time",
    "end_time",
];

#[test]
fn random_parameters_never_cause_a_server_error() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sim: Sim = rt.block_on(replay());
    let k = Key::new("fuzz");
    sim.add_account(&k, &[("KRW", "1000000000"), ("XRP", "1000000")]);
    let mut runner = TestRunner::new(Config {
        cases: 300,
        failure_persistence: None,
        ..Config::default()
    });
    let orders = proptest::collection::vec((0..ORDER_KEYS.len(), value()), 0..8);
    runner
        .run(&orders, |fields| {
            let params: Vec<(&str, &str)> = fields
                .iter()
                .map(|(i, v)| (ORDER_KEYS[*i], v.as_str()))
                .collect();
            let r = rt.block_on(sim.create(&k, &params));
            prop_assert!(
                r.status.as_u16() < 500,
                "{params:?}: {} {}",
                r.status,
                r.body
            );
            if !r.status.is_success() {
                prop_assert!(
                    r.body["error"]["name"].is_string(),
                    "{params:?}: {}",
                    r.body
                );
            }
            Ok(())
        })
        .unwrap();
    let queries = (
        0..QUOTATION_PATHS.len(),
        proptest::collection::vec((0..QUOTATION_KEYS.len(), value()), 0..5),
    );
    runner
        .run(&queries, |(path, fields)| {
            let q: Vec<String> = fields
                .iter()
                .map(|(i, v)| format!("{}={}", QUOTATION_KEYS[*i], enc(v)))
                .collect();
            let url = format!("{}?{}", QUOTATION_PATHS[path], q.join("&"));
            let r = rt.block_on(sim.get(&url));
            prop_assert!(r.status.as_u16() < 500, "{url}: {} {}", r.status, r.body);
            if !r.status.is_success() {
                prop_assert!(r.body["error"]["name"].is_u64(), "{url}: {}", r.body);
            }
            Ok(())
        })
        .unwrap();
    // Random private GET parameters, hashed correctly.
    let lists = proptest::collection::vec((0..LIST_KEYS.len(), value()), 0..5);
    runner
        .run(&lists, |fields| {
            let params: Vec<(&str, &str)> = fields
                .iter()
                .map(|(i, v)| (LIST_KEYS[*i], v.as_str()))
                .collect();
            for path in ["/v1/orders/open", "/v1/orders/closed"] {
                let r = rt.block_on(sim.private(&k, Method::GET, path, &params));
                prop_assert!(r.status.as_u16() < 500, "{path} {params:?}: {}", r.body);
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(
        rt.block_on(sim.get("/v1/market/all")).status,
        StatusCode::OK,
        "still serving"
    );
}
