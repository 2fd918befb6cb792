//! The pipeline's decisions and their reasons survive the database (STR-6,
//! SPEC §15.2): the built-in STANDARD strategy is stored as data through
//! `crates/storage` (a new version and an audit row per change) and read back
//! to drive the replay over real candles (screening → scores → sizing →
//! PRE-1..8 → fills → exits); every decision record is written through the
//! signals repository into a real SQLite database, the way the trader writes
//! it, and read back. The assertions run on what came back: each row's
//! columns, the whole record, and that every stored decision agrees with its
//! stored reasons and the numbers each pre-trade check compared.

use chrono::{DateTime, TimeZone, Utc};
use domain::{Krw, RegimeLabel, RiskProfile, SignalAction};
use risk::{CheckId, CheckResult};
use storage::{Store, signals::NewSignal, strategies::NewStrategy, traders::NewTrader};
use strategy::{SignalRecord, StrategyDefinition};

use crate::support::{Scenario, load, regime, replay};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 10, 0, 0, 0).single().unwrap()
}

fn codes(r: &SignalRecord) -> Vec<&str> {
    r.reason_codes
        .iter()
        .map(domain::ReasonCode::as_str)
        .collect()
}

fn failed_codes(checks: &[CheckResult]) -> Vec<&str> {
    checks
        .iter()
        .flat_map(|c| c.reasons().iter().map(|r| r.code.as_str()))
        .collect()
}

fn check(r: &SignalRecord, id: CheckId) -> &CheckResult {
    r.checks
        .iter()
        .find(|c| c.check == id)
        .unwrap_or_else(|| panic!("{id:?} missing in {r:?}"))
}

/// The definition as the storage layer keeps it: version 1, then a change
/// (version 2 with its audit row), then the stored version 1 back.
async fn stored_definition(store: &Store) -> (StrategyDefinition, domain::StrategyId) {
    let def = StrategyDefinition::builtin(RiskProfile::Standard);
    let created = store
        .strategies()
        .create(
            &NewStrategy {
                name: "it-standard".to_owned(),
                definition: serde_json::to_value(&def).unwrap(),
                risk_profile: def.risk_profile,
            },
            "it",
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(created.latest.version, 1);
    let mut tuned = def.clone();
    tuned.thresholds.entry = 72.0;
    let v2 = store
        .strategies()
        .add_version(
            created.id,
            &serde_json::to_value(&tuned).unwrap(),
            tuned.risk_profile,
            "it",
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let versions = store.strategies().versions(created.id).await.unwrap();
    assert_eq!(versions.len(), 2);
    let audit = store
        .config_audit()
        .list_for("strategy", &created.id.to_string(), 10)
        .await
        .unwrap();
    assert_eq!(audit.len(), 2, "one audit row per version");
    // every stored version parses back into the definition it was
    let back = |i: usize| StrategyDefinition::from_json(&versions[i].definition.to_string());
    let v1 = versions.iter().position(|v| v.version == 1).unwrap();
    let v2 = versions.iter().position(|v| v.version == 2).unwrap();
    assert_eq!(back(v2).unwrap(), tuned);
    let def_back = back(v1).unwrap();
    assert_eq!(def_back, def);
    (def_back, created.id)
}

#[tokio::test]
async fn decisions_and_their_reasons_survive_the_signals_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&storage::default_sqlite_url(dir.path()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let (def, strategy_id) = stored_definition(&store).await;
    let trader = store
        .traders()
        .create(
            &NewTrader {
                name: "it-trader".to_owned(),
                strategy_id,
                seed_krw: Krw::from_i64(10_000_000),
                credential_id: None,
            },
            "it",
            t0(),
        )
        .await
        .unwrap();

    // The replay over real candles, every 10 minutes, TREND at confidence 70.
    let params = def.risk.clone();
    let entry_threshold = def.thresholds.entry;
    let out = replay(
        &load(),
        &Scenario {
            def,
            regime: regime(RegimeLabel::Trend, 70.0),
            step_minutes: 10,
        },
    );
    assert!(!out.records.is_empty());

    // Written exactly as the trader writes a record (services/trader).
    for r in &out.records {
        store
            .signals()
            .append(&NewSignal {
                trader_id: trader.id,
                market: r.market.clone(),
                ts: r.ts,
                total_score: r.total_score,
                scores: serde_json::to_value(r).unwrap(),
                regime: Some(r.regime.label),
                action: r.action,
                reason_codes: r.reason_codes.clone(),
            })
            .await
            .unwrap();
    }
    let rows = store.signals().list(trader.id, t0(), 10_000).await.unwrap();
    assert_eq!(rows.len(), out.records.len());

    // Each row: its columns and the whole record, as written.
    let mut stored = Vec::with_capacity(rows.len());
    for (row, written) in rows.iter().zip(&out.records) {
        let s = &row.signal;
        assert_eq!(s.market, written.market);
        assert_eq!(s.ts, written.ts);
        assert_eq!(s.action, written.action);
        assert_eq!(s.reason_codes, written.reason_codes);
        assert_eq!(s.regime, Some(RegimeLabel::Trend));
        assert_eq!(s.total_score.to_bits(), written.total_score.to_bits());
        let back: SignalRecord = serde_json::from_value(s.scores.clone()).unwrap();
        assert_eq!(&back, written, "row {}", row.id);
        stored.push(back);
    }

    // Every stored decision agrees with its stored reasons and numbers.
    let mut seen_codes = std::collections::BTreeSet::new();
    for r in &stored {
        let c = codes(r);
        seen_codes.extend(c.iter().map(|x| (*x).to_owned()));
        match r.action {
            SignalAction::Enter => {
                assert_eq!(c, ["SIGNAL_ENTRY"]);
                let ids: Vec<CheckId> = r.checks.iter().map(|k| k.check).collect();
                assert_eq!(ids, CheckId::ENTRY);
                assert!(r.checks.iter().all(CheckResult::passed));
                let pre1 = check(r, CheckId::Pre1Score);
                assert!(pre1.numbers["total_score"] >= pre1.numbers["entry_threshold"]);
                assert!((pre1.numbers["entry_threshold"] - entry_threshold).abs() < 1e-9);
                let pre5 = check(r, CheckId::Pre5Correlation);
                assert!(pre5.numbers["open_in_cluster"] < pre5.numbers["max_per_cluster"]);
                let pre8 = check(r, CheckId::Pre8RiskManager);
                assert!(pre8.numbers["open_positions"] < pre8.numbers["max_positions"]);
                assert!(
                    pre8.numbers["open_risk"] + pre8.numbers["order_risk"]
                        <= pre8.numbers["portfolio_risk_cap"] + 1e-6
                );
                let plan = r.plan.as_ref().expect("an entry has its plan");
                assert!(
                    plan.sizing.expected_order_krw.to_f64_lossy()
                        <= pre8.numbers["position_cap"] + 1e-6
                );
                assert!(
                    plan.sizing.risk_to_stop <= plan.sizing.risk_krw + plan.sizing.estimated_fee
                );
                let pre3 = check(r, CheckId::Pre3Liquidity);
                assert!(
                    pre3.numbers["expected_order_krw"]
                        <= pre3.numbers["avg_depth5_krw"] * pre3.numbers["liquidity_min_ratio"]
                            + 1e-6
                );
            }
            SignalAction::Refused if r.checks.is_empty() => {
                // refused before the checks: sizing or the entry levels said why
                assert_eq!(c[0], "SIGNAL_ENTRY");
                assert_eq!(c.len(), 2, "{c:?}");
                assert!(
                    c[1].starts_with("SIZE_") || c[1].starts_with("ENTRY_"),
                    "{c:?}"
                );
                assert!(!r.messages.is_empty());
            }
            SignalAction::Refused => {
                assert_eq!(c[0], "SIGNAL_ENTRY");
                let ids: Vec<CheckId> = r.checks.iter().map(|k| k.check).collect();
                assert_eq!(ids, CheckId::ENTRY, "all eight ran");
                // the decision's codes are exactly the failed checks' reasons
                assert_eq!(&c[1..], failed_codes(&r.checks).as_slice());
                assert!(c.len() > 1);
                assert_eq!(r.messages.len(), c.len() - 1);
                for k in r.checks.iter().filter(|k| !k.passed()) {
                    for reason in k.reasons() {
                        let n = &k.numbers;
                        match reason.code.as_str() {
                            "PRE5_CLUSTER_FULL" => {
                                assert!(n["open_in_cluster"] >= n["max_per_cluster"]);
                                assert!(
                                    (n["max_per_cluster"] - f64::from(params.max_per_cluster))
                                        .abs()
                                        < 1e-9
                                );
                            }
                            "PRE8_MAX_POSITIONS" => {
                                assert!(n["open_positions"] >= n["max_positions"]);
                                assert!((n["max_positions"] - 5.0).abs() < 1e-9, "TREND: 5");
                            }
                            "PRE8_PORTFOLIO_RISK_CAP" => {
                                assert!(n["open_risk"] + n["order_risk"] > n["portfolio_risk_cap"]);
                            }
                            "PRE3_DEPTH_TOO_THIN" => assert!(
                                n["expected_order_krw"]
                                    > n["avg_depth5_krw"] * n["liquidity_min_ratio"]
                            ),
                            "PRE1_SCORE_BELOW_THRESHOLD" => {
                                assert!(n["total_score"] < n["entry_threshold"]);
                            }
                            _ => {}
                        }
                        assert!(!reason.message.is_empty());
                    }
                }
            }
            SignalAction::Hold => {
                if c == ["SIGNAL_NO_ENTRY"] {
                    assert!(r.total_score < entry_threshold);
                } else {
                    assert!(c.is_empty(), "an exit-rule hold has no reason: {c:?}");
                }
                assert!(r.checks.is_empty());
            }
            SignalAction::Exit | SignalAction::Reduce => {
                assert_eq!(c.len(), 1);
                assert!(c[0].starts_with("EXIT_"), "{c:?}");
            }
        }
    }
    // non-vacuous: the stored decisions include entries, exits, reductions,
    // holds and refusals for cluster, slot and loss-streak reasons
    for action in [
        SignalAction::Enter,
        SignalAction::Exit,
        SignalAction::Reduce,
        SignalAction::Hold,
        SignalAction::Refused,
    ] {
        assert!(stored.iter().any(|r| r.action == action), "no {action}");
    }
    for code in [
        "SIGNAL_ENTRY",
        "SIGNAL_NO_ENTRY",
        "PRE5_CLUSTER_FULL",
        "PRE8_MAX_POSITIONS",
        "PRE8_CONSECUTIVE_LOSSES",
    ] {
        assert!(seen_codes.contains(code), "no {code} among {seen_codes:?}");
    }
    assert!(
        seen_codes
            .iter()
            .any(|c| c.starts_with("EXIT_TAKE_PROFIT_"))
    );
    store.close().await;
}
