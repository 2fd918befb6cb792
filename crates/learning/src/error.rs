//! [`LearningError`]: why a learning computation refused its input. Every
//! input error names the offending field (`candles[3].ts`, `gate.min_signals`,
//! `states[2].alpha`, …); nothing here panics on outside data.

use domain::{TransitionError, ValidationError};

/// A refused input, configuration or lifecycle transition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LearningError {
    /// An input or configuration value is invalid. Retrying with the same
    /// input cannot succeed: the caller has a bug or corrupted data.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// The offending field, e.g. `outcomes[4].r_net`.
        field: String,
        /// Why, in plain words.
        message: String,
    },
    /// The model lifecycle table (`domain::ModelStage::apply`) refused the
    /// transition.
    #[error("model lifecycle: {0}")]
    Transition(#[from] TransitionError),
}

impl LearningError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The field an `Invalid` error names.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            Self::Transition(_) => None,
        }
    }

    /// True when the same request can succeed later without changing it: only
    /// a transition refused by a time rule (the 24 h redeploy cooldown or the
    /// PAPER protection period). Invalid input never becomes valid by waiting.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Transition(
                TransitionError::CooldownActive { .. } | TransitionError::ProtectionActive { .. }
            )
        )
    }
}

impl From<ValidationError> for LearningError {
    fn from(e: ValidationError) -> Self {
        Self::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

/// A tuning run that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum TuneError<E>
where
    E: std::error::Error + 'static,
{
    /// The search space, configuration or an objective's output was invalid.
    #[error(transparent)]
    Learning(#[from] LearningError),
    /// The caller's objective (the backtest) failed; the run stops there,
    /// because a failing backtest usually means missing data or a broken
    /// store, which would make every later candidate fail the same way.
    #[error("the objective failed on candidate {index}")]
    Objective {
        /// The candidate being evaluated (0 = the incumbent).
        index: usize,
        /// The objective's own error.
        #[source]
        source: E,
    },
}

impl<E> TuneError<E>
where
    E: std::error::Error + 'static,
{
    /// True for a [`LearningError`] that says so; an objective error is the
    /// caller's to classify (this returns false for it).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Learning(e) => e.is_retryable(),
            Self::Objective { .. } => false,
        }
    }
}

/// Checks that `v` is finite and within `[lo, hi]`, naming `field`.
pub(crate) fn check_range(field: &str, v: f64, lo: f64, hi: f64) -> Result<(), LearningError> {
    if !v.is_finite() || v < lo || v > hi {
        return Err(LearningError::invalid(
            field,
            format!("must be a finite number within [{lo}, {hi}], got {v}"),
        ));
    }
    Ok(())
}
