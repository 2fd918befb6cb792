//! The runtime guard (STAB-1, RISK-6, RUN-1, RUN-2, RUN-4) as a state machine:
//! one exhaustive transition function, [`RuntimeGuard::apply`], that returns an
//! audit record ([`GuardTransition`]) or refuses with a [`GuardError`] leaving
//! the state unchanged.
//!
//! What blocks new entries (exits are never blocked):
//! * **Kill switch** (RISK-6 / RUN-4): trips when the day's net loss (equity
//!   versus the equity at 00:00 UTC) exceeds `daily_loss_limit`, or by hand.
//!   It stays on across days until a confirmed manual resume.
//! * **Consecutive losses**: `consecutive_loss_limit` losing trades in a row
//!   block entries until the next UTC day (or a manual resume).
//! * **Slippage anomaly**: a fill whose adverse slippage exceeds
//!   `slippage_anomaly_threshold` blocks entries for the cool-down.
//! * **API / DB failing** (RUN-2): while the flag is set.
//! * **PANIC regime**: while the regime is PANIC.
//!
//! RUN-1: `order_failure_limit` failed orders on one market within
//! `blacklist_minutes` blacklist it for `blacklist_minutes`.
//!
//! Time is always an argument; the state is serde-serialisable so the trader
//! can persist it in `trader_safety_state` and restore it after a restart.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::{Krw, Market, ReasonCode, RegimeLabel};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{RiskParams, serde_decimal};

/// Whether the kill switch is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KillSwitch {
    /// Entries may proceed (as far as the kill switch is concerned).
    Off,
    /// No new entries until a confirmed manual resume.
    Tripped {
        /// When it tripped.
        at: DateTime<Utc>,
        /// Why.
        cause: KillCause,
    },
}

/// The ending of an operator's kill reason that asks the trader to sell
/// every open position (RUN-4's optional liquidation). The dashboard-api
/// writes it; the trader reads it; nothing else in a reason (a user name,
/// free text) can ask for a liquidation.
pub const LIQUIDATE_MARK: &str = "; liquidate every open position";

/// True when an operator's kill `reason` asks for liquidation: it ends with
/// [`LIQUIDATE_MARK`] exactly.
pub fn asks_liquidation(reason: &str) -> bool {
    reason.ends_with(LIQUIDATE_MARK)
}

/// Why the kill switch tripped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KillCause {
    /// RISK-6: the day's net loss exceeded the limit.
    DailyLoss {
        /// Equity at the day's start minus current equity.
        loss: Krw,
        /// `daily_loss_limit × day-start equity`.
        limit: Krw,
    },
    /// An operator tripped it.
    Manual {
        /// Who.
        operator: String,
        /// Why.
        reason: String,
    },
}

/// Failed orders counted for RUN-1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureWindow {
    /// Failures since `since`.
    pub count: u32,
    /// The first failure of the window.
    pub since: DateTime<Utc>,
}

/// Something that happened that the guard must know about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GuardEvent {
    /// Time passed (rolls the UTC day; expires cool-downs and blacklists).
    Tick,
    /// Current equity (cash + positions at mark): checks the daily loss limit.
    EquityMarked {
        /// Equity now.
        equity: Krw,
    },
    /// A round trip closed with this net PnL (fees included).
    TradeClosed {
        /// Market.
        market: Market,
        /// Net PnL.
        pnl: Krw,
    },
    /// A fill's adverse slippage versus its expected price (positive = worse).
    SlippageObserved {
        /// Market.
        market: Market,
        /// `(fill − expected) / expected` for buys, the mirror for sells.
        #[serde(with = "serde_decimal")]
        slippage: Decimal,
    },
    /// Exchange API health (RUN-2/3).
    ApiHealth {
        /// True when healthy.
        ok: bool,
    },
    /// Database health (RUN-2).
    DbHealth {
        /// True when healthy.
        ok: bool,
    },
    /// The regime engine's current label (PANIC blocks entries).
    RegimeChanged {
        /// New label.
        label: RegimeLabel,
    },
    /// An order failed after its retries (RUN-1).
    OrderFailed {
        /// Market.
        market: Market,
    },
    /// An order on this market succeeded (resets its RUN-1 count).
    OrderSucceeded {
        /// Market.
        market: Market,
    },
    /// An operator trips the kill switch.
    TripKillSwitch {
        /// Who.
        operator: String,
        /// Why.
        reason: String,
    },
    /// An operator resumes after a kill switch or a manual-clear block (RUN-4).
    ManualResume {
        /// Who.
        operator: String,
        /// The operator confirmed (the UI's APPLY in the confirmation popup).
        confirmed: bool,
    },
}

impl GuardEvent {
    /// Audit name of the event.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Tick => "TICK",
            Self::EquityMarked { .. } => "EQUITY_MARKED",
            Self::TradeClosed { .. } => "TRADE_CLOSED",
            Self::SlippageObserved { .. } => "SLIPPAGE_OBSERVED",
            Self::ApiHealth { .. } => "API_HEALTH",
            Self::DbHealth { .. } => "DB_HEALTH",
            Self::RegimeChanged { .. } => "REGIME_CHANGED",
            Self::OrderFailed { .. } => "ORDER_FAILED",
            Self::OrderSucceeded { .. } => "ORDER_SUCCEEDED",
            Self::TripKillSwitch { .. } => "TRIP_KILL_SWITCH",
            Self::ManualResume { .. } => "MANUAL_RESUME",
        }
    }
}

/// A reason new entries are blocked right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "block", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BlockReason {
    /// The kill switch is on.
    KillSwitch,
    /// Too many losses in a row today.
    ConsecutiveLosses {
        /// Losses in a row.
        count: u32,
        /// The limit.
        limit: u32,
    },
    /// A slippage anomaly cool-down is running.
    SlippageAnomaly {
        /// When it ends.
        until: DateTime<Utc>,
    },
    /// The exchange API is failing.
    ApiFailing,
    /// The database is failing.
    DbFailing,
    /// The regime is PANIC.
    RegimePanic,
}

impl BlockReason {
    /// Stable reason code (used by PRE-6 / PRE-8).
    pub fn reason_code(&self) -> ReasonCode {
        ReasonCode::new_static(match self {
            Self::KillSwitch => "GUARD_KILL_SWITCH",
            Self::ConsecutiveLosses { .. } => "GUARD_CONSECUTIVE_LOSSES",
            Self::SlippageAnomaly { .. } => "GUARD_SLIPPAGE_ANOMALY",
            Self::ApiFailing => "GUARD_API_FAILING",
            Self::DbFailing => "GUARD_DB_FAILING",
            Self::RegimePanic => "GUARD_REGIME_PANIC",
        })
    }
}

/// What a transition changed (the trader turns these into alerts, STAB-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GuardEffect {
    /// A new UTC day began: daily PnL and the loss streak were reset.
    DayRolled {
        /// The new day.
        day: NaiveDate,
        /// Its starting equity.
        start_equity: Krw,
    },
    /// The kill switch tripped (CRITICAL).
    KillSwitchTripped {
        /// Why.
        cause: KillCause,
    },
    /// A manual resume cleared the kill switch and/or blocks.
    Resumed {
        /// Who.
        operator: String,
    },
    /// The loss streak reached the limit (WARN).
    ConsecutiveLossBlock {
        /// Losses in a row.
        count: u32,
    },
    /// A slippage anomaly started a cool-down (WARN).
    SlippageAnomaly {
        /// Market.
        market: Market,
        /// Until when entries are blocked.
        until: DateTime<Utc>,
    },
    /// A health flag changed.
    HealthChanged {
        /// `API` or `DB`.
        component: String,
        /// New state.
        ok: bool,
    },
    /// The PANIC block changed.
    PanicBlock {
        /// True when now blocking.
        active: bool,
    },
    /// RUN-1: a market was blacklisted (alert).
    MarketBlacklisted {
        /// Market.
        market: Market,
        /// Until when.
        until: DateTime<Utc>,
    },
}

/// The audit record of one transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardTransition {
    /// When (from the injected clock).
    pub at: DateTime<Utc>,
    /// The event applied.
    pub event: GuardEvent,
    /// Entry blocks before.
    pub blocks_before: Vec<BlockReason>,
    /// Entry blocks after.
    pub blocks_after: Vec<BlockReason>,
    /// What changed.
    pub effects: Vec<GuardEffect>,
}

/// A refused transition; the guard is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// RUN-4: resuming needs an explicit confirmation.
    #[error("manual resume needs confirmation")]
    ResumeNotConfirmed,
    /// Nothing that a manual resume clears is active.
    #[error("nothing to resume: the kill switch is off and no manual-clear block is active")]
    NothingToResume,
    /// The kill switch is already on.
    #[error("the kill switch is already tripped")]
    AlreadyTripped,
}

impl KillSwitch {
    /// The kill switch as persisted (`trader_safety_state`: on/off, the
    /// reason, the row's time): a switch that is on restores as a manual trip
    /// with its reason (the cause's details are not persisted).
    pub fn restored(on: bool, reason: Option<&str>, at: DateTime<Utc>) -> Self {
        if on {
            Self::Tripped {
                at,
                cause: KillCause::Manual {
                    operator: "restored".to_owned(),
                    reason: reason.unwrap_or_default().to_owned(),
                },
            }
        } else {
            Self::Off
        }
    }
}

/// The part of the guard that is persisted (`trader_safety_state`), see
/// [`RuntimeGuard::snapshot`] and [`RuntimeGuard::restore`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardSnapshot {
    /// The UTC day the figures belong to.
    pub day: NaiveDate,
    /// Day-start equity minus the last marked equity (positive = a loss).
    pub daily_loss: Krw,
    /// Losing trades in a row.
    pub consecutive_losses: u32,
    /// The kill switch.
    pub kill_switch: KillSwitch,
    /// Blacklisted markets and until when (RUN-1).
    pub blacklist: BTreeMap<Market, DateTime<Utc>>,
}

/// The guard's state. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeGuard {
    day: NaiveDate,
    day_start_equity: Krw,
    last_equity: Krw,
    consecutive_losses: u32,
    consecutive_loss_block: bool,
    kill_switch: KillSwitch,
    slippage_block_until: Option<DateTime<Utc>>,
    api_failing: bool,
    db_failing: bool,
    panic_block: bool,
    order_failures: BTreeMap<Market, FailureWindow>,
    blacklist: BTreeMap<Market, DateTime<Utc>>,
}

fn minutes(m: u32) -> Duration {
    Duration::minutes(i64::from(m))
}

impl RuntimeGuard {
    /// A fresh guard: nothing blocked, the day starting now with `equity`.
    pub fn new(equity: Krw, now: DateTime<Utc>) -> Self {
        Self {
            day: now.date_naive(),
            day_start_equity: equity,
            last_equity: equity,
            consecutive_losses: 0,
            consecutive_loss_block: false,
            kill_switch: KillSwitch::Off,
            slippage_block_until: None,
            api_failing: false,
            db_failing: false,
            panic_block: false,
            order_failures: BTreeMap::new(),
            blacklist: BTreeMap::new(),
        }
    }

    /// Every reason new entries are blocked at `now` (empty: entries allowed).
    /// Time-based blocks are evaluated against `now`, so a stale state (no
    /// `Tick` yet today) still answers correctly.
    pub fn blocks(&self, now: DateTime<Utc>, params: &RiskParams) -> Vec<BlockReason> {
        let mut out = Vec::new();
        if matches!(self.kill_switch, KillSwitch::Tripped { .. }) {
            out.push(BlockReason::KillSwitch);
        }
        if self.consecutive_loss_block && now.date_naive() <= self.day {
            out.push(BlockReason::ConsecutiveLosses {
                count: self.consecutive_losses,
                limit: params.consecutive_loss_limit,
            });
        }
        if let Some(until) = self.slippage_block_until
            && until > now
        {
            out.push(BlockReason::SlippageAnomaly { until });
        }
        if self.api_failing {
            out.push(BlockReason::ApiFailing);
        }
        if self.db_failing {
            out.push(BlockReason::DbFailing);
        }
        if self.panic_block {
            out.push(BlockReason::RegimePanic);
        }
        out
    }

    /// True when nothing blocks new entries at `now`.
    pub fn entries_allowed(&self, now: DateTime<Utc>, params: &RiskParams) -> bool {
        self.blocks(now, params).is_empty()
    }

    /// RUN-1: the end of `market`'s blacklisting, if it is blacklisted at `now`.
    pub fn blacklisted_until(&self, market: &Market, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.blacklist
            .get(market)
            .copied()
            .filter(|until| *until > now)
    }

    /// The kill switch.
    pub fn kill_switch(&self) -> &KillSwitch {
        &self.kill_switch
    }

    /// The UTC day the counters belong to.
    pub fn day(&self) -> NaiveDate {
        self.day
    }

    /// Net PnL since the day's start (last marked equity − day-start equity).
    pub fn daily_pnl(&self) -> Krw {
        self.last_equity - self.day_start_equity
    }

    /// Equity at the start of the day (or at the last manual resume).
    pub fn day_start_equity(&self) -> Krw {
        self.day_start_equity
    }

    /// Losing trades in a row.
    pub fn consecutive_losses(&self) -> u32 {
        self.consecutive_losses
    }

    /// The exchange API failure flag.
    pub fn api_failing(&self) -> bool {
        self.api_failing
    }

    /// RUN-1: records a failed order (same as applying [`GuardEvent::OrderFailed`]).
    pub fn record_order_failure(
        &mut self,
        market: Market,
        now: DateTime<Utc>,
        params: &RiskParams,
    ) -> GuardTransition {
        let before = self.blocks(now, params);
        let mut effects = self.roll_day(now);
        self.expire(now);
        self.order_failed(&market, now, params, &mut effects);
        GuardTransition {
            at: now,
            event: GuardEvent::OrderFailed { market },
            blocks_before: before,
            blocks_after: self.blocks(now, params),
            effects,
        }
    }

    /// The transition function. Rolls the UTC day first, expires cool-downs
    /// and blacklists, then applies `event`. On `Err` nothing changed.
    pub fn apply(
        &mut self,
        event: GuardEvent,
        now: DateTime<Utc>,
        params: &RiskParams,
    ) -> Result<GuardTransition, GuardError> {
        let before = self.blocks(now, params);
        let mut next = self.clone();
        let mut effects = next.roll_day(now);
        next.expire(now);
        match &event {
            GuardEvent::Tick => {}
            GuardEvent::EquityMarked { equity } => {
                next.last_equity = *equity;
                next.check_daily_loss(now, params, &mut effects);
            }
            GuardEvent::TradeClosed { pnl, .. } => {
                if pnl.is_negative() {
                    next.consecutive_losses = next.consecutive_losses.saturating_add(1);
                    if next.consecutive_losses >= params.consecutive_loss_limit
                        && !next.consecutive_loss_block
                    {
                        next.consecutive_loss_block = true;
                        effects.push(GuardEffect::ConsecutiveLossBlock {
                            count: next.consecutive_losses,
                        });
                    }
                } else {
                    next.consecutive_losses = 0;
                }
            }
            GuardEvent::SlippageObserved { market, slippage } => {
                if *slippage > params.slippage_anomaly_threshold {
                    let until = now + minutes(params.slippage_anomaly_cooldown_minutes);
                    let until = next.slippage_block_until.map_or(until, |u| u.max(until));
                    next.slippage_block_until = Some(until);
                    effects.push(GuardEffect::SlippageAnomaly {
                        market: market.clone(),
                        until,
                    });
                }
            }
            GuardEvent::ApiHealth { ok } => {
                if next.api_failing == *ok {
                    next.api_failing = !ok;
                    effects.push(GuardEffect::HealthChanged {
                        component: "API".to_owned(),
                        ok: *ok,
                    });
                }
            }
            GuardEvent::DbHealth { ok } => {
                if next.db_failing == *ok {
                    next.db_failing = !ok;
                    effects.push(GuardEffect::HealthChanged {
                        component: "DB".to_owned(),
                        ok: *ok,
                    });
                }
            }
            GuardEvent::RegimeChanged { label } => {
                let active = *label == RegimeLabel::Panic;
                if next.panic_block != active {
                    next.panic_block = active;
                    effects.push(GuardEffect::PanicBlock { active });
                }
            }
            GuardEvent::OrderFailed { market } => {
                next.order_failed(market, now, params, &mut effects);
            }
            GuardEvent::OrderSucceeded { market } => {
                next.order_failures.remove(market);
            }
            GuardEvent::TripKillSwitch { operator, reason } => {
                if matches!(next.kill_switch, KillSwitch::Tripped { .. }) {
                    return Err(GuardError::AlreadyTripped);
                }
                let cause = KillCause::Manual {
                    operator: operator.clone(),
                    reason: reason.clone(),
                };
                next.kill_switch = KillSwitch::Tripped {
                    at: now,
                    cause: cause.clone(),
                };
                effects.push(GuardEffect::KillSwitchTripped { cause });
            }
            GuardEvent::ManualResume {
                operator,
                confirmed,
            } => {
                if !confirmed {
                    return Err(GuardError::ResumeNotConfirmed);
                }
                let slippage_active = next.slippage_block_until.is_some_and(|u| u > now);
                if matches!(next.kill_switch, KillSwitch::Off)
                    && !next.consecutive_loss_block
                    && !slippage_active
                {
                    return Err(GuardError::NothingToResume);
                }
                next.kill_switch = KillSwitch::Off;
                next.consecutive_loss_block = false;
                next.consecutive_losses = 0;
                next.slippage_block_until = None;
                // The operator accepted today's loss: the limit counts from here.
                next.day_start_equity = next.last_equity;
                effects.push(GuardEffect::Resumed {
                    operator: operator.clone(),
                });
            }
        }
        *self = next;
        Ok(GuardTransition {
            at: now,
            event,
            blocks_before: before,
            blocks_after: self.blocks(now, params),
            effects,
        })
    }

    /// What a restart must keep (the `trader_safety_state` row): the trading
    /// day, the day's net loss so far, the loss streak, the kill switch and
    /// the blacklist. Health flags, the PANIC block and slippage cool-downs
    /// are re-learned from live data after a restart.
    pub fn snapshot(&self) -> GuardSnapshot {
        GuardSnapshot {
            day: self.day,
            daily_loss: self.day_start_equity - self.last_equity,
            consecutive_losses: self.consecutive_losses,
            kill_switch: self.kill_switch.clone(),
            blacklist: self.blacklist.clone(),
        }
    }

    /// Rebuilds a guard from a [`GuardSnapshot`] with the equity now. On the
    /// same UTC day the day's start equity is `equity + daily_loss`, so the
    /// daily loss limit keeps counting from where it was; on a later day the
    /// day starts afresh. The kill switch and unexpired blacklist entries
    /// survive; the loss-streak block is re-derived from the count.
    pub fn restore(
        snapshot: GuardSnapshot,
        equity: Krw,
        now: DateTime<Utc>,
        params: &RiskParams,
    ) -> Self {
        let today = now.date_naive();
        let same_day = snapshot.day >= today;
        let mut g = Self::new(equity, now);
        if same_day {
            g.day = snapshot.day;
            g.day_start_equity = equity + snapshot.daily_loss;
            g.consecutive_losses = snapshot.consecutive_losses;
            g.consecutive_loss_block = snapshot.consecutive_losses >= params.consecutive_loss_limit;
        }
        g.kill_switch = snapshot.kill_switch;
        g.blacklist = snapshot
            .blacklist
            .into_iter()
            .filter(|(_, until)| *until > now)
            .collect();
        g
    }

    fn roll_day(&mut self, now: DateTime<Utc>) -> Vec<GuardEffect> {
        let today = now.date_naive();
        if today <= self.day {
            return Vec::new();
        }
        self.day = today;
        self.day_start_equity = self.last_equity;
        self.consecutive_losses = 0;
        self.consecutive_loss_block = false;
        vec![GuardEffect::DayRolled {
            day: today,
            start_equity: self.day_start_equity,
        }]
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        if self.slippage_block_until.is_some_and(|u| u <= now) {
            self.slippage_block_until = None;
        }
        self.blacklist.retain(|_, until| *until > now);
    }

    fn check_daily_loss(
        &mut self,
        now: DateTime<Utc>,
        params: &RiskParams,
        effects: &mut Vec<GuardEffect>,
    ) {
        if matches!(self.kill_switch, KillSwitch::Tripped { .. })
            || self.day_start_equity.get() <= Decimal::ZERO
        {
            return;
        }
        let loss = self.day_start_equity - self.last_equity;
        let limit = self.day_start_equity.times(params.daily_loss_limit);
        if loss > limit {
            let cause = KillCause::DailyLoss { loss, limit };
            self.kill_switch = KillSwitch::Tripped {
                at: now,
                cause: cause.clone(),
            };
            effects.push(GuardEffect::KillSwitchTripped { cause });
        }
    }

    fn order_failed(
        &mut self,
        market: &Market,
        now: DateTime<Utc>,
        params: &RiskParams,
        effects: &mut Vec<GuardEffect>,
    ) {
        let window = minutes(params.blacklist_minutes);
        let entry = self
            .order_failures
            .entry(market.clone())
            .or_insert(FailureWindow {
                count: 0,
                since: now,
            });
        if now - entry.since > window {
            *entry = FailureWindow {
                count: 0,
                since: now,
            };
        }
        entry.count += 1;
        if entry.count >= params.order_failure_limit {
            self.order_failures.remove(market);
            let until = now + window;
            self.blacklist.insert(market.clone(), until);
            effects.push(GuardEffect::MarketBlacklisted {
                market: market.clone(),
                until,
            });
        }
    }
}

#[cfg(test)]
mod tests;
