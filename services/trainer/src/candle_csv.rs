//! Reading candle files: CSV or gzip-compressed CSV (detected by content) with
//! a header naming at least `market,timestamp_utc,open,high,low,close,volume`
//! and optionally `value` (KRW turnover). An empty or absent `value` is
//! approximated as `close × volume` and counted, so the caller can say so.
//!
//! [`MergedCandles`] merges several files into one stream ordered by open
//! time (a k-way merge; each file must itself be sorted by `timestamp_utc`).

use std::{
    cmp::Reverse,
    collections::BinaryHeap,
    fs::File,
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::Market;
use flate2::read::MultiGzDecoder;
use indicators::Candle;

/// One parsed row.
#[derive(Debug, Clone, PartialEq)]
pub struct CandleRow {
    /// The market.
    pub market: Market,
    /// The candle (open time in `ts`).
    pub candle: Candle,
}

/// Column positions found in the header.
#[derive(Debug, Clone, Copy)]
struct Columns {
    market: usize,
    ts: usize,
    open: usize,
    high: usize,
    low: usize,
    close: usize,
    volume: usize,
    value: Option<usize>,
}

impl Columns {
    fn from_header(h: &csv::StringRecord) -> anyhow::Result<Self> {
        let find = |name: &str| h.iter().position(|c| c.trim() == name);
        let need = |name: &str| find(name).with_context(|| format!("missing column {name:?}"));
        Ok(Self {
            market: need("market")?,
            ts: need("timestamp_utc")?,
            open: need("open")?,
            high: need("high")?,
            low: need("low")?,
            close: need("close")?,
            volume: need("volume")?,
            value: find("value"),
        })
    }
}

/// Streams the rows of one file, checking they are in time order.
pub struct CandleReader {
    path: PathBuf,
    records: csv::StringRecordsIntoIter<Box<dyn Read>>,
    columns: Columns,
    last_ts: Option<DateTime<Utc>>,
    approximated_values: u64,
}

impl std::fmt::Debug for CandleReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CandleReader")
            .field("path", &self.path)
            .field("approximated_values", &self.approximated_values)
            .finish_non_exhaustive()
    }
}

impl CandleReader {
    /// Opens `path`; `wrap` may wrap the raw file reader (e.g. a progress bar
    /// counting compressed bytes).
    pub fn open(path: &Path, wrap: impl FnOnce(File) -> Box<dyn Read>) -> anyhow::Result<Self> {
        let file =
            File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
        let mut buffered = BufReader::new(wrap(file));
        let gz = buffered
            .fill_buf()
            .with_context(|| format!("failed to read {}", path.display()))?
            .starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read> = if gz {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let header = csv
            .headers()
            .with_context(|| format!("failed to read the header of {}", path.display()))?
            .clone();
        let columns = Columns::from_header(&header)
            .with_context(|| format!("bad header in {}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            records: csv.into_records(),
            columns,
            last_ts: None,
            approximated_values: 0,
        })
    }

    /// Opens `path` without wrapping.
    pub fn open_plain(path: &Path) -> anyhow::Result<Self> {
        Self::open(path, |f| Box::new(f))
    }

    /// Rows so far whose `value` was empty and approximated as `close × volume`.
    pub fn approximated_values(&self) -> u64 {
        self.approximated_values
    }

    fn parse(&mut self, record: &csv::StringRecord) -> anyhow::Result<CandleRow> {
        let c = self.columns;
        let field = |i: usize, name: &str| {
            record
                .get(i)
                .map(str::trim)
                .with_context(|| format!("missing field {name}"))
        };
        let num = |i: usize, name: &str| -> anyhow::Result<f64> {
            let raw = field(i, name)?;
            let x: f64 = raw
                .parse()
                .with_context(|| format!("{name}: not a number: {raw:?}"))?;
            if !x.is_finite() {
                bail!("{name}: not finite: {raw:?}");
            }
            Ok(x)
        };
        let market: Market = field(c.market, "market")?.parse().context("market")?;
        let ts = parse_ts(field(c.ts, "timestamp_utc")?)?;
        let (open, high, low, close) = (
            num(c.open, "open")?,
            num(c.high, "high")?,
            num(c.low, "low")?,
            num(c.close, "close")?,
        );
        let volume = num(c.volume, "volume")?;
        let given = c
            .value
            .filter(|&i| record.get(i).is_some_and(|raw| !raw.trim().is_empty()));
        let value = if let Some(i) = given {
            num(i, "value")?
        } else {
            self.approximated_values += 1;
            close * volume
        };
        Ok(CandleRow {
            market,
            candle: Candle {
                ts,
                open,
                high,
                low,
                close,
                volume,
                value,
            },
        })
    }
}

/// Parses `2025-09-01T00:00:00Z`, any RFC 3339 offset, or a naive
/// `2025-09-01T00:00:00` / `2025-09-01 00:00:00` taken as UTC.
pub fn parse_ts(raw: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, fmt) {
            return Ok(t.and_utc());
        }
    }
    bail!("timestamp_utc: not an ISO-8601 time: {raw:?}")
}

impl Iterator for CandleReader {
    type Item = anyhow::Result<CandleRow>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = match self.records.next()? {
            Ok(r) => r,
            Err(e) => {
                return Some(Err(anyhow::Error::new(e)
                    .context(format!("failed to read {}", self.path.display()))));
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let row = self
            .parse(&record)
            .with_context(|| format!("{}:{line}", self.path.display()));
        Some(row.and_then(|row| {
            if self.last_ts.is_some_and(|t| row.candle.ts < t) {
                bail!(
                    "{}:{line}: rows are not sorted by timestamp_utc ({} after {})",
                    self.path.display(),
                    row.candle.ts,
                    self.last_ts.unwrap_or(row.candle.ts)
                );
            }
            self.last_ts = Some(row.candle.ts);
            Ok(row)
        }))
    }
}

/// Several [`CandleReader`]s merged into one stream ordered by open time
/// (ties: file order, then row order — deterministic).
#[derive(Debug)]
pub struct MergedCandles {
    readers: Vec<CandleReader>,
    heads: Vec<Option<CandleRow>>,
    heap: BinaryHeap<Reverse<(DateTime<Utc>, usize)>>,
}

impl MergedCandles {
    /// Merges `readers`, reading the first row of each.
    pub fn new(mut readers: Vec<CandleReader>) -> anyhow::Result<Self> {
        let mut heads = Vec::with_capacity(readers.len());
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            let head = r.next().transpose()?;
            if let Some(row) = &head {
                heap.push(Reverse((row.candle.ts, i)));
            }
            heads.push(head);
        }
        Ok(Self {
            readers,
            heads,
            heap,
        })
    }

    /// Rows whose `value` was approximated, over all files so far.
    pub fn approximated_values(&self) -> u64 {
        self.readers
            .iter()
            .map(CandleReader::approximated_values)
            .sum()
    }
}

impl Iterator for MergedCandles {
    type Item = anyhow::Result<CandleRow>;

    fn next(&mut self) -> Option<Self::Item> {
        let Reverse((_, i)) = self.heap.pop()?;
        let row = self.heads.get_mut(i)?.take()?;
        match self.readers.get_mut(i)?.next().transpose() {
            Ok(next) => {
                if let Some(n) = &next {
                    self.heap.push(Reverse((n.candle.ts, i)));
                }
                if let Some(slot) = self.heads.get_mut(i) {
                    *slot = next;
                }
                Some(Ok(row))
            }
            Err(e) => Some(Err(e)),
        }
    }
}
