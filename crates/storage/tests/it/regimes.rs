//! Market regimes (REG-5): every engine output with its six inputs reads
//! back bit-exact; the current regime is the newest; ranges are half-open;
//! bad numbers and labels are refused naming the field.

use chrono::Duration;
use domain::RegimeLabel;
use storage::{
    StorageError,
    regimes::{RegimeInputs, RegimeRecord, StoredRegime},
};

use crate::{fixtures::t0, harness::TestDb};

/// Sets one input to a value that must be refused.
type Setter = fn(&mut RegimeInputs);

fn record(minutes: i64, label: RegimeLabel, score: f64) -> RegimeRecord {
    RegimeRecord {
        ts: t0() + Duration::minutes(minutes),
        label,
        regime_score: score,
        inputs: RegimeInputs {
            btc_adx_4h: 27.318_457_312_9,
            btc_atr_pct_4h: 0.018_3,
            breadth_up_1h: 0.62,
            dispersion_1h: 1.0e-12,
            top5_value_share_1h: 0.4,
            whipsaw_5m: -3.25,
        },
        engine_version: "1.0".into(),
    }
}

async fn round_trip_latest_and_range(db: TestDb) {
    let store = &db.store;
    assert_eq!(store.regimes().latest().await.unwrap(), None);
    let mut stored = Vec::new();
    for (i, label) in (0_i32..).zip(RegimeLabel::ALL) {
        let r = record(i64::from(i) * 5, *label, 20.0 * f64::from(i) + 0.5);
        let id = store.regimes().insert(&r).await.unwrap();
        stored.push(StoredRegime { id, record: r });
    }
    // Inserted out of time order: `latest` goes by time, not by id.
    let early = record(-60, RegimeLabel::Panic, 0.0);
    let early_id = store.regimes().insert(&early).await.unwrap();
    assert_eq!(
        store.regimes().latest().await.unwrap().as_ref(),
        stored.last()
    );
    let range = store
        .regimes()
        .range(
            t0() + Duration::minutes(5),
            t0() + Duration::minutes(20),
            100,
        )
        .await
        .unwrap();
    assert_eq!(range, stored[1..4].to_vec(), "from inclusive, to exclusive");
    let all = store
        .regimes()
        .range(t0() - Duration::days(1), t0() + Duration::days(1), 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(
        all[0],
        StoredRegime {
            id: early_id,
            record: early
        }
    );
    assert_eq!(
        all[1].record.inputs.btc_adx_4h.to_bits(),
        27.318_457_312_9_f64.to_bits()
    );
    // Boundary scores are accepted.
    store
        .regimes()
        .insert(&record(100, RegimeLabel::Chop, 100.0))
        .await
        .unwrap();
    store
        .regimes()
        .insert(&record(101, RegimeLabel::Chop, 0.0))
        .await
        .unwrap();
}

async fn bad_input_is_refused_naming_the_field_and_writes_nothing(db: TestDb) {
    let store = &db.store;
    let good = record(0, RegimeLabel::Range, 50.0);
    let mut cases: Vec<(RegimeRecord, &str)> = vec![
        (
            RegimeRecord {
                regime_score: 100.01,
                ..good.clone()
            },
            "regime_score",
        ),
        (
            RegimeRecord {
                regime_score: -1.0,
                ..good.clone()
            },
            "regime_score",
        ),
        (
            RegimeRecord {
                regime_score: f64::NAN,
                ..good.clone()
            },
            "regime_score",
        ),
        (
            RegimeRecord {
                engine_version: String::new(),
                ..good.clone()
            },
            "engine_version",
        ),
        (
            RegimeRecord {
                engine_version: "v".repeat(33),
                ..good.clone()
            },
            "engine_version",
        ),
    ];
    let inputs: [(&str, Setter); 6] = [
        ("btc_adx_4h", |i| i.btc_adx_4h = f64::NAN),
        ("btc_atr_pct_4h", |i| i.btc_atr_pct_4h = f64::INFINITY),
        ("breadth_up_1h", |i| i.breadth_up_1h = f64::NAN),
        ("dispersion_1h", |i| i.dispersion_1h = f64::NEG_INFINITY),
        ("top5_value_share_1h", |i| i.top5_value_share_1h = f64::NAN),
        ("whipsaw_5m", |i| i.whipsaw_5m = f64::INFINITY),
    ];
    for (field, set) in inputs {
        let mut r = good.clone();
        set(&mut r.inputs);
        cases.push((r, field));
    }
    for (r, field) in cases {
        let err = store.regimes().insert(&r).await.unwrap_err();
        assert!(matches!(err, StorageError::Invalid(_)), "{field}: {err}");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(db.count("market_regimes").await, 0);
    let err = "BULL".parse::<RegimeLabel>().unwrap_err();
    assert_eq!(err.field, "regime");
}

both_backends!(
    round_trip_latest_and_range,
    bad_input_is_refused_naming_the_field_and_writes_nothing,
);
