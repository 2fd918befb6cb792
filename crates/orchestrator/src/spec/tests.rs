//! Spec validation, redacted `Debug`, and the fingerprint's stability.

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `Ok(())` when the spec is accepted, else the rejected field.
fn check(config_hash: &str, pairs: &[(&str, &str)], expect: Result<(), &str>) {
    let id = TraderId::new(7).unwrap();
    let got = TraderSpec::new(id, config_hash, env(pairs))
        .map(|_| ())
        .map_err(|e| e.field);
    assert_eq!(
        got,
        expect.map_err(str::to_owned),
        "config_hash={config_hash:?} env={pairs:?}"
    );
}

#[test]
fn validation_names_the_field() {
    check("v3:mode-paper:arm-0", &[("A", "1")], Ok(()));
    check("abc.DEF_123", &[], Ok(()));
    check("", &[], Err("config_hash"));
    check("has space", &[], Err("config_hash"));
    check("ünïcode", &[], Err("config_hash"));
    check(&"x".repeat(MAX_CONFIG_HASH_LEN), &[], Ok(()));
    check(
        &"x".repeat(MAX_CONFIG_HASH_LEN + 1),
        &[],
        Err("config_hash"),
    );
    check("h", &[("", "v")], Err("env"));
    check("h", &[("A=B", "v")], Err("env"));
    check("h", &[("A", "nul\0")], Err("env"));
    check("h", &[("TRADER_ID", "9")], Err("env"));
    check("h", &[("A", "= and spaces are fine")], Ok(()));
}

#[test]
fn debug_never_shows_env_values() {
    let spec = TraderSpec::new(
        TraderId::new(3).unwrap(),
        "h1",
        env(&[
            ("MASTER_KEY", "c2VjcmV0LWtleQ=="),
            ("DATABASE_URL", "mysql://u:pw@db"),
        ]),
    )
    .unwrap();
    let dbg = format!("{spec:?}");
    assert!(!dbg.contains("c2VjcmV0"), "{dbg}");
    assert!(!dbg.contains("pw@db"), "{dbg}");
    assert!(dbg.contains("MASTER_KEY=***"), "{dbg}");
    assert!(dbg.contains("h1"), "{dbg}");
    let desired = DesiredTrader { spec, run: true };
    assert!(!format!("{desired:?}").contains("pw@db"));
}

#[test]
fn full_env_adds_trader_id() {
    let spec = TraderSpec::new(TraderId::new(42).unwrap(), "h", env(&[("A", "1")])).unwrap();
    let full = spec.full_env();
    assert_eq!(full.get("TRADER_ID").map(String::as_str), Some("42"));
    assert_eq!(full.get("A").map(String::as_str), Some("1"));
    assert!(!spec.env().contains_key("TRADER_ID"));
}

#[test]
fn fingerprint_is_stable_and_unambiguous() {
    let a = fingerprint(["ab", "c"]);
    assert_eq!(a, fingerprint(["ab", "c"]));
    // Length prefixes keep part boundaries: "ab"+"c" differs from "a"+"bc".
    assert_ne!(a, fingerprint(["a", "bc"]));
    assert_eq!(a.len(), 64);
}

#[test]
fn status_serializes_with_a_tag() {
    let s = serde_json::to_string(&RuntimeStatus::Stopped { exit_code: Some(1) }).unwrap();
    assert_eq!(s, r#"{"state":"stopped","exit_code":1}"#);
    assert_eq!(
        serde_json::to_string(&RuntimeStatus::Running).unwrap(),
        r#"{"state":"running"}"#
    );
    assert!(RuntimeStatus::Restarting.is_up());
    assert!(!RuntimeStatus::Missing.is_up());
}
