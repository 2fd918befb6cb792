//! Transition-table tests: every listed transition, refusals, and property
//! tests that no path reaches LIVE_ARMED / ARMED without the protection period.

use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap()
}

#[test]
fn model_happy_path_and_rollback() {
    let now = t0();
    let s = ModelStage::Draft;
    let s = s.apply(ModelEvent::GatePassed, now).unwrap().to;
    let s = s.apply(ModelEvent::DeployPaper, now).unwrap().to;
    assert_eq!(s, ModelStage::PaperDeployed);
    let early = s.apply(
        ModelEvent::PromoteEligible {
            paper_deployed_at: now,
        },
        now + Duration::hours(23),
    );
    assert!(matches!(
        early,
        Err(TransitionError::ProtectionActive {
            remaining_secs: 3600
        })
    ));
    let s = s
        .apply(
            ModelEvent::PromoteEligible {
                paper_deployed_at: now,
            },
            now + Duration::hours(24),
        )
        .unwrap()
        .to;
    let tr = s.apply(ModelEvent::Arm, now).unwrap();
    assert_eq!(
        (tr.from, tr.to),
        (ModelStage::LiveEligible, ModelStage::LiveArmed)
    );
    let rb = tr
        .to
        .apply(
            ModelEvent::AutoRollback {
                reason: "net_return_24h".into(),
            },
            now,
        )
        .unwrap();
    assert_eq!(rb.to, ModelStage::RolledBack);
    let cd = rb.to.apply(
        ModelEvent::Redeploy {
            rolled_back_at: now,
        },
        now + Duration::hours(1),
    );
    assert!(matches!(cd, Err(TransitionError::CooldownActive { .. })));
    let back = rb
        .to
        .apply(
            ModelEvent::Redeploy {
                rolled_back_at: now,
            },
            now + Duration::hours(25),
        )
        .unwrap();
    assert_eq!(back.to, ModelStage::PaperDeployed);
}

#[test]
fn model_refusals() {
    let now = t0();
    for (stage, event) in [
        (ModelStage::Draft, ModelEvent::Arm),
        (ModelStage::Validated, ModelEvent::Arm),
        (ModelStage::Rejected, ModelEvent::DeployPaper),
        (ModelStage::PaperDeployed, ModelEvent::Arm),
        (
            ModelStage::Draft,
            ModelEvent::ManualRollback {
                reason: String::new(),
            },
        ),
        (ModelStage::LiveArmed, ModelEvent::Arm),
    ] {
        let err = stage.apply(event, now).unwrap_err();
        assert!(
            matches!(err, TransitionError::NotAllowed { .. }),
            "{stage}: {err}"
        );
    }
}

#[test]
fn trader_table() {
    let now = t0();
    let until = now + Duration::hours(24);
    let s = TraderState::new();
    assert!(s.armed_proof().is_none());
    let s = s.apply(TraderEvent::Run, now).unwrap().to;
    let err = s
        .apply(
            TraderEvent::SetMode {
                mode: Mode::Live,
                protection_until: until,
            },
            now,
        )
        .unwrap_err();
    assert_eq!(
        err,
        TransitionError::ProtectionActive {
            remaining_secs: 86_400
        }
    );
    let later = until + Duration::seconds(1);
    let s = s
        .apply(
            TraderEvent::SetMode {
                mode: Mode::Live,
                protection_until: until,
            },
            later,
        )
        .unwrap()
        .to;
    assert!(s.armed_proof().is_none(), "LIVE without ARM has no proof");
    let s = s
        .apply(
            TraderEvent::Arm {
                protection_until: until,
            },
            later,
        )
        .unwrap()
        .to;
    assert!(s.armed_proof().is_some());
    let stopped = s.apply(TraderEvent::Stop, later).unwrap().to;
    assert!(!stopped.armed, "stop disarms");
    let removed = stopped.apply(TraderEvent::Remove, later).unwrap().to;
    assert!(removed.apply(TraderEvent::Run, later).is_err());
    assert!(
        TraderState::new()
            .apply(
                TraderEvent::Arm {
                    protection_until: now
                },
                later
            )
            .is_err()
    );
    assert!(
        TraderState::restore(RunState::Running, Mode::Paper, true)
            .armed_proof()
            .is_none()
    );
}

fn model_event() -> impl Strategy<Value = (ModelEvent, i64)> {
    let at = 0i64..200;
    prop_oneof![
        Just(ModelEvent::GatePassed),
        Just(ModelEvent::GateFailed),
        Just(ModelEvent::DeployPaper),
        at.clone().prop_map(|h| ModelEvent::PromoteEligible {
            paper_deployed_at: t0() + Duration::hours(h)
        }),
        Just(ModelEvent::Arm),
        Just(ModelEvent::AutoRollback { reason: "x".into() }),
        Just(ModelEvent::ManualRollback { reason: "y".into() }),
        at.prop_map(|h| ModelEvent::Redeploy {
            rolled_back_at: t0() + Duration::hours(h)
        }),
    ]
    .prop_flat_map(|e| (Just(e), 0i64..300))
}

fn trader_event() -> impl Strategy<Value = (TraderEvent, i64)> {
    let until = (0i64..100).prop_map(|h| t0() + Duration::hours(h));
    prop_oneof![
        Just(TraderEvent::Run),
        Just(TraderEvent::Stop),
        until.clone().prop_map(|u| TraderEvent::SetMode {
            mode: Mode::Live,
            protection_until: u
        }),
        until.clone().prop_map(|u| TraderEvent::SetMode {
            mode: Mode::Paper,
            protection_until: u
        }),
        until.prop_map(|u| TraderEvent::Arm {
            protection_until: u
        }),
        Just(TraderEvent::Disarm),
        Just(TraderEvent::Remove),
    ]
    .prop_flat_map(|e| (Just(e), 0i64..200))
}

proptest! {
    #[test]
    fn no_path_reaches_live_armed_without_paper_deployed(events in prop::collection::vec(model_event(), 0..30)) {
        let mut stage = ModelStage::Draft;
        let mut seen_paper = false;
        let mut seen_eligible = false;
        for (e, h) in events {
            if let Ok(tr) = stage.apply(e.clone(), t0() + Duration::hours(h)) {
                if let ModelEvent::PromoteEligible { paper_deployed_at } = e {
                    prop_assert!(tr.at - paper_deployed_at >= PROTECTION_PERIOD);
                }
                stage = tr.to;
                seen_paper |= stage == ModelStage::PaperDeployed;
                seen_eligible |= stage == ModelStage::LiveEligible;
                if stage == ModelStage::LiveArmed {
                    prop_assert!(seen_paper && seen_eligible);
                }
            }
        }
    }

    #[test]
    fn armed_only_when_live_and_after_protection(events in prop::collection::vec(trader_event(), 0..30)) {
        let mut s = TraderState::new();
        for (e, h) in events {
            let now = t0() + Duration::hours(h);
            if let Ok(tr) = s.apply(e, now) {
                match e {
                    TraderEvent::Arm { protection_until } | TraderEvent::SetMode { mode: Mode::Live, protection_until } => {
                        prop_assert!(now >= protection_until);
                    }
                    _ => {}
                }
                s = tr.to;
            }
            prop_assert!(!s.armed || s.mode == Mode::Live);
            prop_assert_eq!(s.armed_proof().is_some(), s.armed);
        }
    }
}

/// One event of every kind, with times chosen so that every time guard
/// passes: the exhaustive graph below then holds every edge the table can
/// ever take.
fn every_model_event() -> Vec<ModelEvent> {
    let long_ago = t0() - Duration::days(30);
    vec![
        ModelEvent::GatePassed,
        ModelEvent::GateFailed,
        ModelEvent::DeployPaper,
        ModelEvent::PromoteEligible {
            paper_deployed_at: long_ago,
        },
        ModelEvent::Arm,
        ModelEvent::AutoRollback { reason: "a".into() },
        ModelEvent::ManualRollback { reason: "m".into() },
        ModelEvent::Redeploy {
            rolled_back_at: long_ago,
        },
    ]
}

/// Stages reachable from DRAFT when `forbidden` is never entered.
fn reachable_avoiding(forbidden: Option<ModelStage>) -> Vec<ModelStage> {
    let mut seen = vec![ModelStage::Draft];
    let mut queue = vec![ModelStage::Draft];
    while let Some(stage) = queue.pop() {
        for event in every_model_event() {
            if let Ok(tr) = stage.apply(event, t0())
                && Some(tr.to) != forbidden
                && !seen.contains(&tr.to)
            {
                seen.push(tr.to);
                queue.push(tr.to);
            }
        }
    }
    seen
}

#[test]
fn live_armed_is_unreachable_without_paper_deployed_exhaustively() {
    // With every edge available, every stage is reachable from DRAFT (so
    // the check below is not vacuous)…
    let all = reachable_avoiding(None);
    for stage in ModelStage::ALL {
        assert!(all.contains(stage), "{stage} unreachable");
    }
    // …but with PAPER_DEPLOYED removed from the graph, neither LIVE stage is.
    let without_paper = reachable_avoiding(Some(ModelStage::PaperDeployed));
    assert!(!without_paper.contains(&ModelStage::LiveEligible));
    assert!(!without_paper.contains(&ModelStage::LiveArmed));
    // The only edge into LIVE_ARMED comes from LIVE_ELIGIBLE, and the only
    // edge into LIVE_ELIGIBLE from PAPER_DEPLOYED (with the 24 h guard).
    for from in ModelStage::ALL {
        for event in every_model_event() {
            if let Ok(tr) = from.apply(event.clone(), t0()) {
                match tr.to {
                    ModelStage::LiveArmed => assert_eq!(*from, ModelStage::LiveEligible),
                    ModelStage::LiveEligible => {
                        assert_eq!(*from, ModelStage::PaperDeployed);
                        assert!(matches!(event, ModelEvent::PromoteEligible { .. }));
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Event sequences biased towards the happy path, so that LIVE_ARMED is
/// actually reached in many generated cases.
fn guided_model_event() -> impl Strategy<Value = (ModelEvent, i64)> {
    prop_oneof![
        3 => Just(ModelEvent::GatePassed),
        3 => Just(ModelEvent::DeployPaper),
        3 => (0i64..48).prop_map(|h| ModelEvent::PromoteEligible {
            paper_deployed_at: t0() + Duration::hours(h)
        }),
        3 => Just(ModelEvent::Arm),
        1 => Just(ModelEvent::GateFailed),
        1 => Just(ModelEvent::ManualRollback { reason: "m".into() }),
        1 => (0i64..48).prop_map(|h| ModelEvent::Redeploy {
            rolled_back_at: t0() + Duration::hours(h)
        }),
    ]
    .prop_flat_map(|e| (Just(e), 0i64..96))
}

proptest! {
    #[test]
    fn guided_paths_to_live_armed_pass_paper_deployed_for_24h(
        events in prop::collection::vec(guided_model_event(), 1..16)
    ) {
        let mut stage = ModelStage::Draft;
        // When the current PAPER deployment began (by the injected clock).
        let mut deployed_at: Option<DateTime<Utc>> = None;
        for (e, h) in events {
            let now = t0() + Duration::hours(h);
            let Ok(tr) = stage.apply(e.clone(), now) else { continue };
            if tr.to == ModelStage::PaperDeployed {
                deployed_at = Some(now);
            }
            if tr.to == ModelStage::LiveEligible {
                prop_assert_eq!(tr.from, ModelStage::PaperDeployed);
                prop_assert!(deployed_at.is_some());
                let ModelEvent::PromoteEligible { paper_deployed_at } = e else {
                    return Err(TestCaseError::fail("LIVE_ELIGIBLE without PromoteEligible"));
                };
                prop_assert!(now - paper_deployed_at >= PROTECTION_PERIOD);
            }
            if tr.to == ModelStage::LiveArmed {
                prop_assert_eq!(tr.from, ModelStage::LiveEligible);
                prop_assert!(deployed_at.is_some(), "armed without PAPER_DEPLOYED");
            }
            if tr.to == ModelStage::RolledBack {
                deployed_at = None;
            }
            stage = tr.to;
        }
    }
}
