//! Lifecycles as exhaustive transition tables that return `Result` and, on
//! success, an audit record of the transition (ENGINEERING §4).
//!
//! * [`ModelStage`]: `DRAFT → VALIDATED → PAPER_DEPLOYED → LIVE_ELIGIBLE → LIVE_ARMED`,
//!   plus AUTO_ROLLBACK / MANUAL_ROLLBACK and the 24 h redeploy cooldown (SPEC §7).
//! * [`TraderState`]: run / stop / remove, PAPER ↔ LIVE with the 24 h PAPER
//!   protection (STAB-4), and ARM (FIX-8). [`Armed`] is the proof that the
//!   LIVE executor requires; only an armed LIVE state can produce it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::{Mode, profile::string_enum};

/// The PAPER protection period of a new strategy (STAB-4) and the model
/// redeploy cooldown (SPEC §7): 24 hours.
pub const PROTECTION_PERIOD: Duration = Duration::hours(24);

/// A transition that the table refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The event is not allowed from the current state.
    #[error("{event} is not allowed while {from}")]
    NotAllowed {
        /// Current state, as text.
        from: String,
        /// The refused event.
        event: &'static str,
    },
    /// STAB-4: LIVE (or ARM) refused during the 24 h PAPER protection.
    #[error("the strategy is in its 24 h PAPER protection period; {remaining_secs} s left")]
    ProtectionActive {
        /// Seconds until LIVE becomes possible.
        remaining_secs: i64,
    },
    /// SPEC §7: a rolled-back model cannot be redeployed within 24 h.
    #[error("redeploy cooldown active; {remaining_secs} s left")]
    CooldownActive {
        /// Seconds until redeploy becomes possible.
        remaining_secs: i64,
    },
}

fn remaining(until: DateTime<Utc>, now: DateTime<Utc>) -> Option<i64> {
    (now < until).then(|| (until - now).num_seconds().max(1))
}

string_enum!(
    /// Model deployment stage (SPEC §7).
    ModelStage, "stage" {
        /// Just produced by tuning; not yet validated.
        Draft => "DRAFT",
        /// Passed the validation gate (OPT-2 PASS).
        Validated => "VALIDATED",
        /// Failed the gate (REJECT / hard fail); terminal.
        Rejected => "REJECTED",
        /// Running in PAPER for the 24 h protection period.
        PaperDeployed => "PAPER_DEPLOYED",
        /// Protection period passed; may be armed for LIVE.
        LiveEligible => "LIVE_ELIGIBLE",
        /// Trading LIVE.
        LiveArmed => "LIVE_ARMED",
        /// Rolled back (AUTO_ROLLBACK or MANUAL_ROLLBACK).
        RolledBack => "ROLLED_BACK",
    }
);

/// Events that move a model through its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ModelEvent {
    /// The validation gate said PASS.
    GatePassed,
    /// The validation gate said REJECT (or a hard fail).
    GateFailed,
    /// Deploy to PAPER now.
    DeployPaper,
    /// Promote after the protection period; needs the PAPER deployment time.
    PromoteEligible {
        /// When the model entered PAPER_DEPLOYED.
        paper_deployed_at: DateTime<Utc>,
    },
    /// Arm for LIVE.
    Arm,
    /// Drift / loss rule fired (STAB-2).
    AutoRollback {
        /// Which rule fired.
        reason: String,
    },
    /// An operator rolled it back.
    ManualRollback {
        /// Operator's reason.
        reason: String,
    },
    /// Redeploy a rolled-back model to PAPER after the cooldown.
    Redeploy {
        /// When it was rolled back.
        rolled_back_at: DateTime<Utc>,
    },
}

impl ModelEvent {
    /// The event's audit name.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::GatePassed => "GATE_PASSED",
            Self::GateFailed => "GATE_FAILED",
            Self::DeployPaper => "DEPLOY_PAPER",
            Self::PromoteEligible { .. } => "PROMOTE_ELIGIBLE",
            Self::Arm => "ARM",
            Self::AutoRollback { .. } => "AUTO_ROLLBACK",
            Self::ManualRollback { .. } => "MANUAL_ROLLBACK",
            Self::Redeploy { .. } => "REDEPLOY",
        }
    }
}

/// Audit record of one model transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelTransition {
    /// Stage before.
    pub from: ModelStage,
    /// Stage after.
    pub to: ModelStage,
    /// The event that caused it.
    pub event: ModelEvent,
    /// When (from the injected clock).
    pub at: DateTime<Utc>,
}

impl ModelStage {
    /// The stages whose models a trader in `mode` may run (the learning
    /// contract): PAPER runs PAPER_DEPLOYED, LIVE_ELIGIBLE and LIVE_ARMED
    /// models; LIVE only LIVE_ELIGIBLE and LIVE_ARMED ones (a model never
    /// trades real money before its 24 h in PAPER).
    pub fn usable_in(mode: Mode) -> &'static [Self] {
        match mode {
            Mode::Paper => &[Self::PaperDeployed, Self::LiveEligible, Self::LiveArmed],
            Mode::Live => &[Self::LiveEligible, Self::LiveArmed],
        }
    }

    /// The transition table. Every (stage, event) pair is listed; anything not
    /// listed is refused. LIVE_ARMED is only reachable from LIVE_ELIGIBLE,
    /// which is only reachable from PAPER_DEPLOYED after 24 h.
    pub fn apply(
        self,
        event: ModelEvent,
        now: DateTime<Utc>,
    ) -> Result<ModelTransition, TransitionError> {
        use ModelStage as S;
        let to = match (self, &event) {
            (S::Draft, ModelEvent::GatePassed) => S::Validated,
            (S::Draft, ModelEvent::GateFailed) => S::Rejected,
            (S::Validated, ModelEvent::DeployPaper) => S::PaperDeployed,
            (S::PaperDeployed, ModelEvent::PromoteEligible { paper_deployed_at }) => {
                if let Some(remaining_secs) = remaining(*paper_deployed_at + PROTECTION_PERIOD, now)
                {
                    return Err(TransitionError::ProtectionActive { remaining_secs });
                }
                S::LiveEligible
            }
            (S::LiveEligible, ModelEvent::Arm) => S::LiveArmed,
            (
                S::PaperDeployed | S::LiveEligible | S::LiveArmed,
                ModelEvent::AutoRollback { .. } | ModelEvent::ManualRollback { .. },
            ) => S::RolledBack,
            (S::RolledBack, ModelEvent::Redeploy { rolled_back_at }) => {
                if let Some(remaining_secs) = remaining(*rolled_back_at + PROTECTION_PERIOD, now) {
                    return Err(TransitionError::CooldownActive { remaining_secs });
                }
                S::PaperDeployed
            }
            (
                S::Draft
                | S::Validated
                | S::Rejected
                | S::PaperDeployed
                | S::LiveEligible
                | S::LiveArmed
                | S::RolledBack,
                _,
            ) => {
                return Err(TransitionError::NotAllowed {
                    from: self.to_string(),
                    event: event.name(),
                });
            }
        };
        Ok(ModelTransition {
            from: self,
            to,
            event,
            at: now,
        })
    }
}

string_enum!(
    /// Whether a trader's process/container should be running.
    RunState, "run_state" {
        /// Not running (the initial state).
        Stopped => "STOPPED",
        /// Running.
        Running => "RUNNING",
        /// Removed; terminal.
        Removed => "REMOVED",
    }
);

/// The control state of one trader: run state, mode and ARM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraderState {
    /// Running, stopped or removed.
    pub run: RunState,
    /// PAPER or LIVE.
    pub mode: Mode,
    /// Armed for LIVE (FIX-8). Always false in PAPER.
    pub armed: bool,
}

/// Events on a trader's control state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraderEvent {
    /// Start it.
    Run,
    /// Stop it (also disarms: every LIVE restart needs a fresh ARM).
    Stop,
    /// Switch mode. `protection_until` is the end of the strategy's PAPER
    /// protection (STAB-4); LIVE is refused before it. Any switch disarms.
    SetMode {
        /// Target mode.
        mode: Mode,
        /// End of the 24 h PAPER protection of the trader's strategy version.
        protection_until: DateTime<Utc>,
    },
    /// Arm a LIVE trader (the operator re-entered the password).
    Arm {
        /// End of the PAPER protection, re-checked at ARM time.
        protection_until: DateTime<Utc>,
    },
    /// Disarm.
    Disarm,
    /// Remove (terminal).
    Remove,
}

impl TraderEvent {
    /// The event's audit name.
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Run => "RUN",
            Self::Stop => "STOP",
            Self::SetMode {
                mode: Mode::Paper, ..
            } => "SET_MODE_PAPER",
            Self::SetMode {
                mode: Mode::Live, ..
            } => "SET_MODE_LIVE",
            Self::Arm { .. } => "ARM",
            Self::Disarm => "DISARM",
            Self::Remove => "REMOVE",
        }
    }
}

/// Audit record of one trader transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraderTransition {
    /// State before.
    pub from: TraderState,
    /// State after.
    pub to: TraderState,
    /// Event name (`RUN`, `ARM`, …).
    pub event: String,
    /// When (from the injected clock).
    pub at: DateTime<Utc>,
}

/// Proof that a trader is LIVE and ARMED. The LIVE executor takes one for
/// every order it sends; it cannot be built outside this crate except through
/// [`TraderState::armed_proof`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Armed {
    _private: (),
}

impl Default for TraderState {
    fn default() -> Self {
        Self::new()
    }
}

impl TraderState {
    /// A new trader: stopped, PAPER, not armed.
    pub const fn new() -> Self {
        Self {
            run: RunState::Stopped,
            mode: Mode::Paper,
            armed: false,
        }
    }

    /// Restores a persisted state, re-checking the invariant `armed ⇒ LIVE`
    /// and `armed ⇒ not removed` (a corrupted row is read as not armed).
    pub fn restore(run: RunState, mode: Mode, armed: bool) -> Self {
        Self {
            run,
            mode,
            armed: armed && mode == Mode::Live && run != RunState::Removed,
        }
    }

    /// The ARM proof, only for a LIVE and armed trader.
    pub fn armed_proof(&self) -> Option<Armed> {
        (self.mode == Mode::Live && self.armed && self.run != RunState::Removed)
            .then_some(Armed { _private: () })
    }

    /// The transition table.
    pub fn apply(
        self,
        event: TraderEvent,
        now: DateTime<Utc>,
    ) -> Result<TraderTransition, TransitionError> {
        let refuse = || TransitionError::NotAllowed {
            from: self.describe(),
            event: event.name(),
        };
        if self.run == RunState::Removed {
            return Err(refuse());
        }
        let to = match event {
            TraderEvent::Run => {
                if self.run == RunState::Running {
                    return Err(refuse());
                }
                Self {
                    run: RunState::Running,
                    ..self
                }
            }
            TraderEvent::Stop => {
                if self.run == RunState::Stopped {
                    return Err(refuse());
                }
                Self {
                    run: RunState::Stopped,
                    armed: false,
                    ..self
                }
            }
            TraderEvent::SetMode {
                mode,
                protection_until,
            } => {
                if mode == self.mode {
                    return Err(refuse());
                }
                if mode == Mode::Live
                    && let Some(remaining_secs) = remaining(protection_until, now)
                {
                    return Err(TransitionError::ProtectionActive { remaining_secs });
                }
                Self {
                    mode,
                    armed: false,
                    ..self
                }
            }
            TraderEvent::Arm { protection_until } => {
                if self.mode != Mode::Live || self.armed {
                    return Err(refuse());
                }
                if let Some(remaining_secs) = remaining(protection_until, now) {
                    return Err(TransitionError::ProtectionActive { remaining_secs });
                }
                Self {
                    armed: true,
                    ..self
                }
            }
            TraderEvent::Disarm => {
                if !self.armed {
                    return Err(refuse());
                }
                Self {
                    armed: false,
                    ..self
                }
            }
            TraderEvent::Remove => Self {
                run: RunState::Removed,
                armed: false,
                ..self
            },
        };
        Ok(TraderTransition {
            from: self,
            to,
            event: event.name().to_owned(),
            at: now,
        })
    }

    fn describe(self) -> String {
        format!(
            "{} {}{}",
            self.run,
            self.mode,
            if self.armed { " ARMED" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests;
