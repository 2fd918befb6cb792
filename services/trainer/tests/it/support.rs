//! Scratch files for the tests (unique per test and process, removed on drop)
//! and a generator of plausible hourly candle files.

use std::{
    fmt::Write as _,
    io::Write as _,
    path::{Path, PathBuf},
};

use chrono::{DateTime, Duration, Utc};

/// A scratch directory removed when dropped.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("trainer-it-{test}-{}", std::process::id()));
        drop(std::fs::remove_dir_all(&dir));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    pub(crate) fn write_gz(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&p).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        drop(std::fs::remove_dir_all(&self.0));
    }
}

pub(crate) const HEADER: &str = "market,timestamp_utc,open,high,low,close,volume,value\n";

/// `hours` hourly candles for each market, rows sorted by (time, market).
/// Deterministic zig-zag paths with a different drift per market; `value`
/// left empty.
pub(crate) fn hourly_csv(markets: &[&str], start: &str, hours: i64) -> String {
    let t0: DateTime<Utc> = start.parse().unwrap();
    let mut text = String::from(HEADER);
    let mut prices: Vec<f64> = (0..markets.len())
        .map(|i| 1000.0 * (i as f64 + 1.0))
        .collect();
    for h in 0..hours {
        let ts = (t0 + Duration::hours(h)).format("%Y-%m-%dT%H:%M:%SZ");
        for (i, m) in markets.iter().enumerate() {
            let open = prices[i];
            let wiggle = if (h + i64::try_from(i).unwrap()) % 3 == 0 {
                -0.004
            } else {
                0.003
            };
            let close = open * (1.0 + wiggle + 0.0005 * i as f64);
            prices[i] = close;
            let (hi, lo) = (open.max(close) * 1.002, open.min(close) * 0.998);
            writeln!(
                text,
                "{m},{ts},{open},{hi},{lo},{close},{},",
                10.0 + h as f64
            )
            .unwrap();
        }
    }
    text
}

pub(crate) fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}
