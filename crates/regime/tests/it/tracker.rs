//! Property test: the incremental `InputsTracker` gives bit-identical inputs to
//! the batch `RegimeInputs::from_candles_with` on random markets with gaps,
//! invalid candles and zero volume, at random query times.

use chrono::{DateTime, Duration, Utc};
use domain::Market;
use indicators::{Candle, Interval};
use proptest::prelude::*;
use regime::{InputParams, InputsTracker, RegimeInputs};

/// Small periods so a few hundred minutes exercise every input.
fn params() -> InputParams {
    InputParams {
        adx_period: 2,
        atr_period: 2,
        window_minutes: 30,
        whipsaw_interval: Interval::M5,
        whipsaw_bars: 6,
        min_markets: 2,
    }
}

/// One market: per minute `(step %, skip?, invalid?, volume)`.
fn market() -> impl Strategy<Value = Vec<(f64, bool, bool, f64)>> {
    prop::collection::vec(
        (
            -1.0f64..1.0,
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.02),
            prop_oneof![Just(0.0), 0.1f64..10.0],
        ),
        1600..2000,
    )
}

fn build(steps: &[(f64, bool, bool, f64)], t0: DateTime<Utc>) -> Vec<Candle> {
    let mut price = 1000.0;
    let mut out = Vec::new();
    for (i, &(pct, skip, invalid, volume)) in steps.iter().enumerate() {
        let open = price;
        price *= 1.0 + pct / 100.0;
        if skip {
            continue; // a minute without trades: no candle
        }
        let ts = t0 + Duration::minutes(i64::try_from(i).unwrap());
        let mut c = Candle {
            ts,
            open,
            high: open.max(price) * 1.001,
            low: open.min(price) * 0.999,
            close: price,
            volume,
            value: volume * price,
        };
        if invalid {
            c.low = f64::NAN;
        }
        out.push(c);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn tracker_equals_batch(
        raw in prop::collection::vec(market(), 2..5),
        queries in prop::collection::btree_set(1i64..2100, 1..12),
    ) {
        // Start mid-way through a 4h bar so the first bucket is partial.
        let t0: DateTime<Utc> = "2025-01-01T01:37:00Z".parse().unwrap();
        let markets: Vec<(Market, Vec<Candle>)> = raw
            .iter()
            .enumerate()
            .map(|(i, steps)| {
                let code = if i == 0 { "KRW-BTC".to_owned() } else { format!("KRW-M{i}") };
                (code.parse().unwrap(), build(steps, t0))
            })
            .collect();
        let btc: Market = "KRW-BTC".parse().unwrap();
        // All candles in time order, as a feed would deliver them.
        let mut feed: Vec<(Market, Candle)> = markets
            .iter()
            .flat_map(|(m, cs)| cs.iter().map(move |c| (m.clone(), *c)))
            .collect();
        feed.sort_by_key(|(m, c)| (c.ts, m.clone()));
        let slices: Vec<(Market, &[Candle])> =
            markets.iter().map(|(m, c)| (m.clone(), c.as_slice())).collect();
        let mut tracker = InputsTracker::new(btc.clone(), params());
        let mut i = 0;
        for q in queries {
            let now = t0 + Duration::minutes(q);
            while i < feed.len() && feed[i].1.ts + Duration::minutes(1) <= now {
                tracker.push(&feed[i].0, &feed[i].1);
                i += 1;
            }
            let inc = tracker.inputs(now);
            let batch = RegimeInputs::from_candles_with(&markets[0].1, &slices, now, &params());
            prop_assert!(inc.same_as(&batch), "at {}: tracker {:?} vs batch {:?}", now, inc, batch);
        }
        prop_assert_eq!(tracker.market_count(), markets.len());
    }
}
