//! Definition tests: built-ins, serde, validation naming the field, AI_MODE overrides.

use super::*;

#[test]
fn builtins_are_valid_and_standard_is_the_spec() {
    for p in RiskProfile::ALL {
        let d = StrategyDefinition::builtin(*p);
        d.validate().unwrap();
        assert_eq!(d.risk_profile, *p);
        assert_eq!(d.risk.profile, *p);
        assert_eq!(d.name, p.display_name());
    }
    let s = StrategyDefinition::builtin(RiskProfile::Standard);
    let w = |id: &str| s.weights[id];
    assert!((w("TP") - 0.30).abs() < 1e-12);
    assert!((w("VCB") - 0.25).abs() < 1e-12);
    assert!((w("REGIME") - 0.20).abs() < 1e-12);
    assert!((w("LSR") - 0.15).abs() < 1e-12);
    assert!((w("LF") - 0.10).abs() < 1e-12);
    assert!((s.thresholds.entry - 70.0).abs() < 1e-12);
    assert!((s.thresholds.exit - 40.0).abs() < 1e-12);
    assert!((s.smoothing.alpha - 0.3).abs() < 1e-12);
    assert_eq!(s.leader.as_str(), "KRW-BTC");
    assert_eq!(s.risk, RiskParams::builtin(RiskProfile::Standard));
}

#[test]
fn json_round_trip_is_exact() {
    for p in RiskProfile::ALL {
        let d = StrategyDefinition::builtin(*p);
        let json = serde_json::to_string_pretty(&d).unwrap();
        let back = StrategyDefinition::from_json(&json).unwrap();
        assert_eq!(back, d);
        // serialising again gives the same bytes (STR-8)
        assert_eq!(serde_json::to_string_pretty(&back).unwrap(), json);
    }
}

fn check(edit: impl FnOnce(&mut StrategyDefinition), field: &str) {
    let mut d = StrategyDefinition::builtin(RiskProfile::Standard);
    edit(&mut d);
    let err = d.validate().unwrap_err();
    assert_eq!(err.field, field, "{err}");
    // the same error through JSON (when the value is representable in JSON)
    if let Ok(json) = serde_json::to_string(&d)
        && !json.contains("null")
    {
        let err = StrategyDefinition::from_json(&json).unwrap_err();
        // nested risk errors come from RiskParams' own validation: the leaf name
        let leaf = field.strip_prefix("risk.").unwrap_or(field);
        assert!(err.message.contains(leaf), "{field}: {err}");
    }
}

#[test]
fn validation_names_the_field() {
    check(|d| d.name = String::new(), "name");
    check(|d| d.schema_version = 2, "schema_version");
    check(|d| d.weights.clear(), "weights");
    check(
        |d| {
            d.weights.insert("TP".into(), -0.1);
        },
        "weights.TP",
    );
    check(
        |d| {
            d.weights.insert("tp".into(), 0.1);
        },
        "weights.tp",
    );
    check(
        |d| {
            for w in d.weights.values_mut() {
                *w = 0.0;
            }
        },
        "weights",
    );
    check(|d| d.thresholds.entry = 101.0, "thresholds.entry");
    check(|d| d.thresholds.exit = 70.0, "thresholds.exit");
    check(|d| d.smoothing.alpha = 0.0, "smoothing.alpha");
    check(
        |d| d.smoothing.reset_after_minutes = 0,
        "smoothing.reset_after_minutes",
    );
    check(|d| d.universe.top_n = 0, "universe.top_n");
    check(|d| d.universe.max_spread = 0.0, "universe.max_spread");
    check(
        |d| d.universe.max_volatility = 0.0,
        "universe.max_volatility",
    );
    check(
        |d| d.universe.min_avg_depth5_krw = -1.0,
        "universe.min_avg_depth5_krw",
    );
    check(
        |d| d.exits.take_profits.reverse(),
        "exits.take_profits[1].r_multiple",
    );
    check(
        |d| d.exits.take_profits[0].fraction = 0.9,
        "exits.take_profits",
    );
    check(
        |d| d.exits.take_profits[1].fraction = 0.0,
        "exits.take_profits[1].fraction",
    );
    check(
        |d| d.exits.trailing_atr_multiple = 0.0,
        "exits.trailing_atr_multiple",
    );
    check(
        |d| d.exits.panic_reduce_fraction = 1.5,
        "exits.panic_reduce_fraction",
    );
    check(|d| d.regime_policy.trend = 4.0, "regime_policy.trend");
    check(
        |d| d.regime_policy.breakout_rotation = -1.0,
        "regime_policy.breakout_rotation",
    );
    check(
        |d| d.risk.risk_per_trade = rust_decimal::Decimal::ONE,
        "risk.risk_per_trade",
    );
    check(|d| d.risk.profile = RiskProfile::Crazy, "risk.profile");
}

#[test]
fn json_errors_name_the_field() {
    let d = StrategyDefinition::builtin(RiskProfile::Standard);
    let mut v = serde_json::to_value(&d).unwrap();
    v["risk"]["daily_loss_limit"] = serde_json::json!("0.9");
    let err = StrategyDefinition::from_json(&v.to_string()).unwrap_err();
    assert_eq!(err.field, "definition");
    assert!(err.message.contains("daily_loss_limit"), "{err}");
    let mut v = serde_json::to_value(&d).unwrap();
    v["universe"]["top_m"] = serde_json::json!(3);
    let err = StrategyDefinition::from_json(&v.to_string()).unwrap_err();
    assert!(err.message.contains("top_m"), "{err}");
    let mut v = serde_json::to_value(&d).unwrap();
    v["signal_interval"] = serde_json::json!("2m");
    assert!(StrategyDefinition::from_json(&v.to_string()).is_err());
    assert!(StrategyDefinition::from_json("{").is_err());
}

#[test]
fn ai_mode_overrides() {
    let none = StrategyDefinition::ai_mode(&StrategyOverrides::default()).unwrap();
    assert_eq!(none.risk_profile, RiskProfile::AiMode);
    let o: StrategyOverrides = serde_json::from_str(
        r#"{"weights": {"TP": 0.5}, "entry_threshold": 72, "top_n": 25,
            "risk": {"risk_per_trade": "0.008"}}"#,
    )
    .unwrap();
    let d = StrategyDefinition::ai_mode(&o).unwrap();
    assert!((d.weights["TP"] - 0.5).abs() < 1e-12);
    assert!((d.weights["VCB"] - 0.25).abs() < 1e-12);
    assert!((d.thresholds.entry - 72.0).abs() < 1e-12);
    assert_eq!(d.universe.top_n, 25);
    assert_eq!(d.risk.risk_per_trade, rust_decimal::Decimal::new(8, 3));
    assert_eq!(d.risk.profile, RiskProfile::AiMode);

    let bad = |json: &str, field: &str| {
        let o: StrategyOverrides = serde_json::from_str(json).unwrap();
        let err = StrategyDefinition::ai_mode(&o).unwrap_err();
        assert_eq!(err.field, field, "{json}: {err}");
    };
    bad(r#"{"weights": {"NEW": 1}}"#, "weights.NEW");
    bad(r#"{"exit_threshold": 80}"#, "thresholds.exit");
    bad(
        r#"{"risk": {"daily_loss_limit": 0.5}}"#,
        "risk.daily_loss_limit",
    );
    bad(r#"{"top_n": 0}"#, "universe.top_n");
    assert!(serde_json::from_str::<StrategyOverrides>(r#"{"alpha": 0.5}"#).is_err());
}

#[test]
fn overrides_apply_on_top_of_a_stored_definition() {
    // A stored AI_MODE strategy with numbers of its own: the model's
    // overrides replace only what they name.
    let mut stored = StrategyDefinition::ai_mode(&StrategyOverrides::default()).unwrap();
    stored.universe.min_value_24h_krw = 1e8;
    stored.execution.split_entries = 2;
    stored.risk.consecutive_loss_limit = 9;
    stored.validate().unwrap();
    let o: StrategyOverrides = serde_json::from_str(
        r#"{"entry_threshold": 61, "exit_threshold": 30, "risk": {"risk_per_trade": "0.006"}}"#,
    )
    .unwrap();
    let d = stored.with_overrides(&o).unwrap();
    assert!((d.thresholds.entry - 61.0).abs() < 1e-12);
    assert!((d.thresholds.exit - 30.0).abs() < 1e-12);
    assert!((d.universe.min_value_24h_krw - 1e8).abs() < 1e-3);
    assert_eq!(d.execution.split_entries, 2);
    assert_eq!(d.risk.consecutive_loss_limit, 9);
    assert_eq!(d.risk.risk_per_trade, rust_decimal::Decimal::new(6, 3));
    assert_eq!(
        stored
            .with_overrides(&StrategyOverrides::default())
            .unwrap(),
        stored
    );
    // Invalid results name the field.
    let o: StrategyOverrides = serde_json::from_str(r#"{"entry_threshold": 20}"#).unwrap();
    assert_eq!(
        stored.with_overrides(&o).unwrap_err().field,
        "thresholds.exit"
    );
    let o: StrategyOverrides =
        serde_json::from_str(r#"{"risk": {"risk_multiplier": "9"}}"#).unwrap();
    assert_eq!(
        stored.with_overrides(&o).unwrap_err().field,
        "risk.risk_multiplier"
    );
}

#[test]
fn execution_rules_are_optional_and_validated() {
    // A stored definition without the `execution` section reads as the defaults.
    let d = StrategyDefinition::builtin(RiskProfile::Standard);
    let mut v = serde_json::to_value(&d).unwrap();
    v.as_object_mut().unwrap().remove("execution");
    let back = StrategyDefinition::from_json(&v.to_string()).unwrap();
    assert_eq!(back.execution, ExecutionRules::default());
    // A given section is read and checked.
    v["execution"] = serde_json::json!({"entry_style": "POST_ONLY", "split_entries": 3});
    let back = StrategyDefinition::from_json(&v.to_string()).unwrap();
    assert_eq!(back.execution.entry_style, EntryStyle::PostOnly);
    assert_eq!(back.execution.split_entries, 3);
    assert_eq!(back.execution.entry_timeout_secs, 120);
    check(|d| d.execution.split_entries = 0, "execution.split_entries");
    check(
        |d| d.execution.entry_timeout_secs = 5,
        "execution.entry_timeout_secs",
    );
    v["execution"] = serde_json::json!({"entry_style": "MARKET"});
    assert!(StrategyDefinition::from_json(&v.to_string()).is_err());
}
