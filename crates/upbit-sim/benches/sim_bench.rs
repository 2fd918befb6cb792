//! Simulator benchmark (`cargo bench -p upbit-sim --bench sim_bench`); prints
//! figures, asserts nothing:
//!
//! 1. create + cancel over loopback HTTP, JWT-signed like a real client
//!    (rate limits off): one client in sequence (latency p50/p99 of the pair)
//!    and 16 concurrent clients (orders per second);
//! 2. resident memory of a fresh process running 200 synthetic markets with a
//!    day of history, at start and after an hour of simulated trading
//!    (measured in a child process so nothing else is counted).

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    reason = "a bench binary reports on stdout and may fail loudly"
)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};
use upbit_sim::{AccountSpec, Scenario, SimConfig, SimHandle, Simulator};

const AK: &str = "bench-access";
const SK: &str = "bench-secret-0123456789";

struct Client {
    http: reqwest::Client,
    base: String,
    nonce: AtomicU64,
    key: EncodingKey,
    price: String,
}

impl Client {
    fn token(&self, hashed: &str) -> String {
        let n = self.nonce.fetch_add(1, Ordering::Relaxed);
        let claims = json!({
            "access_key": AK,
            "nonce": format!("bench-{n}"),
            "query_hash": hex::encode(Sha512::digest(hashed.as_bytes())),
            "query_hash_alg": "SHA512",
        });
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key).unwrap()
    }

    /// One limit bid below the market, then its cancel.
    async fn create_and_cancel(&self) {
        let fields = [
            ("market", "KRW-BTC"),
            ("side", "bid"),
            ("volume", "0.0001"),
            ("price", self.price.as_str()),
            ("ord_type", "limit"),
        ];
        let hashed: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        // The JSON body keeps the hashed order (serde_json's map would sort it).
        let body = format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(k, v)| format!("{}:{}", json!(k), json!(v)))
                .collect::<Vec<_>>()
                .join(",")
        );
        let r = self
            .http
            .post(format!("{}/v1/orders", self.base))
            .bearer_auth(self.token(&hashed.join("&")))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let order: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "create failed: {order}");
        let uuid = order["uuid"].as_str().unwrap();
        let r = self
            .http
            .delete(format!("{}/v1/order?uuid={uuid}", self.base))
            .bearer_auth(self.token(&format!("uuid={uuid}")))
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert_eq!(status, 200, "cancel failed: {}", r.text().await.unwrap());
    }
}

async fn order_sim() -> (SimHandle, Arc<Client>) {
    let mut c = SimConfig::synthetic(Scenario::Range, 10, 5);
    c.speed = 0.0;
    c.start = Some(Utc.with_ymd_and_hms(2026, 1, 5, 6, 0, 0).single().unwrap());
    c.rate.enabled = false;
    c.accounts = vec![AccountSpec::new(AK, SK, &[("KRW", "100000000000")])];
    let h = Simulator::start(c).await.unwrap();
    let base = h.base_url();
    let http = reqwest::Client::new();
    let book: Value = http
        .get(format!("{base}/v1/orderbook?markets=KRW-BTC"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bid = book[0]["orderbook_units"][29]["bid_price"]
        .as_f64()
        .unwrap();
    let client = Client {
        http,
        base,
        nonce: AtomicU64::new(0),
        key: EncodingKey::from_secret(SK.as_bytes()),
        // Far below the book: the orders rest and never fill.
        price: format!("{}", ((bid * 0.9) / 1000.0).floor() * 1000.0),
    };
    (h, Arc::new(client))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn orders_bench() {
    let (_h, c) = order_sim().await;
    for _ in 0..200 {
        c.create_and_cancel().await;
    }
    // One client in sequence: the latency of a create + cancel pair.
    let n = 3000;
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        c.create_and_cancel().await;
        lat.push(t.elapsed());
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    println!(
        "create+cancel, 1 client:    {:>8.0} orders/s (each created and cancelled)  pair latency p50 {:>6.0} µs  p99 {:>6.0} µs  max {:>6.0} µs  ({n} pairs)",
        n as f64 / secs,
        percentile(&lat, 0.5).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6,
        lat[n - 1].as_secs_f64() * 1e6,
    );
    // Sixteen concurrent clients: throughput.
    let (tasks, per) = (16, 500);
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let c = Arc::clone(&c);
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per);
                for _ in 0..per {
                    let t = Instant::now();
                    c.create_and_cancel().await;
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::with_capacity(tasks * per);
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort();
    println!(
        "create+cancel, {tasks} clients:  {:>8.0} orders/s  pair latency p50 {:>6.0} µs  p99 {:>6.0} µs  ({} pairs)",
        all.len() as f64 / secs,
        percentile(&all, 0.5).as_secs_f64() * 1e6,
        percentile(&all, 0.99).as_secs_f64() * 1e6,
        all.len(),
    );
}

/// `VmRSS` / `VmHWM` of this process in MiB (Linux).
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Child process: 200 synthetic markets, memory at start and after an hour.
async fn memory_child() {
    let before = rss().0;
    let mut c = SimConfig::synthetic(Scenario::Mixed, 200, 9);
    c.speed = 0.0;
    c.start = Some(Utc.with_ymd_and_hms(2026, 1, 5, 6, 0, 0).single().unwrap());
    let started = Instant::now();
    let h = Simulator::start(c).await.unwrap();
    let took = started.elapsed();
    // Touch every market once (tickers, books, candles build their caches).
    let http = reqwest::Client::new();
    let base = h.base_url();
    let all: Value = http
        .get(format!("{base}/v1/ticker/all?quote_currencies=KRW"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 200);
    let (at_start, _) = rss();
    let stepped = Instant::now();
    for _ in 0..60 {
        h.step(chrono::Duration::minutes(1)).unwrap();
    }
    let step_took = stepped.elapsed();
    let (after, peak) = rss();
    println!(
        "200 synthetic markets (1 day of history): start {:.2} s, RSS {:.1} MiB (process before: {:.1} MiB)",
        took.as_secs_f64(),
        at_start,
        before
    );
    println!(
        "  after 60 simulated minutes (stepped in {:.2} s): RSS {:.1} MiB, peak {:.1} MiB",
        step_took.as_secs_f64(),
        after,
        peak
    );
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    if std::env::args().any(|a| a == "--memory-child") {
        rt.block_on(memory_child());
        return;
    }
    if !std::env::args().any(|a| a == "--memory-only") {
        rt.block_on(orders_bench());
    }
    // Memory in a fresh process.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--memory-child")
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "memory child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
