//! WebSocket client against an in-process server replaying recorded frames:
//! subscription format, binary and text frames, no `Origin`, JWT on the
//! private endpoint, reconnect with resubscription and a gap signal, idle
//! detection, resubscribe and close.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::{
        State,
        ws::{Message, WebSocket, WebSocketUpgrade},
    },
    http::HeaderMap,
    response::Response,
    routing::any,
};
use domain::{Market, Secret};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use tokio::sync::mpsc;
use upbit::{
    Credential, MyOrderState, RateLimiter, RateLimits, Subscription, UpbitUrls, UpbitWebSocket,
    WsConfig, WsEvent, WsMessage,
};

const AK: &str = "TEST_ACCESS_KEY_0123456789abcdefghijklmn";
const SK: &str = "TEST_SECRET_KEY_0123456789abcdefghijklmn";

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/test_data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    /// 1st connection: ticker then drop; later: trade (text) + status, stay open.
    DropThenServe,
    /// Accept and stay silent (pings are answered by the server library).
    Silent,
    /// Private: myOrder.
    Private,
}

#[derive(Default)]
struct Seen {
    connections: usize,
    headers: Vec<HeaderMap>,
    /// (connection index, text received)
    received: Vec<(usize, String)>,
}

#[derive(Clone)]
struct AppState {
    script: Script,
    seen: Arc<Mutex<Seen>>,
}

async fn upgrade(State(st): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let n = {
        let mut s = st.seen.lock().unwrap();
        s.connections += 1;
        s.headers.push(headers);
        s.connections - 1
    };
    ws.on_upgrade(move |socket| serve(socket, st, n))
}

async fn recv_text(socket: &mut WebSocket, st: &AppState, n: usize) -> Option<()> {
    loop {
        match socket.recv().await? {
            Ok(Message::Text(t)) => {
                st.seen.lock().unwrap().received.push((n, t.to_string()));
                return Some(());
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

async fn serve(mut socket: WebSocket, st: AppState, n: usize) {
    if st.script == Script::Silent {
        while let Some(Ok(_)) = socket.recv().await {}
        return;
    }
    if recv_text(&mut socket, &st, n).await.is_none() {
        return;
    }
    match (st.script, n) {
        (Script::DropThenServe, 0) => {
            socket
                .send(Message::Binary(data("ws_ticker.json").into()))
                .await
                .unwrap();
            // Drop without a close frame: the connection just dies.
        }
        (Script::DropThenServe, _) => {
            let trade = String::from_utf8(data("ws_trade.json")).unwrap();
            socket.send(Message::Text(trade.into())).await.unwrap();
            socket
                .send(Message::Binary(br#"{"status":"UP"}"#.to_vec().into()))
                .await
                .unwrap();
            while recv_text(&mut socket, &st, n).await.is_some() {}
        }
        (Script::Private, _) => {
            socket
                .send(Message::Binary(data("ws_my_order.json").into()))
                .await
                .unwrap();
            while recv_text(&mut socket, &st, n).await.is_some() {}
        }
        (Script::Silent, _) => unreachable!(),
    }
}

async fn start(script: Script) -> (String, Arc<Mutex<Seen>>) {
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let app = Router::new()
        .route("/websocket/v1", any(upgrade))
        .route("/websocket/v1/private", any(upgrade))
        .with_state(AppState {
            script,
            seen: seen.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("ws://{addr}/websocket/v1"), seen)
}

fn urls(ws: &str) -> UpbitUrls {
    UpbitUrls::new("http://127.0.0.1:1", ws).unwrap()
}

fn limiter() -> Arc<RateLimiter> {
    Arc::new(RateLimiter::new(
        RateLimits::default(),
        runtime::SystemClock::shared(),
    ))
}

fn fast(mut c: WsConfig) -> WsConfig {
    c.reconnect_initial = Duration::from_millis(50);
    c.reconnect_max = Duration::from_millis(200);
    c
}

async fn next(rx: &mut mpsc::Receiver<WsEvent>) -> WsEvent {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("event within 5 s")
        .expect("channel open")
}

fn btc() -> Market {
    Market::parse("market", "KRW-BTC").unwrap()
}

#[tokio::test]
async fn reconnects_resubscribes_and_reports_the_gap() {
    let (ws_url, seen) = start(Script::DropThenServe).await;
    let subs = vec![
        Subscription::ticker(vec![btc()]),
        Subscription::trade(vec![btc()]),
    ];
    let cfg = fast(WsConfig::public(&urls(&ws_url), subs));
    let (handle, mut rx) =
        UpbitWebSocket::spawn(cfg, limiter(), runtime::SystemClock::shared()).unwrap();

    let WsEvent::Connected { at: connected_at } = next(&mut rx).await else {
        panic!("expected Connected")
    };
    let WsEvent::Message(WsMessage::Ticker { ticker, .. }) = next(&mut rx).await else {
        panic!("expected the ticker (binary frame)")
    };
    assert_eq!(ticker.market, btc());
    let WsEvent::Disconnected { at: down_at, .. } = next(&mut rx).await else {
        panic!("expected Disconnected")
    };
    let WsEvent::Reconnected { gap, .. } = next(&mut rx).await else {
        panic!("expected Reconnected")
    };
    assert!(
        connected_at <= gap.from,
        "gap starts at the last data message"
    );
    assert!(gap.from <= down_at && down_at <= gap.to);
    let WsEvent::Message(WsMessage::Trade { trade, .. }) = next(&mut rx).await else {
        panic!("expected the trade (text frame)")
    };
    assert_eq!(trade.sequential_id, 17_516_060_403_650_000);
    assert_eq!(
        next(&mut rx).await,
        WsEvent::Message(WsMessage::Status("UP".into()))
    );

    // Replacing the subscription sends a new request on the live connection.
    handle
        .subscribe(vec![Subscription::orderbook(vec![btc()])])
        .await
        .unwrap();
    for _ in 0..100 {
        if seen.lock().unwrap().received.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.close().await;

    let seen = seen.lock().unwrap();
    assert_eq!(seen.connections, 2);
    assert!(
        seen.headers.iter().all(|h| h.get("origin").is_none()),
        "Origin must never be sent"
    );
    assert!(
        seen.headers
            .iter()
            .all(|h| h.get("authorization").is_none())
    );
    let msgs: Vec<serde_json::Value> = seen
        .received
        .iter()
        .map(|(_, t)| serde_json::from_str(t).unwrap())
        .collect();
    assert_eq!(seen.received[0].0, 0);
    assert_eq!(seen.received[1].0, 1, "resubscribed on the new connection");
    for m in &msgs[..2] {
        assert!(m[0]["ticket"].is_string());
        assert_eq!(m[1]["type"], "ticker");
        assert_eq!(m[1]["codes"][0], "KRW-BTC");
        assert_eq!(m[2]["type"], "trade");
        assert_eq!(m[3]["format"], "DEFAULT");
    }
    assert_ne!(msgs[0][0]["ticket"], msgs[1][0]["ticket"]);
    assert_eq!(msgs[2][1]["type"], "orderbook");
}

#[tokio::test]
async fn a_silent_connection_is_dropped_after_the_idle_timeout() {
    let (ws_url, seen) = start(Script::Silent).await;
    let mut cfg = fast(WsConfig::public(
        &urls(&ws_url),
        vec![Subscription::ticker(vec![btc()])],
    ));
    cfg.idle_timeout = Duration::from_millis(300);
    cfg.ping_interval = Duration::from_secs(10);
    let (handle, mut rx) =
        UpbitWebSocket::spawn(cfg, limiter(), runtime::SystemClock::shared()).unwrap();
    assert!(matches!(next(&mut rx).await, WsEvent::Connected { .. }));
    let WsEvent::Disconnected { reason, .. } = next(&mut rx).await else {
        panic!("expected Disconnected")
    };
    assert!(reason.contains("nothing received"), "{reason}");
    assert!(matches!(next(&mut rx).await, WsEvent::Reconnected { .. }));
    handle.close().await;
    assert!(seen.lock().unwrap().connections >= 2);
}

#[tokio::test]
async fn private_stream_sends_a_jwt_without_query_hash() {
    let (ws_url, seen) = start(Script::Private).await;
    let cred = Credential::new(AK, Secret::new(SK)).unwrap();
    let cfg = fast(WsConfig::private(
        &urls(&ws_url),
        cred,
        vec![Subscription::my_order(vec![]), Subscription::my_asset()],
    ));
    let (handle, mut rx) =
        UpbitWebSocket::spawn(cfg, limiter(), runtime::SystemClock::shared()).unwrap();
    assert!(matches!(next(&mut rx).await, WsEvent::Connected { .. }));
    let WsEvent::Message(WsMessage::MyOrder(o)) = next(&mut rx).await else {
        panic!("expected myOrder")
    };
    assert_eq!(o.state, MyOrderState::Trade);
    handle.close().await;

    let seen = seen.lock().unwrap();
    let auth = seen.headers[0]
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let token = auth.strip_prefix("Bearer ").unwrap();
    let mut v = Validation::new(Algorithm::HS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    let claims = decode::<serde_json::Value>(token, &DecodingKey::from_secret(SK.as_bytes()), &v)
        .unwrap()
        .claims;
    assert_eq!(claims["access_key"], AK);
    assert!(claims.get("query_hash").is_none());
    assert!(seen.headers[0].get("origin").is_none());
    let req: serde_json::Value = serde_json::from_str(&seen.received[0].1).unwrap();
    assert_eq!(req[1], serde_json::json!({"type": "myOrder"}));
    assert_eq!(req[2], serde_json::json!({"type": "myAsset"}));
}

#[tokio::test]
async fn private_channels_without_credential_are_refused_up_front() {
    let cfg = WsConfig::public(
        &urls("ws://127.0.0.1:1/websocket/v1"),
        vec![Subscription::my_asset()],
    );
    let err = UpbitWebSocket::spawn(cfg, limiter(), runtime::SystemClock::shared()).unwrap_err();
    assert_eq!(err.category(), upbit::ErrorCategory::Local);
    let cfg = WsConfig::public(&urls("ws://127.0.0.1:1/websocket/v1"), vec![]);
    assert!(UpbitWebSocket::spawn(cfg, limiter(), runtime::SystemClock::shared()).is_err());
}
