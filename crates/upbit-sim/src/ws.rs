//! WebSocket streams (`upbit-api.md` §8, §9 item 16): `/websocket/v1`
//! (ticker, trade, orderbook, candle.*) and `/websocket/v1/private` (myOrder,
//! myAsset; JWT in the handshake). Requests are `[ticket, type…, format]`
//! arrays; each type gets a snapshot then realtime messages, as binary
//! frames; `PING` starts `{"status":"UP"}` every 10 s; idle sessions close.

/// Request parsing and the SIMPLE key abbreviations.
pub mod request;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    body::Bytes,
    extract::{
        ConnectInfo, State,
        ws::{Message, WebSocket, WebSocketUpgrade},
    },
    http::HeaderMap,
    response::Response,
};
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use self::request::{Format, Kind, Parsed, Subscription, parse, simplify};
use crate::{
    auth::{Scope, authenticate},
    server::Shared,
    units::CandleUnit,
    views,
    world::Broadcast,
};

/// `GET /websocket/v1`.
pub async fn public(ws: WebSocketUpgrade, State(sh): State<Arc<Shared>>) -> Response {
    ws.on_upgrade(move |socket| session(socket, sh, None))
}

/// `GET /websocket/v1/private` (JWT without `query_hash` in `Authorization`).
pub async fn private(
    ws: WebSocketUpgrade,
    State(sh): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let now = sh.now();
    let auth = {
        let mut w = sh.world();
        authenticate(&mut w.engine, &headers, None, peer.ip(), now, Scope::Any)
    };
    ws.on_upgrade(move |mut socket| async move {
        match auth {
            Ok(caller) => session(socket, sh, Some(caller.account)).await,
            Err(e) => {
                let body = error_body("INVALID_AUTH", &format!("{}: {}", e.name_text(), e.message));
                let _ = socket.send(Message::Binary(Bytes::from(body))).await;
                let _ = socket.send(Message::Close(None)).await;
            }
        }
    })
}

fn error_body(name: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "error": { "name": name, "message": message } }))
        .unwrap_or_default()
}

type Tx = SplitSink<WebSocket, Message>;

struct Session {
    sh: Arc<Shared>,
    account: Option<usize>,
    sub: Option<Subscription>,
    candle_sent: HashMap<(String, CandleUnit), Instant>,
}

async fn send(tx: &mut Tx, v: &Value, format: Format) -> bool {
    let v = match format {
        Format::Default | Format::JsonList => v.clone(),
        Format::Simple | Format::SimpleList => simplify(v),
    };
    let v = if matches!(format, Format::JsonList | Format::SimpleList) {
        Value::Array(vec![v])
    } else {
        v
    };
    let bytes = serde_json::to_vec(&v).unwrap_or_default();
    tx.send(Message::Binary(Bytes::from(bytes))).await.is_ok()
}

async fn session(socket: WebSocket, sh: Arc<Shared>, account: Option<usize>) {
    let (mut tx, mut rx) = socket.split();
    let mut events = sh.events.subscribe();
    let mut dropped = sh.ws_drop.subscribe();
    let idle = sh.ws_idle_timeout;
    let mut deadline = tokio::time::Instant::now() + idle;
    let mut status: Option<tokio::time::Interval> = None;
    let mut s = Session {
        sh: Arc::clone(&sh),
        account,
        sub: None,
        candle_sent: HashMap::new(),
    };
    loop {
        tokio::select! {
            msg = rx.next() => {
                let Some(Ok(msg)) = msg else { break };
                deadline = tokio::time::Instant::now() + idle;
                let text = match &msg {
                    Message::Text(t) => t.as_str().to_owned(),
                    Message::Binary(b) => String::from_utf8_lossy(b).into_owned(),
                    Message::Close(_) => break,
                    _ => continue,
                };
                if text.trim() == "PING" {
                    if !send(&mut tx, &json!({"status": "UP"}), Format::Default).await {
                        break;
                    }
                    if status.is_none() {
                        let period = sh.ws_status_interval.max(Duration::from_millis(10));
                        let mut iv = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                        status = Some(iv);
                    }
                    continue;
                }
                if !s.request(&mut tx, &text).await {
                    break;
                }
            }
            ev = events.recv() => match ev {
                Ok(e) => {
                    if !s.forward(&mut tx, &e).await {
                        break;
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            () = tokio::time::sleep_until(deadline) => {
                let _ = tx.send(Message::Close(None)).await;
                break;
            }
            _ = async { if let Some(iv) = status.as_mut() { iv.tick().await } else { std::future::pending().await } } => {
                if !send(&mut tx, &json!({"status": "UP"}), Format::Default).await {
                    break;
                }
            }
            _ = dropped.changed() => break,
        }
    }
}

impl Session {
    /// Handles one request message; false ends the session.
    async fn request(&mut self, tx: &mut Tx, text: &str) -> bool {
        let parsed = match parse(text, self.account.is_some()) {
            Ok(p) => p,
            Err((name, message)) => {
                let _ = tx
                    .send(Message::Binary(Bytes::from(error_body(name, &message))))
                    .await;
                let _ = tx.send(Message::Close(None)).await;
                return false;
            }
        };
        let sub = match parsed {
            Parsed::ListSubscriptions { ticket } => {
                let result: Vec<Value> = self
                    .sub
                    .iter()
                    .flat_map(|s| s.types.iter())
                    .map(request::TypeSub::describe)
                    .collect();
                let v =
                    json!({ "method": "LIST_SUBSCRIPTIONS", "result": result, "ticket": ticket });
                return send(tx, &v, Format::Default).await;
            }
            Parsed::Subscribe(sub) => sub,
        };
        let snapshots = self.snapshots(&sub);
        let format = sub.format;
        // A new request replaces the previous subscription.
        self.sub = Some(sub);
        for v in &snapshots {
            if !send(tx, v, format).await {
                return false;
            }
        }
        true
    }

    fn snapshots(&mut self, sub: &Subscription) -> Vec<Value> {
        let now = self.sh.now();
        let mut out = Vec::new();
        let mut w = self.sh.world();
        for t in sub.types.iter().filter(|t| !t.only_realtime) {
            for (code, depth) in &t.codes {
                let Some(i) = w.market_index(code) else {
                    continue;
                };
                match t.kind {
                    Kind::Ticker => out.extend(w.ws_ticker(i, now, "SNAPSHOT")),
                    Kind::Trade => {
                        if let Some(p) = w.markets[i].last() {
                            let prev = w.prev_close(i, p.ts, now);
                            let book = w.book(i);
                            out.push(views::ws_trade(code, &p, prev, &book, now, "SNAPSHOT"));
                        }
                    }
                    Kind::Orderbook => {
                        let book = w.book(i);
                        out.extend(render_book(code, &book, *depth, t.level, now, "SNAPSHOT"));
                    }
                    Kind::Candle(unit) => {
                        if let Some(c) = w.markets[i].candles(unit, None, 1, now).first() {
                            out.push(views::ws_candle(code, unit, c, now, "SNAPSHOT"));
                            self.candle_sent
                                .insert((code.clone(), unit), Instant::now());
                        }
                    }
                    Kind::MyOrder | Kind::MyAsset => {}
                }
            }
        }
        out
    }

    /// Forwards one stream event if subscribed; false ends the session.
    async fn forward(&mut self, tx: &mut Tx, e: &Broadcast) -> bool {
        let Some(sub) = &self.sub else {
            return true;
        };
        let format = sub.format;
        let mut msgs: Vec<Value> = Vec::new();
        match e {
            Broadcast::Trade { code, body } => {
                if sub.wants(Kind::Trade, code).is_some() {
                    msgs.push(body.clone());
                }
            }
            Broadcast::Ticker { code, body } => {
                if sub.wants(Kind::Ticker, code).is_some() {
                    msgs.push(body.clone());
                }
            }
            Broadcast::Orderbook { code, book, ts } => {
                for t in sub
                    .types
                    .iter()
                    .filter(|t| t.kind == Kind::Orderbook && !t.only_snapshot)
                {
                    if let Some((_, depth)) = t.codes.iter().find(|(c, _)| c == code) {
                        msgs.extend(render_book(code, book, *depth, t.level, *ts, "REALTIME"));
                    }
                }
            }
            Broadcast::CandleTick { market } => {
                let units: Vec<(String, CandleUnit)> = {
                    let w = self.sh.world();
                    let Some(m) = w.markets.get(*market) else {
                        return true;
                    };
                    let code = m.info.market.as_str().to_owned();
                    sub.types
                        .iter()
                        .filter(|t| !t.only_snapshot && t.codes.iter().any(|(c, _)| *c == code))
                        .filter_map(|t| match t.kind {
                            Kind::Candle(u) => Some((code.clone(), u)),
                            _ => None,
                        })
                        .collect()
                };
                for (code, unit) in units {
                    let key = (code.clone(), unit);
                    if self
                        .candle_sent
                        .get(&key)
                        .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
                    {
                        continue;
                    }
                    let now = self.sh.now();
                    let candle = {
                        let mut w = self.sh.world();
                        w.markets[*market]
                            .candles(unit, None, 1, now)
                            .first()
                            .copied()
                    };
                    if let Some(c) = candle {
                        msgs.push(views::ws_candle(&code, unit, &c, now, "REALTIME"));
                        self.candle_sent.insert(key, Instant::now());
                    }
                }
            }
            Broadcast::MyOrder {
                account,
                code,
                body,
            } => {
                if self.account == Some(*account) && sub.wants_private(Kind::MyOrder, Some(code)) {
                    msgs.push(body.clone());
                }
            }
            Broadcast::MyAsset { account, body } => {
                if self.account == Some(*account) && sub.wants_private(Kind::MyAsset, None) {
                    msgs.push(body.clone());
                }
            }
        }
        for m in &msgs {
            if !send(tx, m, format).await {
                return false;
            }
        }
        true
    }
}

/// The orderbook message at `level`; `None` when the market does not support
/// that aggregation level (the REST endpoint answers an empty list then).
fn render_book(
    code: &str,
    book: &crate::book::Book,
    depth: usize,
    level: Decimal,
    ts: i64,
    stream: &str,
) -> Option<Value> {
    if level.is_zero() {
        return Some(views::ws_orderbook(code, book, depth, level, ts, stream));
    }
    let reference = book.best_ask().or(book.best_bid())?;
    let tick = domain::tick::tick_size(reference);
    if !crate::http::quotation::supported_levels(tick).contains(&level) {
        return None;
    }
    Some(views::ws_orderbook(
        code,
        &book.aggregated(level),
        depth,
        level,
        ts,
        stream,
    ))
}
