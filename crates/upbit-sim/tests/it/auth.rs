//! JWT authentication over HTTP: every failure in Upbit's verification
//! order with its error name and status, HS256 and HS512, the query hash of
//! GET, DELETE and POST parameters, nonces, permissions, IPs and expiry.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Key, hash_input, json_object, replay, sha512, sign};

fn expect(r: &crate::support::Resp, status: u16, name: &str) {
    assert_eq!(
        (r.status.as_u16(), r.error_name().as_str()),
        (status, name),
        "{}",
        r.body
    );
    assert!(
        r.body["error"]["name"].is_string(),
        "Exchange names are strings"
    );
    assert!(r.body["error"]["message"].is_string());
    assert!(
        r.remaining().starts_with("group=default; min=1800; sec="),
        "Remaining-Req on errors too: {:?}",
        r.remaining()
    );
}

#[tokio::test]
async fn token_failures_in_upbit_order() {
    let sim = replay().await;
    let k = Key::new("auth");
    sim.add_account(&k, &[("KRW", "1000")]);
    let accounts = |token: Option<String>| {
        let sim = &sim;
        async move {
            let mut req = sim.http.get(format!("{}/v1/accounts", sim.base));
            if let Some(t) = token {
                req = req.header("Authorization", t);
            }
            let r = req.send().await.unwrap();
            let status = r.status();
            let headers = r.headers().clone();
            let body = r.json().await.unwrap();
            crate::support::Resp {
                status,
                headers,
                body,
            }
        }
    };
    expect(&accounts(None).await, 401, "no_authorization_token");
    expect(
        &accounts(Some("Basic dXNlcjpwYXNz".to_owned())).await,
        401,
        "jwt_verification",
    );
    expect(
        &accounts(Some("Bearer not.a.jwt".to_owned())).await,
        401,
        "jwt_verification",
    );
    let unknown = Key::new("nobody");
    expect(
        &accounts(Some(format!(
            "Bearer {}",
            sign(&unknown, "n1", None, Algorithm::HS256)
        )))
        .await,
        401,
        "invalid_access_key",
    );
    let wrong_secret = Key {
        access: k.access.clone(),
        secret: "not-the-secret".to_owned(),
    };
    expect(
        &accounts(Some(format!(
            "Bearer {}",
            sign(&wrong_secret, "n2", None, Algorithm::HS256)
        )))
        .await,
        401,
        "jwt_verification",
    );
    // HS384 is not one of Upbit's algorithms.
    let hs384 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS384),
        &json!({"access_key": k.access, "nonce": "n3"}),
        &EncodingKey::from_secret(k.secret.as_bytes()),
    )
    .unwrap();
    expect(
        &accounts(Some(format!("Bearer {hs384}"))).await,
        401,
        "jwt_verification",
    );
    // A token without a nonce.
    let no_nonce = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"access_key": k.access}),
        &EncodingKey::from_secret(k.secret.as_bytes()),
    )
    .unwrap();
    expect(
        &accounts(Some(format!("Bearer {no_nonce}"))).await,
        401,
        "jwt_verification",
    );
    // HS256 and HS512 both verify; a nonce works once per key.
    for (alg, nonce) in [(Algorithm::HS256, "n4"), (Algorithm::HS512, "n5")] {
        let ok = accounts(Some(format!("Bearer {}", sign(&k, nonce, None, alg)))).await;
        assert_eq!(ok.status, StatusCode::OK, "{alg:?}: {}", ok.body);
    }
    expect(
        &accounts(Some(format!(
            "Bearer {}",
            sign(&k, "n4", None, Algorithm::HS512)
        )))
        .await,
        401,
        "nonce_used",
    );
    // The same nonce is fine for another key.
    let k2 = Key::new("auth-2");
    sim.add_account(&k2, &[("KRW", "1")]);
    let ok = accounts(Some(format!(
        "Bearer {}",
        sign(&k2, "n4", None, Algorithm::HS256)
    )))
    .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn query_hash_is_checked_for_query_and_body_parameters() {
    let sim = replay().await;
    let k = Key::new("hash");
    sim.add_account(&k, &[("KRW", "100000")]);
    let q = "market=KRW-BTC&states[]=wait&states[]=watch";
    // Correct hash over the decoded query: accepted with raw or encoded brackets.
    for sent in [q.to_owned(), q.replace("[]", "%5B%5D")] {
        let t = sign(&k, &sim.next_nonce(), Some(q), Algorithm::HS512);
        let r = sim
            .raw(
                Method::GET,
                &format!("/v1/orders/open?{sent}"),
                Some(&t),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{sent}: {}", r.body);
    }
    // Hash of other parameters, no hash at all, or a foreign hash algorithm.
    let other = sign(
        &k,
        &sim.next_nonce(),
        Some("market=KRW-ETH"),
        Algorithm::HS256,
    );
    let missing = sign(&k, &sim.next_nonce(), None, Algorithm::HS256);
    let sha256_alg = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"access_key": k.access, "nonce": sim.next_nonce(), "query_hash": sha512(q), "query_hash_alg": "SHA256"}),
        &EncodingKey::from_secret(k.secret.as_bytes()),
    )
    .unwrap();
    for t in [other, missing, sha256_alg] {
        let r = sim
            .raw(Method::GET, &format!("/v1/orders/open?{q}"), Some(&t), None)
            .await;
        expect(&r, 401, "invalid_query_payload");
    }
    // POST: the hash covers the JSON body's fields in body order.
    let body = [
        ("market", "KRW-XRP"),
        ("side", "bid"),
        ("volume", "2"),
        ("price", "3000"),
        ("ord_type", "limit"),
    ];
    let reordered = [body[4], body[0], body[1], body[2], body[3]];
    let t = sign(
        &k,
        &sim.next_nonce(),
        Some(&hash_input(&reordered)),
        Algorithm::HS256,
    );
    let r = sim
        .raw(
            Method::POST,
            "/v1/orders",
            Some(&t),
            Some(("application/json", json_object(&body))),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.error_name().as_str()),
        (401, "invalid_query_payload"),
        "{}",
        r.body
    );
    let t = sign(
        &k,
        &sim.next_nonce(),
        Some(&hash_input(&body)),
        Algorithm::HS256,
    );
    let r = sim
        .raw(
            Method::POST,
            "/v1/orders",
            Some(&t),
            Some(("application/json", json_object(&body))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn permissions_ips_and_expiry() {
    let sim = replay().await;
    let view_only = sim
        .admin_account(json!({
            "access_key": "view-only", "secret_key": "view-secret",
            "balances": {"KRW": "100000"},
            "permissions": ["view_accounts", "view_orders"],
        }))
        .await;
    assert_eq!(view_only.status, StatusCode::CREATED, "{}", view_only.body);
    let k = Key {
        access: "view-only".into(),
        secret: "view-secret".into(),
    };
    let r = sim.private(&k, Method::GET, "/v1/accounts", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = sim
        .create(
            &k,
            &[
                ("market", "KRW-XRP"),
                ("side", "bid"),
                ("volume", "2"),
                ("price", "3000"),
                ("ord_type", "limit"),
            ],
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.error_name().as_str()),
        (403, "out_of_scope")
    );
    let r = sim
        .private(&k, Method::DELETE, "/v1/orders/open", &[])
        .await;
    assert_eq!(r.error_name(), "out_of_scope");

    let orders_only = sim
        .admin_account(json!({
            "access_key": "trade-only", "secret_key": "trade-secret",
            "permissions": ["make_orders"],
        }))
        .await;
    assert_eq!(orders_only.status, StatusCode::CREATED);
    let k = Key {
        access: "trade-only".into(),
        secret: "trade-secret".into(),
    };
    for path in ["/v1/accounts", "/v1/orders/open"] {
        let r = sim.private(&k, Method::GET, path, &[]).await;
        assert_eq!(r.error_name(), "out_of_scope", "{path}");
    }

    // The caller (127.0.0.1) is not on the key's list.
    sim.admin_account(json!({
        "access_key": "ip-bound", "secret_key": "ip-secret", "allowed_ips": ["10.1.2.3"],
    }))
    .await;
    let k = Key {
        access: "ip-bound".into(),
        secret: "ip-secret".into(),
    };
    let r = sim.private(&k, Method::GET, "/v1/accounts", &[]).await;
    assert_eq!(
        (r.status.as_u16(), r.error_name().as_str()),
        (401, "no_authorization_i_p")
    );
    sim.admin_account(json!({
        "access_key": "ip-ok", "secret_key": "ip-secret", "allowed_ips": ["127.0.0.1"],
    }))
    .await;
    let k = Key {
        access: "ip-ok".into(),
        secret: "ip-secret".into(),
    };
    assert_eq!(
        sim.private(&k, Method::GET, "/v1/accounts", &[])
            .await
            .status,
        StatusCode::OK
    );

    // Expired in sim time.
    sim.admin_account(json!({
        "access_key": "old-key", "secret_key": "old-secret", "expires_at": "2025-09-01T02:00:00Z",
    }))
    .await;
    let k = Key {
        access: "old-key".into(),
        secret: "old-secret".into(),
    };
    let r = sim.private(&k, Method::GET, "/v1/accounts", &[]).await;
    assert_eq!(
        (r.status.as_u16(), r.error_name().as_str()),
        (401, "expired_access_key")
    );

    // Quotation endpoints ignore a bad token.
    let r = sim
        .raw(
            Method::GET,
            "/v1/ticker?markets=KRW-BTC",
            Some("garbage"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
