//! The workspace dependency graph, read from `cargo metadata`, and the
//! transitive closure of a package's normal (non-dev) dependencies.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
};

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
    resolve: Resolve,
}

#[derive(Debug, Deserialize)]
struct Package {
    id: String,
    name: String,
    manifest_path: PathBuf,
}

#[derive(Debug, Deserialize)]
struct Resolve {
    nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
struct Node {
    id: String,
    deps: Vec<NodeDep>,
}

#[derive(Debug, Deserialize)]
struct NodeDep {
    pkg: String,
    dep_kinds: Vec<DepKind>,
}

#[derive(Debug, Deserialize)]
struct DepKind {
    kind: Option<String>,
}

/// A workspace package in the closure: its name and source directory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalPackage {
    /// Package name.
    pub name: String,
    /// Directory holding its `Cargo.toml`.
    pub dir: PathBuf,
}

/// The resolved dependency graph.
#[derive(Debug)]
pub struct Graph {
    names: BTreeMap<String, String>,
    dirs: BTreeMap<String, PathBuf>,
    members: BTreeSet<String>,
    edges: BTreeMap<String, Vec<String>>,
}

impl Graph {
    /// Runs `cargo metadata` in `root` and parses it.
    pub fn load(root: &Path) -> Result<Self, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--locked"])
            .current_dir(root)
            .output()
            .map_err(|e| format!("failed to run cargo metadata: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo metadata failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let meta: Metadata =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("bad cargo metadata: {e}"))?;
        let mut names = BTreeMap::new();
        let mut dirs = BTreeMap::new();
        for p in &meta.packages {
            names.insert(p.id.clone(), p.name.clone());
            if let Some(dir) = p.manifest_path.parent() {
                dirs.insert(p.id.clone(), dir.to_path_buf());
            }
        }
        let edges = meta
            .resolve
            .nodes
            .into_iter()
            .map(|n| {
                let normal = n
                    .deps
                    .into_iter()
                    .filter(|d| d.dep_kinds.iter().any(|k| k.kind.as_deref() != Some("dev")))
                    .map(|d| d.pkg)
                    .collect();
                (n.id, normal)
            })
            .collect();
        Ok(Self {
            names,
            dirs,
            members: meta.workspace_members.into_iter().collect(),
            edges,
        })
    }

    fn id_of(&self, name: &str) -> Option<&String> {
        self.members
            .iter()
            .find(|id| self.names.get(*id).is_some_and(|n| n == name))
    }

    /// Names of every workspace member.
    pub fn member_names(&self) -> BTreeSet<String> {
        self.members
            .iter()
            .filter_map(|id| self.names.get(id).cloned())
            .collect()
    }

    /// Every package (workspace or external) reachable from `name` through
    /// normal and build dependencies, including `name` itself.
    pub fn closure(&self, name: &str) -> Result<BTreeSet<String>, String> {
        let start = self
            .id_of(name)
            .ok_or_else(|| format!("no workspace package named {name}"))?;
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.clone()];
        while let Some(id) = stack.pop() {
            if seen.insert(id.clone()) {
                stack.extend(self.edges.get(&id).into_iter().flatten().cloned());
            }
        }
        Ok(seen)
    }

    /// The workspace members in the closure of `name`, with their directories.
    pub fn local_closure(&self, name: &str) -> Result<Vec<LocalPackage>, String> {
        Ok(self
            .closure(name)?
            .into_iter()
            .filter(|id| self.members.contains(id))
            .filter_map(|id| {
                Some(LocalPackage {
                    name: self.names.get(&id)?.clone(),
                    dir: self.dirs.get(&id)?.clone(),
                })
            })
            .collect())
    }

    /// Names of every package in the closure of `name`.
    pub fn closure_names(&self, name: &str) -> Result<BTreeSet<String>, String> {
        Ok(self
            .closure(name)?
            .iter()
            .filter_map(|id| self.names.get(id).cloned())
            .collect())
    }
}
