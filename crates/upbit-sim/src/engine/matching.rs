//! Matching: a taker walks the merged book (synthetic liquidity and resting
//! client orders, best price first); resting client orders fill when the
//! replayed market trades at or through their price; cancels release funds;
//! self-match prevention per `smp_type`.

use domain::{OrdType, OrderState, Side, TimeInForce};
use rust_decimal::{Decimal, RoundingStrategy};

use super::{Engine, OrderEventKind, OrderTrade, SmpType};
use crate::{
    book::{Book, Level, MAX_LEVELS},
    error::ApiError,
    market::MarketState,
    series::Print,
    wire::Millis,
};

const UNIT: Decimal = Decimal::from_parts(1, 0, 0, false, 8);

fn floor8(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(8, RoundingStrategy::ToZero)
        .normalize()
}

/// Where the next liquidity comes from.
enum Source {
    Synthetic(Level),
    User(Decimal),
}

impl Engine {
    /// The book as Upbit would show it: synthetic levels that would cross a
    /// resting client order are hidden, client orders are added, 30 levels.
    pub fn merged_book(&self, market: usize, m: &mut MarketState) -> Book {
        let syn = m.synthetic_book();
        let Some(ub) = self.books.get(market) else {
            return syn;
        };
        let (ub_bid, ub_ask) = (ub.best(Side::Bid), ub.best(Side::Ask));
        let user_levels = |side: Side| -> Vec<Level> {
            let levels: Box<dyn Iterator<Item = (&Decimal, _)>> = match side {
                Side::Bid => Box::new(ub.bids.iter().rev()),
                Side::Ask => Box::new(ub.asks.iter()),
            };
            levels
                .take(MAX_LEVELS)
                .map(
                    |(p, q): (&Decimal, &std::collections::VecDeque<usize>)| Level {
                        price: *p,
                        size: q
                            .iter()
                            .filter_map(|&o| self.orders.get(o))
                            .map(|o| o.remaining_volume)
                            .sum(),
                    },
                )
                .filter(|l| l.size > Decimal::ZERO)
                .collect()
        };
        let merge = |syn: Vec<Level>, user: Vec<Level>, asc: bool| {
            let mut all: Vec<Level> = syn.into_iter().chain(user).collect();
            all.sort_by(|a, b| {
                if asc {
                    a.price.cmp(&b.price)
                } else {
                    b.price.cmp(&a.price)
                }
            });
            let mut out: Vec<Level> = Vec::with_capacity(MAX_LEVELS);
            for l in all {
                match out.last_mut() {
                    Some(last) if last.price == l.price => last.size += l.size,
                    _ => out.push(l),
                }
            }
            out.truncate(MAX_LEVELS);
            out
        };
        let asks: Vec<Level> = syn
            .asks
            .into_iter()
            .filter(|l| ub_bid.is_none_or(|b| l.price > b))
            .collect();
        let bids: Vec<Level> = syn
            .bids
            .into_iter()
            .filter(|l| ub_ask.is_none_or(|a| l.price < a))
            .collect();
        Book {
            asks: merge(asks, user_levels(Side::Ask), true),
            bids: merge(bids, user_levels(Side::Bid), false),
        }
    }

    /// Runs the taker phase of a freshly placed order and settles its state:
    /// rests a limit remainder, cancels IOC/FOK/market remainders, cancels a
    /// post-only order that would cross.
    pub fn execute(&mut self, oi: usize, m: &mut MarketState, now: Millis) {
        let Some(o) = self.orders.get(oi) else {
            return;
        };
        if o.state.is_final() {
            return;
        }
        let (side, tif, ord_type, market) = (o.side, o.time_in_force, o.ord_type, o.market);
        let limit = self.limit_of(oi);
        match tif {
            Some(TimeInForce::PostOnly) => {
                let book = self.merged_book(market, m);
                let crosses = match side {
                    Side::Bid => book.best_ask().zip(limit).is_some_and(|(a, l)| l >= a),
                    Side::Ask => book.best_bid().zip(limit).is_some_and(|(b, l)| l <= b),
                };
                if crosses {
                    self.finish(oi, OrderState::Cancel, now);
                    return;
                }
            }
            Some(TimeInForce::Fok) => {
                let book = self.merged_book(market, m);
                if !self.fully_fillable(oi, &book) {
                    self.finish(oi, OrderState::Cancel, now);
                    return;
                }
            }
            _ => {}
        }
        if tif != Some(TimeInForce::PostOnly) {
            self.take(oi, m, now);
        }
        let Some(o) = self.orders.get(oi) else {
            return;
        };
        if o.state.is_final() {
            return;
        }
        let filled = if o.funds_based() {
            o.executed_funds >= o.total()
        } else {
            o.remaining_volume.is_zero()
        };
        if filled {
            self.finish(oi, OrderState::Done, now);
        } else if ord_type == OrdType::Limit && tif.is_none_or(|t| t == TimeInForce::PostOnly) {
            let price = o.price.unwrap_or_default();
            self.orders[oi].resting = true;
            if let Some(b) = self.books.get_mut(market) {
                b.insert(side, price, oi);
            }
        } else {
            self.finish(oi, OrderState::Cancel, now);
        }
    }

    /// Worst acceptable price of a taker order (`None` = any).
    fn limit_of(&self, oi: usize) -> Option<Decimal> {
        let o = self.orders.get(oi)?;
        match o.ord_type {
            OrdType::Limit => o.price,
            OrdType::Best => o.best_limit,
            OrdType::Price | OrdType::Market => None,
        }
    }

    fn within(side: Side, price: Decimal, limit: Option<Decimal>) -> bool {
        match (side, limit) {
            (_, None) => true,
            (Side::Bid, Some(l)) => price <= l,
            (Side::Ask, Some(l)) => price >= l,
        }
    }

    /// How much the order can take at `price` from `available`.
    fn take_qty(&self, oi: usize, price: Decimal, available: Decimal) -> Decimal {
        let Some(o) = self.orders.get(oi) else {
            return Decimal::ZERO;
        };
        let want = if o.funds_based() {
            floor8((o.total() - o.executed_funds) / price)
        } else {
            o.remaining_volume
        };
        want.min(available).max(Decimal::ZERO)
    }

    fn fully_fillable(&self, oi: usize, book: &Book) -> bool {
        let Some(o) = self.orders.get(oi) else {
            return false;
        };
        let limit = self.limit_of(oi);
        let levels = match o.side {
            Side::Bid => &book.asks,
            Side::Ask => &book.bids,
        };
        if o.funds_based() {
            let mut left = o.total();
            for l in levels
                .iter()
                .filter(|l| Self::within(o.side, l.price, limit))
            {
                let q = floor8(left / l.price).min(l.size);
                left -= q * l.price;
                if left < l.price * UNIT {
                    return true;
                }
            }
            false
        } else {
            let avail: Decimal = levels
                .iter()
                .filter(|l| Self::within(o.side, l.price, limit))
                .map(|l| l.size)
                .sum();
            avail >= o.remaining_volume
        }
    }

    /// The taker walk over synthetic and client liquidity.
    fn take(&mut self, oi: usize, m: &mut MarketState, now: Millis) {
        let Some(o) = self.orders.get(oi) else {
            return;
        };
        let (side, market) = (o.side, o.market);
        let opp = side.opposite();
        let limit = self.limit_of(oi);
        // Bounded: each iteration fills, cancels or stops.
        for _ in 0..10_000 {
            if self.orders[oi].state.is_final() {
                break;
            }
            let syn = m.synthetic_book();
            let ub = &self.books[market];
            let hidden_by = ub.best(side);
            let syn_level = match opp {
                Side::Ask => syn.asks.first().copied(),
                Side::Bid => syn.bids.first().copied(),
            }
            .filter(|l| match (side, hidden_by) {
                (_, None) => true,
                (Side::Bid, Some(b)) => l.price > b,
                (Side::Ask, Some(a)) => l.price < a,
            });
            let user_best = ub.best(opp);
            let source = match (syn_level, user_best) {
                (Some(s), Some(u)) => {
                    let user_better = match side {
                        Side::Bid => u < s.price,
                        Side::Ask => u > s.price,
                    };
                    if user_better {
                        Source::User(u)
                    } else {
                        Source::Synthetic(s)
                    }
                }
                (Some(s), None) => Source::Synthetic(s),
                (None, Some(u)) => Source::User(u),
                (None, None) => break,
            };
            match source {
                Source::Synthetic(level) => {
                    if !Self::within(side, level.price, limit) {
                        break;
                    }
                    let q = self.take_qty(oi, level.price, level.size);
                    if q.is_zero() {
                        break;
                    }
                    self.fill(oi, level.price, q, false, side, now);
                    m.consume(opp, level.price, q);
                    m.record_trade(now, level.price, q, side);
                }
                Source::User(price) => {
                    if !Self::within(side, price, limit) {
                        break;
                    }
                    if !self.take_user_level(oi, price, m, now) {
                        break;
                    }
                }
            }
        }
    }

    /// Matches against the client orders resting at `price`. False when no
    /// progress was possible.
    fn take_user_level(
        &mut self,
        oi: usize,
        price: Decimal,
        m: &mut MarketState,
        now: Millis,
    ) -> bool {
        let (side, market, taker_account, taker_smp) = {
            let o = &self.orders[oi];
            (o.side, o.market, o.account, o.smp_type)
        };
        let opp = side.opposite();
        let queue: Vec<usize> = match opp {
            Side::Ask => self.books[market].asks.get(&price),
            Side::Bid => self.books[market].bids.get(&price),
        }
        .map(|q| q.iter().copied().collect())
        .unwrap_or_default();
        let mut progressed = false;
        for mi in queue {
            if self.orders[oi].state.is_final() {
                break;
            }
            let maker = &self.orders[mi];
            let q = self.take_qty(oi, price, maker.remaining_volume);
            if q.is_zero() {
                break;
            }
            if maker.account == taker_account
                && let Some(mode) = taker_smp.or(maker.smp_type)
            {
                self.prevent_self_match(mode, oi, mi, q, now);
                progressed = true;
                continue;
            }
            self.fill(mi, price, q, true, side, now);
            self.fill(oi, price, q, false, side, now);
            m.record_trade(now, price, q, side);
            progressed = true;
            if self.orders[mi].remaining_volume.is_zero() {
                self.finish(mi, OrderState::Done, now);
            }
        }
        progressed
    }

    fn prevent_self_match(
        &mut self,
        mode: SmpType,
        taker: usize,
        maker: usize,
        q: Decimal,
        now: Millis,
    ) {
        match mode {
            SmpType::CancelMaker => {
                let all = self.orders[maker].remaining_volume;
                self.prevent(maker, all, now);
            }
            SmpType::CancelTaker => {
                let all = self.orders[taker].remaining_volume;
                self.prevent(taker, all, now);
            }
            SmpType::Reduce => {
                self.prevent(maker, q, now);
                self.prevent(taker, q, now);
            }
        }
    }

    /// Cancels `qty` of an order by self-match prevention (all of it for
    /// orders sized by a KRW total).
    fn prevent(&mut self, oi: usize, qty: Decimal, now: Millis) {
        let o = &mut self.orders[oi];
        if o.funds_based() {
            o.prevented_locked += o.locked;
            o.prevented = true;
            self.finish(oi, OrderState::Cancel, now);
            return;
        }
        let qty = qty.min(o.remaining_volume);
        let old = o.locked;
        o.remaining_volume -= qty;
        o.prevented_volume += qty;
        o.locked = o.required_lock();
        o.remaining_fee = o.required_remaining_fee();
        let released = old - o.locked;
        o.prevented_locked += released;
        let (account, currency) = (o.account, self.lock_currency(oi));
        if let Some(a) = self.accounts.get_mut(account) {
            let b = a.entry(&currency);
            b.locked -= released;
            b.balance += released;
        }
        if self.orders[oi].remaining_volume.is_zero() {
            self.orders[oi].prevented = true;
            self.finish(oi, OrderState::Cancel, now);
        } else {
            self.push_asset_event(account, &[currency.as_str()], now);
        }
    }

    fn lock_currency(&self, oi: usize) -> String {
        match self.orders.get(oi) {
            Some(o) if o.side == Side::Ask => o.base.clone(),
            _ => "KRW".to_owned(),
        }
    }

    /// Applies one fill of `qty` at `price` to an order and its account.
    fn fill(
        &mut self,
        oi: usize,
        price: Decimal,
        qty: Decimal,
        is_maker: bool,
        taker_side: Side,
        now: Millis,
    ) {
        let fees = self.fees;
        let uuid = self.new_uuid();
        let o = &mut self.orders[oi];
        let rate = match (o.side, is_maker) {
            (Side::Bid, false) => fees.bid_fee,
            (Side::Bid, true) => fees.maker_bid_fee,
            (Side::Ask, false) => fees.ask_fee,
            (Side::Ask, true) => fees.maker_ask_fee,
        };
        let funds = price * qty;
        let fee = funds * rate;
        let old_lock = o.locked;
        o.executed_volume += qty;
        o.executed_funds += funds;
        o.paid_fee += fee;
        if !o.funds_based() {
            o.remaining_volume -= qty;
        }
        o.locked = o.required_lock();
        o.remaining_fee = o.required_remaining_fee();
        o.trades.push(OrderTrade {
            uuid,
            price,
            volume: qty,
            funds,
            fee,
            is_maker,
            taker_side,
            ts: now,
        });
        let trade_idx = o.trades.len() - 1;
        let (account, side, base) = (o.account, o.side, o.base.clone());
        let released = old_lock - o.locked;
        if let Some(a) = self.accounts.get_mut(account) {
            match side {
                Side::Bid => {
                    let krw = a.entry("KRW");
                    krw.locked -= released;
                    krw.balance += released - funds - fee;
                    let b = a.entry(&base);
                    let held = b.balance + b.locked;
                    let total = held + qty;
                    b.avg_buy_price = if held.is_zero() || b.avg_buy_price.is_zero() {
                        price
                    } else {
                        ((b.avg_buy_price * held + funds) / total).round_dp(8)
                    }
                    .normalize();
                    b.balance += qty;
                }
                Side::Ask => {
                    let b = a.entry(&base);
                    b.locked -= released;
                    if (b.balance + b.locked).is_zero() {
                        b.avg_buy_price = Decimal::ZERO;
                    }
                    a.entry("KRW").balance += funds - fee;
                }
            }
        }
        self.push_order_event(oi, OrderEventKind::Trade(trade_idx), now);
        self.push_asset_event(account, &["KRW", base.as_str()], now);
    }

    /// Ends an order: releases what it still locks, leaves the book.
    pub fn finish(&mut self, oi: usize, state: OrderState, now: Millis) {
        let currency = self.lock_currency(oi);
        let Some(o) = self.orders.get_mut(oi) else {
            return;
        };
        if o.state.is_final() {
            return;
        }
        let left = o.locked;
        o.locked = Decimal::ZERO;
        o.remaining_fee = Decimal::ZERO;
        o.state = state;
        let (account, side, market, price, resting, prevented) =
            (o.account, o.side, o.market, o.price, o.resting, o.prevented);
        o.resting = false;
        if resting && let (Some(b), Some(p)) = (self.books.get_mut(market), price) {
            b.remove(side, p, oi);
        }
        if let Some(a) = self.accounts.get_mut(account) {
            let b = a.entry(&currency);
            b.locked -= left;
            b.balance += left;
        }
        let kind = match state {
            OrderState::Done => OrderEventKind::Done,
            _ if prevented => OrderEventKind::Prevented,
            _ => OrderEventKind::Cancel,
        };
        self.push_order_event(oi, kind, now);
        if !left.is_zero() {
            self.push_asset_event(account, &[currency.as_str()], now);
        }
    }

    /// Cancels an open order on request.
    pub fn cancel(&mut self, oi: usize, now: Millis) -> Result<(), ApiError> {
        match self.orders.get(oi) {
            Some(o) if !o.state.is_final() => {
                self.finish(oi, OrderState::Cancel, now);
                Ok(())
            }
            _ => Err(ApiError::order_not_found()),
        }
    }

    /// Fills resting client orders against one replayed print: orders the
    /// print went *through* fill completely, orders exactly *at* the print
    /// price fill up to `touch_fill_ratio` of the print's volume (sellers hit
    /// bids, buyers lift asks).
    pub fn on_print(&mut self, market: usize, p: &Print) {
        let Some(book) = self.books.get(market) else {
            return;
        };
        let mut through: Vec<(Decimal, usize)> = Vec::new();
        let mut at: Vec<usize> = Vec::new();
        let bid_prices: Vec<Decimal> = book.bids.range(p.price..).map(|(k, _)| *k).rev().collect();
        let ask_prices: Vec<Decimal> = book.asks.range(..=p.price).map(|(k, _)| *k).collect();
        for price in bid_prices {
            let q = book
                .bids
                .get(&price)
                .map(|q| q.iter().copied().collect::<Vec<_>>())
                .unwrap_or_default();
            if price > p.price {
                through.extend(q.into_iter().map(|o| (price, o)));
            } else if p.taker == Side::Ask {
                at.extend(q);
            }
        }
        for price in ask_prices {
            let q = book
                .asks
                .get(&price)
                .map(|q| q.iter().copied().collect::<Vec<_>>())
                .unwrap_or_default();
            if price < p.price {
                through.extend(q.into_iter().map(|o| (price, o)));
            } else if p.taker == Side::Bid {
                at.extend(q);
            }
        }
        for (price, oi) in through {
            let q = self.orders[oi].remaining_volume;
            if q > Decimal::ZERO {
                self.fill(oi, price, q, true, p.taker, p.ts);
                self.finish(oi, OrderState::Done, p.ts);
            }
        }
        let mut budget = floor8(p.volume * self.limits.touch_fill_ratio);
        for oi in at {
            if budget <= Decimal::ZERO {
                break;
            }
            let q = self.orders[oi].remaining_volume.min(budget);
            if q.is_zero() {
                continue;
            }
            budget -= q;
            self.fill(oi, p.price, q, true, p.taker, p.ts);
            if self.orders[oi].remaining_volume.is_zero() {
                self.finish(oi, OrderState::Done, p.ts);
            }
        }
    }
}
