//! STRATEGY (UI-6): the strategies (the five built-in risk-profile
//! strategies are always there), their version history, new strategies, new
//! versions (FIX-12: traders on it are recreated; STAB-4: the 24 h PAPER
//! protection starts again), and the five risk profiles.

use axum::{
    Extension,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use domain::{RiskProfile, StrategyId};
use risk::RiskParams;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use storage::{events::EventLevel, strategies::NewStrategy};
use strategy::StrategyDefinition;

use super::Routes;
use crate::{
    auth::CurrentUser,
    control,
    error::{ApiError, ApiResult, AppJson, IdPath, from_value},
    events::new_event,
    state::AppState,
    views::{StrategyVersionView, StrategyView},
};

pub(super) fn routes(r: Routes) -> Routes {
    r.get("/strategies", list)
        .post("/strategies", create)
        .get("/strategies/{id}", get_one)
        .put("/strategies/{id}", update)
        .get("/strategies/{id}/versions", versions)
        .get("/risk-profiles", risk_profiles)
}

fn strategy_id(IdPath(id): IdPath) -> ApiResult<StrategyId> {
    Ok(StrategyId::new(id).map_err(|e| e.in_field("id"))?)
}

async fn load(state: &AppState, id: StrategyId) -> ApiResult<storage::strategies::Strategy> {
    state
        .store()
        .strategies()
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("strategy {id}")))
}

/// Parses and validates a definition (errors name `definition.<path>`); its
/// `name` follows the strategy's name. Returns the canonical JSON.
fn definition(raw: Value, name: &str) -> ApiResult<(StrategyDefinition, Value)> {
    if !raw.is_object() {
        return Err(ApiError::invalid("definition", "must be a JSON object"));
    }
    let mut raw = raw;
    if let Some(obj) = raw.as_object_mut() {
        obj.insert("name".to_owned(), Value::String(name.to_owned()));
    }
    let def: StrategyDefinition = from_value("definition", raw)?;
    let canonical = serde_json::to_value(&def).map_err(ApiError::internal)?;
    Ok((def, canonical))
}

async fn list(State(state): State<AppState>) -> ApiResult<AppJson<Vec<StrategyView>>> {
    let all = state.store().strategies().list().await?;
    Ok(AppJson(all.iter().map(StrategyView::from).collect()))
}

async fn get_one(State(state): State<AppState>, id: IdPath) -> ApiResult<AppJson<StrategyView>> {
    let s = load(&state, strategy_id(id)?).await?;
    Ok(AppJson(StrategyView::from(&s)))
}

async fn versions(
    State(state): State<AppState>,
    id: IdPath,
) -> ApiResult<AppJson<Vec<StrategyVersionView>>> {
    let id = strategy_id(id)?;
    load(&state, id).await?;
    let all = state.store().strategies().versions(id).await?;
    Ok(AppJson(
        all.iter().rev().map(StrategyVersionView::from).collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    risk_profile: RiskProfile,
    #[serde(default)]
    definition: Option<Value>,
}

async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    AppJson(body): AppJson<Create>,
) -> ApiResult<Response> {
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::invalid("name", "must be 1-64 characters"));
    }
    let raw = match body.definition {
        Some(d) => d,
        None => serde_json::to_value(StrategyDefinition::builtin(body.risk_profile))
            .map_err(ApiError::internal)?,
    };
    let (def, canonical) = definition(raw, &name)?;
    if def.risk_profile != body.risk_profile {
        return Err(ApiError::invalid(
            "definition.risk_profile",
            format!(
                "must equal risk_profile ({}), got {}",
                body.risk_profile, def.risk_profile
            ),
        ));
    }
    let s = state
        .store()
        .strategies()
        .create(
            &NewStrategy {
                name,
                definition: canonical,
                risk_profile: def.risk_profile,
            },
            &user.username,
            state.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, AppJson(StrategyView::from(&s))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Update {
    definition: Value,
}

async fn update(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    id: IdPath,
    AppJson(body): AppJson<Update>,
) -> ApiResult<AppJson<StrategyView>> {
    let id = strategy_id(id)?;
    let current = load(&state, id).await?;
    let (def, canonical) = definition(body.definition, &current.name)?;
    let version = state
        .store()
        .strategies()
        .add_version(
            id,
            &canonical,
            def.risk_profile,
            &user.username,
            state.now(),
        )
        .await?;
    tracing::info!(strategy_id = %id, version = version.version, "strategy saved as a new version");
    state
        .hub
        .record(new_event(
            state.now(),
            None,
            EventLevel::Info,
            "STRATEGY_UPDATED",
            format!("{} saved as version {}", current.name, version.version),
            json!({"strategy_id": id, "version": version.version}),
        ))
        .await;
    // FIX-12 + STAB-4: traders on it go to PAPER on the new version.
    control::strategy_changed(&state, id, &user.username).await;
    let s = load(&state, id).await?;
    Ok(AppJson(StrategyView::from(&s)))
}

#[derive(Serialize)]
struct RiskProfileView {
    id: RiskProfile,
    name: &'static str,
    params: RiskParams,
}

async fn risk_profiles() -> AppJson<Vec<RiskProfileView>> {
    AppJson(
        RiskProfile::ALL
            .iter()
            .map(|p| RiskProfileView {
                id: *p,
                name: p.display_name(),
                params: RiskParams::builtin(*p),
            })
            .collect(),
    )
}
