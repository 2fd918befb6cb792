//! JWT and query-hash vectors. The expected strings were computed
//! independently with Python (`hashlib`, `hmac`, `base64`) and match the
//! worked examples in upbit-api.md §4; the tokens are also verified with the
//! `jsonwebtoken` crate (an independent JOSE implementation).

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;

use super::*;
use crate::http::query::Params;

const AK: &str = "TEST_ACCESS_KEY_0123456789abcdefghijklmn";
const SK: &str = "TEST_SECRET_KEY_0123456789abcdefghijklmn";

fn cred(alg: JwtAlgorithm) -> Credential {
    Credential::new(AK, Secret::new(SK))
        .unwrap()
        .with_algorithm(alg)
}

#[test]
fn token_without_parameters_matches_vector_a() {
    let t =
        cred(JwtAlgorithm::Hs256).token_with_nonce("7c9a2b2e-1f0b-4c5e-9f4c-2a1d3e4f5a6b", None);
    assert_eq!(
        t,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2Nlc3Nfa2V5IjoiVEVTVF9BQ0NFU1NfS0VZXzAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbiIsIm5vbmNlIjoiN2M5YTJiMmUtMWYwYi00YzVlLTlmNGMtMmExZDNlNGY1YTZiIn0.mRYik5bs0JUHXmvYDtetNOhCoOUkIMjy7rxnHtId3Uo"
    );
}

#[test]
fn token_with_array_parameters_matches_vector_b_in_both_algorithms() {
    let params = Params::new()
        .push("market", "KRW-BTC")
        .push_many("states", ["wait", "watch"]);
    let input = params.hash_input();
    assert_eq!(input, "market=KRW-BTC&states[]=wait&states[]=watch");
    assert_eq!(
        query_hash(&input),
        "c01bbcb80094d2225c90eda65128baf7ef800471fbdeb76579856d1532cd263060e41ede9c52bfc926a0b46c4b7797a61e4327cda59d236f829cde4c875dfe77"
    );
    let nonce = "0b0c7a7e-3b7e-4d6e-8f6a-9a8b7c6d5e4f";
    let payload = "eyJhY2Nlc3Nfa2V5IjoiVEVTVF9BQ0NFU1NfS0VZXzAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbiIsIm5vbmNlIjoiMGIwYzdhN2UtM2I3ZS00ZDZlLThmNmEtOWE4YjdjNmQ1ZTRmIiwicXVlcnlfaGFzaCI6ImMwMWJiY2I4MDA5NGQyMjI1YzkwZWRhNjUxMjhiYWY3ZWY4MDA0NzFmYmRlYjc2NTc5ODU2ZDE1MzJjZDI2MzA2MGU0MWVkZTljNTJiZmM5MjZhMGI0NmM0Yjc3OTdhNjFlNDMyN2NkYTU5ZDIzNmY4MjljZGU0Yzg3NWRmZTc3IiwicXVlcnlfaGFzaF9hbGciOiJTSEE1MTIifQ";
    assert_eq!(
        cred(JwtAlgorithm::Hs256).token_with_nonce(nonce, Some(&input)),
        format!(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{payload}.o8WKXd5lusBeZy-dA4Vxk04JI3a5l5yhyF_YY9Ko85U"
        )
    );
    assert_eq!(
        cred(JwtAlgorithm::Hs512).token_with_nonce(nonce, Some(&input)),
        format!(
            "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.{payload}.bw2FDKh0ax2Ka1dKehY1ZLm0CAH50eAc3nPafC0VOccvdRkFThDjNv6kWBtxOpy6HbZr9jQXcpXOuSqhcKnk-Q"
        )
    );
}

#[test]
fn json_body_hash_uses_body_field_order_vector_c() {
    let body = Params::new()
        .push("market", "KRW-BTC")
        .push("side", "bid")
        .push("volume", "0.01")
        .push("price", "100000000")
        .push("ord_type", "limit");
    assert_eq!(
        body.to_json_body(),
        r#"{"market":"KRW-BTC","side":"bid","volume":"0.01","price":"100000000","ord_type":"limit"}"#
    );
    assert_eq!(
        body.hash_input(),
        "market=KRW-BTC&side=bid&volume=0.01&price=100000000&ord_type=limit"
    );
    assert_eq!(
        query_hash(&body.hash_input()),
        "04f10e7f849051645e088a4217a3e1f938268054df0e99b93ac74627b11f6931e501657d777720f9d19fc2a6649e3afc4a6e4e83ccf3d0569be6bde4633750dc"
    );
}

#[test]
fn hash_pinned_by_hand_with_python() {
    // python3: hashlib.sha512(b"market=KRW-ETH&states[]=done&states[]=cancel&start_time=2025-07-01T00:00:00Z&limit=50&order_by=asc").hexdigest()
    let p = Params::new()
        .push("market", "KRW-ETH")
        .push_many("states", ["done", "cancel"])
        .push("start_time", "2025-07-01T00:00:00Z")
        .push("limit", 50)
        .push("order_by", "asc");
    assert_eq!(
        query_hash(&p.hash_input()),
        "a05c704910face7e49a7f5c955ae492d5e9a0a9ce9459f4b6b96f83773db66dbef542ceb5aa60afdd9c6503a9dd92b41669626e6296cc6438c71d17b99fbec78"
    );
    // The encoded query keeps `[]` raw and percent-encodes the value's ':'.
    assert_eq!(
        p.to_query_string(),
        "market=KRW-ETH&states[]=done&states[]=cancel&start_time=2025-07-01T00%3A00%3A00Z&limit=50&order_by=asc"
    );
}

#[derive(Debug, Deserialize)]
struct Claims {
    access_key: String,
    nonce: String,
    query_hash: Option<String>,
    query_hash_alg: Option<String>,
}

fn verify(token: &str, alg: Algorithm) -> Claims {
    let mut v = Validation::new(alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    decode::<Claims>(token, &DecodingKey::from_secret(SK.as_bytes()), &v)
        .unwrap()
        .claims
}

#[test]
fn fresh_tokens_verify_with_an_independent_library_and_use_new_nonces() {
    for (alg, jalg) in [
        (JwtAlgorithm::Hs256, Algorithm::HS256),
        (JwtAlgorithm::Hs512, Algorithm::HS512),
    ] {
        let c = cred(alg);
        let t1 = c.token(Some("market=KRW-BTC"));
        let t2 = c.token(Some("market=KRW-BTC"));
        let (c1, c2) = (verify(&t1, jalg), verify(&t2, jalg));
        assert_eq!(c1.access_key, AK);
        assert_ne!(c1.nonce, c2.nonce, "nonce must be fresh per request");
        assert!(uuid::Uuid::parse_str(&c1.nonce).is_ok());
        assert_eq!(
            c1.query_hash.as_deref(),
            Some(&*query_hash("market=KRW-BTC"))
        );
        assert_eq!(c1.query_hash_alg.as_deref(), Some("SHA512"));
        let bare = verify(&c.token(None), jalg);
        assert_eq!(bare.query_hash, None);
        assert_eq!(bare.query_hash_alg, None);
    }
    let bad = decode::<Claims>(
        &cred(JwtAlgorithm::Hs256).token(None),
        &DecodingKey::from_secret(b"wrong"),
        &{
            let mut v = Validation::new(Algorithm::HS256);
            v.required_spec_claims.clear();
            v.validate_exp = false;
            v
        },
    );
    assert!(bad.is_err());
}

#[test]
fn debug_never_shows_the_secret() {
    let c = cred(JwtAlgorithm::Hs256);
    let dbg = format!("{c:?}");
    assert!(!dbg.contains(SK), "{dbg}");
    assert!(!dbg.contains(AK), "{dbg}");
    assert!(dbg.contains("TEST…"), "{dbg}");
    assert!(c.authorization(None).starts_with("Bearer ey"));
}

#[test]
fn rejects_bad_keys_naming_the_field() {
    assert_eq!(
        Credential::new("", Secret::new(SK)).unwrap_err().field,
        "access_key"
    );
    assert_eq!(
        Credential::new(AK, Secret::new("a b")).unwrap_err().field,
        "secret_key"
    );
}
