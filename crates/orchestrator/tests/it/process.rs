//! The process backend with real child processes (the probe binary): lifecycle,
//! restart on crash, graceful and forced stop, logs, reconcile, and that no
//! process outlives its runtime.

use std::{sync::Arc, time::Duration};

use orchestrator::{
    DesiredTrader, OrchestratorError, ProcessConfig, ProcessRuntime, RemovalReason, RuntimeStatus,
    TraderRuntime,
};

use crate::support::{LogCapture, alive, eventually, id, probe_bin, spec};

const WAIT: Duration = Duration::from_secs(10);

fn config(dir: &std::path::Path) -> ProcessConfig {
    let mut cfg = ProcessConfig::new(probe_bin(), dir);
    cfg.stop_timeout = Duration::from_secs(5);
    cfg.backoff_initial = Duration::from_millis(50);
    cfg.backoff_max = Duration::from_millis(400);
    cfg
}

fn runtime_in(dir: &std::path::Path) -> ProcessRuntime {
    ProcessRuntime::new(config(dir), runtime::SystemClock::shared()).unwrap()
}

async fn wait_log(rt: &ProcessRuntime, n: i64, needle: &str) -> Vec<String> {
    eventually(&format!("log line {needle:?}"), WAIT, || async {
        let lines = rt.logs(id(n), 1000).await.ok()?;
        lines.iter().any(|l| l.contains(needle)).then_some(lines)
    })
    .await
}

fn count(lines: &[String], needle: &str) -> usize {
    lines.iter().filter(|l| l.contains(needle)).count()
}

/// The names in a process's environment.
fn env_names(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    raw.split(|&b| b == 0)
        .filter(|v| !v.is_empty())
        .filter_map(|v| {
            let s = String::from_utf8_lossy(v);
            s.split_once('=').map(|(k, _)| k.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn lifecycle_start_recreate_stop_remove() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogCapture::global();
    let rt = runtime_in(dir.path());
    let s1 = spec(
        1,
        "h1",
        &[("PROBE_ECHO", "hello"), ("MASTER_KEY", "s3cr3t-value")],
    );

    rt.start(&s1).await.unwrap();
    assert_eq!(rt.status(id(1)).await.unwrap(), RuntimeStatus::Running);
    let pid1 = rt.pid(id(1)).unwrap();
    assert!(alive(pid1));
    let lines = wait_log(&rt, 1, "probe echo hello").await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("probe started trader_id=1")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("probe stderr line")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("[orchestrator] started")),
        "{lines:?}"
    );
    // Clean environment: pass-through names, the spec's, and TRADER_ID only.
    let allowed: Vec<&str> = orchestrator::process::DEFAULT_PASS_ENV
        .iter()
        .copied()
        .chain(["PROBE_ECHO", "MASTER_KEY", "TRADER_ID"])
        .collect();
    for name in env_names(pid1) {
        assert!(allowed.contains(&name.as_str()), "leaked variable {name}");
    }

    // Idempotent start: same process.
    rt.start(&s1).await.unwrap();
    assert_eq!(rt.pid(id(1)), Some(pid1));
    let entries = rt.list().await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].config_hash, "h1");
    assert_eq!(entries[0].instance_id, format!("pid:{pid1}"));

    // FIX-12: recreate with a new config → a new process, the old one gone.
    let s2 = spec(1, "h2", &[("PROBE_ECHO", "second")]);
    rt.recreate(&s2).await.unwrap();
    let pid2 = rt.pid(id(1)).unwrap();
    assert_ne!(pid1, pid2);
    assert!(!alive(pid1));
    wait_log(&rt, 1, "probe echo second").await;
    assert_eq!(rt.list().await.unwrap()[0].config_hash, "h2");

    // start with a changed spec recreates too.
    let s3 = spec(1, "h3", &[]);
    rt.start(&s3).await.unwrap();
    let pid3 = rt.pid(id(1)).unwrap();
    assert_ne!(pid2, pid3);
    assert!(!alive(pid2));
    wait_log(&rt, 1, &format!("pid={pid3}")).await;

    // Graceful stop: SIGTERM, the probe exits 0.
    rt.stop(id(1)).await.unwrap();
    assert_eq!(
        rt.status(id(1)).await.unwrap(),
        RuntimeStatus::Stopped { exit_code: Some(0) }
    );
    assert!(!alive(pid3));
    assert!(rt.pid(id(1)).is_none());
    let lines = rt.logs(id(1), 50).await.unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("probe stopping on SIGTERM")),
        "{lines:?}"
    );
    rt.stop(id(1)).await.unwrap(); // idempotent

    // Remove: gone with its logs.
    rt.remove(id(1)).await.unwrap();
    assert_eq!(rt.status(id(1)).await.unwrap(), RuntimeStatus::Missing);
    assert!(!rt.log_path(id(1)).exists());
    assert!(matches!(
        rt.logs(id(1), 5).await,
        Err(OrchestratorError::NotFound(_))
    ));
    rt.remove(id(1)).await.unwrap(); // idempotent
    assert!(rt.list().await.unwrap().is_empty());

    // Secrets never reach our own logs; the trader id does.
    let text = logs.text();
    assert!(!text.contains("s3cr3t-value"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("trader process started") && l.contains("trader_id=1 ")),
        "{text}"
    );
}

#[tokio::test]
async fn crashed_trader_is_restarted_with_backoff_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime_in(dir.path());
    let s = spec(
        2,
        "h",
        &[("PROBE_EXIT_AFTER_MS", "100"), ("PROBE_EXIT_CODE", "3")],
    );
    rt.start(&s).await.unwrap();
    let lines = eventually("three starts", WAIT, || async {
        let l = rt.logs(id(2), 1000).await.ok()?;
        (count(&l, "probe started") >= 3).then_some(l)
    })
    .await;
    assert!(
        count(&lines, "exited with code 3; restart #1") == 1,
        "{lines:?}"
    );
    assert!(
        count(&lines, "restart #2 in 100 ms") == 1,
        "back-off doubles: {lines:?}"
    );
    assert!(rt.status(id(2)).await.unwrap().is_up());

    rt.stop(id(2)).await.unwrap();
    let stopped = rt.status(id(2)).await.unwrap();
    assert!(
        matches!(stopped, RuntimeStatus::Stopped { .. }),
        "{stopped:?}"
    );
    let starts = count(&rt.logs(id(2), 1000).await.unwrap(), "probe started");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        count(&rt.logs(id(2), 1000).await.unwrap(), "probe started"),
        starts,
        "no restart after stop"
    );
}

#[tokio::test]
async fn stop_escalates_to_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.stop_timeout = Duration::from_millis(300);
    let rt = ProcessRuntime::new(cfg, runtime::SystemClock::shared()).unwrap();
    rt.start(&spec(3, "h", &[("PROBE_IGNORE_SIGTERM", "1")]))
        .await
        .unwrap();
    let pid = rt.pid(id(3)).unwrap();
    wait_log(&rt, 3, "probe heartbeat 1").await;
    rt.stop(id(3)).await.unwrap();
    assert_eq!(
        rt.status(id(3)).await.unwrap(),
        RuntimeStatus::Stopped {
            exit_code: Some(137)
        }
    );
    assert!(!alive(pid));
    let lines = rt.logs(id(3), 100).await.unwrap();
    assert!(
        lines.iter().any(|l| l.contains("probe ignoring SIGTERM")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_missing_binary_is_an_error_not_a_silent_loop() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = ProcessConfig::new(dir.path().join("no-such-trader"), dir.path());
    let rt = ProcessRuntime::new(cfg, runtime::SystemClock::shared()).unwrap();
    let err = rt.start(&spec(4, "h", &[])).await.unwrap_err();
    assert!(matches!(err, OrchestratorError::Spawn { .. }), "{err}");
    assert_eq!(
        rt.status(id(4)).await.unwrap(),
        RuntimeStatus::Stopped { exit_code: None }
    );
    let lines = rt.logs(id(4), 10).await.unwrap();
    assert!(
        lines.iter().any(|l| l.contains("start failed")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn concurrent_starts_make_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let rt = Arc::new(runtime_in(dir.path()));
    let s = spec(5, "h", &[]);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let rt = Arc::clone(&rt);
            let s = s.clone();
            tokio::spawn(async move { rt.start(&s).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let lines = wait_log(&rt, 5, "probe started").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines = rt.logs(id(5), 100).await.unwrap_or(lines);
    assert_eq!(count(&lines, "probe started"), 1, "{lines:?}");
    assert_eq!(rt.list().await.unwrap().len(), 1);
    rt.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_stops_every_child_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime_in(dir.path());
    rt.start(&spec(6, "h", &[])).await.unwrap();
    rt.start(&spec(7, "h", &[])).await.unwrap();
    let pids = [rt.pid(id(6)).unwrap(), rt.pid(id(7)).unwrap()];
    wait_log(&rt, 6, "probe heartbeat").await;
    wait_log(&rt, 7, "probe heartbeat").await;
    rt.shutdown().await.unwrap();
    for pid in pids {
        assert!(!alive(pid), "pid {pid} survived shutdown");
    }
    for n in [6, 7] {
        assert_eq!(
            rt.status(id(n)).await.unwrap(),
            RuntimeStatus::Stopped { exit_code: Some(0) }
        );
        wait_log(&rt, n, "probe stopping on SIGTERM").await;
    }
}

#[tokio::test]
async fn dropping_the_runtime_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime_in(dir.path());
    rt.start(&spec(8, "h", &[])).await.unwrap();
    rt.start(&spec(9, "h", &[("PROBE_IGNORE_SIGTERM", "1")]))
        .await
        .unwrap();
    let pids = [rt.pid(id(8)).unwrap(), rt.pid(id(9)).unwrap()];
    drop(rt);
    eventually("children killed on drop", WAIT, || async {
        pids.iter().all(|&p| !alive(p)).then_some(())
    })
    .await;
}

/// Starts trader 10 in a runtime whose owner then vanishes without any
/// cleanup (as if the dashboard-api were SIGKILLed): the child keeps running,
/// known only through its pid file. Returns its pid.
fn abandon_a_trader(dir: &std::path::Path) -> u32 {
    let dir = dir.to_owned();
    std::thread::spawn(move || {
        let tokio_rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let rt = runtime_in(&dir);
        tokio_rt.block_on(rt.start(&spec(10, "old", &[]))).unwrap();
        let pid = rt.pid(id(10)).unwrap();
        // No Drop, no shutdown: the process is left behind.
        std::mem::forget(rt);
        std::mem::forget(tokio_rt);
        pid
    })
    .join()
    .unwrap()
}

#[tokio::test]
async fn reconcile_ends_processes_left_by_a_dead_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let leftover = abandon_a_trader(dir.path());
    assert!(alive(leftover));
    // A stale pid file of a long-gone process is ignored and cleaned.
    std::fs::write(
        dir.path().join("traders/trader-11.999999.pid"),
        "pid=999999\ntrader_id=11\n",
    )
    .unwrap();

    let rt = runtime_in(dir.path());
    let entries = rt.list().await.unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].instance_id, format!("pid:{leftover}"));
    assert_eq!(rt.status(id(10)).await.unwrap(), RuntimeStatus::Running);
    assert!(!dir.path().join("traders/trader-11.999999.pid").exists());

    let report = rt
        .reconcile(&[DesiredTrader {
            spec: spec(10, "new", &[]),
            run: true,
        }])
        .await
        .unwrap();
    assert!(report.failures.is_empty(), "{report:?}");
    assert_eq!(report.removed.len(), 1, "{report:?}");
    assert_eq!(report.removed[0].reason, RemovalReason::Duplicate);
    assert_eq!(report.started, vec![id(10)]);
    assert!(!alive(leftover), "the leftover process must be ended");
    let fresh = rt.pid(id(10)).unwrap();
    assert_ne!(fresh, leftover);
    let entries = rt.list().await.unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].config_hash, "new");
    rt.shutdown().await.unwrap();
}

#[tokio::test]
async fn reconcile_matches_the_desired_set() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime_in(dir.path());
    // Before: 21 running (should stop), 22 running old config (should run new),
    // 23 running but no longer exists, 24 stopped (should run).
    rt.start(&spec(21, "a", &[])).await.unwrap();
    rt.start(&spec(22, "old", &[])).await.unwrap();
    rt.start(&spec(23, "a", &[])).await.unwrap();
    rt.create(&spec(24, "a", &[])).await.unwrap();
    let pid23 = rt.pid(id(23)).unwrap();
    let desired = [
        DesiredTrader {
            spec: spec(21, "a", &[]),
            run: false,
        },
        DesiredTrader {
            spec: spec(22, "new", &[]),
            run: true,
        },
        DesiredTrader {
            spec: spec(24, "a", &[]),
            run: true,
        },
        DesiredTrader {
            spec: spec(25, "a", &[]),
            run: false,
        },
    ];
    let report = rt.reconcile(&desired).await.unwrap();
    assert!(report.failures.is_empty(), "{report:?}");
    assert_eq!(report.stopped, vec![id(21)]);
    assert_eq!(report.recreated, vec![id(22)]);
    assert_eq!(report.started, vec![id(24)]);
    assert_eq!(report.created, vec![id(25)]);
    assert_eq!(report.removed.len(), 1);
    assert_eq!(report.removed[0].trader_id, Some(id(23)));
    assert_eq!(report.removed[0].reason, RemovalReason::Orphan);
    assert!(!alive(pid23));

    let mut got: Vec<_> = rt
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.trader_id.get(), e.status.is_up(), e.config_hash))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (21, false, "a".to_owned()),
            (22, true, "new".to_owned()),
            (24, true, "a".to_owned()),
            (25, false, "a".to_owned()),
        ]
    );
    // A created-but-not-started trader has (empty) logs.
    assert!(rt.logs(id(25), 10).await.unwrap().is_empty());

    // Reconciling again changes nothing.
    let again = rt.reconcile(&desired).await.unwrap();
    assert_eq!(again.unchanged.len(), 4, "{again:?}");
    assert!(again.removed.is_empty() && again.started.is_empty() && again.recreated.is_empty());
    rt.shutdown().await.unwrap();
}
