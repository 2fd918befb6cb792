//! The simulator for end-to-end tests: a synthetic market on an accelerated
//! clock, its time as the trainer's market clock, and its admin API.

use std::{sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Utc};
use runtime::{Clock, SharedClock};
use serde_json::{Value, json};
use upbit_sim::{MarketSource, Scenario, SimConfig, SimHandle, Simulator, server::Shared};

/// The simulator's clock as a [`Clock`]: the trainer's "market time".
#[derive(Debug)]
pub(crate) struct SimTime(Arc<Shared>);

impl Clock for SimTime {
    fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }
}

/// A running simulator and an HTTP client for its admin API.
pub(crate) struct Sim {
    pub(crate) handle: SimHandle,
    http: reqwest::Client,
}

impl Sim {
    /// `markets` synthetic markets of `scenario` with `history_minutes` of
    /// history before `start`, running at `speed` × real time.
    pub(crate) async fn start(
        scenario: Scenario,
        markets: usize,
        history_minutes: u32,
        start: DateTime<Utc>,
        speed: f64,
    ) -> Self {
        let mut config = SimConfig::new(MarketSource::Synthetic {
            scenario,
            markets,
            seed: 17,
            history_minutes,
        });
        config.start = Some(start);
        config.speed = speed;
        let handle = Simulator::start(config).await.unwrap();
        Self {
            handle,
            http: reqwest::Client::new(),
        }
    }

    /// Market time.
    pub(crate) fn clock(&self) -> SharedClock {
        Arc::new(SimTime(Arc::clone(self.handle.shared())))
    }

    /// Current simulated time.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.handle.now()
    }

    /// `POST /_sim/<path>` with a JSON body; the answer.
    pub(crate) async fn admin(&self, path: &str, body: &Value) -> Value {
        let resp = self
            .http
            .post(format!("{}/_sim/{path}", self.handle.base_url()))
            .json(body)
            .timeout(StdDuration::from_secs(10))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    /// `GET /_sim/faults`.
    pub(crate) async fn faults(&self) -> Value {
        self.http
            .get(format!("{}/_sim/faults", self.handle.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Drops every WebSocket and makes the next `n` REST requests answer 429.
    pub(crate) async fn inject_drop_and_429(&self, n: u32) -> Value {
        self.admin("faults", &json!({ "drop_ws": true, "force_429": n }))
            .await
    }
}

/// Polls `f` every 100 ms until it returns `Some`, failing after `secs` wall seconds.
pub(crate) async fn eventually<T, F, Fut>(what: &str, secs: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}
