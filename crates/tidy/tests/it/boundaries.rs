//! API boundaries: FIX-11 (dashboard-api and trainer cannot place orders) and
//! the purity of the core crates.

use tidy::{files, graph::Graph, repo_root};

fn graph() -> Graph {
    Graph::load(&repo_root()).expect("cargo metadata")
}

/// FIX-11: nothing in the dependency tree of `service` contains an Upbit
/// order endpoint, and `execution` (the only crate that does) is not in it.
fn assert_cannot_place_orders(service: &str) {
    let g = graph();
    let names = g.closure_names(service).unwrap();
    assert!(
        !names.contains("execution"),
        "{service} must not depend on `execution` (FIX-11)"
    );
    let mut hits = Vec::new();
    for pkg in g.local_closure(service).unwrap() {
        let srcs = files::walk(&pkg.dir.join("src"), &[".rs"]);
        hits.extend(files::grep_by(&srcs, files::names_order_endpoint));
    }
    assert!(
        hits.is_empty(),
        "{service} can reach Upbit order endpoints (FIX-11): {hits:#?}"
    );
}

#[test]
fn dashboard_api_cannot_reach_order_endpoints() {
    assert_cannot_place_orders("dashboard-api");
}

#[test]
fn trainer_cannot_reach_order_endpoints() {
    assert_cannot_place_orders("trainer");
}

#[test]
fn order_paths_live_only_in_execution_and_the_simulator() {
    let root = repo_root();
    let mut offenders = Vec::new();
    for dir in ["crates", "services"] {
        for (file, line, text) in files::grep_by(
            &files::walk(&root.join(dir), &[".rs"]),
            files::names_order_endpoint,
        ) {
            let rel = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .to_string_lossy()
                .into_owned();
            // The executor sends orders; the simulator serves the endpoints;
            // the trader's end-to-end tests count them at the simulator; this
            // file names the pattern.
            let allowed = [
                "crates/execution/",
                "crates/upbit-sim/",
                "services/upbit-sim/",
                "crates/tidy/",
            ]
            .iter()
            .any(|p| rel.starts_with(p))
                || rel.contains("/tests/");
            if !allowed {
                offenders.push(format!("{rel}:{line}: {text}"));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "Upbit order paths outside crates/execution: {offenders:#?}"
    );
}

#[test]
fn the_check_itself_can_fail() {
    // Guard against a vacuous FIX-11 test: the closure of `trader` does reach
    // `execution`, and its sources do contain an order path.
    let g = graph();
    let Ok(names) = g.closure_names("trader") else {
        return;
    };
    if names.contains("execution") {
        let hits: Vec<_> = g
            .local_closure("trader")
            .unwrap()
            .iter()
            .flat_map(|p| {
                files::grep_by(
                    &files::walk(&p.dir.join("src"), &[".rs"]),
                    files::names_order_endpoint,
                )
            })
            .collect();
        assert!(
            !hits.is_empty(),
            "the order-path scan found nothing even in the trader's tree"
        );
    }
}

#[test]
fn core_crates_do_no_io() {
    // The pure crates (STR-8, ARCHITECTURE "core crates are pure") may not
    // depend on anything that does network, database or process I/O.
    let g = graph();
    let forbidden = ["tokio", "reqwest", "sqlx", "axum", "bollard", "hyper"];
    for core in [
        "domain",
        "indicators",
        "regime",
        "strategy",
        "risk",
        "learning",
    ] {
        let names = g.closure_names(core).unwrap();
        let bad: Vec<_> = forbidden.iter().filter(|f| names.contains(**f)).collect();
        assert!(bad.is_empty(), "pure crate {core} depends on {bad:?}");
    }
}
