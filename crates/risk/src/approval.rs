//! Proof types (ENGINEERING §3.8): an executor accepts only a
//! [`RiskApproved<OrderRequest>`], and only this crate can make one — through
//! [`approve_entry`] (all of PRE-1..8 passed) or [`approve_exit`] (a sell of at
//! most the held volume; exits are always allowed, in PANIC and with the kill
//! switch on too). A refusal carries every check's result.

use std::fmt;

use domain::{OrdType, OrderRequest, Position, ReasonCode, Side};
use serde::Serialize;

use crate::checks::{
    CheckId, CheckOutcome, CheckReason, CheckResult, EntryContext, run_entry_checks,
};

/// An item the risk engine approved, with the checks that passed. It has a
/// private field and no public constructor, no `Clone` (one approval, one
/// submission) and no `Deserialize`.
#[derive(Debug)]
#[must_use = "an approval exists to be submitted"]
pub struct RiskApproved<T> {
    item: T,
    checks: Vec<CheckResult>,
}

impl<T> RiskApproved<T> {
    pub(crate) fn new(item: T, checks: Vec<CheckResult>) -> Self {
        Self { item, checks }
    }

    /// The approved item.
    pub fn get(&self) -> &T {
        &self.item
    }

    /// The check results that approved it (all passed).
    pub fn checks(&self) -> &[CheckResult] {
        &self.checks
    }

    /// Consumes the approval (the executor does this when it submits).
    pub fn into_inner(self) -> T {
        self.item
    }

    /// Consumes the approval into the item and the check results.
    pub fn into_parts(self) -> (T, Vec<CheckResult>) {
        (self.item, self.checks)
    }
}

/// A refusal: every check's result, at least one failed.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
pub struct RiskRefused {
    /// Every check evaluated (passes included, for the record).
    pub checks: Vec<CheckResult>,
}

impl RiskRefused {
    /// Only the failed checks.
    pub fn failed(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| !c.passed())
    }

    /// Every failing reason code, in check order.
    pub fn reason_codes(&self) -> Vec<ReasonCode> {
        self.failed()
            .flat_map(|c| c.reasons().iter().map(|r| r.code.clone()))
            .collect()
    }
}

impl fmt::Display for RiskRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("risk refused:")?;
        for r in self.failed().flat_map(CheckResult::reasons) {
            write!(f, " [{}] {};", r.code, r.message)?;
        }
        Ok(())
    }
}

/// Runs PRE-1..8 on an entry (all of them, no short-circuit) and approves it
/// only if every one passes.
pub fn approve_entry(
    order: OrderRequest,
    ctx: &EntryContext<'_>,
) -> Result<RiskApproved<OrderRequest>, RiskRefused> {
    let checks = run_entry_checks(&order, ctx);
    if checks.iter().all(CheckResult::passed) {
        Ok(RiskApproved::new(order, checks))
    } else {
        Err(RiskRefused { checks })
    }
}

/// Approves an exit: a sell (limit or market) on the position's market for at
/// most the held volume. Nothing else is checked — exits are always allowed
/// (REG-4 PANIC reduces, RUN-4 kill switch may liquidate).
pub fn approve_exit(
    order: OrderRequest,
    position: &Position,
) -> Result<RiskApproved<OrderRequest>, RiskRefused> {
    let mut reasons = Vec::new();
    let mut fail = |code: &'static str, message: String| {
        reasons.push(CheckReason {
            code: ReasonCode::new_static(code),
            message,
        });
    };
    if order.side() != Side::Ask || !matches!(order.ord_type(), OrdType::Limit | OrdType::Market) {
        fail(
            "EXIT_NOT_A_SELL",
            format!(
                "exits must be limit or market sells, got {} {}",
                order.side(),
                order.ord_type()
            ),
        );
    }
    if order.market() != &position.market {
        fail(
            "EXIT_MARKET_MISMATCH",
            format!(
                "the order is for {}, the position is in {}",
                order.market(),
                position.market
            ),
        );
    }
    match order.volume() {
        Some(v) if v <= position.size => {}
        Some(v) => fail(
            "EXIT_EXCEEDS_HELD",
            format!("selling {v} exceeds the held {}", position.size),
        ),
        None => fail("EXIT_NO_VOLUME", "an exit must state its volume".to_owned()),
    }
    let mut numbers = std::collections::BTreeMap::new();
    numbers.insert("held".to_owned(), position.size.to_f64_lossy());
    numbers.insert(
        "selling".to_owned(),
        order
            .volume()
            .map_or(f64::NAN, domain::Volume::to_f64_lossy),
    );
    let outcome = if reasons.is_empty() {
        CheckOutcome::Pass
    } else {
        CheckOutcome::Fail { reasons }
    };
    let check = CheckResult {
        check: CheckId::Exit,
        outcome,
        numbers,
    };
    if check.passed() {
        Ok(RiskApproved::new(order, vec![check]))
    } else {
        Err(RiskRefused {
            checks: vec![check],
        })
    }
}

#[cfg(test)]
mod tests;
