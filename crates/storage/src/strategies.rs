//! Strategies (UI-6) and their versions. Every change is a new version
//! (1, 2, …) holding the definition as JSON (the strategy crate owns its
//! schema) and the risk profile. Each version carries its own STAB-4 PAPER
//! protection: `paper_started_at` is set when it first runs in PAPER and
//! `protection_until` is 24 h later; LIVE is refused before that.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use domain::{RiskProfile, StrategyId, lifecycle::PROTECTION_PERIOD};

use crate::{
    StorageError, Store,
    audit::{ACTOR_MAX, AuditRow, insert_config_audit},
    db::{
        BeginWrite, InsertedId, Sql2,
        codec::{self, ms},
        on_pool,
        row::{Cols, RowExt},
    },
};

/// Longest strategy name.
pub const NAME_MAX: usize = 128;

macro_rules! version_cols {
    () => {
        "v.id AS v_id, v.strategy_id, v.version, v.definition, v.risk_profile, \
         v.created_at AS v_created_at, v.created_by AS v_created_by, v.paper_started_at, \
         v.protection_until"
    };
}

const INSERT_STRATEGY: &str =
    "INSERT INTO strategies (name, created_at, created_by) VALUES (?, ?, ?)";
const INSERT_VERSION: &str = "INSERT INTO strategy_versions \
    (strategy_id, version, definition, risk_profile, created_at, created_by) \
    VALUES (?, ?, ?, ?, ?, ?)";
const LOCK_STRATEGY: Sql2 = Sql2 {
    sqlite: "SELECT id FROM strategies WHERE id = ?",
    mysql: "SELECT id FROM strategies WHERE id = ? FOR UPDATE",
};
const LATEST_VERSION_OF: &str = concat!(
    "SELECT ",
    version_cols!(),
    " FROM strategy_versions v WHERE v.strategy_id = ? ORDER BY v.version DESC LIMIT 1"
);
const VERSIONS_OF: &str = concat!(
    "SELECT ",
    version_cols!(),
    " FROM strategy_versions v WHERE v.strategy_id = ? ORDER BY v.version"
);
const VERSION_BY_ID: &str = concat!(
    "SELECT ",
    version_cols!(),
    " FROM strategy_versions v WHERE v.id = ?"
);
const GET_WITH_LATEST: &str = concat!(
    "SELECT s.id, s.name, s.created_at, s.created_by, ",
    version_cols!(),
    " FROM strategies s JOIN strategy_versions v ON v.strategy_id = s.id \
      WHERE s.id = ? AND v.version = (SELECT MAX(version) FROM strategy_versions WHERE strategy_id = s.id)"
);
const LIST_WITH_LATEST: &str = concat!(
    "SELECT s.id, s.name, s.created_at, s.created_by, ",
    version_cols!(),
    " FROM strategies s JOIN strategy_versions v ON v.strategy_id = s.id \
      WHERE v.version = (SELECT MAX(version) FROM strategy_versions WHERE strategy_id = s.id) \
      ORDER BY s.id"
);
const START_PAPER: &str = "UPDATE strategy_versions SET paper_started_at = ?, protection_until = ? \
    WHERE id = ? AND paper_started_at IS NULL";

/// A new strategy (its version 1).
#[derive(Debug, Clone, PartialEq)]
pub struct NewStrategy {
    /// Unique name, 1–128 characters.
    pub name: String,
    /// The definition, a JSON object in the strategy crate's schema.
    pub definition: Value,
    /// Its risk profile (FIX-10).
    pub risk_profile: RiskProfile,
}

/// One version of a strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyVersion {
    /// Row id of this version.
    pub id: i64,
    /// The strategy.
    pub strategy_id: StrategyId,
    /// 1, 2, …
    pub version: u32,
    /// The definition JSON.
    pub definition: Value,
    /// Risk profile.
    pub risk_profile: RiskProfile,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// When it first ran in PAPER (None: never).
    pub paper_started_at: Option<DateTime<Utc>>,
    /// End of its 24 h PAPER protection (None: PAPER never started).
    pub protection_until: Option<DateTime<Utc>>,
}

impl StrategyVersion {
    /// The `protection_until` to hand to `TraderEvent::SetMode`/`Arm`: the
    /// stored end of protection, or the far future when PAPER never started
    /// (so LIVE stays refused, STAB-4).
    pub fn protection_deadline(&self) -> DateTime<Utc> {
        self.protection_until.unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// A strategy with its latest version.
#[derive(Debug, Clone, PartialEq)]
pub struct Strategy {
    /// Id.
    pub id: StrategyId,
    /// Name.
    pub name: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
    /// The newest version (the one a trader (re)created now runs).
    pub latest: StrategyVersion,
}

fn version_from_row<R: RowExt>(r: &R) -> Result<StrategyVersion, StorageError> {
    let c = Cols::new(r, "strategy_versions");
    Ok(StrategyVersion {
        id: c.i64("v_id")?,
        strategy_id: c.id("strategy_id", StrategyId::new)?,
        version: c.u32("version")?,
        definition: c.json("definition")?,
        risk_profile: c.parse("risk_profile", RiskProfile::parse)?,
        created_at: c.ts("v_created_at")?,
        created_by: c.text("v_created_by")?,
        paper_started_at: c.opt_ts("paper_started_at")?,
        protection_until: c.opt_ts("protection_until")?,
    })
}

fn strategy_from_row<R: RowExt>(r: &R) -> Result<Strategy, StorageError> {
    let c = Cols::new(r, "strategies");
    Ok(Strategy {
        id: c.id("id", StrategyId::new)?,
        name: c.text("name")?,
        created_at: c.ts("created_at")?,
        created_by: c.text("created_by")?,
        latest: version_from_row(r)?,
    })
}

fn check_definition(definition: &Value) -> Result<String, StorageError> {
    if !definition.is_object() {
        return Err(StorageError::invalid("definition", "must be a JSON object"));
    }
    Ok(codec::json("definition", definition)?)
}

/// The strategies repository.
#[derive(Debug, Clone, Copy)]
pub struct Strategies<'a> {
    store: &'a Store,
}

impl<'a> Strategies<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Creates a strategy with version 1 and its audit row, in one transaction.
    pub async fn create(
        &self,
        new: &NewStrategy,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Strategy, StorageError> {
        let name = codec::name("name", &new.name, NAME_MAX)?;
        let actor = codec::name("actor", actor, ACTOR_MAX)?;
        let definition = check_definition(&new.definition)?;
        let now = codec::truncate_to_millis(now);
        let (id, version_id) = on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let res = sqlx::query(INSERT_STRATEGY)
                .bind(name)
                .bind(ms(now))
                .bind(actor)
                .execute(&mut *tx)
                .await
                .map_err(crate::error::on_unique(
                    "name",
                    format!("a strategy named {name:?} already exists"),
                ))?;
            let id = StrategyId::new(res.inserted_id())?;
            let res = sqlx::query(INSERT_VERSION)
                .bind(id.get())
                .bind(1_i64)
                .bind(definition.as_str())
                .bind(new.risk_profile.as_str())
                .bind(ms(now))
                .bind(actor)
                .execute(&mut *tx)
                .await?;
            let version_id = res.inserted_id();
            let audit_value = json!({
                "name": name,
                "version": 1,
                "risk_profile": new.risk_profile,
                "definition": new.definition,
            });
            let audit = AuditRow::new(
                actor,
                "strategy",
                &id.to_string(),
                None,
                Some(&audit_value),
                now,
            )?;
            insert_config_audit!(&mut *tx, audit)?;
            tx.commit().await?;
            (id, version_id)
        });
        Ok(Strategy {
            id,
            name: name.to_owned(),
            created_at: now,
            created_by: actor.to_owned(),
            latest: StrategyVersion {
                id: version_id,
                strategy_id: id,
                version: 1,
                definition: new.definition.clone(),
                risk_profile: new.risk_profile,
                created_at: now,
                created_by: actor.to_owned(),
                paper_started_at: None,
                protection_until: None,
            },
        })
    }

    /// Adds the next version (a strategy change) with its audit row (old →
    /// new), in one transaction. The new version starts without PAPER
    /// protection served: LIVE is refused until it has run 24 h in PAPER.
    pub async fn add_version(
        &self,
        id: StrategyId,
        definition: &Value,
        risk_profile: RiskProfile,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<StrategyVersion, StorageError> {
        let actor = codec::name("actor", actor, ACTOR_MAX)?;
        let definition_text = check_definition(definition)?;
        let now = codec::truncate_to_millis(now);
        let (version_id, version) = on_pool!(self.store, |pool, d| {
            let mut tx = pool.begin_write().await?;
            let locked = sqlx::query(d.pick(&LOCK_STRATEGY))
                .bind(id.get())
                .fetch_optional(&mut *tx)
                .await?;
            if locked.is_none() {
                return Err(StorageError::not_found("strategy", id));
            }
            let prev = sqlx::query(LATEST_VERSION_OF)
                .bind(id.get())
                .fetch_optional(&mut *tx)
                .await?
                .as_ref()
                .map(version_from_row)
                .transpose()?;
            let version = prev.as_ref().map_or(1, |p| p.version + 1);
            let res = sqlx::query(INSERT_VERSION)
                .bind(id.get())
                .bind(i64::from(version))
                .bind(definition_text.as_str())
                .bind(risk_profile.as_str())
                .bind(ms(now))
                .bind(actor)
                .execute(&mut *tx)
                .await?;
            let version_id = res.inserted_id();
            let old = prev.map(|p| {
                json!({"version": p.version, "risk_profile": p.risk_profile, "definition": p.definition})
            });
            let new =
                json!({"version": version, "risk_profile": risk_profile, "definition": definition});
            let audit = AuditRow::new(
                actor,
                "strategy",
                &id.to_string(),
                old.as_ref(),
                Some(&new),
                now,
            )?;
            insert_config_audit!(&mut *tx, audit)?;
            tx.commit().await?;
            (version_id, version)
        });
        Ok(StrategyVersion {
            id: version_id,
            strategy_id: id,
            version,
            definition: definition.clone(),
            risk_profile,
            created_at: now,
            created_by: actor.to_owned(),
            paper_started_at: None,
            protection_until: None,
        })
    }

    /// One strategy with its latest version.
    pub async fn get(&self, id: StrategyId) -> Result<Option<Strategy>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_WITH_LATEST)
                .bind(id.get())
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(strategy_from_row).transpose()
        })
    }

    /// Every strategy with its latest version, by id.
    pub async fn list(&self) -> Result<Vec<Strategy>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_WITH_LATEST).fetch_all(pool).await?;
            rows.iter().map(strategy_from_row).collect()
        })
    }

    /// All versions of a strategy, oldest first.
    pub async fn versions(&self, id: StrategyId) -> Result<Vec<StrategyVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(VERSIONS_OF)
                .bind(id.get())
                .fetch_all(pool)
                .await?;
            rows.iter().map(version_from_row).collect()
        })
    }

    /// The newest version of a strategy.
    pub async fn latest_version(
        &self,
        id: StrategyId,
    ) -> Result<Option<StrategyVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(LATEST_VERSION_OF)
                .bind(id.get())
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(version_from_row).transpose()
        })
    }

    /// One version by its row id.
    pub async fn version(&self, version_id: i64) -> Result<Option<StrategyVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(VERSION_BY_ID)
                .bind(version_id)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(version_from_row).transpose()
        })
    }

    /// Starts the STAB-4 protection clock of a version the first time a
    /// trader runs it in PAPER: `protection_until = now + 24 h`. Idempotent:
    /// later calls keep the first start. Returns the version as stored.
    pub async fn mark_paper_started(
        &self,
        version_id: i64,
        now: DateTime<Utc>,
    ) -> Result<StrategyVersion, StorageError> {
        let now = codec::truncate_to_millis(now);
        on_pool!(self.store, |pool, _d| {
            sqlx::query(START_PAPER)
                .bind(ms(now))
                .bind(ms(now + PROTECTION_PERIOD))
                .bind(version_id)
                .execute(pool)
                .await?;
        });
        self.version(version_id)
            .await?
            .ok_or_else(|| StorageError::not_found("strategy version", version_id))
    }
}
