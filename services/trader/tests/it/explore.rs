//! Exploration (temporary).

use std::time::{Duration, Instant};

use domain::Mode;
use upbit_sim::Scenario;

use crate::support::{Db, TraderProc, World, test_definition};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explore_paper() {
    let mut w = World::start(Db::Sqlite, Scenario::Trend, 6, 7).await;
    let s = w.strategy(&test_definition(55.0)).await;
    let id = w.trader(s, 5_000_000, Mode::Paper, false, None).await;
    let p = TraderProc::spawn(&w, id, None);
    let started = Instant::now();
    for _ in 0..3 {
        let a = Instant::now();
        let _ = w.quotes.krw_markets(true).await.unwrap();
        eprintln!("krw_markets {:?}", a.elapsed());
        let a = Instant::now();
        let _ = w.quotes.orderbooks(&w.markets, Some(15)).await.unwrap();
        eprintln!("orderbooks {:?}", a.elapsed());
    }
    let mut ts = Duration::ZERO;
    let mut tc = Duration::ZERO;
    for i in 0..60 {
        let a = Instant::now();
        w.step().await;
        ts += a.elapsed();
        let b = Instant::now();
        if !w.wait_cycle(id, w.now, Duration::from_secs(20)).await {
            panic!("cycle {i} at {} did not finish\n{}", w.now, p.log_tail());
        }
        tc += b.elapsed();
    }
    eprintln!("step {ts:?} cycle {tc:?}");
    let el = started.elapsed();
    let orders = w.db.store.orders().list(id, 1000).await.unwrap();
    let fills =
        w.db.store
            .fills()
            .list(id, chrono::DateTime::UNIX_EPOCH, 1000)
            .await
            .unwrap();
    let sigs =
        w.db.store
            .signals()
            .list(id, chrono::DateTime::UNIX_EPOCH, 10000)
            .await
            .unwrap();
    let eq = w.db.store.equity().latest(id).await.unwrap();
    eprintln!(
        "elapsed {el:?} orders {} fills {} signals {} equity {eq:?}",
        orders.len(),
        fills.len(),
        sigs.len()
    );
    for s in sigs.iter().take(20) {
        eprintln!(
            "{} {} {} {:?}",
            s.signal.market, s.signal.action, s.signal.total_score, s.signal.reason_codes
        );
    }
    let st = p.terminate().await;
    eprintln!("exit {st:?}");
    w.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explore_live() {
    let mut w = World::start(Db::Sqlite, Scenario::Trend, 6, 7).await;
    let s = w.strategy(&test_definition(55.0)).await;
    let cred = w.credential().await;
    let id = w.trader(s, 5_000_000, Mode::Live, true, Some(cred)).await;
    let p = TraderProc::spawn(&w, id, None);
    let started = Instant::now();
    for i in 0..60 {
        w.step().await;
        if !w.wait_cycle(id, w.now, Duration::from_secs(20)).await {
            panic!("cycle {i} at {} did not finish\n{}", w.now, p.log_tail());
        }
    }
    let el = started.elapsed();
    let orders = w.db.store.orders().list(id, 1000).await.unwrap();
    let fills =
        w.db.store
            .fills()
            .list(id, chrono::DateTime::UNIX_EPOCH, 1000)
            .await
            .unwrap();
    let eq = w.db.store.equity().latest(id).await.unwrap();
    eprintln!(
        "elapsed {el:?} orders {} fills {} equity {eq:?}",
        orders.len(),
        fills.len()
    );
    let sim = w.sim_orders("t");
    eprintln!("sim orders {}", sim.len());
    let st = p.terminate().await;
    eprintln!(
        "exit {st:?}\n{}",
        std::fs::read_to_string(&p_log(&w)).unwrap_or_default()
    );
    w.db.cleanup().await;
}

fn p_log(_w: &World) -> String {
    String::new()
}
