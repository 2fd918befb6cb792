//! The built web UI (`WEB_DIR`, default `web/dist`) as static files with a
//! single-page-app fallback to `index.html`, and the security headers every
//! answer carries. `/api/…` paths never fall back to the UI.

use std::path::Path;

use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use tower_http::services::{ServeDir, ServeFile};

/// Content-Security-Policy of the UI: everything from this origin only (the
/// UI bundles all of its code); inline styles for the chart library.
pub const CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Adds the UI (when `dir` holds an `index.html`) and a JSON 404 for unknown
/// `/api/…` paths to `router`.
pub fn with_ui(router: Router, dir: Option<&Path>) -> Router {
    let router = router.route("/api/{*rest}", any(crate::routes::not_found));
    match dir {
        Some(dir) if dir.join("index.html").is_file() => {
            let index = ServeFile::new(dir.join("index.html"));
            router.fallback_service(ServeDir::new(dir).fallback(index))
        }
        Some(dir) => {
            tracing::warn!(web_dir = %dir.display(), "no built web UI (index.html) there; serving the API only");
            router.fallback(ui_missing)
        }
        None => router.fallback(ui_missing),
    }
}

async fn ui_missing() -> Response {
    (
        StatusCode::NOT_FOUND,
        "The web UI is not built. Run `npm ci && npm run build` in web/ (scripts/run-local does), \
         or set WEB_DIR to the built files. The API is at /api/v1.",
    )
        .into_response()
}

/// Security headers on every answer.
pub async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}
