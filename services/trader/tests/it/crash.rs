//! Crash safety: the LIVE trader is killed with SIGKILL at random points —
//! in the middle of cycles and orders, and during its own start-up — more
//! than twenty times in one run, and restarted each time. At the end there
//! is no duplicate order, no lost fill, and the ledger equals the exchange.

use std::time::Duration;

use domain::{Krw, Mode};
use rust_decimal::Decimal;
use upbit_sim::Scenario;

use crate::{
    checks::{check_account, check_against_sim, check_book, tables},
    support::{ACCOUNT_KRW, Db, TraderProc, World, test_definition},
};

/// xorshift64*: a seeded, dependency-free random source for kill points.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

async fn killed_and_restarted(db: Db) {
    let mut w = World::start(db, Scenario::Mixed, 6, 77).await;
    let s = w.strategy(&test_definition(52.0)).await;
    let cred = w.credential().await;
    let id = w.trader(s, 5_000_000, Mode::Live, true, Some(cred)).await;
    let mut p = TraderProc::spawn(&w, id, None);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut kills = 0;
    let minutes = 200;
    for k in 0..minutes {
        w.step().await;
        // About one minute in seven: kill while the cycle (and its orders)
        // runs, sometimes again while the new process is starting.
        if k > 5 && rng.below(7) == 0 {
            let mode = rng.below(3);
            if mode == 2 {
                // Right after a fill is recorded: before its position write.
                let count = |v: Vec<storage::orders::FillRecord>| v.len();
                let seen = count(
                    w.db.store
                        .fills()
                        .list(id, chrono::DateTime::UNIX_EPOCH, 10_000)
                        .await
                        .unwrap(),
                );
                let t0 = std::time::Instant::now();
                while t0.elapsed() < Duration::from_millis(300)
                    && count(
                        w.db.store
                            .fills()
                            .list(id, chrono::DateTime::UNIX_EPOCH, 10_000)
                            .await
                            .unwrap(),
                    ) == seen
                {}
            } else if mode == 1 {
                // Right after an order intent is stored: inside placement.
                let newest = |v: Vec<storage::orders::OrderRecord>| v.first().map(|o| o.id);
                let seen = newest(w.db.store.orders().list(id, 1).await.unwrap());
                let t0 = std::time::Instant::now();
                while t0.elapsed() < Duration::from_millis(300)
                    && newest(w.db.store.orders().list(id, 1).await.unwrap()) == seen
                {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                tokio::time::sleep(Duration::from_millis(rng.below(4))).await;
            } else {
                tokio::time::sleep(Duration::from_millis(rng.below(40))).await;
            }
            p.kill().await;
            kills += 1;
            p = TraderProc::spawn(&w, id, None);
            if rng.below(4) == 0 {
                tokio::time::sleep(Duration::from_millis(rng.below(60))).await;
                p.kill().await;
                kills += 1;
                p = TraderProc::spawn(&w, id, None);
            }
        }
        assert!(
            w.wait_cycle(id, w.now, Duration::from_mins(1)).await,
            "minute {k} did not finish after {kills} kills\n{}",
            p.log_tail()
        );
    }
    assert!(kills >= 20, "only {kills} kills");
    // One more minute so the last process has reconciled, then a clean stop.
    w.step().await;
    assert!(w.wait_cycle(id, w.now, Duration::from_mins(1)).await);
    assert!(p.terminate().await.success());

    let t = tables(&w.db.store, id).await;
    let book = check_book(&t, id, Mode::Live, Krw::from_i64(5_000_000));
    let row = w.db.store.traders().get(id).await.unwrap().unwrap();
    check_against_sim(&w, &t, &format!("t{id}-{}-", row.order_salt));
    check_account(
        &w,
        &[(&book, Krw::from_i64(5_000_000))],
        Decimal::from(ACCOUNT_KRW),
    );
    assert!(t.fills.len() >= 5, "it traded: {} fills", t.fills.len());
    let events =
        w.db.store
            .events()
            .list_after_for(id, 0, 100_000)
            .await
            .unwrap();
    let starts = events.iter().filter(|e| e.kind == "TRADER_STARTED").count();
    assert!(starts > kills / 2, "{starts} starts for {kills} kills");
    assert!(
        !events.iter().any(|e| e.kind == "RECONCILE_MISMATCH"),
        "a mismatch after a kill"
    );
    let never_sent = t
        .orders
        .iter()
        .filter(|o| o.error.as_deref() == Some("never reached the exchange"))
        .count();
    eprintln!(
        "{kills} kills on {db:?}: {} orders ({never_sent} intents that never reached the exchange), {} fills, {} ledger repairs",
        t.orders.len(),
        t.fills.len(),
        events
            .iter()
            .filter(|e| e.kind == "LEDGER_REPAIRED")
            .count()
    );
    w.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_sqlite() {
    killed_and_restarted(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_mariadb() {
    killed_and_restarted(Db::MariaDb).await;
}
