//! Traders (UI-3, UI-4): one row per trader with its strategy, seed money,
//! optional credential, control state (run / mode / ARM, FIX-7/8) and the
//! per-trader salt of its order identifiers.
//!
//! State changes go through the domain transition table
//! ([`TraderState::apply`]) and are written together with their audit row
//! in one transaction, conditional on the state not having changed since it
//! was read. A removed trader keeps its row (its orders, trades and events
//! refer to it) and frees its name.

use chrono::{DateTime, Utc};
use rand::Rng;
use serde_json::json;

use domain::{
    CredentialId, Krw, Mode, RunState, StrategyId, TraderEvent, TraderId, TraderState,
    TraderTransition,
};

use crate::{
    StorageError, Store,
    audit::{ACTOR_MAX, AuditRow, insert_config_audit, insert_trader_transition},
    db::{
        BeginWrite, InsertedId,
        codec::{self, ms},
        count, on_pool,
        row::{Cols, RowExt},
    },
};

/// Longest trader name.
pub const NAME_MAX: usize = 64;
/// Length of the order-identifier salt.
pub const SALT_LEN: usize = 8;

macro_rules! trader_cols {
    () => {
        "id, name, strategy_id, seed_krw, credential_id, mode, run_state, armed, order_salt, \
         created_at, updated_at, last_heartbeat_at, removed_at"
    };
}

const INSERT: &str = "INSERT INTO traders (name, active_name, strategy_id, seed_krw, credential_id, \
    mode, run_state, armed, order_salt, created_at, updated_at) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const GET: &str = concat!("SELECT ", trader_cols!(), " FROM traders WHERE id = ?");
const GET_BY_NAME: &str = concat!(
    "SELECT ",
    trader_cols!(),
    " FROM traders WHERE active_name = ?"
);
const LIST_ACTIVE: &str = concat!(
    "SELECT ",
    trader_cols!(),
    " FROM traders WHERE removed_at IS NULL ORDER BY id"
);
const LIST_ALL: &str = concat!("SELECT ", trader_cols!(), " FROM traders ORDER BY id");
const STRATEGY_EXISTS: &str = "SELECT COUNT(*) AS n FROM strategies WHERE id = ?";
const CREDENTIAL_EXISTS: &str = "SELECT COUNT(*) AS n FROM credentials WHERE id = ?";
const UPDATE_STATE: &str = "UPDATE traders SET run_state = ?, mode = ?, armed = ?, updated_at = ? \
    WHERE id = ? AND run_state = ? AND mode = ? AND armed = ?";
const UPDATE_STATE_REMOVED: &str = "UPDATE traders SET run_state = ?, mode = ?, armed = ?, \
    updated_at = ?, removed_at = ?, active_name = NULL \
    WHERE id = ? AND run_state = ? AND mode = ? AND armed = ?";
const HEARTBEAT: &str =
    "UPDATE traders SET last_heartbeat_at = ? WHERE id = ? AND removed_at IS NULL";

/// What the TRADER ADD popup submits (UI-3). A new trader starts STOPPED in
/// PAPER and unarmed; LIVE is a later, audited transition (STAB-4, FIX-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTrader {
    /// Unique among live traders, 1–64 characters.
    pub name: String,
    /// A registered strategy.
    pub strategy_id: StrategyId,
    /// Seed money: whole won, greater than zero.
    pub seed_krw: Krw,
    /// The Upbit credential a LIVE run will use (optional for PAPER).
    pub credential_id: Option<CredentialId>,
}

/// A stored trader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trader {
    /// Id.
    pub id: TraderId,
    /// Name.
    pub name: String,
    /// Its strategy (the latest version applies at each container (re)creation, FIX-12).
    pub strategy_id: StrategyId,
    /// Seed money.
    pub seed_krw: Krw,
    /// Credential for LIVE.
    pub credential_id: Option<CredentialId>,
    /// Run state, mode and ARM.
    pub state: TraderState,
    /// Salt of its order identifiers (`domain::OrderIdentifier::for_attempt`).
    pub order_salt: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change of any column but the heartbeat.
    pub updated_at: DateTime<Utc>,
    /// Last heartbeat from its process, if any.
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// When it was removed (its state is then REMOVED).
    pub removed_at: Option<DateTime<Utc>>,
}

fn trader_from_row<R: RowExt>(r: &R) -> Result<Trader, StorageError> {
    let c = Cols::new(r, "traders");
    Ok(Trader {
        id: c.id("id", TraderId::new)?,
        name: c.text("name")?,
        strategy_id: c.id("strategy_id", StrategyId::new)?,
        seed_krw: c.krw("seed_krw")?,
        credential_id: c.opt_id("credential_id", CredentialId::new)?,
        state: TraderState::restore(
            c.parse("run_state", RunState::parse)?,
            c.parse("mode", Mode::parse)?,
            c.bool("armed")?,
        ),
        order_salt: c.text("order_salt")?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
        last_heartbeat_at: c.opt_ts("last_heartbeat_at")?,
        removed_at: c.opt_ts("removed_at")?,
    })
}

/// A fresh order-identifier salt: lower-case letters and digits from the
/// OS-seeded CSPRNG. It exists so that a new database never reuses an old
/// identifier on the same Upbit account, so it must not be replayable.
fn new_salt() -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..SALT_LEN)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

/// The traders repository.
#[derive(Debug, Clone, Copy)]
pub struct Traders<'a> {
    store: &'a Store,
}

impl<'a> Traders<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Creates a trader (STOPPED, PAPER, unarmed) and its config-audit row in
    /// one transaction. Refuses, naming the field and writing nothing: a bad
    /// or taken `name`, a `seed_krw` that is not a positive whole amount, an
    /// unknown `strategy_id` or `credential_id`.
    pub async fn create(
        &self,
        new: &NewTrader,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Trader, StorageError> {
        let name = codec::name("name", &new.name, NAME_MAX)?;
        let seed = Krw::check_positive("seed_krw", new.seed_krw.get(), 0)?;
        let seed_text = codec::money("seed_krw", seed.get())?;
        let salt = new_salt();
        let state = TraderState::new();
        let now = codec::truncate_to_millis(now);
        let audit_value = json!({
            "name": name,
            "strategy_id": new.strategy_id,
            "seed_krw": seed,
            "credential_id": new.credential_id,
            "mode": state.mode,
        });
        let strategy_id = new.strategy_id.get();
        let credential_id = new.credential_id.map(CredentialId::get);
        let id = on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query(STRATEGY_EXISTS)
                .bind(strategy_id)
                .fetch_one(&mut *tx)
                .await?;
            if count(&row)? == 0 {
                return Err(StorageError::invalid(
                    "strategy_id",
                    format!("strategy {strategy_id} does not exist"),
                ));
            }
            if let Some(cred) = credential_id {
                let row = sqlx::query(CREDENTIAL_EXISTS)
                    .bind(cred)
                    .fetch_one(&mut *tx)
                    .await?;
                if count(&row)? == 0 {
                    return Err(StorageError::invalid(
                        "credential_id",
                        format!("credential {cred} does not exist"),
                    ));
                }
            }
            let res = sqlx::query(INSERT)
                .bind(name)
                .bind(name)
                .bind(strategy_id)
                .bind(seed_text.as_str())
                .bind(credential_id)
                .bind(state.mode.as_str())
                .bind(state.run.as_str())
                .bind(state.armed)
                .bind(salt.as_str())
                .bind(ms(now))
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(crate::error::on_unique(
                    "name",
                    format!("a trader named {name:?} already exists"),
                ))?;
            let id = TraderId::new(res.inserted_id())?;
            let audit = AuditRow::new(
                actor,
                "trader",
                &id.to_string(),
                None,
                Some(&audit_value),
                now,
            )?;
            insert_config_audit!(&mut *tx, audit)?;
            tx.commit().await?;
            id
        });
        Ok(Trader {
            id,
            name: name.to_owned(),
            strategy_id: new.strategy_id,
            seed_krw: seed,
            credential_id: new.credential_id,
            state,
            order_salt: salt,
            created_at: now,
            updated_at: now,
            last_heartbeat_at: None,
            removed_at: None,
        })
    }

    /// One trader (removed ones too).
    pub async fn get(&self, id: TraderId) -> Result<Option<Trader>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET).bind(id.get()).fetch_optional(pool).await?;
            row.as_ref().map(trader_from_row).transpose()
        })
    }

    /// The live (not removed) trader with this name.
    pub async fn get_by_name(&self, name: &str) -> Result<Option<Trader>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_BY_NAME)
                .bind(name)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(trader_from_row).transpose()
        })
    }

    /// All traders by id; removed ones only when `include_removed`.
    pub async fn list(&self, include_removed: bool) -> Result<Vec<Trader>, StorageError> {
        let sql = if include_removed {
            LIST_ALL
        } else {
            LIST_ACTIVE
        };
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(trader_from_row).collect()
        })
    }

    /// Applies `event` through the domain transition table and writes the new
    /// state with its audit row in one transaction. Refused transitions
    /// (e.g. LIVE during STAB-4 protection, ARM while PAPER) return
    /// [`StorageError::Transition`]; switching to LIVE without a credential
    /// returns `Invalid` naming `credential_id`; a concurrent change returns
    /// a retryable `Conflict`. Nothing is written in any of these cases.
    pub async fn update_state(
        &self,
        id: TraderId,
        event: TraderEvent,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<TraderTransition, StorageError> {
        let actor = codec::name("actor", actor, ACTOR_MAX)?;
        let trader = self
            .get(id)
            .await?
            .ok_or_else(|| StorageError::not_found("trader", id))?;
        let transition = trader.state.apply(event, codec::truncate_to_millis(now))?;
        if transition.to.mode == Mode::Live && trader.credential_id.is_none() {
            return Err(StorageError::invalid(
                "credential_id",
                "a LIVE trader needs a credential",
            ));
        }
        self.write_transition(id, &transition, actor).await?;
        Ok(transition)
    }

    /// REMOVE (terminal): the `Remove` transition, audited; frees the name.
    pub async fn remove(
        &self,
        id: TraderId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<TraderTransition, StorageError> {
        self.update_state(id, TraderEvent::Remove, actor, now).await
    }

    async fn write_transition(
        &self,
        id: TraderId,
        t: &TraderTransition,
        actor: &str,
    ) -> Result<(), StorageError> {
        let removing = t.to.run == RunState::Removed;
        let at = ms(t.at);
        on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let q = if removing {
                sqlx::query(UPDATE_STATE_REMOVED)
                    .bind(t.to.run.as_str())
                    .bind(t.to.mode.as_str())
                    .bind(t.to.armed)
                    .bind(at)
                    .bind(at)
            } else {
                sqlx::query(UPDATE_STATE)
                    .bind(t.to.run.as_str())
                    .bind(t.to.mode.as_str())
                    .bind(t.to.armed)
                    .bind(at)
            };
            let res = q
                .bind(id.get())
                .bind(t.from.run.as_str())
                .bind(t.from.mode.as_str())
                .bind(t.from.armed)
                .execute(&mut *tx)
                .await?;
            if res.rows_affected() != 1 {
                return Err(StorageError::changed_concurrently("trader"));
            }
            insert_trader_transition!(&mut *tx, id, t, actor)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records a heartbeat from the trader's process (not audited). Fails
    /// with `NotFound` for an unknown or removed trader.
    pub async fn heartbeat(&self, id: TraderId, now: DateTime<Utc>) -> Result<(), StorageError> {
        let n = on_pool!(self.store, |pool, _d| {
            sqlx::query(HEARTBEAT)
                .bind(ms(now))
                .bind(id.get())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(StorageError::not_found("trader", id));
        }
        Ok(())
    }
}
