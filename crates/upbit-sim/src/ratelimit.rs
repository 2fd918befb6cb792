//! Upbit's request-rate groups (`upbit-api.md` §6): per-group fixed windows,
//! the `Remaining-Req` header, 429 when a window is exhausted and a growing
//! 418 block after continued 429s. Windows run on the wall clock.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::wire::Millis;

/// A rate-limit group as named in the `Remaining-Req` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// `/v1/market/all`.
    Market,
    /// `/v1/candles/*` (observed wire name `candles`).
    Candles,
    /// `/v1/trades/ticks`.
    Trade,
    /// `/v1/ticker`, `/v1/ticker/all`.
    Ticker,
    /// `/v1/orderbook`, `/v1/orderbook/instruments`.
    Orderbook,
    /// Other Exchange endpoints.
    Default,
    /// `POST /v1/orders`, `cancel_and_new`.
    Order,
    /// `POST /v1/orders/test`.
    OrderTest,
    /// `DELETE /v1/orders/open`.
    OrderCancelAll,
    /// Quotation requests carrying an `Origin` header.
    Origin,
}

impl Group {
    /// Wire name.
    pub const fn name(self) -> &'static str {
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
            Self::Origin => "origin",
        }
    }

    /// `(requests, window in ms)`.
    pub const fn limit(self) -> (u32, Millis) {
        match self {
            Self::Market | Self::Candles | Self::Trade | Self::Ticker | Self::Orderbook => {
                (10, 1000)
            }
            Self::Default => (30, 1000),
            Self::Order => (12, 1000),
            Self::OrderTest => (8, 1000),
            Self::OrderCancelAll => (1, 2000),
            Self::Origin => (1, 10_000),
        }
    }

    /// The deprecated `min` value: 60 × the per-second limit.
    pub const fn min_value(self) -> u64 {
        let (n, window) = self.limit();
        (n as u64) * 60_000 / (window as u64)
    }
}

/// Rate-limit settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateConfig {
    /// Enforce limits (headers are always sent).
    pub enabled: bool,
    /// Consecutive 429s after which a subject is blocked with 418.
    pub block_after: u32,
    /// First block length in seconds; each further block doubles it.
    pub block_base_secs: u64,
}

impl Default for RateConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            block_after: 10,
            block_base_secs: 60,
        }
    }
}

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed; `remaining` requests left in this window.
    Ok {
        /// Left in the window after this request.
        remaining: u32,
    },
    /// 429: the window is exhausted.
    TooMany,
    /// 418: blocked until this wall time.
    Blocked {
        /// Block end (wall ms).
        until: Millis,
    },
}

#[derive(Debug, Clone, Copy, Default)]
struct Strikes {
    consecutive: u32,
    blocked_until: Millis,
    blocks: u32,
}

/// Counters per `(group, subject)`; subjects are IPs or access keys.
#[derive(Debug, Default)]
pub struct RateLimiter {
    config: RateConfig,
    windows: HashMap<(Group, String), (Millis, u32)>,
    strikes: HashMap<String, Strikes>,
    checks: u64,
    refused: u64,
    blocked: u64,
}

impl RateLimiter {
    /// A limiter with `config`.
    pub fn new(config: RateConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Counts a request of `subject` in `group` at wall time `now`.
    pub fn check(&mut self, group: Group, subject: &str, now: Millis) -> Verdict {
        let (limit, window) = group.limit();
        let start = now.div_euclid(window) * window;
        self.checks += 1;
        if self.checks.is_multiple_of(10_000) {
            self.windows.retain(|_, (s, _)| *s >= start - 10 * window);
        }
        let strikes = self.strikes.entry(subject.to_owned()).or_default();
        if self.config.enabled && strikes.blocked_until > now {
            self.blocked += 1;
            return Verdict::Blocked {
                until: strikes.blocked_until,
            };
        }
        let entry = self
            .windows
            .entry((group, subject.to_owned()))
            .or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        if !self.config.enabled {
            entry.1 = entry.1.saturating_add(1);
            return Verdict::Ok {
                remaining: limit.saturating_sub(entry.1),
            };
        }
        if entry.1 >= limit {
            strikes.consecutive += 1;
            if strikes.consecutive >= self.config.block_after.max(1) {
                let secs = self
                    .config
                    .block_base_secs
                    .saturating_mul(1u64 << strikes.blocks.min(16));
                strikes.blocks += 1;
                strikes.consecutive = 0;
                strikes.blocked_until = now + i64::try_from(secs * 1000).unwrap_or(i64::MAX / 2);
                self.blocked += 1;
                return Verdict::Blocked {
                    until: strikes.blocked_until,
                };
            }
            self.refused += 1;
            return Verdict::TooMany;
        }
        entry.1 += 1;
        strikes.consecutive = 0;
        Verdict::Ok {
            remaining: limit - entry.1,
        }
    }

    /// Requests refused so far: `(429, 418)` (injected faults not counted).
    pub fn refusals(&self) -> (u64, u64) {
        (self.refused, self.blocked)
    }

    /// Requests left for `subject` in `group` without counting one.
    pub fn peek(&self, group: Group, subject: &str, now: Millis) -> u32 {
        let (limit, window) = group.limit();
        let start = now.div_euclid(window) * window;
        match self.windows.get(&(group, subject.to_owned())) {
            Some((s, n)) if *s == start => limit.saturating_sub(*n),
            _ => limit,
        }
    }
}

/// The `Remaining-Req` header value.
pub fn header_value(group: Group, remaining: u32) -> String {
    format!(
        "group={}; min={}; sec={remaining}",
        group.name(),
        group.min_value()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_format() {
        assert_eq!(
            header_value(Group::Default, 29),
            "group=default; min=1800; sec=29"
        );
        assert_eq!(
            header_value(Group::Candles, 9),
            "group=candles; min=600; sec=9"
        );
        assert_eq!(
            header_value(Group::Order, 11),
            "group=order; min=720; sec=11"
        );
        assert_eq!(Group::OrderCancelAll.min_value(), 30);
    }

    #[test]
    fn window_then_429_then_growing_418() {
        let mut r = RateLimiter::new(RateConfig {
            enabled: true,
            block_after: 3,
            block_base_secs: 10,
        });
        let t = 1_000_000;
        for i in 0..10 {
            assert_eq!(
                r.check(Group::Ticker, "ip", t + i),
                Verdict::Ok {
                    remaining: 9 - i as u32
                }
            );
        }
        assert_eq!(r.check(Group::Ticker, "ip", t + 10), Verdict::TooMany);
        // Other groups and subjects are independent.
        assert!(matches!(
            r.check(Group::Candles, "ip", t + 10),
            Verdict::Ok { remaining: 9 }
        ));
        assert!(matches!(
            r.check(Group::Ticker, "other", t + 10),
            Verdict::Ok { .. }
        ));
        // The allowed candle request reset the streak: three more 429s to a block.
        assert_eq!(r.check(Group::Ticker, "ip", t + 11), Verdict::TooMany);
        assert_eq!(r.check(Group::Ticker, "ip", t + 11), Verdict::TooMany);
        assert_eq!(
            r.check(Group::Ticker, "ip", t + 12),
            Verdict::Blocked {
                until: t + 12 + 10_000
            }
        );
        // Blocked for every group until the block ends.
        assert!(matches!(
            r.check(Group::Candles, "ip", t + 5000),
            Verdict::Blocked { .. }
        ));
        let after = t + 12 + 10_000;
        assert!(matches!(
            r.check(Group::Ticker, "ip", after),
            Verdict::Ok { .. }
        ));
        // The next block lasts twice as long.
        let t2 = after + 1000 - after % 1000;
        for i in 0..10 {
            r.check(Group::Ticker, "ip", t2 + i);
        }
        for i in 0..2 {
            assert_eq!(r.check(Group::Ticker, "ip", t2 + 20 + i), Verdict::TooMany);
        }
        assert_eq!(
            r.check(Group::Ticker, "ip", t2 + 30),
            Verdict::Blocked {
                until: t2 + 30 + 20_000
            }
        );
        assert_eq!(r.peek(Group::Ticker, "ip", t2 + 30), 0);
        assert_eq!(r.refusals(), (5, 3));
    }

    #[test]
    fn cancel_all_is_one_per_two_seconds() {
        let mut r = RateLimiter::new(RateConfig::default());
        assert_eq!(
            r.check(Group::OrderCancelAll, "k", 2000),
            Verdict::Ok { remaining: 0 }
        );
        assert_eq!(r.check(Group::OrderCancelAll, "k", 3999), Verdict::TooMany);
        assert_eq!(
            r.check(Group::OrderCancelAll, "k", 4000),
            Verdict::Ok { remaining: 0 }
        );
    }
}
