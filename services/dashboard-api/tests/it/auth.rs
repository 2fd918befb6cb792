//! Auth: every protected route answers 401 without a session; login, the
//! cookie's attributes, CSRF on changes, logout, session expiry and the login
//! rate limit.

use chrono::Duration;
use dashboard_api::routes;
use http::{Method, StatusCode};
use serde_json::json;

use crate::support::{Db, Options, PASSWORD, TestApp, both};

/// A concrete path for a route (`{id}` → 1).
fn concrete(path: &str) -> String {
    format!("/api/v1{}", path.replace("{id}", "1"))
}

async fn every_protected_route_needs_a_session(db: Db) {
    let app = TestApp::new(db).await;
    let table = routes::table();
    assert!(
        table.iter().filter(|r| !r.public).count() >= 20,
        "{table:?}"
    );
    for r in table.iter().filter(|r| !r.public) {
        let method: Method = r.method.parse().unwrap();
        let res = app
            .req(method.clone(), &concrete(r.path))
            .json(json!({}))
            .send()
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(
            res.json["error"]["code"], "unauthenticated",
            "{} {}",
            r.method, r.path
        );
        // A made-up cookie is no better.
        let res = app
            .req(method, &concrete(r.path))
            .header("cookie", "session=forged-token-0123456789abcdef")
            .header("x-csrf-token", "whatever")
            .json(json!({}))
            .send()
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "forged: {} {}",
            r.method,
            r.path
        );
    }
    // The public ones answer without a session.
    app.req(Method::GET, "/api/v1/health")
        .send()
        .await
        .expect(StatusCode::OK);
    app.req(Method::GET, "/api/v1/openapi.json")
        .send()
        .await
        .expect(StatusCode::OK);
    app.shutdown().await;
}
both!(every_protected_route_needs_a_session);

async fn login_cookie_csrf_logout(db: Db) {
    let app = TestApp::new(db).await;
    // Bad bodies name the field.
    app.req(Method::POST, "/api/v1/auth/login")
        .json(json!({"username": "admin"}))
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("password"),
        );
    app.req(Method::POST, "/api/v1/auth/login")
        .json(json!({"username": "", "password": "x"}))
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("username"),
        );
    app.req(Method::POST, "/api/v1/auth/login")
        .json(json!({"username": 5, "password": "x"}))
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("username"),
        );
    app.req(Method::POST, "/api/v1/auth/login")
        .raw("{not json", "application/json")
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("body"),
        );
    app.req(Method::POST, "/api/v1/auth/login")
        .raw("username=admin", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("body"),
        );
    // Wrong password or user: 401 invalid_credentials, no cookie.
    for (u, p) in [("admin", "nope"), ("root", PASSWORD)] {
        let r = app
            .req(Method::POST, "/api/v1/auth/login")
            .json(json!({"username": u, "password": p}))
            .send()
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials", None);
        assert!(r.headers.get("set-cookie").is_none());
    }
    let s = app.login().await;
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(
            s.set_cookie.contains(attr),
            "{attr} missing: {}",
            s.set_cookie
        );
    }
    let me = app
        .req(Method::GET, "/api/v1/auth/me")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(me.json["username"], "admin");
    assert_eq!(me.json["csrf_token"], s.csrf);
    // The UI's session probe never answers 401 (a console error in the
    // browser): the session, or `authenticated: false`.
    let probe = app
        .req(Method::GET, "/api/v1/auth/session")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        probe.json,
        json!({"authenticated": true, "username": "admin", "csrf_token": s.csrf})
    );
    let probe = app
        .req(Method::GET, "/api/v1/auth/session")
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(probe.json, json!({"authenticated": false}));
    assert!(probe.headers.get("set-cookie").is_none());
    let probe = app
        .req(Method::GET, "/api/v1/auth/session")
        .header("cookie", "session=forged-token-0123456789abcdef")
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(probe.json, json!({"authenticated": false}));
    assert!(
        probe.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0"),
        "a stale cookie is cleared"
    );
    // Changes need the CSRF token: missing or wrong → 403, nothing changed.
    let body = json!({"name": "x", "strategy_id": 1, "seed_krw": "1000000", "credential_id": null});
    app.req(Method::POST, "/api/v1/traders")
        .cookie_only(&s)
        .json(body.clone())
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "csrf", None);
    app.req(Method::POST, "/api/v1/traders")
        .cookie_only(&s)
        .header("x-csrf-token", "wrong-token")
        .json(body.clone())
        .send()
        .await
        .expect_error(StatusCode::FORBIDDEN, "csrf", None);
    assert!(app.store.traders().list(true).await.unwrap().is_empty());
    // Logout ends the session.
    let out = app
        .req(Method::POST, "/api/v1/auth/logout")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    app.req(Method::GET, "/api/v1/auth/me")
        .auth(&s)
        .send()
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
    let probe = app
        .req(Method::GET, "/api/v1/auth/session")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(probe.json, json!({"authenticated": false}));
    // Sessions expire (12 h).
    let s2 = app.login().await;
    app.clock
        .advance(Duration::hours(12) + Duration::seconds(1));
    app.req(Method::GET, "/api/v1/traders")
        .auth(&s2)
        .send()
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated", None);
    let probe = app
        .req(Method::GET, "/api/v1/auth/session")
        .auth(&s2)
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(probe.json, json!({"authenticated": false}), "expired");
    app.shutdown().await;
}
both!(login_cookie_csrf_logout);

/// `COOKIE_SECURE`: the session cookie (and its clearing) carry `Secure`.
async fn secure_cookie_when_configured(db: Db) {
    let mut opts = Options::default();
    opts.settings.secure_cookie = true;
    let app = TestApp::with(db, opts).await;
    let s = app.login().await;
    assert!(s.set_cookie.ends_with("; Secure"), "{}", s.set_cookie);
    let out = app
        .req(Method::POST, "/api/v1/auth/logout")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    let cleared = out.headers["set-cookie"].to_str().unwrap();
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("Secure"),
        "{cleared}"
    );
    // Off (the default): no Secure attribute.
    let plain = TestApp::new(db).await;
    let s = plain.login().await;
    assert!(!s.set_cookie.contains("Secure"), "{}", s.set_cookie);
    app.shutdown().await;
    plain.shutdown().await;
}
both!(secure_cookie_when_configured);

async fn login_is_rate_limited(db: Db) {
    let app = TestApp::new(db).await;
    for _ in 0..5 {
        app.req(Method::POST, "/api/v1/auth/login")
            .json(json!({"username": "admin", "password": "guess"}))
            .send()
            .await
            .expect(StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused now, before it is checked.
    let r = app
        .req(Method::POST, "/api/v1/auth/login")
        .json(json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
    let retry: i64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&retry), "{retry}");
    app.clock
        .advance(Duration::minutes(5) + Duration::seconds(1));
    app.login().await;
    app.shutdown().await;
}
both!(login_is_rate_limited);
