//! Conventions: every Rust file starts with a `//!` line; no `mod.rs`; every
//! environment variable the code reads is documented in `.env.example`.

use tidy::{files, repo_root};

#[test]
fn every_rust_file_starts_with_a_doc_line() {
    let root = repo_root();
    let mut missing = Vec::new();
    for dir in ["crates", "services"] {
        for f in files::walk(&root.join(dir), &[".rs"]) {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            if !text.trim_start().starts_with("//!") {
                missing.push(f.strip_prefix(&root).unwrap_or(&f).display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "files without a leading //! line: {missing:#?}"
    );
}

#[test]
fn no_mod_rs_files() {
    let root = repo_root();
    let mods: Vec<_> = ["crates", "services"]
        .iter()
        .flat_map(|d| files::walk(&root.join(d), &["/mod.rs", "mod.rs"]))
        .filter(|p| p.file_name().is_some_and(|n| n == "mod.rs"))
        .collect();
    assert!(
        mods.is_empty(),
        "use self-named module files, not mod.rs: {mods:#?}"
    );
}

#[test]
fn env_example_documents_every_variable() {
    let text =
        std::fs::read_to_string(repo_root().join(".env.example")).expect(".env.example exists");
    let missing: Vec<_> = runtime::env::ALL
        .iter()
        .filter(|name| {
            !text
                .lines()
                .any(|l| l.trim_start_matches("# ").starts_with(&format!("{name}=")))
        })
        .collect();
    assert!(missing.is_empty(), ".env.example lacks {missing:?}");
    // Each variable line is preceded by at least one comment line explaining it.
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        let var = l.trim_start_matches("# ");
        if runtime::env::ALL
            .iter()
            .any(|n| var.starts_with(&format!("{n}=")))
        {
            assert!(
                i > 0 && lines[i - 1].starts_with('#'),
                "{l} has no explanation above it"
            );
        }
    }
}
