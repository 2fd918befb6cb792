//! Parser robustness of the order endpoints: every truncation of every
//! recorded payload, byte mutations, arbitrary bytes and arbitrary JSON
//! values in the amount fields give a typed error (`Decode`), never a panic.

use proptest::prelude::*;
use upbit::{ErrorCategory, UpbitError, http::parse::decode_json};

use super::super::{
    models::{BatchCancelWire, ChanceWire, OrderWire},
    types,
};

fn invalid(e: &domain::ValidationError) -> UpbitError {
    UpbitError::decode("test", e.to_string())
}

type Parser = fn(&[u8]) -> Result<(), UpbitError>;

fn order(b: &[u8]) -> Result<(), UpbitError> {
    let w: OrderWire = decode_json("order", b)?;
    types::order(&w).map(drop).map_err(|e| invalid(&e))
}

fn orders(b: &[u8]) -> Result<(), UpbitError> {
    let w: Vec<OrderWire> = decode_json("orders", b)?;
    for o in &w {
        types::order(o).map_err(|e| invalid(&e))?;
    }
    Ok(())
}

fn chance(b: &[u8]) -> Result<(), UpbitError> {
    let w: ChanceWire = decode_json("chance", b)?;
    types::chance(&w).map(drop).map_err(|e| invalid(&e))
}

fn batch(b: &[u8]) -> Result<(), UpbitError> {
    let w: BatchCancelWire = decode_json("batch", b)?;
    drop(types::batch_cancel(&w));
    Ok(())
}

macro_rules! data {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/upbit_orders/test_data/",
            $name
        ))
        .as_slice()
    };
}

fn parsers() -> [(&'static str, Parser, &'static [u8]); 6] {
    [
        ("create", order, data!("create_limit_bid.json")),
        ("get", order, data!("get_order_market_sell_done.json")),
        ("cancel_and_new", order, data!("cancel_and_new.json")),
        ("list", orders, data!("list_open.json")),
        ("chance", chance, data!("chance.json")),
        ("batch", batch, data!("cancel_batch.json")),
    ]
}

#[test]
fn every_truncation_of_every_payload_is_a_decode_error() {
    for (name, parse, full) in parsers() {
        assert!(parse(full).is_ok(), "{name}: the full payload parses");
        let end = full.iter().rposition(|b| *b == b'}' || *b == b']').unwrap();
        for cut in 0..end {
            let err = parse(&full[..cut]).unwrap_err();
            assert_eq!(err.category(), ErrorCategory::Decode, "{name} cut at {cut}");
        }
    }
}

fn json_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|f| f.to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<u64>().prop_map(|i| format!("{i}{i}")),
        "\"[0-9.eE+-]{0,40}\"",
        "\"[^\"\\\\]{0,20}\"",
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("{}".to_owned()),
        Just("[]".to_owned()),
        Just("1e400".to_owned()),
        Just("\"79228162514264337593543950336\"".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for (_, parse, _) in parsers() {
            let _ = parse(&bytes);
        }
    }

    #[test]
    fn mutated_payloads_never_panic(
        idx in 0usize..6,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let (_, parse, full) = parsers()[idx];
        let mut b = full.to_vec();
        for (pos, byte) in edits {
            let i = pos.index(b.len());
            b[i] = byte;
        }
        if let Err(e) = parse(&b) {
            prop_assert_eq!(e.category(), ErrorCategory::Decode);
        }
    }

    #[test]
    fn arbitrary_values_in_order_fields_never_panic(
        field in prop::sample::select(vec![
            "price", "volume", "remaining_volume", "executed_volume", "reserved_fee",
            "paid_fee", "locked", "trades_count", "created_at", "state", "side", "market",
        ]),
        value in json_value(),
    ) {
        let full = std::str::from_utf8(data!("get_order_market_sell_done.json")).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(full).unwrap();
        let body = match serde_json::from_str::<serde_json::Value>(&value) {
            Ok(x) => {
                v[field] = x;
                v.to_string()
            }
            // A value serde_json cannot even read (1e400): splice the text in.
            Err(_) => v.to_string().replacen("\"state\":\"done\"", &format!("\"state\":{value}"), 1),
        };
        if let Err(e) = order(body.as_bytes()) {
            prop_assert_eq!(e.category(), ErrorCategory::Decode);
        }
        let fill = full.replacen("\"funds\": \"7394.19175\"", &format!("\"funds\": {value}"), 1);
        if let Err(e) = order(fill.as_bytes()) {
            prop_assert_eq!(e.category(), ErrorCategory::Decode);
        }
    }
}
