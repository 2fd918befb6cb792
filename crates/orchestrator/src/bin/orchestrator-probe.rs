//! A stand-in trader for the orchestrator's own tests (process backend and
//! container images): it behaves like a trader process from the outside — logs
//! to stdout/stderr, runs until SIGTERM, then exits 0 — and can be told to
//! misbehave through its environment:
//!
//! - `PROBE_EXIT_AFTER_MS` + `PROBE_EXIT_CODE`: exit by itself (a crash).
//! - `PROBE_IGNORE_SIGTERM=1`: ignore SIGTERM (forces the SIGKILL path).
//! - `PROBE_ECHO`: printed back, to check environment delivery.
//!
//! Arguments are echoed too, to check a command override.

use std::{io::Write, time::Duration};

use tokio::signal::unix::{SignalKind, signal};

fn say(line: &str) {
    // Line-buffered stdout; a write error (closed pipe) is not worth a panic.
    drop(writeln!(std::io::stdout().lock(), "{line}"));
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    // Handler first: once "started" is printed, SIGTERM means a clean stop.
    let mut term = signal(SignalKind::terminate())?;
    let trader = var("TRADER_ID").unwrap_or_else(|| "?".to_owned());
    let args: Vec<String> = std::env::args().skip(1).collect();
    say(&format!(
        "probe started trader_id={trader} pid={} args={args:?}",
        std::process::id()
    ));
    drop(writeln!(
        std::io::stderr().lock(),
        "probe stderr line trader_id={trader}"
    ));
    if let Some(echo) = var("PROBE_ECHO") {
        say(&format!("probe echo {echo}"));
    }
    let exit_after = var("PROBE_EXIT_AFTER_MS").and_then(|v| v.parse::<u64>().ok());
    let exit_code: i32 = var("PROBE_EXIT_CODE")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let ignore_term = var("PROBE_IGNORE_SIGTERM").is_some_and(|v| v == "1");

    let crash = async {
        match exit_after {
            Some(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(crash);
    let mut beat = tokio::time::interval(Duration::from_millis(500));
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = term.recv() => {
                if ignore_term {
                    say("probe ignoring SIGTERM");
                    continue;
                }
                say("probe stopping on SIGTERM");
                return Ok(());
            }
            () = &mut crash => {
                say(&format!("probe crashing with code {exit_code}"));
                std::process::exit(exit_code);
            }
            _ = beat.tick() => {
                n += 1;
                say(&format!("probe heartbeat {n}"));
            }
        }
    }
}
