//! Candle rows and the CSV format shared by the real-data files and the
//! synthetic generator: `market,timestamp_utc,open,high,low,close,volume,value`
//! (`value` may be empty), plain or gzip-compressed.

use std::{
    fs::File,
    io::{BufReader, Read, Write},
    path::Path,
};

use chrono::{DateTime, Utc};
use domain::{Krw, Market, Price, ValidationError, Volume};
use flate2::read::MultiGzDecoder;

/// One OHLCV candle of one market, the unit of replayed and generated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandleRow {
    /// The market, e.g. `KRW-BTC`.
    pub market: Market,
    /// Candle **open** time (UTC).
    pub timestamp_utc: DateTime<Utc>,
    /// First trade price.
    pub open: Price,
    /// Highest trade price.
    pub high: Price,
    /// Lowest trade price.
    pub low: Price,
    /// Last trade price.
    pub close: Price,
    /// Base-currency volume.
    pub volume: Volume,
    /// Quote (KRW) turnover; `None` when the source does not carry it.
    pub value: Option<Krw>,
}

/// Why a data file could not be used. Never retryable: the input must change.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A row is malformed.
    #[error("line {line}: {error}")]
    Row {
        /// 1-based line number (the header is line 1).
        line: u64,
        /// What is wrong, naming the column.
        error: ValidationError,
    },
    /// The CSV layer failed (bad quoting, wrong column count, …).
    #[error("csv: {0}")]
    Csv(String),
    /// The file has no data rows.
    #[error("no candle rows in the data")]
    Empty,
}

const COLUMNS: [&str; 8] = [
    "market",
    "timestamp_utc",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "value",
];

/// Reads a CSV or CSV.gz file (gzip is detected by its magic bytes).
pub fn read_path(path: &Path) -> Result<Vec<CandleRow>, DataError> {
    let io = |source| DataError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).map_err(io)?;
    let file = File::open(path).map_err(io)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        read(MultiGzDecoder::new(BufReader::new(file)))
    } else {
        read(BufReader::new(file))
    }
}

/// Reads rows from CSV text with the header line above.
pub fn read<R: Read>(reader: R) -> Result<Vec<CandleRow>, DataError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let headers = csv.headers().map_err(|e| DataError::Csv(e.to_string()))?;
    let names: Vec<&str> = headers.iter().map(str::trim).collect();
    if names.len() < 7 || names[..7] != COLUMNS[..7] {
        return Err(DataError::Csv(format!(
            "header must be {}, got {}",
            COLUMNS.join(","),
            names.join(",")
        )));
    }
    let mut rows = Vec::new();
    for (i, record) in csv.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| DataError::Csv(format!("line {line}: {e}")))?;
        let row = parse_row(&record).map_err(|error| DataError::Row { line, error })?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(DataError::Empty);
    }
    Ok(rows)
}

fn parse_row(r: &csv::StringRecord) -> Result<CandleRow, ValidationError> {
    let field = |i: usize| r.get(i).map_or("", str::trim);
    let market = Market::parse("market", field(0))?;
    let timestamp_utc = DateTime::parse_from_rfc3339(field(1))
        .map_err(|e| {
            ValidationError::new(
                "timestamp_utc",
                format!("must be RFC 3339 like 2025-01-01T00:00:00Z: {e}"),
            )
        })?
        .with_timezone(&Utc);
    let open = Price::parse("open", field(2))?;
    let high = Price::parse("high", field(3))?;
    let low = Price::parse("low", field(4))?;
    let close = Price::parse("close", field(5))?;
    let raw_volume = domain::money::parse_decimal("volume", field(6))?;
    if raw_volume.is_sign_negative() && !raw_volume.is_zero() {
        return Err(ValidationError::new("volume", "must not be negative"));
    }
    // Upbit volumes have at most 8 decimals; anything finer is truncated.
    let volume = Volume::floor_from(raw_volume);
    let value = match field(7) {
        "" => None,
        raw => Some(Krw::parse("value", raw)?),
    };
    if low > open.min(close) || high < open.max(close) || low > high {
        return Err(ValidationError::new(
            "high",
            format!("inconsistent OHLC: open {open} high {high} low {low} close {close}"),
        ));
    }
    Ok(CandleRow {
        market,
        timestamp_utc,
        open,
        high,
        low,
        close,
        volume,
        value,
    })
}

/// Writes rows in the same CSV format (header included).
pub fn write<W: Write>(rows: &[CandleRow], writer: W) -> Result<(), DataError> {
    let mut csv = csv::Writer::from_writer(writer);
    let err = |e: csv::Error| DataError::Csv(e.to_string());
    csv.write_record(COLUMNS).map_err(err)?;
    for r in rows {
        csv.write_record([
            r.market.as_str().to_owned(),
            r.timestamp_utc.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            r.open.to_string(),
            r.high.to_string(),
            r.low.to_string(),
            r.close.to_string(),
            r.volume.to_string(),
            r.value.map(|v| v.to_string()).unwrap_or_default(),
        ])
        .map_err(err)?;
    }
    csv.flush().map_err(|e| DataError::Csv(e.to_string()))
}

#[cfg(test)]
mod tests;
