//! The JSON shapes of docs/api.md, built from storage rows. Money is a
//! decimal string (`Krw` serialises as one), times are RFC 3339 UTC.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::{CredentialId, Krw, Market, Mode, RiskProfile, RunState, StrategyId, TraderId};
use risk::{BlockReason, GuardSnapshot, KillSwitch, RiskParams, RuntimeGuard};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde::Serialize;
use serde_json::Value;
use storage::{
    StorageError, Store,
    audit::ConfigAuditEntry,
    credentials::CredentialSummary,
    events::Event,
    safety::SafetyState,
    strategies::{Strategy, StrategyVersion},
    traders::Trader,
};

use crate::models::{self, ActiveModels};

/// Event kinds that turn a kill switch on (the trader's own trip, an
/// operator's trip through the API) and off.
pub const KILL_SWITCH_ON_KINDS: [&str; 2] = ["KILL_SWITCH", "KILL_SWITCH_TRIP_REQUESTED"];
/// See [`KILL_SWITCH_ON_KINDS`].
pub const KILL_SWITCH_OFF_KINDS: [&str; 2] =
    ["KILL_SWITCH_RESUMED", "KILL_SWITCH_RESUME_REQUESTED"];

/// `Trader.strategy`.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyRef {
    /// Strategy id.
    pub id: StrategyId,
    /// Strategy name.
    pub name: String,
    /// The version the trader runs (the latest; FIX-12 recreates on change).
    pub version: u32,
}

/// `Trader` in docs/api.md.
#[derive(Debug, Clone, Serialize)]
pub struct TraderView {
    /// Id.
    pub id: TraderId,
    /// Name.
    pub name: String,
    /// Seed money.
    pub seed_krw: Krw,
    /// Its strategy and version.
    pub strategy: StrategyRef,
    /// Credential for LIVE.
    pub credential_id: Option<CredentialId>,
    /// PAPER or LIVE.
    pub mode: Mode,
    /// RUNNING, STOPPED.
    pub run_state: RunState,
    /// Armed for LIVE.
    pub armed: bool,
    /// Equity minus seed, at the newest equity snapshot (0 before any).
    pub profit_krw: Krw,
    /// `profit_krw / seed_krw × 100`.
    pub profit_pct: f64,
    /// RUNNING with a recent heartbeat.
    pub alive: bool,
    /// Last heartbeat.
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// End of the strategy version's 24 h PAPER protection (null: PAPER
    /// not started yet, so LIVE is refused).
    pub protection_until: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// The runtime guard and kill switch as the trader persisted them.
    pub guard: GuardView,
}

/// `Trader.kill_switch` (RUN-4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KillSwitchView {
    /// On: no new entries until an operator resumes.
    pub on: bool,
    /// Why it is on.
    pub reason: Option<String>,
    /// When it went on (the trip event; null when unknown or off).
    pub since: Option<DateTime<Utc>>,
    /// The trader sells every open position (the operator asked for it).
    pub liquidate: bool,
}

/// One reason new entries are blocked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockView {
    /// Stable code (the reason code a refused entry records).
    pub code: String,
    /// Plain words.
    pub message: String,
}

/// A blacklisted market (RUN-1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlacklistView {
    /// Market.
    pub market: Market,
    /// Until when.
    pub until: DateTime<Utc>,
}

/// `Trader.guard` (STAB-1, RISK-6, RUN-1, RUN-4): what the trader persisted
/// in `trader_safety_state`, read as the trader restores it now. Transient
/// blocks (exchange / database failing, PANIC, a slippage cool-down) are not
/// persisted; they appear as events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardView {
    /// The kill switch.
    pub kill_switch: KillSwitchView,
    /// Why new entries are blocked now (empty: allowed as far as the
    /// persisted guard knows).
    pub blocked_entries: Vec<BlockView>,
    /// The UTC day the figures belong to (null before the trader wrote its
    /// state).
    pub trading_day: Option<NaiveDate>,
    /// Net result since the day's start (a loss is negative).
    pub daily_pnl_krw: Krw,
    /// `daily_pnl_krw` in percent of the day's starting equity.
    pub daily_pnl_pct: f64,
    /// The daily loss limit in percent (RISK-6).
    pub daily_loss_limit_pct: f64,
    /// Losing trades in a row today.
    pub consecutive_losses: u32,
    /// The limit of losing trades in a row (STAB-1).
    pub consecutive_loss_limit: u32,
    /// Blacklisted markets (RUN-1).
    pub blacklist: Vec<BlacklistView>,
    /// When the trader (or an operator) last wrote the state.
    pub updated_at: Option<DateTime<Utc>>,
}

/// The guard a trader restores from `s` with `equity` at `now`.
fn restored(s: &SafetyState, equity: Krw, now: DateTime<Utc>, params: &RiskParams) -> RuntimeGuard {
    let snapshot = GuardSnapshot {
        day: s.trading_day,
        daily_loss: s.daily_loss,
        consecutive_losses: s.consecutive_losses,
        kill_switch: KillSwitch::restored(s.kill_switch, s.kill_reason.as_deref(), s.updated_at),
        blacklist: s.blacklist.clone(),
    };
    RuntimeGuard::restore(snapshot, equity, now, params)
}

fn block_view(b: &BlockReason) -> BlockView {
    let message = match b {
        BlockReason::KillSwitch => {
            "kill switch on: no new entries until an operator resumes".to_owned()
        }
        BlockReason::ConsecutiveLosses { count, limit } => format!(
            "{count} losing trades in a row (limit {limit}): no new entries until the next UTC day"
        ),
        BlockReason::SlippageAnomaly { until } => {
            format!("slippage anomaly: no new entries until {until}")
        }
        BlockReason::ApiFailing => "the exchange API is failing".to_owned(),
        BlockReason::DbFailing => "the database is failing".to_owned(),
        BlockReason::RegimePanic => "the regime is PANIC".to_owned(),
    };
    BlockView {
        code: b.reason_code().as_str().to_owned(),
        message,
    }
}

fn pct(x: Decimal, base: Decimal) -> f64 {
    if base <= Decimal::ZERO {
        return 0.0;
    }
    (x * Decimal::ONE_HUNDRED / base)
        .round_dp(4)
        .to_f64()
        .unwrap_or(0.0)
}

/// The guard view of a persisted state (None: the trader has not written
/// one yet), with the trader's equity now and its risk parameters.
pub fn guard_view(
    s: Option<&SafetyState>,
    equity: Krw,
    now: DateTime<Utc>,
    params: &RiskParams,
    since: Option<DateTime<Utc>>,
) -> GuardView {
    let limits = (
        pct(params.daily_loss_limit, Decimal::ONE),
        params.consecutive_loss_limit,
    );
    let Some(s) = s else {
        return GuardView {
            kill_switch: KillSwitchView {
                on: false,
                reason: None,
                since: None,
                liquidate: false,
            },
            blocked_entries: Vec::new(),
            trading_day: None,
            daily_pnl_krw: Krw::ZERO,
            daily_pnl_pct: 0.0,
            daily_loss_limit_pct: limits.0,
            consecutive_losses: 0,
            consecutive_loss_limit: limits.1,
            blacklist: Vec::new(),
            updated_at: None,
        };
    };
    let g = restored(s, equity, now, params);
    let pnl = g.daily_pnl();
    GuardView {
        kill_switch: KillSwitchView {
            on: s.kill_switch,
            reason: s.kill_reason.clone().filter(|_| s.kill_switch),
            since: since.filter(|_| s.kill_switch),
            liquidate: s.kill_switch
                && s.kill_reason.as_deref().is_some_and(risk::asks_liquidation),
        },
        blocked_entries: g.blocks(now, params).iter().map(block_view).collect(),
        trading_day: Some(g.day()),
        daily_pnl_krw: pnl,
        daily_pnl_pct: pct(pnl.get(), g.day_start_equity().get()),
        daily_loss_limit_pct: limits.0,
        consecutive_losses: g.consecutive_losses(),
        consecutive_loss_limit: limits.1,
        blacklist: s
            .blacklist
            .iter()
            .filter(|(_, until)| **until > now)
            .map(|(m, until)| BlacklistView {
                market: m.clone(),
                until: *until,
            })
            .collect(),
        updated_at: Some(s.updated_at),
    }
}

/// When the kill switch went on: the oldest of the newest run of trip
/// events (`events` newest first), stopping at the last resume.
pub fn kill_switch_since(events: &[Event]) -> Option<DateTime<Utc>> {
    events
        .iter()
        .take_while(|e| KILL_SWITCH_ON_KINDS.contains(&e.kind.as_str()))
        .last()
        .map(|e| e.ts)
}

/// Return in percent of `seed`, rounded to 4 decimals.
pub fn return_pct(profit: Krw, seed: Krw) -> f64 {
    if seed.get() <= Decimal::ZERO {
        return 0.0;
    }
    (profit.get() * Decimal::ONE_HUNDRED / seed.get())
        .round_dp(4)
        .to_f64()
        .unwrap_or(0.0)
}

/// Builds trader views with few queries (strategies, guard states and the
/// deployed AI MODE models once; equity per trader).
#[derive(Debug)]
pub struct TraderViews<'a> {
    store: &'a Store,
    now: DateTime<Utc>,
    alive_within: chrono::Duration,
    strategies: HashMap<StrategyId, Strategy>,
    safety: HashMap<TraderId, SafetyState>,
    models: ActiveModels,
}

impl<'a> TraderViews<'a> {
    /// Loads the strategies.
    pub async fn load(
        store: &'a Store,
        now: DateTime<Utc>,
        alive_within: chrono::Duration,
    ) -> Result<Self, StorageError> {
        let strategies = store
            .strategies()
            .list()
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect::<HashMap<_, _>>();
        let safety = store
            .safety()
            .list()
            .await?
            .into_iter()
            .map(|s| (s.trader_id, s))
            .collect();
        let models = if strategies
            .values()
            .any(|s| s.latest.risk_profile == RiskProfile::AiMode)
        {
            ActiveModels::load(store).await?
        } else {
            ActiveModels::default()
        };
        Ok(Self {
            store,
            now,
            alive_within,
            strategies,
            safety,
            models,
        })
    }

    /// The view of one trader.
    pub async fn view(&self, t: &Trader) -> Result<TraderView, StorageError> {
        let (strategy, protection_until) = match self.strategies.get(&t.strategy_id) {
            Some(s) => (
                StrategyRef {
                    id: s.id,
                    name: s.name.clone(),
                    version: s.latest.version,
                },
                s.latest.protection_until,
            ),
            None => (
                StrategyRef {
                    id: t.strategy_id,
                    name: String::new(),
                    version: 0,
                },
                None,
            ),
        };
        let equity = self.store.equity().latest(t.id).await?;
        let equity = equity.map_or(t.seed_krw, |e| e.equity);
        let profit = equity - t.seed_krw;
        let safety = self.safety.get(&t.id);
        let since = match safety {
            Some(s) if s.kill_switch => {
                let mut kinds = KILL_SWITCH_ON_KINDS.to_vec();
                kinds.extend(KILL_SWITCH_OFF_KINDS);
                kill_switch_since(
                    &self
                        .store
                        .events()
                        .latest_of_kinds(t.id, &kinds, 20)
                        .await?,
                )
            }
            _ => None,
        };
        let params = match self.strategies.get(&t.strategy_id) {
            Some(s) => {
                models::risk_params(&s.latest, self.models.for_trader(&s.latest, t.state.mode))
            }
            None => RiskParams::builtin(RiskProfile::Standard),
        };
        let guard = guard_view(safety, equity, self.now, &params, since);
        let alive = t.state.run == RunState::Running
            && t.last_heartbeat_at
                .is_some_and(|hb| self.now - hb <= self.alive_within);
        Ok(TraderView {
            id: t.id,
            name: t.name.clone(),
            seed_krw: t.seed_krw,
            strategy,
            credential_id: t.credential_id,
            mode: t.state.mode,
            run_state: t.state.run,
            armed: t.state.armed,
            profit_krw: profit,
            profit_pct: return_pct(profit, t.seed_krw),
            alive,
            last_heartbeat_at: t.last_heartbeat_at,
            protection_until,
            created_at: t.created_at,
            guard,
        })
    }
}

/// `Strategy` in docs/api.md (its latest version).
#[derive(Debug, Clone, Serialize)]
pub struct StrategyView {
    /// Id.
    pub id: StrategyId,
    /// Name.
    pub name: String,
    /// Risk profile of the latest version.
    pub risk_profile: RiskProfile,
    /// Latest version number.
    pub version: u32,
    /// Latest definition.
    pub definition: Value,
    /// End of the latest version's PAPER protection (null: not started).
    pub protection_until: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When the latest version was created.
    pub updated_at: DateTime<Utc>,
}

impl From<&Strategy> for StrategyView {
    fn from(s: &Strategy) -> Self {
        Self {
            id: s.id,
            name: s.name.clone(),
            risk_profile: s.latest.risk_profile,
            version: s.latest.version,
            definition: s.latest.definition.clone(),
            protection_until: s.latest.protection_until,
            created_at: s.created_at,
            updated_at: s.latest.created_at,
        }
    }
}

/// One entry of `GET /strategies/{id}/versions`.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyVersionView {
    /// Version number.
    pub version: u32,
    /// Its definition.
    pub definition: Value,
    /// Its risk profile.
    pub risk_profile: RiskProfile,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// End of its PAPER protection.
    pub protection_until: Option<DateTime<Utc>>,
}

impl From<&StrategyVersion> for StrategyVersionView {
    fn from(v: &StrategyVersion) -> Self {
        Self {
            version: v.version,
            definition: v.definition.clone(),
            risk_profile: v.risk_profile,
            created_at: v.created_at,
            created_by: v.created_by.clone(),
            protection_until: v.protection_until,
        }
    }
}

/// `Credential` in docs/api.md. Never holds the secret.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialView {
    /// Id.
    pub id: CredentialId,
    /// Name.
    pub name: String,
    /// The first characters of the access key, then `…`.
    pub access_key_masked: String,
    /// Added.
    pub created_at: DateTime<Utc>,
    /// Traders (not removed) using it.
    pub in_use_by: Vec<TraderId>,
    /// Result of the exchange check (only when just added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<&'static str>,
}

impl CredentialView {
    /// The view of a credential with its users.
    pub fn new(c: &CredentialSummary, traders: &[Trader]) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            access_key_masked: c.access_key_masked.clone(),
            created_at: c.created_at,
            in_use_by: traders
                .iter()
                .filter(|t| t.credential_id == Some(c.id) && t.removed_at.is_none())
                .map(|t| t.id)
                .collect(),
            check: None,
        }
    }
}

/// `GET /audit` rows.
#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    /// Row id.
    pub id: i64,
    /// When.
    pub ts: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What kind of thing.
    pub entity: String,
    /// Which one.
    pub entity_id: String,
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    /// Before.
    pub old: Option<Value>,
    /// After.
    pub new: Option<Value>,
}

impl From<ConfigAuditEntry> for AuditView {
    fn from(e: ConfigAuditEntry) -> Self {
        let action = match (&e.old_value, &e.new_value) {
            (None, Some(_)) => "create",
            (Some(_), None) => "delete",
            _ => "update",
        };
        Self {
            id: e.id,
            ts: e.ts,
            actor: e.actor,
            entity: e.entity,
            entity_id: e.entity_id,
            action,
            old: e.old_value,
            new: e.new_value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_pct_table() {
        let cases = [
            (0, 1_000_000, 0.0),
            (1234, 1_000_000, 0.1234),
            (-50_000, 1_000_000, -5.0),
            (1, 3, 33.3333),
            (5, 0, 0.0),
        ];
        for (profit, seed, want) in cases {
            let got = return_pct(Krw::from_i64(profit), Krw::from_i64(seed));
            assert!(
                (got - want).abs() < 1e-9,
                "{profit}/{seed}: {got} != {want}"
            );
        }
    }
}
