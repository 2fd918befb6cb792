//! Candles from the simulator's seeded generator (`upbit_sim::synthetic`),
//! with a calm warm-up before the scenario starts, as storage rows and as
//! indicator candles.

use chrono::{DateTime, Duration, Utc};
use domain::{Krw, Market, Price, Volume};
use storage::market_data::{Candle, CandleInterval};
use upbit_sim::{Scenario, synthetic::Generator};

/// `warmup` calm minutes then `minutes` of `scenario`, for `markets` markets;
/// the scenario starts at `start`. Rows sorted by (time, market).
pub(crate) fn candles(
    scenario: Scenario,
    markets: usize,
    seed: u64,
    start: DateTime<Utc>,
    warmup: i64,
    minutes: i64,
) -> Vec<Candle> {
    let first = start - Duration::minutes(warmup);
    let mut g = Generator::new(scenario, markets, seed, first, -warmup);
    let names: Vec<Market> = g.specs().iter().map(|s| s.market.clone()).collect();
    let mut out = Vec::with_capacity(names.len() * usize::try_from(warmup + minutes).unwrap());
    for i in 0..warmup + minutes {
        let ts = first + Duration::minutes(i);
        let bars = g.next_minute();
        let mut minute: Vec<Candle> = names
            .iter()
            .zip(bars)
            .map(|(m, b)| Candle {
                market: m.clone(),
                interval: CandleInterval::M1,
                ts,
                open: Price::new(b.open).unwrap(),
                high: Price::new(b.high).unwrap(),
                low: Price::new(b.low).unwrap(),
                close: Price::new(b.close).unwrap(),
                volume: Volume::new(b.volume).unwrap(),
                value: Some(Krw::from_decimal(b.value)),
            })
            .collect();
        minute.sort_by(|a, b| a.market.cmp(&b.market));
        out.extend(minute);
    }
    out
}

/// The BTC market.
pub(crate) fn btc() -> Market {
    "KRW-BTC".parse().unwrap()
}

/// A fixed, 4h-aligned scenario start.
pub(crate) fn start() -> DateTime<Utc> {
    "2025-09-08T00:00:00Z".parse().unwrap()
}
