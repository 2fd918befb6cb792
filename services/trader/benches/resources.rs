//! Resource figures of one trader process, printed (target: under 50 MB
//! resident). Two runs of the release binary against the simulator on a
//! SQLite database:
//!
//! * **idle** — the simulator in real time on the wall clock, the trader
//!   with its production flags: one cycle a minute over 30 markets, the way a
//!   trader spends most of its life;
//! * **busy** — the simulator stepped as fast as the trader keeps up (cycles
//!   back to back), LIVE, trading over 30 markets.
//!
//! Run with `cargo bench -p trader --bench resources`.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a bench binary: fail loudly, print the figures"
)]

#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../tests/it/support.rs"]
mod support;

use std::time::{Duration, Instant};

use domain::Mode;
use support::{Db, TraderProc, World, test_definition};
use upbit_sim::Scenario;

/// `(resident KiB, CPU seconds so far)` of a process from `/proc`.
fn sample(pid: i32) -> (u64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name: state is field 3; utime 14, stime 15.
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    // `/proc` reports CPU time in USER_HZ, which Linux fixes at 100.
    (rss, ticks as f64 / 100.0)
}

#[derive(Default)]
struct Figures {
    rss_max: u64,
    rss_sum: u64,
    samples: u64,
}

impl Figures {
    fn add(&mut self, rss: u64) {
        self.rss_max = self.rss_max.max(rss);
        self.rss_sum += rss;
        self.samples += 1;
    }

    fn report(&self, name: &str, cpu: f64, wall: Duration, extra: &str) {
        println!(
            "{name}: RSS max {:.1} MB, mean {:.1} MB; CPU {:.2} s over {:.0} s wall = {:.1} % of one core; {extra}",
            self.rss_max as f64 / 1024.0,
            self.rss_sum as f64 / 1024.0 / self.samples.max(1) as f64,
            cpu,
            wall.as_secs_f64(),
            100.0 * cpu / wall.as_secs_f64()
        );
    }
}

async fn busy() {
    let mut w = World::start(Db::Sqlite, Scenario::Mixed, 30, 5).await;
    let s = w.strategy(&test_definition(52.0)).await;
    let cred = w.credential().await;
    let id = w.trader(s, 5_000_000, Mode::Live, true, Some(cred)).await;
    let p = TraderProc::spawn(&w, id, None);
    let pid = p.pid();
    let start = Instant::now();
    let mut fig = Figures::default();
    let minutes = 300;
    for _ in 0..minutes {
        w.step().await;
        assert!(
            w.wait_cycle(id, w.now, Duration::from_mins(1)).await,
            "{}",
            p.log_tail()
        );
        fig.add(sample(pid).0);
    }
    let (_, cpu) = sample(pid);
    let wall = start.elapsed();
    let orders = w.db.store.orders().list(id, 10_000).await.unwrap().len();
    fig.report(
        "busy (LIVE, 30 markets, stepped)",
        cpu,
        wall,
        &format!(
            "{minutes} cycles, {orders} orders, {:.0} ms per cycle",
            wall.as_millis() as f64 / f64::from(minutes)
        ),
    );
    assert!(p.terminate().await.success());
    w.db.cleanup().await;
}

async fn idle() {
    let w = World::start_at_speed(Db::Sqlite, Scenario::Range, 30, 5, 1.0).await;
    let s = w.strategy(&test_definition(52.0)).await;
    let id = w.trader(s, 5_000_000, Mode::Paper, false, None).await;
    // Production flags: the wall clock (the simulator runs on it), watching
    // every second, a heartbeat every 10 s.
    let p = TraderProc::spawn_args(&w, id, None, &[], &["--clock", "system"]);
    let pid = p.pid();
    let start = Instant::now();
    let mut fig = Figures::default();
    let mut last = trader::app::floor_minute(w.sim.now());
    let cpu0 = sample(pid).1;
    while start.elapsed() < Duration::from_secs(150) {
        let now = w.sim.now();
        let b = trader::app::floor_minute(now);
        if b > last {
            last = b;
            w.collect_minute(b).await;
            w.write_regime(b).await;
        }
        fig.add(sample(pid).0);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (_, cpu) = sample(pid);
    fig.report(
        "idle (PAPER, 30 markets, real time)",
        cpu - cpu0,
        start.elapsed(),
        "one cycle a minute",
    );
    assert!(p.terminate().await.success());
    w.db.cleanup().await;
}

#[tokio::main]
async fn main() {
    idle().await;
    busy().await;
}
