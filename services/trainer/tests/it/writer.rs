//! The regime writer over candles in a real database, stepped with a test
//! clock: it writes exactly what the engine computes from those candles,
//! one row per minute; a crash shows up as PANIC within minutes; missing and
//! stale regimes are reported (WARN events), never reused; stalled minutes
//! are caught up; a restart continues after the newest row.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Duration, Utc};
use domain::{Market, RegimeLabel};
use indicators::Candle as IndicatorCandle;
use regime::{InputParams, Regime, RegimeConfig, RegimeInputs};
use runtime::{SharedClock, TestClock};
use storage::{
    Store,
    events::EventLevel,
    market_data::{Candle, CandleInterval},
    regimes::StoredRegime,
};
use trainer::{
    collector::convert::to_indicator,
    regime_writer::{MarketFeed, RegimeWriter, RegimeWriterConfig},
};
use upbit_sim::Scenario;

use crate::{
    db::{Db, with_store},
    synthetic::{btc, candles, start},
};

/// A feed whose coverage the test sets.
pub(crate) struct Feed {
    markets: Vec<Market>,
    coverage: Mutex<Option<DateTime<Utc>>>,
}

impl Feed {
    pub(crate) fn new(markets: Vec<Market>) -> Self {
        Self {
            markets,
            coverage: Mutex::new(None),
        }
    }

    pub(crate) fn set(&self, c: DateTime<Utc>) {
        *self.coverage.lock().unwrap() = Some(c);
    }
}

impl MarketFeed for Feed {
    fn markets(&self) -> Vec<Market> {
        self.markets.clone()
    }
    fn coverage(&self) -> Option<DateTime<Utc>> {
        *self.coverage.lock().unwrap()
    }
}

fn config() -> RegimeWriterConfig {
    let mut c = RegimeWriterConfig::new(btc());
    c.btc_history = Duration::days(7);
    c
}

async fn load(store: &Store, rows: &[Candle]) -> Vec<Market> {
    for chunk in rows.chunks(20_000) {
        store.candles().upsert_many(chunk).await.unwrap();
    }
    let mut markets: Vec<Market> = rows.iter().map(|c| c.market.clone()).collect();
    markets.sort();
    markets.dedup();
    markets
}

async fn regimes(store: &Store) -> Vec<StoredRegime> {
    store
        .regimes()
        .range(
            start() - Duration::days(30),
            start() + Duration::days(30),
            10_000,
        )
        .await
        .unwrap()
}

async fn kinds(store: &Store) -> Vec<(EventLevel, String)> {
    store
        .events()
        .list_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.level, e.kind))
        .collect()
}

/// Steps the clock minute by minute (`settle` after each boundary), the
/// data complete up to the boundary, running one writer tick each.
async fn step(
    writer: &mut RegimeWriter,
    feed: &Feed,
    clock: &TestClock,
    from: DateTime<Utc>,
    minutes: i64,
) {
    for i in 0..=minutes {
        let t = from + Duration::minutes(i);
        clock.set(t + Duration::seconds(5));
        feed.set(t + Duration::seconds(4));
        writer.tick(feed).await.unwrap();
    }
}

/// The engine's batch result at `t` from the same candles the writer saw
/// (BTC from the writer's seed point − `btc_history`).
fn batch(
    by_market: &BTreeMap<Market, Vec<IndicatorCandle>>,
    btc_from: DateTime<Utc>,
    t: DateTime<Utc>,
) -> Result<Regime, regime::RegimeError> {
    let btc_candles: Vec<IndicatorCandle> = by_market[&btc()]
        .iter()
        .filter(|c| c.ts >= btc_from)
        .copied()
        .collect();
    let slices: Vec<(Market, &[IndicatorCandle])> = by_market
        .iter()
        .map(|(m, c)| (m.clone(), c.as_slice()))
        .collect();
    let inputs = RegimeInputs::from_candles_with(&btc_candles, &slices, t, &InputParams::default());
    Regime::assess(t, inputs, &RegimeConfig::default())
}

async fn writes_what_the_engine_computes_and_sees_the_crash(db: Db) {
    with_store(db, |store| async move {
        // Five calm days, then the panic scenario (crash from minute 120).
        let rows = candles(Scenario::Panic, 12, 3, start(), 7200, 200);
        let markets = load(&store, &rows).await;
        let clock = TestClock::new(start());
        let shared: SharedClock = Arc::new(clock.clone());
        let feed = Feed::new(markets);
        let mut writer = RegimeWriter::new(store.clone(), shared, config())
            .await
            .unwrap();
        let first = start() + Duration::minutes(60);
        step(&mut writer, &feed, &clock, first, 120).await;
        let stored = regimes(&store).await;
        assert_eq!(stored.len(), 121, "one row per minute");
        // The reference: the engine's batch form over the candles as stored
        // (read back, so decimals are exactly what the writer read).
        let stored_candles = store
            .candles()
            .range_many(
                &feed.markets(),
                CandleInterval::M1,
                start() - Duration::days(6),
                start() + Duration::days(1),
            )
            .await
            .unwrap();
        assert_eq!(stored_candles.len(), rows.len());
        let mut by_market: BTreeMap<Market, Vec<IndicatorCandle>> = BTreeMap::new();
        for c in &stored_candles {
            by_market
                .entry(c.market.clone())
                .or_default()
                .push(to_indicator(c));
        }
        let btc_from = first - Duration::days(7);
        for (i, row) in stored.iter().enumerate() {
            let t = first + Duration::minutes(i64::try_from(i).unwrap());
            let r = &row.record;
            assert_eq!(r.ts, t);
            let want = batch(&by_market, btc_from, t).unwrap();
            assert_eq!(r.label, want.label, "{t}");
            assert_eq!(r.regime_score, want.score, "{t}");
            let got = RegimeInputs {
                btc_adx_4h: r.inputs.btc_adx_4h,
                btc_atr_pct_4h: r.inputs.btc_atr_pct_4h,
                breadth_up_1h: r.inputs.breadth_up_1h,
                dispersion_1h: r.inputs.dispersion_1h,
                top5_value_share_1h: r.inputs.top5_value_share_1h,
                whipsaw_5m: r.inputs.whipsaw_5m,
            };
            assert!(
                got.same_as(&want.inputs),
                "{t}: {got:?} vs {:?}",
                want.inputs
            );
            assert_eq!(r.engine_version, regime::ENGINE_VERSION);
        }
        // The crash starts at minute 120: no PANIC before, PANIC within 30 minutes.
        let crash = start() + Duration::minutes(120);
        let label_at = |t: DateTime<Utc>| {
            stored
                .iter()
                .find(|r| r.record.ts == t)
                .map(|r| r.record.label)
        };
        assert!(
            stored
                .iter()
                .filter(|r| r.record.ts <= crash)
                .all(|r| r.record.label != RegimeLabel::Panic)
        );
        let first_panic = stored
            .iter()
            .find(|r| r.record.label == RegimeLabel::Panic)
            .expect("the crash is labelled PANIC")
            .record
            .ts;
        assert!(
            first_panic - crash <= Duration::minutes(30),
            "PANIC only at {first_panic}"
        );
        assert_eq!(
            label_at(crash + Duration::minutes(45)),
            Some(RegimeLabel::Panic)
        );
        // A stored label is a REG-4 decision: PANIC allows no entries.
        assert!(!RegimeLabel::Panic.allows_entries());
        // Nothing went wrong: no WARN.
        assert!(
            kinds(&store)
                .await
                .iter()
                .all(|(l, _)| *l == EventLevel::Info),
            "{:?}",
            kinds(&store).await
        );
    })
    .await;
}

#[tokio::test]
async fn writer_matches_engine_sqlite() {
    writes_what_the_engine_computes_and_sees_the_crash(Db::Sqlite).await;
}

#[tokio::test]
async fn writer_matches_engine_mariadb() {
    writes_what_the_engine_computes_and_sees_the_crash(Db::MariaDb).await;
}

async fn missing_and_stale_are_reported_never_reused(db: Db) {
    with_store(db, |store| async move {
        // Only one day of history: BTC's 4h ADX cannot be computed.
        let rows = candles(Scenario::Range, 6, 5, start(), 1440, 120);
        let markets = load(&store, &rows).await;
        let clock = TestClock::new(start());
        let shared: SharedClock = Arc::new(clock.clone());
        let feed = Feed::new(markets);
        let mut writer = RegimeWriter::new(store.clone(), shared, config())
            .await
            .unwrap();
        step(&mut writer, &feed, &clock, start(), 10).await;
        assert!(regimes(&store).await.is_empty(), "nothing guessed");
        let events = store.events().list_after(0, 100).await.unwrap();
        let missing: Vec<_> = events
            .iter()
            .filter(|e| e.kind == "REGIME_MISSING")
            .collect();
        assert_eq!(missing.len(), 1, "once per episode: {events:?}");
        assert_eq!(missing[0].level, EventLevel::Warn);
        assert!(
            missing[0].message.contains("btc_adx_4h"),
            "{}",
            missing[0].message
        );
        assert_eq!(missing[0].data["missing"][0], "btc_adx_4h");
        // No regime for more than three minutes: stale, reported once.
        let stale: Vec<_> = events.iter().filter(|e| e.kind == "REGIME_STALE").collect();
        assert_eq!(stale.len(), 1, "{events:?}");
        assert_eq!(stale[0].level, EventLevel::Warn);
        assert!(
            stale[0].message.contains("no regime yet"),
            "{}",
            stale[0].message
        );
        assert_eq!(writer.stats().missing, 11);
        assert_eq!(writer.stats().written, 0);
    })
    .await;
}

#[tokio::test]
async fn missing_and_stale_sqlite() {
    missing_and_stale_are_reported_never_reused(Db::Sqlite).await;
}

#[tokio::test]
async fn missing_and_stale_mariadb() {
    missing_and_stale_are_reported_never_reused(Db::MariaDb).await;
}

/// Data stalls (coverage frozen) while time goes on: nothing is written for
/// the stalled minutes, REGIME_STALE is reported, and once the data is
/// complete again every missed minute gets its row (then REGIME_RECOVERED).
/// Beyond `catch_up`, minutes are skipped and said so. A new writer (restart)
/// continues right after the newest row.
#[tokio::test]
async fn stalls_are_reported_then_caught_up_and_restarts_continue() {
    with_store(Db::Sqlite, |store| async move {
        let rows = candles(Scenario::Trend, 8, 9, start(), 7200, 240);
        let markets = load(&store, &rows).await;
        let clock = TestClock::new(start());
        let shared: SharedClock = Arc::new(clock.clone());
        let feed = Feed::new(markets.clone());
        let mut cfg = config();
        cfg.catch_up = Duration::minutes(30);
        let mut writer = RegimeWriter::new(store.clone(), shared.clone(), cfg.clone())
            .await
            .unwrap();
        step(&mut writer, &feed, &clock, start(), 5).await;
        assert_eq!(regimes(&store).await.len(), 6);
        // The collector falls behind at 00:05:04: ten minutes pass.
        for i in 6..=15 {
            clock.set(start() + Duration::minutes(i) + Duration::seconds(5));
            writer.tick(&feed).await.unwrap();
        }
        assert_eq!(regimes(&store).await.len(), 6, "nothing on incomplete data");
        let stale: Vec<_> = store
            .events()
            .list_after(0, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "REGIME_STALE")
            .collect();
        assert_eq!(stale.len(), 1);
        assert!(
            stale[0].message.contains("complete only up to"),
            "{}",
            stale[0].message
        );
        // Data complete again: minutes 6..=15 are caught up in one tick.
        feed.set(start() + Duration::minutes(15) + Duration::seconds(4));
        writer.tick(&feed).await.unwrap();
        let stored = regimes(&store).await;
        let minutes: Vec<i64> = stored
            .iter()
            .map(|r| (r.record.ts - start()).num_minutes())
            .collect();
        assert_eq!(minutes, (0..=15).collect::<Vec<_>>());
        let kinds = kinds(&store).await;
        assert_eq!(
            kinds.last(),
            Some(&(EventLevel::Info, "REGIME_RECOVERED".to_owned())),
            "{kinds:?}"
        );
        // A long stall: 50 minutes, catch-up limited to 30.
        let stalled = start() + Duration::minutes(15) + Duration::seconds(4);
        feed.set(stalled);
        clock.set(start() + Duration::minutes(65) + Duration::seconds(5));
        writer.tick(&feed).await.unwrap();
        feed.set(start() + Duration::minutes(65) + Duration::seconds(4));
        writer.tick(&feed).await.unwrap();
        let after: Vec<i64> = regimes(&store)
            .await
            .iter()
            .map(|r| (r.record.ts - start()).num_minutes())
            .collect();
        assert_eq!(after.len(), 16 + 31, "{after:?}");
        assert_eq!(after[16], 35, "minutes 16..=34 skipped");
        assert_eq!(writer.stats().skipped, 19);
        let skipped = store
            .events()
            .list_after(0, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.kind == "REGIME_SKIPPED")
            .unwrap();
        assert_eq!(skipped.data["minutes"], 19);
        // Restart: a new writer continues right after 01:05 with no hole
        // and no duplicate.
        drop(writer);
        let mut again = RegimeWriter::new(store.clone(), shared, cfg).await.unwrap();
        step(
            &mut again,
            &feed,
            &clock,
            start() + Duration::minutes(70),
            0,
        )
        .await;
        let last: Vec<i64> = regimes(&store)
            .await
            .iter()
            .map(|r| (r.record.ts - start()).num_minutes())
            .skip(16)
            .collect();
        assert_eq!(last, (35..=70).collect::<Vec<_>>());
    })
    .await;
}
