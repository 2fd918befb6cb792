//! Tests for the number-or-string parsers and date-time helpers.

use rust_decimal_macros::dec;
use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize)]
struct D {
    #[serde(with = "decimal")]
    v: Decimal,
}

#[derive(Debug, Deserialize)]
struct OD {
    #[serde(default, with = "opt_decimal")]
    v: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
struct U {
    #[serde(with = "int")]
    v: u64,
}

#[derive(Debug, Deserialize)]
struct OI {
    #[serde(default, with = "opt_int")]
    v: Option<i64>,
}

fn check(json_value: &str, want: Option<Decimal>) {
    let got = serde_json::from_str::<D>(&format!("{{\"v\":{json_value}}}")).map(|d| d.v);
    match want {
        Some(w) => assert_eq!(got.unwrap(), w, "{json_value}"),
        None => assert!(got.is_err(), "{json_value} should fail, got {got:?}"),
    }
}

#[test]
fn decimals_from_numbers_and_strings() {
    for (raw, want) in [
        // Quotation: JSON numbers, integer-valued and fractional.
        ("148601000", Some(dec!(148601000))),
        ("43973000.0", Some(dec!(43973000))),
        ("4022470467.03403", Some(dec!(4022470467.03403))),
        ("0.00016823", Some(dec!(0.00016823))),
        ("-0.0009143656", Some(dec!(-0.0009143656))),
        ("27.58904602", Some(dec!(27.58904602))),
        // A float whose binary value is not the decimal: shortest text wins.
        ("0.1", Some(dec!(0.1))),
        ("1e-7", Some(dec!(0.0000001))),
        // Exchange: decimal strings.
        ("\"140000000\"", Some(dec!(140000000))),
        ("\"0.00048\"", Some(dec!(0.00048))),
        ("\"3.697095875\"", Some(dec!(3.697095875))),
        ("\"1.0\"", Some(dec!(1))),
        (
            "\"306095.1228293561797048\"",
            Some(dec!(306095.1228293561797048)),
        ),
        ("\"73578.65500000\"", Some(dec!(73578.655))),
        // Rejected.
        ("\"\"", None),
        ("\"abc\"", None),
        ("true", None),
        ("null", None),
        ("[]", None),
        ("1e400", None),
    ] {
        check(raw, want);
    }
}

#[test]
fn optional_decimals() {
    assert_eq!(serde_json::from_str::<OD>("{}").unwrap().v, None);
    assert_eq!(serde_json::from_str::<OD>("{\"v\":null}").unwrap().v, None);
    assert_eq!(
        serde_json::from_str::<OD>("{\"v\":\"5000\"}").unwrap().v,
        Some(dec!(5000))
    );
    assert_eq!(
        serde_json::from_str::<OD>("{\"v\":5000}").unwrap().v,
        Some(dec!(5000))
    );
    assert!(serde_json::from_str::<OD>("{\"v\":\"x\"}").is_err());
}

#[test]
fn integers_never_lose_precision() {
    // sequential_id above 2^53 as a number and as a string (ccxt fixture).
    let u: U = serde_json::from_str("{\"v\":17510687993360000}").unwrap();
    assert_eq!(u.v, 17_510_687_993_360_000);
    let u: U = serde_json::from_str("{\"v\":\"17103275719220001\"}").unwrap();
    assert_eq!(u.v, 17_103_275_719_220_001);
    assert!(serde_json::from_str::<U>("{\"v\":-1}").is_err());
    assert!(serde_json::from_str::<U>("{\"v\":1.5}").is_err());
    assert!(serde_json::from_str::<U>("{\"v\":1.0e300}").is_err());
    assert_eq!(serde_json::from_str::<U>("{\"v\":60.0}").unwrap().v, 60);
    assert!(serde_json::from_str::<U>("{\"v\":\"12a\"}").is_err());
    assert_eq!(serde_json::from_str::<OI>("{}").unwrap().v, None);
    assert_eq!(serde_json::from_str::<OI>("{\"v\":null}").unwrap().v, None);
    assert_eq!(
        serde_json::from_str::<OI>("{\"v\":\"1710327571922\"}")
            .unwrap()
            .v,
        Some(1_710_327_571_922)
    );
}

#[test]
fn date_times() {
    let t = naive_utc("candle_date_time_utc", "2025-07-01T12:00:00").unwrap();
    assert_eq!(t.to_rfc3339(), "2025-07-01T12:00:00+00:00");
    assert_eq!(naive_utc("x", "2025-07-01T12:00:00Z").unwrap(), t);
    assert_eq!(
        naive_utc("x", "2025-07-01T12:00:00.000").unwrap(),
        t,
        "fraction accepted"
    );
    let err = naive_utc("candle_date_time_utc", "2025-07-01").unwrap_err();
    assert_eq!(err.field, "candle_date_time_utc");

    let c = offset_datetime("created_at", "2025-08-09T16:44:00+09:00").unwrap();
    assert_eq!(c.to_rfc3339(), "2025-08-09T07:44:00+00:00");
    let f = offset_datetime("created_at", "2025-08-09T16:44:00.597751+09:00").unwrap();
    assert_eq!(f.timestamp_subsec_micros(), 597_751);
    assert!(offset_datetime("created_at", "2025-08-09T16:44:00").is_err());

    assert_eq!(
        millis_to_utc("timestamp", 1_751_371_259_833)
            .unwrap()
            .to_rfc3339(),
        "2025-07-01T12:00:59.833+00:00"
    );
    assert!(millis_to_utc("timestamp", i64::MAX).is_err());
    assert_eq!(format_utc(t), "2025-07-01T12:00:00Z");
}
