//! The simulated exchange as one value: markets, the engine, the synthetic
//! generator, delayed actions (fault injection), the admin order log, and
//! the stream events each change produces. Guarded by one mutex in the server.

use std::collections::HashMap;

use domain::{OrderState, Side};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    engine::{
        Engine, EngineEvent, OrderEventKind,
        create::{OrderInput, Released},
    },
    error::ApiError,
    market::MarketState,
    series::Print,
    synthetic::Generator,
    views,
    wire::{Millis, day_start, kst_seconds},
};

/// A stream event, rendered once and fanned out to WebSocket sessions.
#[derive(Debug, Clone)]
pub enum Broadcast {
    /// A `trade` message (DEFAULT keys, stream type set by the session).
    Trade {
        /// Market code.
        code: String,
        /// Message body.
        body: Value,
    },
    /// A `ticker` message.
    Ticker {
        /// Market code.
        code: String,
        /// Message body.
        body: Value,
    },
    /// The book changed; sessions render their depth and level.
    Orderbook {
        /// Market code.
        code: String,
        /// The merged book.
        book: crate::book::Book,
        /// Time.
        ts: Millis,
    },
    /// Candles of this market changed.
    CandleTick {
        /// Market index.
        market: usize,
    },
    /// A `myOrder` message.
    MyOrder {
        /// Account index.
        account: usize,
        /// Market code.
        code: String,
        /// Message body.
        body: Value,
    },
    /// A `myAsset` message.
    MyAsset {
        /// Account index.
        account: usize,
        /// Message body.
        body: Value,
    },
}

/// One create attempt as seen by the admin API (`GET /_sim/orders`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Sequence number.
    pub seq: u64,
    /// Sim time (KST text).
    pub received_at: String,
    /// The claimed access key, if any.
    pub access_key: Option<String>,
    /// `POST /v1/orders`, `POST /v1/orders/test`, `POST /v1/orders/cancel_and_new`.
    pub endpoint: String,
    /// Parameters as received.
    pub params: Vec<(String, String)>,
    /// HTTP status answered.
    pub status: u16,
    /// Error name when rejected.
    pub error: Option<String>,
    /// The order uuid when created.
    pub uuid: Option<String>,
}

/// A delayed action (fill or cancel delay faults).
#[derive(Debug, Clone)]
enum Pending {
    Execute {
        due: Millis,
        order: usize,
    },
    Cancel {
        due: Millis,
        order: usize,
    },
    Replace {
        due: Millis,
        old: usize,
        new: Box<crate::engine::Order>,
    },
}

impl Pending {
    fn due(&self) -> Millis {
        match self {
            Self::Execute { due, .. } | Self::Cancel { due, .. } | Self::Replace { due, .. } => {
                *due
            }
        }
    }
}

/// Trade messages kept per market and step (older ones of a long step are dropped).
const MAX_TRADES_PER_STEP: usize = 100;

/// Markets, engine and everything that changes with time.
#[derive(Debug)]
pub struct World {
    /// Markets in listing order.
    pub markets: Vec<MarketState>,
    index: HashMap<String, usize>,
    /// The exchange core.
    pub engine: Engine,
    generator: Option<Generator>,
    pending: Vec<Pending>,
    /// Every create attempt.
    pub order_log: Vec<LogEntry>,
    day_sides: Vec<Option<(Millis, Decimal, Decimal)>>,
    dirty: bool,
}

impl World {
    /// A world over `markets` (and the generator that extends them, if synthetic).
    pub fn new(markets: Vec<MarketState>, engine: Engine, generator: Option<Generator>) -> Self {
        let index = markets
            .iter()
            .enumerate()
            .map(|(i, m)| (m.info.market.as_str().to_owned(), i))
            .collect();
        let n = markets.len();
        Self {
            markets,
            index,
            engine,
            generator,
            pending: Vec::new(),
            order_log: Vec::new(),
            day_sides: vec![None; n],
            dirty: false,
        }
    }

    /// Index of a market code.
    pub fn market_index(&self, code: &str) -> Option<usize> {
        self.index.get(code).copied()
    }

    /// Takes the "state changed" flag (for the state file writer).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// Marks the state as changed.
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Grows synthetic markets so they cover `now`.
    fn extend_synthetic(&mut self, now: Millis) {
        let Some(g) = self.generator.as_mut() else {
            return;
        };
        while g.next_start() <= now {
            let bars = g.next_minute();
            for (m, bar) in self.markets.iter_mut().zip(bars) {
                m.series.extend([bar]);
            }
        }
    }

    /// Moves the world to sim time `now` (wall time `wall` for delayed
    /// actions). Returns stream events when `streams` is set.
    pub fn advance(&mut self, now: Millis, wall: Millis, streams: bool) -> Vec<Broadcast> {
        self.extend_synthetic(now);
        let mut out = Vec::new();
        let mut prints: Vec<Print> = Vec::new();
        for i in 0..self.markets.len() {
            prints.clear();
            self.markets[i].advance(now, &mut prints);
            if prints.is_empty() {
                continue;
            }
            for p in &prints {
                self.engine.on_print(i, p);
                self.count_side(i, p);
            }
            if streams {
                let skip = prints.len().saturating_sub(MAX_TRADES_PER_STEP);
                for p in &prints[skip..] {
                    out.push(self.trade_event(i, p, now));
                }
                out.extend(self.quote_events(i, now));
            }
        }
        self.run_pending(now, wall);
        self.collect_engine_events(streams, &mut out);
        out
    }

    fn count_side(&mut self, i: usize, p: &Print) {
        if let Some(slot) = self.day_sides.get_mut(i) {
            match slot {
                Some((d, a, b)) if *d == day_start(p.ts) => {
                    if p.taker == Side::Ask {
                        *a += p.volume;
                    } else {
                        *b += p.volume;
                    }
                }
                Some(_) => *slot = None,
                None => {}
            }
        }
    }

    /// Today's taker volume split `(ask, bid)` of market `i`.
    pub fn day_sides(&mut self, i: usize, now: Millis) -> (Decimal, Decimal) {
        let today = day_start(now);
        if let Some(Some((d, a, b))) = self.day_sides.get(i)
            && *d == today
        {
            return (*a, *b);
        }
        let Some(m) = self.markets.get(i) else {
            return (Decimal::ZERO, Decimal::ZERO);
        };
        let (mut a, mut b) = (Decimal::ZERO, Decimal::ZERO);
        for p in m.prints_between(today, now + 1, now) {
            if p.taker == Side::Ask {
                a += p.volume;
            } else {
                b += p.volume;
            }
        }
        if let Some(slot) = self.day_sides.get_mut(i) {
            *slot = Some((today, a, b));
        }
        (a, b)
    }

    /// Previous-UTC-day close for a print at `ts`.
    pub fn prev_close(&mut self, i: usize, ts: Millis, now: Millis) -> Decimal {
        let Some(m) = self.markets.get_mut(i) else {
            return Decimal::ZERO;
        };
        m.close_before(day_start(ts), now)
            .or_else(|| m.aggregate(day_start(ts), ts + 1, now).map(|a| a.open))
            .unwrap_or_default()
    }

    fn trade_event(&mut self, i: usize, p: &Print, now: Millis) -> Broadcast {
        let prev = self.prev_close(i, p.ts, now);
        let book = self.book(i);
        let code = self.markets[i].info.market.as_str().to_owned();
        Broadcast::Trade {
            body: views::ws_trade(&code, p, prev, &book, now, "REALTIME"),
            code,
        }
    }

    /// The merged book of market `i`.
    pub fn book(&mut self, i: usize) -> crate::book::Book {
        match self.markets.get_mut(i) {
            Some(m) => self.engine.merged_book(i, m),
            None => crate::book::Book::default(),
        }
    }

    /// The ticker message of market `i`.
    pub fn ws_ticker(&mut self, i: usize, now: Millis, stream: &str) -> Option<Value> {
        let sides = self.day_sides(i, now);
        let m = self.markets.get_mut(i)?;
        let t = m.ticker(now)?;
        Some(views::ws_ticker(
            m.info.market.as_str(),
            &t,
            sides,
            now,
            stream,
        ))
    }

    fn quote_events(&mut self, i: usize, now: Millis) -> Vec<Broadcast> {
        let code = self.markets[i].info.market.as_str().to_owned();
        let mut out = Vec::with_capacity(3);
        if let Some(body) = self.ws_ticker(i, now, "REALTIME") {
            out.push(Broadcast::Ticker {
                code: code.clone(),
                body,
            });
        }
        out.push(Broadcast::Orderbook {
            code,
            book: self.book(i),
            ts: now,
        });
        out.push(Broadcast::CandleTick { market: i });
        out
    }

    fn run_pending(&mut self, now: Millis, wall: Millis) {
        if self.pending.is_empty() {
            return;
        }
        let (due, later): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.due() <= wall);
        self.pending = later;
        for p in due {
            self.dirty = true;
            match p {
                Pending::Execute { order, .. } => self.execute(order, now),
                Pending::Cancel { order, .. } => {
                    // The order may have filled meanwhile; then nothing happens.
                    let _ = self.engine.cancel(order, now);
                }
                Pending::Replace { old, new, .. } => {
                    if self.engine.cancel(old, now).is_ok() {
                        let oi = self.engine.place(*new, now);
                        self.execute(oi, now);
                    }
                }
            }
        }
    }

    fn execute(&mut self, oi: usize, now: Millis) {
        let Some(mi) = self.engine.order(oi).map(|o| o.market) else {
            return;
        };
        if let Some(m) = self.markets.get_mut(mi) {
            self.engine.execute(oi, m, now);
        }
    }

    fn collect_engine_events(&mut self, streams: bool, out: &mut Vec<Broadcast>) {
        let events = self.engine.drain_events();
        if events.is_empty() {
            return;
        }
        self.dirty = true;
        if !streams {
            return;
        }
        let mut touched = Vec::new();
        for ev in events {
            match ev {
                EngineEvent::Order {
                    account,
                    order,
                    kind,
                    ts,
                } => {
                    if let Some(o) = self.engine.order(order) {
                        if matches!(kind, OrderEventKind::Trade(_)) && !touched.contains(&o.market)
                        {
                            touched.push(o.market);
                        }
                        out.push(Broadcast::MyOrder {
                            account,
                            code: o.market_code.clone(),
                            body: views::my_order(o, kind, ts),
                        });
                    }
                }
                EngineEvent::Asset {
                    account,
                    currencies,
                    ts,
                } => {
                    let Some(acct) = self.engine.account(account) else {
                        continue;
                    };
                    let assets: Vec<(String, crate::engine::Balance)> = currencies
                        .iter()
                        .map(|c| (c.clone(), acct.balance(c)))
                        .collect();
                    let asset_uuid = self.engine.new_uuid().to_string();
                    out.push(Broadcast::MyAsset {
                        account,
                        body: views::my_asset(&asset_uuid, &assets, ts),
                    });
                }
            }
        }
        // Client fills changed the tape and the book of these markets.
        for i in touched {
            let now = self.markets[i].last().map_or(0, |p| p.ts);
            out.extend(self.quote_events(i, now));
        }
    }

    /// After a request changed orders: stream events for what happened.
    pub fn flush(&mut self, streams: bool) -> Vec<Broadcast> {
        let mut out = Vec::new();
        self.collect_engine_events(streams, &mut out);
        out
    }

    /// Records a create attempt in the admin log.
    pub fn log_attempt(&mut self, mut entry: LogEntry, now: Millis) {
        entry.seq = self.order_log.len() as u64 + 1;
        entry.received_at = kst_seconds(now);
        self.order_log.push(entry);
        self.dirty = true;
    }

    /// `POST /v1/orders` (or `/v1/orders/test` when `test`). Answers the order
    /// as accepted (`wait`, nothing executed yet), like Upbit.
    pub fn create_order(
        &mut self,
        account: usize,
        input: &OrderInput,
        test: bool,
        now: Millis,
        fill_due: Option<Millis>,
    ) -> Result<Value, ApiError> {
        let midx = input.market.as_deref().and_then(|m| self.market_index(m));
        let market = midx.and_then(|i| self.markets.get_mut(i).map(|m| (i, m)));
        let validated = self.engine.validate(account, input, market, None);
        if !test && let Some(id) = &input.identifier {
            self.engine.burn_identifier(account, id);
        }
        let new = validated?;
        let (code, base) = self.codes(new.market);
        let draft = self.engine.draft(account, &new, &code, &base, now);
        let snapshot = views::order(&draft, false, false);
        if test {
            return Ok(snapshot);
        }
        let oi = self.engine.place(draft, now);
        match fill_due {
            Some(due) => self.pending.push(Pending::Execute { due, order: oi }),
            None => self.execute(oi, now),
        }
        Ok(snapshot)
    }

    fn codes(&self, market: usize) -> (String, String) {
        self.markets.get(market).map_or_else(
            || (String::new(), String::new()),
            |m| {
                (
                    m.info.market.as_str().to_owned(),
                    m.info.market.base().as_str().to_owned(),
                )
            },
        )
    }

    /// Finds an order of `account` by uuid (preferred) or identifier.
    pub fn find_order(
        &self,
        account: usize,
        uuid: Option<&str>,
        identifier: Option<&str>,
    ) -> Result<usize, ApiError> {
        let found = match (uuid, identifier) {
            (Some(u), _) => self.engine.find_uuid(u),
            (None, Some(id)) => self.engine.find_identifier(account, id),
            (None, None) => return Err(ApiError::validation("uuid")),
        };
        found
            .filter(|&i| self.engine.order(i).is_some_and(|o| o.account == account))
            .ok_or_else(ApiError::order_not_found)
    }

    /// `DELETE /v1/order`: answers the pre-cancel snapshot.
    pub fn cancel_order(
        &mut self,
        account: usize,
        oi: usize,
        now: Millis,
        cancel_due: Option<Millis>,
    ) -> Result<Value, ApiError> {
        let o = self
            .engine
            .order(oi)
            .ok_or_else(ApiError::order_not_found)?;
        if o.account != account || o.state.is_final() {
            return Err(ApiError::order_not_found());
        }
        let snapshot = views::order(o, false, false);
        match cancel_due {
            Some(due) => self.pending.push(Pending::Cancel { due, order: oi }),
            None => self.engine.cancel(oi, now)?,
        }
        self.dirty = true;
        Ok(snapshot)
    }

    /// `POST /v1/orders/cancel_and_new`.
    pub fn cancel_and_new(
        &mut self,
        account: usize,
        old: usize,
        mut input: OrderInput,
        now: Millis,
        cancel_due: Option<Millis>,
    ) -> Result<Value, ApiError> {
        let o = self
            .engine
            .order(old)
            .ok_or_else(ApiError::order_not_found)?;
        if o.account != account || o.state.is_final() {
            return Err(ApiError::order_not_found());
        }
        if input.volume.as_deref() == Some("remain_only") {
            if o.funds_based() || input.ord_type.as_deref() == Some("price") {
                return Err(ApiError::validation("new_volume"));
            }
            input.volume = Some(crate::wire::dec_text(o.remaining_volume));
        }
        if input.identifier.is_some() && input.identifier == o.identifier {
            return Err(ApiError::validation_msg(
                "new_identifier must differ from the cancelled order's identifier",
            ));
        }
        input.market = Some(o.market_code.clone());
        input.side = Some(o.side.as_str().to_owned());
        let released = Released {
            currency: if o.side == Side::Bid {
                "KRW".to_owned()
            } else {
                o.base.clone()
            },
            amount: o.locked,
        };
        let mut snapshot = views::order(o, false, false);
        let mi = o.market;
        let market = self.markets.get_mut(mi).map(|m| (mi, m));
        let validated = self
            .engine
            .validate(account, &input, market, Some(&released));
        if let Some(id) = &input.identifier {
            self.engine.burn_identifier(account, id);
        }
        let new = validated?;
        let (code, base) = self.codes(new.market);
        let draft = self.engine.draft(account, &new, &code, &base, now);
        if let Some(map) = snapshot.as_object_mut() {
            map.insert("new_order_uuid".into(), json!(draft.uuid.to_string()));
            if let Some(id) = &draft.identifier {
                map.insert("new_order_identifier".into(), json!(id));
            }
        }
        if let Some(due) = cancel_due {
            self.pending.push(Pending::Replace {
                due,
                old,
                new: Box::new(draft),
            });
        } else {
            self.engine.cancel(old, now)?;
            let oi = self.engine.place(draft, now);
            self.execute(oi, now);
        }
        self.dirty = true;
        Ok(snapshot)
    }

    /// Cancels many orders; `(success, failed)` as `(uuid, market, identifier)`.
    pub fn cancel_many(
        &mut self,
        account: usize,
        orders: &[Result<usize, String>],
        now: Millis,
    ) -> Value {
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        for r in orders {
            match r {
                Ok(oi) => {
                    let item = self.engine.order(*oi).map(|o| {
                        let mut v = json!({"uuid": o.uuid.to_string(), "market": o.market_code});
                        if let (Some(id), Some(m)) = (&o.identifier, v.as_object_mut()) {
                            m.insert("identifier".into(), json!(id));
                        }
                        v
                    });
                    let owned = self.engine.order(*oi).is_some_and(|o| o.account == account);
                    let Some(item) = item else { continue };
                    if owned && self.engine.cancel(*oi, now).is_ok() {
                        ok.push(item);
                    } else {
                        failed.push(item);
                    }
                }
                Err(id) => failed.push(json!({ "uuid": id })),
            }
        }
        self.dirty = true;
        json!({
            "success": { "count": ok.len(), "orders": ok },
            "failed": { "count": failed.len(), "orders": failed },
        })
    }

    /// Open orders of `account` (`wait`), newest first.
    pub fn open_orders(&self, account: usize) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .engine
            .orders()
            .iter()
            .enumerate()
            .filter(|(_, o)| o.account == account && o.state == OrderState::Wait)
            .map(|(i, _)| i)
            .collect();
        v.reverse();
        v
    }
}
