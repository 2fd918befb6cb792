//! The per-minute pipeline (SPEC §11): screener → regime → scores → risk →
//! executor → position manager, at the minute boundary `t` (every decision
//! of a cycle is made "as of" `t`, so a replay gives the same decisions).
//!
//! Exits run before entries (they free budget and are always allowed:
//! PANIC and the kill switch block entries, never exits). Buying a coin
//! that is already held opens another lot (FIX-6). Every entry decision
//! (ENTER / REFUSED with its reasons) and every exit (EXIT / REDUCE) is
//! written to `signals`; an equity point ends the cycle.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use domain::{
    MIN_ORDER_TOTAL_KRW, Market, Mode, OrderRequest, Price, Side, TimeInForce, Volume,
    tick::{round_price, tick_size},
};
use indicators::Candle;
use risk::{ApiStatus, Clusters, GuardEvent, MarketStatus, OrderBook, approve_exit};
use rust_decimal::Decimal;
use serde_json::json;
use storage::{
    events::EventLevel, positions::PositionEventKind, signals::NewSignal, trades::EquitySnapshot,
};
use strategy::{
    Cycle, EntryInputs, EntryStyle, Evaluation, ExitAction, ExitContext, MarketSnapshot,
    ScoreSignal, SignalRecord, decide_exit, screen, screener::minute_volatility,
};

use crate::{
    ai,
    app::Trader,
    error::StepError,
    market::RegimeView,
    orders::{AttemptOutcome, Effects, Part, Purpose},
    portfolio::{EntryMeta, ExitMeta},
};

/// Attempts per order before giving up for this cycle (RUN-1 counts each failure).
const MAX_ATTEMPTS: usize = 3;
/// Signal candles the correlation clusters look back over.
const CORR_BARS: usize = 73;

fn log_returns(c: &[Candle]) -> Vec<f64> {
    c.windows(2)
        .map(|w| (w[1].close / w[0].close).ln())
        .collect()
}

/// The tranche prices and volumes of an entry (EXE-1: limit first, optional
/// split, IOC / post-only).
pub fn tranches(
    style: EntryStyle,
    split: u32,
    price: Price,
    volume: Volume,
) -> Vec<(Price, Volume, Option<TimeInForce>)> {
    let step_down =
        |p: Price| -> Price { round_price(p.get() - tick_size(p.get()), Side::Bid).unwrap_or(p) };
    let first_price = match style {
        EntryStyle::PostOnly => step_down(price),
        EntryStyle::Limit | EntryStyle::Ioc => price,
    };
    let first_tif = match style {
        EntryStyle::Limit => None,
        EntryStyle::Ioc => Some(TimeInForce::Ioc),
        EntryStyle::PostOnly => Some(TimeInForce::PostOnly),
    };
    let min = Decimal::from(MIN_ORDER_TOTAL_KRW);
    let mut n = split.max(1);
    while n > 1 && price.get() * volume.get() / Decimal::from(n) < min * Decimal::TWO {
        n -= 1;
    }
    let each = Volume::floor_from(volume.get() / Decimal::from(n));
    let mut out = Vec::with_capacity(n as usize);
    let mut left = volume;
    let mut p = first_price;
    for k in 0..n {
        let v = if k + 1 == n { left } else { each };
        left = left.checked_sub(v).unwrap_or(Volume::ZERO);
        if k == 0 {
            out.push((p, v, first_tif));
        } else {
            p = step_down(p);
            out.push((p, v, Some(TimeInForce::PostOnly)));
        }
    }
    out
}

impl Trader {
    async fn signal(&self, rec: &SignalRecord) -> Result<(), StepError> {
        let mut scores = serde_json::to_value(rec).unwrap_or_else(|_| json!({}));
        // What the record alone does not say: the AI MODE model run and the
        // bandit draw behind `bandit_weight` (the learning contract).
        if let Some(o) = scores.as_object_mut() {
            o.insert(
                "model_version_id".to_owned(),
                json!(self.model.map(|(m, _)| m)),
            );
            if let Some(b) = &self.bandit {
                o.insert("bandit".to_owned(), json!(b));
            }
        }
        self.store
            .signals()
            .append(&NewSignal {
                trader_id: self.id,
                market: rec.market.clone(),
                ts: rec.ts,
                total_score: if rec.total_score.is_finite() {
                    rec.total_score
                } else {
                    0.0
                },
                scores,
                regime: Some(rec.regime.label),
                action: rec.action,
                reason_codes: rec.reason_codes.clone(),
            })
            .await?;
        Ok(())
    }

    /// OPT-4: the bandit weight of this trader's strategy in the current
    /// regime for the cycle at `t` (see `crate::ai`). A stored posterior
    /// that does not validate is reported once and weighs 1.
    async fn bandit_pick(
        &mut self,
        regime: &RegimeView,
        t: DateTime<Utc>,
    ) -> Result<Option<ai::BanditPick>, StepError> {
        let label = regime.present.then_some(regime.classification.label);
        let strategy = self.row.strategy_id;
        let state = match label {
            Some(l) => {
                self.store
                    .bandit_states()
                    .get(&ai::arm(strategy), l)
                    .await?
            }
            None => None,
        };
        match ai::bandit_weight(self.id, strategy, label, state.as_ref(), t) {
            Ok(p) => Ok(Some(p)),
            Err(e) => {
                if !self.bandit_warned {
                    self.bandit_warned = true;
                    self.journal
                        .note(
                            t,
                            EventLevel::Warn,
                            "BANDIT_STATE_INVALID",
                            format!(
                                "the bandit state of {} is unusable ({e}); its weight is 1 until it is fixed",
                                ai::arm(strategy)
                            ),
                            json!({"arm": ai::arm(strategy), "regime": label}),
                        )
                        .await;
                }
                Ok(None)
            }
        }
    }

    /// The ARM proof right before an order (FIX-8): the row is re-read.
    async fn fresh_armed(&mut self) -> Result<Option<domain::Armed>, StepError> {
        if self.mode == Mode::Paper {
            return Ok(None);
        }
        if let Some(row) = self.store.traders().get(self.id).await? {
            self.row = row;
        }
        Ok(self.armed())
    }

    /// One cycle at minute boundary `t`.
    pub(crate) async fn cycle(&mut self, t: DateTime<Utc>) -> Result<(), StepError> {
        let r = self.cycle_steps(t).await;
        if matches!(r, Err(ref e) if e.is_db()) {
            return r;
        }
        // The minute's equity point is written even when the exchange failed
        // (the chart has no holes; marks fall back to the last ones known).
        let marks = self.last_marks.clone();
        let equity = self.port.equity(&marks);
        self.store
            .equity()
            .append(&EquitySnapshot {
                trader_id: self.id,
                ts: t,
                equity,
                cash: self.port.cash.cash,
            })
            .await?;
        self.persist_safety(t).await;
        if self.backoff_until.is_some_and(|u| u <= t) {
            self.backoff_until = None;
            self.backoff_level = self.backoff_level.saturating_sub(1);
        }
        r
    }

    async fn cycle_steps(&mut self, t: DateTime<Utc>) -> Result<(), StepError> {
        let def = self.evaluator.definition().clone();
        let params = def.risk.clone();
        self.market.refresh_listings(t).await?;
        self.market.refresh_candles(&self.store, t).await?;
        let regime = self.market.regime(&self.store, t).await?;
        self.adopt_operator_safety(t).await?;
        self.guard_event(GuardEvent::Tick, t, &params).await;
        if regime.present && !regime.stale {
            self.guard_event(
                GuardEvent::RegimeChanged {
                    label: regime.classification.label,
                },
                t,
                &params,
            )
            .await;
        }

        // OPT-4: this cycle's bandit weight for the strategy in the regime.
        let bandit = self.bandit_pick(&regime, t).await?;
        let bandit_weight = bandit.as_ref().map(|b| b.weight);
        self.bandit = bandit;

        // Screener input: listed markets with enough history, the most
        // traded first. A first pass screens them on what the database
        // says (traded value, volatility, warnings) with the book assumed to
        // pass; the book filters (spread, depth) run in the second pass on
        // the few that are about to trade, so order books are read only for
        // those and for held markets, in one request.
        let need = self.evaluator.required_1m_candles();
        let held: BTreeSet<Market> = self.port.held().into_keys().collect();
        let mut ranked: Vec<(Market, f64)> = self
            .market
            .markets()
            .into_iter()
            .filter(|m| self.market.candles(m).len() >= need.min(60))
            .map(|m| {
                let v = self.market.value_24h(&m, t);
                (m, v)
            })
            .filter(|(_, v)| *v >= def.universe.min_value_24h_krw)
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        // RUN-3: while backing off from a rate limit the screener and the
        // scores rest; only held markets are read (exits are never paused).
        if self.backoff_until.is_some_and(|u| u > t) {
            ranked.clear();
        }
        let snapshot = |m: &Market, v: f64, book: Option<&OrderBook>| {
            let (spread, avg_depth5) = match book {
                Some(b) => (
                    b.spread().unwrap_or(f64::NAN),
                    b.ask_depth_avg(risk::checks::DEPTH_LEVELS).to_f64_lossy(),
                ),
                // Not read yet: passes the book filters of the first pass.
                None => (0.0, def.universe.min_avg_depth5_krw.max(1.0)),
            };
            MarketSnapshot {
                market: m.clone(),
                value_24h: v,
                spread,
                avg_depth5,
                volatility: minute_volatility(&self.market.candles(m)),
                warning: self.market.warned(m),
            }
        };
        let first: Vec<MarketSnapshot> = ranked
            .iter()
            .take(def.universe.top_n * 2)
            .map(|(m, v)| snapshot(m, *v, None))
            .collect();
        let prescreen = screen(&first, &def.universe);

        // Scores for the pre-screened markets and held markets.
        let leader = self
            .evaluator
            .signal_candles(&self.market.candles(&def.leader), t);
        let cycle = Cycle {
            now: t,
            regime: regime.classification,
            regime_stale: regime.stale,
            leader_candles: (!leader.is_empty()).then_some(leader.as_slice()),
            bandit_weight,
        };
        let mut scored: BTreeSet<Market> = prescreen
            .candidates
            .iter()
            .map(|c| c.market.clone())
            .collect();
        scored.extend(held.iter().cloned());
        let mut evals: BTreeMap<Market, Evaluation> = BTreeMap::new();
        let mut returns: Vec<(Market, Vec<f64>)> = Vec::new();
        for m in scored {
            let signal = self.evaluator.signal_candles(&self.market.candles(&m), t);
            let e = self
                .evaluator
                .evaluate(&m, &signal, &cycle, self.scores.get(&m));
            self.scores.insert(m.clone(), e.state);
            returns.push((
                m.clone(),
                log_returns(&signal[signal.len().saturating_sub(CORR_BARS)..]),
            ));
            evals.insert(m, e);
        }
        let series: Vec<(Market, &[f64])> = returns
            .iter()
            .map(|(m, r)| (m.clone(), r.as_slice()))
            .collect();
        let clusters = Clusters::build(&series, params.corr_high);

        // About to trade: pre-screened markets whose final score says ENTRY
        // (what `decide_entry` acts on), when orders can be sent at all and
        // no buy is open there.
        let entering = self.can_send();
        let trading: Vec<(Market, f64)> = prescreen
            .candidates
            .iter()
            .filter(|_| entering)
            .filter(|c| !self.om.has_open(&c.market, Side::Bid))
            .filter(|c| {
                evals
                    .get(&c.market)
                    .is_some_and(|e| e.signal() == ScoreSignal::Entry)
            })
            .map(|c| (c.market.clone(), c.value_24h))
            .collect();
        let mut look: BTreeSet<Market> = trading.iter().map(|(m, _)| m.clone()).collect();
        look.extend(held.iter().cloned());
        let look: Vec<Market> = look.into_iter().collect();
        let books: BTreeMap<Market, OrderBook> = self.market.books(&look).await?;
        let second: Vec<MarketSnapshot> = trading
            .iter()
            .filter_map(|(m, v)| books.get(m).map(|b| snapshot(m, *v, Some(b))))
            .collect();
        let screening = screen(&second, &def.universe);

        // Marks and equity.
        let marks = self.marks(&books, &held);
        self.last_marks.clone_from(&marks);
        let equity = self.port.equity(&marks);
        self.guard_event(GuardEvent::EquityMarked { equity }, t, &params)
            .await;

        let mut fx = Effects::default();
        let result = async {
            self.manage_positions(t, &evals, &books, &regime, &mut fx)
                .await?;
            self.enter(t, &screening.candidates, &evals, &books, &clusters, &mut fx)
                .await
        }
        .await;
        self.after_effects(fx, t).await;
        result?;

        // Records of the cycle.
        let marks = self.marks(&books, &held);
        for lot in self.port.lots.values() {
            if let (Some(id), Some(m)) = (lot.position_id, marks.get(&lot.market)) {
                self.store.positions().mark(id, *m).await?;
            }
        }
        self.last_marks = marks;
        Ok(())
    }

    /// Best bids of held markets (the last close, snapped, without a book).
    fn marks(
        &self,
        books: &BTreeMap<Market, OrderBook>,
        held: &BTreeSet<Market>,
    ) -> BTreeMap<Market, Price> {
        held.iter()
            .filter_map(|m| {
                let p = books.get(m).and_then(OrderBook::best_bid).or_else(|| {
                    self.market
                        .last_close(m)
                        .and_then(|c| Decimal::try_from(c).ok())
                        .and_then(|d| round_price(d, Side::Bid).ok())
                })?;
                Some((m.clone(), p))
            })
            .collect()
    }

    /// POS-1: stop-loss, take-profit scale-outs, trailing stop, exit on a
    /// low score, the PANIC reduction (REG-4), liquidation on the kill
    /// switch when the operator asked for it (RUN-4).
    async fn manage_positions(
        &mut self,
        t: DateTime<Utc>,
        evals: &BTreeMap<Market, Evaluation>,
        books: &BTreeMap<Market, OrderBook>,
        regime: &RegimeView,
        fx: &mut Effects,
    ) -> Result<(), StepError> {
        let def = self.evaluator.definition().clone();
        let families: Vec<i64> = self.port.lots.keys().copied().collect();
        let liquidate = self.liquidate();
        for fam in families {
            let Some(lot) = self.port.lots.get(&fam).cloned() else {
                continue;
            };
            let (Some(eval), Some(book)) = (evals.get(&lot.market), books.get(&lot.market)) else {
                continue;
            };
            let Some(mark) = book.best_bid() else {
                continue;
            };
            let Some(position) = lot.position(self.id) else {
                continue;
            };
            let mut decision = decide_exit(
                &ExitContext {
                    position: &position,
                    initial_stop: lot.meta.initial_stop,
                    mark,
                    atr: eval.atr,
                    final_score: eval.final_score(),
                    regime: regime.classification.label,
                    stages_done: lot.meta.stages_done,
                    panic_reduced: lot.meta.panic_reduced,
                },
                &def,
            );
            if liquidate {
                decision.action = ExitAction::Close {
                    volume: position.size,
                };
                decision.reason = Some(domain::ReasonCode::new_static("EXIT_KILL_SWITCH"));
                decision.take_profit_stage = None;
            }
            // Trailing stop / high-water: kept in memory, written when the stop moves.
            if let Some(l) = self.port.lots.get_mut(&fam) {
                l.meta.high_water = l.meta.high_water.max(decision.high_water);
                if let Some(s) = decision.new_stop
                    && s > l.meta.stop
                {
                    l.meta.stop = s;
                    if let (Some(id), Some(p)) = (l.position_id, l.position(self.id)) {
                        self.store
                            .positions()
                            .update(id, &p, PositionEventKind::Update, t)
                            .await?;
                    }
                }
            }
            let volume = match decision.action {
                ExitAction::Hold => continue,
                ExitAction::Reduce { volume } | ExitAction::Close { volume } => volume,
            };
            if self.om.has_open_exit(fam) || !self.can_send() {
                continue;
            }
            self.signal(&self.evaluator.exit_record(eval, &decision))
                .await?;
            let meta = ExitMeta {
                take_profit_stage: decision.take_profit_stage,
                panic: decision
                    .reason
                    .as_ref()
                    .is_some_and(|r| r.as_str() == "EXIT_PANIC_REDUCE"),
            };
            self.exit(t, fam, volume, mark, meta, fx).await?;
        }
        Ok(())
    }

    /// Sells `volume` of lot `fam`: a limit IOC at the best bid first, then
    /// the unfilled rest at market (EXE-1), each attempt approved by
    /// `risk::approve_exit`; failed attempts count for RUN-1.
    async fn exit(
        &mut self,
        t: DateTime<Utc>,
        fam: i64,
        volume: Volume,
        bid: Price,
        meta: ExitMeta,
        fx: &mut Effects,
    ) -> Result<(), StepError> {
        let params = self.evaluator.definition().risk.clone();
        let mut left = volume;
        let mut market_rest = false;
        for _ in 0..MAX_ATTEMPTS {
            let Some(lot) = self.port.lots.get(&fam).cloned() else {
                return Ok(());
            };
            let Some(position) = lot.position(self.id) else {
                return Ok(());
            };
            left = left.min(position.size);
            if left.is_zero() || (bid * left).get() < Decimal::from(MIN_ORDER_TOTAL_KRW) {
                return Ok(());
            }
            let market = lot.market.clone();
            let provisional = self
                .om
                .provisional()
                .map_err(|e| StepError::Mismatch(e.to_string()))?;
            let (order, build): (OrderRequest, Part) = if market_rest {
                let m = market.clone();
                let v = left;
                (
                    OrderRequest::market_sell(market.clone(), left, bid, provisional)
                        .map_err(|e| StepError::Mismatch(e.to_string()))?,
                    Part {
                        build: Box::new(move |id| OrderRequest::market_sell(m.clone(), v, bid, id)),
                    },
                )
            } else {
                let m = market.clone();
                let v = left;
                (
                    OrderRequest::limit(
                        market.clone(),
                        Side::Ask,
                        bid,
                        left,
                        Some(TimeInForce::Ioc),
                        provisional,
                    )
                    .map_err(|e| StepError::Mismatch(e.to_string()))?,
                    Part {
                        build: Box::new(move |id| {
                            OrderRequest::limit(
                                m.clone(),
                                Side::Ask,
                                bid,
                                v,
                                Some(TimeInForce::Ioc),
                                id,
                            )
                        }),
                    },
                )
            };
            let approved = match approve_exit(order, &position) {
                Ok(a) => a,
                Err(r) => {
                    tracing::warn!(%market, refusal = %r, "exit not approved");
                    return Ok(());
                }
            };
            let armed = self.fresh_armed().await?;
            if !self.can_send() {
                return Ok(());
            }
            let before = position.size;
            let (_, outcomes) = self
                .om
                .place(
                    armed,
                    &mut self.port,
                    Some(fam),
                    vec![build],
                    approved,
                    Purpose::Exit(meta),
                    Some(bid),
                    self.clock.now(),
                    fx,
                )
                .await?;
            match outcomes.first() {
                Some(AttemptOutcome::Placed) => {
                    self.guard_event(
                        GuardEvent::OrderSucceeded {
                            market: market.clone(),
                        },
                        t,
                        &params,
                    )
                    .await;
                    let after = self
                        .port
                        .lots
                        .get(&fam)
                        .map_or(Volume::ZERO, |l| l.state.size);
                    let sold = before.checked_sub(after).unwrap_or(Volume::ZERO);
                    left = left.checked_sub(sold).unwrap_or(Volume::ZERO);
                    if left.is_zero() || self.om.has_open_exit(fam) {
                        return Ok(());
                    }
                    market_rest = true;
                }
                Some(AttemptOutcome::Unknown) | None => return Ok(()),
                Some(AttemptOutcome::Failed { retryable, .. }) => {
                    let tr = self.guard.record_order_failure(market.clone(), t, &params);
                    for e in &tr.effects {
                        self.log_guard_effect(e, t).await;
                    }
                    if !retryable {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// Entries for the screened candidates, best first.
    async fn enter(
        &mut self,
        t: DateTime<Utc>,
        candidates: &[strategy::Candidate],
        evals: &BTreeMap<Market, Evaluation>,
        books: &BTreeMap<Market, OrderBook>,
        clusters: &Clusters,
        fx: &mut Effects,
    ) -> Result<(), StepError> {
        if !self.can_send() {
            return Ok(());
        }
        let backoff = self.backoff_until.is_some_and(|u| u > t);
        let def = self.evaluator.definition().clone();
        let params = def.risk.clone();
        for cand in candidates {
            let m = &cand.market;
            let (Some(eval), Some(book)) = (evals.get(m), books.get(m)) else {
                continue;
            };
            if self.om.has_open(m, Side::Bid) {
                continue;
            }
            for _ in 0..MAX_ATTEMPTS {
                let marks: BTreeMap<Market, Price> = self
                    .port
                    .lots
                    .values()
                    .filter_map(|l| {
                        books
                            .get(&l.market)
                            .and_then(OrderBook::best_bid)
                            .map(|p| (l.market.clone(), p))
                    })
                    .collect();
                let equity = self.port.equity(&marks);
                let positions = self.port.positions();
                let provisional = self
                    .om
                    .provisional()
                    .map_err(|e| StepError::Mismatch(e.to_string()))?;
                let inputs = EntryInputs {
                    equity,
                    cash: self.port.cash.cash,
                    reserved: self.om.reserved(),
                    open_positions: &positions,
                    book,
                    clusters,
                    guard: &self.guard,
                    api: ApiStatus {
                        api_ok: !self.guard.api_failing(),
                        rate_limit_ok: !backoff,
                    },
                    market_status: MarketStatus {
                        exchange_maintenance: false,
                        market_warning: self.market.warned(m),
                        trading_suspended: false,
                    },
                    identifier: provisional,
                };
                let decision = self.evaluator.decide_entry(eval, &inputs);
                if decision.record.action != domain::SignalAction::Hold {
                    self.signal(&decision.record).await?;
                }
                let (Some(order), Some(plan)) = (decision.order, decision.record.plan.as_ref())
                else {
                    break;
                };
                let sizing = &plan.sizing;
                let parts: Vec<Part> = tranches(
                    def.execution.entry_style,
                    def.execution.split_entries,
                    sizing.entry_price,
                    sizing.volume,
                )
                .into_iter()
                .map(|(p, v, tif)| {
                    let market = m.clone();
                    Part {
                        build: Box::new(move |id| {
                            OrderRequest::limit(market.clone(), Side::Bid, p, v, tif, id)
                        }),
                    }
                })
                .collect();
                let armed = self.fresh_armed().await?;
                if !self.can_send() {
                    return Ok(());
                }
                let (_, outcomes) = self
                    .om
                    .place(
                        armed,
                        &mut self.port,
                        None,
                        parts,
                        order,
                        Purpose::Entry(Some(EntryMeta {
                            stop: sizing.stop_price,
                        })),
                        Some(sizing.entry_price),
                        self.clock.now(),
                        fx,
                    )
                    .await?;
                let failed = outcomes.iter().find_map(|o| match o {
                    AttemptOutcome::Failed { retryable, .. } => Some(*retryable),
                    _ => None,
                });
                match failed {
                    None => {
                        self.guard_event(
                            GuardEvent::OrderSucceeded { market: m.clone() },
                            t,
                            &params,
                        )
                        .await;
                        break;
                    }
                    Some(retryable) => {
                        let tr = self.guard.record_order_failure(m.clone(), t, &params);
                        for e in &tr.effects {
                            self.log_guard_effect(e, t).await;
                        }
                        if !retryable
                            || self.guard.blacklisted_until(m, t).is_some()
                            || fx.rate_limited
                        {
                            break;
                        }
                    }
                }
            }
            if fx.rate_limited {
                self.journal
                    .note(
                        t,
                        EventLevel::Info,
                        "ENTRIES_PAUSED",
                        "rate limited: remaining entries skipped this cycle",
                        json!({}),
                    )
                    .await;
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn p(v: Decimal) -> Price {
        Price::new(v).unwrap()
    }

    fn v(x: Decimal) -> Volume {
        Volume::new(x).unwrap()
    }

    #[test]
    fn tranches_split_price_and_volume() {
        // one tranche, limit at the ask
        let t = tranches(EntryStyle::Limit, 1, p(dec!(1000)), v(dec!(30)));
        assert_eq!(t, vec![(p(dec!(1000)), v(dec!(30)), None)]);
        // post-only one tick under the ask
        let t = tranches(EntryStyle::PostOnly, 1, p(dec!(1000)), v(dec!(30)));
        assert_eq!(t[0].0, p(dec!(999)));
        assert_eq!(t[0].2, Some(TimeInForce::PostOnly));
        // three tranches; volumes add up exactly; later ones rest lower, post-only
        let t = tranches(EntryStyle::Ioc, 3, p(dec!(1000)), v(dec!(100)));
        assert_eq!(t.len(), 3);
        assert_eq!(
            t[0],
            (p(dec!(1000)), v(dec!(33.33333333)), Some(TimeInForce::Ioc))
        );
        assert_eq!(t[1].0, p(dec!(999)));
        assert_eq!(t[2].0, p(dec!(998)));
        let sum = t.iter().fold(Volume::ZERO, |a, x| a + x.1);
        assert_eq!(sum, v(dec!(100)));
        // too small to split: one tranche
        let t = tranches(EntryStyle::Limit, 5, p(dec!(1000)), v(dec!(12)));
        assert_eq!(t.len(), 1);
        // orders stay above the minimum total
        for (price, vol, _) in tranches(EntryStyle::Limit, 5, p(dec!(1000)), v(dec!(50))) {
            assert!((price * vol).get() >= Decimal::from(MIN_ORDER_TOTAL_KRW));
        }
    }
}
