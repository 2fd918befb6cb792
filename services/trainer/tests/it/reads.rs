//! The reads traders and the regime writer use, on both backends:
//! `Candles::range_many` (recent candles of many markets), `Regimes::latest`
//! (the current regime) and `CollectorHealthRepo` (per-market freshness).
//! They must be correct, bounded, and served by an index — never a scan of
//! the whole candles table (the query plans are checked).

use chrono::{DateTime, Duration, Utc};
use domain::{Market, RegimeLabel};
use sqlx::{Connection, Row};
use storage::{
    Store,
    market_data::{CandleInterval, CollectorHealth, RANGE_MANY_MARKETS},
    regimes::{RegimeInputs, RegimeRecord},
};
use upbit_sim::Scenario;

use crate::{
    db::{Db, with_db},
    synthetic::{candles, start},
};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn range_many_is_correct_and_bounded(store: &Store) {
    let rows = candles(Scenario::Range, 12, 1, start(), 0, 90);
    store.candles().upsert_many(&rows).await.unwrap();
    let mut markets: Vec<Market> = rows.iter().map(|c| c.market.clone()).collect();
    markets.sort();
    markets.dedup();
    let (from, to) = (
        start() + Duration::minutes(30),
        start() + Duration::minutes(60),
    );
    // Duplicates and an unknown market are harmless.
    let mut asked = markets[..5].to_vec();
    asked.push(markets[0].clone());
    asked.push("KRW-NOPE".parse().unwrap());
    let got = store
        .candles()
        .range_many(&asked, CandleInterval::M1, from, to)
        .await
        .unwrap();
    let want: Vec<_> = {
        let mut w: Vec<_> = rows
            .iter()
            .filter(|c| markets[..5].contains(&c.market) && c.ts >= from && c.ts < to)
            .cloned()
            .collect();
        w.sort_by(|a, b| (&a.market, a.ts).cmp(&(&b.market, b.ts)));
        w
    };
    assert_eq!(got.len(), 5 * 30);
    assert_eq!(got, want, "ordered by market, then time; exact values");
    // Other intervals and empty ranges return nothing.
    assert!(
        store
            .candles()
            .range_many(&markets, CandleInterval::M5, from, to)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .candles()
            .range_many(&markets, CandleInterval::M1, to, from)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .candles()
            .range_many(&[], CandleInterval::M1, from, to)
            .await
            .unwrap()
            .is_empty()
    );
    // More markets than one statement takes are split across statements.
    let many: Vec<Market> = (0..RANGE_MANY_MARKETS + 20)
        .map(|i| format!("KRW-X{i:04}").parse().unwrap())
        .chain(markets.iter().cloned())
        .collect();
    let all = store
        .candles()
        .range_many(&many, CandleInterval::M1, from, to)
        .await
        .unwrap();
    assert_eq!(all.len(), 12 * 30);
}

async fn health_upsert_many(store: &Store) {
    let now = at("2025-09-08T01:00:00Z");
    let row = |m: &str, lag: i64| CollectorHealth {
        market: m.parse().unwrap(),
        last_candle_ts: Some(now - Duration::minutes(1)),
        lag_ms: lag,
        updated_at: now,
    };
    let repo = store.collector_health();
    repo.upsert_many(&[row("KRW-ETH", 5), row("KRW-BTC", 7), row("KRW-ETH", 9)])
        .await
        .unwrap();
    repo.upsert_many(&[row("KRW-BTC", 1)]).await.unwrap();
    let list = repo.list().await.unwrap();
    let lags: Vec<(&str, i64)> = list.iter().map(|h| (h.market.as_str(), h.lag_ms)).collect();
    assert_eq!(
        lags,
        vec![("KRW-BTC", 1), ("KRW-ETH", 9)],
        "the last measurement of a market given twice wins (as with candles)"
    );
    let err = repo
        .upsert_many(&[row("KRW-XRP", 0), row("KRW-SOL", -1)])
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("health[1].lag_ms"));
    assert_eq!(repo.list().await.unwrap().len(), 2, "nothing written");
    repo.upsert_many(&[]).await.unwrap();
}

async fn latest_regime(store: &Store) {
    assert_eq!(store.regimes().latest().await.unwrap(), None);
    for (i, label) in [RegimeLabel::Range, RegimeLabel::Trend, RegimeLabel::Chop]
        .into_iter()
        .enumerate()
    {
        store
            .regimes()
            .insert(&RegimeRecord {
                ts: start() + Duration::minutes(i64::try_from(i).unwrap()),
                label,
                regime_score: 50.0,
                inputs: RegimeInputs {
                    btc_adx_4h: 20.0,
                    btc_atr_pct_4h: 1.0,
                    breadth_up_1h: 0.5,
                    dispersion_1h: 0.5,
                    top5_value_share_1h: 0.5,
                    whipsaw_5m: 0.5,
                },
                engine_version: regime::ENGINE_VERSION.to_owned(),
            })
            .await
            .unwrap();
    }
    let latest = store.regimes().latest().await.unwrap().unwrap();
    assert_eq!(latest.record.label, RegimeLabel::Chop);
    assert_eq!(latest.record.ts, start() + Duration::minutes(2));
}

/// The plans of the statements behind `range_many` and `Regimes::latest`
/// (same shape as the storage crate's SQL) use the primary key / the `ts`
/// index: no full scan, no sort of the whole table.
async fn plans_use_indexes(db: Db, url: &str) {
    let range_many = "SELECT market, interval_code, ts, open, high, low, close, volume, value_krw \
        FROM candles WHERE market IN ('KRW-BTC', 'KRW-ETH') AND interval_code = '1m' \
        AND ts >= 0 AND ts < 9999999999999 ORDER BY market, ts LIMIT 500001";
    let latest = "SELECT id, ts, label, regime_score FROM market_regimes \
        ORDER BY ts DESC, id DESC LIMIT 1";
    match db {
        Db::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            for (sql, must) in [
                (range_many, "PRIMARY KEY"),
                (latest, "ix_market_regimes_ts"),
            ] {
                let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<String, _>("detail"))
                    .collect();
                let text = plan.join(" | ");
                assert!(text.contains(must), "{sql}\n{text}");
                assert!(
                    !text.contains("SCAN candles ") && !text.contains("TEMP B-TREE"),
                    "{text}"
                );
            }
        }
        Db::MariaDb => {
            let mut c = sqlx::MySqlConnection::connect(url).await.unwrap();
            for (sql, key) in [(range_many, "PRIMARY"), (latest, "ix_market_regimes_ts")] {
                let rows = sqlx::query(&format!("EXPLAIN {sql}"))
                    .fetch_all(&mut c)
                    .await
                    .unwrap();
                let row = &rows[0];
                let access: String = row
                    .try_get::<Option<String>, _>("type")
                    .unwrap()
                    .unwrap_or_default();
                let used: String = row
                    .try_get::<Option<String>, _>("key")
                    .unwrap()
                    .unwrap_or_default();
                let extra: String = row
                    .try_get::<Option<String>, _>("Extra")
                    .unwrap()
                    .unwrap_or_default();
                assert_ne!(access, "ALL", "full scan: {sql}");
                assert_eq!(used, key, "{sql}: {extra}");
                assert!(!extra.contains("filesort"), "{sql}: {extra}");
            }
        }
    }
}

async fn reads(db: Db) {
    with_db(db, move |url| async move {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        range_many_is_correct_and_bounded(&store).await;
        health_upsert_many(&store).await;
        latest_regime(&store).await;
        plans_use_indexes(db, &url).await;
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn reads_sqlite() {
    reads(Db::Sqlite).await;
}

#[tokio::test]
async fn reads_mariadb() {
    reads(Db::MariaDb).await;
}
