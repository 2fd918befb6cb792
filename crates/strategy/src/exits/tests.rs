//! Exit-rule tests: levels from ATR and R multiples, and every exit decision.

use chrono::{TimeZone, Utc};
use domain::{Krw, RiskProfile, TraderId};
use rust_decimal_macros::dec;

use super::*;

fn p(v: Decimal) -> Price {
    Price::new(v).unwrap()
}

fn def() -> StrategyDefinition {
    StrategyDefinition::builtin(RiskProfile::Standard)
}

/// 100 units bought at 1,000 with the stop at 960 (1 R = 40 KRW).
fn position(size: Decimal, stop: Decimal, high: Decimal) -> Position {
    Position {
        trader_id: TraderId::new(1).unwrap(),
        market: "KRW-XRP".parse().unwrap(),
        open_time: Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).single().unwrap(),
        avg_entry_price: p(dec!(1000)),
        size: Volume::new(size).unwrap(),
        cost_krw: Krw::from_decimal(dec!(1000) * size),
        stop_price: p(stop),
        high_water: p(high),
        tags: vec![],
    }
}

#[test]
fn initial_stop_and_take_profits() {
    let params = RiskParams::builtin(RiskProfile::Standard); // 2 ATR
    assert_eq!(initial_stop(p(dec!(1000)), 20.0, &params), Some(dec!(960)));
    assert_eq!(initial_stop(p(dec!(1000)), f64::NAN, &params), None);
    assert_eq!(initial_stop(p(dec!(1000)), 0.0, &params), None);
    assert_eq!(initial_stop(p(dec!(1000)), 600.0, &params), None); // stop below zero
    let levels = take_profit_levels(p(dec!(1000)), p(dec!(960)), &def().exits);
    let prices: Vec<Decimal> = levels.iter().map(|l| l.price.get()).collect();
    assert_eq!(prices, vec![dec!(1060), dec!(1120)]); // 1.5 R, 3 R
    // rounded up onto the tick grid (sell side): 1 R = 33 at 100,000+ → tick 100
    let levels = take_profit_levels(p(dec!(100_000)), p(dec!(99_967)), &def().exits);
    assert_eq!(levels[0].price.get(), dec!(100_100)); // 100,049.5 → 100,100
    assert!(take_profit_levels(p(dec!(1000)), p(dec!(1000)), &def().exits).is_empty());
}

struct Case {
    name: &'static str,
    mark: Decimal,
    score: f64,
    regime: RegimeLabel,
    stages_done: usize,
    panic_reduced: bool,
    size: Decimal,
    want: ExitAction,
    code: Option<&'static str>,
}

fn base() -> Case {
    Case {
        name: "",
        mark: dec!(1010),
        score: 60.0,
        regime: RegimeLabel::Trend,
        stages_done: 0,
        panic_reduced: false,
        size: dec!(100),
        want: ExitAction::Hold,
        code: None,
    }
}

fn vol(v: Decimal) -> Volume {
    Volume::new(v).unwrap()
}

#[test]
fn exit_decisions() {
    let cases = [
        Case {
            name: "hold",
            ..base()
        },
        Case {
            name: "stop hit",
            mark: dec!(960),
            want: ExitAction::Close {
                volume: vol(dec!(100)),
            },
            code: Some("EXIT_STOP_HIT"),
            ..base()
        },
        Case {
            name: "score below exit threshold",
            score: 39.0,
            want: ExitAction::Close {
                volume: vol(dec!(100)),
            },
            code: Some("EXIT_SCORE_BELOW_THRESHOLD"),
            ..base()
        },
        Case {
            name: "NaN score exits",
            score: f64::NAN,
            want: ExitAction::Close {
                volume: vol(dec!(100)),
            },
            code: Some("EXIT_SCORE_BELOW_THRESHOLD"),
            ..base()
        },
        Case {
            name: "PANIC reduces half once",
            regime: RegimeLabel::Panic,
            want: ExitAction::Reduce {
                volume: vol(dec!(50)),
            },
            code: Some("EXIT_PANIC_REDUCE"),
            ..base()
        },
        Case {
            name: "PANIC already reduced",
            regime: RegimeLabel::Panic,
            panic_reduced: true,
            ..base()
        },
        Case {
            name: "first take-profit at 1.5 R (1,060): a third",
            mark: dec!(1060),
            want: ExitAction::Reduce {
                volume: vol(dec!(33.33333333)),
            },
            code: Some("EXIT_TAKE_PROFIT_1"),
            ..base()
        },
        Case {
            name: "second take-profit at 3 R: half of what is left",
            mark: dec!(1125),
            stages_done: 1,
            size: dec!(66.66666667),
            want: ExitAction::Reduce {
                volume: vol(dec!(33.33333333)),
            },
            code: Some("EXIT_TAKE_PROFIT_2"),
            ..base()
        },
        Case {
            name: "all steps done: hold",
            mark: dec!(1300),
            stages_done: 2,
            ..base()
        },
        Case {
            name: "a partial sale below 5,000 KRW becomes a close",
            mark: dec!(1060),
            size: dec!(12),
            want: ExitAction::Close {
                volume: vol(dec!(12)),
            },
            code: Some("EXIT_TAKE_PROFIT_1"),
            ..base()
        },
    ];
    let d = def();
    for c in cases {
        let pos = position(c.size, dec!(960), dec!(1000));
        let ctx = ExitContext {
            position: &pos,
            initial_stop: p(dec!(960)),
            mark: p(c.mark),
            atr: 10.0,
            final_score: c.score,
            regime: c.regime,
            stages_done: c.stages_done,
            panic_reduced: c.panic_reduced,
        };
        let got = decide_exit(&ctx, &d);
        assert_eq!(got.action, c.want, "{}", c.name);
        assert_eq!(
            got.reason.as_ref().map(ReasonCode::as_str),
            c.code,
            "{}",
            c.name
        );
        assert!(got.high_water >= pos.high_water);
    }
}

#[test]
fn trailing_stop_only_rises() {
    let d = def(); // 2.5 ATR trail
    let pos = position(dec!(100), dec!(960), dec!(1000));
    let ctx = |mark: Decimal, atr: f64| ExitContext {
        position: &pos,
        initial_stop: p(dec!(960)),
        mark: p(mark),
        atr,
        final_score: 60.0,
        regime: RegimeLabel::Trend,
        stages_done: 0,
        panic_reduced: false,
    };
    // new high 1,050 − 2.5 × 10 = 1,025 > 960
    let got = decide_exit(&ctx(dec!(1050), 10.0), &d);
    assert_eq!(got.new_stop, Some(p(dec!(1025))));
    assert_eq!(got.high_water, p(dec!(1050)));
    // below the current stop: no change
    assert_eq!(decide_exit(&ctx(dec!(1000), 20.0), &d).new_stop, None);
    // no ATR: no trailing
    assert_eq!(decide_exit(&ctx(dec!(1050), f64::NAN), &d).new_stop, None);
    // PANIC with a close fraction of 1 (SAFETY_FIRST) closes
    let safety = StrategyDefinition::builtin(RiskProfile::SafetyFirst);
    let mut c = ctx(dec!(1010), 10.0);
    c.regime = RegimeLabel::Panic;
    let got = decide_exit(&c, &safety);
    assert_eq!(
        got.action,
        ExitAction::Close {
            volume: vol(dec!(100))
        }
    );
    assert_eq!(got.reason.unwrap().as_str(), "EXIT_PANIC_CLOSE");
}
