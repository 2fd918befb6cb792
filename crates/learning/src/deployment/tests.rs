//! Gate verdicts and rollbacks through the domain lifecycle table: allowed
//! and refused transitions, what is restored, and the 24 h redeploy cooldown.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::TransitionError;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 20, 12, 0, 0)
        .single()
        .unwrap()
}

fn id(n: i64) -> ModelVersionId {
    ModelVersionId::new(n).unwrap()
}

#[test]
fn gate_verdicts_move_a_draft() {
    use ModelStage as S;
    let cases = [
        (S::Draft, Verdict::Pass, Some(S::Validated)),
        (S::Draft, Verdict::Reject, Some(S::Rejected)),
        (S::Draft, Verdict::Hold, None),
    ];
    for (from, verdict, to) in cases {
        let t = on_gate(from, verdict, now()).unwrap();
        assert_eq!(t.as_ref().map(|t| t.to), to, "{from} {verdict:?}");
        if let Some(t) = t {
            assert_eq!((t.from, t.at), (from, now()));
        }
    }
    // The table refuses a verdict on a model that is not DRAFT.
    let err = on_gate(S::Validated, Verdict::Pass, now()).unwrap_err();
    assert!(
        matches!(
            err,
            LearningError::Transition(TransitionError::NotAllowed { .. })
        ),
        "{err}"
    );
    assert!(!err.is_retryable());
    // HOLD changes nothing, whatever the stage.
    assert_eq!(on_gate(S::LiveArmed, Verdict::Hold, now()).unwrap(), None);
}

#[test]
fn auto_rollback_restores_the_baseline() {
    let reasons = [
        RollbackReason::NetReturn24h {
            value: -0.025,
            limit: -0.02,
        },
        RollbackReason::ConsecutiveLosses { count: 5 },
    ];
    for stage in [
        ModelStage::PaperDeployed,
        ModelStage::LiveEligible,
        ModelStage::LiveArmed,
    ] {
        let p = auto_rollback(stage, id(7), Some(id(3)), &reasons, now()).unwrap();
        assert_eq!(p.transition.to, ModelStage::RolledBack);
        assert_eq!(p.restore, Some(id(3)));
        assert_eq!(p.redeploy_after, now() + Duration::hours(24));
        match &p.transition.event {
            ModelEvent::AutoRollback { reason } => {
                assert_eq!(
                    reason,
                    "net_return_24h -2.50 % < -2.00 %; 5 consecutive losses"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    // The baseline itself: nothing older to restore.
    let p = auto_rollback(ModelStage::LiveArmed, id(3), Some(id(3)), &reasons, now()).unwrap();
    assert_eq!(p.restore, None);
    let p = auto_rollback(ModelStage::LiveArmed, id(3), None, &reasons, now()).unwrap();
    assert_eq!(p.restore, None);
    // Refused from stages that are not deployed, and without a reason.
    for stage in [
        ModelStage::Draft,
        ModelStage::Validated,
        ModelStage::RolledBack,
        ModelStage::Rejected,
    ] {
        let err = auto_rollback(stage, id(7), Some(id(3)), &reasons, now()).unwrap_err();
        assert!(
            matches!(err, LearningError::Transition(_)),
            "{stage}: {err}"
        );
    }
    let err = auto_rollback(ModelStage::LiveArmed, id(7), None, &[], now()).unwrap_err();
    assert_eq!(err.field(), Some("reasons"));
}

#[test]
fn manual_rollback_needs_a_reason() {
    let p = manual_rollback(
        ModelStage::PaperDeployed,
        id(7),
        Some(id(3)),
        " odd fills ",
        now(),
    )
    .unwrap();
    assert_eq!(
        p.transition.event,
        ModelEvent::ManualRollback {
            reason: "odd fills".into()
        }
    );
    for bad in ["", "   ", &"x".repeat(501)] {
        let err = manual_rollback(ModelStage::PaperDeployed, id(7), None, bad, now()).unwrap_err();
        assert_eq!(err.field(), Some("reason"));
    }
}

#[test]
fn redeploy_waits_24_hours() {
    let rolled = now();
    let cases = [
        (Duration::hours(23), false),
        (Duration::hours(24) - Duration::seconds(1), false),
        (Duration::hours(24), true),
        (Duration::days(3), true),
    ];
    for (after, ok) in cases {
        let r = redeploy(ModelStage::RolledBack, rolled, rolled + after);
        match r {
            Ok(t) => {
                assert!(ok, "{after}");
                assert_eq!(t.to, ModelStage::PaperDeployed);
            }
            Err(e) => {
                assert!(!ok, "{after}: {e}");
                assert!(matches!(
                    e,
                    LearningError::Transition(TransitionError::CooldownActive { .. })
                ));
                assert!(e.is_retryable());
            }
        }
    }
    assert!(redeploy(ModelStage::LiveArmed, rolled, rolled + Duration::days(2)).is_err());
}
