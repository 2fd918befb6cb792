//! Crate-wide properties checked over this crate's own source (AUD-1):
//! no SQL string anywhere in `src/` updates, deletes or upserts an
//! append-only table, and the repositories of those tables expose only
//! insert and read methods. (The database triggers that enforce the same at
//! run time are tested in `tests/it/append_only.rs` on both backends.)

use std::path::{Path, PathBuf};

/// The append-only tables (AUD-1), as named in the migrations.
const APPEND_ONLY: [&str; 9] = [
    "signals",
    "order_events",
    "fills",
    "position_events",
    "trades",
    "events",
    "config_audit",
    "trader_transitions",
    "model_transitions",
];

/// Public repositories over append-only tables, and the only method-name
/// prefixes they may expose.
const APPEND_ONLY_REPOS: [&str; 7] = [
    "Signals",
    "Fills",
    "Trades",
    "Events",
    "ConfigAudit",
    "TraderTransitions",
    "ModelTransitions",
];
const ALLOWED_PREFIXES: [&str; 5] = ["append", "insert", "list", "get", "latest"];

fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    assert!(out.len() > 15, "found only {} source files", out.len());
    out
}

/// Upper-cased source with string continuations and runs of whitespace
/// collapsed, so a statement split over lines reads as one.
fn normalized(src: &str) -> String {
    let joined = src.replace("\\\n", " ");
    joined
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// True when `hay` contains `keyword table` with `table` ending at a word boundary.
fn mentions(hay: &str, keyword: &str, table: &str) -> bool {
    let needle = format!("{keyword} {}", table.to_uppercase());
    hay.match_indices(&needle).any(|(i, _)| {
        hay[i + needle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
    })
}

/// The SQL string literals of `text` that start with `INSERT INTO table`.
fn inserts_into<'a>(text: &'a str, table: &str) -> Vec<&'a str> {
    let needle = format!("INSERT INTO {} ", table.to_uppercase());
    text.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &text[i..];
            &rest[..rest.find('"').unwrap_or(rest.len())]
        })
        .collect()
}

#[test]
fn no_sql_mutates_an_append_only_table() {
    let sources = sources();
    let all: Vec<(PathBuf, String)> = sources
        .iter()
        .filter(|(p, _)| !p.ends_with("src/tests.rs"))
        .map(|(p, s)| (p.clone(), normalized(s)))
        .collect();
    // The scanner itself works: a mutable table's UPDATE is found.
    assert!(all.iter().any(|(_, s)| mentions(s, "UPDATE", "traders")));
    assert!(
        all.iter()
            .any(|(_, s)| mentions(s, "DELETE FROM", "positions"))
    );
    for table in APPEND_ONLY {
        let mut inserted = false;
        for (path, text) in &all {
            for keyword in [
                "UPDATE",
                "DELETE FROM",
                "REPLACE INTO",
                "TRUNCATE TABLE",
                "TRUNCATE",
            ] {
                assert!(
                    !mentions(text, keyword, table),
                    "{}: `{keyword} {table}` on an append-only table",
                    path.display()
                );
            }
            for stmt in inserts_into(text, table) {
                inserted = true;
                assert!(
                    !stmt.contains("ON CONFLICT")
                        && !stmt.contains("ON DUPLICATE")
                        && !stmt.contains("OR REPLACE"),
                    "{}: an insert into {table} may overwrite rows: {stmt}",
                    path.display()
                );
            }
        }
        assert!(
            inserted,
            "no INSERT INTO {table} found: is the table list stale?"
        );
    }
}

#[test]
fn append_only_repositories_only_insert_and_read() {
    let sources = sources();
    for repo in APPEND_ONLY_REPOS {
        let header = format!("impl<'a> {repo}<'a> {{");
        let (path, text) = sources
            .iter()
            .find(|(_, s)| s.contains(&header))
            .unwrap_or_else(|| panic!("no `{header}` block found"));
        let start = text.find(&header).unwrap();
        let block = &text[start..];
        // The block ends at the first line that closes it at column 0.
        let end = block.find("\n}\n").unwrap_or(block.len());
        let block = &block[..end];
        let methods: Vec<&str> = block
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                l.strip_prefix("pub async fn ")
                    .or_else(|| l.strip_prefix("pub fn "))
                    .and_then(|rest| rest.split(['(', '<']).next())
            })
            .collect();
        assert!(!methods.is_empty(), "{repo}: no public methods found");
        for m in methods {
            assert!(
                ALLOWED_PREFIXES.iter().any(|p| m.starts_with(p)),
                "{}: {repo}::{m} is neither an insert nor a read",
                path.display()
            );
        }
    }
}

#[test]
fn scanner_helpers() {
    let s = normalized("\"UPDATE trades SET x = 1\"");
    assert!(mentions(&s, "UPDATE", "trades"));
    let s = normalized("\"UPDATE trader_safety_state SET\"");
    assert!(!mentions(&s, "UPDATE", "trades"));
    assert!(!mentions(&s, "UPDATE", "trader"));
    let s = normalized(
        "const X: &str = \"INSERT INTO fills (a) \\\n VALUES (?) ON CONFLICT DO NOTHING\";",
    );
    let found = inserts_into(&s, "fills");
    assert_eq!(found.len(), 1);
    assert!(found[0].contains("ON CONFLICT"));
}
