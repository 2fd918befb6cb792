//! TRADERS (UI-3, UI-4): the list, TRADER ADD, PAPER/LIVE with APPLY, ARM
//! (password re-entry), RUN / STOP / REMOVE, and the kill switch (RUN-4:
//! trip or resume, password re-entry). The logic lives in
//! [`crate::control`]; these handlers parse, authorise and render.

use axum::{
    Extension,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use domain::{CredentialId, Krw, Mode, StrategyId, TraderId};
use serde::Deserialize;
use storage::traders::{NewTrader, Trader};

use super::Routes;
use crate::{
    auth::{CurrentUser, check_password},
    control::{self, KillSwitchAction},
    error::{ApiError, ApiResult, AppJson, IdPath},
    state::AppState,
    views::{TraderView, TraderViews},
};

pub(super) fn routes(r: Routes) -> Routes {
    r.get("/traders", list)
        .post("/traders", create)
        .get("/traders/{id}", get_one)
        .delete("/traders/{id}", remove)
        .post("/traders/{id}/mode", mode)
        .post("/traders/{id}/arm", arm)
        .post("/traders/{id}/disarm", disarm)
        .post("/traders/{id}/run", run)
        .post("/traders/{id}/stop", stop)
        .post("/traders/{id}/kill-switch", kill_switch)
}

fn trader_id(IdPath(id): IdPath) -> ApiResult<TraderId> {
    Ok(TraderId::new(id).map_err(|e| e.in_field("id"))?)
}

async fn view(state: &AppState, t: &Trader) -> ApiResult<AppJson<TraderView>> {
    let views =
        TraderViews::load(state.store(), state.now(), state.settings.heartbeat_alive).await?;
    Ok(AppJson(views.view(t).await?))
}

async fn list(State(state): State<AppState>) -> ApiResult<AppJson<Vec<TraderView>>> {
    let views =
        TraderViews::load(state.store(), state.now(), state.settings.heartbeat_alive).await?;
    let mut out = Vec::new();
    for t in state.store().traders().list(false).await? {
        out.push(views.view(&t).await?);
    }
    Ok(AppJson(out))
}

async fn get_one(State(state): State<AppState>, id: IdPath) -> ApiResult<AppJson<TraderView>> {
    let t = control::live_trader(&state, trader_id(id)?).await?;
    view(&state, &t).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    name: String,
    strategy_id: StrategyId,
    seed_krw: Krw,
    #[serde(default)]
    credential_id: Option<CredentialId>,
}

async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    AppJson(body): AppJson<Create>,
) -> ApiResult<Response> {
    let seed = Krw::check_positive("seed_krw", body.seed_krw.get(), 0)?;
    let new = NewTrader {
        name: body.name,
        strategy_id: body.strategy_id,
        seed_krw: seed,
        credential_id: body.credential_id,
    };
    let t = control::create(&state, &new, &user.username).await?;
    Ok((StatusCode::CREATED, view(&state, &t).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetMode {
    mode: Mode,
}

async fn mode(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    id: IdPath,
    AppJson(body): AppJson<SetMode>,
) -> ApiResult<AppJson<TraderView>> {
    let t = control::set_mode(&state, trader_id(id)?, body.mode, &user.username).await?;
    view(&state, &t).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Arm {
    password: String,
}

/// The password re-entry of ARM and the kill switch: 422 when empty, 429
/// after too many failures (counted with ARM's, per user), 401 when wrong
/// (the session stays valid).
async fn reenter_password(
    state: &AppState,
    user: &CurrentUser,
    password: &str,
    what: &str,
    id: TraderId,
) -> ApiResult<()> {
    if password.is_empty() {
        return Err(ApiError::invalid("password", "must not be empty"));
    }
    let now = state.now();
    let key = format!("arm:{}", user.username);
    state
        .limiter
        .check(&key, now)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    if let Err(e) = check_password(state.store(), &user.username, password).await {
        if matches!(e, ApiError::InvalidCredentials) {
            state.limiter.fail(&key, now);
            tracing::warn!(trader_id = %id, username = %user.username, "{what} refused: wrong password");
        }
        return Err(e);
    }
    state.limiter.reset(&key);
    Ok(())
}

async fn arm(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    id: IdPath,
    AppJson(body): AppJson<Arm>,
) -> ApiResult<AppJson<TraderView>> {
    let id = trader_id(id)?;
    // 404 before the password check: nothing to arm.
    control::live_trader(&state, id).await?;
    reenter_password(&state, &user, &body.password, "ARM", id).await?;
    let t = control::arm(&state, id, &user.username).await?;
    view(&state, &t).await
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum KillAction {
    Trip,
    Resume,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KillSwitch {
    action: KillAction,
    #[serde(default)]
    liquidate: bool,
    password: String,
}

async fn kill_switch(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    id: IdPath,
    AppJson(body): AppJson<KillSwitch>,
) -> ApiResult<AppJson<TraderView>> {
    let id = trader_id(id)?;
    let action = match body.action {
        KillAction::Trip => KillSwitchAction::Trip {
            liquidate: body.liquidate,
        },
        KillAction::Resume if body.liquidate => {
            return Err(ApiError::invalid(
                "liquidate",
                "only with action \"trip\" (a resume sells nothing)",
            ));
        }
        KillAction::Resume => KillSwitchAction::Resume,
    };
    control::live_trader(&state, id).await?;
    reenter_password(&state, &user, &body.password, "kill switch", id).await?;
    let t = control::kill_switch(&state, id, action, &user.username).await?;
    view(&state, &t).await
}

async fn disarm(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    id: IdPath,
) -> ApiResult<AppJson<TraderView>> {
    let t = control::disarm(&state, trader_id(id)?, &user.username).await?;
    view(&state, &t).await
}

async fn run(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    id: IdPath,
) -> ApiResult<AppJson<TraderView>> {
    let t = control::run(&state, trader_id(id)?, &user.username).await?;
    view(&state, &t).await
}

async fn stop(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    id: IdPath,
) -> ApiResult<AppJson<TraderView>> {
    let t = control::stop(&state, trader_id(id)?, &user.username).await?;
    view(&state, &t).await
}

async fn remove(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    id: IdPath,
) -> ApiResult<StatusCode> {
    control::remove(&state, trader_id(id)?, &user.username).await?;
    Ok(StatusCode::NO_CONTENT)
}
