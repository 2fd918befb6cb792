//! The reconcile plan, table-driven: desired traders × observed instances → steps.

use std::collections::BTreeMap;

use super::*;

fn id(n: i64) -> TraderId {
    TraderId::new(n).unwrap()
}

fn want(n: i64, hash: &str, run: bool) -> DesiredTrader {
    DesiredTrader {
        spec: TraderSpec::new(id(n), hash, BTreeMap::new()).unwrap(),
        run,
    }
}

/// The test fingerprint is the config hash itself.
fn fp(spec: &TraderSpec) -> String {
    spec.config_hash().to_owned()
}

fn inst(n: Option<i64>, canonical: bool, hash: &str, status: RuntimeStatus) -> Instance {
    Instance {
        trader_id: n.map(id),
        handle: format!("h{n:?}{canonical}"),
        name: format!("n{n:?}"),
        canonical,
        fingerprint: Some(hash.to_owned()),
        config_hash: Some(hash.to_owned()),
        status,
    }
}

const UP: RuntimeStatus = RuntimeStatus::Running;
const DOWN: RuntimeStatus = RuntimeStatus::Stopped { exit_code: Some(0) };

fn check(desired: &[DesiredTrader], instances: &[Instance], expect: &[Step]) {
    let got = plan(desired, instances, fp);
    assert_eq!(got, expect, "desired={desired:?}\ninstances={instances:?}");
}

#[test]
fn empty_is_empty() {
    // FIX-4: nothing desired, nothing observed → nothing happens.
    check(&[], &[], &[]);
}

#[test]
fn missing_instances_are_started_or_created() {
    check(
        &[want(1, "a", true), want(2, "a", false)],
        &[],
        &[
            Step::Start {
                desired: 0,
                kind: StartKind::Missing,
            },
            Step::Create {
                desired: 1,
                stale: false,
            },
        ],
    );
}

#[test]
fn current_instances_follow_the_run_flag() {
    check(
        &[
            want(1, "a", true),
            want(2, "a", true),
            want(3, "a", false),
            want(4, "a", false),
        ],
        &[
            inst(Some(1), true, "a", UP),
            inst(Some(2), true, "a", DOWN),
            inst(Some(3), true, "a", UP),
            inst(Some(4), true, "a", DOWN),
        ],
        &[
            Step::Unchanged { desired: 0 },
            Step::Start {
                desired: 1,
                kind: StartKind::Stopped,
            },
            Step::Stop { desired: 2 },
            Step::Unchanged { desired: 3 },
        ],
    );
}

#[test]
fn restarting_counts_as_up() {
    check(
        &[want(1, "a", true), want(2, "a", false)],
        &[
            inst(Some(1), true, "a", RuntimeStatus::Restarting),
            inst(Some(2), true, "a", RuntimeStatus::Restarting),
        ],
        &[Step::Unchanged { desired: 0 }, Step::Stop { desired: 1 }],
    );
}

#[test]
fn stale_instances_are_recreated() {
    // FIX-12: another config hash means a new instance, started or not.
    check(
        &[want(1, "new", true), want(2, "new", false)],
        &[
            inst(Some(1), true, "old", UP),
            inst(Some(2), true, "old", UP),
        ],
        &[
            Step::Start {
                desired: 0,
                kind: StartKind::Stale,
            },
            Step::Create {
                desired: 1,
                stale: true,
            },
        ],
    );
    let mut unknown = inst(Some(1), true, "x", UP);
    unknown.fingerprint = None;
    check(
        &[want(1, "x", true)],
        &[unknown],
        &[Step::Start {
            desired: 0,
            kind: StartKind::Stale,
        }],
    );
}

#[test]
fn orphans_and_duplicates_are_removed_first() {
    check(
        &[want(1, "a", true)],
        &[
            inst(Some(9), true, "a", UP),  // trader 9 no longer exists
            inst(Some(1), false, "a", UP), // same trader under another name
            inst(None, false, "a", DOWN),  // unreadable label
            inst(Some(1), true, "a", UP),  // the one to keep
            inst(Some(1), true, "a", UP),  // a second "canonical" one
        ],
        &[
            Step::Remove {
                instance: 0,
                reason: RemovalReason::Orphan,
            },
            Step::Remove {
                instance: 1,
                reason: RemovalReason::Duplicate,
            },
            Step::Remove {
                instance: 2,
                reason: RemovalReason::Orphan,
            },
            Step::Remove {
                instance: 4,
                reason: RemovalReason::Duplicate,
            },
            Step::Unchanged { desired: 0 },
        ],
    );
}

#[test]
fn only_non_canonical_instances_mean_start_fresh() {
    check(
        &[want(1, "a", true)],
        &[inst(Some(1), false, "a", UP)],
        &[
            Step::Remove {
                instance: 0,
                reason: RemovalReason::Duplicate,
            },
            Step::Start {
                desired: 0,
                kind: StartKind::Missing,
            },
        ],
    );
}

#[test]
fn a_trader_listed_twice_is_reported() {
    check(
        &[want(1, "a", true), want(1, "b", false)],
        &[],
        &[
            Step::Start {
                desired: 0,
                kind: StartKind::Missing,
            },
            Step::DuplicateDesired { desired: 1 },
        ],
    );
}
