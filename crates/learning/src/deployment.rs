//! SPEC §7 model deployment, as seen from the trainer's rules: what a gate
//! verdict does to a DRAFT model, and the AUTO_ROLLBACK / MANUAL_ROLLBACK and
//! redeploy steps. Every transition goes through the one table in
//! `domain::ModelStage::apply` (`DRAFT → VALIDATED → PAPER_DEPLOYED (24 h) →
//! LIVE_ELIGIBLE → LIVE_ARMED`, rollbacks, the 24 h redeploy cooldown); this
//! module only chooses the event and says what to restore.
//!
//! * Gate **PASS** → `GATE_PASSED` (DRAFT → VALIDATED); **REJECT** →
//!   `GATE_FAILED` (DRAFT → REJECTED); **HOLD** → no event: the model stays
//!   DRAFT and is judged again with more data.
//! * A rollback restores the baseline model (`baseline_model_id`). When the
//!   rolled-back model *is* the baseline there is nothing older to return to,
//!   and the plan says so (`restore: None`): AI_MODE then runs on the
//!   built-in STANDARD numbers (empty overrides) until a new model passes.
//! * A rolled-back model may be redeployed to PAPER 24 h after its rollback
//!   at the earliest (the domain table refuses earlier with a retryable
//!   `CooldownActive`).

use chrono::{DateTime, Utc};
use domain::{
    ModelEvent, ModelStage, ModelTransition, ModelVersionId, lifecycle::PROTECTION_PERIOD,
};
use serde::{Deserialize, Serialize};

use crate::{RollbackReason, Verdict, error::LearningError};

/// The lifecycle event a gate verdict triggers (none for HOLD).
pub fn gate_event(verdict: Verdict) -> Option<ModelEvent> {
    match verdict {
        Verdict::Pass => Some(ModelEvent::GatePassed),
        Verdict::Reject => Some(ModelEvent::GateFailed),
        Verdict::Hold => None,
    }
}

/// Applies a gate verdict to a model in `stage` (normally DRAFT).
pub fn on_gate(
    stage: ModelStage,
    verdict: Verdict,
    now: DateTime<Utc>,
) -> Result<Option<ModelTransition>, LearningError> {
    gate_event(verdict)
        .map(|event| stage.apply(event, now).map_err(LearningError::from))
        .transpose()
}

/// A rollback to carry out: the transition to record and what to run instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackPlan {
    /// The model rolled back.
    pub model_id: ModelVersionId,
    /// Its transition (→ ROLLED_BACK), to persist with its audit row.
    pub transition: ModelTransition,
    /// The model to run instead (`None`: the built-in STANDARD numbers).
    pub restore: Option<ModelVersionId>,
    /// The earliest redeploy of the rolled-back model.
    pub redeploy_after: DateTime<Utc>,
}

fn plan(
    stage: ModelStage,
    model_id: ModelVersionId,
    baseline: Option<ModelVersionId>,
    event: ModelEvent,
    now: DateTime<Utc>,
) -> Result<RollbackPlan, LearningError> {
    let transition = stage.apply(event, now)?;
    Ok(RollbackPlan {
        model_id,
        redeploy_after: transition.at + PROTECTION_PERIOD,
        transition,
        restore: baseline.filter(|b| *b != model_id),
    })
}

/// AUTO_ROLLBACK of `model_id` (in `stage`) for `reasons` (from a
/// [`crate::DriftCheck`]; at least one).
pub fn auto_rollback(
    stage: ModelStage,
    model_id: ModelVersionId,
    baseline: Option<ModelVersionId>,
    reasons: &[RollbackReason],
    now: DateTime<Utc>,
) -> Result<RollbackPlan, LearningError> {
    if reasons.is_empty() {
        return Err(LearningError::invalid(
            "reasons",
            "an automatic rollback needs a rule that fired",
        ));
    }
    let reason = reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    plan(
        stage,
        model_id,
        baseline,
        ModelEvent::AutoRollback { reason },
        now,
    )
}

/// MANUAL_ROLLBACK of `model_id` by an operator, with their reason.
pub fn manual_rollback(
    stage: ModelStage,
    model_id: ModelVersionId,
    baseline: Option<ModelVersionId>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<RollbackPlan, LearningError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(LearningError::invalid("reason", "must be 1-500 characters"));
    }
    plan(
        stage,
        model_id,
        baseline,
        ModelEvent::ManualRollback {
            reason: reason.to_owned(),
        },
        now,
    )
}

/// Redeploys a rolled-back model to PAPER (refused within 24 h of its rollback).
pub fn redeploy(
    stage: ModelStage,
    rolled_back_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<ModelTransition, LearningError> {
    Ok(stage.apply(ModelEvent::Redeploy { rolled_back_at }, now)?)
}

#[cfg(test)]
mod tests;
