//! Trader control: every operation changes the database first (audited
//! transition through the domain table) and then makes the runtime match,
//! one trader at a time. The spec a runtime gets carries the strategy
//! version, mode, credential and — for AI MODE — the model version in its
//! config hash, because a trader reads them once at start: any change of
//! them means a recreated instance (FIX-12). A model change needs no API
//! call, so a periodic pass ([`spawn_reconcile_loop`]) recreates RUNNING
//! traders whose hash changed. ARM is not in the hash — a trader re-reads its
//! armed flag before every LIVE order — nor is the kill switch, which the
//! trader adopts from `trader_safety_state` while it runs.

use std::{
    collections::{BTreeMap, HashMap},
    sync::PoisonError,
    time::Duration,
};

use chrono::{DateTime, Utc};
use domain::{
    Mode, ModelVersionId, RiskProfile, RunState, TraderEvent, TraderId, TraderState,
    lifecycle::PROTECTION_PERIOD,
};
use orchestrator::{DesiredTrader, ReconcileReport, TraderSpec};
use serde_json::{Value, json};
use storage::{
    audit::NewConfigAudit,
    events::EventLevel,
    strategies::StrategyVersion,
    traders::{NewTrader, Trader},
};

use crate::{
    error::{ApiError, ApiResult},
    events::{new_event, stopped},
    models::ActiveModels,
    state::AppState,
};

/// Actor of changes the API makes on its own (reverts, start-up reconcile).
pub const SYSTEM_ACTOR: &str = "system";

/// The config hash of what a trader reads once at start: strategy, version,
/// mode, credential, and for an AI MODE strategy the model version it should
/// use (`.m0`: none, the built-in numbers).
pub fn config_hash(t: &Trader, version: &StrategyVersion, model: Option<ModelVersionId>) -> String {
    let base = format!(
        "s{}.v{}.{}.c{}",
        t.strategy_id,
        version.version,
        t.state.mode,
        t.credential_id.map_or(0, domain::CredentialId::get)
    );
    if version.risk_profile == RiskProfile::AiMode {
        format!("{base}.m{}", model.map_or(0, ModelVersionId::get))
    } else {
        base
    }
}

/// The runtime spec of `t` on `version` with the model chosen for it.
pub fn spec_for(
    state: &AppState,
    t: &Trader,
    version: &StrategyVersion,
    model: Option<ModelVersionId>,
) -> ApiResult<TraderSpec> {
    let env: BTreeMap<String, String> = state.trader_env.0.clone();
    Ok(TraderSpec::new(t.id, config_hash(t, version, model), env)?)
}

/// The model `t` should use on `version` now (reads the deployed models only
/// for an AI MODE strategy).
pub async fn model_for(
    state: &AppState,
    t: &Trader,
    version: &StrategyVersion,
) -> ApiResult<Option<ModelVersionId>> {
    if version.risk_profile != RiskProfile::AiMode {
        return Ok(None);
    }
    let models = ActiveModels::load(state.store()).await?;
    Ok(models.for_trader(version, t.state.mode).map(|m| m.id))
}

/// The runtime spec of `t` on `version` as of now.
async fn spec_of(state: &AppState, t: &Trader, version: &StrategyVersion) -> ApiResult<TraderSpec> {
    let model = model_for(state, t, version).await?;
    spec_for(state, t, version, model)
}

fn state_json(s: TraderState) -> Value {
    json!({"run_state": s.run, "mode": s.mode, "armed": s.armed})
}

/// A live (not removed) trader or 404.
pub async fn live_trader(state: &AppState, id: TraderId) -> ApiResult<Trader> {
    match state.store().traders().get(id).await? {
        Some(t) if t.removed_at.is_none() => Ok(t),
        _ => Err(ApiError::not_found(format!("trader {id}"))),
    }
}

/// The strategy version a trader runs now (its strategy's latest).
pub async fn version_of(state: &AppState, t: &Trader) -> ApiResult<StrategyVersion> {
    state
        .store()
        .strategies()
        .latest_version(t.strategy_id)
        .await?
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("strategy {} has no version", t.strategy_id))
        })
}

/// When LIVE becomes possible for `version`: the end of its PAPER protection,
/// or 24 h from now when it has not run in PAPER yet (STAB-4).
fn protection_deadline(version: &StrategyVersion, now: DateTime<Utc>) -> DateTime<Utc> {
    version.protection_until.unwrap_or(now + PROTECTION_PERIOD)
}

/// Applies `event` (audited transition + config-audit row) and returns the
/// trader as stored afterwards.
async fn transition(
    state: &AppState,
    t: &Trader,
    event: TraderEvent,
    actor: &str,
) -> ApiResult<Trader> {
    let now = state.now();
    let tr = state
        .store()
        .traders()
        .update_state(t.id, event, actor, now)
        .await
        .map_err(|e| match e {
            // Storage names the field; for the API it is a state conflict.
            storage::StorageError::Invalid(v) if v.field == "credential_id" => ApiError::Conflict {
                code: "not_allowed",
                message: "credential_id: a LIVE trader needs a credential; this trader has none"
                    .to_owned(),
                field: Some("credential_id".to_owned()),
                remaining_secs: None,
            },
            other => other.into(),
        })?;
    let audit = NewConfigAudit {
        ts: now,
        actor: actor.to_owned(),
        entity: "trader".to_owned(),
        entity_id: t.id.to_string(),
        old_value: Some(state_json(tr.from)),
        new_value: (tr.to.run != RunState::Removed).then(|| state_json(tr.to)),
    };
    if let Err(e) = state.store().config_audit().append(&audit).await {
        tracing::error!(trader_id = %t.id, error = %e, "failed to write the config-audit row of a trader transition");
    }
    Ok(Trader {
        state: tr.to,
        updated_at: tr.at,
        ..t.clone()
    })
}

async fn event(state: &AppState, t: &Trader, level: EventLevel, kind: &str, message: String) {
    state
        .hub
        .record(new_event(
            state.now(),
            Some(t.id),
            level,
            kind,
            message,
            json!({"mode": t.state.mode, "run_state": t.state.run, "armed": t.state.armed}),
        ))
        .await;
}

/// Starts the STAB-4 clock of a version that now runs in PAPER.
async fn mark_paper(state: &AppState, t: &Trader, version: &StrategyVersion) {
    if t.state.mode == Mode::Paper
        && t.state.run == RunState::Running
        && version.paper_started_at.is_none()
        && let Err(e) = state
            .store()
            .strategies()
            .mark_paper_started(version.id, state.now())
            .await
    {
        tracing::warn!(trader_id = %t.id, error = %e, "failed to start the PAPER protection clock");
    }
}

/// Makes the runtime match `t`: running ⇒ started on the current spec
/// (recreated when `recreate` or when its spec changed), stopped ⇒ an
/// up-to-date stopped instance.
async fn sync_runtime(
    state: &AppState,
    t: &Trader,
    version: &StrategyVersion,
    recreate: bool,
) -> ApiResult<()> {
    let spec = spec_of(state, t, version).await?;
    let rt = state.runtime();
    match (t.state.run, recreate) {
        (RunState::Running, true) => rt.recreate(&spec).await?,
        (RunState::Running, false) => rt.start(&spec).await?,
        (RunState::Stopped, _) => {
            rt.stop(t.id).await?;
            rt.create(&spec).await?;
        }
        (RunState::Removed, _) => rt.remove(t.id).await?,
    }
    mark_paper(state, t, version).await;
    Ok(())
}

/// Adds a trader (STOPPED, PAPER) and its runtime instance (FIX-5).
pub async fn create(state: &AppState, new: &NewTrader, actor: &str) -> ApiResult<Trader> {
    let t = state
        .store()
        .traders()
        .create(new, actor, state.now())
        .await?;
    let _guard = state.locks.lock(t.id).await;
    let version = version_of(state, &t).await?;
    event(
        state,
        &t,
        EventLevel::Info,
        "TRADER_CREATED",
        format!("created with seed {} KRW (PAPER, stopped)", t.seed_krw),
    )
    .await;
    if let Err(e) = state
        .runtime()
        .create(&spec_of(state, &t, &version).await?)
        .await
    {
        // The trader exists; RUN (or the next start-up reconcile) retries.
        tracing::warn!(trader_id = %t.id, error = %e, "runtime could not create the trader instance");
        event(
            state,
            &t,
            EventLevel::Warn,
            "RUNTIME_ERROR",
            "the trader runtime could not prepare its instance yet; RUN retries".to_owned(),
        )
        .await;
    }
    Ok(t)
}

/// RUN: RUNNING in the database, then the instance started. A runtime
/// failure reverts the state to STOPPED.
pub async fn run(state: &AppState, id: TraderId, actor: &str) -> ApiResult<Trader> {
    let _guard = state.locks.lock(id).await;
    let mut t = live_trader(state, id).await?;
    let was_running = t.state.run == RunState::Running;
    if !was_running {
        t = transition(state, &t, TraderEvent::Run, actor).await?;
    }
    let version = version_of(state, &t).await?;
    if let Err(e) = sync_runtime(state, &t, &version, false).await {
        if !was_running {
            match transition(state, &t, TraderEvent::Stop, SYSTEM_ACTOR).await {
                Ok(reverted) => {
                    event(
                        state,
                        &reverted,
                        EventLevel::Warn,
                        "RUNTIME_ERROR",
                        "could not start: the trader runtime failed; it stays stopped".to_owned(),
                    )
                    .await;
                }
                Err(re) => {
                    tracing::error!(trader_id = %id, error = %re, "failed to revert RUN after a runtime failure");
                }
            }
        }
        return Err(e);
    }
    if !was_running {
        event(
            state,
            &t,
            EventLevel::Info,
            "RUN_REQUESTED",
            format!(
                "started ({}, strategy version {})",
                t.state.mode, version.version
            ),
        )
        .await;
    }
    Ok(t)
}

/// STOP: STOPPED and disarmed in the database first (no LIVE order after
/// this), then the instance stopped. Idempotent.
pub async fn stop(state: &AppState, id: TraderId, actor: &str) -> ApiResult<Trader> {
    let _guard = state.locks.lock(id).await;
    let mut t = live_trader(state, id).await?;
    let was_running = t.state.run == RunState::Running;
    if was_running {
        t = transition(state, &t, TraderEvent::Stop, actor).await?;
        event(
            state,
            &t,
            EventLevel::Info,
            "STOP_REQUESTED",
            "stopped".to_owned(),
        )
        .await;
    }
    state.runtime().stop(id).await?;
    Ok(t)
}

/// PAPER/LIVE. LIVE is refused during the strategy version's 24 h PAPER
/// protection (STAB-4) and without a credential. Any switch disarms, and the
/// instance is recreated (the trader reads its mode once at start).
pub async fn set_mode(
    state: &AppState,
    id: TraderId,
    mode: Mode,
    actor: &str,
) -> ApiResult<Trader> {
    let _guard = state.locks.lock(id).await;
    let t = live_trader(state, id).await?;
    let version = version_of(state, &t).await?;
    if t.state.mode == mode {
        // Nothing to change; make sure the runtime matches (a retry after a
        // runtime failure lands here).
        sync_runtime(state, &t, &version, false).await?;
        return Ok(t);
    }
    let protection_until = protection_deadline(&version, state.now());
    let t = match transition(
        state,
        &t,
        TraderEvent::SetMode {
            mode,
            protection_until,
        },
        actor,
    )
    .await
    {
        Ok(t) => t,
        Err(e) => {
            if let ApiError::Conflict {
                code: "protection_active",
                remaining_secs,
                ..
            } = &e
            {
                event(
                    state,
                    &t,
                    EventLevel::Warn,
                    "LIVE_REFUSED",
                    format!(
                        "switch to LIVE refused: strategy version {} is in its 24 h PAPER protection ({} s left)",
                        version.version,
                        remaining_secs.unwrap_or_default()
                    ),
                )
                .await;
            }
            return Err(e);
        }
    };
    event(
        state,
        &t,
        if mode == Mode::Live {
            EventLevel::Warn
        } else {
            EventLevel::Info
        },
        "MODE_CHANGED",
        format!("mode set to {mode} (not armed)"),
    )
    .await;
    sync_runtime(state, &t, &version, true).await?;
    Ok(t)
}

/// ARM a LIVE trader whose strategy version finished its PAPER protection.
/// The password was checked by the caller.
pub async fn arm(state: &AppState, id: TraderId, actor: &str) -> ApiResult<Trader> {
    let _guard = state.locks.lock(id).await;
    let t = live_trader(state, id).await?;
    let version = version_of(state, &t).await?;
    let protection_until = protection_deadline(&version, state.now());
    let t = transition(state, &t, TraderEvent::Arm { protection_until }, actor)
        .await
        .map_err(|e| match e {
            ApiError::Conflict {
                code: "not_allowed",
                ..
            } => ApiError::conflict(
                "not_allowed",
                if t.state.armed {
                    "the trader is already armed"
                } else {
                    "only a LIVE trader can be armed; switch it to LIVE first"
                },
            ),
            other => other,
        })?;
    event(
        state,
        &t,
        EventLevel::Critical,
        "ARMED",
        "ARMED: LIVE orders are now allowed".to_owned(),
    )
    .await;
    Ok(t)
}

/// DISARM. Idempotent.
pub async fn disarm(state: &AppState, id: TraderId, actor: &str) -> ApiResult<Trader> {
    let _guard = state.locks.lock(id).await;
    let t = live_trader(state, id).await?;
    if !t.state.armed {
        return Ok(t);
    }
    let t = transition(state, &t, TraderEvent::Disarm, actor).await?;
    event(
        state,
        &t,
        EventLevel::Warn,
        "DISARMED",
        "disarmed".to_owned(),
    )
    .await;
    Ok(t)
}

/// REMOVE: the instance goes first (a runtime failure changes nothing),
/// then the trader (its history stays; its name is freed).
pub async fn remove(state: &AppState, id: TraderId, actor: &str) -> ApiResult<()> {
    let _guard = state.locks.lock(id).await;
    let t = live_trader(state, id).await?;
    state.runtime().remove(id).await?;
    let t = transition(state, &t, TraderEvent::Remove, actor).await?;
    event(
        state,
        &t,
        EventLevel::Warn,
        "TRADER_REMOVED",
        "stopped and removed".to_owned(),
    )
    .await;
    Ok(())
}

/// FIX-12 / STAB-4 after a strategy got a new version: every trader on it
/// goes back to PAPER (disarmed; the new version must serve its 24 h PAPER
/// protection) and its instance is recreated on the new version. Failures are
/// logged and reported as events; the new version stands.
pub async fn strategy_changed(state: &AppState, strategy: domain::StrategyId, actor: &str) {
    let traders = match state.store().traders().list(false).await {
        Ok(ts) => ts,
        Err(e) => {
            tracing::error!(error = %e, "cannot list traders to recreate after a strategy change");
            return;
        }
    };
    for t in traders.into_iter().filter(|t| t.strategy_id == strategy) {
        let id = t.id;
        if let Err(e) = recreate_on_new_version(state, id, actor).await {
            tracing::warn!(trader_id = %id, error = %e, "recreating a trader on the new strategy version failed");
            if let Ok(t) = live_trader(state, id).await {
                event(
                    state,
                    &t,
                    EventLevel::Warn,
                    "RUNTIME_ERROR",
                    "could not be recreated on the new strategy version; RUN or a restart retries"
                        .to_owned(),
                )
                .await;
            }
        }
    }
}

async fn recreate_on_new_version(state: &AppState, id: TraderId, actor: &str) -> ApiResult<()> {
    let _guard = state.locks.lock(id).await;
    let mut t = live_trader(state, id).await?;
    let version = version_of(state, &t).await?;
    if t.state.mode == Mode::Live {
        t = transition(
            state,
            &t,
            TraderEvent::SetMode {
                mode: Mode::Paper,
                protection_until: protection_deadline(&version, state.now()),
            },
            actor,
        )
        .await?;
        event(
            state,
            &t,
            EventLevel::Warn,
            "MODE_CHANGED",
            format!(
                "back to PAPER (disarmed): strategy version {} must serve its 24 h PAPER protection",
                version.version
            ),
        )
        .await;
    }
    sync_runtime(state, &t, &version, true).await?;
    event(
        state,
        &t,
        EventLevel::Info,
        "TRADER_RECREATED",
        format!("recreated on strategy version {}", version.version),
    )
    .await;
    Ok(())
}

/// Start-up: the runtime is made to match the database — one instance per
/// trader that is not removed, running exactly when RUNNING; orphans and
/// duplicates removed (FIX-4: none on a fresh install).
pub async fn reconcile(state: &AppState) -> anyhow::Result<ReconcileReport> {
    let mut desired = Vec::new();
    let models = ActiveModels::load(state.store()).await?;
    for t in state.store().traders().list(false).await? {
        let version = match version_of(state, &t).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(trader_id = %t.id, error = %e, "trader has no strategy version; left out of reconcile");
                continue;
            }
        };
        mark_paper(state, &t, &version).await;
        let model = models.for_trader(&version, t.state.mode).map(|m| m.id);
        let spec = spec_for(state, &t, &version, model).map_err(|e| anyhow::anyhow!("{e}"))?;
        desired.push(DesiredTrader {
            spec,
            run: t.state.run == RunState::Running,
        });
    }
    let report = state.runtime().reconcile(&desired).await?;
    tracing::info!(
        runtime = state.runtime().kind(),
        created = report.created.len(),
        started = report.started.len(),
        recreated = report.recreated.len(),
        stopped = report.stopped.len(),
        removed = report.removed.len(),
        unchanged = report.unchanged.len(),
        failures = report.failures.len(),
        "trader runtime reconciled with the database"
    );
    for f in &report.failures {
        tracing::warn!(trader_id = ?f.trader_id, error = %f.error, "reconcile could not repair a trader");
        state
            .hub
            .record(new_event(
                state.now(),
                f.trader_id,
                EventLevel::Warn,
                "RUNTIME_ERROR",
                "start-up reconcile could not bring this trader to its stored state; RUN/STOP retries",
                Value::Null,
            ))
            .await;
    }
    Ok(report)
}

/// What an operator does with a trader's kill switch (RUN-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillSwitchAction {
    /// Turn it on: no new entries; optionally sell every open position.
    Trip {
        /// Sell every open position too.
        liquidate: bool,
    },
    /// The confirmed manual resume.
    Resume,
}

/// RUN-4 by an operator (the password was checked by the caller): the
/// change is written to `trader_safety_state`, where a running trader
/// adopts it at its next cycle (and never overwrites it) and a stopped one
/// restores it at its next start. Audited, with an event.
pub async fn kill_switch(
    state: &AppState,
    id: TraderId,
    action: KillSwitchAction,
    actor: &str,
) -> ApiResult<Trader> {
    let _guard = state.locks.lock(id).await;
    let t = live_trader(state, id).await?;
    let now = state.now();
    let before = state.store().safety().get(id).await?;
    let was_on = before.as_ref().is_some_and(|s| s.kill_switch);
    let old_reason = before.and_then(|s| s.kill_reason.filter(|_| was_on));
    let (new, level, kind, message) = match action {
        KillSwitchAction::Trip { liquidate } => {
            if was_on {
                return Err(ApiError::conflict(
                    "not_allowed",
                    format!("the kill switch of {} is already on", t.name),
                ));
            }
            let reason = if liquidate {
                format!(
                    "tripped by {actor} from the dashboard{}",
                    risk::LIQUIDATE_MARK
                )
            } else {
                format!("tripped by {actor} from the dashboard; open positions are kept")
            };
            debug_assert_eq!(risk::asks_liquidation(&reason), liquidate);
            state
                .store()
                .safety()
                .trip_kill_switch(id, &reason, now.date_naive(), now)
                .await?;
            let message = format!(
                "kill switch tripped by {actor}: no new entries until a confirmed resume; {}",
                if liquidate {
                    "every open position is sold"
                } else {
                    "open positions are kept and still managed"
                }
            );
            (
                json!({"on": true, "reason": reason, "liquidate": liquidate}),
                EventLevel::Critical,
                "KILL_SWITCH_TRIP_REQUESTED",
                message,
            )
        }
        KillSwitchAction::Resume => {
            if !state.store().safety().resume_kill_switch(id, now).await? {
                return Err(ApiError::conflict(
                    "not_allowed",
                    format!("the kill switch of {} is not on; nothing to resume", t.name),
                ));
            }
            (
                json!({"on": false}),
                EventLevel::Warn,
                "KILL_SWITCH_RESUME_REQUESTED",
                format!(
                    "kill switch resumed by {actor}: new entries are allowed again; today's loss counts from now"
                ),
            )
        }
    };
    let audit = NewConfigAudit {
        ts: now,
        actor: actor.to_owned(),
        entity: "kill_switch".to_owned(),
        entity_id: id.to_string(),
        old_value: Some(json!({"on": was_on, "reason": old_reason})),
        new_value: Some(new.clone()),
    };
    if let Err(e) = state.store().config_audit().append(&audit).await {
        tracing::error!(trader_id = %id, error = %e, "failed to write the config-audit row of a kill-switch change");
    }
    state
        .hub
        .record(new_event(now, Some(id), level, kind, message, new))
        .await;
    Ok(t)
}

/// The parts of a config hash (`s1.v2.PAPER.c0.m5`): strategy, version,
/// mode, credential, model (absent for a strategy that is not AI MODE).
fn hash_parts(hash: &str) -> BTreeMap<&'static str, &str> {
    let mut out = BTreeMap::new();
    for part in hash.split('.') {
        let key = match part.as_bytes().first() {
            Some(b's') => "strategy",
            Some(b'v') => "version",
            Some(b'c') => "credential",
            Some(b'm') => "model",
            _ => "mode",
        };
        let value = if key == "mode" { part } else { &part[1..] };
        out.insert(key, value);
    }
    out
}

/// Why a trader is recreated, in plain words, from its old and new hash.
pub fn recreate_reason(old: &str, new: &str) -> String {
    let (a, b) = (hash_parts(old), hash_parts(new));
    let model = |v: Option<&&str>| match v.copied() {
        None | Some("0") => None,
        Some(id) => Some(id.to_owned()),
    };
    let mut why = Vec::new();
    if a.get("model") != b.get("model") {
        why.push(match (model(a.get("model")), model(b.get("model"))) {
            (None, Some(n)) => format!("AI MODE model version {n} is deployed for it"),
            (Some(o), None) => format!(
                "AI MODE model version {o} is no longer deployed for it; back to the built-in AI MODE numbers"
            ),
            (Some(o), Some(n)) => format!("AI MODE model version {o} → {n}"),
            (None, None) => "it now records its AI MODE model (the built-in numbers)".to_owned(),
        });
    }
    for (key, what) in [
        ("strategy", "strategy"),
        ("version", "strategy version"),
        ("mode", "mode"),
        ("credential", "credential"),
    ] {
        if a.get(key) != b.get(key) {
            why.push(format!(
                "{what} {} → {}",
                a.get(key).unwrap_or(&"-"),
                b.get(key).unwrap_or(&"-")
            ));
        }
    }
    if why.is_empty() {
        why.push("its configuration changed".to_owned());
    }
    why.join("; ")
}

/// FIX-12 without an API call: one pass over the RUNNING traders; one whose
/// instance carries another config hash than it should (an AI MODE model
/// deployed, promoted or rolled back) is recreated, with a
/// `TRADER_RECREATED` event naming the reason. Returns the traders
/// recreated. A failure is logged and reported once per target hash.
pub async fn reconcile_running(state: &AppState) -> anyhow::Result<Vec<TraderId>> {
    let running: Vec<Trader> = state
        .store()
        .traders()
        .list(false)
        .await?
        .into_iter()
        .filter(|t| t.state.run == RunState::Running)
        .collect();
    if running.is_empty() {
        return Ok(Vec::new());
    }
    let have: HashMap<TraderId, String> = state
        .runtime()
        .list()
        .await?
        .into_iter()
        .map(|e| (e.trader_id, e.config_hash))
        .collect();
    let models = ActiveModels::load(state.store()).await?;
    let mut recreated = Vec::new();
    for t in running {
        let Some(old) = have.get(&t.id) else {
            continue;
        };
        let Ok(version) = version_of(state, &t).await else {
            continue;
        };
        let model = models.for_trader(&version, t.state.mode).map(|m| m.id);
        if config_hash(&t, &version, model) == *old {
            continue;
        }
        match recreate_changed(state, t.id).await {
            Ok(true) => recreated.push(t.id),
            Ok(false) => {}
            Err((want, e)) => {
                tracing::warn!(trader_id = %t.id, error = %e, "recreating a trader on its new configuration failed");
                let first = state
                    .recreate_failures
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(t.id, want.clone())
                    .is_none_or(|prev| prev != want);
                if first && let Ok(t) = live_trader(state, t.id).await {
                    event(
                        state,
                        &t,
                        EventLevel::Warn,
                        "RUNTIME_ERROR",
                        format!(
                            "could not be recreated on its new configuration ({}); retried every pass",
                            recreate_reason(old, &want)
                        ),
                    )
                    .await;
                }
            }
        }
    }
    Ok(recreated)
}

/// Recreates one RUNNING trader whose instance is out of date (checked
/// again under its lock). `Ok(false)`: nothing to do any more.
async fn recreate_changed(state: &AppState, id: TraderId) -> Result<bool, (String, ApiError)> {
    let _guard = state.locks.lock(id).await;
    let t = live_trader(state, id)
        .await
        .map_err(|e| (String::new(), e))?;
    if t.state.run != RunState::Running {
        return Ok(false);
    }
    let version = version_of(state, &t)
        .await
        .map_err(|e| (String::new(), e))?;
    let spec = spec_of(state, &t, &version)
        .await
        .map_err(|e| (String::new(), e))?;
    let want = spec.config_hash().to_owned();
    let current = state
        .runtime()
        .list()
        .await
        .map_err(|e| (want.clone(), e.into()))?
        .into_iter()
        .find(|e| e.trader_id == id)
        .map(|e| e.config_hash);
    let Some(old) = current.filter(|h| *h != want) else {
        return Ok(false);
    };
    state
        .runtime()
        .recreate(&spec)
        .await
        .map_err(|e| (want.clone(), e.into()))?;
    state
        .recreate_failures
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&id);
    mark_paper(state, &t, &version).await;
    let reason = recreate_reason(&old, &want);
    let model = hash_parts(&want)
        .get("model")
        .and_then(|m| m.parse::<i64>().ok())
        .filter(|m| *m > 0);
    state
        .hub
        .record(new_event(
            state.now(),
            Some(id),
            EventLevel::Info,
            "TRADER_RECREATED",
            format!("recreated: {reason}"),
            json!({
                "reason": reason,
                "old_config": old,
                "new_config": want,
                "model_version_id": model,
                "mode": t.state.mode,
                "run_state": t.state.run,
            }),
        ))
        .await;
    tracing::info!(trader_id = %id, reason = %reason, "trader recreated on its new configuration");
    Ok(true)
}

/// Runs [`reconcile_running`] every `every` until the service shuts down.
pub fn spawn_reconcile_loop(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut shutdown = state.hub.shutdown_signal();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate; start-up has just reconciled.
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = reconcile_running(&state).await {
                        tracing::warn!(error = %e, "periodic trader reconcile failed; retried next pass");
                    }
                }
                () = stopped(&mut shutdown) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests;
