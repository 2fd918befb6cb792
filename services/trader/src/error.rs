//! Why a step of the trader's loop stopped. The loop acts on the class:
//! a database failure stops new orders until the database answers again
//! (RUN-2), an exchange failure feeds the runtime guard (STAB-1), a
//! mismatch between the exchange and our records stops trading with a
//! CRITICAL event.

use execution::{ExecError, FillError};
use storage::StorageError;
use upbit::UpbitError;

use crate::{market::DataError, portfolio::Mismatch};

/// A failed step.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] StorageError),
    /// An executor call failed.
    #[error("exchange: {0}")]
    Exchange(#[from] ExecError),
    /// Quotes (market list, order books) could not be read.
    #[error("quotes: {0}")]
    Quotes(#[from] UpbitError),
    /// Exchange and records disagree beyond what reconciliation explains.
    #[error("records and exchange disagree: {0}")]
    Mismatch(String),
}

impl From<Mismatch> for StepError {
    fn from(m: Mismatch) -> Self {
        Self::Mismatch(m.0)
    }
}

impl From<DataError> for StepError {
    fn from(e: DataError) -> Self {
        match e {
            DataError::Db(e) => Self::Db(e),
            DataError::Exchange(e) => Self::Quotes(e),
        }
    }
}

impl StepError {
    /// A fill list that does not add up yet is not a mismatch: ask again later.
    pub fn from_fills(e: &FillError) -> Option<Self> {
        match e {
            FillError::NoTrades | FillError::Inconsistent { .. } => None,
            FillError::FeeWentDown { .. } | FillError::UnknownRecordedFill { .. } => {
                Some(Self::Mismatch(e.to_string()))
            }
        }
    }

    /// True when the database itself failed (connection lost, pool
    /// exhausted, lock timeouts): RUN-2 — no new orders until it answers.
    /// A refused write (bad input, a data conflict) is not an outage.
    pub fn is_db(&self) -> bool {
        matches!(self, Self::Db(e) if is_outage(e))
    }
}

/// True for a storage error that means the database is unavailable.
pub fn is_outage(e: &StorageError) -> bool {
    matches!(e, StorageError::Database { .. }) || e.is_retryable()
}

#[cfg(test)]
mod tests {
    use domain::ValidationError;

    use super::*;

    #[test]
    fn only_an_unavailable_database_is_an_outage() {
        let refused = StepError::Db(StorageError::Invalid(ValidationError::new("volume", "x")));
        assert!(!refused.is_db());
        let lost = StepError::Db(StorageError::Database {
            source: sqlx::Error::PoolTimedOut,
            retryable: true,
        });
        assert!(lost.is_db());
        let race = StepError::Db(StorageError::Conflict {
            field: "state",
            message: "changed".to_owned(),
            retryable: true,
        });
        assert!(race.is_db());
        assert!(!StepError::Mismatch("m".to_owned()).is_db());
    }
}
