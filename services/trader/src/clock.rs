//! A [`Clock`] that follows the Upbit simulator's clock (`GET /_sim/clock` →
//! `{"now", "speed"}`), so a trader runs in the simulator's time whether it
//! is real-time, accelerated or stepped. A background task re-reads the
//! simulator's clock every `refresh`; between reads the time is extrapolated
//! with the monotonic wall clock × speed. It never goes backwards.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::{DateTime, Utc};
use runtime::Clock;
use serde_json::Value;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy)]
struct Anchor {
    sim: DateTime<Utc>,
    speed: f64,
    at: Instant,
    last: DateTime<Utc>,
}

/// The simulator-following clock. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct SimFollowClock {
    anchor: Arc<Mutex<Anchor>>,
}

impl SimFollowClock {
    fn compute(a: &Anchor) -> DateTime<Utc> {
        let elapsed = a.at.elapsed().as_secs_f64() * a.speed;
        let ms = (elapsed * 1000.0).round();
        let ms = if ms.is_finite() { ms as i64 } else { 0 };
        a.sim + chrono::Duration::milliseconds(ms)
    }
}

impl Clock for SimFollowClock {
    fn now(&self) -> DateTime<Utc> {
        let mut a = self.anchor.lock().unwrap_or_else(PoisonError::into_inner);
        let t = Self::compute(&a).max(a.last);
        a.last = t;
        t
    }
}

async fn read(http: &reqwest::Client, url: &str) -> anyhow::Result<(DateTime<Utc>, f64)> {
    let v: Value = http
        .get(url)
        .send()
        .await
        .context("failed to reach the simulator clock")?
        .error_for_status()
        .context("the simulator clock answered with an error")?
        .json()
        .await
        .context("failed to decode the simulator clock")?;
    let now = v
        .get("now")
        .and_then(Value::as_str)
        .context("simulator clock: no `now`")?
        .parse::<DateTime<Utc>>()
        .context("simulator clock: `now` is not a timestamp")?;
    let speed = v.get("speed").and_then(Value::as_f64).unwrap_or(0.0);
    Ok((
        now,
        if speed.is_finite() && speed >= 0.0 {
            speed
        } else {
            0.0
        },
    ))
}

/// Connects to the simulator at `api_url` and starts following its clock.
pub async fn follow(
    api_url: &str,
    refresh: Duration,
) -> anyhow::Result<(SimFollowClock, JoinHandle<()>)> {
    let url = format!("{}/_sim/clock", api_url.trim_end_matches('/'));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .context("failed to build the HTTP client")?;
    let (sim, speed) = read(&http, &url).await?;
    let clock = SimFollowClock {
        anchor: Arc::new(Mutex::new(Anchor {
            sim,
            speed,
            at: Instant::now(),
            last: sim,
        })),
    };
    let shared = clock.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(refresh).await;
            match read(&http, &url).await {
                Ok((sim, speed)) => {
                    let mut a = shared.anchor.lock().unwrap_or_else(PoisonError::into_inner);
                    a.sim = sim;
                    a.speed = speed;
                    a.at = Instant::now();
                }
                Err(e) => tracing::debug!(error = %e, "simulator clock not readable"),
            }
        }
    });
    Ok((clock, task))
}
