//! Error mapping: envelopes (string and numeric names), plain-text 429/418,
//! categories and retry classes.

use super::*;

fn check(status: u16, body: &str, want: ErrorCategory, retryable: bool) {
    let e = error_from_response(status, body.as_bytes(), None, Some(RateGroup::Default));
    assert_eq!(e.category(), want, "{status} {body}: {e:?}");
    assert_eq!(e.is_retryable(), retryable, "{status} {body}: {e:?}");
}

fn env(name: &str) -> String {
    format!(r#"{{"error":{{"name":"{name}","message":"m"}}}}"#)
}

#[test]
fn categories_and_retry_classes() {
    use ErrorCategory as C;
    let cases: Vec<(u16, String, C, bool)> = vec![
        (
            400,
            env("insufficient_funds_bid"),
            C::InsufficientFunds,
            false,
        ),
        (
            400,
            env("insufficient_funds_ask"),
            C::InsufficientFunds,
            false,
        ),
        (400, env("under_min_total_bid"), C::OrderRejected, false),
        (400, env("under_min_total_ask"), C::OrderRejected, false),
        (
            400,
            env("under_min_total_market_ask"),
            C::OrderRejected,
            false,
        ),
        (400, env("invalid_price_bid"), C::OrderRejected, false),
        (400, env("invalid_price_ask"), C::OrderRejected, false),
        (400, env("invalid_volume_bid"), C::OrderRejected, false),
        (400, env("invalid_volume_ask"), C::OrderRejected, false),
        (400, env("create_ask_error"), C::OrderRejected, false),
        (400, env("validation_error"), C::BadRequest, false),
        (401, env("jwt_verification"), C::Auth, false),
        (401, env("invalid_query_payload"), C::Auth, false),
        (401, env("invalid_access_key"), C::Auth, false),
        (401, env("expired_access_key"), C::Auth, false),
        (401, env("nonce_used"), C::Auth, false),
        (401, env("no_authorization_i_p"), C::Permission, false),
        (401, env("no_authorization_ip"), C::Permission, false),
        (403, env("out_of_scope"), C::Permission, false),
        (403, env("market_offline"), C::MarketOffline, false),
        (404, env("order_not_found"), C::NotFound, false),
        (400, env("something_new"), C::Unknown, false),
        // Quotation: numeric names.
        (
            404,
            r#"{"error":{"name":404,"message":"Code not found"}}"#.into(),
            C::NotFound,
            false,
        ),
        (
            400,
            r#"{"error":{"name":400,"message":"Invalid parameter. Check the given value!"}}"#
                .into(),
            C::BadRequest,
            false,
        ),
        // 429 as plain text and as JSON; 418; 5xx with and without envelope.
        (429, "Too many API requests.".into(), C::RateLimited, true),
        (
            429,
            r#"{"error":{"name":429,"message":"Too many"}}"#.into(),
            C::RateLimited,
            true,
        ),
        (418, "blocked".into(), C::Blocked, false),
        (500, "<html>oops</html>".into(), C::Transient, true),
        (503, env("server_error"), C::Transient, true),
        // Non-envelope 4xx.
        (401, "nope".into(), C::Auth, false),
        (400, String::new(), C::Unknown, false),
    ];
    for (status, body, want, retry) in cases {
        check(status, &body, want, retry);
    }
}

#[test]
fn names_are_kept_and_unknowns_carry_their_text() {
    let e = error_from_response(400, env("something_new").as_bytes(), None, None);
    match e {
        UpbitError::Api {
            status,
            kind,
            name,
            message,
        } => {
            assert_eq!(status, 400);
            assert_eq!(kind, ApiErrorKind::Unknown("something_new".into()));
            assert_eq!(name, "something_new");
            assert_eq!(message, "m");
        }
        other => panic!("{other:?}"),
    }
    let e = error_from_response(
        404,
        br#"{"error":{"name":404,"message":"Code not found"}}"#,
        None,
        None,
    );
    assert_eq!(e.api_kind(), Some(&ApiErrorKind::Quotation(404)));
}

#[test]
fn rate_limit_and_block_durations() {
    let e = error_from_response(
        429,
        b"Too many API requests.",
        None,
        Some(RateGroup::Candles),
    );
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    assert!(matches!(
        e,
        UpbitError::RateLimited {
            group: Some(RateGroup::Candles),
            ..
        }
    ));
    let e = error_from_response(418, b"{}", Some(Duration::from_secs(30)), None);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
    assert!(!e.is_retryable());
}

#[test]
fn outcome_unknown_only_when_the_request_may_have_landed() {
    let sent = UpbitError::Transport {
        message: "reset".into(),
        timeout: false,
        maybe_sent: true,
    };
    let not_sent = UpbitError::Transport {
        message: "refused".into(),
        timeout: false,
        maybe_sent: false,
    };
    assert!(sent.outcome_unknown());
    assert!(!not_sent.outcome_unknown());
    assert!(not_sent.is_retryable());
    assert!(error_from_response(502, b"", None, None).outcome_unknown());
    assert!(
        !error_from_response(400, env("validation_error").as_bytes(), None, None).outcome_unknown()
    );
    assert!(!error_from_response(429, b"", None, None).outcome_unknown());
}

#[test]
fn snippet_truncates_safely() {
    assert_eq!(snippet("한국어텍스트".as_bytes(), 3), "한국어…");
    assert_eq!(snippet(&[0xff, 0xfe], 10), "\u{fffd}\u{fffd}");
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Any status and any body (arbitrary bytes, or an envelope with an
        /// arbitrary `name` / `message` value, whole or cut) map to a typed
        /// error, never a panic.
        #[test]
        fn any_error_response_maps_to_a_typed_error(
            status in 400u16..600,
            raw in proptest::collection::vec(any::<u8>(), 0..300),
            name in prop_oneof![
                Just("null".to_owned()),
                any::<i64>().prop_map(|i| i.to_string()),
                any::<f64>().prop_map(|f| f.to_string()),
                "\"[a-z_]{0,30}\"",
                Just("{\"x\":1}".to_owned()),
                Just("[1]".to_owned()),
            ],
            message in prop_oneof![
                Just("null".to_owned()),
                "\"[^\"\\\\]{0,40}\"",
                any::<i64>().prop_map(|i| i.to_string()),
            ],
            cut in any::<prop::sample::Index>(),
        ) {
            let e = error_from_response(status, &raw, None, None);
            prop_assert!(e.category() != ErrorCategory::Local);
            let body = format!(r#"{{"error":{{"name":{name},"message":{message}}}}}"#);
            let e = error_from_response(
                status,
                body.as_bytes(),
                Some(Duration::from_secs(1)),
                Some(RateGroup::Order),
            );
            match status {
                429 => prop_assert_eq!(e.category(), ErrorCategory::RateLimited),
                418 => prop_assert_eq!(e.category(), ErrorCategory::Blocked),
                s if s >= 500 => prop_assert!(e.is_retryable()),
                _ => prop_assert!(!e.to_string().is_empty()),
            }
            let c = cut.index(body.len());
            let _ = error_from_response(status, &body.as_bytes()[..c], None, None);
            let _ = parse_error_envelope(&body.as_bytes()[..c]);
        }
    }
}
