//! Integration tests of the `learning` crate's public API on real Upbit
//! candles (`test_data/`): labels checked against an independent reference
//! implementation, and the trainer's flow from labels to a gate verdict, the
//! model lifecycle, bandit weights and drift checks.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on a broken fixture")]
#![allow(
    clippy::float_cmp,
    reason = "tests pin exact values where they are exact"
)]

mod flow;
mod real_labels;

use std::{collections::BTreeMap, io::Read};

use chrono::{DateTime, Utc};
use indicators::Candle;

const CANDLES: &[u8] =
    include_bytes!("../../test_data/upbit_krw_doge_btc_1m_2025-09-06_2025-09-07T06.csv.gz");

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// 1-minute candles per market, oldest first.
pub(crate) fn candles() -> BTreeMap<String, Vec<Candle>> {
    let mut out: BTreeMap<String, Vec<Candle>> = BTreeMap::new();
    for line in gunzip(CANDLES).lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |i: usize| f[i].parse::<f64>().unwrap();
        out.entry(f[0].to_owned()).or_default().push(Candle {
            ts: f[1].parse().unwrap(),
            open: num(2),
            high: num(3),
            low: num(4),
            close: num(5),
            volume: num(6),
            value: num(5) * num(6),
        });
    }
    out
}

/// Every minute in the file is sealed: the minute after the last candle.
pub(crate) fn sealed(c: &BTreeMap<String, Vec<Candle>>) -> DateTime<Utc> {
    c.values()
        .filter_map(|v| v.last())
        .map(|c| c.ts)
        .max()
        .unwrap()
        + chrono::Duration::minutes(1)
}
