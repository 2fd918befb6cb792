//! The JSON shapes of docs/api.md, built from storage rows. Money is a
//! decimal string (`Krw` serialises as one), times are RFC 3339 UTC.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::{CredentialId, Krw, Mode, RiskProfile, RunState, StrategyId, TraderId};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde::Serialize;
use serde_json::Value;
use storage::{
    StorageError, Store,
    audit::ConfigAuditEntry,
    credentials::CredentialSummary,
    strategies::{Strategy, StrategyVersion},
    traders::Trader,
};

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

/// Builds trader views with few queries (strategies once, equity per trader).
#[derive(Debug)]
pub struct TraderViews<'a> {
    store: &'a Store,
    now: DateTime<Utc>,
    alive_within: chrono::Duration,
    strategies: HashMap<StrategyId, Strategy>,
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
            .collect();
        Ok(Self {
            store,
            now,
            alive_within,
            strategies,
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
        let profit = equity.map_or(Krw::ZERO, |e| e.equity - t.seed_krw);
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
