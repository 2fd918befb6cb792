//! Reconciliation shared by both backends: a pure [`plan`] from (desired traders,
//! observed instances) to steps, and [`run`], which executes the steps through a
//! backend and collects the [`ReconcileReport`].

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use domain::TraderId;

use crate::{
    OrchestratorError, TraderRuntime,
    spec::{
        DesiredTrader, ReconcileFailure, ReconcileReport, RemovalReason, RemovedInstance,
        RuntimeStatus, TraderSpec,
    },
};

/// One instance as a backend observes it, including ones it would not list
/// publicly (unreadable labels, leftover processes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instance {
    /// The trader it claims to run, if readable.
    pub(crate) trader_id: Option<TraderId>,
    /// Backend handle: container id, or the pid for a leftover process.
    pub(crate) handle: String,
    /// Human-readable name for reports.
    pub(crate) name: String,
    /// The instance the backend manages for this trader (the container with
    /// the canonical name; the supervised process). Others are duplicates.
    pub(crate) canonical: bool,
    /// Fingerprint it was created with.
    pub(crate) fingerprint: Option<String>,
    /// Config hash it was created with.
    pub(crate) config_hash: Option<String>,
    /// Its state.
    pub(crate) status: RuntimeStatus,
}

/// The instance-level operations reconcile needs beyond the public trait.
#[async_trait]
pub(crate) trait Backend: TraderRuntime {
    /// Every instance carrying this runtime's labels (or pid files).
    async fn instances(&self) -> Result<Vec<Instance>, OrchestratorError>;
    /// Stops and deletes one instance by handle.
    async fn remove_instance(&self, instance: &Instance) -> Result<(), OrchestratorError>;
    /// What an up-to-date instance of `spec` carries.
    fn fingerprint(&self, spec: &TraderSpec) -> String;
}

/// Why a trader has to be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartKind {
    /// No instance.
    Missing,
    /// Instance exists from another spec.
    Stale,
    /// Instance exists and is current but not running.
    Stopped,
}

/// One reconcile step; indices point into the `desired` / `instances` slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Delete an instance.
    Remove {
        instance: usize,
        reason: RemovalReason,
    },
    /// Make sure a not-running instance exists (`stale`: replacing one).
    Create { desired: usize, stale: bool },
    /// Start (creating or recreating as needed).
    Start { desired: usize, kind: StartKind },
    /// Stop a running instance.
    Stop { desired: usize },
    /// Nothing to do.
    Unchanged { desired: usize },
    /// The same trader appears twice in `desired`; the first one wins.
    DuplicateDesired { desired: usize },
}

/// Plans reconcile: removals first (orphans, duplicates), then one step per
/// desired trader, in `desired` order.
pub(crate) fn plan(
    desired: &[DesiredTrader],
    instances: &[Instance],
    fingerprint: impl Fn(&TraderSpec) -> String,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut first_for: BTreeMap<TraderId, usize> = BTreeMap::new();
    let mut dup_desired = Vec::new();
    for (i, d) in desired.iter().enumerate() {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            first_for.entry(d.spec.trader_id())
        {
            slot.insert(i);
        } else {
            dup_desired.push(i);
        }
    }

    // The canonical instance kept per desired trader.
    let mut kept: BTreeMap<TraderId, usize> = BTreeMap::new();
    for (i, inst) in instances.iter().enumerate() {
        let reason = match inst.trader_id {
            Some(id) if first_for.contains_key(&id) => {
                if inst.canonical && !kept.contains_key(&id) {
                    kept.insert(id, i);
                    continue;
                }
                RemovalReason::Duplicate
            }
            _ => RemovalReason::Orphan,
        };
        steps.push(Step::Remove {
            instance: i,
            reason,
        });
    }

    let mut seen = BTreeSet::new();
    for (di, d) in desired.iter().enumerate() {
        let id = d.spec.trader_id();
        if !seen.insert(id) {
            continue;
        }
        let step = match kept.get(&id).map(|&i| &instances[i]) {
            None if d.run => Step::Start {
                desired: di,
                kind: StartKind::Missing,
            },
            None => Step::Create {
                desired: di,
                stale: false,
            },
            Some(inst) if inst.fingerprint.as_deref() != Some(fingerprint(&d.spec).as_str()) => {
                if d.run {
                    Step::Start {
                        desired: di,
                        kind: StartKind::Stale,
                    }
                } else {
                    Step::Create {
                        desired: di,
                        stale: true,
                    }
                }
            }
            Some(inst) => match (d.run, inst.status.is_up()) {
                (true, true) | (false, false) => Step::Unchanged { desired: di },
                (true, false) => Step::Start {
                    desired: di,
                    kind: StartKind::Stopped,
                },
                (false, true) => Step::Stop { desired: di },
            },
        };
        steps.push(step);
    }
    steps.extend(
        dup_desired
            .into_iter()
            .map(|desired| Step::DuplicateDesired { desired }),
    );
    steps
}

/// Observes, plans and executes; per-step failures go into the report.
pub(crate) async fn run<B: Backend + ?Sized>(
    backend: &B,
    desired: &[DesiredTrader],
) -> Result<ReconcileReport, OrchestratorError> {
    let instances = backend.instances().await?;
    let steps = plan(desired, &instances, |s| backend.fingerprint(s));
    let mut report = ReconcileReport::default();
    for step in steps {
        let (trader, outcome) = match step {
            Step::Remove { instance, reason } => {
                let inst = &instances[instance];
                let r = backend.remove_instance(inst).await;
                if r.is_ok() {
                    tracing::info!(trader_id = ?inst.trader_id, name = %inst.name, ?reason, "reconcile removed instance");
                    report.removed.push(RemovedInstance {
                        trader_id: inst.trader_id,
                        name: inst.name.clone(),
                        reason,
                    });
                }
                (inst.trader_id, r)
            }
            Step::Create { desired: di, stale } => {
                let spec = &desired[di].spec;
                let r = backend.create(spec).await;
                if r.is_ok() {
                    let list = if stale {
                        &mut report.recreated
                    } else {
                        &mut report.created
                    };
                    list.push(spec.trader_id());
                }
                (Some(spec.trader_id()), r)
            }
            Step::Start { desired: di, kind } => {
                let spec = &desired[di].spec;
                let r = if kind == StartKind::Stale {
                    backend.recreate(spec).await
                } else {
                    backend.start(spec).await
                };
                if r.is_ok() {
                    let list = if kind == StartKind::Stale {
                        &mut report.recreated
                    } else {
                        &mut report.started
                    };
                    list.push(spec.trader_id());
                }
                (Some(spec.trader_id()), r)
            }
            Step::Stop { desired: di } => {
                let id = desired[di].spec.trader_id();
                let r = backend.stop(id).await;
                if r.is_ok() {
                    report.stopped.push(id);
                }
                (Some(id), r)
            }
            Step::Unchanged { desired: di } => {
                report.unchanged.push(desired[di].spec.trader_id());
                continue;
            }
            Step::DuplicateDesired { desired: di } => {
                let id = desired[di].spec.trader_id();
                report.failures.push(ReconcileFailure {
                    trader_id: Some(id),
                    error: "trader listed twice in the desired set; the first entry was used"
                        .to_owned(),
                });
                continue;
            }
        };
        if let Err(e) = outcome {
            tracing::warn!(trader_id = ?trader, error = %e, "reconcile step failed");
            report.failures.push(ReconcileFailure {
                trader_id: trader,
                error: e.to_string(),
            });
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
