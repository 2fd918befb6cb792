//! OPT-1 labels on real candles versus `test_data/labels_reference.py`, an
//! independent implementation of the same definitions: 1,080 snapshots over
//! KRW-BTC and KRW-DOGE (with its real no-trade minutes), two limit pairs,
//! READY / PENDING / NO_ENTRY / GAP.

use chrono::{DateTime, Utc};
use learning::{LabelConfig, LabelOutcome, Unavailable, label};

use crate::{candles, gunzip, sealed};

const EXPECTED: &[u8] = include_bytes!("../../test_data/labels_expected.csv.gz");

#[test]
fn labels_match_the_reference_implementation() {
    let data = candles();
    let complete_until = sealed(&data);
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for line in gunzip(EXPECTED).lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let cfg = LabelConfig {
            max_entry_delay_minutes: f[0].parse().unwrap(),
            max_gap_minutes: f[1].parse().unwrap(),
        };
        let market = f[2];
        let t = DateTime::<Utc>::from_timestamp(f[3].parse().unwrap(), 0).unwrap();
        let got = label(t, &data[market], complete_until, &cfg).unwrap();
        let status = f[4];
        *counts.entry(status.to_owned()).or_default() += 1;
        match (status, &got) {
            ("READY", LabelOutcome::Ready(l)) => {
                let entry_min: i64 = f[5].parse().unwrap();
                assert_eq!(l.entry_ts.timestamp(), entry_min * 60, "{line}");
                let want: Vec<f64> = f[6..11].iter().map(|x| x.parse().unwrap()).collect();
                let got = [l.ret_60m, l.ret_240m, l.mfe_240m, l.mae_240m, l.dd_240m];
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() < 1e-12, "{line}: got {got:?}");
                }
            }
            ("PENDING", LabelOutcome::Pending { ready_at }) => {
                assert!(*ready_at > complete_until, "{line}");
            }
            (
                "NO_ENTRY",
                LabelOutcome::Unavailable {
                    reason: Unavailable::NoEntry { .. },
                },
            )
            | (
                "GAP",
                LabelOutcome::Unavailable {
                    reason: Unavailable::Gap { .. },
                },
            ) => {}
            _ => panic!("{line}: got {got:?}"),
        }
    }
    // Every kind of outcome was exercised.
    assert_eq!(counts.len(), 4, "{counts:?}");
    assert!(
        counts["READY"] > 900 && counts["GAP"] > 10 && counts["NO_ENTRY"] > 10,
        "{counts:?}"
    );
}
