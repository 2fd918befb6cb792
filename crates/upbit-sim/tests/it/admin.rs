//! The admin API under `/_sim/`: accounts (validation naming the field, no
//! secrets returned), the log of every create attempt, the count of every
//! Exchange API request by endpoint, the clock, fault
//! injection (latency, 5xx, 429s, delayed fills and cancels), market flags
//! and health.

use std::time::Instant;

use chrono::Duration;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::{Key, replay};

#[tokio::test]
async fn accounts_are_created_validated_listed_and_replaced() {
    let sim = replay().await;
    let r = sim
        .admin_account(json!({
            "access_key": "adm-1", "secret_key": "adm-secret",
            "balances": {"KRW": "10000000", "BTC": "0.01"},
        }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body, json!({"access_key": "adm-1"}));
    let k = Key {
        access: "adm-1".into(),
        secret: "adm-secret".into(),
    };
    assert_eq!(
        sim.balance(&k, "BTC").await.0,
        "0.01".parse::<Decimal>().unwrap()
    );

    for (body, field) in [
        (json!({"access_key": "x"}), "secret_key"),
        (json!({"access_key": "", "secret_key": "s"}), "access_key"),
        (
            json!({"access_key": "x", "secret_key": "s", "balances": {"KRW": "ten"}}),
            "balances.KRW",
        ),
        (
            json!({"access_key": "x", "secret_key": "s", "balances": {"KRW": "-1"}}),
            "balances.KRW",
        ),
        (
            json!({"access_key": "x", "secret_key": "s", "balances": {"KRW": "1e400"}}),
            "balances.KRW",
        ),
        (
            json!({"access_key": "x", "secret_key": "s", "balances": {"krw!": "1"}}),
            "balances",
        ),
        (
            json!({"access_key": "x", "secret_key": "s", "permissions": ["withdraw"]}),
            "permissions",
        ),
        (
            json!({"access_key": "x", "secret_key": "s", "balances": {"KRW": 5}}),
            "balances",
        ),
    ] {
        let r = sim.admin_account(body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.body["error"]["name"], "invalid_admin_request");
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let r = sim.admin(Method::POST, "/accounts", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // The list shows balances and permissions, never the secret.
    let list = sim.admin(Method::GET, "/accounts", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        !list.body.to_string().contains("adm-secret"),
        "{}",
        list.body
    );
    let acct = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["access_key"] == "adm-1")
        .unwrap()
        .clone();
    assert_eq!(acct["permissions"]["make_orders"], true);
    assert!(
        acct["balances"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["currency"] == "BTC")
    );

    // Posting the same key again replaces the balances and cancels its open orders.
    let (_, bids) = sim.book("KRW-XRP").await;
    let p = (bids[0].0 - Decimal::TEN).to_string();
    let open = sim
        .place(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "10"),
                ("price", &p),
                ("ord_type", "limit"),
            ],
        )
        .await;
    let r = sim
        .admin_account(
            json!({"access_key": "adm-1", "secret_key": "adm-secret", "balances": {"KRW": "5"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(sim.order(&k, &open).await["state"], "cancel");
    assert_eq!(
        sim.balance(&k, "KRW").await,
        (Decimal::from(5), Decimal::ZERO, Decimal::ZERO)
    );
    assert_eq!(sim.balance(&k, "BTC").await.0, Decimal::ZERO);
}

#[tokio::test]
async fn the_order_log_records_every_create_attempt() {
    let sim = replay().await;
    let k = Key::new("log");
    sim.add_account(&k, &[("KRW", "100000")]);
    let (_, bids) = sim.book("KRW-XRP").await;
    let p = (bids[0].0 - Decimal::TEN).to_string();
    let ok = sim
        .place(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "2"),
                ("price", &p),
                ("ord_type", "limit"),
                ("identifier", "log-1"),
            ],
        )
        .await;
    let poor = sim
        .create(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "2000"),
                ("price", &p),
                ("ord_type", "limit"),
            ],
        )
        .await;
    assert_eq!(poor.error_name(), "insufficient_funds_bid");
    let stranger = Key::new("stranger");
    let denied = sim.create(&stranger, &[("market", "KRW-XRP")]).await;
    assert_eq!(denied.error_name(), "invalid_access_key");
    sim.private(
        &k,
        Method::POST,
        "/v1/orders/test",
        &[
            ("market", "KRW-XRP"),
            ("side", "bid"),
            ("volume", "2"),
            ("price", &p),
            ("ord_type", "limit"),
        ],
    )
    .await;
    // Reads and cancels are not create attempts.
    sim.private(&k, Method::GET, "/v1/orders/open", &[]).await;

    let log = sim.admin(Method::GET, "/orders", None).await;
    let entries = log.body.as_array().unwrap();
    assert_eq!(entries.len(), 4, "{}", log.body);
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(entries[0]["endpoint"], "POST /v1/orders");
    assert_eq!(entries[0]["status"], 201);
    assert_eq!(entries[0]["uuid"], ok.as_str());
    assert_eq!(entries[0]["access_key"], k.access.as_str());
    assert!(
        entries[0]["params"]
            .as_array()
            .unwrap()
            .contains(&json!(["identifier", "log-1"]))
    );
    assert_eq!(entries[0]["received_at"], "2025-09-01T12:00:00+09:00");
    assert_eq!(
        (entries[1]["status"].as_u64(), entries[1]["error"].as_str()),
        (Some(400), Some("insufficient_funds_bid"))
    );
    assert_eq!(entries[2]["status"], 401);
    assert_eq!(
        entries[2]["access_key"],
        stranger.access.as_str(),
        "the claimed key of a refused token"
    );
    assert_eq!(entries[3]["endpoint"], "POST /v1/orders/test");

    // Every Exchange API request is counted by endpoint — reads, refused and
    // unauthenticated ones too; Quotation requests (the orderbook) are not.
    let counts = sim.admin(Method::GET, "/requests", None).await;
    assert_eq!(counts.status, StatusCode::OK);
    assert_eq!(
        counts.body,
        json!({
            "GET /v1/orders/open": 1,
            "POST /v1/orders": 3,
            "POST /v1/orders/test": 1,
        })
    );
    sim.private(&k, Method::DELETE, "/v1/order", &[("identifier", "log-1")])
        .await;
    let counts = sim.admin(Method::GET, "/requests", None).await;
    assert_eq!(counts.body["DELETE /v1/order"], 1);
    assert_eq!(counts.body["POST /v1/orders"], 3);
}

#[tokio::test]
async fn the_clock_steps_sets_and_refuses_to_go_back() {
    let sim = replay().await;
    let r = sim.admin(Method::GET, "/clock", None).await;
    assert_eq!(r.body["now"], "2025-09-01T03:00:00+00:00");
    assert_eq!(r.body["speed"], 0.0);
    let r = sim
        .admin(Method::POST, "/clock", Some(json!({"step_seconds": 90})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["now"], "2025-09-01T03:01:30+00:00");
    // The market moved with it.
    let c = sim.get("/v1/candles/minutes/1?market=KRW-BTC").await;
    assert_eq!(c.body[0]["candle_date_time_utc"], "2025-09-01T03:01:00");
    let r = sim
        .admin(
            Method::POST,
            "/clock",
            Some(json!({"step_minutes": 2, "set": "2025-09-01T04:00:00Z"})),
        )
        .await;
    assert_eq!(r.body["now"], "2025-09-01T04:00:00+00:00");
    for body in [
        json!({"set": "2025-09-01T03:30:00Z"}),
        json!({"step_seconds": -5}),
        json!({"speed": -1.0}),
        json!({"leap": 1}),
        json!({"set": "tomorrow"}),
    ] {
        let r = sim.admin(Method::POST, "/clock", Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.body["error"]["name"], "invalid_admin_request");
    }
    // Speed: sim time follows the (test) wall clock at 60×.
    let r = sim
        .admin(Method::POST, "/clock", Some(json!({"speed": 60.0})))
        .await;
    assert_eq!(r.body["speed"], 60.0);
    sim.wall.advance(Duration::seconds(2));
    let r = sim.admin(Method::GET, "/clock", None).await;
    assert_eq!(r.body["now"], "2025-09-01T04:02:00+00:00");
    let h = sim.admin(Method::GET, "/health", None).await;
    assert_eq!(h.body["status"], "ok");
    assert_eq!(h.body["markets"], 3);
    assert_eq!(h.body["now_kst"], "2025-09-01T13:02:00+09:00");
}

#[tokio::test]
async fn faults_latency_errors_429s_and_delays() {
    let sim = replay().await;
    let k = Key::new("faults");
    sim.add_account(&k, &[("KRW", "1000000")]);
    let set = |body: Value| sim.admin(Method::POST, "/faults", Some(body));

    let r = set(json!({"latency_ms": 300})).await;
    assert_eq!(r.body["latency_ms"], 300);
    let started = Instant::now();
    assert_eq!(sim.get("/v1/market/all").await.status, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));

    // Every request fails with a 500 in Upbit's envelope.
    set(json!({"reset": true, "error_rate": 1.0})).await;
    let r = sim.get("/v1/ticker?markets=KRW-BTC").await;
    assert_eq!((r.status.as_u16(), r.error_name().as_str()), (500, "500"));
    let r = sim.private(&k, Method::GET, "/v1/accounts", &[]).await;
    assert_eq!(
        (r.status.as_u16(), r.error_name().as_str()),
        (500, "server_error")
    );

    // The next two requests answer 429, then normal service.
    let r = set(json!({"reset": true, "force_429": 2})).await;
    assert_eq!(
        (r.body["error_rate"].as_f64(), r.body["force_429"].as_u64()),
        (Some(0.0), Some(2))
    );
    for _ in 0..2 {
        let r = sim.get("/v1/ticker?markets=KRW-BTC").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(r.remaining().starts_with("group=ticker;"));
    }
    assert_eq!(
        sim.get("/v1/ticker?markets=KRW-BTC").await.status,
        StatusCode::OK
    );
    assert_eq!(set(json!({})).await.body["force_429"], 0);

    // Delayed fills: a crossing order is accepted but matches only later (wall time).
    set(json!({"fill_delay_ms": 1000, "cancel_delay_ms": 1000})).await;
    let (asks, bids) = sim.book("KRW-XRP").await;
    let ap = asks[0].0.to_string();
    let taker = sim
        .place(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "2"),
                ("price", &ap),
                ("ord_type", "limit"),
            ],
        )
        .await;
    assert_eq!(sim.order(&k, &taker).await["trades_count"], 0);
    sim.wall.advance(Duration::milliseconds(1000));
    assert_eq!(sim.order(&k, &taker).await["state"], "done");
    // Delayed cancels: the order stays open until the delay passes.
    let bp = (bids[0].0 - Decimal::TEN).to_string();
    let resting = sim
        .place(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "2"),
                ("price", &bp),
                ("ord_type", "limit"),
            ],
        )
        .await;
    sim.wall.advance(Duration::milliseconds(1000));
    let c = sim
        .private(&k, Method::DELETE, "/v1/order", &[("uuid", &resting)])
        .await;
    assert_eq!(c.body["state"], "wait");
    assert_eq!(sim.order(&k, &resting).await["state"], "wait");
    sim.wall.advance(Duration::milliseconds(1000));
    assert_eq!(sim.order(&k, &resting).await["state"], "cancel");

    // A slow answer to a create: the client gives up, the order exists.
    set(json!({"reset": true, "create_response_delay_ms": 800})).await;
    let body = [
        ("market", "KRW-XRP"),
        ("side", "bid"),
        ("volume", "2"),
        ("price", bp.as_str()),
        ("ord_type", "limit"),
        ("identifier", "slow-1"),
    ];
    let token = crate::support::sign(
        &k,
        &sim.next_nonce(),
        Some(&crate::support::hash_input(&body)),
        jsonwebtoken::Algorithm::HS256,
    );
    let lost = sim
        .http
        .post(format!("{}/v1/orders", sim.base))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body(crate::support::json_object(&body))
        .timeout(std::time::Duration::from_millis(200))
        .send()
        .await;
    assert!(lost.unwrap_err().is_timeout());
    let found = sim
        .private(&k, Method::GET, "/v1/order", &[("identifier", "slow-1")])
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.body["state"], "wait");

    for body in [
        json!({"error_rate": 1.5}),
        json!({"latency": 5}),
        json!({"force_429": -1}),
    ] {
        let r = set(body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
    }
    let r = sim.admin(Method::GET, "/faults", None).await;
    assert_eq!(r.body["create_response_delay_ms"], 800);
    assert_eq!(r.body["fill_delay_ms"], 0, "reset");
}

#[tokio::test]
async fn market_flags_show_in_market_all() {
    let sim = replay().await;
    let r = sim
        .admin(
            Method::POST,
            "/markets/KRW-ETH",
            Some(json!({"warning": true, "caution": {"PRICE_FLUCTUATIONS": true}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let all = sim.get("/v1/market/all?is_details=true").await;
    let eth = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["market"] == "KRW-ETH")
        .unwrap()
        .clone();
    assert_eq!(eth["market_event"]["warning"], true);
    assert_eq!(eth["market_event"]["caution"]["PRICE_FLUCTUATIONS"], true);
    assert_eq!(
        eth["market_event"]["caution"]["TRADING_VOLUME_SOARING"],
        false
    );
    for (path, body) in [
        ("/markets/KRW-NOPE", json!({"warning": true})),
        ("/markets/KRW-ETH", json!({"caution": {"NOT_A_FLAG": true}})),
    ] {
        let r = sim.admin(Method::POST, path, Some(body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
    }
}
