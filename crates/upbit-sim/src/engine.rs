//! The exchange core: accounts with free/locked balances, orders and their
//! state machine, fee accounting and the matching engine (`upbit-api.md` §7,
//! §9 items 8–15). Everything is exact decimal arithmetic; nothing is rounded
//! except `avg_buy_price` (8 decimals) and volumes derived from KRW amounts
//! (floored to Upbit's 8 decimals).

/// Parsing and validating order requests, and creating orders.
pub mod create;
/// Taker matching, resting-order fills, cancels and self-match prevention.
pub mod matching;

use std::{
    collections::{BTreeMap, HashMap, HashSet, VecDeque},
    net::IpAddr,
};

use domain::{OrdType, OrderState, Secret, Side, TimeInForce};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::wire::Millis;

/// Fee rates (Upbit KRW market: 0.05 % everywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeConfig {
    /// Taker fee on buys (also the rate reserved at placement).
    pub bid_fee: Decimal,
    /// Taker fee on sells.
    pub ask_fee: Decimal,
    /// Maker fee on buys.
    pub maker_bid_fee: Decimal,
    /// Maker fee on sells.
    pub maker_ask_fee: Decimal,
}

impl Default for FeeConfig {
    fn default() -> Self {
        let f = Decimal::new(5, 4);
        Self {
            bid_fee: f,
            ask_fee: f,
            maker_bid_fee: f,
            maker_ask_fee: f,
        }
    }
}

/// What an API key may do (Upbit's key permissions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[allow(
    clippy::struct_field_names,
    reason = "names mirror Upbit's permission list"
)]
pub struct Permissions {
    /// "자산조회": `/v1/accounts`, `orders/chance`.
    pub view_accounts: bool,
    /// "주문조회": order queries.
    pub view_orders: bool,
    /// "주문하기": create and cancel orders.
    pub make_orders: bool,
}

impl Default for Permissions {
    fn default() -> Self {
        Self {
            view_accounts: true,
            view_orders: true,
            make_orders: true,
        }
    }
}

/// One currency's holding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Balance {
    /// Free amount.
    pub balance: Decimal,
    /// Held by open orders.
    pub locked: Decimal,
    /// Volume-weighted average buy price in KRW (fees excluded).
    pub avg_buy_price: Decimal,
    /// The user edited the average in the app (always false here).
    pub avg_buy_price_modified: bool,
}

/// An account (one API key pair).
#[derive(Debug, Clone)]
pub struct Account {
    /// The access key.
    pub access_key: String,
    /// The secret key (raw bytes sign the JWT).
    pub secret: Secret,
    /// Key permissions.
    pub permissions: Permissions,
    /// Allowed caller IPs (empty = any).
    pub allowed_ips: Vec<IpAddr>,
    /// Key expiry (sim time), if any.
    pub expires_at: Option<Millis>,
    /// Holdings by currency.
    pub balances: BTreeMap<String, Balance>,
    nonces: HashSet<String>,
    nonce_order: VecDeque<String>,
}

/// How many nonces per key are remembered.
const NONCE_HISTORY: usize = 200_000;

impl Account {
    /// A new account.
    pub fn new(access_key: String, secret: Secret, balances: BTreeMap<String, Balance>) -> Self {
        Self {
            access_key,
            secret,
            permissions: Permissions::default(),
            allowed_ips: Vec::new(),
            expires_at: None,
            balances,
            nonces: HashSet::new(),
            nonce_order: VecDeque::new(),
        }
    }

    /// Records `nonce`; false when it was used before.
    pub fn use_nonce(&mut self, nonce: &str) -> bool {
        if !self.nonces.insert(nonce.to_owned()) {
            return false;
        }
        self.nonce_order.push_back(nonce.to_owned());
        if self.nonce_order.len() > NONCE_HISTORY
            && let Some(old) = self.nonce_order.pop_front()
        {
            self.nonces.remove(&old);
        }
        true
    }

    /// The holding of `currency` (zero when absent).
    pub fn balance(&self, currency: &str) -> Balance {
        self.balances.get(currency).copied().unwrap_or_default()
    }

    fn entry(&mut self, currency: &str) -> &mut Balance {
        self.balances.entry(currency.to_owned()).or_default()
    }
}

/// Self-match prevention mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmpType {
    /// Cancel the resting (maker) order.
    CancelMaker,
    /// Cancel the incoming (taker) order.
    CancelTaker,
    /// Reduce both by the overlapping quantity.
    Reduce,
}

impl SmpType {
    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CancelMaker => "cancel_maker",
            Self::CancelTaker => "cancel_taker",
            Self::Reduce => "reduce",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cancel_maker" => Some(Self::CancelMaker),
            "cancel_taker" => Some(Self::CancelTaker),
            "reduce" => Some(Self::Reduce),
            _ => None,
        }
    }
}

/// One fill of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTrade {
    /// Trade id.
    pub uuid: Uuid,
    /// Execution price.
    pub price: Decimal,
    /// Executed volume.
    pub volume: Decimal,
    /// `price × volume`.
    pub funds: Decimal,
    /// Fee charged on this fill.
    pub fee: Decimal,
    /// Maker (resting) or taker.
    pub is_maker: bool,
    /// Side of the order that initiated the trade (`up` = a buy).
    pub taker_side: Side,
    /// Execution time.
    pub ts: Millis,
}

/// An order and its bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Server id.
    pub uuid: Uuid,
    /// Owning account index.
    pub account: usize,
    /// Market index.
    pub market: usize,
    /// Market code.
    pub market_code: String,
    /// Base currency.
    pub base: String,
    /// Side.
    pub side: Side,
    /// Order type.
    pub ord_type: OrdType,
    /// Limit price, or the KRW total for `price` / best-bid orders.
    pub price: Option<Decimal>,
    /// Requested volume (absent for `price` / best-bid orders).
    pub volume: Option<Decimal>,
    /// Time in force.
    pub time_in_force: Option<TimeInForce>,
    /// Self-match prevention.
    pub smp_type: Option<SmpType>,
    /// Client identifier.
    pub identifier: Option<String>,
    /// State.
    pub state: OrderState,
    /// Creation time.
    pub created_at: Millis,
    /// Unfilled volume (volume orders).
    pub remaining_volume: Decimal,
    /// Filled volume.
    pub executed_volume: Decimal,
    /// Filled quote amount.
    pub executed_funds: Decimal,
    /// Fee reserved at placement.
    pub reserved_fee: Decimal,
    /// Reserved fee not yet used.
    pub remaining_fee: Decimal,
    /// Fees charged.
    pub paid_fee: Decimal,
    /// Amount still locked by this order.
    pub locked: Decimal,
    /// Volume cancelled by SMP.
    pub prevented_volume: Decimal,
    /// Amount released by SMP.
    pub prevented_locked: Decimal,
    /// Fee rate reserved at placement.
    pub reserve_rate: Decimal,
    /// Worst acceptable price for best orders (the opposite best at placement).
    pub best_limit: Option<Decimal>,
    /// Fills.
    pub trades: Vec<OrderTrade>,
    /// Resting in the book.
    pub resting: bool,
    /// Ended through SMP (WS state `prevented`).
    pub prevented: bool,
}

impl Order {
    /// True for `price` and best-bid orders (sized by a KRW total).
    pub fn funds_based(&self) -> bool {
        self.side == Side::Bid && matches!(self.ord_type, OrdType::Price | OrdType::Best)
    }

    /// KRW total of a funds-based order.
    pub fn total(&self) -> Decimal {
        self.price.unwrap_or_default()
    }

    /// The amount this order must keep locked in its current state.
    fn required_lock(&self) -> Decimal {
        if self.side == Side::Ask {
            return self.remaining_volume;
        }
        let base = self.commit_left();
        base + base * self.reserve_rate
    }

    /// KRW still committed before fees (bids).
    fn commit_left(&self) -> Decimal {
        if self.funds_based() {
            (self.total() - self.executed_funds).max(Decimal::ZERO)
        } else {
            self.remaining_volume * self.price.unwrap_or_default()
        }
    }

    fn required_remaining_fee(&self) -> Decimal {
        if self.side == Side::Ask {
            Decimal::ZERO
        } else {
            self.commit_left() * self.reserve_rate
        }
    }
}

/// Resting client orders of one market, by price then time.
#[derive(Debug, Clone, Default)]
pub struct UserBook {
    /// Bids: highest price is the last key.
    pub bids: BTreeMap<Decimal, VecDeque<usize>>,
    /// Asks: lowest price is the first key.
    pub asks: BTreeMap<Decimal, VecDeque<usize>>,
}

impl UserBook {
    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<Decimal, VecDeque<usize>> {
        match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        }
    }

    fn insert(&mut self, side: Side, price: Decimal, order: usize) {
        self.side_mut(side)
            .entry(price)
            .or_default()
            .push_back(order);
    }

    fn remove(&mut self, side: Side, price: Decimal, order: usize) {
        let book = self.side_mut(side);
        if let Some(q) = book.get_mut(&price) {
            q.retain(|&o| o != order);
            if q.is_empty() {
                book.remove(&price);
            }
        }
    }

    /// Best price on `side` (highest bid / lowest ask).
    pub fn best(&self, side: Side) -> Option<Decimal> {
        match side {
            Side::Bid => self.bids.keys().next_back().copied(),
            Side::Ask => self.asks.keys().next().copied(),
        }
    }
}

/// What happened to an order (drives the private WebSocket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEventKind {
    /// Accepted (`wait`).
    Created,
    /// Filled partly or fully; index into `trades`.
    Trade(usize),
    /// Fully filled.
    Done,
    /// Cancelled.
    Cancel,
    /// Ended by self-match prevention.
    Prevented,
}

/// An engine event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    /// An order changed.
    Order {
        /// Account index.
        account: usize,
        /// Order index.
        order: usize,
        /// What changed.
        kind: OrderEventKind,
        /// When.
        ts: Millis,
    },
    /// Balances changed.
    Asset {
        /// Account index.
        account: usize,
        /// Changed currencies.
        currencies: Vec<String>,
        /// When.
        ts: Millis,
    },
}

/// Order-size limits (KRW market).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Minimum order total (5,000 KRW).
    pub min_total: Decimal,
    /// Maximum order total (1e9 KRW).
    pub max_total: Decimal,
    /// Levels counted by the market-order depth rule (30).
    pub depth_levels: usize,
    /// Share of a print's volume that fills client orders resting exactly at
    /// the print price (queue position). Prints *through* a price fill it fully.
    pub touch_fill_ratio: Decimal,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            min_total: Decimal::from(domain::MIN_ORDER_TOTAL_KRW),
            max_total: Decimal::from(domain::MAX_ORDER_TOTAL_KRW),
            depth_levels: 30,
            touch_fill_ratio: Decimal::new(5, 1),
        }
    }
}

/// The exchange core.
#[derive(Debug, Clone)]
pub struct Engine {
    /// Fee rates.
    pub fees: FeeConfig,
    /// Size limits.
    pub limits: Limits,
    accounts: Vec<Account>,
    by_key: HashMap<String, usize>,
    orders: Vec<Order>,
    by_uuid: HashMap<Uuid, usize>,
    by_identifier: HashMap<(usize, String), usize>,
    used_identifiers: HashSet<(usize, String)>,
    books: Vec<UserBook>,
    rng: ChaCha8Rng,
    events: Vec<EngineEvent>,
}

impl Engine {
    /// An engine for `markets` markets.
    pub fn new(markets: usize, fees: FeeConfig, limits: Limits, seed: u64) -> Self {
        Self {
            fees,
            limits,
            accounts: Vec::new(),
            by_key: HashMap::new(),
            orders: Vec::new(),
            by_uuid: HashMap::new(),
            by_identifier: HashMap::new(),
            used_identifiers: HashSet::new(),
            books: vec![UserBook::default(); markets],
            rng: ChaCha8Rng::seed_from_u64(seed),
            events: Vec::new(),
        }
    }

    /// A fresh random (seeded) UUID v4.
    pub fn new_uuid(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.r#gen()).into_uuid()
    }

    /// Creates or replaces the account of `access_key`; returns its index.
    pub fn upsert_account(&mut self, account: Account) -> usize {
        if let Some(&i) = self.by_key.get(&account.access_key) {
            let nonces = std::mem::take(&mut self.accounts[i].nonces);
            let order = std::mem::take(&mut self.accounts[i].nonce_order);
            self.accounts[i] = account;
            self.accounts[i].nonces = nonces;
            self.accounts[i].nonce_order = order;
            i
        } else {
            self.by_key
                .insert(account.access_key.clone(), self.accounts.len());
            self.accounts.push(account);
            self.accounts.len() - 1
        }
    }

    /// The account index of an access key.
    pub fn account_index(&self, access_key: &str) -> Option<usize> {
        self.by_key.get(access_key).copied()
    }

    /// An account.
    pub fn account(&self, i: usize) -> Option<&Account> {
        self.accounts.get(i)
    }

    /// An account, mutably.
    pub fn account_mut(&mut self, i: usize) -> Option<&mut Account> {
        self.accounts.get_mut(i)
    }

    /// All accounts.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// All orders ever accepted (index = order id).
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    /// An order.
    pub fn order(&self, i: usize) -> Option<&Order> {
        self.orders.get(i)
    }

    /// Looks an order up by uuid text.
    pub fn find_uuid(&self, uuid: &str) -> Option<usize> {
        Uuid::parse_str(uuid)
            .ok()
            .and_then(|u| self.by_uuid.get(&u).copied())
    }

    /// Looks an order up by the account's identifier.
    pub fn find_identifier(&self, account: usize, identifier: &str) -> Option<usize> {
        self.by_identifier
            .get(&(account, identifier.to_owned()))
            .copied()
    }

    /// True when `identifier` was ever used by `account` (even by a failed order).
    pub fn identifier_used(&self, account: usize, identifier: &str) -> bool {
        self.used_identifiers
            .contains(&(account, identifier.to_owned()))
    }

    /// Marks an identifier as used.
    pub fn burn_identifier(&mut self, account: usize, identifier: &str) {
        self.used_identifiers
            .insert((account, identifier.to_owned()));
    }

    /// The resting client orders of a market.
    pub fn user_book(&self, market: usize) -> Option<&UserBook> {
        self.books.get(market)
    }

    /// Takes the events produced since the last call.
    pub fn drain_events(&mut self) -> Vec<EngineEvent> {
        std::mem::take(&mut self.events)
    }

    /// Restores an order from a state file (re-inserting it in the book).
    pub fn restore_order(&mut self, order: Order) {
        let i = self.orders.len();
        self.by_uuid.insert(order.uuid, i);
        if let Some(id) = &order.identifier {
            self.by_identifier.insert((order.account, id.clone()), i);
            self.used_identifiers.insert((order.account, id.clone()));
        }
        if order.resting
            && let (Some(book), Some(p)) = (self.books.get_mut(order.market), order.price)
        {
            book.insert(order.side, p, i);
        }
        self.orders.push(order);
    }

    /// Restores burned identifiers from a state file.
    pub fn restore_identifiers(&mut self, ids: impl IntoIterator<Item = (usize, String)>) {
        self.used_identifiers.extend(ids);
    }

    /// Every burned identifier (for the state file).
    pub fn used_identifier_list(&self) -> Vec<(usize, String)> {
        let mut v: Vec<_> = self.used_identifiers.iter().cloned().collect();
        v.sort();
        v
    }

    /// Re-seeds the uuid generator (after a restore, so ids do not repeat).
    pub fn reseed(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
    }

    fn push_order_event(&mut self, order: usize, kind: OrderEventKind, ts: Millis) {
        if let Some(o) = self.orders.get(order) {
            self.events.push(EngineEvent::Order {
                account: o.account,
                order,
                kind,
                ts,
            });
        }
    }

    fn push_asset_event(&mut self, account: usize, currencies: &[&str], ts: Millis) {
        self.events.push(EngineEvent::Asset {
            account,
            currencies: currencies.iter().map(|c| (*c).to_owned()).collect(),
            ts,
        });
    }
}

#[cfg(test)]
mod tests;
