//! Trader control: every operation changes the database first (audited
//! transition through the domain table) and then makes the runtime match,
//! one trader at a time. The spec a runtime gets carries the strategy
//! version, mode and credential in its config hash, because a trader reads
//! them once at start: any change of them means a recreated instance
//! (FIX-12). ARM is not in the hash — a trader re-reads its armed flag before
//! every LIVE order.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::{Mode, RunState, TraderEvent, TraderId, TraderState, lifecycle::PROTECTION_PERIOD};
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
    events::new_event,
    state::AppState,
};

/// Actor of changes the API makes on its own (reverts, start-up reconcile).
pub const SYSTEM_ACTOR: &str = "system";

/// The config hash of what a trader reads once at start.
pub fn config_hash(t: &Trader, version: &StrategyVersion) -> String {
    format!(
        "s{}.v{}.{}.c{}",
        t.strategy_id,
        version.version,
        t.state.mode,
        t.credential_id.map_or(0, domain::CredentialId::get)
    )
}

/// The runtime spec of `t` on `version`.
pub fn spec_for(state: &AppState, t: &Trader, version: &StrategyVersion) -> ApiResult<TraderSpec> {
    let env: BTreeMap<String, String> = state.trader_env.0.clone();
    Ok(TraderSpec::new(t.id, config_hash(t, version), env)?)
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
    let spec = spec_for(state, t, version)?;
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
        .create(&spec_for(state, &t, &version)?)
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
    for t in state.store().traders().list(false).await? {
        let version = match version_of(state, &t).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(trader_id = %t.id, error = %e, "trader has no strategy version; left out of reconcile");
                continue;
            }
        };
        mark_paper(state, &t, &version).await;
        let spec = spec_for(state, &t, &version).map_err(|e| anyhow::anyhow!("{e}"))?;
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
