//! Short-lived caches that keep dashboard reads cheap under load (many open
//! browser tabs polling, 500 reads/s in the load check):
//!
//! * [`ReadCache`]: the JSON answers of the dashboard's list reads
//!   (`/dashboard`, `/dashboard/profit`, `/traders`, `/strategies`, the first
//!   page of `/events`) for at most `read_cache_ttl`. Any change made through
//!   this API empties it at once; changes made by traders (heartbeats,
//!   equity, events) show up within the TTL (one second by default — the UI
//!   refreshes every few seconds, and the action log is live over SSE anyway).
//! * [`SessionCache`]: a validated session for a few seconds, so a read does
//!   not cost a session lookup; logout evicts it at once.
//!
//! An entry is fresh while both the injected clock and the monotonic clock
//! have moved less than the TTL since it was stored: tests that step a
//! `TestClock` see fresh data, production behaves as expected.

use std::{
    collections::HashMap,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use storage::auth::Session;

use crate::state::AppState;

/// Entries kept at most; beyond that the cache is emptied (keys are few).
const MAX_ENTRIES: usize = 256;
/// Largest answer cached.
const MAX_BODY: usize = 8 * 1024 * 1024;

#[derive(Debug)]
struct Entry<T> {
    value: T,
    generation: u64,
    at: Instant,
    clock_at: DateTime<Utc>,
}

impl<T> Entry<T> {
    fn fresh(&self, ttl: Duration, generation: u64, now: DateTime<Utc>) -> bool {
        self.generation == generation
            && self.at.elapsed() < ttl
            && (now - self.clock_at).to_std().is_ok_and(|d| d < ttl)
            && now >= self.clock_at
    }
}

/// Cached JSON answers of list reads.
#[derive(Debug, Default)]
pub struct ReadCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry<Bytes>>>,
}

impl ReadCache {
    /// Empties the cache (after any change made through the API).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn get(&self, key: &str, ttl: Duration, now: DateTime<Utc>) -> Option<Bytes> {
        let generation = self.generation.load(Ordering::Acquire);
        let map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(key)
            .filter(|e| e.fresh(ttl, generation, now))
            .map(|e| e.value.clone())
    }

    fn put(&self, key: String, value: Bytes, generation: u64, now: DateTime<Utc>) {
        let mut map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(
            key,
            Entry {
                value,
                generation,
                at: Instant::now(),
                clock_at: now,
            },
        );
    }
}

/// Whether a GET may be served from the cache: the list reads, and the
/// first page of the action log (`after` pages and everything else: never).
fn cacheable(path: &str, query: Option<&str>) -> bool {
    match path {
        "/dashboard" | "/dashboard/profit" | "/traders" | "/strategies" | "/risk-profiles" => true,
        "/events" => !query.unwrap_or_default().contains("after"),
        _ => false,
    }
}

/// Middleware of the protected routes: serves cached list reads, stores
/// fresh ones, and empties the cache after every successful change.
pub async fn read_cache(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ttl = state.settings.read_cache_ttl;
    if req.method() != Method::GET {
        // Even a failed change may have changed something (a reverted RUN).
        let res = next.run(req).await;
        state.read_cache.invalidate();
        return res;
    }
    // The path as routed inside /api/v1.
    let path = req.uri().path().trim_start_matches("/api/v1").to_owned();
    let query = req.uri().query().map(str::to_owned);
    if ttl.is_zero() || !cacheable(&path, query.as_deref()) {
        return next.run(req).await;
    }
    let key = match &query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let now = state.now();
    if let Some(body) = state.read_cache.get(&key, ttl, now) {
        return json_response(body);
    }
    let generation = state.read_cache.generation.load(Ordering::Acquire);
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (parts, body) = res.into_parts();
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            state.read_cache.put(key, bytes.clone(), generation, now);
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => {
            tracing::error!(error = %e, "failed to buffer an answer for the read cache");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn json_response(body: Bytes) -> Response {
    let mut res = Response::new(Body::from(body));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// Validated sessions by token, for a few seconds.
#[derive(Debug, Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, Entry<Session>>>,
}

impl SessionCache {
    /// A cached session that has not expired.
    pub fn get(&self, token: &str, ttl: Duration, now: DateTime<Utc>) -> Option<Session> {
        let map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(token)
            .filter(|e| e.fresh(ttl, 0, now) && e.value.expires_at > now)
            .map(|e| e.value.clone())
    }

    /// Remembers a session looked up in the database.
    pub fn put(&self, token: &str, session: Session, now: DateTime<Utc>) {
        let mut map = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(
            token.to_owned(),
            Entry {
                value: session,
                generation: 0,
                at: Instant::now(),
                clock_at: now,
            },
        );
    }

    /// Forgets a session (logout).
    pub fn remove(&self, token: &str) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(token);
    }
}

#[cfg(test)]
mod tests {
    use super::cacheable;

    #[test]
    fn only_list_reads_are_cacheable() {
        let cases = [
            ("/dashboard", None, true),
            ("/dashboard/profit", Some("range=7d"), true),
            ("/traders", None, true),
            ("/strategies", None, true),
            ("/events", Some("limit=100"), true),
            ("/events", Some("after=5&limit=3"), false),
            ("/events/stream", None, false),
            ("/traders/1", None, false),
            ("/auth/me", None, false),
            ("/credentials", None, false),
            ("/audit", None, false),
        ];
        for (path, query, want) in cases {
            assert_eq!(cacheable(path, query), want, "{path}?{query:?}");
        }
    }
}
