//! CONFIG: credentials checked against the real Upbit simulator's
//! `GET /v1/accounts` (ok / rejected keys / rejected permission /
//! unreachable), listed masked, never answered with the secret, deleted
//! unless in use.

use domain::Secret;
use http::{Method, StatusCode};
use serde_json::json;
use upbit::UpbitUrls;
use upbit_sim::{AccountSpec, Scenario, SimConfig, Simulator};

use crate::{
    support::{Db, Options, TestApp, both},
    traders::create_trader,
};

const ACCESS: &str = "SIMaccessKEY0001abcd";
const SECRET: &str = "SIMsecretKEY0001-do-not-leak-0123456789";

async fn checked_against_the_exchange(db: Db) {
    let mut cfg = SimConfig::synthetic(Scenario::Range, 3, 7);
    cfg.accounts = vec![AccountSpec::new(ACCESS, SECRET, &[("KRW", "1000000")])];
    let sim = Simulator::start(cfg).await.expect("simulator");
    let mut no_view = AccountSpec::new(
        "SIMnoViewKEY0002abcd",
        "SIMnoViewSECRET0002xyz",
        &[("KRW", "1")],
    );
    no_view.permissions = Some(vec!["make_orders".to_owned()]);
    sim.add_account(&no_view).expect("account");
    let app = TestApp::with(
        db,
        Options {
            upbit: UpbitUrls::new(&sim.base_url(), &sim.ws_url()).unwrap(),
            ..Options::default()
        },
    )
    .await;
    for s in [SECRET, "SIMnoViewSECRET0002xyz", "wrong-secret-value-1234"] {
        app.secret(s);
    }
    let s = app.login().await;

    let c = app
        .req(Method::POST, "/api/v1/credentials")
        .auth(&s)
        .json(json!({"name": "main", "access_key": ACCESS, "secret_key": SECRET}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .json;
    assert_eq!(c["check"], "ok");
    assert_eq!(c["name"], "main");
    assert_eq!(c["access_key_masked"], "SIMa…");
    assert_eq!(c["in_use_by"], json!([]));
    assert!(c.get("secret_key").is_none() && c.get("access_key").is_none());
    // Sealed at rest: the stored row decrypts to the secret with the key.
    let id = domain::CredentialId::new(c["id"].as_i64().unwrap()).unwrap();
    let dec = app
        .store
        .credentials()
        .decrypt(id, &app.master_key)
        .await
        .unwrap();
    assert_eq!(dec.secret, Secret::new(SECRET.to_owned()));

    // Rejections name the field; nothing is stored.
    for (body, field) in [
        (
            json!({"name": "bad1", "access_key": ACCESS, "secret_key": "wrong-secret-value-1234"}),
            "secret_key",
        ),
        (
            json!({"name": "bad2", "access_key": "SIMunknownKEY999", "secret_key": SECRET}),
            "access_key",
        ),
        (
            json!({"name": "bad3", "access_key": "SIMnoViewKEY0002abcd", "secret_key": "SIMnoViewSECRET0002xyz"}),
            "access_key",
        ),
        (
            json!({"name": "bad4", "access_key": "", "secret_key": SECRET}),
            "access_key",
        ),
        (
            json!({"name": "bad5", "access_key": "has space", "secret_key": SECRET}),
            "access_key",
        ),
        (json!({"name": "bad6", "access_key": ACCESS}), "secret_key"),
        (json!({"access_key": ACCESS, "secret_key": SECRET}), "name"),
        (
            json!({"name": "", "access_key": ACCESS, "secret_key": SECRET}),
            "name",
        ),
    ] {
        let r = app
            .req(Method::POST, "/api/v1/credentials")
            .auth(&s)
            .json(body)
            .send()
            .await
            .expect_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_error",
                Some(field),
            );
        assert!(!r.text.contains(SECRET));
    }
    app.req(Method::POST, "/api/v1/credentials")
        .auth(&s)
        .json(json!({"name": "main", "access_key": ACCESS, "secret_key": SECRET}))
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "name_taken", None);
    let list = app
        .req(Method::GET, "/api/v1/credentials")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(list.as_array().unwrap().len(), 1);

    // In use → 409; after the trader is removed → 204; then 404.
    let t = create_trader(&app, &s, "user", c["id"].as_i64()).await;
    let list = app
        .req(Method::GET, "/api/v1/credentials")
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::OK)
        .json;
    assert_eq!(list[0]["in_use_by"], json!([t["id"]]));
    assert!(list[0].get("check").is_none());
    let cid = c["id"].as_i64().unwrap();
    app.req(Method::DELETE, &format!("/api/v1/credentials/{cid}"))
        .auth(&s)
        .send()
        .await
        .expect_error(StatusCode::CONFLICT, "credential_in_use", None);
    app.req(Method::DELETE, &format!("/api/v1/traders/{}", t["id"]))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    app.req(Method::DELETE, &format!("/api/v1/credentials/{cid}"))
        .auth(&s)
        .send()
        .await
        .expect(StatusCode::NO_CONTENT);
    app.req(Method::DELETE, &format!("/api/v1/credentials/{cid}"))
        .auth(&s)
        .send()
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found", None);
    app.req(Method::DELETE, "/api/v1/credentials/zero")
        .auth(&s)
        .send()
        .await
        .expect_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Some("id"),
        );

    // The exchange down: stored, marked unreachable.
    sim.shutdown().await.expect("sim shutdown");
    let c = app
        .req(Method::POST, "/api/v1/credentials")
        .auth(&s)
        .json(json!({"name": "offline", "access_key": ACCESS, "secret_key": SECRET}))
        .send()
        .await
        .expect(StatusCode::CREATED)
        .json;
    assert_eq!(c["check"], "unreachable");
    app.shutdown().await;
}
both!(checked_against_the_exchange);
