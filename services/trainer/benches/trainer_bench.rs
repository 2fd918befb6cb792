//! Bench binary (`cargo bench -p trainer --bench trainer_bench`; set
//! `TEST_MARIADB_URL` to include MariaDB): prints
//!
//! 1. the production per-minute path over 500 markets (SPEC §15.6): the
//!    collector's write of one minute of candles, the regime writer's step
//!    (read the new minute of 500 markets from the database, indicators,
//!    regime inputs, classify, insert), and a trader's warm-up read of the
//!    last two hours of 500 markets;
//! 2. the `regime-replay` rate in candles/s over a year of 1-minute candles
//!    (10 synthetic markets, CSV.gz parsed, merged and replayed).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    reason = "a bench binary prints its figures and fails loudly"
)]

use std::{
    io::Write as _,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Instant,
};

use chrono::{DateTime, Duration, Utc};
use domain::{Krw, Market, Price, Volume};
use runtime::{SharedClock, TestClock};
use storage::{
    Store,
    market_data::{Candle, CandleInterval},
};
use trainer::{
    candle_csv::{CandleReader, MergedCandles},
    regime_replay::{ReplayOptions, replay},
    regime_writer::{MarketFeed, RegimeWriter, RegimeWriterConfig},
};
use upbit_sim::{Scenario, series::Bar, synthetic::Generator};

const MARKETS: usize = 500;
const RECENT_MINUTES: i64 = 180;
const BTC_DAYS: i64 = 14;
const STEPS: i64 = 30;

struct Feed {
    markets: Vec<Market>,
    coverage: Mutex<Option<DateTime<Utc>>>,
}

impl MarketFeed for Feed {
    fn markets(&self) -> Vec<Market> {
        self.markets.clone()
    }
    fn coverage(&self) -> Option<DateTime<Utc>> {
        *self.coverage.lock().unwrap()
    }
}

fn row(market: &Market, ts: DateTime<Utc>, b: &Bar) -> Candle {
    Candle {
        market: market.clone(),
        interval: CandleInterval::M1,
        ts,
        open: Price::new(b.open).unwrap(),
        high: Price::new(b.high).unwrap(),
        low: Price::new(b.low).unwrap(),
        close: Price::new(b.close).unwrap(),
        volume: Volume::new(b.volume).unwrap(),
        value: Some(Krw::from_decimal(b.value)),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn per_minute(label: &str, store: Store) {
    store.migrate().await.unwrap();
    let now: DateTime<Utc> = "2025-09-15T00:00:00Z".parse().unwrap();
    // BTC: two weeks of history from a one-market generator …
    let btc: Market = "KRW-BTC".parse().unwrap();
    let history = BTC_DAYS * 1440 - RECENT_MINUTES;
    let first = now - Duration::minutes(BTC_DAYS * 1440);
    let mut g = Generator::new(Scenario::Mixed, 1, 1, first, -history);
    let mut rows = Vec::new();
    for i in 0..history {
        rows.push(row(&btc, first + Duration::minutes(i), &g.next_minute()[0]));
    }
    // … then 500 markets (BTC included) for the last three hours and the steps.
    let recent = now - Duration::minutes(RECENT_MINUTES);
    let mut g = Generator::new(Scenario::Mixed, MARKETS, 2, recent, 0);
    let names: Vec<Market> = g.specs().iter().map(|s| s.market.clone()).collect();
    for i in 0..RECENT_MINUTES {
        let ts = recent + Duration::minutes(i);
        for (m, b) in names.iter().zip(g.next_minute()) {
            rows.push(row(m, ts, &b));
        }
    }
    let t = Instant::now();
    for chunk in rows.chunks(10_000) {
        store.candles().upsert_many(chunk).await.unwrap();
    }
    let load_secs = t.elapsed().as_secs_f64();

    let clock = TestClock::new(now);
    let shared: SharedClock = Arc::new(clock.clone());
    let feed = Feed {
        markets: names.clone(),
        coverage: Mutex::new(None),
    };
    let mut cfg = RegimeWriterConfig::new(btc);
    cfg.btc_history = Duration::days(BTC_DAYS);
    let mut writer = RegimeWriter::new(store.clone(), shared, cfg).await.unwrap();
    // The first tick seeds the tracker from the database.
    clock.set(now + Duration::seconds(5));
    *feed.coverage.lock().unwrap() = Some(now + Duration::seconds(4));
    let t = Instant::now();
    writer.tick(&feed).await.unwrap();
    let seed_ms = t.elapsed().as_secs_f64() * 1e3;

    let (mut writes, mut steps) = (Vec::new(), Vec::new());
    for s in 0..STEPS {
        let ts = now + Duration::minutes(s);
        let minute: Vec<Candle> = names
            .iter()
            .zip(g.next_minute())
            .map(|(m, b)| row(m, ts, &b))
            .collect();
        let t = Instant::now();
        store.candles().upsert_many(&minute).await.unwrap();
        writes.push(t.elapsed().as_secs_f64() * 1e3);
        let boundary = ts + Duration::minutes(1);
        clock.set(boundary + Duration::seconds(5));
        *feed.coverage.lock().unwrap() = Some(boundary + Duration::seconds(4));
        let t = Instant::now();
        writer.tick(&feed).await.unwrap();
        steps.push(t.elapsed().as_secs_f64() * 1e3);
    }
    assert_eq!(writer.stats().written, u64::try_from(STEPS + 1).unwrap());

    let mut reads = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let got = store
            .candles()
            .range_many(
                &names,
                CandleInterval::M1,
                now - Duration::hours(2),
                now + Duration::minutes(STEPS),
            )
            .await
            .unwrap();
        reads.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(got.len() >= MARKETS * 120);
    }
    let mut latest = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        store.regimes().latest().await.unwrap().unwrap();
        latest.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("{label}: one 1-minute step over {MARKETS} markets");
    println!(
        "  setup: {} candles loaded in {load_secs:.1} s; writer seeded in {seed_ms:.0} ms",
        rows.len()
    );
    println!(
        "  collector write of one minute ({MARKETS} candles, one transaction): {:.1} ms (median of {STEPS})",
        median(writes)
    );
    println!(
        "  regime writer step (read {MARKETS} candles, tracker, inputs, classify, insert): {:.1} ms (median of {STEPS})",
        median(steps)
    );
    println!(
        "  trader warm-up read: range_many({MARKETS} markets, last 2 h ≈ {} candles): {:.0} ms (median of 5)",
        MARKETS * (120 + STEPS as usize),
        median(reads)
    );
    println!(
        "  Regimes::latest (current regime): {:.2} ms (median of 50)",
        median(latest)
    );
    store.close().await;
}

fn write_year(dir: &std::path::Path) -> (PathBuf, u64) {
    const N: usize = 10;
    const MINUTES: i64 = 365 * 1440;
    let start: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
    let mut g = Generator::new(Scenario::Mixed, N, 3, start, 0);
    let names: Vec<String> = g.specs().iter().map(|s| s.market.to_string()).collect();
    let path = dir.join("year.csv.gz");
    let file = std::fs::File::create(&path).unwrap();
    let mut gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    writeln!(gz, "market,timestamp_utc,open,high,low,close,volume,value").unwrap();
    let mut rows = 0;
    for i in 0..MINUTES {
        let ts = (start + Duration::minutes(i)).format("%Y-%m-%dT%H:%M:%SZ");
        for (m, b) in names.iter().zip(g.next_minute()) {
            writeln!(
                gz,
                "{m},{ts},{},{},{},{},{},{}",
                b.open, b.high, b.low, b.close, b.volume, b.value
            )
            .unwrap();
            rows += 1;
        }
    }
    gz.finish().unwrap().flush().unwrap();
    (path, rows)
}

fn replay_year() {
    let dir = std::env::temp_dir().join(format!("trainer-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let t = Instant::now();
    let (path, rows) = write_year(&dir);
    let gen_secs = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).unwrap().len();
    let opts = ReplayOptions {
        config: regime::EngineConfig::default(),
        step: Duration::minutes(1),
        candle_interval: indicators::Interval::M1,
        btc: "KRW-BTC".parse().unwrap(),
    };
    let t = Instant::now();
    let reader = CandleReader::open_plain(&path).unwrap();
    let merged = MergedCandles::new(vec![reader]).unwrap();
    let mut labelled = 0_u64;
    let summary = replay(merged, &opts, |r| {
        labelled += u64::from(r.outcome.is_ok());
        Ok(())
    })
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(summary.candles, rows);
    println!(
        "regime-replay over a year of 1-minute candles (10 markets, {rows} candles, {:.0} MB CSV.gz, made in {gen_secs:.0} s):",
        size as f64 / 1e6
    );
    println!(
        "  {secs:.1} s → {:.0} candles/s, {:.0} steps/s ({} steps, {labelled} labelled; CSV parsing included)",
        rows as f64 / secs,
        summary.rows as f64 / secs,
        summary.rows
    );
    drop(std::fs::remove_dir_all(&dir));
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("trainer-bench-db-{}", std::process::id()));
        let url = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
        per_minute("SQLite", Store::connect(&url).await.unwrap()).await;
        drop(std::fs::remove_dir_all(&dir));
        if let Ok(base) = std::env::var("TEST_MARIADB_URL") {
            use sqlx::{Connection, Executor};
            let base = base.trim_end_matches('/').to_owned();
            let name = format!("trainer_bench_{}", std::process::id());
            let mut admin = sqlx::MySqlConnection::connect(&base).await.unwrap();
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            let store = Store::connect(&format!("{base}/{name}")).await.unwrap();
            per_minute("MariaDB", store).await;
            admin
                .execute(format!("DROP DATABASE {name}").as_str())
                .await
                .unwrap();
        }
    });
    replay_year();
}
