//! The dashboard-api: the control plane the UI talks to (docs/api.md). It
//! manages traders (through `orchestrator`), strategies and credentials,
//! streams the action log, owns the database migrations — and never places
//! an order: nothing in its dependency tree knows an Upbit order endpoint
//! (FIX-11, `crates/tidy`).
//!
//! [`app`] is the whole HTTP service for a given [`AppState`] (tests drive it
//! in-process); [`serve`] is the binary: config → database + migrations →
//! built-in strategies and admin → runtime reconcile → HTTP until SIGTERM.

/// Authentication: admin account, sessions, CSRF, login limiter.
pub mod auth;
/// Start-up: built-in strategies, master key, runtime and trader environment.
pub mod bootstrap;
/// Short-lived read and session caches.
pub mod cache;
/// Flags and environment.
pub mod config;
/// Trader operations: database transition first, then the runtime.
pub mod control;
/// `ApiError` and the extractors that produce it.
pub mod error;
/// The action log hub behind `GET /events/stream`.
pub mod events;
/// Which AI MODE model version a trader should use.
pub mod models;
/// The hand-maintained OpenAPI document.
pub mod openapi;
/// The `/api/v1` routes, grouped by the frozen menu.
pub mod routes;
/// Shared handler state.
pub mod state;
/// JSON views of storage rows.
pub mod views;
/// The built web UI and security headers.
pub mod web;

use std::{net::SocketAddr, path::Path, sync::Arc};

use anyhow::Context;
use axum::{Router, middleware};
use runtime::{SharedClock, SystemClock};
use storage::Store;
use tower_http::trace::TraceLayer;
use upbit::UpbitUrls;

pub use config::Config;
pub use state::{AppState, Deps, Settings, TraderEnv};

/// The HTTP service: `/api/v1` and, when `web_dir` holds a built UI, the UI
/// with SPA fallback; security headers everywhere.
pub fn app(state: AppState, web_dir: Option<&Path>) -> Router {
    let api = routes::router(state);
    web::with_ui(Router::new().nest("/api/v1", api), web_dir)
        .layer(middleware::map_response(web::security_headers))
        .layer(TraceLayer::new_for_http())
}

/// Runs the service until SIGINT/SIGTERM, then stops live streams and (for
/// the process runtime) every trader.
pub async fn serve(cfg: Config) -> anyhow::Result<()> {
    let clock: SharedClock = SystemClock::shared();
    let data_dir = bootstrap::absolute(&cfg.data_dir);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("failed to create DATA_DIR {}", data_dir.display()))?;
    let database_url = match config::non_empty(cfg.database_url.as_ref()) {
        Some(u) => u.to_owned(),
        None => storage::default_sqlite_url(&data_dir),
    };
    let store = Store::connect(&database_url)
        .await
        .context("failed to open the database")?;
    store
        .migrate()
        .await
        .context("failed to apply database migrations")?;
    let created = bootstrap::seed_strategies(&store, clock.now()).await?;
    if created > 0 {
        tracing::info!(created, "created the built-in strategies");
    }
    match auth::ensure_admin(&store, cfg.admin_password.as_deref(), clock.now()).await? {
        auth::AdminSetup::Generated(pw) => {
            // Shown once, on first start (docs: README, .env.example).
            eprintln!(
                "\n  First start: created the admin account.\n  username: {}\n  password: {}\n  (shown only now; set ADMIN_PASSWORD before the first start to choose it)\n",
                auth::ADMIN_USERNAME,
                pw.expose()
            );
            tracing::warn!("generated the admin password (printed once above)");
        }
        auth::AdminSetup::FromEnv => {
            tracing::info!("created the admin account from ADMIN_PASSWORD");
        }
        auth::AdminSetup::Existing => {
            if config::non_empty(cfg.admin_password.as_ref()).is_some() {
                tracing::info!("admin account exists; ADMIN_PASSWORD is only used on first start");
            }
        }
    }
    let key = bootstrap::master_key(&cfg, &data_dir)?;
    let trader_env = bootstrap::trader_env(&cfg, &database_url, &key);
    let runtime = orchestrator::build(
        bootstrap::runtime_config(&cfg, &data_dir),
        Arc::clone(&clock),
    )
    .context("failed to set up the trader runtime")?;
    let upbit = UpbitUrls::new(&cfg.upbit_api_url, &cfg.upbit_ws_url)
        .context("invalid UPBIT_API_URL / UPBIT_WS_URL")?;
    let state = AppState::new(Deps {
        store: store.clone(),
        clock,
        runtime: Arc::clone(&runtime),
        master_key: key.key,
        trader_env,
        upbit,
        settings: Settings {
            secure_cookie: cfg.cookie_secure,
            ..Settings::default()
        },
    })
    .await
    .context("failed to start the event hub")?;
    if let Err(e) = control::reconcile(&state).await {
        tracing::error!(error = %e, "start-up reconcile failed; traders are reconciled again by RUN/STOP");
    }
    // FIX-12 for changes without an API call (an AI MODE model deployed or
    // rolled back by the trainer).
    control::spawn_reconcile_loop(state.clone(), state.settings.trader_reconcile_every);

    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("failed to listen on {}", cfg.listen))?;
    let addr = listener
        .local_addr()
        .context("failed to read the listen address")?;
    tracing::info!(address = %addr, runtime = runtime.kind(), "dashboard-api listening");
    let app = app(state.clone(), Some(&cfg.web_dir));
    let on_signal = state.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        runtime::shutdown::signal().await;
        on_signal.shutdown();
    })
    .await
    .context("HTTP server failed")?;
    tracing::info!("stopping traders of this runtime");
    if let Err(e) = runtime.shutdown().await {
        tracing::error!(error = %e, "runtime shutdown failed");
    }
    store.close().await;
    tracing::info!("dashboard-api stopped");
    Ok(())
}
