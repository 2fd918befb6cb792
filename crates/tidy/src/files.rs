//! Walking the repository's source files (skipping build output and vendored
//! front-end packages) and scanning their text.

use std::path::{Path, PathBuf};

/// Directories never scanned.
const SKIP: &[&str] = &[
    "target",
    "node_modules",
    ".git",
    "dist",
    "data",
    "artifacts",
];

/// Every file under `dir` whose name ends with one of `exts`, sorted.
pub fn walk(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if !SKIP.contains(&name.as_str()) {
                    stack.push(p);
                }
            } else if exts.iter().any(|x| name.ends_with(x)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `(file, line number, line)` for every line in `files` containing `needle`.
pub fn grep(files: &[PathBuf], needle: &str) -> Vec<(PathBuf, usize, String)> {
    grep_by(files, |line| line.contains(needle))
}

/// True when `line` names an Upbit order endpoint: `/v1/order` or
/// `/v1/orders…`, but not the quotation path `/v1/orderbook…`.
pub fn names_order_endpoint(line: &str) -> bool {
    const PREFIX: &str = "/v1/order";
    line.match_indices(PREFIX)
        .any(|(i, _)| !line[i + PREFIX.len()..].starts_with("book"))
}

/// `(file, line number, line)` for every line in `files` matching `pred`.
pub fn grep_by(files: &[PathBuf], pred: impl Fn(&str) -> bool) -> Vec<(PathBuf, usize, String)> {
    let mut hits = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if pred(line) {
                hits.push((f.clone(), i + 1, line.trim().to_owned()));
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::names_order_endpoint;

    #[test]
    fn order_endpoint_pattern() {
        for (line, want) in [
            ("POST /v1/orders", true),
            ("\"/v1/order\"", true),
            ("/v1/orders/chance", true),
            ("/v1/orderbook?markets=KRW-BTC", false),
            ("/v1/orderbook/instruments then /v1/orders", true),
            ("/v1/accounts", false),
        ] {
            assert_eq!(names_order_endpoint(line), want, "{line}");
        }
    }
}
