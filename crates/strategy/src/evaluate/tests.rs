//! Evaluator tests: binding modules (a plug-in added without touching the
//! others, STR-7), signal candles, and the entry decision paths (ENTER,
//! REFUSED before and after the checks, HOLD) with their records.

use chrono::{Duration, TimeZone};
use domain::{Krw, OrdType, Price, RegimeLabel, RiskProfile, TraderId, Volume};
use risk::{BookLevel, GuardEvent};
use rust_decimal::Decimal;

use super::*;
use crate::modules::fixtures::{from_closes, uptrend};

/// A plug-in module that always returns the same score.
#[derive(Debug)]
struct Constant(f64);

impl ScoreModule for Constant {
    fn id(&self) -> &'static str {
        "CONST"
    }
    fn min_candles(&self) -> usize {
        1
    }
    fn score(&self, _: &ModuleInput<'_>) -> ModuleScore {
        ModuleScore::new(self.0).reason("CONST_SCORE")
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 2, 0, 0, 0).single().unwrap()
}

fn m(code: &str) -> Market {
    code.parse().unwrap()
}

/// STANDARD with only the constant module weighted.
fn constant_evaluator(score: f64) -> Evaluator {
    let mut def = StrategyDefinition::builtin(RiskProfile::Standard);
    def.weights = [("CONST".to_owned(), 1.0)].into_iter().collect();
    let mut reg = ModuleRegistry::builtin();
    reg.register(Box::new(Constant(score))).unwrap();
    Evaluator::new(def, reg).unwrap()
}

/// 150 signal candles of a 0.2 %-per-candle uptrend from 10,000 KRW.
fn candles() -> Vec<Candle> {
    let closes: Vec<f64> = uptrend(150, 0.002).iter().map(|p| p * 100.0).collect();
    from_closes(&closes, 0.001, 100.0)
}

fn cycle(label: RegimeLabel) -> Cycle<'static> {
    Cycle {
        now: t0(),
        regime: Classification { label, score: 70.0 },
        regime_stale: false,
        leader_candles: None,
        bandit_weight: None,
    }
}

/// Asks from `best` up in 10-KRW ticks, 5,000 units each (≈ 67 M KRW a level).
fn book(best: i64) -> OrderBook {
    let lvl = |p: i64| BookLevel {
        price: Price::new(Decimal::from(p)).unwrap(),
        volume: Volume::new(Decimal::from(5_000)).unwrap(),
    };
    OrderBook::new(
        m("KRW-XRP"),
        (0..10).map(|i| lvl(best + 10 * i)).collect(),
        (1..10).map(|i| lvl(best - 10 * i)).collect(),
    )
    .unwrap()
}

struct World {
    book: OrderBook,
    clusters: Clusters,
    guard: RuntimeGuard,
    open: Vec<Position>,
    cash: Krw,
}

impl World {
    fn new(best: i64) -> Self {
        Self {
            book: book(best),
            clusters: Clusters::none(0.7),
            guard: RuntimeGuard::new(Krw::from_i64(10_000_000), t0()),
            open: Vec::new(),
            cash: Krw::from_i64(10_000_000),
        }
    }

    fn inputs(&self) -> EntryInputs<'_> {
        EntryInputs {
            equity: Krw::from_i64(10_000_000),
            cash: self.cash,
            reserved: Krw::ZERO,
            open_positions: &self.open,
            book: &self.book,
            clusters: &self.clusters,
            guard: &self.guard,
            api: ApiStatus::default(),
            market_status: MarketStatus::default(),
            identifier: OrderIdentifier::for_attempt(TraderId::new(1).unwrap(), "t", 1, 0).unwrap(),
        }
    }
}

fn codes(r: &SignalRecord) -> Vec<String> {
    r.reason_codes.iter().map(ToString::to_string).collect()
}

#[test]
fn binding_modules() {
    // an unknown weight id names the field
    let mut def = StrategyDefinition::builtin(RiskProfile::Standard);
    def.weights.insert("NOPE".into(), 0.1);
    let err = Evaluator::with_builtin_modules(def).unwrap_err();
    assert_eq!(err.field, "weights.NOPE");
    // a duplicate registration is refused
    let mut reg = ModuleRegistry::builtin();
    assert!(reg.register(Box::new(Constant(1.0))).is_ok());
    assert!(reg.register(Box::new(Constant(2.0))).is_err());
    assert_eq!(reg.ids(), vec!["TP", "VCB", "LSR", "LF", "REGIME", "CONST"]);
    // the built-in strategy binds all five; history needs follow the modules
    let ev = Evaluator::with_builtin_modules(StrategyDefinition::builtin(RiskProfile::Standard))
        .unwrap();
    assert_eq!(ev.required_signal_candles(), 80); // VCB: 20 + 60
    assert_eq!(ev.required_1m_candles(), 405);
    // a new module takes part alongside the built-in ones
    let mut def = StrategyDefinition::builtin(RiskProfile::Standard);
    def.weights.insert("CONST".into(), 1.0);
    let mut reg = ModuleRegistry::builtin();
    reg.register(Box::new(Constant(100.0))).unwrap();
    let ev = Evaluator::new(def, reg).unwrap();
    let e = ev.evaluate(&m("KRW-XRP"), &candles(), &cycle(RegimeLabel::Trend), None);
    let ids: Vec<&str> = e.modules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec!["CONST", "LF", "LSR", "REGIME", "TP", "VCB"]);
    assert_eq!(e.modules[0].score.reason_codes[0].as_str(), "CONST_SCORE");
}

#[test]
fn signal_candles_drop_the_bar_in_progress() {
    let ev = constant_evaluator(50.0);
    let start = t0();
    let one_min: Vec<Candle> = (0..12)
        .map(|i| Candle {
            ts: start + Duration::minutes(i),
            open: 100.0,
            high: 101.0,
            low: 99.0,
            close: 100.0,
            volume: 1.0,
            value: 100.0,
        })
        .collect();
    // at 00:12 the 00:10 bucket is still open: two completed 5-minute candles
    let out = ev.signal_candles(&one_min, start + Duration::minutes(12));
    assert_eq!(out.len(), 2);
    assert!((out[0].volume - 5.0).abs() < 1e-12);
    // at 00:15 the third is complete
    assert_eq!(
        ev.signal_candles(&one_min, start + Duration::minutes(15))
            .len(),
        3
    );
    assert!(ev.signal_candles(&[], start).is_empty());
}

#[test]
fn entry_is_sized_checked_and_recorded() {
    let ev = constant_evaluator(100.0);
    let series = candles();
    let e = ev.evaluate(&m("KRW-XRP"), &series, &cycle(RegimeLabel::Trend), None);
    assert_eq!(e.signal(), ScoreSignal::Entry);
    let best = (e.last_close / 10.0).round() as i64 * 10;
    let world = World::new(best);
    let d = ev.decide_entry(&e, &world.inputs());
    assert_eq!(d.record.action, SignalAction::Enter, "{:?}", d.record);
    let order = d.order.expect("approved");
    let o = order.get();
    assert_eq!(o.side(), Side::Bid);
    assert_eq!(o.ord_type(), OrdType::Limit);
    assert_eq!(o.price().unwrap().get(), Decimal::from(best));
    let plan = d.record.plan.as_ref().unwrap();
    // stop ≈ entry − 2 ATR (snapped up to the 10-KRW tick)
    let stop = plan.sizing.stop_price.to_f64_lossy();
    let want = best as f64 - 2.0 * e.atr;
    assert!(stop >= want && stop < want + 10.0, "{stop} vs {want}");
    // 20 % position cap of 10 M
    assert!(plan.sizing.expected_order_krw <= Krw::from_i64(2_000_000));
    assert_eq!(plan.take_profits.len(), 2);
    assert!(plan.take_profits[0].price.get() > Decimal::from(best));
    assert_eq!(d.record.checks.len(), 8);
    assert!(d.record.checks.iter().all(risk::CheckResult::passed));
    assert_eq!(codes(&d.record), vec!["SIGNAL_ENTRY"]);
    for k in ["ema_gap_pct", "bb_width", "atr_ratio", "volume_spike_pct"] {
        assert!(d.record.key_numbers.contains_key(k), "{k}");
    }
    // deterministic, and the JSON reads back
    let again = ev.decide_entry(&e, &world.inputs());
    assert_eq!(again.record.to_json(), d.record.to_json());
    let back: SignalRecord = serde_json::from_str(&d.record.to_json()).unwrap();
    assert_eq!(back, d.record);
}

#[test]
fn refusals_carry_their_reasons() {
    let ev = constant_evaluator(100.0);
    let c = candles();
    let trend = ev.evaluate(&m("KRW-XRP"), &c, &cycle(RegimeLabel::Trend), None);
    let best = (trend.last_close / 10.0).round() as i64 * 10;

    // PANIC: the score is zeroed (w = 0) — no entry signal at all
    let panic = ev.evaluate(&m("KRW-XRP"), &c, &cycle(RegimeLabel::Panic), None);
    let d = ev.decide_entry(&panic, &World::new(best).inputs());
    assert_eq!(d.record.action, SignalAction::Hold);
    assert!(d.order.is_none());

    // CHOP with a strategy that does not dampen CHOP: the checks refuse it
    let mut def = ev.definition().clone();
    def.regime_policy.chop = 1.0;
    let mut reg = ModuleRegistry::empty();
    reg.register(Box::new(Constant(100.0))).unwrap();
    let chop_ev = Evaluator::new(def, reg).unwrap();
    let chop = chop_ev.evaluate(&m("KRW-XRP"), &c, &cycle(RegimeLabel::Chop), None);
    assert_eq!(chop.signal(), ScoreSignal::Entry);
    let d = chop_ev.decide_entry(&chop, &World::new(best).inputs());
    assert_eq!(d.record.action, SignalAction::Refused);
    assert!(d.order.is_none());
    let got = codes(&d.record);
    assert!(got.contains(&"PRE2_REGIME_CHOP".to_owned()), "{got:?}");
    assert!(got.contains(&"PRE8_MAX_POSITIONS".to_owned()), "{got:?}");
    assert_eq!(d.record.checks.len(), 8);
    assert!(!d.record.messages.is_empty());

    // kill switch on
    let mut w = World::new(best);
    w.guard
        .apply(
            GuardEvent::TripKillSwitch {
                operator: "ops".into(),
                reason: "test".into(),
            },
            t0(),
            &ev.definition().risk,
        )
        .unwrap();
    let d = ev.decide_entry(&trend, &w.inputs());
    assert!(codes(&d.record).contains(&"PRE8_KILL_SWITCH".to_owned()));

    // refused before the checks: no budget, no asks, no ATR
    let mut w = World::new(best);
    w.cash = Krw::ZERO;
    let d = ev.decide_entry(&trend, &w.inputs());
    assert_eq!(codes(&d.record), vec!["SIGNAL_ENTRY", "SIZE_NO_BUDGET"]);
    assert!(d.record.checks.is_empty());
    let mut w = World::new(best);
    w.book = OrderBook::new(m("KRW-XRP"), vec![], vec![]).unwrap();
    let d = ev.decide_entry(&trend, &w.inputs());
    assert_eq!(codes(&d.record), vec!["SIGNAL_ENTRY", "ENTRY_NO_ASK"]);
    let short = ev.evaluate(&m("KRW-XRP"), &c[..5], &cycle(RegimeLabel::Trend), None);
    let d = ev.decide_entry(&short, &World::new(best).inputs());
    assert_eq!(codes(&d.record), vec!["SIGNAL_ENTRY", "ENTRY_NO_ATR"]);

    // no signal: HOLD, nothing checked
    let low = constant_evaluator(30.0);
    let e = low.evaluate(&m("KRW-XRP"), &c, &cycle(RegimeLabel::Trend), None);
    let d = low.decide_entry(&e, &World::new(best).inputs());
    assert_eq!(d.record.action, SignalAction::Hold);
    assert_eq!(codes(&d.record), vec!["SIGNAL_NO_ENTRY"]);
}

#[test]
fn smoothing_state_is_carried_by_the_caller() {
    let ev = Evaluator::with_builtin_modules(StrategyDefinition::builtin(RiskProfile::Standard))
        .unwrap();
    let c = candles();
    let cyc = cycle(RegimeLabel::Trend);
    let first = ev.evaluate(&m("KRW-XRP"), &c, &cyc, None);
    assert_eq!(first.state.samples, 1);
    assert!((first.aggregate.smoothed_score - first.aggregate.base_score).abs() < 1e-12);
    let later = Cycle {
        now: t0() + Duration::minutes(1),
        ..cyc
    };
    let second = ev.evaluate(&m("KRW-XRP"), &c[..149], &later, Some(&first.state));
    assert_eq!(second.state.samples, 2);
    let want = 0.3 * second.aggregate.base_score + 0.7 * first.state.ema;
    assert!((second.aggregate.smoothed_score - want).abs() < 1e-9);
    // every module ran and stayed in range
    assert_eq!(first.modules.len(), 5);
    assert!(
        first
            .modules
            .iter()
            .all(|r| (0.0..=100.0).contains(&r.score.score))
    );
}

#[test]
fn boundary_series_give_bounded_explained_decisions() {
    // SPEC §15.1 series through the whole evaluator, both with the built-in
    // modules and with a module that always asks to enter: scores stay in
    // range, every module says why, every decision has its reasons, nothing
    // panics, and every record reads back from its JSON exactly.
    let builtin =
        Evaluator::with_builtin_modules(StrategyDefinition::builtin(RiskProfile::Standard))
            .unwrap();
    let eager = constant_evaluator(100.0);
    for (name, series) in crate::modules::fixtures::boundary_series() {
        // the 5-minute fixtures scaled to ≈ 10,000 KRW, next to the test book
        let candles: Vec<Candle> = series
            .iter()
            .map(|c| Candle {
                open: c.open * 100.0,
                high: c.high * 100.0,
                low: c.low * 100.0,
                close: c.close * 100.0,
                ..*c
            })
            .collect();
        let best = candles
            .iter()
            .rev()
            .map(|c| c.close)
            .find(|x| x.is_finite())
            .map_or(10_000, |x| (x / 10.0).round() as i64 * 10);
        let world = World::new(best);
        for label in RegimeLabel::ALL {
            for ev in [&builtin, &eager] {
                let e = ev.evaluate(&m("KRW-XRP"), &candles, &cycle(*label), None);
                assert!((0.0..=100.0).contains(&e.final_score()), "{name}");
                for r in &e.modules {
                    assert!((0.0..=100.0).contains(&r.score.score), "{name} {}", r.id);
                    assert!(!r.score.reason_codes.is_empty(), "{name} {}", r.id);
                }
                let d = ev.decide_entry(&e, &world.inputs());
                let c = codes(&d.record);
                match d.record.action {
                    SignalAction::Hold => assert_eq!(c, ["SIGNAL_NO_ENTRY"], "{name}"),
                    SignalAction::Refused => {
                        assert_eq!(c[0], "SIGNAL_ENTRY", "{name}");
                        assert!(c.len() > 1, "{name}");
                    }
                    SignalAction::Enter => {
                        assert!(label.allows_entries(), "{name} {label}");
                        assert!(d.record.checks.iter().all(risk::CheckResult::passed));
                        let plan = d.record.plan.as_ref().unwrap();
                        assert!(plan.atr.is_finite() && plan.atr > 0.0, "{name}");
                    }
                    other => panic!("{name}: an entry decision cannot be {other}"),
                }
                assert_eq!(d.order.is_some(), d.record.action == SignalAction::Enter);
                // without an ATR there is no stop and no entry, whatever the score
                if matches!(name, "empty" | "single candle" | "flat market")
                    && d.record.action != SignalAction::Hold
                {
                    assert_eq!(c, ["SIGNAL_ENTRY", "ENTRY_NO_ATR"], "{name} {label}");
                }
                let back: SignalRecord = serde_json::from_str(&d.record.to_json()).unwrap();
                assert_eq!(back, d.record, "{name}");
            }
        }
        // the eager module reaches the checks in every regime but CHOP/PANIC
        // only with an ATR: on the usable series it is sized and checked
        if matches!(name, "zero volume" | "gap") {
            let e = eager.evaluate(&m("KRW-XRP"), &candles, &cycle(RegimeLabel::Trend), None);
            let d = eager.decide_entry(&e, &world.inputs());
            assert_eq!(d.record.checks.len(), 8, "{name}: {:?}", codes(&d.record));
        }
    }
}
