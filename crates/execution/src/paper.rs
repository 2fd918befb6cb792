//! The PAPER executor: the same orders as LIVE, filled against the live order
//! book and trade prints of the exchange at `UPBIT_API_URL` (real Upbit
//! quotes, or the simulator's), never sent to an order endpoint.
//!
//! Matching follows Upbit's (and the simulator's) rules:
//! * after a simulated `latency`, the order book is read and a marketable
//!   order walks it best level first within its limit (slippage from walking
//!   the book; partial fills when the visible levels run out);
//! * `ioc` cancels the rest, `fok` fills completely or not at all,
//!   `post_only` is cancelled if it would cross, market orders cancel
//!   whatever the book could not fill;
//! * a limit remainder rests and fills from later trade prints: a print
//!   through its price fills it completely, a print exactly at its price
//!   fills up to `touch_fill_ratio` of the print's volume (queue position);
//! * every fill pays `fee_rate` (Upbit KRW: 0.05 %) of its funds.
//!
//! The paper book lives in memory; the trader persists every order and fill
//! like LIVE ones and [`PaperExecutor::restore`]s the open ones after a restart.

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    Armed, Krw, Market, Mode, OrdType, OrderIdentifier, OrderRequest, OrderState, Price, Side,
    TimeInForce, Volume,
};
use risk::RiskApproved;
use rust_decimal::{Decimal, RoundingStrategy};
use upbit::{Orderbook, SharedClock, Trade, UpbitClient, UpbitError, http::query::TradesQuery};

use crate::executor::{AccountBalance, ExecError, ExecOrder, ExecTrade, OrderExecutor, Refusal};

/// PAPER fill model settings.
#[derive(Debug, Clone)]
pub struct PaperConfig {
    /// Fee per fill (Upbit KRW: 0.0005).
    pub fee_rate: Decimal,
    /// Simulated time between sending and the exchange seeing the order.
    pub latency: Duration,
    /// Share of a print's volume that fills orders resting exactly at its price.
    pub touch_fill_ratio: Decimal,
    /// Trade prints read per request while catching up.
    pub prints_per_page: u16,
    /// Pages read at most per catch-up (older prints are skipped with a warning).
    pub max_pages: u32,
}

impl Default for PaperConfig {
    fn default() -> Self {
        Self {
            fee_rate: Decimal::new(5, 4),
            latency: Duration::from_millis(50),
            touch_fill_ratio: Decimal::new(5, 1),
            prints_per_page: 200,
            max_pages: 10,
        }
    }
}

/// Where a resting order has read the tape up to.
type Cursor = (DateTime<Utc>, u64);

#[derive(Debug, Clone)]
struct PaperOrder {
    order: ExecOrder,
    /// Volume still to fill (limit and market sell orders).
    remaining: Volume,
    /// On the book, waiting for prints.
    resting: bool,
    /// Last print considered.
    cursor: Option<Cursor>,
}

/// Fills approved orders on paper. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct PaperExecutor {
    quotes: UpbitClient,
    clock: SharedClock,
    config: PaperConfig,
    book: Mutex<BTreeMap<OrderIdentifier, PaperOrder>>,
    /// When each market's tape was last read (no new prints without time passing).
    read_at: Mutex<BTreeMap<Market, DateTime<Utc>>>,
}

const UNIT: Decimal = Decimal::from_parts(1, 0, 0, false, 8);

fn floor8(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(8, RoundingStrategy::ToZero)
        .normalize()
}

fn quote_err(e: &UpbitError) -> ExecError {
    if e.category() == upbit::ErrorCategory::RateLimited {
        ExecError::RateLimited {
            retry_after: e.retry_after(),
        }
    } else {
        ExecError::Unavailable {
            message: format!("quotes: {e}"),
        }
    }
}

/// A fill while matching: price and volume.
type Take = (Price, Volume);

/// Walks `levels` (best first) for an order; returns the takes.
fn walk(
    levels: &[upbit::OrderbookLevel],
    side: Side,
    limit: Option<Price>,
    mut want_volume: Option<Volume>,
    mut want_funds: Option<Decimal>,
) -> Vec<Take> {
    let mut out = Vec::new();
    for l in levels {
        if let Some(lim) = limit {
            let ok = match side {
                Side::Bid => l.price <= lim,
                Side::Ask => l.price >= lim,
            };
            if !ok {
                break;
            }
        }
        let q = if let Some(funds) = want_funds {
            floor8(funds / l.price.get()).min(l.size.get())
        } else if let Some(v) = want_volume {
            v.get().min(l.size.get())
        } else {
            Decimal::ZERO
        };
        if q <= Decimal::ZERO {
            break;
        }
        let Ok(q) = Volume::new(q) else { break };
        out.push((l.price, q));
        if let Some(f) = want_funds.as_mut() {
            *f -= l.price.get() * q.get();
            if *f < l.price.get() * UNIT {
                break;
            }
        }
        if let Some(v) = want_volume.as_mut() {
            *v = v.checked_sub(q).unwrap_or(Volume::ZERO);
            if v.is_zero() {
                break;
            }
        }
    }
    out
}

impl PaperExecutor {
    /// A paper executor reading quotes through `quotes` (no credential needed).
    pub fn new(quotes: UpbitClient, clock: SharedClock, config: PaperConfig) -> Self {
        Self {
            quotes,
            clock,
            config,
            book: Mutex::new(BTreeMap::new()),
            read_at: Mutex::new(BTreeMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<OrderIdentifier, PaperOrder>> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts an order the trader persisted back on the paper book after a
    /// restart (its recorded fills in `order.trades`). Prints from now on fill it.
    pub async fn restore(&self, order: ExecOrder) -> Result<(), ExecError> {
        let resting = !order.state.is_final() && order.ord_type == OrdType::Limit;
        let remaining = order
            .volume
            .and_then(|v| v.checked_sub(order.executed_volume))
            .unwrap_or(Volume::ZERO);
        let cursor = if resting {
            self.latest_print(&order.market).await?
        } else {
            None
        };
        self.lock().insert(
            order.identifier.clone(),
            PaperOrder {
                order,
                remaining,
                resting,
                cursor,
            },
        );
        Ok(())
    }

    async fn latest_print(&self, market: &Market) -> Result<Option<Cursor>, ExecError> {
        let t = self
            .quotes
            .trades(&TradesQuery::latest(market.clone(), 1))
            .await
            .map_err(|e| quote_err(&e))?;
        Ok(t.first().map(|p| (p.traded_at, p.sequential_id)))
    }

    /// Prints of `market` after `cursor`, oldest first.
    async fn prints_since(&self, market: &Market, cursor: Cursor) -> Result<Vec<Trade>, ExecError> {
        let mut out: Vec<Trade> = Vec::new();
        let mut page_cursor: Option<u64> = None;
        for page in 0..self.config.max_pages.max(1) {
            let q = TradesQuery {
                cursor: page_cursor,
                ..TradesQuery::latest(market.clone(), self.config.prints_per_page)
            };
            let batch = self.quotes.trades(&q).await.map_err(|e| quote_err(&e))?;
            let full = batch.len() >= usize::from(self.config.prints_per_page);
            let oldest = batch
                .iter()
                .min_by_key(|t| (t.traded_at, t.sequential_id))
                .cloned();
            let mut reached = false;
            for t in batch {
                if (t.traded_at, t.sequential_id) > cursor {
                    out.push(t);
                } else {
                    reached = true;
                }
            }
            match oldest {
                Some(o) if !reached && full => page_cursor = Some(o.sequential_id),
                _ => break,
            }
            if page + 1 == self.config.max_pages {
                tracing::warn!(%market, "paper: more prints than one catch-up reads; older ones skipped");
            }
        }
        out.sort_by_key(|t| (t.traded_at, t.sequential_id));
        out.dedup_by_key(|t| t.sequential_id);
        Ok(out)
    }

    fn fill(&self, p: &mut PaperOrder, price: Price, volume: Volume, ts: DateTime<Utc>) {
        let funds = price * volume;
        let fee = funds.times(self.config.fee_rate);
        let trades = p.order.trades.get_or_insert_with(Vec::new);
        let n = trades.len() + 1;
        trades.push(ExecTrade {
            uuid: format!("p{n}-{}", p.order.identifier),
            price,
            volume,
            funds,
            fee: Some(fee),
            ts,
        });
        p.order.executed_volume += volume;
        p.order.executed_funds += funds;
        p.order.paid_fee += fee;
        if p.order.ord_type != OrdType::Price {
            p.remaining = p.remaining.checked_sub(volume).unwrap_or(Volume::ZERO);
        }
    }

    /// Catches the resting orders of `market` up with the tape.
    async fn advance_market(&self, market: &Market) -> Result<(), ExecError> {
        let cursor = {
            let book = self.lock();
            book.values()
                .filter(|p| p.resting && &p.order.market == market)
                .filter_map(|p| p.cursor)
                .min()
        };
        let Some(cursor) = cursor else {
            return Ok(());
        };
        let now = self.clock.now();
        {
            let mut read = self.read_at.lock().unwrap_or_else(PoisonError::into_inner);
            if read.get(market).is_some_and(|t| *t >= now) {
                return Ok(());
            }
            read.insert(market.clone(), now);
        }
        let prints = match self.prints_since(market, cursor).await {
            Ok(p) => p,
            Err(e) => {
                self.read_at
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(market);
                return Err(e);
            }
        };
        let mut book = self.lock();
        for print in &prints {
            let key = (print.traded_at, print.sequential_id);
            let mut budget = floor8(print.volume.get() * self.config.touch_fill_ratio);
            let ids: Vec<OrderIdentifier> = book
                .iter()
                .filter(|(_, p)| p.resting && &p.order.market == market)
                .filter(|(_, p)| p.cursor.is_some_and(|c| key > c))
                .map(|(k, _)| k.clone())
                .collect();
            for id in ids {
                let Some(mut p) = book.remove(&id) else {
                    continue;
                };
                p.cursor = Some(key);
                let limit = p.order.price.unwrap_or(print.price);
                let (through, at) = match p.order.side {
                    Side::Bid => (
                        print.price < limit,
                        print.price == limit && print.taker_side == Side::Ask,
                    ),
                    Side::Ask => (
                        print.price > limit,
                        print.price == limit && print.taker_side == Side::Bid,
                    ),
                };
                let q = if through {
                    p.remaining
                } else if at {
                    let q = p.remaining.get().min(budget);
                    budget -= q;
                    Volume::new(q).unwrap_or(Volume::ZERO)
                } else {
                    Volume::ZERO
                };
                if !q.is_zero() {
                    self.fill(&mut p, limit, q, print.traded_at);
                    if p.remaining.is_zero() {
                        p.resting = false;
                        p.order.state = OrderState::Done;
                    }
                }
                book.insert(id, p);
            }
        }
        Ok(())
    }

    /// Matches a new order against the book and decides its state.
    fn execute(&self, p: &mut PaperOrder, ob: &Orderbook, now: DateTime<Utc>) {
        let (side, ord_type, tif) = (p.order.side, p.order.ord_type, p.order.time_in_force);
        let levels = match side {
            Side::Bid => &ob.asks,
            Side::Ask => &ob.bids,
        };
        let crosses = |limit: Price| match side {
            Side::Bid => ob.best_ask().is_some_and(|a| limit >= a.price),
            Side::Ask => ob.best_bid().is_some_and(|b| limit <= b.price),
        };
        let limit = if ord_type == OrdType::Limit {
            p.order.price
        } else {
            None
        };
        if tif == Some(TimeInForce::PostOnly) {
            if limit.is_some_and(crosses) {
                p.order.state = OrderState::Cancel;
                return;
            }
            p.resting = true;
            return;
        }
        let takes = match ord_type {
            OrdType::Price => walk(levels, side, None, None, p.order.price.map(Price::get)),
            _ => walk(levels, side, limit, Some(p.remaining), None),
        };
        if tif == Some(TimeInForce::Fok) {
            let filled: Decimal = takes.iter().map(|(_, v)| v.get()).sum();
            if filled < p.remaining.get() {
                p.order.state = OrderState::Cancel;
                return;
            }
        }
        for (price, volume) in takes {
            self.fill(p, price, volume, now);
        }
        let done = match ord_type {
            OrdType::Price => p.order.price.is_some_and(|total| {
                let left = total.get() - p.order.executed_funds.get();
                ob.best_ask().is_none_or(|a| left < a.price.get() * UNIT)
            }),
            _ => p.remaining.is_zero(),
        };
        if done {
            p.order.state = OrderState::Done;
        } else if ord_type == OrdType::Limit && tif.is_none() {
            p.resting = true;
        } else {
            p.order.state = OrderState::Cancel;
        }
    }

    /// Places an approved order on paper.
    pub async fn place(&self, order: RiskApproved<OrderRequest>) -> Result<ExecOrder, ExecError> {
        let req = order.into_inner();
        if self.lock().contains_key(req.identifier()) {
            return Err(ExecError::Refused {
                kind: Refusal::Other,
                message: format!("identifier {} was used before", req.identifier()),
            });
        }
        if req.ord_type() == OrdType::Best {
            return Err(ExecError::Refused {
                kind: Refusal::OrderRejected,
                message: "PAPER does not simulate best orders".to_owned(),
            });
        }
        tokio::time::sleep(self.config.latency).await;
        let ob = self
            .quotes
            .orderbook(req.market())
            .await
            .map_err(|e| quote_err(&e))?;
        let now = self.clock.now();
        let mut p = PaperOrder {
            order: ExecOrder {
                uuid: format!("paper-{}", req.identifier()),
                identifier: req.identifier().clone(),
                market: req.market().clone(),
                side: req.side(),
                ord_type: req.ord_type(),
                price: req.price(),
                volume: req.volume(),
                time_in_force: req.time_in_force(),
                state: OrderState::Wait,
                executed_volume: Volume::ZERO,
                executed_funds: Krw::ZERO,
                paid_fee: Krw::ZERO,
                trades: Some(Vec::new()),
                created_at: now,
            },
            remaining: req.volume().unwrap_or(Volume::ZERO),
            resting: false,
            cursor: None,
        };
        self.execute(&mut p, &ob, now);
        if p.resting {
            p.cursor = Some(self.latest_print(req.market()).await?.unwrap_or((now, 0)));
        }
        let out = p.order.clone();
        self.lock().insert(req.identifier().clone(), p);
        Ok(out)
    }

    /// The paper order, caught up with the tape.
    pub async fn get(&self, identifier: &OrderIdentifier) -> Result<Option<ExecOrder>, ExecError> {
        let market = {
            let book = self.lock();
            match book.get(identifier) {
                None => return Ok(None),
                Some(p) if p.resting => Some(p.order.market.clone()),
                Some(_) => None,
            }
        };
        if let Some(m) = market {
            self.advance_market(&m).await?;
        }
        Ok(self.lock().get(identifier).map(|p| p.order.clone()))
    }

    /// Cancels a resting paper order.
    pub async fn cancel_order(&self, identifier: &OrderIdentifier) -> Result<ExecOrder, ExecError> {
        let market = self
            .lock()
            .get(identifier)
            .filter(|p| p.resting)
            .map(|p| p.order.market.clone());
        let Some(market) = market else {
            return Err(ExecError::NotFound {
                identifier: identifier.to_string(),
            });
        };
        // Prints up to now still count (a cancel is not retroactive).
        self.advance_market(&market).await?;
        let mut book = self.lock();
        let p = book
            .get_mut(identifier)
            .ok_or_else(|| ExecError::NotFound {
                identifier: identifier.to_string(),
            })?;
        if p.resting {
            p.resting = false;
            p.order.state = OrderState::Cancel;
        }
        Ok(p.order.clone())
    }

    fn list(&self, prefix: &str, open: bool) -> Vec<ExecOrder> {
        self.lock()
            .values()
            .filter(|p| p.order.identifier.as_str().starts_with(prefix))
            .filter(|p| p.resting == open)
            .map(|p| p.order.clone())
            .collect()
    }
}

#[async_trait]
impl OrderExecutor for PaperExecutor {
    fn mode(&self) -> Mode {
        Mode::Paper
    }

    async fn submit(
        &self,
        _armed: Option<Armed>,
        order: RiskApproved<OrderRequest>,
    ) -> Result<ExecOrder, ExecError> {
        self.place(order).await
    }

    async fn fetch(&self, identifier: &OrderIdentifier) -> Result<Option<ExecOrder>, ExecError> {
        self.get(identifier).await
    }

    async fn cancel(&self, identifier: &OrderIdentifier) -> Result<ExecOrder, ExecError> {
        self.cancel_order(identifier).await
    }

    async fn open_orders(&self, prefix: &str) -> Result<Vec<ExecOrder>, ExecError> {
        Ok(self.list(prefix, true))
    }

    async fn closed_orders(
        &self,
        prefix: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<ExecOrder>, ExecError> {
        Ok(self
            .list(prefix, false)
            .into_iter()
            .filter(|o| o.created_at >= since)
            .collect())
    }

    async fn balances(&self) -> Result<Vec<AccountBalance>, ExecError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests;
