//! End to end, the way the local run works: the real `dashboard-api` binary
//! (SQLite, process runtime, its own migrations and admin account) against
//! the real Upbit simulator, running the real `trader` binary. A trader added
//! through the API is RUN; its process starts with the trader contract's
//! environment, heartbeats (alive), its own events reach the SSE stream, and
//! it completes PAPER cycles against the simulator (its equity reaches the
//! profit chart); STOP ends it; SIGTERM ends the API and every trader
//! process with it.
//!
//! The `trader` binary comes from the same target directory as this test
//! (`cargo build --workspace --bins`, as scripts/test-all does) or from
//! `E2E_TRADER_BIN`. Under `CI=true` a missing binary fails the test.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use futures_util::StreamExt;
use http::StatusCode;
use serde_json::{Value, json};
use upbit_sim::{Scenario, SimConfig, Simulator};

use crate::support::{alive, eventually};

/// Event kinds the API itself writes about a trader; anything else with the
/// trader's id came from the trader process.
const API_KINDS: &[&str] = &[
    "TRADER_CREATED",
    "RUN_REQUESTED",
    "STOP_REQUESTED",
    "TRADER_REMOVED",
    "TRADER_RECREATED",
    "MODE_CHANGED",
    "LIVE_REFUSED",
    "ARMED",
    "DISARMED",
    "RUNTIME_ERROR",
];

fn trader_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("E2E_TRADER_BIN") {
        return Some(PathBuf::from(p));
    }
    // target/<profile>/deps/it-… → target/<profile>/trader
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("trader");
    p.exists().then_some(p)
}

/// The address the API logged once it was listening (JSON log lines).
async fn listening_address(log: &Path, api: &mut Child) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(addr) = text.lines().find_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v["fields"]["message"] == "dashboard-api listening")
                .then(|| v["fields"]["address"].as_str().map(str::to_owned))?
        }) {
            return format!("http://{addr}");
        }
        assert!(
            api.0.try_wait().unwrap().is_none(),
            "dashboard-api exited:\n{}",
            tail(log)
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "dashboard-api never listened:\n{}",
            tail(log)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Kills the API on drop — and, since a SIGKILLed API cannot stop its
/// traders (each runs in its own process group), every trader process named
/// by a pid file under `traders`: a failed assertion leaves nothing running.
struct Child(tokio::process::Child, PathBuf);

impl Drop for Child {
    fn drop(&mut self) {
        use nix::{sys::signal, unistd::Pid};
        if let Some(pid) = self.0.id() {
            let _ = signal::kill(
                Pid::from_raw(i32::try_from(pid).unwrap()),
                signal::Signal::SIGKILL,
            );
        }
        for entry in std::fs::read_dir(&self.1).into_iter().flatten().flatten() {
            let name = entry.file_name().into_string().unwrap_or_default();
            let pid = name
                .strip_prefix("trader-")
                .and_then(|r| r.strip_suffix(".pid"))
                .and_then(|r| r.split('.').nth(1))
                .and_then(|p| p.parse::<i32>().ok());
            if let Some(pid) = pid.filter(|p| *p > 1) {
                let _ = signal::kill(Pid::from_raw(pid), signal::Signal::SIGKILL);
            }
        }
    }
}

fn tail(path: &Path) -> String {
    std::fs::read_to_string(path)
        .map(|s| {
            s.lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trader_added_through_the_api_trades_in_paper() {
    let Some(trader) = trader_bin() else {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "the trader binary is not built next to this test (cargo build --workspace --bins) \
             and CI=true: the end-to-end test must run"
        );
        eprintln!(
            "SKIPPED e2e: no trader binary (cargo build --workspace --bins, or E2E_TRADER_BIN)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_path = dir.path().join("dashboard-api.log");
    let mut cfg = SimConfig::synthetic(Scenario::Mixed, 10, 3);
    cfg.speed = 1.0;
    let sim = Simulator::start(cfg).await.expect("simulator");
    let password = "e2e-admin-password-91";
    let log = std::fs::File::create(&log_path).unwrap();
    let mut api = Child(
        tokio::process::Command::new(env!("CARGO_BIN_EXE_dashboard-api"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("DATA_DIR", &data)
            // Port 0: the API picks a free port and logs it (no race with
            // other tests for a port chosen here).
            .env("API_LISTEN", "127.0.0.1:0")
            .env("LOG_FORMAT", "json")
            .env("ADMIN_PASSWORD", password)
            .env("TRADER_RUNTIME", "process")
            .env("TRADER_BIN", &trader)
            .env("UPBIT_API_URL", sim.base_url())
            .env("UPBIT_WS_URL", sim.ws_url())
            .env("WEB_DIR", dir.path().join("no-ui"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn dashboard-api"),
        data.join("traders"),
    );
    let http = reqwest::Client::new();
    let base = listening_address(&log_path, &mut api).await;
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    loop {
        assert!(
            api.0.try_wait().unwrap().is_none(),
            "dashboard-api exited:\n{}",
            tail(&log_path)
        );
        if let Ok(r) = http.get(format!("{base}/api/v1/health")).send().await
            && r.status() == StatusCode::OK
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the API never became healthy:\n{}",
            tail(&log_path)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The master key was generated under DATA_DIR (no MASTER_KEY given).
    assert!(data.join("master.key").exists());

    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
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
    let call = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{base}/api/v1{path}"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
    };
    // The live action log, open before anything happens.
    let stream = call(reqwest::Method::GET, "/events/stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    tokio::spawn(async move {
        let mut body = stream.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(i) = buf.find("\n\n") {
                let block: String = buf.drain(..i + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: "))
                    && let Ok(v) = serde_json::from_str(data)
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        }
    });

    let t = call(reqwest::Method::POST, "/traders")
        .json(
            &json!({"name": "e2e", "strategy_id": 2, "seed_krw": "1000000", "credential_id": null}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), StatusCode::CREATED);
    let id = t.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let r = call(reqwest::Method::POST, &format!("/traders/{id}/run"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{}",
        r.text().await.unwrap_or_default()
    );

    // Its process: the trader binary with the contract's environment.
    let traders_dir = data.join("traders");
    let pid: u32 = eventually("the trader's pid file", Duration::from_secs(30), || async {
        std::fs::read_dir(&traders_dir).ok()?.find_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix(&format!("trader-{id}."))?
                .strip_suffix(".pid")?
                .parse()
                .ok()
        })
    })
    .await;
    assert!(
        alive(pid),
        "trader process {pid} is not running:\n{}",
        tail(&traders_dir.join(format!("trader-{id}.log")))
    );
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/exe")).unwrap(),
        trader.canonicalize().unwrap()
    );
    let env = String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/environ")).unwrap())
        .into_owned();
    for var in [
        format!("TRADER_ID={id}"),
        "DATABASE_URL=sqlite://".to_owned(),
        format!("UPBIT_API_URL={}", sim.base_url()),
        format!("UPBIT_WS_URL={}", sim.ws_url()),
        format!("MASTER_KEY_FILE={}", data.join("master.key").display()),
        "LOG_FORMAT=".to_owned(),
    ] {
        assert!(
            env.split('\0').any(|kv| kv.starts_with(&var)),
            "{var} missing from the trader's environment"
        );
    }
    assert!(
        !env.contains(password),
        "the admin password never reaches a trader"
    );

    // It heartbeats (alive) and its own events reach the SSE stream.
    eventually("a heartbeat (alive)", Duration::from_secs(90), || async {
        let t: Value = call(reqwest::Method::GET, &format!("/traders/{id}"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (t["alive"] == true).then_some(())
    })
    .await;
    let from_trader = tokio::time::timeout(Duration::from_mins(2), async {
        while let Some(ev) = rx.recv().await {
            if ev["trader_id"] == id
                && !API_KINDS.contains(&ev["kind"].as_str().unwrap_or_default())
            {
                return ev;
            }
        }
        panic!("the event stream ended");
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "no event from the trader process reached the stream in 120 s; its log:\n{}",
            tail(&traders_dir.join(format!("trader-{id}.log")))
        )
    });
    assert_eq!(from_trader["trader_name"], "e2e");
    eprintln!("event from the trader process: {from_trader}");

    // It completes a PAPER cycle against the simulator's market: its equity
    // point reaches the profit chart (cycles are aligned to minute candles).
    let points = eventually(
        "the trader's first PAPER cycle (a profit point)",
        Duration::from_mins(3),
        || async {
            let p: Value = call(reqwest::Method::GET, "/dashboard/profit?range=24h")
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let series = p["series"]
                .as_array()?
                .iter()
                .find(|s| s["trader_id"] == id)?
                .clone();
            let pts = series["points"].as_array()?.clone();
            (!pts.is_empty()).then_some(pts)
        },
    )
    .await;
    assert!(points[0]["return_pct"].is_number(), "{points:?}");
    let t: Value = call(reqwest::Method::GET, &format!("/traders/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["mode"], "PAPER");
    assert_eq!(t["alive"], true);

    // STOP ends the process.
    let r = call(reqwest::Method::POST, &format!("/traders/{id}/stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    eventually(
        "the trader process to end",
        Duration::from_secs(20),
        || async { (!alive(pid)).then_some(()) },
    )
    .await;

    // RUN again, then SIGTERM the API: it stops its traders and exits 0.
    call(reqwest::Method::POST, &format!("/traders/{id}/run"))
        .send()
        .await
        .unwrap();
    let pid2: u32 = eventually(
        "a second trader process",
        Duration::from_secs(30),
        || async {
            std::fs::read_dir(&traders_dir).ok()?.find_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                let p: u32 = name
                    .strip_prefix(&format!("trader-{id}."))?
                    .strip_suffix(".pid")?
                    .parse()
                    .ok()?;
                (p != pid).then_some(p)
            })
        },
    )
    .await;
    let api_pid = nix::unistd::Pid::from_raw(i32::try_from(api.0.id().unwrap()).unwrap());
    nix::sys::signal::kill(api_pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), api.0.wait())
        .await
        .expect("the API stops within 30 s of SIGTERM")
        .unwrap();
    assert!(
        status.success(),
        "dashboard-api exit: {status}\n{}",
        tail(&log_path)
    );
    assert!(!alive(pid2), "no trader process outlives the API");
    drop(sim);
}
