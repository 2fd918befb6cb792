//! The replay harness: real 1-minute candles from `test_data/`, a synthetic
//! order book per market and step (the data has none — see the README there),
//! and a loop that runs the whole pipeline every `step` minutes with a
//! simulated portfolio: fills at the approved limit, exits by the strategy's
//! exit rules, the runtime guard fed with equity and closed trades.

use std::{collections::BTreeMap, io::Read};

use chrono::{DateTime, Duration, Utc};
use domain::{
    Krw, Market, OrderIdentifier, Position, Price, RegimeLabel, Side, SignalAction, TraderId,
    Volume, tick,
};
use indicators::Candle;
use regime::Classification;
use risk::{ApiStatus, BookLevel, Clusters, GuardEvent, MarketStatus, OrderBook, RuntimeGuard};
use rust_decimal::Decimal;
use strategy::{
    Cycle, EntryInputs, Evaluation, Evaluator, ExitAction, ExitContext, MarketSnapshot, ScoreState,
    Screening, SignalRecord, StrategyDefinition, decide_exit, screen,
};

const DATA: &[u8] =
    include_bytes!("../../test_data/upbit_krw_5mkts_1m_2025-09-10_2025-09-12T12.csv.gz");

/// 1-minute candles per market, oldest first.
pub(crate) fn load() -> BTreeMap<Market, Vec<Candle>> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(DATA)
        .read_to_string(&mut text)
        .expect("gzip");
    let mut out: BTreeMap<Market, Vec<Candle>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |i: usize| f[i].parse::<f64>().expect("number");
        let (close, volume) = (num(5), num(6));
        out.entry(f[0].parse().expect("market"))
            .or_default()
            .push(Candle {
                ts: f[1].parse().expect("timestamp"),
                open: num(2),
                high: num(3),
                low: num(4),
                close,
                volume,
                // The source has no turnover: approximate it.
                value: close * volume,
            });
    }
    out
}

/// A synthetic book: best ask = last close on the tick grid, one tick of
/// spread, 10 levels a side one tick apart, each holding two minutes of the
/// last hour's average KRW turnover.
pub(crate) fn book_at(market: &Market, history: &[Candle]) -> OrderBook {
    let last = history.last().expect("history");
    let ask =
        tick::round_price(Decimal::try_from(last.close).expect("price"), Side::Ask).expect("ask");
    let t = tick::tick_size(ask.get());
    let hour = &history[history.len().saturating_sub(60)..];
    let per_min = hour.iter().map(|c| c.value).sum::<f64>() / hour.len() as f64;
    let level_krw = Decimal::try_from(per_min * 2.0).unwrap_or(Decimal::ONE);
    let level = |p: Decimal| BookLevel {
        price: Price::new(p).expect("level price"),
        volume: Volume::floor_from(level_krw / p),
    };
    let asks = (0..10)
        .map(|i| level(ask.get() + t * Decimal::from(i)))
        .collect();
    let bids = (1..=10)
        .map(|i| ask.get() - t * Decimal::from(i))
        .filter(|p| *p > Decimal::ZERO)
        .map(level)
        .collect();
    OrderBook::new(market.clone(), asks, bids).expect("book")
}

/// One replay's settings.
pub(crate) struct Scenario {
    pub def: StrategyDefinition,
    pub regime: Classification,
    pub step_minutes: i64,
}

/// An open position with what the exit rules need to know about it.
pub(crate) struct Held {
    pub position: Position,
    pub initial_stop: Price,
    pub stages_done: usize,
    pub panic_reduced: bool,
}

/// Everything a replay produced.
#[derive(Default)]
pub(crate) struct Outcome {
    /// Every decision record, in order.
    pub records: Vec<SignalRecord>,
    /// The screening of every step.
    pub screenings: Vec<Screening>,
    /// Most positions open at once.
    pub max_open: usize,
    /// Max positions allowed in the scenario's regime.
    pub max_positions: usize,
    /// Entries that made a cluster exceed `max_per_cluster`, as text.
    pub cluster_violations: Vec<String>,
    /// Every evaluation (for the score invariants).
    pub evaluations: Vec<Evaluation>,
    /// Cash never went negative.
    pub min_cash: Krw,
    /// Final equity.
    pub final_equity: Krw,
}

const HISTORY_1M: usize = 600;
const FEE: Decimal = Decimal::from_parts(5, 0, 0, false, 4);

fn history(candles: &[Candle], now: DateTime<Utc>) -> &[Candle] {
    let end = candles.partition_point(|c| c.ts < now);
    &candles[end.saturating_sub(HISTORY_1M)..end]
}

fn mark_of(history: &[Candle]) -> Price {
    let last = history.last().expect("history").close;
    tick::round_price(Decimal::try_from(last).expect("price"), Side::Bid).expect("mark")
}

fn log_returns(c: &[Candle]) -> Vec<f64> {
    c.windows(2)
        .map(|w| (w[1].close / w[0].close).ln())
        .collect()
}

/// Runs the pipeline over the data every `step_minutes`, starting once
/// 8 hours of history exist.
pub(crate) fn replay(data: &BTreeMap<Market, Vec<Candle>>, sc: &Scenario) -> Outcome {
    let ev = Evaluator::with_builtin_modules(sc.def.clone()).expect("evaluator");
    let params = &ev.definition().risk;
    let leader = ev.definition().leader.clone();
    let first = data.values().map(|c| c[0].ts).min().expect("data");
    let last = data
        .values()
        .map(|c| c[c.len() - 1].ts)
        .max()
        .expect("data");
    let equity0 = Krw::from_i64(10_000_000);
    let mut cash = equity0;
    let mut held: Vec<Held> = Vec::new();
    let mut states: BTreeMap<Market, ScoreState> = BTreeMap::new();
    let start = first + Duration::hours(8);
    let mut guard = RuntimeGuard::new(equity0, start);
    guard
        .apply(
            GuardEvent::RegimeChanged {
                label: sc.regime.label,
            },
            start,
            params,
        )
        .expect("guard");
    let mut out = Outcome {
        min_cash: cash,
        max_positions: params.max_positions(sc.regime.label) as usize,
        ..Outcome::default()
    };
    let mut intent = 0i64;
    let mut now = start;
    while now <= last {
        let hist: BTreeMap<&Market, &[Candle]> = data
            .iter()
            .map(|(m, c)| (m, history(c, now)))
            .filter(|(_, h)| h.len() >= 60)
            .collect();
        let books: BTreeMap<&Market, OrderBook> =
            hist.iter().map(|(m, h)| (*m, book_at(m, h))).collect();
        let marks: BTreeMap<&Market, Price> = hist.iter().map(|(m, h)| (*m, mark_of(h))).collect();
        let equity = cash
            + held
                .iter()
                .map(|h| marks[&h.position.market] * h.position.size)
                .sum::<Krw>();
        guard
            .apply(GuardEvent::EquityMarked { equity }, now, params)
            .expect("guard");

        // Screening.
        let snaps: Vec<MarketSnapshot> = hist
            .iter()
            .map(|(m, h)| MarketSnapshot::from_data((*m).clone(), h, Some(&books[m]), false, now))
            .collect();
        let screening = screen(&snaps, &ev.definition().universe);

        // Scoring: candidates and held markets.
        let leader_signal = hist.get(&leader).map(|h| ev.signal_candles(h, now));
        let cycle = Cycle {
            now,
            regime: sc.regime,
            regime_stale: false,
            leader_candles: leader_signal.as_deref(),
            bandit_weight: None,
        };
        let mut scored: Vec<Market> = screening
            .candidates
            .iter()
            .map(|c| c.market.clone())
            .collect();
        for h in &held {
            if !scored.contains(&h.position.market) {
                scored.push(h.position.market.clone());
            }
        }
        let signal: BTreeMap<Market, Vec<Candle>> = scored
            .into_iter()
            .filter_map(|m| {
                let c = ev.signal_candles(hist.get(&m)?, now);
                Some((m, c))
            })
            .collect();
        let evals: BTreeMap<Market, Evaluation> = signal
            .iter()
            .map(|(m, c)| (m.clone(), ev.evaluate(m, c, &cycle, states.get(m))))
            .collect();
        for (m, e) in &evals {
            states.insert(m.clone(), e.state);
        }
        let returns: Vec<(Market, Vec<f64>)> = signal
            .iter()
            .map(|(m, c)| (m.clone(), log_returns(&c[c.len().saturating_sub(73)..])))
            .collect();
        let series: Vec<(Market, &[f64])> = returns
            .iter()
            .map(|(m, r)| (m.clone(), r.as_slice()))
            .collect();
        let clusters = Clusters::build(&series, params.corr_high);

        // Exits first.
        let mut i = 0;
        while i < held.len() {
            let h = &mut held[i];
            let m = h.position.market.clone();
            let (Some(e), Some(mark)) = (evals.get(&m), marks.get(&m)) else {
                i += 1;
                continue;
            };
            let decision = decide_exit(
                &ExitContext {
                    position: &h.position,
                    initial_stop: h.initial_stop,
                    mark: *mark,
                    atr: e.atr,
                    final_score: e.final_score(),
                    regime: sc.regime.label,
                    stages_done: h.stages_done,
                    panic_reduced: h.panic_reduced,
                },
                ev.definition(),
            );
            out.records.push(ev.exit_record(e, &decision));
            h.position.high_water = decision.high_water;
            if let Some(s) = decision.new_stop {
                h.position.stop_price = s;
            }
            let sold = match decision.action {
                ExitAction::Hold => None,
                ExitAction::Reduce { volume } | ExitAction::Close { volume } => Some(volume),
            };
            if let Some(volume) = sold {
                let proceeds = (*mark * volume).times(Decimal::ONE - FEE);
                let share = h
                    .position
                    .cost_krw
                    .times(volume.get() / h.position.size.get());
                cash += proceeds;
                if decision.take_profit_stage.is_some() {
                    h.stages_done += 1;
                }
                if decision
                    .reason
                    .as_ref()
                    .is_some_and(|r| r.as_str() == "EXIT_PANIC_REDUCE")
                {
                    h.panic_reduced = true;
                }
                let rest = h.position.size.checked_sub(volume).unwrap_or(Volume::ZERO);
                if matches!(decision.action, ExitAction::Close { .. }) || rest.is_zero() {
                    guard
                        .apply(
                            GuardEvent::TradeClosed {
                                market: m,
                                pnl: proceeds - share,
                            },
                            now,
                            params,
                        )
                        .expect("guard");
                    held.remove(i);
                    continue;
                }
                h.position.size = rest;
                h.position.cost_krw -= share;
            }
            i += 1;
        }

        // Entries, best candidate first.
        for cand in &screening.candidates {
            let Some(e) = evals.get(&cand.market) else {
                continue;
            };
            let open: Vec<Position> = held.iter().map(|h| h.position.clone()).collect();
            intent += 1;
            let inputs = EntryInputs {
                equity,
                cash,
                reserved: Krw::ZERO,
                open_positions: &open,
                book: &books[&cand.market],
                clusters: &clusters,
                guard: &guard,
                api: ApiStatus::default(),
                market_status: MarketStatus::default(),
                identifier: OrderIdentifier::for_attempt(
                    TraderId::new(1).expect("id"),
                    "it",
                    intent,
                    0,
                )
                .expect("identifier"),
            };
            let d = ev.decide_entry(e, &inputs);
            if let (Some(order), Some(plan)) = (d.order, d.record.plan.as_ref()) {
                assert_eq!(d.record.action, SignalAction::Enter);
                let o = order.into_inner();
                let (price, volume) = (o.price().expect("limit"), o.volume().expect("volume"));
                let cost = (price * volume).times(Decimal::ONE + FEE);
                cash -= cost;
                // RISK-5 at the moment of entry, counting the new position
                // (clusters are rebuilt every step, so positions entered apart
                // may share a cluster later; the rule governs entries).
                let n = clusters.open_in_cluster(&cand.market, &open) + 1;
                if n > params.max_per_cluster as usize {
                    out.cluster_violations.push(format!(
                        "{now}: entry made {n} in {}'s cluster",
                        cand.market
                    ));
                }
                held.push(Held {
                    position: Position {
                        trader_id: TraderId::new(1).expect("id"),
                        market: cand.market.clone(),
                        open_time: now,
                        avg_entry_price: price,
                        size: volume,
                        cost_krw: cost,
                        stop_price: plan.sizing.stop_price,
                        high_water: price,
                        tags: vec![],
                    },
                    initial_stop: plan.sizing.stop_price,
                    stages_done: 0,
                    panic_reduced: false,
                });
            }
            out.records.push(d.record);
        }

        out.max_open = out.max_open.max(held.len());
        out.min_cash = out.min_cash.min(cash);
        out.evaluations.extend(evals.into_values());
        out.screenings.push(screening);
        now += Duration::minutes(sc.step_minutes);
    }
    out.final_equity = cash
        + held
            .iter()
            .map(|h| {
                let c = &data[&h.position.market];
                mark_of(history(c, now)) * h.position.size
            })
            .sum::<Krw>();
    out
}

/// The regime input used by a scenario.
pub(crate) fn regime(label: RegimeLabel, score: f64) -> Classification {
    Classification { label, score }
}
