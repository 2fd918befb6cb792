//! Loads the real candle slices in `test_data/` (see its README for sources).

use std::{collections::BTreeMap, io::Read};

use domain::Market;
use flate2::read::GzDecoder;
use indicators::Candle;

/// All rows of a `test_data/*.csv.gz` file, in file order (sorted by time,
/// then market). Empty `value` → `close × volume`.
pub(crate) fn load(name: &str) -> Vec<(Market, Candle)> {
    let path = format!("{}/test_data/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut text = String::new();
    GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |i: usize| f[i].parse::<f64>().unwrap();
            let (close, volume) = (num(5), num(6));
            let candle = Candle {
                ts: f[1].parse().unwrap(),
                open: num(2),
                high: num(3),
                low: num(4),
                close,
                volume,
                value: if f[7].is_empty() {
                    close * volume
                } else {
                    num(7)
                },
            };
            (f[0].parse().unwrap(), candle)
        })
        .collect()
}

/// The rows grouped per market (BTreeMap: the tracker's market order).
pub(crate) fn by_market(rows: &[(Market, Candle)]) -> BTreeMap<Market, Vec<Candle>> {
    let mut out: BTreeMap<Market, Vec<Candle>> = BTreeMap::new();
    for (m, c) in rows {
        out.entry(m.clone()).or_default().push(*c);
    }
    out
}

pub(crate) fn btc() -> Market {
    "KRW-BTC".parse().unwrap()
}
