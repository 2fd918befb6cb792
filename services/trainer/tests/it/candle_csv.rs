//! Reading candle files: plain and gzip, value approximation, ordering and
//! error messages that name the file and line.

use trainer::candle_csv::{CandleReader, MergedCandles, parse_ts};

use crate::support::{HEADER, Scratch};

#[test]
fn reads_plain_and_gzip_and_approximates_empty_value() {
    let s = Scratch::new("plain-gz");
    let text = format!(
        "{HEADER}KRW-BTC,2025-09-01T00:00:00Z,100.0,110,90,105,2,\nKRW-ETH,2025-09-01T00:00:00Z,10,11,9,10.5,3,31.5\n"
    );
    for path in [s.write("a.csv", &text), s.write_gz("a.csv.gz", &text)] {
        let mut r = CandleReader::open_plain(&path).unwrap();
        let rows: Vec<_> = r.by_ref().collect::<anyhow::Result<_>>().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].market.as_str(), "KRW-BTC");
        assert_eq!(
            rows[0].candle.value,
            105.0 * 2.0,
            "empty value → close × volume"
        );
        assert_eq!(rows[1].candle.value, 31.5);
        assert_eq!(r.approximated_values(), 1);
    }
    // Columns may come in any order; `value` may be absent.
    let other = s.write(
        "b.csv",
        "timestamp_utc,market,close,open,high,low,volume\n2025-09-01 00:00:00,KRW-XRP,2,1,3,0.5,4\n",
    );
    let rows: Vec<_> = CandleReader::open_plain(&other)
        .unwrap()
        .collect::<anyhow::Result<_>>()
        .unwrap();
    assert_eq!(
        (
            rows[0].candle.open,
            rows[0].candle.close,
            rows[0].candle.value
        ),
        (1.0, 2.0, 8.0)
    );
}

#[test]
fn errors_name_file_line_and_field() {
    let s = Scratch::new("errors");
    for (name, body, needle) in [
        (
            "bad_num.csv",
            "KRW-BTC,2025-09-01T00:00:00Z,abc,1,1,1,1,\n",
            "open: not a number",
        ),
        (
            "nan.csv",
            "KRW-BTC,2025-09-01T00:00:00Z,NaN,1,1,1,1,\n",
            "open: not finite",
        ),
        (
            "bad_ts.csv",
            "KRW-BTC,yesterday,1,1,1,1,1,\n",
            "timestamp_utc",
        ),
        (
            "bad_market.csv",
            "BTC-ETH,2025-09-01T00:00:00Z,1,1,1,1,1,\n",
            "KRW markets",
        ),
        (
            "unsorted.csv",
            "KRW-BTC,2025-09-01T00:01:00Z,1,1,1,1,1,\nKRW-BTC,2025-09-01T00:00:00Z,1,1,1,1,1,\n",
            "not sorted",
        ),
    ] {
        let path = s.write(name, &format!("{HEADER}{body}"));
        let err = CandleReader::open_plain(&path)
            .unwrap()
            .collect::<anyhow::Result<Vec<_>>>()
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains(needle), "{name}: {msg}");
        assert!(msg.contains(name), "{name}: names the file: {msg}");
    }
    let no_col = s.write("no_col.csv", "market,timestamp_utc,open,high,low,close\n");
    let err = CandleReader::open_plain(&no_col).unwrap_err();
    assert!(
        format!("{err:#}").contains("missing column \"volume\""),
        "{err:#}"
    );
    assert!(CandleReader::open_plain(&s.path("absent.csv")).is_err());
}

#[test]
fn merge_orders_by_time_across_files() {
    let s = Scratch::new("merge");
    let a = s.write(
        "a.csv",
        &format!("{HEADER}KRW-A,2025-09-01T00:00:00Z,1,1,1,1,1,1\nKRW-A,2025-09-01T00:02:00Z,1,1,1,1,1,1\n"),
    );
    let b = s.write_gz(
        "b.csv.gz",
        &format!(
            "{HEADER}KRW-B,2025-09-01T00:01:00Z,1,1,1,1,1,\nKRW-B,2025-09-01T00:02:00Z,1,1,1,1,1,\n"
        ),
    );
    let readers = vec![
        CandleReader::open_plain(&a).unwrap(),
        CandleReader::open_plain(&b).unwrap(),
    ];
    let mut merged = MergedCandles::new(readers).unwrap();
    let order: Vec<(String, String)> = merged
        .by_ref()
        .map(|r| {
            let r = r.unwrap();
            (r.market.to_string(), r.candle.ts.format("%M").to_string())
        })
        .collect();
    let want = [
        ("KRW-A", "00"),
        ("KRW-B", "01"),
        ("KRW-A", "02"),
        ("KRW-B", "02"),
    ];
    assert_eq!(order, want.map(|(m, t)| (m.to_owned(), t.to_owned())));
    assert_eq!(merged.approximated_values(), 2);
    assert_eq!(
        parse_ts("2025-09-01T09:00:00+09:00").unwrap(),
        parse_ts("2025-09-01T00:00:00Z").unwrap()
    );
}
