//! [`RegimeError`]: why no regime could be produced, and whether waiting helps.

use domain::ValidationError;

use crate::InputName;

/// Why [`crate::classify`] produced no label.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegimeError {
    /// Some inputs are missing (NaN): not enough history or markets yet. This
    /// is the explicit "insufficient data" result; the engine never guesses.
    #[error("insufficient data: no value for {}", names(.missing))]
    InsufficientData {
        /// The inputs that could not be computed, in REG-2 order.
        missing: Vec<InputName>,
    },
    /// An input is outside its possible range (e.g. breadth 1.3): a bug or
    /// corrupted data upstream, not something more data fixes.
    #[error("input {input} = {value} is outside its range {range}")]
    InvalidInput {
        /// Which input.
        input: InputName,
        /// The offending value.
        value: f64,
        /// The allowed range, for the message.
        range: &'static str,
    },
    /// The configuration is invalid (names the field).
    #[error("invalid regime configuration: {0}")]
    InvalidConfig(#[from] ValidationError),
}

impl RegimeError {
    /// True when trying again later (with more candles) can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::InsufficientData { .. })
    }
}

fn names(missing: &[InputName]) -> String {
    missing
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
