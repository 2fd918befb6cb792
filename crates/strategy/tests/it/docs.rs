//! `docs/strategy.md` is held to the code, so the documentation cannot drift:
//! every number of the five built-in profiles in its tables equals the
//! built-in definition (`StrategyDefinition::builtin`, risk numbers
//! included), every field of the definition is documented, the rustdoc
//! profile table of `crates/risk/src/params.rs` agrees as well, and the
//! reason codes the two crates emit are exactly the ones the document lists.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use domain::{RegimeLabel, RiskProfile};
use rust_decimal::Decimal;
use serde_json::Value;
use strategy::StrategyDefinition;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    let path = workspace().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The cells of a markdown table row, trimmed, without the outer pipes.
fn cells(line: &str) -> Option<Vec<String>> {
    let t = line.trim();
    if !t.starts_with('|') {
        return None;
    }
    Some(
        t.trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_owned())
            .collect(),
    )
}

/// The text between the first pair of backticks.
fn first_code(cell: &str) -> Option<&str> {
    let rest = cell.split_once('`')?.1;
    Some(rest.split_once('`')?.0)
}

/// One documented row: its key (the backticked first cell) and the cell of
/// each profile column.
type Row = (String, BTreeMap<RiskProfile, String>);

/// Every row of every table whose header names profiles (`SAFETY_FIRST`,
/// `AI_MODE (start)`, …).
fn profile_rows(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut columns: Option<BTreeMap<usize, RiskProfile>> = None;
    for line in text.lines() {
        let Some(cs) = cells(line) else {
            columns = None;
            continue;
        };
        if cs.iter().all(|c| c.starts_with('-') || c.starts_with(':')) {
            continue;
        }
        let header: BTreeMap<usize, RiskProfile> = cs
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let word = c.split_whitespace().next()?;
                RiskProfile::parse("profile", word).ok().map(|p| (i, p))
            })
            .collect();
        // (a data row names its field in backticks; a header does not)
        if header.len() == RiskProfile::ALL.len() && first_code(&cs[0]).is_none() {
            columns = Some(header);
            continue;
        }
        let Some(cols) = &columns else { continue };
        let key = first_code(&cs[0])
            .unwrap_or_else(|| panic!("a profile-table row without a `key`: {line}"))
            .to_owned();
        let values = cols
            .iter()
            .map(|(i, p)| {
                let cell = cs.get(*i).unwrap_or_else(|| panic!("short row: {line}"));
                (*p, cell.trim_matches('`').to_owned())
            })
            .collect();
        rows.push((key, values));
    }
    rows
}

/// `a.b[1].c` in a JSON document.
fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path.split('.') {
        match seg.split_once('[') {
            Some((name, idx)) => {
                cur = cur.get(name)?;
                cur = cur.get(idx.trim_end_matches(']').parse::<usize>().ok()?)?;
            }
            None => cur = cur.get(seg)?,
        }
    }
    Some(cur)
}

/// Every scalar's path in a JSON document.
fn leaves(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| leaves(x, &join(k), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| leaves(x, &format!("{prefix}[{i}]"), out)),
        _ => {
            out.insert(prefix.to_owned());
        }
    }
}

/// A documented number: `1,000`, `0.005`, `1/3`.
fn number(cell: &str) -> Option<f64> {
    let t: String = cell.chars().filter(|c| *c != ',' && *c != '_').collect();
    match t.split_once('/') {
        Some((a, b)) => Some(a.trim().parse::<f64>().ok()? / b.trim().parse::<f64>().ok()?),
        None => t.trim().parse().ok(),
    }
}

fn decimal(cell: &str) -> Option<Decimal> {
    let t: String = cell.chars().filter(|c| *c != ',' && *c != '_').collect();
    t.trim().parse().ok()
}

/// Does the documented cell say what the JSON value is? Decimal strings
/// compare exactly, floats to 1e-12 relative, the rest as text.
fn same(cell: &str, v: &Value) -> bool {
    match v {
        Value::String(s) => {
            s == cell || matches!((decimal(cell), decimal(s)), (Some(a), Some(b)) if a == b)
        }
        Value::Number(n) => {
            let (Some(want), Some(got)) = (number(cell), n.as_f64()) else {
                return false;
            };
            (want - got).abs() <= 1e-12 * got.abs().max(1.0)
        }
        Value::Bool(b) => cell == b.to_string(),
        _ => false,
    }
}

/// The `derived.*` rows: numbers that follow from the definition.
fn derived_ok(key: &str, cell: &str, d: &StrategyDefinition) -> Result<(), String> {
    let approx = |got: f64| match number(cell) {
        Some(want) if (want - got).abs() <= 0.005 => Ok(()),
        _ => Err(format!("code says {got}")),
    };
    match key {
        "derived.risk_fraction" => {
            let got = d.risk.risk_fraction();
            if decimal(cell) == Some(got) {
                Ok(())
            } else {
                Err(format!("code says {got}"))
            }
        }
        "derived.entry_base_at_neutral_regime" => {
            approx(d.thresholds.entry / d.risk.risk_multiplier_f64())
        }
        _ => match key.strip_prefix("derived.max_positions.") {
            Some(label) => {
                let label = RegimeLabel::parse("label", label).map_err(|e| e.to_string())?;
                approx(f64::from(d.risk.max_positions(label)))
            }
            None => Err("unknown derived row".to_owned()),
        },
    }
}

/// Checks `rows` (keys are paths under `prefix` of the built-in definition's
/// JSON, or `derived.*`) against the code; returns the documented paths.
fn check_rows(rows: &[Row], prefix: &str, errors: &mut Vec<String>) -> BTreeSet<String> {
    let mut documented = BTreeSet::new();
    for (key, values) in rows {
        let path = if key.starts_with("derived.") {
            key.clone()
        } else {
            format!("{prefix}{key}")
        };
        if !documented.insert(path.clone()) {
            errors.push(format!("`{path}` is documented twice"));
        }
        for (profile, cell) in values {
            let d = StrategyDefinition::builtin(*profile);
            let result = if path.starts_with("derived.") {
                derived_ok(&path, cell, &d)
            } else {
                let json = serde_json::to_value(&d).unwrap();
                match lookup(&json, &path) {
                    Some(v) if same(cell, v) => Ok(()),
                    Some(v) => Err(format!("code says {v}")),
                    None => Err("no such field in the definition".to_owned()),
                }
            };
            if let Err(why) = result {
                errors.push(format!(
                    "`{path}` for {profile}: documented {cell:?}, {why}"
                ));
            }
        }
    }
    documented
}

#[test]
fn profile_tables_match_the_code_and_cover_every_field() {
    let rows = profile_rows(&read("docs/strategy.md"));
    assert!(rows.len() > 40, "found only {} profile rows", rows.len());
    let mut errors = Vec::new();
    let documented = check_rows(&rows, "", &mut errors);
    // every field of every built-in definition is in the tables
    for p in RiskProfile::ALL {
        let json = serde_json::to_value(StrategyDefinition::builtin(*p)).unwrap();
        let mut all = BTreeSet::new();
        leaves(&json, "", &mut all);
        for path in all.difference(&documented) {
            errors.push(format!(
                "`{path}` ({p}) is not documented in docs/strategy.md"
            ));
        }
    }
    assert!(errors.is_empty(), "\n{}", errors.join("\n"));
}

#[test]
fn the_rustdoc_table_of_risk_params_matches_the_code() {
    let src = read("crates/risk/src/params.rs");
    let doc = src
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let rows = profile_rows(&doc);
    let mut errors = Vec::new();
    let documented = check_rows(&rows, "risk.", &mut errors);
    let json = serde_json::to_value(StrategyDefinition::builtin(RiskProfile::Standard)).unwrap();
    let mut all = BTreeSet::new();
    leaves(&json["risk"], "risk", &mut all);
    all.remove("risk.profile");
    for path in all.difference(&documented) {
        errors.push(format!("`{path}` is missing from params.rs's table"));
    }
    assert!(errors.is_empty(), "\n{}", errors.join("\n"));
}

/// Prefixes of the reason codes the two crates emit.
const CODE_PREFIXES: [&str; 19] = [
    "TP_", "VCB_", "LSR_", "LF_", "REGIME_", "SCR_", "SIGNAL_", "ENTRY_", "EXIT_", "SIZE_",
    "PRE1_", "PRE2_", "PRE3_", "PRE4_", "PRE5_", "PRE6_", "PRE7_", "PRE8_", "GUARD_",
];

fn is_code(s: &str) -> bool {
    s.contains('_')
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && CODE_PREFIXES.iter().any(|p| s.starts_with(p))
}

/// Reason-code string literals in the non-test sources of a crate.
fn source_codes(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            source_codes(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && !matches!(name.as_str(), "tests.rs" | "fixtures.rs" | "testutil.rs")
        {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, lit) in text.split('"').enumerate() {
                if i % 2 == 1 && is_code(lit) {
                    out.insert(lit.to_owned());
                }
            }
        }
    }
}

#[test]
fn every_emitted_reason_code_is_documented_and_no_other() {
    let mut emitted = BTreeSet::new();
    source_codes(&workspace().join("crates/strategy/src"), &mut emitted);
    source_codes(&workspace().join("crates/risk/src"), &mut emitted);
    // the scan works: codes from every family were found
    for known in [
        "TP_PULLBACK_TO_EMA",
        "VCB_SQUEEZE",
        "LSR_RECLAIM",
        "LF_FOLLOWER_LAGGING",
        "REGIME_PANIC",
        "SCR_TOP_N",
        "EXIT_STOP_HIT",
        "SIZE_NO_BUDGET",
        "PRE5_CLUSTER_FULL",
        "GUARD_KILL_SWITCH",
    ] {
        assert!(emitted.contains(known), "scan missed {known}");
    }
    let doc = read("docs/strategy.md");
    let documented: BTreeSet<String> = doc
        .split('`')
        .enumerate()
        .filter(|(i, s)| i % 2 == 1 && is_code(s))
        .map(|(_, s)| s.to_owned())
        .collect();
    let missing: Vec<&String> = emitted.difference(&documented).collect();
    let stale: Vec<&String> = documented.difference(&emitted).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "emitted but not in docs/strategy.md: {missing:?}\nin docs/strategy.md but never emitted: {stale:?}"
    );
}
