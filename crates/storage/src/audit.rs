//! Append-only audit logs (AUD-1): config changes (who changed what, when —
//! SPEC §13), trader lifecycle transitions and model lifecycle transitions.
//!
//! These repositories only insert and read. Trader and model transitions are
//! written by `Traders::update_state` / `ModelVersions::transition` in the
//! same transaction as the state change they record; config-audit rows are
//! written by every repository call that changes configuration (and by
//! [`ConfigAudit::append`] for changes made elsewhere).

use chrono::{DateTime, Utc};
use serde_json::Value;

use domain::{
    Mode, ModelEvent, ModelStage, ModelTransition, ModelVersionId, RunState, TraderId, TraderState,
    TraderTransition, ValidationError,
};

use crate::{
    StorageError, Store,
    db::{
        InsertedId,
        codec::{self, ms},
        on_pool,
        row::{Cols, RowExt},
    },
};

pub(crate) const INSERT_CONFIG_AUDIT: &str = "INSERT INTO config_audit \
    (ts, actor, entity, entity_id, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?)";
const LIST_CONFIG_AUDIT: &str = "SELECT id, ts, actor, entity, entity_id, old_value, new_value \
    FROM config_audit ORDER BY id DESC LIMIT ?";
const LIST_CONFIG_AUDIT_FOR: &str = "SELECT id, ts, actor, entity, entity_id, old_value, new_value \
    FROM config_audit WHERE entity = ? AND entity_id = ? ORDER BY id DESC LIMIT ?";

pub(crate) const INSERT_TRADER_TRANSITION: &str = "INSERT INTO trader_transitions \
    (trader_id, at, event, actor, from_run_state, from_mode, from_armed, to_run_state, to_mode, to_armed) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const LIST_TRADER_TRANSITIONS: &str = "SELECT id, trader_id, at, event, actor, from_run_state, \
    from_mode, from_armed, to_run_state, to_mode, to_armed \
    FROM trader_transitions WHERE trader_id = ? ORDER BY id LIMIT ?";

pub(crate) const INSERT_MODEL_TRANSITION: &str = "INSERT INTO model_transitions \
    (model_version_id, at, actor, from_stage, to_stage, event) VALUES (?, ?, ?, ?, ?, ?)";
const LIST_MODEL_TRANSITIONS: &str = "SELECT id, model_version_id, at, actor, from_stage, to_stage, event \
    FROM model_transitions WHERE model_version_id = ? ORDER BY id LIMIT ?";

/// Longest actor name (an admin username, `trader:7`, `trainer`, …).
pub(crate) const ACTOR_MAX: usize = 128;

/// Validated parameters of one `config_audit` row, ready to bind.
#[derive(Debug)]
pub(crate) struct AuditRow {
    pub(crate) ts: i64,
    pub(crate) actor: String,
    pub(crate) entity: String,
    pub(crate) entity_id: String,
    pub(crate) old: Option<String>,
    pub(crate) new: Option<String>,
}

impl AuditRow {
    pub(crate) fn new(
        actor: &str,
        entity: &str,
        entity_id: &str,
        old: Option<&Value>,
        new: Option<&Value>,
        at: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            ts: ms(at),
            actor: codec::name("actor", actor, ACTOR_MAX)?.to_owned(),
            entity: codec::name("entity", entity, 64)?.to_owned(),
            entity_id: codec::name("entity_id", entity_id, 128)?.to_owned(),
            old: old.map(|v| codec::json("old_value", v)).transpose()?,
            new: new.map(|v| codec::json("new_value", v)).transpose()?,
        })
    }
}

/// Executes an [`AuditRow`] insert on a connection or transaction.
macro_rules! insert_config_audit {
    ($conn:expr, $row:expr) => {
        sqlx::query($crate::audit::INSERT_CONFIG_AUDIT)
            .bind($row.ts)
            .bind($row.actor.as_str())
            .bind($row.entity.as_str())
            .bind($row.entity_id.as_str())
            .bind($row.old.as_deref())
            .bind($row.new.as_deref())
            .execute($conn)
            .await
    };
}
pub(crate) use insert_config_audit;

/// A config change to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConfigAudit {
    /// When it happened.
    pub ts: DateTime<Utc>,
    /// Who did it (admin username, `trainer`, …).
    pub actor: String,
    /// What kind of thing changed (`trader`, `strategy`, `config`, …).
    pub entity: String,
    /// Which one.
    pub entity_id: String,
    /// The value before (None when created).
    pub old_value: Option<Value>,
    /// The value after (None when deleted).
    pub new_value: Option<Value>,
}

/// A stored config-audit row.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigAuditEntry {
    /// Row id (increasing).
    pub id: i64,
    /// When it happened.
    pub ts: DateTime<Utc>,
    /// Who did it.
    pub actor: String,
    /// What kind of thing changed.
    pub entity: String,
    /// Which one.
    pub entity_id: String,
    /// The value before.
    pub old_value: Option<Value>,
    /// The value after.
    pub new_value: Option<Value>,
}

fn config_audit_from_row<R: RowExt>(r: &R) -> Result<ConfigAuditEntry, StorageError> {
    let c = Cols::new(r, "config_audit");
    Ok(ConfigAuditEntry {
        id: c.i64("id")?,
        ts: c.ts("ts")?,
        actor: c.text("actor")?,
        entity: c.text("entity")?,
        entity_id: c.text("entity_id")?,
        old_value: c.opt_json("old_value")?,
        new_value: c.opt_json("new_value")?,
    })
}

/// The config-change audit log (append-only).
#[derive(Debug, Clone, Copy)]
pub struct ConfigAudit<'a> {
    store: &'a Store,
}

impl<'a> ConfigAudit<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Appends one entry; returns its id.
    pub async fn append(&self, entry: &NewConfigAudit) -> Result<i64, StorageError> {
        let row = AuditRow::new(
            &entry.actor,
            &entry.entity,
            &entry.entity_id,
            entry.old_value.as_ref(),
            entry.new_value.as_ref(),
            entry.ts,
        )?;
        let id = on_pool!(self.store, |pool, _d| {
            insert_config_audit!(pool, row)?.inserted_id()
        });
        Ok(id)
    }

    /// The newest `limit` entries, newest first.
    pub async fn list(&self, limit: u32) -> Result<Vec<ConfigAuditEntry>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_CONFIG_AUDIT)
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(config_audit_from_row).collect()
        })
    }

    /// The newest `limit` entries about one entity, newest first.
    pub async fn list_for(
        &self,
        entity: &str,
        entity_id: &str,
        limit: u32,
    ) -> Result<Vec<ConfigAuditEntry>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_CONFIG_AUDIT_FOR)
                .bind(entity)
                .bind(entity_id)
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(config_audit_from_row).collect()
        })
    }
}

/// A stored trader transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraderTransitionRecord {
    /// Row id.
    pub id: i64,
    /// The trader.
    pub trader_id: TraderId,
    /// Who asked for it.
    pub actor: String,
    /// The transition as the domain table produced it.
    pub transition: TraderTransition,
}

/// Writes a trader transition inside the caller's transaction.
macro_rules! insert_trader_transition {
    ($conn:expr, $trader:expr, $t:expr, $actor:expr) => {
        sqlx::query($crate::audit::INSERT_TRADER_TRANSITION)
            .bind($trader.get())
            .bind($crate::db::codec::ms($t.at))
            .bind($t.event.as_str())
            .bind($actor)
            .bind($t.from.run.as_str())
            .bind($t.from.mode.as_str())
            .bind($t.from.armed)
            .bind($t.to.run.as_str())
            .bind($t.to.mode.as_str())
            .bind($t.to.armed)
            .execute($conn)
            .await
    };
}
pub(crate) use insert_trader_transition;

fn trader_transition_from_row<R: RowExt>(r: &R) -> Result<TraderTransitionRecord, StorageError> {
    let c = Cols::new(r, "trader_transitions");
    let state = |run: &str, mode: &str, armed: &str| -> Result<TraderState, StorageError> {
        Ok(TraderState::restore(
            c.parse(run, RunState::parse)?,
            c.parse(mode, Mode::parse)?,
            c.bool(armed)?,
        ))
    };
    Ok(TraderTransitionRecord {
        id: c.i64("id")?,
        trader_id: c.id("trader_id", TraderId::new)?,
        actor: c.text("actor")?,
        transition: TraderTransition {
            from: state("from_run_state", "from_mode", "from_armed")?,
            to: state("to_run_state", "to_mode", "to_armed")?,
            event: c.text("event")?,
            at: c.ts("at")?,
        },
    })
}

/// The trader lifecycle audit (append-only; written by `Traders::update_state`).
#[derive(Debug, Clone, Copy)]
pub struct TraderTransitions<'a> {
    store: &'a Store,
}

impl<'a> TraderTransitions<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// A trader's transitions, oldest first.
    pub async fn list(
        &self,
        trader: TraderId,
        limit: u32,
    ) -> Result<Vec<TraderTransitionRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_TRADER_TRANSITIONS)
                .bind(trader.get())
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(trader_transition_from_row).collect()
        })
    }
}

/// A stored model transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTransitionRecord {
    /// Row id.
    pub id: i64,
    /// The model version.
    pub model_version_id: ModelVersionId,
    /// Who asked for it (`trainer`, an admin).
    pub actor: String,
    /// The transition as the domain table produced it.
    pub transition: ModelTransition,
}

fn model_transition_from_row<R: RowExt>(r: &R) -> Result<ModelTransitionRecord, StorageError> {
    let c = Cols::new(r, "model_transitions");
    Ok(ModelTransitionRecord {
        id: c.i64("id")?,
        model_version_id: c.id("model_version_id", ModelVersionId::new)?,
        actor: c.text("actor")?,
        transition: ModelTransition {
            from: c.parse("from_stage", ModelStage::parse)?,
            to: c.parse("to_stage", ModelStage::parse)?,
            event: c.json::<ModelEvent>("event")?,
            at: c.ts("at")?,
        },
    })
}

/// The model lifecycle audit (append-only; written by `ModelVersions::transition`).
#[derive(Debug, Clone, Copy)]
pub struct ModelTransitions<'a> {
    store: &'a Store,
}

impl<'a> ModelTransitions<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// A model version's transitions, oldest first.
    pub async fn list(
        &self,
        model: ModelVersionId,
        limit: u32,
    ) -> Result<Vec<ModelTransitionRecord>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_MODEL_TRANSITIONS)
                .bind(model.get())
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(model_transition_from_row).collect()
        })
    }
}
