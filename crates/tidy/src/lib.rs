//! Workspace-wide checks of the architecture invariants in `ARCHITECTURE.md`,
//! in the pattern of rust-analyzer's `tidy.rs`: read `cargo metadata` and the
//! source tree, and report every violation. The assertions live in `tests/it`.

/// Walking the source tree and scanning files.
pub mod files;
/// Dependency graph of the workspace from `cargo metadata`.
pub mod graph;

/// The repository root (two levels above this crate).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        )
}
