//! The live action log (UI-2): one poller per process reads new rows of the
//! append-only `events` table (traders write there; so does this API) and
//! fans them out over a broadcast channel to every SSE client. A client that
//! resumes (`Last-Event-ID`) or falls behind is first served from the table,
//! then from the channel, skipping ids it already has — so no event is lost
//! or repeated, however many clients are connected.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{
        Arc, PoisonError, RwLock, Weak,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use axum::response::sse;
use chrono::{DateTime, Utc};
use domain::TraderId;
use serde::Serialize;
use serde_json::Value;
use storage::{
    StorageError, Store,
    events::{Event, EventLevel, NewEvent},
};
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

/// Events read per query.
const PAGE: u32 = 500;
/// Frames buffered per broadcast receiver before it counts as lagging.
const CHANNEL: usize = 1024;
/// Frames buffered per client connection.
const CLIENT_BUFFER: usize = 64;

/// One event as the API shows it (`Event` in docs/api.md).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventView {
    /// Increasing id (the SSE `id:`).
    pub id: i64,
    /// When it happened.
    pub ts: DateTime<Utc>,
    /// The trader it concerns.
    pub trader_id: Option<TraderId>,
    /// That trader's name.
    pub trader_name: Option<String>,
    /// INFO, WARN or CRITICAL.
    pub level: EventLevel,
    /// Machine-readable kind.
    pub kind: String,
    /// Text.
    pub message: String,
    /// Details.
    pub data: Value,
}

/// A serialised event, shared by every client.
#[derive(Debug)]
struct Frame {
    id: i64,
    json: String,
}

#[derive(Debug)]
struct HubInner {
    store: Store,
    tx: broadcast::Sender<Arc<Frame>>,
    last_id: AtomicI64,
    names: RwLock<HashMap<TraderId, String>>,
    poke: Notify,
    shutdown: watch::Sender<bool>,
}

/// The fan-out of new events to live streams.
#[derive(Debug, Clone)]
pub struct EventHub {
    inner: Arc<HubInner>,
}

impl EventHub {
    /// Starts the poller at the newest existing event (history is served on
    /// request, not pushed). The poller stops with [`EventHub::shutdown`] or
    /// when the hub is dropped.
    pub async fn start(store: Store, poll: Duration) -> Result<Self, StorageError> {
        let last = store.events().latest(1).await?.last().map_or(0, |e| e.id);
        let (tx, _) = broadcast::channel(CHANNEL);
        let (shutdown, _) = watch::channel(false);
        let inner = Arc::new(HubInner {
            store,
            tx,
            last_id: AtomicI64::new(last),
            names: RwLock::new(HashMap::new()),
            poke: Notify::new(),
            shutdown,
        });
        tokio::spawn(poll_loop(Arc::downgrade(&inner), poll));
        Ok(Self { inner })
    }

    /// Id of the newest event the poller has seen.
    pub fn last_id(&self) -> i64 {
        self.inner.last_id.load(Ordering::Acquire)
    }

    /// Asks the poller to look now (after this process wrote an event).
    pub fn poke(&self) {
        self.inner.poke.notify_one();
    }

    /// Ends the poller and every live stream.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Resolves once [`EventHub::shutdown`] was called (for other loops of
    /// the service).
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Appends an event and wakes the poller. A failure is logged, not
    /// returned: the action the event describes has already happened.
    pub async fn record(&self, event: NewEvent) {
        match self.inner.store.events().append(&event).await {
            Ok(_) => self.poke(),
            Err(e) => {
                tracing::warn!(kind = %event.kind, error = %e, "failed to record an event");
            }
        }
    }

    /// The API view of stored events (trader names resolved, cached).
    pub async fn views(&self, events: Vec<Event>) -> Result<Vec<EventView>, StorageError> {
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let trader_name = match e.trader_id {
                Some(id) => self.inner.name_of(id).await?,
                None => None,
            };
            out.push(EventView {
                id: e.id,
                ts: e.ts,
                trader_id: e.trader_id,
                trader_name,
                level: e.level,
                kind: e.kind,
                message: e.message,
                data: e.data,
            });
        }
        Ok(out)
    }

    /// A live stream of events with ids above `after` (default: the newest
    /// stored now), ending when the client goes away, the service shuts
    /// down or `until` resolves (its session ended).
    pub async fn stream(
        &self,
        after: Option<i64>,
        until: impl Future<Output = ()> + Send + 'static,
    ) -> Result<ReceiverStream<Result<sse::Event, Infallible>>, StorageError> {
        let (out, rx_out) = mpsc::channel(CLIENT_BUFFER);
        // Subscribe first: anything stored after the cursor is read below is
        // either in the backfill or on the channel.
        let mut rx = self.inner.tx.subscribe();
        let mut cursor = match after {
            Some(a) => a,
            None => self
                .inner
                .store
                .events()
                .latest(1)
                .await?
                .last()
                .map_or(0, |e| e.id),
        };
        let hub = self.clone();
        let mut shutdown = self.inner.shutdown.subscribe();
        tokio::spawn(async move {
            let mut until = std::pin::pin!(until);
            let hello = sse::Event::default()
                .retry(Duration::from_secs(1))
                .comment("connected");
            if out.send(Ok(hello)).await.is_err() || !hub.backfill(&mut cursor, &out).await {
                return;
            }
            loop {
                tokio::select! {
                    r = rx.recv() => match r {
                        Ok(frame) => {
                            if frame.id > cursor {
                                if out.send(Ok(to_sse(&frame))).await.is_err() {
                                    return;
                                }
                                cursor = frame.id;
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            if !hub.backfill(&mut cursor, &out).await {
                                return;
                            }
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    () = out.closed() => return,
                    () = stopped(&mut shutdown) => return,
                    () = &mut until => {
                        // Best effort: the client may be gone already.
                        drop(out.try_send(Ok(sse::Event::default().comment("session ended"))));
                        return;
                    }
                }
            }
        });
        Ok(ReceiverStream::new(rx_out))
    }

    /// Sends every stored event after `cursor`; false when the client is gone.
    async fn backfill(
        &self,
        cursor: &mut i64,
        out: &mpsc::Sender<Result<sse::Event, Infallible>>,
    ) -> bool {
        loop {
            let page = match self.inner.store.events().list_after(*cursor, PAGE).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "event stream: reading events failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if out.is_closed() {
                        return false;
                    }
                    continue;
                }
            };
            let full = page.len() == PAGE as usize;
            for e in page {
                let frame = match self.inner.frame(e).await {
                    Ok(f) => f,
                    Err(err) => {
                        tracing::warn!(error = %err, "event stream: resolving a trader name failed");
                        return !out.is_closed();
                    }
                };
                if out.send(Ok(to_sse(&frame))).await.is_err() {
                    return false;
                }
                *cursor = frame.id;
            }
            if !full {
                return true;
            }
        }
    }
}

fn to_sse(frame: &Frame) -> sse::Event {
    sse::Event::default()
        .id(frame.id.to_string())
        .event("action")
        .data(&frame.json)
}

impl HubInner {
    async fn name_of(&self, id: TraderId) -> Result<Option<String>, StorageError> {
        if let Some(n) = self
            .names
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return Ok(Some(n.clone()));
        }
        let name = self.store.traders().get(id).await?.map(|t| t.name);
        if let Some(n) = &name {
            self.names
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, n.clone());
        }
        Ok(name)
    }

    async fn frame(&self, e: Event) -> Result<Frame, StorageError> {
        let trader_name = match e.trader_id {
            Some(id) => self.name_of(id).await?,
            None => None,
        };
        let view = EventView {
            id: e.id,
            ts: e.ts,
            trader_id: e.trader_id,
            trader_name,
            level: e.level,
            kind: e.kind,
            message: e.message,
            data: e.data,
        };
        let json = serde_json::to_string(&view).unwrap_or_else(|_| "{}".to_owned());
        Ok(Frame { id: view.id, json })
    }
}

/// Resolves once shutdown was signalled.
pub(crate) async fn stopped(rx: &mut watch::Receiver<bool>) {
    // An error means the hub is gone: stop too.
    drop(rx.wait_for(|s| *s).await);
}

/// Reads new events and broadcasts them until shutdown or the hub is dropped.
async fn poll_loop(hub: Weak<HubInner>, every: Duration) {
    let mut shutdown = match hub.upgrade() {
        Some(h) => h.shutdown.subscribe(),
        None => return,
    };
    let mut failing = false;
    loop {
        {
            let Some(h) = hub.upgrade() else { return };
            let poked = h.poke.notified();
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = poked => {}
                () = stopped(&mut shutdown) => return,
            }
        }
        let Some(h) = hub.upgrade() else { return };
        'read: loop {
            let last = h.last_id.load(Ordering::Acquire);
            let page = match h.store.events().list_after(last, PAGE).await {
                Ok(p) => {
                    if failing {
                        tracing::info!("event poller: database reachable again");
                        failing = false;
                    }
                    p
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "event poller: reading events failed");
                        failing = true;
                    }
                    break 'read;
                }
            };
            let full = page.len() == PAGE as usize;
            for e in page {
                match h.frame(e).await {
                    Ok(frame) => {
                        h.last_id.store(frame.id, Ordering::Release);
                        // No receiver is fine: nobody is watching.
                        drop(h.tx.send(Arc::new(frame)));
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "event poller: resolving a trader name failed");
                        break 'read;
                    }
                }
            }
            if !full {
                break 'read;
            }
        }
    }
}

/// An event about a trader or the platform, written by this API.
pub fn new_event(
    ts: DateTime<Utc>,
    trader_id: Option<TraderId>,
    level: EventLevel,
    kind: &str,
    message: impl Into<String>,
    data: Value,
) -> NewEvent {
    NewEvent {
        ts,
        trader_id,
        level,
        kind: kind.to_owned(),
        message: message.into(),
        data,
    }
}
