//! Load check of the dashboard-api (issue 8): 200 concurrent SSE clients on
//! the live action log plus 500 requests/s of dashboard reads, on loopback,
//! against the real binary (bench profile) with SQLite — or MariaDB when
//! `BENCH_DATABASE_URL` is set. A writer appends one event every 100 ms, so
//! every SSE client must receive every event. Prints p50/p90/p99/max latency
//! per endpoint, errors, the events each SSE client got, and the server's
//! memory (RSS now and peak).
//!
//!   cargo bench -p dashboard-api --bench load
//!   BENCH_SECS=60 BENCH_RPS=500 BENCH_SSE=200 cargo bench -p dashboard-api --bench load

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::too_many_lines,
    reason = "a bench binary: panics on setup failure and prints its figures"
)]

use std::{
    collections::BTreeMap,
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use domain::{Krw, TraderId};
use futures_util::StreamExt;
use serde_json::{Value, json};
use storage::{
    Store,
    events::{EventLevel, NewEvent},
    trades::EquitySnapshot,
};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `VmRSS` and `VmHWM` of a process, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let secs: u64 = env_or("BENCH_SECS", 30);
    let rps: u64 = env_or("BENCH_RPS", 500);
    let sse_clients: usize = env_or("BENCH_SSE", 200);
    let dir = tempfile::tempdir().unwrap();
    let db_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let password = "bench-admin-password";
    let log = std::fs::File::create(dir.path().join("api.log")).unwrap();
    let mut api = tokio::process::Command::new(env!("CARGO_BIN_EXE_dashboard-api"))
        .env("DATABASE_URL", &db_url)
        .env("DATA_DIR", dir.path().join("data"))
        .env("API_LISTEN", format!("127.0.0.1:{port}"))
        .env("ADMIN_PASSWORD", password)
        .env("TRADER_RUNTIME", "process")
        .env("TRADER_BIN", "/usr/bin/sleep")
        .env("UPBIT_API_URL", "http://127.0.0.1:9")
        .env("UPBIT_WS_URL", "ws://127.0.0.1:9/websocket/v1")
        .env("WEB_DIR", dir.path().join("no-ui"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the dashboard-api (bench profile)");
    let pid = api.id().unwrap();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap();
    let start = Instant::now();
    while http
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .map(|r| r.status().is_success())
        .ok()
        != Some(true)
    {
        assert!(
            start.elapsed() < Duration::from_mins(1),
            "the API did not start"
        );
        assert!(api.try_wait().unwrap().is_none(), "the API exited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Data: 10 traders with a day of 5-minute equity points.
    let store = Store::connect(&db_url).await.unwrap();
    let now = runtime::Clock::now(&runtime::SystemClock);
    for i in 0..10 {
        let t: Value = http
            .post(format!("{base}/api/v1/traders"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": format!("bench-{i}"), "strategy_id": 1 + i % 5, "seed_krw": "1000000"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = TraderId::new(t["id"].as_i64().unwrap()).unwrap();
        for k in 0..288_i64 {
            store
                .equity()
                .append(&EquitySnapshot {
                    trader_id: id,
                    ts: now - chrono::Duration::minutes(5 * (288 - k)),
                    equity: Krw::from_i64(1_000_000 + k * 37 - i * 11),
                    cash: Krw::from_i64(500_000),
                })
                .await
                .unwrap();
        }
    }

    // 200 SSE clients.
    let received: Arc<Vec<AtomicU64>> =
        Arc::new((0..sse_clients).map(|_| AtomicU64::new(0)).collect());
    let sse_errors = Arc::new(AtomicU64::new(0));
    let connected = Arc::new(AtomicU64::new(0));
    let sse_http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut sse_tasks = Vec::new();
    for c in 0..sse_clients {
        let (http, base, cookie) = (sse_http.clone(), base.clone(), cookie.clone());
        let (received, errors, connected) = (
            Arc::clone(&received),
            Arc::clone(&sse_errors),
            Arc::clone(&connected),
        );
        sse_tasks.push(tokio::spawn(async move {
            let r = match http
                .get(format!("{base}/api/v1/events/stream"))
                .header("cookie", cookie)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => r,
                _ => {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            };
            connected.fetch_add(1, Ordering::Relaxed);
            let mut body = r.bytes_stream();
            let mut buf = String::new();
            while let Some(chunk) = body.next().await {
                let Ok(chunk) = chunk else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(i) = buf.find("\n\n") {
                    let block: String = buf.drain(..i + 2).collect();
                    if block.lines().any(|l| l.starts_with("event: action")) {
                        received[c].fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    while connected.load(Ordering::Relaxed) + sse_errors.load(Ordering::Relaxed)
        < sse_clients as u64
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (rss_before, _) = memory_mib(pid);

    // The event writer: one event every 100 ms.
    let written = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(tokio::sync::Notify::new());
    let writer = {
        let (store, written, stop) = (store.clone(), Arc::clone(&written), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut iv = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    _ = iv.tick() => {}
                    () = stop.notified() => return,
                }
                let n = written.fetch_add(1, Ordering::Relaxed);
                store
                    .events()
                    .append(&NewEvent {
                        ts: runtime::Clock::now(&runtime::SystemClock),
                        trader_id: None,
                        level: EventLevel::Info,
                        kind: "bench".to_owned(),
                        message: format!("bench event {n}"),
                        data: json!({"n": n}),
                    })
                    .await
                    .unwrap();
            }
        })
    };

    // 500 req/s, open loop, over five dashboard reads.
    let paths = [
        "/api/v1/dashboard",
        "/api/v1/traders",
        "/api/v1/events?limit=100",
        "/api/v1/dashboard/profit?range=24h",
        "/api/v1/strategies",
    ];
    let lat: Arc<Mutex<BTreeMap<&'static str, Vec<Duration>>>> =
        Arc::new(Mutex::new(BTreeMap::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let mut iv = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rps));
    iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let t0 = Instant::now();
    let mut n: usize = 0;
    let mut inflight = Vec::new();
    while t0.elapsed() < Duration::from_secs(secs) {
        iv.tick().await;
        let path = paths[n % paths.len()];
        n += 1;
        let (http, url, cookie, lat, errors) = (
            http.clone(),
            format!("{base}{path}"),
            cookie.clone(),
            Arc::clone(&lat),
            Arc::clone(&errors),
        );
        inflight.push(tokio::spawn(async move {
            let s = Instant::now();
            let ok = match http.get(url).header("cookie", cookie).send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            let d = s.elapsed();
            if ok {
                lat.lock().unwrap().entry(path).or_default().push(d);
            } else {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in inflight {
        t.await.unwrap();
    }
    let elapsed = t0.elapsed();
    stop.notify_one();
    writer.await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await; // let the last events arrive
    let (rss_after, hwm) = memory_mib(pid);
    let events = written.load(Ordering::Relaxed);
    let got: Vec<u64> = received.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    for t in &sse_tasks {
        t.abort();
    }

    let lat = std::mem::take(&mut *lat.lock().unwrap());
    let mut all: Vec<Duration> = lat.values().flatten().copied().collect();
    all.sort();
    println!(
        "dashboard-api load check ({})",
        if db_url.starts_with("sqlite") {
            "SQLite"
        } else {
            "MariaDB"
        }
    );
    println!(
        "  reads: {} requests in {:.1} s = {:.0} req/s (target {rps}); errors: {}",
        all.len() + errors.load(Ordering::Relaxed) as usize,
        elapsed.as_secs_f64(),
        (all.len() as f64) / elapsed.as_secs_f64(),
        errors.load(Ordering::Relaxed)
    );
    println!(
        "  latency all: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.9)),
        ms(percentile(&all, 0.99)),
        ms(all.last().copied().unwrap_or_default())
    );
    for (path, v) in &lat {
        let mut v = v.clone();
        v.sort();
        println!(
            "    {path:<36} n={:<6} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            v.len(),
            ms(percentile(&v, 0.5)),
            ms(percentile(&v, 0.99)),
            ms(v.last().copied().unwrap_or_default())
        );
    }
    println!(
        "  SSE: {} clients connected, {} connection errors; {events} events written; per client received min {} / max {}",
        connected.load(Ordering::Relaxed),
        sse_errors.load(Ordering::Relaxed),
        got.iter().min().copied().unwrap_or(0),
        got.iter().max().copied().unwrap_or(0)
    );
    println!(
        "  server memory: RSS {rss_before:.1} MiB before the load, {rss_after:.1} MiB after, peak {hwm:.1} MiB"
    );
    let complete = got.iter().all(|g| *g == events);
    let _ = api.kill().await;
    assert_eq!(errors.load(Ordering::Relaxed), 0, "request errors");
    assert_eq!(sse_errors.load(Ordering::Relaxed), 0, "SSE errors");
    assert!(complete, "every SSE client must receive every event");
}
