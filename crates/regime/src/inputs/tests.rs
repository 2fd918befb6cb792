//! Hand-worked input computations on small synthetic candle sets.

use chrono::Duration;

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn m(code: &str) -> Market {
    code.parse().unwrap()
}

/// `n` one-minute candles from `start`, close following `path(i)`,
/// open = previous close, value = `value_per_min`.
fn minutes(start: &str, n: i64, value_per_min: f64, path: impl Fn(i64) -> f64) -> Vec<Candle> {
    let t0 = at(start);
    (0..n)
        .map(|i| {
            let open = if i == 0 { path(0) } else { path(i - 1) };
            let close = path(i);
            Candle {
                ts: t0 + Duration::minutes(i),
                open,
                high: open.max(close) + 0.5,
                low: open.min(close) - 0.5,
                close,
                volume: 1.0,
                value: value_per_min,
            }
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn no_candles_means_every_input_missing() {
    let got = RegimeInputs::from_candles(&[], &[], at("2025-09-01T00:00:00Z"));
    assert_eq!(got.missing(), InputName::ALL.to_vec());
}

#[test]
fn cross_section_over_the_rolling_hour() {
    // Five markets, 120 minutes from 00:00; now = 02:00, so the window is
    // 01:00..02:00. Window returns: +10 %, +5 %, 0 %, −5 %, −10 %.
    let pct = [10.0, 5.0, 0.0, -5.0, -10.0];
    let values = [100.0, 200.0, 300.0, 400.0, 500.0];
    let series: Vec<Vec<Candle>> = pct
        .iter()
        .zip(values)
        .map(|(p, v)| {
            minutes("2025-09-01T00:00:00Z", 120, v, |i| {
                if i < 60 {
                    100.0
                } else {
                    100.0 + p * f64::from(i32::try_from(i - 59).unwrap()) / 60.0
                }
            })
        })
        .collect();
    let names = ["KRW-A", "KRW-B", "KRW-C", "KRW-D", "KRW-E"];
    let markets: Vec<(Market, &[Candle])> = names
        .iter()
        .zip(&series)
        .map(|(n, s)| (m(n), s.as_slice()))
        .collect();
    let now = at("2025-09-01T02:00:00Z");
    let got = RegimeInputs::from_candles(&[], &markets, now);
    // 2 of 5 up (0 % is not up).
    assert!(close(got.breadth_up_1h, 0.4), "{got:?}");
    // Population sd of (10, 5, 0, −5, −10) = sqrt(50).
    assert!(close(got.dispersion_1h, 50f64.sqrt()), "{got:?}");
    // One market's window turnover is 60 × v; with five markets top-5 is all of it.
    assert!(close(got.top5_value_share_1h, 1.0), "{got:?}");
    // Each path is flat then a straight line: the 5-minute closes never
    // change direction → whipsaw 0 (the flat market has no moves at all).
    assert!(close(got.whipsaw_5m, 0.0), "{got:?}");
    // No BTC history: trend inputs missing, so classification would refuse.
    assert!(got.btc_adx_4h.is_nan() && got.btc_atr_pct_4h.is_nan());

    // Only four markets → below min_markets (5): cross-sectional inputs missing.
    let four = RegimeInputs::from_candles(&[], &markets[..4], now);
    assert!(four.breadth_up_1h.is_nan() && four.dispersion_1h.is_nan());
    assert!(four.top5_value_share_1h.is_nan() && four.whipsaw_5m.is_nan());
    // With min_markets 4 they are defined again.
    let params = InputParams {
        min_markets: 4,
        ..InputParams::default()
    };
    let four = RegimeInputs::from_candles_with(&[], &markets[..4], now, &params);
    assert!(close(four.breadth_up_1h, 0.5), "{four:?}");
}

#[test]
fn top5_share_with_more_than_five_markets() {
    let series: Vec<Vec<Candle>> = (1..=7)
        .map(|k| minutes("2025-09-01T00:00:00Z", 60, f64::from(k), |_| 100.0))
        .collect();
    let markets: Vec<(Market, &[Candle])> = series
        .iter()
        .enumerate()
        .map(|(i, s)| (m(&format!("KRW-M{i}")), s.as_slice()))
        .collect();
    let got = RegimeInputs::from_candles(&[], &markets, at("2025-09-01T01:00:00Z"));
    // Turnover 1..7 per minute: top five (3..7) = 25 of 28.
    assert!(close(got.top5_value_share_1h, 25.0 / 28.0), "{got:?}");
    assert!(close(got.breadth_up_1h, 0.0) && close(got.dispersion_1h, 0.0));
}

#[test]
fn whipsaw_of_a_saw_tooth() {
    // Closes alternate every 5 minutes: 100, 101, 100, 101, … → every 5m bar
    // reverses the previous one → whipsaw 1.
    let saw: Vec<Vec<Candle>> = (0..5)
        .map(|_| {
            minutes("2025-09-01T00:00:00Z", 180, 1.0, |i| {
                if (i / 5) % 2 == 0 { 100.0 } else { 101.0 }
            })
        })
        .collect();
    let markets: Vec<(Market, &[Candle])> = saw
        .iter()
        .enumerate()
        .map(|(i, s)| (m(&format!("KRW-S{i}")), s.as_slice()))
        .collect();
    let got = RegimeInputs::from_candles(&[], &markets, at("2025-09-01T03:00:00Z"));
    assert!(close(got.whipsaw_5m, 1.0), "{got:?}");
}

#[test]
fn btc_trend_inputs_on_completed_4h_bars() {
    // Hourly BTC candles (any base interval ≤ 4h works for these two inputs):
    // open = close = 100, high 101, low 99 → every 4h bar has TR 2 → ATR 2 →
    // ATR% 2; no directional movement → ADX 0.
    let t0 = at("2025-09-01T00:00:00Z");
    let btc: Vec<Candle> = (0..24 * 10)
        .map(|h| Candle {
            ts: t0 + Duration::hours(h),
            open: 100.0,
            high: 101.0,
            low: 99.0,
            close: 100.0,
            volume: 1.0,
            value: 100.0,
        })
        .collect();
    let now = t0 + Duration::days(10);
    let got = RegimeInputs::from_candles(&btc, &[], now);
    assert!(close(got.btc_atr_pct_4h, 2.0), "{got:?}");
    assert!(close(got.btc_adx_4h, 0.0), "{got:?}");
    // Too little history (ADX needs 28 completed bars = 112 h): missing.
    let short = RegimeInputs::from_candles(&btc, &[], t0 + Duration::hours(108));
    assert!(short.btc_adx_4h.is_nan(), "{short:?}");
    assert!(
        close(short.btc_atr_pct_4h, 2.0),
        "ATR needs only 15 bars: {short:?}"
    );
    // The bar in progress is ignored: a spike inside the current 4h bucket
    // (and any candle at or after `now`) changes nothing.
    let mut spiked = btc.clone();
    spiked.push(Candle {
        ts: now,
        high: 500.0,
        ..btc[0]
    });
    let mid = now + Duration::hours(2);
    let mut partial = spiked.clone();
    partial.push(Candle {
        ts: now + Duration::hours(1),
        high: 500.0,
        ..btc[0]
    });
    assert!(RegimeInputs::from_candles(&spiked, &[], now).same_as(&got));
    let at_mid = RegimeInputs::from_candles(&partial, &[], mid);
    assert!(close(at_mid.btc_atr_pct_4h, 2.0), "{at_mid:?}");
    // Unordered input is sorted first.
    let mut shuffled = btc.clone();
    shuffled.reverse();
    assert!(RegimeInputs::from_candles(&shuffled, &[], now).same_as(&got));
    assert!(!short.same_as(&got));
}

#[test]
fn inputs_serialise_missing_as_null() {
    let i = RegimeInputs {
        whipsaw_5m: f64::NAN,
        ..RegimeInputs {
            btc_adx_4h: 30.0,
            btc_atr_pct_4h: 1.2,
            breadth_up_1h: 0.6,
            dispersion_1h: 0.8,
            top5_value_share_1h: 0.7,
            whipsaw_5m: 0.5,
        }
    };
    let json = serde_json::to_string(&i).unwrap();
    assert!(json.contains(r#""whipsaw_5m":null"#), "{json}");
    let back: RegimeInputs = serde_json::from_str(&json).unwrap();
    assert!(back.whipsaw_5m.is_nan());
    assert_eq!(back.btc_adx_4h, 30.0);
    assert_eq!(i.missing(), vec![InputName::Whipsaw5m]);
    assert_eq!(InputName::Whipsaw5m.to_string(), "whipsaw_5m");
}

#[test]
fn extreme_times_and_unvalidated_params_do_not_panic() {
    let far = DateTime::<Utc>::MAX_UTC - Duration::minutes(3);
    let early = DateTime::<Utc>::MIN_UTC;
    let candles: Vec<Candle> = [early, far]
        .into_iter()
        .map(|ts| Candle {
            ts,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 1.0,
            value: 1.0,
        })
        .collect();
    let markets = [(m("KRW-A"), candles.as_slice())];
    let wild = InputParams {
        window_minutes: i64::MAX,
        whipsaw_bars: usize::MAX,
        adx_period: 0,
        atr_period: 0,
        min_markets: 0,
        ..InputParams::default()
    };
    assert!(wild.validate().is_err());
    for now in [early, far, DateTime::<Utc>::MAX_UTC] {
        let got = RegimeInputs::from_candles_with(&candles, &markets, now, &wild);
        assert!(got.btc_adx_4h.is_nan());
        let mut t = crate::InputsTracker::new(m("KRW-A"), wild.clone());
        for c in &candles {
            t.push(&m("KRW-A"), c);
        }
        let _ = t.inputs(now);
    }
}
