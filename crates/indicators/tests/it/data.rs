//! Loads the real candle slice in `data/` (see its README for the source).

use indicators::Candle;

/// The 336 hourly KRW-BTC candles of 2022-05-01 → 2022-05-14 (LUNA crash).
pub(crate) fn btc_hourly_luna() -> Vec<Candle> {
    parse(include_str!("data/krw_btc_1h_2022-05-01_2022-05-14.csv"))
}

/// Parses `market,timestamp_utc,open,high,low,close,volume,value` rows
/// (empty value → `close × volume`).
pub(crate) fn parse(text: &str) -> Vec<Candle> {
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |i: usize| f[i].parse::<f64>().unwrap();
            let (close, volume) = (num(5), num(6));
            Candle {
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
            }
        })
        .collect()
}
