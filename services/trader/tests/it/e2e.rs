//! A synthetic day at accelerated speed (the simulator's clock, stepped
//! minute by minute as fast as the trader keeps up), for a PAPER and a LIVE
//! (armed) trader on SQLite and MariaDB.
//!
//! The day has a TREND morning, 30 minutes of PANIC (REG-4: no entries,
//! positions reduced), ten minutes without a regime (stale: no entries) and a
//! RANGE evening. At the end the trader is stopped with SIGTERM and:
//! * the tables equal the fold of the fills (no order left open, positions
//!   and trades exactly what the fills say);
//! * LIVE: every order and fill equals the simulator's own record to the last
//!   unit, and the account's balances equal the sub-ledger;
//! * PAPER: every taker fill is the walk of the simulator's book at that
//!   minute, every resting fill a print of the simulator's tape through or at
//!   its price; the same day run twice gives the same fills and profit.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use domain::{Krw, Mode, OrdType, RegimeLabel, Side, SignalAction, TraderId};
use rust_decimal::Decimal;
use storage::orders::FillRecord;
use upbit_sim::{Scenario, book::Book};

use crate::{
    checks::{Tables, check_account, check_against_sim, check_book, tables},
    support::{ACCOUNT_KRW, Db, TraderProc, World, test_definition},
};

/// Minutes of the day (override with `IT_DAY_MINUTES` for a quick run).
fn day_minutes() -> i64 {
    std::env::var("IT_DAY_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1440)
}

/// What the regime is at minute `k` of the day (`None`: nothing written).
fn schedule(k: i64, day: i64) -> Option<RegimeLabel> {
    let f = |x: i64| x * day / 1440;
    if (f(600)..f(630)).contains(&k) {
        Some(RegimeLabel::Panic)
    } else if (f(900)..f(910)).contains(&k) {
        None
    } else if k >= f(910) {
        Some(RegimeLabel::Range)
    } else {
        Some(RegimeLabel::Trend)
    }
}

/// One finished day.
pub(crate) struct Day {
    pub(crate) world: World,
    pub(crate) id: TraderId,
    pub(crate) tables: Tables,
    pub(crate) equity: Krw,
    pub(crate) books: BTreeMap<(DateTime<Utc>, String), Book>,
    pub(crate) panic_window: (DateTime<Utc>, DateTime<Utc>),
    pub(crate) stale_window: (DateTime<Utc>, DateTime<Utc>),
}

const SEED: i64 = 5_000_000;

/// Runs a day; returns the world for the checks.
pub(crate) async fn run_day(db: Db, mode: Mode, seed: u64) -> Day {
    let day = day_minutes();
    let mut w = World::start(db, Scenario::Mixed, 6, seed).await;
    let s = w.strategy(&test_definition(55.0)).await;
    let cred = if mode == Mode::Live {
        Some(w.credential().await)
    } else {
        None
    };
    let id = w.trader(s, SEED, mode, true, cred).await;
    let p = TraderProc::spawn(&w, id, None);
    let started = Instant::now();
    let mut books = BTreeMap::new();
    let start = w.now;
    let mut panic_window = (start, start);
    let mut stale_window = (start, start);
    for k in 0..day {
        let label = schedule(k, day);
        match label {
            Some(l) => {
                w.regime = l;
                w.step().await;
            }
            None => {
                // No regime for this minute: the trader runs after its wait.
                w.step_without_regime(chrono::Duration::seconds(25)).await;
            }
        }
        if label == Some(RegimeLabel::Panic) && panic_window.0 == start {
            panic_window.0 = w.now;
        }
        if label == Some(RegimeLabel::Panic) {
            panic_window.1 = w.now;
        }
        if label.is_none() {
            if stale_window.0 == start {
                stale_window.0 = w.now;
            }
            stale_window.1 = w.now;
        }
        if mode == Mode::Paper {
            let t = w.now;
            let mut world = w.sim.shared().world();
            let upbit_sim::world::World {
                engine, markets, ..
            } = &mut *world;
            for (i, m) in markets.iter_mut().enumerate() {
                let code = m.info.market.as_str().to_owned();
                books.insert((t, code), engine.merged_book(i, m));
            }
        }
        let boundary = trader::app::floor_minute(w.now);
        assert!(
            w.wait_cycle(id, boundary, Duration::from_mins(1)).await,
            "minute {k} ({}) did not finish\n{}",
            w.now,
            p.log_tail()
        );
    }
    eprintln!(
        "{mode} day of {day} minutes on {db:?} in {:?}",
        started.elapsed()
    );
    let status = p.terminate().await;
    assert!(status.success(), "graceful stop: {status:?}");
    let tables = tables(&w.db.store, id).await;
    let equity =
        w.db.store
            .equity()
            .latest(id)
            .await
            .unwrap()
            .unwrap()
            .equity;
    Day {
        world: w,
        id,
        tables,
        equity,
        books,
        panic_window,
        stale_window,
    }
}

/// Checks shared by both modes: tables vs fills, and the regime rules.
async fn common_checks(d: &Day, mode: Mode) -> trader::portfolio::Portfolio {
    let book = check_book(&d.tables, d.id, mode, Krw::from_i64(SEED));
    assert!(
        d.tables.fills.len() >= 10,
        "a day should trade: {} fills",
        d.tables.fills.len()
    );
    let sells = d
        .tables
        .fills
        .iter()
        .filter(|f| f.fill.side == Side::Ask)
        .count();
    assert!(sells > 0, "positions were closed during the day");
    // REG-4 and PRE-2: no entry in PANIC or on a stale regime.
    let signals = d
        .world
        .db
        .store
        .signals()
        .list(d.id, DateTime::UNIX_EPOCH, 10_000)
        .await
        .unwrap();
    for s in &signals {
        let ts = s.signal.ts;
        let in_panic = ts >= d.panic_window.0 && ts <= d.panic_window.1;
        let in_stale =
            ts > d.stale_window.0 + chrono::Duration::minutes(3) && ts <= d.stale_window.1;
        if in_panic || in_stale {
            assert_ne!(s.signal.action, SignalAction::Enter, "entry at {ts}");
        }
        if in_stale && s.signal.action == SignalAction::Refused {
            let codes: Vec<&str> = s
                .signal
                .reason_codes
                .iter()
                .map(domain::ReasonCode::as_str)
                .collect();
            assert!(codes.contains(&"PRE2_REGIME_STALE"), "{codes:?}");
        }
    }
    for o in &d.tables.orders {
        if o.side == Side::Bid {
            let t = o.created_at;
            assert!(
                !(t >= d.panic_window.0 && t <= d.panic_window.1),
                "a buy was placed in PANIC at {t}"
            );
        }
    }
    // FIX-6: the trader may hold one coin twice; every fill is its own trader's.
    assert!(
        d.tables
            .fills
            .iter()
            .all(|f| f.fill.identifier.trader() == Some(d.id))
    );
    book
}

/// PAPER fills against the simulator's records: taker fills walk the book of
/// their minute; resting fills match a print through or at their price.
fn check_paper_fills(d: &Day) {
    let prints = |market: &str, from: i64, to: i64| {
        let w = d.world.sim.shared().world();
        let i = w.market_index(market).unwrap();
        let now = d.world.sim.now().timestamp_millis();
        w.markets[i].prints_between(from, to, now)
    };
    let mut takers = 0;
    let mut makers = 0;
    for o in &d.tables.orders {
        let fills: Vec<&FillRecord> = d
            .tables
            .fills
            .iter()
            .filter(|f| f.fill.identifier == o.identifier)
            .collect();
        let (taker, maker): (Vec<&FillRecord>, Vec<&FillRecord>) =
            fills.iter().partition(|f| f.fill.ts == o.created_at);
        if !taker.is_empty() {
            takers += 1;
            let book = &d.books[&(o.created_at, o.market.as_str().to_owned())];
            let levels = match o.side {
                Side::Bid => &book.asks,
                Side::Ask => &book.bids,
            };
            let mut want = o.volume.map_or(Decimal::ZERO, domain::Volume::get);
            let limit = (o.ord_type == OrdType::Limit).then(|| o.price.unwrap().get());
            let mut expected: Vec<(Decimal, Decimal)> = Vec::new();
            for l in levels {
                if let Some(lim) = limit {
                    let ok = match o.side {
                        Side::Bid => l.price <= lim,
                        Side::Ask => l.price >= lim,
                    };
                    if !ok {
                        break;
                    }
                }
                let q = want.min(l.size);
                if q <= Decimal::ZERO {
                    break;
                }
                expected.push((l.price.normalize(), q.normalize()));
                want -= q;
            }
            let got: Vec<(Decimal, Decimal)> = taker
                .iter()
                .map(|f| (f.fill.price.get(), f.fill.volume.get()))
                .collect();
            assert_eq!(got, expected, "{}: taker fills vs the book", o.identifier);
        }
        for f in maker {
            makers += 1;
            let ts = f.fill.ts.timestamp_millis();
            let limit = o.price.unwrap().get();
            let ok = prints(o.market.as_str(), ts, ts + 1).iter().any(|p| {
                p.ts == ts
                    && match o.side {
                        Side::Bid => p.price < limit || (p.price == limit && p.taker == Side::Ask),
                        Side::Ask => p.price > limit || (p.price == limit && p.taker == Side::Bid),
                    }
            });
            assert!(
                ok,
                "{}: resting fill at {} has no print",
                o.identifier, f.fill.ts
            );
            assert_eq!(
                f.fill.price.get(),
                limit,
                "a resting order fills at its limit"
            );
        }
    }
    assert!(takers > 0, "no taker fill to check");
    eprintln!("paper fills checked: {takers} taker orders, {makers} resting fills");
}

fn fill_key(t: &Tables) -> Vec<(String, String, Decimal, Decimal, Decimal, i64)> {
    t.fills
        .iter()
        .map(|f| {
            (
                f.fill.market.as_str().to_owned(),
                f.fill.side.as_str().to_owned(),
                f.fill.price.get(),
                f.fill.volume.get(),
                f.fill.fee.get(),
                f.fill.ts.timestamp_millis(),
            )
        })
        .collect()
}

async fn paper_day(db: Db) {
    let d = run_day(db, Mode::Paper, 11).await;
    common_checks(&d, Mode::Paper).await;
    check_paper_fills(&d);
    let profit = d.equity - Krw::from_i64(SEED);
    // Reproducible: the same day again gives the same fills and profit.
    let again = run_day(db, Mode::Paper, 11).await;
    assert_eq!(
        fill_key(&again.tables),
        fill_key(&d.tables),
        "fills differ on a rerun"
    );
    assert_eq!(
        again.equity - Krw::from_i64(SEED),
        profit,
        "profit differs on a rerun"
    );
    eprintln!(
        "PAPER profit on {db:?}: {profit} KRW over {} fills",
        d.tables.fills.len()
    );
    again.world.db.cleanup().await;
    d.world.db.cleanup().await;
}

async fn live_day(db: Db) {
    let d = run_day(db, Mode::Live, 13).await;
    let book = common_checks(&d, Mode::Live).await;
    let prefix = {
        let row = d.world.db.store.traders().get(d.id).await.unwrap().unwrap();
        format!("t{}-{}-", d.id, row.order_salt)
    };
    check_against_sim(&d.world, &d.tables, &prefix);
    check_account(
        &d.world,
        &[(&book, Krw::from_i64(SEED))],
        Decimal::from(ACCOUNT_KRW),
    );
    eprintln!(
        "LIVE profit on {db:?}: {} KRW over {} fills",
        d.equity - Krw::from_i64(SEED),
        d.tables.fills.len()
    );
    d.world.db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_day_sqlite() {
    paper_day(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_day_mariadb() {
    paper_day(Db::MariaDb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_day_sqlite() {
    live_day(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_day_mariadb() {
    live_day(Db::MariaDb).await;
}
