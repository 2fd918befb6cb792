//! Candles and collector health: exact round trips, idempotent upserts (a
//! forming candle is re-sent, a replay writes nothing new), ranges per
//! market and interval, all-or-nothing batches across the batch size, and
//! invalid candles refused naming `candles[i].field`.

use chrono::{DateTime, Duration, Utc};
use domain::{Krw, Market, Price, Volume};
use storage::{
    StorageError,
    market_data::{Candle, CandleInterval, CollectorHealth, UPSERT_BATCH},
};

use crate::{
    fixtures::{market, t0},
    harness::TestDb,
};

/// Breaks one field of a candle.
type Breaker = fn(&mut Candle);

/// Minute `i` after a whole-minute start.
fn minute(i: i64) -> DateTime<Utc> {
    storage::truncate_to_millis(t0()) - Duration::milliseconds(123) + Duration::minutes(i)
}

fn candle(m: &Market, interval: CandleInterval, i: i64, close: i64) -> Candle {
    let c = Price::new(close.into()).unwrap();
    Candle {
        market: m.clone(),
        interval,
        ts: minute(i),
        open: c,
        high: Price::new((close + 1000).into()).unwrap(),
        low: Price::new((close - 1000).into()).unwrap(),
        close: c,
        volume: Volume::new(rust_decimal::Decimal::new(12_345_678 + i, 8)).unwrap(),
        value: (i % 2 == 0).then(|| Krw::from_i64(close * 3)),
    }
}

async fn upsert_range_latest_and_count(db: TestDb) {
    let store = &db.store;
    let btc = market("BTC");
    let eth = market("ETH");
    let m1: Vec<Candle> = (0..10)
        .map(|i| candle(&btc, CandleInterval::M1, i, 148_600_000 + i * 1000))
        .collect();
    assert_eq!(store.candles().upsert_many(&m1).await.unwrap(), 10);
    // Same times, other market and other interval: separate series.
    let other: Vec<Candle> = (0..3)
        .map(|i| candle(&eth, CandleInterval::M1, i, 5_000_000))
        .chain((0..3).map(|i| candle(&btc, CandleInterval::H4, i * 240, 149_000_000)))
        .collect();
    store.candles().upsert_many(&other).await.unwrap();

    let got = store
        .candles()
        .range(&btc, CandleInterval::M1, minute(2), minute(5), 100)
        .await
        .unwrap();
    assert_eq!(got, m1[2..5].to_vec(), "from inclusive, to exclusive");
    assert_eq!(
        store
            .candles()
            .range(&btc, CandleInterval::M1, minute(0), minute(10), 4)
            .await
            .unwrap(),
        m1[..4].to_vec()
    );
    assert_eq!(
        store
            .candles()
            .latest(&btc, CandleInterval::M1, 3)
            .await
            .unwrap(),
        m1[7..].to_vec(),
        "the newest n, oldest first"
    );
    assert_eq!(
        store
            .candles()
            .latest_ts(&btc, CandleInterval::M1)
            .await
            .unwrap(),
        Some(minute(9))
    );
    assert_eq!(
        store
            .candles()
            .latest_ts(&market("XRP"), CandleInterval::M1)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .candles()
            .count(&btc, CandleInterval::M1)
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        store
            .candles()
            .count(&btc, CandleInterval::H4)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .candles()
            .count(&eth, CandleInterval::M1)
            .await
            .unwrap(),
        3
    );
    assert_eq!(db.count("candles").await, 16);
}

async fn rewrites_are_idempotent_and_last_wins(db: TestDb) {
    let store = &db.store;
    let btc = market("BTC");
    let first = candle(&btc, CandleInterval::M5, 0, 100_000);
    store
        .candles()
        .upsert_many(std::slice::from_ref(&first))
        .await
        .unwrap();
    // The forming candle is re-sent with a new close and volume.
    let formed = Candle {
        close: Price::new(100_500.into()).unwrap(),
        volume: Volume::new("7.5".parse().unwrap()).unwrap(),
        value: None,
        ..first.clone()
    };
    store
        .candles()
        .upsert_many(std::slice::from_ref(&formed))
        .await
        .unwrap();
    // A replay of the same data changes nothing.
    store
        .candles()
        .upsert_many(std::slice::from_ref(&formed))
        .await
        .unwrap();
    assert_eq!(
        store
            .candles()
            .latest(&btc, CandleInterval::M5, 10)
            .await
            .unwrap(),
        vec![formed.clone()]
    );
    // Duplicates within one call: the last one wins, counted once.
    let last = Candle {
        close: Price::new(99_500.into()).unwrap(),
        ..formed.clone()
    };
    let n = store
        .candles()
        .upsert_many(&[formed.clone(), first.clone(), last.clone()])
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        store
            .candles()
            .latest(&btc, CandleInterval::M5, 10)
            .await
            .unwrap(),
        vec![last]
    );
    assert_eq!(store.candles().upsert_many(&[]).await.unwrap(), 0);
}

async fn large_batches_are_all_or_nothing(db: TestDb) {
    let store = &db.store;
    let btc = market("BTC");
    let n = i64::try_from(UPSERT_BATCH).unwrap() * 2 + 500;
    let mut candles: Vec<Candle> = (0..n)
        .map(|i| candle(&btc, CandleInterval::M1, i, 50_000 + (i % 100) * 10))
        .collect();
    // One bad candle deep in the third statement's chunk: nothing is written.
    let bad = usize::try_from(n).unwrap() - 3;
    candles[bad].low = Price::new(1_000_000.into()).unwrap();
    let err = store.candles().upsert_many(&candles).await.unwrap_err();
    assert!(matches!(err, StorageError::Invalid(_)), "{err}");
    assert_eq!(err.field(), Some(format!("candles[{bad}].low").as_str()));
    assert_eq!(db.count("candles").await, 0);

    candles[bad].low = Price::new(40_000.into()).unwrap();
    let written = store.candles().upsert_many(&candles).await.unwrap();
    assert_eq!(written, u64::try_from(n).unwrap());
    assert_eq!(
        store
            .candles()
            .count(&btc, CandleInterval::M1)
            .await
            .unwrap(),
        n
    );
    let back = store
        .candles()
        .range(&btc, CandleInterval::M1, minute(0), minute(n), 10_000)
        .await
        .unwrap();
    assert_eq!(back, candles);
}

async fn invalid_candles_are_refused_naming_the_field(db: TestDb) {
    let store = &db.store;
    let btc = market("BTC");
    let good = candle(&btc, CandleInterval::M1, 0, 10_000);
    let cases: [(&str, Breaker); 5] = [
        ("candles[1].low", |c| {
            c.low = Price::new(20_000.into()).unwrap();
        }),
        ("candles[1].open", |c| {
            c.open = Price::new(30_000.into()).unwrap();
        }),
        ("candles[1].close", |c| {
            c.close = Price::new(1.into()).unwrap();
        }),
        ("candles[1].value", |c| c.value = Some(Krw::from_i64(-1))),
        ("candles[1].open", |c| {
            c.open = "10000.000000000000000000001".parse().unwrap();
        }),
    ];
    for (field, breaker) in cases {
        let mut bad = candle(&btc, CandleInterval::M1, 1, 10_000);
        breaker(&mut bad);
        let err = store
            .candles()
            .upsert_many(&[good.clone(), bad])
            .await
            .unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("candles").await, 0);
    // Interval and market codes from outside are refused naming the field.
    let err = "2m".parse::<CandleInterval>().unwrap_err();
    assert_eq!(err.field, "interval");
    assert!(err.message.contains("1m, 3m, 5m"), "{err}");
    assert_eq!(
        Market::parse("market", "USDT-BTC").unwrap_err().field,
        "market"
    );
    for i in CandleInterval::ALL {
        assert_eq!(i.as_str().parse::<CandleInterval>().unwrap(), *i);
        assert!(i.duration() > Duration::zero());
    }
}

async fn collector_health_round_trip(db: TestDb) {
    let store = &db.store;
    let btc = CollectorHealth {
        market: market("BTC"),
        last_candle_ts: Some(minute(9)),
        lag_ms: 850,
        updated_at: t0(),
    };
    let fresh = CollectorHealth {
        market: market("ETH"),
        last_candle_ts: None,
        lag_ms: 0,
        updated_at: t0(),
    };
    store.collector_health().upsert(&btc).await.unwrap();
    store.collector_health().upsert(&fresh).await.unwrap();
    assert_eq!(
        store.collector_health().get(&market("BTC")).await.unwrap(),
        Some(btc.clone())
    );
    // Overwritten in place.
    let behind = CollectorHealth {
        lag_ms: 125_000,
        last_candle_ts: Some(minute(10)),
        updated_at: t0() + Duration::minutes(2),
        ..btc
    };
    store.collector_health().upsert(&behind).await.unwrap();
    assert_eq!(
        store.collector_health().list().await.unwrap(),
        vec![behind.clone(), fresh]
    );
    let err = store
        .collector_health()
        .upsert(&CollectorHealth {
            lag_ms: -1,
            market: market("XRP"),
            ..behind
        })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("lag_ms"), "{err}");
    assert_eq!(db.count("collector_health").await, 2);
    assert_eq!(
        store.collector_health().get(&market("XRP")).await.unwrap(),
        None
    );
}

/// Collectors writing overlapping batches at once (one in reverse order):
/// every call succeeds and every candle is one of the versions written.
async fn concurrent_overlapping_upserts_all_land(db: TestDb) {
    let store = db.store.clone();
    let btc = market("BTC");
    let a: Vec<Candle> = (0..300)
        .map(|i| candle(&btc, CandleInterval::M1, i, 10_000))
        .collect();
    let mut b: Vec<Candle> = (150..450)
        .map(|i| candle(&btc, CandleInterval::M1, i, 20_000))
        .collect();
    b.reverse();
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let s = store.clone();
            let batch = if n % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { s.candles().upsert_many(&batch).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 300);
    }
    let all = store
        .candles()
        .range(&btc, CandleInterval::M1, minute(0), minute(450), 1000)
        .await
        .unwrap();
    assert_eq!(all.len(), 450);
    for c in &all {
        let i = (c.ts - minute(0)).num_minutes();
        let want: &[i64] = match i {
            0..150 => &[10_000],
            150..300 => &[10_000, 20_000],
            _ => &[20_000],
        };
        assert!(
            want.iter()
                .any(|w| c.close == Price::new((*w).into()).unwrap()),
            "minute {i}: {}",
            c.close
        );
    }
}

/// Many markets in one read: ordered by market then time, half-open,
/// duplicates read once, other intervals and markets left out, and a range
/// too large to load refused naming `from`.
async fn range_many_reads_several_markets(db: TestDb) {
    let store = &db.store;
    let (btc, eth, xrp) = (market("BTC"), market("ETH"), market("XRP"));
    let mut all = Vec::new();
    for (m, base) in [(&btc, 100_000), (&eth, 3_000_000), (&xrp, 3_000)] {
        all.extend((0..6).map(|i| candle(m, CandleInterval::M1, i, base)));
    }
    all.push(candle(&btc, CandleInterval::M5, 0, 100_000));
    store.candles().upsert_many(&all).await.unwrap();
    let got = store
        .candles()
        .range_many(
            &[xrp.clone(), btc.clone(), xrp.clone(), market("DOGE")],
            CandleInterval::M1,
            minute(1),
            minute(4),
        )
        .await
        .unwrap();
    let want: Vec<Candle> = all
        .iter()
        .filter(|c| {
            c.interval == CandleInterval::M1
                && (c.market == btc || c.market == xrp)
                && c.ts >= minute(1)
                && c.ts < minute(4)
        })
        .cloned()
        .collect();
    assert_eq!(got, want);
    assert!(
        store
            .candles()
            .range_many(&[], CandleInterval::M1, minute(0), minute(9))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .candles()
            .range_many(
                std::slice::from_ref(&btc),
                CandleInterval::M1,
                minute(4),
                minute(1)
            )
            .await
            .unwrap()
            .is_empty()
    );
}

/// The collector's batch write: one row per market, the latest measurement
/// of a market given twice wins (as with candles), negative lag refused
/// naming `health[i].lag_ms` with nothing written.
async fn collector_health_batch_upsert(db: TestDb) {
    let store = &db.store;
    let h = |base: &str, lag: i64| CollectorHealth {
        market: market(base),
        last_candle_ts: Some(minute(lag)),
        lag_ms: lag,
        updated_at: t0(),
    };
    store
        .collector_health()
        .upsert_many(&[h("XRP", 5), h("BTC", 1), h("XRP", 7)])
        .await
        .unwrap();
    assert_eq!(
        store.collector_health().list().await.unwrap(),
        vec![h("BTC", 1), h("XRP", 7)]
    );
    let err = store
        .collector_health()
        .upsert_many(&[h("ETH", 1), h("SOL", -1)])
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("health[1].lag_ms"), "{err}");
    assert_eq!(db.count("collector_health").await, 2);
    store.collector_health().upsert_many(&[]).await.unwrap();
}

both_backends!(
    range_many_reads_several_markets,
    collector_health_batch_upsert,
    concurrent_overlapping_upserts_all_land,
    upsert_range_latest_and_count,
    rewrites_are_idempotent_and_last_wins,
    large_batches_are_all_or_nothing,
    invalid_candles_are_refused_naming_the_field,
    collector_health_round_trip,
);
