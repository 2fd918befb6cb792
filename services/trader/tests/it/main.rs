//! Integration tests of the trader: the real binary against the real
//! simulator and a real database (SQLite and MariaDB).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "test code: fail loudly with the value that was wrong"
)]

mod ai;
mod arm;
mod checks;
mod crash;
mod e2e;
mod faults;
mod outage;
mod safety;
mod shared;
mod support;
