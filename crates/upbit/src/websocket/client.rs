//! One WebSocket connection run by a task, exposed as a channel of events.
//!
//! - Handshake through the rate limiter's `websocket-connect` group, with a
//!   fresh JWT (no `query_hash`) in `Authorization` for private streams and
//!   **no `Origin` header** (tungstenite adds none; any is removed).
//! - After connecting, the subscription request is sent (outgoing messages
//!   are limited to 5/s and 100/min per connection).
//! - Keep-alive: a WebSocket PING every `ping_interval`; if no frame at all
//!   arrives for `idle_timeout`, the connection is considered dead.
//! - On any loss: [`WsEvent::Disconnected`](crate::websocket::client::WsEvent::Disconnected), reconnect with exponential
//!   back-off, resubscribe, then [`WsEvent::Reconnected`](crate::websocket::client::WsEvent::Reconnected) with the [`Gap`](crate::websocket::client::Gap)
//!   between the last data message and the new subscription, so the caller
//!   can backfill by REST.
//! - Binary and text frames are both parsed ([`super::messages::parse_frame`](crate::websocket::messages::parse_frame)).

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use runtime::SharedClock;
use tokio::{
    net::TcpStream,
    sync::mpsc,
    task::JoinHandle,
    time::{Instant, sleep, sleep_until, timeout},
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{
        Message,
        client::IntoClientRequest,
        http::{HeaderValue, header},
    },
};

use crate::{
    common::{credential::Credential, urls::UpbitUrls},
    http::{
        error::UpbitError,
        rate_limit::{Limit, RateGroup, RateLimiter, RateLimits},
    },
    websocket::{
        messages::{WsMessage, parse_frame},
        subscription::{Subscription, request_message},
    },
};

/// Connection settings.
#[derive(Debug, Clone)]
pub struct WsConfig {
    /// `wss://…/websocket/v1` (public) or `…/private`.
    pub url: String,
    /// Credential for private streams.
    pub credential: Option<Credential>,
    /// What to subscribe to (re-sent after every reconnect).
    pub subscriptions: Vec<Subscription>,
    /// PING interval.
    pub ping_interval: Duration,
    /// Reconnect when nothing arrived for this long.
    pub idle_timeout: Duration,
    /// Handshake timeout.
    pub connect_timeout: Duration,
    /// First reconnect delay; doubles up to `reconnect_max`.
    pub reconnect_initial: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// Capacity of the event channel.
    pub channel_capacity: usize,
}

impl WsConfig {
    fn base(url: String, credential: Option<Credential>, subscriptions: Vec<Subscription>) -> Self {
        Self {
            url,
            credential,
            subscriptions,
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(90),
            connect_timeout: Duration::from_secs(10),
            reconnect_initial: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            channel_capacity: 1024,
        }
    }

    /// Public quotation streams.
    pub fn public(urls: &UpbitUrls, subscriptions: Vec<Subscription>) -> Self {
        Self::base(urls.ws_public().to_owned(), None, subscriptions)
    }

    /// Private streams (myOrder, myAsset) signed with `credential`.
    pub fn private(
        urls: &UpbitUrls,
        credential: Credential,
        subscriptions: Vec<Subscription>,
    ) -> Self {
        Self::base(urls.ws_private(), Some(credential), subscriptions)
    }
}

/// A span during which no data was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// Time of the last data message before the loss (or of the loss).
    pub from: DateTime<Utc>,
    /// Time the stream was resubscribed.
    pub to: DateTime<Utc>,
}

/// What the connection task reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "events move through a channel one at a time; boxing would allocate per message"
)]
pub enum WsEvent {
    /// First connection up and subscribed.
    Connected {
        /// When.
        at: DateTime<Utc>,
    },
    /// A typed message.
    Message(WsMessage),
    /// The connection was lost (or could not be made); reconnecting.
    Disconnected {
        /// When.
        at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// Connected and resubscribed again; backfill `gap` by REST.
    Reconnected {
        /// The span without data.
        gap: Gap,
        /// Failed attempts before this success.
        attempts: u32,
    },
    /// A frame that could not be decoded (dropped).
    Invalid {
        /// Why.
        error: String,
    },
}

#[derive(Debug)]
enum Command {
    Subscribe(Vec<Subscription>),
    Close,
}

/// Controls a running connection task.
#[derive(Debug)]
pub struct WsHandle {
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

impl WsHandle {
    /// Replaces the subscriptions (sent now and after every reconnect).
    pub async fn subscribe(&self, subscriptions: Vec<Subscription>) -> Result<(), UpbitError> {
        request_message("check", &subscriptions)?;
        self.commands
            .send(Command::Subscribe(subscriptions))
            .await
            .map_err(|_| UpbitError::WebSocket {
                message: "connection task has stopped".to_owned(),
            })
    }

    /// Closes the connection and waits for the task to end.
    pub async fn close(self) {
        // The task may already be gone; then there is nothing to close.
        let _ = self.commands.send(Command::Close).await;
        let _ = self.task.await;
    }

    /// True once the task has ended (closed, or the event receiver was dropped).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// Starts WebSocket connections.
#[derive(Debug, Clone, Copy)]
pub struct UpbitWebSocket;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

enum Exit {
    /// Closed on request or the receiver is gone: stop the task.
    Stop,
    /// Connection lost: reconnect.
    Lost(String),
}

struct Task {
    config: WsConfig,
    limiter: Arc<RateLimiter>,
    clock: SharedClock,
    events: mpsc::Sender<WsEvent>,
    commands: mpsc::Receiver<Command>,
    last_data: Option<DateTime<Utc>>,
}

impl UpbitWebSocket {
    /// Spawns the connection task. `limiter` should be the process-wide one
    /// (it holds the `websocket-connect` budget and any 418 block).
    pub fn spawn(
        config: WsConfig,
        limiter: Arc<RateLimiter>,
        clock: SharedClock,
    ) -> Result<(WsHandle, mpsc::Receiver<WsEvent>), UpbitError> {
        request_message("check", &config.subscriptions)?;
        if config.subscriptions.iter().any(|s| s.channel.is_private())
            && config.credential.is_none()
        {
            return Err(UpbitError::Config(
                "myOrder/myAsset need a credential and the private URL".to_owned(),
            ));
        }
        let (event_tx, event_rx) = mpsc::channel(config.channel_capacity.max(1));
        let (cmd_tx, cmd_rx) = mpsc::channel(16);
        let task = Task {
            config,
            limiter,
            clock,
            events: event_tx,
            commands: cmd_rx,
            last_data: None,
        };
        let handle = tokio::spawn(task.run());
        Ok((
            WsHandle {
                commands: cmd_tx,
                task: handle,
            },
            event_rx,
        ))
    }
}

impl Task {
    async fn emit(&self, e: WsEvent) -> bool {
        self.events.send(e).await.is_ok()
    }

    async fn run(mut self) {
        let mut backoff = self.config.reconnect_initial;
        let mut failures: u32 = 0;
        let mut ever_connected = false;
        let mut down_since: Option<DateTime<Utc>> = None;
        // Per-connection outgoing-message budgets: 5/s and 100/min.
        let per_second = RateLimiter::new(RateLimits::default(), self.clock.clone());
        let per_minute = RateLimiter::new(
            RateLimits::default().with_limit(
                RateGroup::WebsocketMessage,
                Limit {
                    max: 100,
                    per: Duration::from_mins(1),
                },
            ),
            self.clock.clone(),
        );
        let budgets = [&per_second, &per_minute];
        loop {
            let outcome = match self.connect().await {
                Ok(ws) => {
                    let now = self.clock.now();
                    let event = if ever_connected {
                        WsEvent::Reconnected {
                            gap: Gap {
                                from: self.last_data.or(down_since).unwrap_or(now),
                                to: now,
                            },
                            attempts: failures,
                        }
                    } else {
                        WsEvent::Connected { at: now }
                    };
                    ever_connected = true;
                    failures = 0;
                    backoff = self.config.reconnect_initial;
                    down_since = None;
                    self.session(ws, event, &budgets).await
                }
                Err(e) => Exit::Lost(e.to_string()),
            };
            let reason = match outcome {
                Exit::Stop => return,
                Exit::Lost(r) => r,
            };
            failures = failures.saturating_add(1);
            if down_since.is_none() {
                let at = self.clock.now();
                down_since = Some(at);
                tracing::warn!(url = %self.config.url, %reason, "Upbit WebSocket down");
                if !self.emit(WsEvent::Disconnected { at, reason }).await {
                    return;
                }
            }
            tokio::select! {
                () = sleep(backoff) => {}
                cmd = self.commands.recv() => match cmd {
                    Some(Command::Subscribe(s)) => self.config.subscriptions = s,
                    Some(Command::Close) | None => return,
                },
            }
            backoff = backoff.saturating_mul(2).min(self.config.reconnect_max);
        }
    }

    async fn connect(&self) -> Result<Ws, UpbitError> {
        self.limiter
            .acquire(RateGroup::WebsocketConnect, self.config.connect_timeout)
            .await?;
        let ws_err = |m: String| UpbitError::WebSocket { message: m };
        let mut req = self
            .config
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| ws_err(format!("bad WebSocket URL: {e}")))?;
        // An Origin header drops Upbit to 1 request / 10 s; never send one.
        req.headers_mut().remove(header::ORIGIN);
        if let Some(cred) = &self.config.credential {
            let value = HeaderValue::from_str(&cred.authorization(None))
                .map_err(|e| ws_err(format!("bad Authorization header: {e}")))?;
            req.headers_mut().insert(header::AUTHORIZATION, value);
        }
        let (ws, _resp) = timeout(self.config.connect_timeout, connect_async(req))
            .await
            .map_err(|_| ws_err("handshake timed out".to_owned()))?
            .map_err(|e| ws_err(format!("handshake failed: {e}")))?;
        Ok(ws)
    }

    async fn send_subscription(
        &self,
        ws: &mut futures_util::stream::SplitSink<Ws, Message>,
        budgets: &[&RateLimiter],
    ) -> Result<(), String> {
        let ticket = uuid::Uuid::new_v4().to_string();
        let msg =
            request_message(&ticket, &self.config.subscriptions).map_err(|e| e.to_string())?;
        for b in budgets {
            b.acquire(RateGroup::WebsocketMessage, Duration::from_mins(1))
                .await
                .map_err(|e| e.to_string())?;
        }
        ws.send(Message::Text(msg.into()))
            .await
            .map_err(|e| format!("send failed: {e}"))
    }

    async fn session(&mut self, ws: Ws, first_event: WsEvent, budgets: &[&RateLimiter]) -> Exit {
        let (mut sink, mut stream) = ws.split();
        if let Err(e) = self.send_subscription(&mut sink, budgets).await {
            return Exit::Lost(e);
        }
        if !self.emit(first_event).await {
            return Exit::Stop;
        }
        let mut ping = tokio::time::interval_at(
            Instant::now() + self.config.ping_interval,
            self.config.ping_interval,
        );
        let mut idle_deadline = Instant::now() + self.config.idle_timeout;
        loop {
            tokio::select! {
                frame = stream.next() => {
                    idle_deadline = Instant::now() + self.config.idle_timeout;
                    let payload = match frame {
                        None => return Exit::Lost("closed by the server".to_owned()),
                        Some(Err(e)) => return Exit::Lost(format!("read failed: {e}")),
                        Some(Ok(Message::Close(f))) => {
                            return Exit::Lost(format!("close frame from the server: {f:?}"));
                        }
                        Some(Ok(Message::Binary(b))) => b,
                        Some(Ok(Message::Text(t))) => bytes::Bytes::copy_from_slice(t.as_str().as_bytes()),
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    };
                    if !self.deliver(&payload).await {
                        return Exit::Stop;
                    }
                }
                _ = ping.tick() => {
                    if let Err(e) = sink.send(Message::Ping(bytes::Bytes::new())).await {
                        return Exit::Lost(format!("ping failed: {e}"));
                    }
                }
                () = sleep_until(idle_deadline) => {
                    return Exit::Lost(format!(
                        "nothing received for {} s",
                        self.config.idle_timeout.as_secs()
                    ));
                }
                cmd = self.commands.recv() => match cmd {
                    Some(Command::Subscribe(s)) => {
                        self.config.subscriptions = s;
                        if let Err(e) = self.send_subscription(&mut sink, budgets).await {
                            return Exit::Lost(e);
                        }
                    }
                    Some(Command::Close) | None => {
                        // Best effort: the peer may already be gone.
                        let _ = sink.send(Message::Close(None)).await;
                        return Exit::Stop;
                    }
                },
            }
        }
    }

    /// Parses one payload and forwards its messages; false when the receiver is gone.
    async fn deliver(&mut self, payload: &[u8]) -> bool {
        match parse_frame(payload) {
            Ok(msgs) => {
                for m in msgs {
                    if !matches!(m, WsMessage::Status(_) | WsMessage::Error { .. }) {
                        self.last_data = Some(self.clock.now());
                    }
                    if !self.emit(WsEvent::Message(m)).await {
                        return false;
                    }
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "undecodable WebSocket frame dropped");
                self.emit(WsEvent::Invalid {
                    error: e.to_string(),
                })
                .await
            }
        }
    }
}
