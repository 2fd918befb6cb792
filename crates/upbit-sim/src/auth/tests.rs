//! The worked JWT examples of `upbit-api.md` §4 as vectors, and every failure name.

use std::collections::BTreeMap;

use axum::http::HeaderValue;
use domain::Secret;

use super::*;
use crate::engine::{Account, FeeConfig, Limits, Permissions};

const ACCESS: &str = "TEST_ACCESS_KEY_0123456789abcdefghijklmn";
const SECRET: &str = "TEST_SECRET_KEY_0123456789abcdefghijklmn";

const JWT_A: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2Nlc3Nfa2V5IjoiVEVTVF9BQ0NFU1NfS0VZXzAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbiIsIm5vbmNlIjoiN2M5YTJiMmUtMWYwYi00YzVlLTlmNGMtMmExZDNlNGY1YTZiIn0.mRYik5bs0JUHXmvYDtetNOhCoOUkIMjy7rxnHtId3Uo";
const JWT_B256: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2Nlc3Nfa2V5IjoiVEVTVF9BQ0NFU1NfS0VZXzAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbiIsIm5vbmNlIjoiMGIwYzdhN2UtM2I3ZS00ZDZlLThmNmEtOWE4YjdjNmQ1ZTRmIiwicXVlcnlfaGFzaCI6ImMwMWJiY2I4MDA5NGQyMjI1YzkwZWRhNjUxMjhiYWY3ZWY4MDA0NzFmYmRlYjc2NTc5ODU2ZDE1MzJjZDI2MzA2MGU0MWVkZTljNTJiZmM5MjZhMGI0NmM0Yjc3OTdhNjFlNDMyN2NkYTU5ZDIzNmY4MjljZGU0Yzg3NWRmZTc3IiwicXVlcnlfaGFzaF9hbGciOiJTSEE1MTIifQ.o8WKXd5lusBeZy-dA4Vxk04JI3a5l5yhyF_YY9Ko85U";
const JWT_B512: &str = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJhY2Nlc3Nfa2V5IjoiVEVTVF9BQ0NFU1NfS0VZXzAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbiIsIm5vbmNlIjoiMGIwYzdhN2UtM2I3ZS00ZDZlLThmNmEtOWE4YjdjNmQ1ZTRmIiwicXVlcnlfaGFzaCI6ImMwMWJiY2I4MDA5NGQyMjI1YzkwZWRhNjUxMjhiYWY3ZWY4MDA0NzFmYmRlYjc2NTc5ODU2ZDE1MzJjZDI2MzA2MGU0MWVkZTljNTJiZmM5MjZhMGI0NmM0Yjc3OTdhNjFlNDMyN2NkYTU5ZDIzNmY4MjljZGU0Yzg3NWRmZTc3IiwicXVlcnlfaGFzaF9hbGciOiJTSEE1MTIifQ.bw2FDKh0ax2Ka1dKehY1ZLm0CAH50eAc3nPafC0VOccvdRkFThDjNv6kWBtxOpy6HbZr9jQXcpXOuSqhcKnk-Q";
const JWT_C: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2Nlc3Nfa2V5IjoiVEVTVF9BQ0NFU1NfS0VZXzAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbiIsIm5vbmNlIjoiNWUzZjFjMmEtOGI5ZC00ZTdmLWE2YjUtYzRkM2UyZjFhMGI5IiwicXVlcnlfaGFzaCI6IjA0ZjEwZTdmODQ5MDUxNjQ1ZTA4OGE0MjE3YTNlMWY5MzgyNjgwNTRkZjBlOTliOTNhYzc0NjI3YjExZjY5MzFlNTAxNjU3ZDc3NzcyMGY5ZDE5ZmMyYTY2NDllM2FmYzRhNmU0ZTgzY2NmM2QwNTY5YmU2YmRlNDYzMzc1MGRjIiwicXVlcnlfaGFzaF9hbGciOiJTSEE1MTIifQ.9CSUFrKp35UN_iyK-YTnNJ9aakQzINk2XFRnK19hBdU";

const QUERY_B: &str = "market=KRW-BTC&states[]=wait&states[]=watch";
const BODY_C: &str =
    r#"{"market":"KRW-BTC","side":"bid","volume":"0.01","price":"100000000","ord_type":"limit"}"#;

fn engine() -> Engine {
    let mut e = Engine::new(1, FeeConfig::default(), Limits::default(), 0);
    e.upsert_account(Account::new(
        ACCESS.into(),
        Secret::new(SECRET),
        BTreeMap::new(),
    ));
    e
}

fn headers(token: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    h
}

fn ip() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

fn run(e: &mut Engine, token: &str, params: &Params, scope: Scope) -> Result<Caller, String> {
    authenticate(e, &headers(token), Some(params), ip(), 0, scope).map_err(|err| err.name_text())
}

fn none() -> Params {
    Params::parse(None, None, b"").unwrap()
}

fn query(q: &str) -> Params {
    Params::parse(Some(q), None, b"").unwrap()
}

#[test]
fn document_vectors_verify() {
    assert_eq!(
        sha512_hex(QUERY_B),
        "c01bbcb80094d2225c90eda65128baf7ef800471fbdeb76579856d1532cd263060e41ede9c52bfc926a0b46c4b7797a61e4327cda59d236f829cde4c875dfe77"
    );
    let mut e = engine();
    assert_eq!(
        run(&mut e, JWT_A, &none(), Scope::Accounts)
            .unwrap()
            .access_key,
        ACCESS
    );
    assert!(run(&mut e, JWT_B256, &query(QUERY_B), Scope::ReadOrders).is_ok());
    // Same nonce again (HS512 token of the same payload) → nonce_used.
    assert_eq!(
        run(&mut e, JWT_B512, &query(QUERY_B), Scope::ReadOrders).unwrap_err(),
        "nonce_used"
    );
    let mut fresh = engine();
    assert!(
        run(
            &mut fresh,
            JWT_B512,
            &query("market=KRW-BTC&states%5B%5D=wait&states%5B%5D=watch"),
            Scope::ReadOrders
        )
        .is_ok()
    );
    let body = Params::parse(None, Some("application/json"), BODY_C.as_bytes()).unwrap();
    assert!(run(&mut e, JWT_C, &body, Scope::Trade).is_ok());
}

#[test]
fn failures_have_upbit_names() {
    let mut e = engine();
    // query hash mismatch: same token, other parameters.
    assert_eq!(
        run(
            &mut e,
            JWT_B256,
            &query("market=KRW-ETH"),
            Scope::ReadOrders
        )
        .unwrap_err(),
        "invalid_query_payload"
    );
    // parameters without a query_hash claim.
    assert_eq!(
        run(&mut e, JWT_A, &query("market=KRW-BTC"), Scope::ReadOrders).unwrap_err(),
        "invalid_query_payload"
    );
    // tampered signature.
    let bad = format!("{}x", &JWT_A[..JWT_A.len() - 1]);
    assert_eq!(
        run(&mut e, &bad, &none(), Scope::Accounts).unwrap_err(),
        "jwt_verification"
    );
    assert_eq!(
        run(&mut e, "not-a-jwt", &none(), Scope::Accounts).unwrap_err(),
        "jwt_verification"
    );
    let missing = authenticate(
        &mut e,
        &HeaderMap::new(),
        Some(&none()),
        ip(),
        0,
        Scope::Accounts,
    )
    .unwrap_err();
    assert_eq!(missing.name_text(), "no_authorization_token");
    // unknown key.
    let mut other = Engine::new(1, FeeConfig::default(), Limits::default(), 0);
    assert_eq!(
        run(&mut other, JWT_A, &none(), Scope::Accounts).unwrap_err(),
        "invalid_access_key"
    );
    // permissions, expiry, IPs.
    let mut e = engine();
    e.account_mut(0).unwrap().permissions = Permissions {
        view_accounts: true,
        view_orders: true,
        make_orders: false,
    };
    let body = Params::parse(None, None, BODY_C.as_bytes()).unwrap();
    let err =
        authenticate(&mut e, &headers(JWT_C), Some(&body), ip(), 0, Scope::Trade).unwrap_err();
    assert_eq!(
        (err.name_text().as_str(), err.status.as_u16()),
        ("out_of_scope", 403)
    );
    let mut e = engine();
    e.account_mut(0).unwrap().allowed_ips = vec![IpAddr::from([10, 0, 0, 1])];
    assert_eq!(
        run(&mut e, JWT_A, &none(), Scope::Accounts).unwrap_err(),
        "no_authorization_i_p"
    );
    let mut e = engine();
    e.account_mut(0).unwrap().expires_at = Some(-1);
    assert_eq!(
        run(&mut e, JWT_A, &none(), Scope::Accounts).unwrap_err(),
        "expired_access_key"
    );
    assert_eq!(claimed_key(&headers(JWT_A)).as_deref(), Some(ACCESS));
}
