//! WebSocket streams over a real connection: the request array, snapshots
//! then realtime messages as binary frames, depth and SIMPLE keys,
//! `LIST_SUBSCRIPTIONS`, `PING` → `{"status":"UP"}`, idle close, the error
//! names, the private endpoint's JWT and its myOrder / myAsset events in the
//! same sequence as the REST state changes.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use jsonwebtoken::Algorithm;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::support::{Key, Sim, dec, replay, replay_with, sign};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(sim: &Sim, token: Option<&str>) -> Ws {
    let url = match token {
        Some(_) => format!("{}/private", sim.handle.ws_url()),
        None => sim.handle.ws_url(),
    };
    let mut req = url.into_client_request().unwrap();
    if let Some(t) = token {
        req.headers_mut()
            .insert("Authorization", format!("Bearer {t}").parse().unwrap());
    }
    connect_async(req).await.unwrap().0
}

async fn send(ws: &mut Ws, v: &Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// The next JSON message (binary frames as Upbit sends them); `None` on
/// close or after `wait` without one.
async fn next(ws: &mut Ws, wait: Duration) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(wait, ws.next()).await.ok()??.ok()?;
        match msg {
            Message::Binary(b) => return Some(serde_json::from_slice(&b).unwrap()),
            Message::Text(t) => panic!("Upbit sends binary frames, got text {t}"),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Messages until `pred` matches one (returned), failing after `wait`.
async fn until(ws: &mut Ws, wait: Duration, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next(ws, left).await {
            Some(v) if pred(&v) => return v,
            Some(_) => {}
            None => panic!("no matching message within {wait:?}"),
        }
    }
}

const SEC: Duration = Duration::from_secs(5);

#[tokio::test]
async fn public_snapshots_then_realtime() {
    let sim = replay().await;
    let mut ws = connect(&sim, None).await;
    send(
        &mut ws,
        &json!([
            {"ticket": "t-1"},
            {"type": "ticker", "codes": ["KRW-BTC"]},
            {"type": "orderbook", "codes": ["KRW-XRP.5"]},
            {"type": "trade", "codes": ["KRW-ETH"]},
            {"type": "candle.1m", "codes": ["KRW-BTC"]},
            {"format": "DEFAULT"}
        ]),
    )
    .await;
    let mut snaps = Vec::new();
    for _ in 0..4 {
        snaps.push(next(&mut ws, SEC).await.unwrap());
    }
    let find = |ty: &str| {
        snaps
            .iter()
            .find(|m| m["type"] == ty)
            .unwrap_or_else(|| panic!("{ty} snapshot missing: {snaps:?}"))
            .clone()
    };
    let t = find("ticker");
    assert_eq!(
        (t["code"].as_str(), t["stream_type"].as_str()),
        (Some("KRW-BTC"), Some("SNAPSHOT"))
    );
    assert_eq!(t["market_state"], "ACTIVE");
    assert!(
        t["trade_price"].is_number(),
        "WebSocket numbers are JSON numbers"
    );
    let ob = find("orderbook");
    assert_eq!(ob["orderbook_units"].as_array().unwrap().len(), 5);
    let (asks, _) = sim.book("KRW-XRP").await;
    assert_eq!(dec(&ob["orderbook_units"][0]["ask_price"]), asks[0].0);
    let tr = find("trade");
    assert_eq!(tr["code"], "KRW-ETH");
    assert!(tr["sequential_id"].as_i64().unwrap() > 1 << 53);
    let c = find("candle.1m");
    assert_eq!(c["candle_date_time_utc"], "2025-09-01T02:59:00");

    // Time moves: realtime messages of the subscribed types and codes only.
    sim.step(30);
    let mut seen = Vec::new();
    while let Some(m) = next(&mut ws, Duration::from_millis(700)).await {
        assert_eq!(m["stream_type"], "REALTIME", "{m}");
        seen.push((
            m["type"].as_str().unwrap().to_owned(),
            m["code"].as_str().unwrap().to_owned(),
        ));
    }
    for (ty, code) in &seen {
        let wanted = matches!(
            (ty.as_str(), code.as_str()),
            ("ticker" | "candle.1m", "KRW-BTC") | ("orderbook", "KRW-XRP") | ("trade", "KRW-ETH")
        );
        assert!(wanted, "unsubscribed {ty} {code}: {seen:?}");
    }
    for ty in ["ticker", "orderbook", "trade"] {
        assert!(
            seen.iter().any(|(t, _)| t == ty),
            "no realtime {ty}: {seen:?}"
        );
    }
    // Candle messages come at most once a second (wall time) per code.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sim.step(60);
    let c = until(&mut ws, SEC, |m| m["type"] == "candle.1m").await;
    assert_eq!(c["stream_type"], "REALTIME");
    assert!(
        c["candle_date_time_utc"].as_str().unwrap() >= "2025-09-01T03:00:00",
        "{c}"
    );

    // LIST_SUBSCRIPTIONS describes the current request.
    send(
        &mut ws,
        &json!([{"ticket": "t-1"}, {"method": "LIST_SUBSCRIPTIONS"}]),
    )
    .await;
    let list = until(&mut ws, SEC, |m| m["method"] == "LIST_SUBSCRIPTIONS").await;
    let types: Vec<&str> = list["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["ticker", "orderbook", "trade", "candle.1m"]);
    assert_eq!(list["result"][1]["codes"][0], "KRW-XRP.5");

    // A new request replaces the subscription; SIMPLE keys, snapshot only.
    send(
        &mut ws,
        &json!([{"ticket": "t-2"}, {"type": "ticker", "codes": ["KRW-XRP"], "isOnlySnapshot": true}, {"format": "SIMPLE"}]),
    )
    .await;
    let s = until(&mut ws, SEC, |m| m.get("ty").is_some()).await;
    assert_eq!(
        (s["ty"].as_str(), s["cd"].as_str(), s["st"].as_str()),
        (Some("ticker"), Some("KRW-XRP"), Some("SNAPSHOT"))
    );
    assert!(s.get("tp").is_some() && s.get("trade_price").is_none());
    sim.step(30);
    assert!(
        next(&mut ws, Duration::from_millis(400)).await.is_none(),
        "snapshot only: nothing realtime"
    );
}

#[tokio::test]
async fn ping_status_idle_close_and_errors() {
    let sim = replay_with(|c| {
        c.ws_status_interval = Duration::from_millis(100);
        c.ws_idle_timeout = Duration::from_millis(600);
    })
    .await;
    let mut ws = connect(&sim, None).await;
    ws.send(Message::text("PING")).await.unwrap();
    for _ in 0..3 {
        assert_eq!(next(&mut ws, SEC).await.unwrap(), json!({"status": "UP"}));
    }
    // WebSocket PINGs are answered with PONGs (handled by the library).
    ws.send(Message::Ping(vec![1, 2].into())).await.unwrap();
    // Silence from the client closes the connection after the idle timeout.
    let mut ws = connect(&sim, None).await;
    let started = std::time::Instant::now();
    assert!(next(&mut ws, SEC).await.is_none());
    assert!(started.elapsed() >= Duration::from_millis(500));

    for (request, name) in [
        (json!({"ticket": "x"}), "WRONG_FORMAT"),
        (
            json!([{"type": "ticker", "codes": ["KRW-BTC"]}]),
            "NO_TICKET",
        ),
        (json!([{"ticket": "x"}]), "NO_TYPE"),
        (json!([{"ticket": "x"}, {"type": "ticker"}]), "NO_CODES"),
        (
            json!([{"ticket": "x"}, {"type": "candle.2m", "codes": ["KRW-BTC"]}]),
            "INVALID_PARAM",
        ),
        (
            json!([{"ticket": "x"}, {"type": "myOrder"}]),
            "INVALID_AUTH",
        ),
    ] {
        let mut ws = connect(&sim, None).await;
        send(&mut ws, &request).await;
        let e = next(&mut ws, SEC).await.unwrap();
        assert_eq!(e["error"]["name"], name, "{request}");
        assert!(next(&mut ws, SEC).await.is_none(), "closed after an error");
    }
    let mut ws = connect(&sim, None).await;
    ws.send(Message::text("not json")).await.unwrap();
    assert_eq!(
        next(&mut ws, SEC).await.unwrap()["error"]["name"],
        "WRONG_FORMAT"
    );
}

#[tokio::test]
async fn private_streams_follow_the_order_lifecycle() {
    let sim = replay().await;
    let k = Key::new("ws-private");
    sim.add_account(&k, &[("KRW", "1000000")]);
    // Without a valid JWT: INVALID_AUTH, then close.
    let bad = Key {
        access: k.access.clone(),
        secret: "wrong".into(),
    };
    let mut ws = connect(&sim, Some(&sign(&bad, "w0", None, Algorithm::HS256))).await;
    let e = next(&mut ws, SEC).await.unwrap();
    assert_eq!(e["error"]["name"], "INVALID_AUTH");
    assert!(next(&mut ws, SEC).await.is_none());

    let mut ws = connect(&sim, Some(&sign(&k, "w1", None, Algorithm::HS512))).await;
    send(
        &mut ws,
        &json!([{"ticket": "p"}, {"type": "myOrder", "codes": ["KRW-XRP"]}, {"type": "myAsset"}]),
    )
    .await;
    assert!(
        next(&mut ws, Duration::from_millis(300)).await.is_none(),
        "nothing while idle"
    );
    let (_, bids) = sim.book("KRW-XRP").await;
    let p = (bids[0].0 - Decimal::TEN).to_string();
    let uuid = sim
        .place(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "10"),
                ("price", &p),
                ("ord_type", "limit"),
                ("identifier", "ws-1"),
            ],
        )
        .await;
    let created = until(&mut ws, SEC, |m| m["type"] == "myOrder").await;
    assert_eq!(created["uuid"], uuid.as_str());
    assert_eq!(created["state"], "wait");
    assert_eq!(created["ask_bid"], "BID");
    assert_eq!(created["identifier"], "ws-1");
    assert!(created["trade_uuid"].is_null() && created["is_maker"].is_null());
    let asset = until(&mut ws, SEC, |m| m["type"] == "myAsset").await;
    let krw = &asset["assets"][0];
    assert_eq!(krw["currency"], "KRW");
    let rest = sim.balance(&k, "KRW").await;
    assert_eq!(
        (dec(&krw["balance"]), dec(&krw["locked"])),
        (rest.0, rest.1)
    );
    assert!(asset.get("code").is_none());

    // A fill: `trade` with the fill's price and volume, then `done`.
    let (asks, _) = sim.book("KRW-XRP").await;
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
    let w = until(&mut ws, SEC, |m| {
        m["type"] == "myOrder" && m["uuid"] == taker.as_str()
    })
    .await;
    assert_eq!(w["state"], "wait");
    let t = until(&mut ws, SEC, |m| {
        m["type"] == "myOrder" && m["uuid"] == taker.as_str()
    })
    .await;
    assert_eq!(t["state"], "trade");
    assert_eq!(dec(&t["price"]), asks[0].0);
    assert_eq!(dec(&t["volume"]), Decimal::TWO);
    assert_eq!(t["is_maker"], false);
    assert!(t["trade_uuid"].is_string());
    let d = until(&mut ws, SEC, |m| {
        m["type"] == "myOrder" && m["uuid"] == taker.as_str()
    })
    .await;
    assert_eq!(d["state"], "done");

    // Cancel of the resting order: `cancel` and the KRW released.
    sim.private(&k, Method::DELETE, "/v1/order", &[("uuid", &uuid)])
        .await;
    let c = until(&mut ws, SEC, |m| {
        m["type"] == "myOrder" && m["uuid"] == uuid.as_str()
    })
    .await;
    assert_eq!(c["state"], "cancel");
    let a = until(&mut ws, SEC, |m| m["type"] == "myAsset").await;
    assert_eq!(dec(&a["assets"][0]["locked"]), Decimal::ZERO);

    // Other markets' orders are filtered by codes; other accounts never show.
    let other = Key::new("ws-other");
    sim.add_account(&other, &[("KRW", "1000000")]);
    sim.place(
        &other,
        &[
            ("market", "KRW-XRP"),
            ("side", "bid"),
            ("volume", "10"),
            ("price", &p),
            ("ord_type", "limit"),
        ],
    )
    .await;
    assert!(next(&mut ws, Duration::from_millis(300)).await.is_none());

    // Public types are refused on the private endpoint.
    let mut ws2 = connect(&sim, Some(&sign(&k, "w2", None, Algorithm::HS256))).await;
    send(
        &mut ws2,
        &json!([{"ticket": "p"}, {"type": "ticker", "codes": ["KRW-BTC"]}]),
    )
    .await;
    assert_eq!(
        next(&mut ws2, SEC).await.unwrap()["error"]["name"],
        "INVALID_PARAM"
    );
    // myAsset takes no codes.
    let mut ws3 = connect(&sim, Some(&sign(&k, "w3", None, Algorithm::HS256))).await;
    send(
        &mut ws3,
        &json!([{"ticket": "p"}, {"type": "myAsset", "codes": ["KRW-BTC"]}]),
    )
    .await;
    assert_eq!(
        next(&mut ws3, SEC).await.unwrap()["error"]["name"],
        "WRONG_FORMAT"
    );
}

#[tokio::test]
async fn dropped_connections_by_fault_injection() {
    let sim = replay().await;
    let mut ws = connect(&sim, None).await;
    send(
        &mut ws,
        &json!([{"ticket": "d"}, {"type": "ticker", "codes": ["KRW-BTC"]}]),
    )
    .await;
    next(&mut ws, SEC).await.unwrap();
    let r = sim
        .admin(Method::POST, "/faults", Some(json!({"drop_ws": true})))
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK);
    assert!(
        next(&mut ws, SEC).await.is_none(),
        "the connection is dropped"
    );
    // New connections work.
    let mut ws = connect(&sim, None).await;
    send(
        &mut ws,
        &json!([{"ticket": "d"}, {"type": "ticker", "codes": ["KRW-BTC"]}]),
    )
    .await;
    assert_eq!(next(&mut ws, SEC).await.unwrap()["type"], "ticker");
}
