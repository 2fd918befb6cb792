//! Candle JSON parse throughput for a real 200-candle response (`cargo bench
//! -p upbit --bench candle_parse`): wire decoding alone and wire + domain
//! conversion (exact decimals, UTC times, KRW market validation). Prints
//! candles per second; not a timed test.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    reason = "a bench binary reports on stdout and may fail loudly"
)]

use std::{hint::black_box, time::Instant};

use upbit::{
    CandleInterval, MinuteUnit,
    http::{models::CandleWire, parse},
};

const BODY: &[u8] = include_bytes!("../test_data/smtm_candles_minutes_1_200.json");

fn measure(name: &str, mut f: impl FnMut() -> usize) {
    // Warm up, then run for about a second.
    for _ in 0..50 {
        black_box(f());
    }
    let started = Instant::now();
    let mut candles = 0usize;
    let mut rounds = 0usize;
    while started.elapsed().as_secs_f64() < 1.0 {
        candles += black_box(f());
        rounds += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name:<28} {:>12.0} candles/s  ({:>8.1} µs per 200-candle response, {rounds} rounds)",
        candles as f64 / secs,
        secs * 1e6 / rounds as f64
    );
}

fn main() {
    let iv = CandleInterval::Minutes(MinuteUnit::M1);
    println!("response: {} bytes, 200 candles", BODY.len());
    measure("wire decode (serde)", || {
        parse::decode_json::<Vec<CandleWire>>("candles", BODY)
            .unwrap()
            .len()
    });
    measure("wire + domain (Candle)", || {
        parse::candles_from_slice(BODY, iv).unwrap().len()
    });
}
