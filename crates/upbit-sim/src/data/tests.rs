//! CSV reading and writing: the real-data schema, gzip, empty `value`, errors naming the line.

use std::io::Write;

use flate2::{Compression, write::GzEncoder};
use rust_decimal_macros::dec;

use super::*;

const SAMPLE: &str = "market,timestamp_utc,open,high,low,close,volume,value
KRW-BTC,2022-01-01T00:00:00Z,56784000.0,57118000.0,56762000.0,57053000.0,236.19090944,
KRW-ETH,2022-01-01T00:00:00Z,4500000.0,4510000.0,4490000.0,4505000.0,12.5,56312500
";

#[test]
fn reads_the_real_schema() {
    let rows = read(SAMPLE.as_bytes()).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].market.as_str(), "KRW-BTC");
    assert_eq!(rows[0].open.get(), dec!(56784000));
    assert_eq!(rows[0].volume.get(), dec!(236.19090944));
    assert_eq!(rows[0].value, None);
    assert_eq!(rows[1].value.unwrap().get(), dec!(56312500));
}

#[test]
fn round_trips_through_write_and_gzip() {
    let rows = read(SAMPLE.as_bytes()).unwrap();
    let mut text = Vec::new();
    write(&rows, &mut text).unwrap();
    assert_eq!(read(text.as_slice()).unwrap(), rows);
    let dir = std::env::temp_dir().join(format!("upbit-sim-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rows.csv.gz");
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&text).unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    assert_eq!(read_path(&path).unwrap(), rows);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn check_err(body: &str, want: &str) {
    let text = format!("market,timestamp_utc,open,high,low,close,volume,value\n{body}\n");
    let err = read(text.as_bytes()).unwrap_err().to_string();
    assert!(err.contains(want), "{body:?}: {err}");
}

#[test]
fn bad_rows_name_line_and_field() {
    check_err("BTC-ETH,2022-01-01T00:00:00Z,1,1,1,1,1,", "line 2: market");
    check_err("KRW-BTC,yesterday,1,1,1,1,1,", "timestamp_utc");
    check_err("KRW-BTC,2022-01-01T00:00:00Z,abc,1,1,1,1,", "open");
    check_err(
        "KRW-BTC,2022-01-01T00:00:00Z,5,4,1,2,1,",
        "inconsistent OHLC",
    );
    check_err("KRW-BTC,2022-01-01T00:00:00Z,1,1,1,1,-1,", "volume");
    assert!(matches!(
        read("market,timestamp_utc,open,high,low,close,volume,value\n".as_bytes()),
        Err(DataError::Empty)
    ));
    assert!(read("a,b\n1,2\n".as_bytes()).is_err());
    assert!(read_path(std::path::Path::new("/nonexistent/file.csv")).is_err());
}
