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

    /// True for a database failure.
    pub fn is_db(&self) -> bool {
        matches!(self, Self::Db(_))
    }
}
