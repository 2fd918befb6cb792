//! End to end: the trainer service (collector + regime writer) against the
//! simulator — 110 synthetic KRW markets on a 30× clock — on SQLite and on
//! MariaDB. It backfills, streams, survives a dropped WebSocket together
//! with a burst of 429s injected through the simulator's fault API, repairs
//! the gap by REST, keeps writing a regime every minute, and leaves the
//! candles table without holes and equal to what Upbit (the simulator)
//! serves.

use std::{collections::BTreeMap, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Utc};
use domain::Market;
use runtime::SystemClock;
use storage::{
    Store,
    events::Event,
    market_data::{Candle, CandleInterval},
};
use trainer::{
    collector::{CollectorConfig, book::minute_floor, convert::UPBIT_M1},
    regime_writer::RegimeWriterConfig,
    run::Service,
};
use upbit::{HttpConfig, UpbitClient, UpbitUrls};
use upbit_sim::Scenario;

use crate::{
    db::{Db, with_db},
    sim::{Sim, eventually},
};

const MARKETS: usize = 110;
/// Five days: enough completed 4h bars for BTC's ADX(14).
const HISTORY_MINUTES: u32 = 7200;
const SPEED: f64 = 30.0;
const LOOKBACK_MINUTES: i64 = 180;

fn start() -> DateTime<Utc> {
    "2025-09-08T00:00:00Z".parse().unwrap()
}

fn configs(urls: UpbitUrls) -> (CollectorConfig, RegimeWriterConfig) {
    let btc: Market = "KRW-BTC".parse().unwrap();
    let mut c = CollectorConfig::new(urls, btc.clone());
    c.lookback = Duration::minutes(LOOKBACK_MINUTES);
    c.btc_lookback = Duration::minutes(i64::from(HISTORY_MINUTES));
    c.policy.settle = Duration::seconds(10);
    c.policy.seal_interval = Duration::minutes(3);
    c.flush_interval = StdDuration::from_millis(200);
    c.health_interval = StdDuration::from_millis(500);
    c.poll_interval = StdDuration::from_millis(50);
    // A 4 s outage is two simulated minutes at 30×: a real gap to repair.
    c.ws_reconnect_initial = StdDuration::from_secs(4);
    c.ws_reconnect_max = StdDuration::from_secs(8);
    let mut w = RegimeWriterConfig::new(btc);
    w.btc_history = Duration::minutes(i64::from(HISTORY_MINUTES));
    w.settle = Duration::seconds(10);
    w.poll_interval = StdDuration::from_millis(100);
    (c, w)
}

async fn events(store: &Store) -> Vec<Event> {
    store.events().list_after(0, 10_000).await.unwrap()
}

async fn find_event(store: &Store, kind: &str) -> Option<Event> {
    events(store).await.into_iter().find(|e| e.kind == kind)
}

async fn regime_minutes(store: &Store) -> Vec<DateTime<Utc>> {
    store
        .regimes()
        .range(
            start() - Duration::days(1),
            start() + Duration::days(1),
            10_000,
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.record.ts)
        .collect()
}

async fn survives_faults_and_fills_the_table(db: Db) {
    let sim = Sim::start(Scenario::Mixed, MARKETS, HISTORY_MINUTES, start(), SPEED).await;
    with_db(db, move |url| async move {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let urls = UpbitUrls::new(&sim.handle.base_url(), &sim.handle.ws_url()).unwrap();
        // The rate limiter runs on the wall clock; everything else on market time.
        let client =
            UpbitClient::from_config(HttpConfig::with_urls(urls.clone()), SystemClock::shared())
                .unwrap();
        let (cc, wc) = configs(urls);
        let service = Service::start(store.clone(), client.clone(), sim.clock(), cc, wc)
            .await
            .unwrap();

        // 1. Backfill of every market, then regimes minute by minute.
        let backfilled = eventually("the backfill", 120, || async {
            find_event(&store, "MARKET_DATA_BACKFILLED").await
        })
        .await;
        assert_eq!(backfilled.data["markets"], MARKETS);
        assert_eq!(service.collector().markets().len(), MARKETS);
        eventually("three regimes", 90, || async {
            (regime_minutes(&store).await.len() >= 3).then_some(())
        })
        .await;

        // 2. Faults: every WebSocket dropped and the next 30 REST calls refused with 429.
        let fault_at = sim.now();
        let faults = sim.inject_drop_and_429(30).await;
        assert_eq!(faults["force_429"], 30);
        let repaired = eventually("the gap repair", 120, || async {
            find_event(&store, "MARKET_DATA_GAP_REPAIRED")
                .await
                .filter(|e| e.ts > fault_at)
        })
        .await;
        let gap_from: DateTime<Utc> =
            serde_json::from_value(repaired.data["from"].clone()).unwrap();
        let gap_to: DateTime<Utc> = serde_json::from_value(repaired.data["to"].clone()).unwrap();
        assert!(
            gap_to - gap_from >= Duration::minutes(1),
            "a real gap: {gap_from} → {gap_to}"
        );
        assert!(
            find_event(&store, "MARKET_DATA_STREAM_LOST")
                .await
                .is_some()
        );
        assert_eq!(
            sim.faults().await["force_429"],
            0,
            "the 429 burst was consumed"
        );
        let stats = service.collector().stats();
        assert!(stats.rest_rate_limited >= 1, "{stats:?}");
        assert!(
            stats.ws_reconnects >= 1 && stats.gaps_repaired >= 1,
            "{stats:?}"
        );

        // 3. Regimes keep coming, for the gap minutes too (caught up).
        let after = minute_floor(gap_to) + Duration::minutes(3);
        eventually("regimes after the gap", 120, || async {
            regime_minutes(&store)
                .await
                .last()
                .is_some_and(|t| *t >= after)
                .then_some(())
        })
        .await;

        // 4. Stop gracefully (buffered candles written, stream closed).
        let sealed = service.collector().inspect(|b| {
            b.markets()
                .iter()
                .filter_map(|m| b.track(m).map(|t| t.sealed_through))
                .min()
                .unwrap()
        });
        let collector_stats = service.collector().stats();
        let stopped = tokio::time::timeout(StdDuration::from_secs(30), service.shutdown())
            .await
            .expect("graceful shutdown in time")
            .unwrap();
        assert!(stopped.written >= 5, "{stopped:?}");
        assert!(
            sealed > gap_to,
            "REST sealed past the gap: {sealed} vs {gap_to}"
        );

        // 5. The candles table: every market, every minute from its
        //    backfill start to the sealed point, exactly once.
        let markets = client.krw_markets(false).await.unwrap();
        let markets: Vec<Market> = markets.into_iter().map(|l| l.market).collect();
        assert_eq!(markets.len(), MARKETS);
        let rows = store
            .candles()
            .range_many(
                &markets,
                CandleInterval::M1,
                start() - Duration::minutes(i64::from(HISTORY_MINUTES) + 10),
                sealed,
            )
            .await
            .unwrap();
        let mut by_market: BTreeMap<Market, Vec<Candle>> = BTreeMap::new();
        for c in rows {
            by_market.entry(c.market.clone()).or_default().push(c);
        }
        assert_eq!(by_market.len(), MARKETS);
        for (m, candles) in &by_market {
            let first = candles[0].ts;
            let lookback = if m.as_str() == "KRW-BTC" {
                i64::from(HISTORY_MINUTES)
            } else {
                LOOKBACK_MINUTES
            };
            let want_first = start() - Duration::minutes(lookback);
            assert!(
                (first - want_first).num_minutes().abs() <= 1,
                "{m}: backfill starts at {first}, wanted {want_first}"
            );
            let minutes = (sealed - first).num_minutes();
            assert_eq!(
                i64::try_from(candles.len()).unwrap(),
                minutes,
                "{m}: {} candles for {minutes} minutes",
                candles.len()
            );
            assert!(
                candles
                    .windows(2)
                    .all(|w| w[1].ts - w[0].ts == Duration::minutes(1))
            );
        }

        // 6. Around the gap, the stored candles are exactly what the
        //    exchange serves (sampled markets).
        let from = minute_floor(gap_from) - Duration::minutes(2);
        for m in markets.iter().step_by(15) {
            let served = client
                .candles_between(m, UPBIT_M1, from, sealed)
                .await
                .unwrap();
            let stored = &by_market[m];
            let stored: Vec<&Candle> = stored.iter().filter(|c| c.ts >= from).collect();
            assert_eq!(served.len(), stored.len(), "{m}");
            for (s, d) in served.iter().zip(stored) {
                assert_eq!(
                    (
                        s.open_time,
                        s.open,
                        s.high,
                        s.low,
                        s.close,
                        s.volume,
                        Some(s.value)
                    ),
                    (d.ts, d.open, d.high, d.low, d.close, d.volume, d.value),
                    "{m}"
                );
            }
        }

        // 7. One regime per minute from the first to the last: no hole
        //    (the gap minutes were caught up), no duplicate.
        let written = regime_minutes(&store).await;
        assert!(written.len() >= 5);
        for w in written.windows(2) {
            assert_eq!(w[1] - w[0], Duration::minutes(1), "{written:?}");
        }

        // 8. Health: one row per market, with its newest candle and a small lag.
        let health = store.collector_health().list().await.unwrap();
        assert_eq!(health.len(), MARKETS);
        for h in &health {
            assert!(
                h.last_candle_ts
                    .is_some_and(|t| t >= sealed - Duration::minutes(1)),
                "{h:?}"
            );
            assert!(h.lag_ms < 10 * 60_000, "{h:?}");
        }
        assert!(find_event(&store, "MARKET_DROPPED").await.is_none());
        eprintln!(
            "e2e {db:?}: gap {gap_from} → {gap_to}, sealed through {sealed}, {} regimes \
             ({} → {}), writer {stopped:?}, collector {collector_stats:?}",
            written.len(),
            written[0],
            written[written.len() - 1],
        );
        for e in events(&store).await {
            eprintln!("  event {} {} {}: {}", e.ts, e.level, e.kind, e.message);
        }
        store.close().await;
        drop(sim);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn e2e_sqlite() {
    survives_faults_and_fills_the_table(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn e2e_mariadb() {
    survives_faults_and_fills_the_table(Db::MariaDb).await;
}
