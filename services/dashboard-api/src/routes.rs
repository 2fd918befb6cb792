//! The `/api/v1` routes, grouped like the frozen menu (UI-1): DASHBOARD,
//! TRADERS, STRATEGY, CONFIG — plus auth and the public health / OpenAPI
//! endpoints. Every route is registered through [`Routes`], which records
//! (method, path) so a test can hold the OpenAPI document to the router.

/// Login, logout, who am I.
pub mod auth;
/// CONFIG: credentials and the config-change audit.
pub mod config;
/// DASHBOARD: regime, counts, profit series, the action log and its stream.
pub mod dashboard;
/// STRATEGY: strategies, versions, risk profiles.
pub mod strategy;
/// TRADERS: list, create, mode, arm, run, stop, remove.
pub mod traders;

use axum::{
    Router,
    handler::Handler,
    http::{HeaderValue, header},
    middleware,
    response::{IntoResponse, Response},
    routing::{MethodRouter, delete, get, post, put},
};
use serde_json::json;

use crate::{
    error::{ApiError, AppJson},
    state::AppState,
};

/// One registered route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// Path under `/api/v1`, axum syntax (`/traders/{id}`).
    pub path: &'static str,
    /// Reachable without a session.
    pub public: bool,
}

/// A router under construction that remembers what it registered.
#[derive(Debug)]
#[must_use]
pub struct Routes {
    router: Router<AppState>,
    table: Vec<Route>,
    public: bool,
}

impl Routes {
    fn new(public: bool) -> Self {
        Self {
            router: Router::new(),
            table: Vec::new(),
            public,
        }
    }

    fn add(mut self, method: &'static str, path: &'static str, mr: MethodRouter<AppState>) -> Self {
        self.table.push(Route {
            method,
            path,
            public: self.public,
        });
        self.router = self.router.route(path, mr);
        self
    }

    /// `GET path`.
    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("GET", path, get(h))
    }

    /// `POST path`.
    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("POST", path, post(h))
    }

    /// `PUT path`.
    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("PUT", path, put(h))
    }

    /// `DELETE path`.
    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, h: H) -> Self {
        self.add("DELETE", path, delete(h))
    }
}

fn public_routes() -> Routes {
    auth::public(Routes::new(true))
        .get("/health", health)
        .get("/openapi.json", openapi)
}

fn protected_routes() -> Routes {
    let r = Routes::new(false);
    let r = auth::protected(r);
    let r = dashboard::routes(r);
    let r = traders::routes(r);
    let r = strategy::routes(r);
    config::routes(r)
}

/// Every route of the API (for the OpenAPI check).
pub fn table() -> Vec<Route> {
    let mut t = public_routes().table;
    t.extend(protected_routes().table);
    t
}

/// The `/api/v1` router: public routes, protected routes behind the session
/// (and CSRF) middleware, a JSON 404 for anything else, `no-store` caching.
pub fn router(state: AppState) -> Router {
    // Layers run outside-in: the session check first, then the read cache.
    let protected = protected_routes()
        .router
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::cache::read_cache,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_session,
        ));
    public_routes()
        .router
        .merge(protected)
        .fallback(not_found)
        .layer(middleware::map_response(no_store))
        .with_state(state)
}

async fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// JSON 404 for unknown API paths.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".to_owned())
}

/// `GET /health`: the service and its database (no auth).
async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => AppJson(json!({"status": "ok", "db": "ok"})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health: database ping failed");
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                AppJson(json!({"status": "degraded", "db": "unreachable"})),
            )
                .into_response()
        }
    }
}

/// `GET /openapi.json` (no auth).
async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        crate::openapi::DOCUMENT,
    )
        .into_response()
}
