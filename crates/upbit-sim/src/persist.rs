//! The `--state FILE`: accounts (keys, balances), every order with its
//! fills, burned identifiers, the simulator's own trades on the tape, the
//! admin order log and the sim time. Written atomically (temp file, fsync,
//! rename) so a crash never leaves a torn file.

use std::{
    collections::BTreeMap,
    fs::{self, File},
    io::Write,
    net::IpAddr,
    path::Path,
};

use domain::Secret;
use serde::{Deserialize, Serialize};

use crate::{
    engine::{Account, Balance, Order, Permissions},
    series::Print,
    wire::Millis,
    world::{LogEntry, World},
};

/// Format version of the state file.
const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct AccountState {
    access_key: String,
    /// Stored in clear: the file is the simulator's own key store.
    secret_key: String,
    permissions: Permissions,
    allowed_ips: Vec<IpAddr>,
    expires_at: Option<Millis>,
    balances: BTreeMap<String, Balance>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PrintState {
    ts: Millis,
    price: rust_decimal::Decimal,
    volume: rust_decimal::Decimal,
    taker: domain::Side,
    seq: i64,
}

/// The whole file.
#[derive(Debug, Serialize, Deserialize)]
pub struct StateFile {
    version: u32,
    /// Sim time when written.
    pub sim_time: Millis,
    accounts: Vec<AccountState>,
    orders: Vec<Order>,
    identifiers: Vec<(usize, String)>,
    tape: BTreeMap<String, Vec<PrintState>>,
    order_log: Vec<LogEntry>,
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing failed.
    #[error("state file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The content is not a state file of this version.
    #[error("state file {path} is not valid: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Captures the persistent part of the world.
pub fn snapshot(world: &World, now: Millis) -> StateFile {
    let accounts = world
        .engine
        .accounts()
        .iter()
        .map(|a| AccountState {
            access_key: a.access_key.clone(),
            secret_key: a.secret.expose().to_owned(),
            permissions: a.permissions,
            allowed_ips: a.allowed_ips.clone(),
            expires_at: a.expires_at,
            balances: a.balances.clone(),
        })
        .collect();
    let tape = world
        .markets
        .iter()
        .filter(|m| !m.extra_prints().is_empty())
        .map(|m| {
            (
                m.info.market.as_str().to_owned(),
                m.extra_prints()
                    .iter()
                    .map(|p| PrintState {
                        ts: p.ts,
                        price: p.price,
                        volume: p.volume,
                        taker: p.taker,
                        seq: p.seq,
                    })
                    .collect(),
            )
        })
        .collect();
    StateFile {
        version: VERSION,
        sim_time: now,
        accounts,
        orders: world.engine.orders().to_vec(),
        identifiers: world.engine.used_identifier_list(),
        tape,
        order_log: world.order_log.clone(),
    }
}

/// Writes `state` to `path` atomically.
pub fn write(path: &Path, state: &StateFile) -> Result<(), StateError> {
    let io = |source| StateError::Io {
        path: path.display().to_string(),
        source,
    };
    let bytes = serde_json::to_vec(state).map_err(|e| StateError::Invalid {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp).map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Persist the rename itself; not every platform allows opening a directory.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Reads a state file; `Ok(None)` when it does not exist yet.
pub fn read(path: &Path) -> Result<Option<StateFile>, StateError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Io {
                path: path.display().to_string(),
                source,
            });
        }
    };
    let state: StateFile = serde_json::from_slice(&bytes).map_err(|e| StateError::Invalid {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    if state.version != VERSION {
        return Err(StateError::Invalid {
            path: path.display().to_string(),
            message: format!("version {} (expected {VERSION})", state.version),
        });
    }
    Ok(Some(state))
}

/// Loads a state file into a fresh world (orders re-enter the book).
pub fn restore(world: &mut World, state: StateFile, now: Millis) {
    for a in state.accounts {
        let mut acct = Account::new(a.access_key, Secret::new(a.secret_key), a.balances);
        acct.permissions = a.permissions;
        acct.allowed_ips = a.allowed_ips;
        acct.expires_at = a.expires_at;
        world.engine.upsert_account(acct);
    }
    let n = state.orders.len() as u64;
    for o in state.orders {
        world.engine.restore_order(o);
    }
    world.engine.restore_identifiers(state.identifiers);
    world.engine.reseed(crate::series::mix(now as u64, n));
    for (code, prints) in state.tape {
        if let Some(i) = world.market_index(&code) {
            let prints = prints
                .into_iter()
                .map(|p| Print {
                    ts: p.ts,
                    price: p.price,
                    volume: p.volume,
                    taker: p.taker,
                    seq: p.seq,
                })
                .collect();
            world.markets[i].restore_extra(prints, now);
        }
    }
    world.order_log = state.order_log;
}
