//! A local rate limiter per Upbit rate-limit group (upbit-api.md §6).
//!
//! It never sends a request it expects to be refused:
//! - **local window**: at most `max` sends per group in any window of `per`
//!   (+ a small safety margin for latency jitter). A sliding window is at
//!   least as strict as Upbit's per-second buckets wherever their boundaries
//!   fall;
//! - **server budget**: each response's `Remaining-Req: group=…; sec=N` caps
//!   the group at `N` more sends until a second has passed (other processes
//!   may share the IP or account);
//! - **429**: the group stops until the server's second has surely rolled
//!   over (`now + 1 s`, or longer if the server said so);
//! - **418**: everything stops for the block duration (the `Retry-After`
//!   value, else an escalating default), and callers get
//!   [`UpbitError::Blocked`](crate::http::error::UpbitError::Blocked) without anything being sent.
//!
//! Time comes from an injected [`runtime::Clock`]; the decision logic
//! ([`RateLimiter::check_at`](crate::http::rate_limit::RateLimiter::check_at) and friends) is pure and tested with explicit
//! instants, [`RateLimiter::acquire`](crate::http::rate_limit::RateLimiter::acquire) sleeps with tokio.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, PoisonError},
    time::Duration,
};

use chrono::{DateTime, Utc};
use runtime::SharedClock;

use crate::http::error::UpbitError;

/// Upbit's rate-limit groups (the `group=` value of `Remaining-Req`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RateGroup {
    /// Market list: 10/s per IP.
    Market,
    /// Candles: 10/s per IP (`candles` on the wire).
    Candles,
    /// Recent trades: 10/s per IP.
    Trade,
    /// Tickers: 10/s per IP.
    Ticker,
    /// Order books and instruments: 10/s per IP.
    Orderbook,
    /// Every other Exchange call (balances, order queries, cancels): 30/s per account.
    Default,
    /// Order creation: 12/s per account (8/s before 2026-08-21).
    Order,
    /// Test orders: 8/s per account.
    OrderTest,
    /// Batch cancel of open orders: 1 per 2 s per account.
    OrderCancelAll,
    /// WebSocket handshakes: 5/s.
    WebsocketConnect,
    /// Messages sent on one WebSocket connection: 5/s (and 100/min).
    WebsocketMessage,
}

impl RateGroup {
    /// Every group.
    pub const ALL: [Self; 11] = [
        Self::Market,
        Self::Candles,
        Self::Trade,
        Self::Ticker,
        Self::Orderbook,
        Self::Default,
        Self::Order,
        Self::OrderTest,
        Self::OrderCancelAll,
        Self::WebsocketConnect,
        Self::WebsocketMessage,
    ];

    /// The wire name.
    pub const fn wire_name(self) -> &'static str {
        match self {
            Self::Market => "market",
            Self::Candles => "candles",
            Self::Trade => "trade",
            Self::Ticker => "ticker",
            Self::Orderbook => "orderbook",
            Self::Default => "default",
            Self::Order => "order",
            Self::OrderTest => "order-test",
            Self::OrderCancelAll => "order-cancel-all",
            Self::WebsocketConnect => "websocket-connect",
            Self::WebsocketMessage => "websocket-message",
        }
    }

    /// Parses a wire name; accepts the 2026 `exchange.` prefix and `candle`.
    pub fn from_wire(name: &str) -> Option<Self> {
        let name = name.trim();
        let name = name.strip_prefix("exchange.").unwrap_or(name);
        if name == "candle" {
            return Some(Self::Candles);
        }
        Self::ALL.into_iter().find(|g| g.wire_name() == name)
    }
}

/// `max` requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed in one window.
    pub max: u32,
    /// Window length.
    pub per: Duration,
}

impl Limit {
    /// `max` per second.
    pub const fn per_second(max: u32) -> Self {
        Self {
            max,
            per: Duration::from_secs(1),
        }
    }
}

/// The limits and back-off settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    limits: HashMap<RateGroup, Limit>,
    /// Added to every window to absorb latency jitter.
    pub margin: Duration,
    /// How long a group stops after a 429 when the server gives no hint.
    pub pause_after_429: Duration,
    /// First block length after a 418 without a duration; doubles on repeats.
    pub block_default: Duration,
    /// Cap on the escalating 418 block.
    pub block_max: Duration,
}

impl Default for RateLimits {
    /// Upbit's current limits (upbit-api.md §6).
    fn default() -> Self {
        let limits = [
            (RateGroup::Market, Limit::per_second(10)),
            (RateGroup::Candles, Limit::per_second(10)),
            (RateGroup::Trade, Limit::per_second(10)),
            (RateGroup::Ticker, Limit::per_second(10)),
            (RateGroup::Orderbook, Limit::per_second(10)),
            (RateGroup::Default, Limit::per_second(30)),
            (RateGroup::Order, Limit::per_second(12)),
            (RateGroup::OrderTest, Limit::per_second(8)),
            (
                RateGroup::OrderCancelAll,
                Limit {
                    max: 1,
                    per: Duration::from_secs(2),
                },
            ),
            (RateGroup::WebsocketConnect, Limit::per_second(5)),
            (RateGroup::WebsocketMessage, Limit::per_second(5)),
        ]
        .into_iter()
        .collect();
        Self {
            limits,
            margin: Duration::from_millis(50),
            pause_after_429: Duration::from_secs(1),
            block_default: Duration::from_secs(30),
            block_max: Duration::from_mins(15),
        }
    }
}

impl RateLimits {
    /// Overrides one group's limit (e.g. `Order` back to 8/s).
    #[must_use]
    pub fn with_limit(mut self, group: RateGroup, limit: Limit) -> Self {
        self.limits.insert(group, limit);
        self
    }

    /// The limit of `group`.
    pub fn limit(&self, group: RateGroup) -> Limit {
        self.limits
            .get(&group)
            .copied()
            .unwrap_or(Limit::per_second(1))
    }
}

/// A parsed `Remaining-Req` header: `group=default; min=1800; sec=29`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemainingReq {
    /// The group as sent.
    pub group: String,
    /// Requests left in the current second.
    pub sec: Option<u32>,
    /// Deprecated fixed value (60 × the per-second limit).
    pub min: Option<u32>,
}

impl RemainingReq {
    /// Parses the header value; `None` when it has no `group`.
    pub fn parse(value: &str) -> Option<Self> {
        let mut group = None;
        let mut sec = None;
        let mut min = None;
        for part in value.split(';') {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            match k.trim() {
                "group" => group = Some(v.trim().to_owned()),
                "sec" => sec = v.trim().parse().ok(),
                "min" => min = v.trim().parse().ok(),
                _ => {}
            }
        }
        Some(Self {
            group: group.filter(|g| !g.is_empty())?,
            sec,
            min,
        })
    }

    /// The group, when it is one we know.
    pub fn rate_group(&self) -> Option<RateGroup> {
        RateGroup::from_wire(&self.group)
    }
}

/// What the limiter says about sending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send; the send has been recorded.
    Proceed,
    /// Wait this long, then ask again.
    Wait(Duration),
    /// Blocked (418) for this long: do not send.
    Blocked(Duration),
}

#[derive(Debug, Default)]
struct GroupState {
    sent: VecDeque<DateTime<Utc>>,
    server: Option<ServerBudget>,
    stopped_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy)]
struct ServerBudget {
    remaining: u32,
    until: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct State {
    groups: HashMap<RateGroup, GroupState>,
    blocked_until: Option<DateTime<Utc>>,
    consecutive_blocks: u32,
}

/// The limiter, shared by every request of a process (IP-wide groups) and by
/// every client of one account.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    state: Mutex<State>,
    clock: SharedClock,
}

/// Longest pause honoured from a server hint (a garbage `Retry-After` cannot
/// stop a group for longer).
const MAX_PAUSE: Duration = Duration::from_hours(24);

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d.min(MAX_PAUSE)).unwrap_or(chrono::Duration::MAX)
}

/// `at + d`, saturating instead of overflowing.
fn after(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    at.checked_add_signed(chrono_of(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn std_of(d: chrono::Duration) -> Duration {
    d.to_std().unwrap_or(Duration::ZERO)
}

impl RateLimiter {
    /// A limiter with `limits`, reading time from `clock`.
    pub fn new(limits: RateLimits, clock: SharedClock) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
            clock,
        }
    }

    /// The configured limits.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`RateLimiter::check_at`] with the clock's time.
    pub fn check(&self, group: RateGroup) -> Decision {
        self.check_at(group, self.clock.now())
    }

    /// Decides whether one request of `group` may be sent at `now`, and
    /// records it if so.
    pub fn check_at(&self, group: RateGroup, now: DateTime<Utc>) -> Decision {
        let limit = self.limits.limit(group);
        let window = limit.per.saturating_add(self.limits.margin);
        let mut st = self.state();
        if let Some(until) = st.blocked_until {
            if now < until {
                return Decision::Blocked(std_of(until - now));
            }
            st.blocked_until = None;
        }
        let g = st.groups.entry(group).or_default();
        if let Some(until) = g.stopped_until {
            if now < until {
                return Decision::Wait(std_of(until - now));
            }
            g.stopped_until = None;
        }
        if let Some(b) = g.server {
            if now >= b.until {
                g.server = None;
            } else if b.remaining == 0 {
                return Decision::Wait(std_of(b.until - now));
            }
        }
        while g.sent.front().is_some_and(|t| after(*t, window) <= now) {
            g.sent.pop_front();
        }
        if g.sent.len() >= limit.max as usize
            && let Some(oldest) = g.sent.front()
        {
            return Decision::Wait(std_of(after(*oldest, window) - now));
        }
        g.sent.push_back(now);
        if let Some(b) = g.server.as_mut() {
            b.remaining = b.remaining.saturating_sub(1);
        }
        Decision::Proceed
    }

    /// Feeds a `Remaining-Req` header received now.
    pub fn observe(&self, rr: &RemainingReq) {
        self.observe_at(rr, self.clock.now());
    }

    /// Feeds a `Remaining-Req` header received at `now`.
    pub fn observe_at(&self, rr: &RemainingReq, now: DateTime<Utc>) {
        let (Some(group), Some(sec)) = (rr.rate_group(), rr.sec) else {
            return;
        };
        let mut st = self.state();
        let g = st.groups.entry(group).or_default();
        g.server = Some(match g.server {
            Some(b) if now < b.until => ServerBudget {
                remaining: b.remaining.min(sec),
                until: b.until,
            },
            _ => ServerBudget {
                remaining: sec,
                until: after(now, Duration::from_secs(1)),
            },
        });
    }

    /// A 429 for `group` arrived now: stop the group until the second rolls over.
    pub fn on_429(&self, group: RateGroup, retry_after: Option<Duration>) {
        self.on_429_at(group, retry_after, self.clock.now());
    }

    /// A 429 for `group` arrived at `now`.
    pub fn on_429_at(&self, group: RateGroup, retry_after: Option<Duration>, now: DateTime<Utc>) {
        let pause = retry_after
            .unwrap_or(Duration::ZERO)
            .max(self.limits.pause_after_429);
        let mut st = self.state();
        let g = st.groups.entry(group).or_default();
        let until = after(now, pause);
        g.stopped_until = Some(g.stopped_until.map_or(until, |u| u.max(until)));
    }

    /// A 418 arrived now. Returns the block length applied.
    pub fn on_418(&self, retry_after: Option<Duration>) -> Duration {
        self.on_418_at(retry_after, self.clock.now())
    }

    /// A 418 arrived at `now`: block every group for `retry_after`, or for an
    /// escalating default (30 s, 60 s, … up to the cap) when none is given.
    pub fn on_418_at(&self, retry_after: Option<Duration>, now: DateTime<Utc>) -> Duration {
        let mut st = self.state();
        st.consecutive_blocks = st.consecutive_blocks.saturating_add(1);
        let block = retry_after.unwrap_or_else(|| {
            let doublings = st.consecutive_blocks.saturating_sub(1).min(16);
            self.limits
                .block_default
                .saturating_mul(1u32 << doublings)
                .min(self.limits.block_max)
        });
        let until = after(now, block);
        st.blocked_until = Some(st.blocked_until.map_or(until, |u| u.max(until)));
        block
    }

    /// A request succeeded: the 418 escalation starts over.
    pub fn on_success(&self) {
        self.state().consecutive_blocks = 0;
    }

    /// Until when `group` is stopped after a 429, if it is.
    pub fn stopped_until(&self, group: RateGroup) -> Option<DateTime<Utc>> {
        let now = self.clock.now();
        self.state()
            .groups
            .get(&group)
            .and_then(|g| g.stopped_until)
            .filter(|u| *u > now)
    }

    /// Until when everything is blocked after a 418, if it is.
    pub fn blocked_until(&self) -> Option<DateTime<Utc>> {
        let now = self.clock.now();
        self.state().blocked_until.filter(|u| *u > now)
    }

    /// Waits until one request of `group` may be sent and records it. Fails
    /// with [`UpbitError::Blocked`] during a 418 block and with
    /// [`UpbitError::RateLimited`] when the wait would exceed `max_wait`.
    pub async fn acquire(&self, group: RateGroup, max_wait: Duration) -> Result<(), UpbitError> {
        let mut waited = Duration::ZERO;
        loop {
            match self.check(group) {
                Decision::Proceed => return Ok(()),
                Decision::Blocked(left) => {
                    return Err(UpbitError::Blocked {
                        retry_after: Some(left),
                        message: "blocked locally after HTTP 418".to_owned(),
                    });
                }
                Decision::Wait(d) => {
                    if waited + d > max_wait {
                        return Err(UpbitError::RateLimited {
                            group: Some(group),
                            retry_after: Some(d),
                        });
                    }
                    // Never spin: at least 1 ms per round.
                    let d = d.max(Duration::from_millis(1));
                    tokio::time::sleep(d).await;
                    waited += d;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
