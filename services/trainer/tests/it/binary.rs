//! The `trainer run` binary as deployed: configured from the environment,
//! it waits for the schema (only the dashboard-api migrates), then collects
//! from the simulator (real time), and stops cleanly on SIGTERM. Also the
//! command line of `run`.

use std::{
    process::{Child, Command, Stdio},
    time::Duration as StdDuration,
};

use clap::Parser;
use nix::{
    sys::signal::{Signal, kill},
    unistd::Pid,
};
use storage::Store;
use trainer::cli::{Cli, Command as Sub};
use upbit_sim::{Scenario, SimConfig, Simulator};

use crate::{
    db::{Db, with_db},
    sim::eventually,
};

/// Kills the child if the test fails before it is stopped.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            drop(c.kill());
            drop(c.wait());
        }
    }
}

#[test]
fn run_help_documents_the_settings() {
    let help = Cli::try_parse_from(["trainer", "run", "--help"])
        .unwrap_err()
        .to_string();
    for flag in [
        "--database-url",
        "--upbit-api-url",
        "--upbit-ws-url",
        "--migrate",
        "--lookback",
        "--btc-lookback",
        "--seal-interval",
        "--settle",
        "--market-list-ttl",
        "--rest-concurrency",
        "--regime-config",
        "--schema-timeout",
    ] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
    }
    for bad in [
        vec!["trainer", "run", "--lookback", "0m"],
        vec!["trainer", "run", "--rest-concurrency", "0"],
        vec!["trainer", "run", "--btc", "BTC"],
    ] {
        assert!(Cli::try_parse_from(&bad).is_err(), "{bad:?}");
    }
    let Sub::Run(args) = Cli::try_parse_from(["trainer", "run", "--seal-interval", "2m"])
        .unwrap()
        .command
    else {
        panic!("not `run`");
    };
    let c = args.collector_config().unwrap();
    assert_eq!(c.policy.seal_interval, chrono::Duration::minutes(2));
    assert_eq!(c.btc_lookback, chrono::Duration::days(14));
    assert_eq!(c.btc.as_str(), "KRW-BTC");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_waits_for_the_schema_collects_and_stops_on_sigterm() {
    // Real time: the binary's clock is the wall clock.
    let mut cfg = SimConfig::synthetic(Scenario::Range, 8, 5);
    cfg.speed = 1.0;
    let sim = Simulator::start(cfg).await.unwrap();
    with_db(Db::Sqlite, move |url| async move {
        let child = Command::new(env!("CARGO_BIN_EXE_trainer"))
            .arg("run")
            .args([
                "--lookback",
                "2h",
                "--btc-lookback",
                "1d",
                "--schema-timeout",
                "2m",
            ])
            .env("DATABASE_URL", &url)
            .env("UPBIT_API_URL", sim.base_url())
            .env("UPBIT_WS_URL", sim.ws_url())
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        let mut running = Running(Some(child));
        // The database is empty: the trainer waits instead of failing.
        tokio::time::sleep(StdDuration::from_secs(3)).await;
        assert!(
            running.0.as_mut().unwrap().try_wait().unwrap().is_none(),
            "exited on an unmigrated database"
        );
        // The dashboard-api's part: migrate. The trainer then starts.
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let backfilled = eventually("the backfill", 60, || async {
            store
                .events()
                .list_after(0, 100)
                .await
                .unwrap()
                .into_iter()
                .find(|e| e.kind == "MARKET_DATA_BACKFILLED")
        })
        .await;
        assert_eq!(backfilled.data["markets"], 8);
        eventually("health rows", 30, || async {
            (store.collector_health().list().await.unwrap().len() == 8).then_some(())
        })
        .await;
        // One day of BTC history is too little for the 4h ADX: reported, nothing written.
        eventually("REGIME_MISSING", 30, || async {
            store
                .events()
                .list_after(0, 100)
                .await
                .unwrap()
                .into_iter()
                .find(|e| e.kind == "REGIME_MISSING")
        })
        .await;
        assert!(store.regimes().latest().await.unwrap().is_none());
        // SIGTERM: a clean exit, promptly.
        kill(pid, Signal::SIGTERM).unwrap();
        let mut child = running.0.take().unwrap();
        let status = eventually("the exit", 30, || {
            let s = child.try_wait().unwrap();
            async move { s }
        })
        .await;
        let out = child.wait_with_output().unwrap();
        let logs = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(status.success(), "{status:?}\n{logs}");
        for line in [
            "waiting for the database schema",
            "trainer running",
            "shutdown signal received",
            "trainer stopped",
        ] {
            assert!(logs.contains(line), "{line:?} not logged:\n{logs}");
        }
        assert!(
            logs.lines()
                .all(|l| l.trim().is_empty() || l.starts_with('{')),
            "JSON logs:\n{logs}"
        );
        store.close().await;
    })
    .await;
}
