//! The AI-assist pipeline's tables (SPEC §5, §7, STAB-2): model versions and
//! their audited lifecycle, tuning candidates with gate verdicts, scan runs
//! and labelled feature snapshots (OPT-1), Thompson-sampling bandit states
//! (OPT-4) and versioned operator configuration (`config_versions`).

use chrono::{DateTime, Utc};
use serde_json::Value;

use domain::{
    Market, ModelEvent, ModelStage, ModelTransition, ModelVersionId, RegimeLabel, StrategyId,
    TraderId, ValidationError,
};

use crate::{
    StorageError, Store,
    audit::{ACTOR_MAX, AuditRow, INSERT_MODEL_TRANSITION, insert_config_audit},
    db::{
        BeginWrite, InsertedId, Sql2,
        codec::{self, ms},
        on_pool,
        row::{Cols, RowExt},
        text_enum,
    },
    error::is_unique_violation,
};

// ---------------------------------------------------------------- model versions

macro_rules! model_cols {
    () => {
        "id, strategy_id, stage, params, metrics, is_baseline, created_at, updated_at, \
         paper_deployed_at, rolled_back_at"
    };
}

const INSERT_MODEL: &str = "INSERT INTO model_versions (strategy_id, stage, params, metrics, \
    is_baseline, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
const GET_MODEL: &str = concat!(
    "SELECT ",
    model_cols!(),
    " FROM model_versions WHERE id = ?"
);
const LIST_MODELS: &str = concat!(
    "SELECT ",
    model_cols!(),
    " FROM model_versions ORDER BY id DESC LIMIT ?"
);
const LIST_MODELS_IN_STAGE: &str = concat!(
    "SELECT ",
    model_cols!(),
    " FROM model_versions WHERE stage = ? ORDER BY id DESC LIMIT ?"
);
const BASELINE: &str = concat!(
    "SELECT ",
    model_cols!(),
    " FROM model_versions WHERE is_baseline = ? ORDER BY id DESC LIMIT 1"
);
const UPDATE_STAGE: &str = "UPDATE model_versions SET stage = ?, updated_at = ?, \
    paper_deployed_at = COALESCE(?, paper_deployed_at), \
    rolled_back_at = COALESCE(?, rolled_back_at) WHERE id = ? AND stage = ?";
const CLEAR_BASELINE: &str =
    "UPDATE model_versions SET is_baseline = ?, updated_at = ? WHERE is_baseline = ?";
const SET_BASELINE: &str = "UPDATE model_versions SET is_baseline = ?, updated_at = ? WHERE id = ?";
const UPDATE_METRICS: &str = "UPDATE model_versions SET metrics = ?, updated_at = ? WHERE id = ?";
const LIST_MODELS_OF_STRATEGY: &str = concat!(
    "SELECT ",
    model_cols!(),
    " FROM model_versions WHERE strategy_id = ? ORDER BY id DESC LIMIT ?"
);
const BASELINE_OF_STRATEGY: &str = concat!(
    "SELECT ",
    model_cols!(),
    " FROM model_versions WHERE is_baseline = ? AND strategy_id = ? ORDER BY id DESC LIMIT 1"
);
const LOCK_MODEL: Sql2 = Sql2 {
    sqlite: "SELECT strategy_id FROM model_versions WHERE id = ?",
    mysql: "SELECT strategy_id FROM model_versions WHERE id = ? FOR UPDATE",
};
const CLEAR_STRATEGY_BASELINE: &str = "UPDATE model_versions SET is_baseline = ?, updated_at = ? \
    WHERE is_baseline = ? AND strategy_id = ?";
const CLEAR_UNOWNED_BASELINE: &str = "UPDATE model_versions SET is_baseline = ?, updated_at = ? \
    WHERE is_baseline = ? AND strategy_id IS NULL";

/// A model version to store (it starts as DRAFT).
#[derive(Debug, Clone, PartialEq)]
pub struct NewModelVersion {
    /// The strategy it tunes, if any.
    pub strategy_id: Option<StrategyId>,
    /// Tuned parameters (feature/penalty weights, threshold, top-n, …), a JSON object.
    pub params: Value,
    /// Evaluation metrics (E, Sharpe, Q05, …), a JSON object.
    pub metrics: Value,
}

/// A stored model version.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersion {
    /// Id.
    pub id: ModelVersionId,
    /// The strategy it tunes.
    pub strategy_id: Option<StrategyId>,
    /// Lifecycle stage (SPEC §7).
    pub stage: ModelStage,
    /// Parameters.
    pub params: Value,
    /// Metrics.
    pub metrics: Value,
    /// The STAB-2 baseline (at most one).
    pub is_baseline: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it last entered PAPER_DEPLOYED (for `PromoteEligible`).
    pub paper_deployed_at: Option<DateTime<Utc>>,
    /// When it was last rolled back (for `Redeploy`).
    pub rolled_back_at: Option<DateTime<Utc>>,
}

fn model_from_row<R: RowExt>(r: &R) -> Result<ModelVersion, StorageError> {
    let c = Cols::new(r, "model_versions");
    Ok(ModelVersion {
        id: c.id("id", ModelVersionId::new)?,
        strategy_id: c.opt_id("strategy_id", StrategyId::new)?,
        stage: c.parse("stage", ModelStage::parse)?,
        params: c.json("params")?,
        metrics: c.json("metrics")?,
        is_baseline: c.bool("is_baseline")?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
        paper_deployed_at: c.opt_ts("paper_deployed_at")?,
        rolled_back_at: c.opt_ts("rolled_back_at")?,
    })
}

fn json_object(field: &str, v: &Value) -> Result<String, ValidationError> {
    if !v.is_object() {
        return Err(ValidationError::new(field, "must be a JSON object"));
    }
    codec::json(field, v)
}

/// The model-version repository.
#[derive(Debug, Clone, Copy)]
pub struct ModelVersions<'a> {
    store: &'a Store,
}

impl<'a> ModelVersions<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Stores a new DRAFT model version.
    pub async fn insert(
        &self,
        new: &NewModelVersion,
        now: DateTime<Utc>,
    ) -> Result<ModelVersion, StorageError> {
        let params = json_object("params", &new.params)?;
        let metrics = json_object("metrics", &new.metrics)?;
        let now = codec::truncate_to_millis(now);
        let strategy = new.strategy_id.map(StrategyId::get);
        let id = on_pool!(self.store, |pool, _d| {
            sqlx::query(INSERT_MODEL)
                .bind(strategy)
                .bind(ModelStage::Draft.as_str())
                .bind(params.as_str())
                .bind(metrics.as_str())
                .bind(false)
                .bind(ms(now))
                .bind(ms(now))
                .execute(pool)
                .await
                .map_err(crate::error::on_foreign_key(
                    "strategy_id",
                    format!("strategy {strategy:?} does not exist"),
                ))?
                .inserted_id()
        });
        Ok(ModelVersion {
            id: ModelVersionId::new(id)?,
            strategy_id: new.strategy_id,
            stage: ModelStage::Draft,
            params: new.params.clone(),
            metrics: new.metrics.clone(),
            is_baseline: false,
            created_at: now,
            updated_at: now,
            paper_deployed_at: None,
            rolled_back_at: None,
        })
    }

    /// One model version.
    pub async fn get(&self, id: ModelVersionId) -> Result<Option<ModelVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_MODEL)
                .bind(id.get())
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(model_from_row).transpose()
        })
    }

    /// The newest `limit` model versions (in `stage` when given), newest first.
    pub async fn list(
        &self,
        stage: Option<ModelStage>,
        limit: u32,
    ) -> Result<Vec<ModelVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let q = match stage {
                Some(s) => sqlx::query(LIST_MODELS_IN_STAGE).bind(s.as_str()),
                None => sqlx::query(LIST_MODELS),
            };
            let rows = q.bind(codec::page(limit)).fetch_all(pool).await?;
            rows.iter().map(model_from_row).collect()
        })
    }

    /// Applies `event` through the domain table ([`ModelStage::apply`]) and
    /// writes the new stage with its audit row in one transaction. Refused
    /// events return `Transition`; a concurrent change returns a retryable
    /// `Conflict`; nothing is written then.
    pub async fn transition(
        &self,
        id: ModelVersionId,
        event: ModelEvent,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ModelTransition, StorageError> {
        let actor = codec::name("actor", actor, ACTOR_MAX)?;
        let current = self
            .get(id)
            .await?
            .ok_or_else(|| StorageError::not_found("model version", id))?;
        let t = current.stage.apply(event, codec::truncate_to_millis(now))?;
        let at = ms(t.at);
        let paper = (t.to == ModelStage::PaperDeployed).then_some(at);
        let rolled = (t.to == ModelStage::RolledBack).then_some(at);
        let event_json = codec::json("event", &t.event)?;
        on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let res = sqlx::query(UPDATE_STAGE)
                .bind(t.to.as_str())
                .bind(at)
                .bind(paper)
                .bind(rolled)
                .bind(id.get())
                .bind(t.from.as_str())
                .execute(&mut *tx)
                .await?;
            if res.rows_affected() != 1 {
                return Err(StorageError::changed_concurrently("model version"));
            }
            sqlx::query(INSERT_MODEL_TRANSITION)
                .bind(id.get())
                .bind(at)
                .bind(actor)
                .bind(t.from.as_str())
                .bind(t.to.as_str())
                .bind(event_json.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(t)
    }

    /// Makes `id` the only baseline (STAB-2 `baseline_model_id`), in one
    /// transaction; an unknown id changes nothing.
    pub async fn set_baseline(
        &self,
        id: ModelVersionId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(CLEAR_BASELINE)
                .bind(false)
                .bind(ms(now))
                .bind(true)
                .execute(&mut *tx)
                .await?;
            let res = sqlx::query(SET_BASELINE)
                .bind(true)
                .bind(ms(now))
                .bind(id.get())
                .execute(&mut *tx)
                .await?;
            if res.rows_affected() != 1 {
                return Err(StorageError::not_found("model version", id));
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The current baseline model, if any.
    pub async fn baseline(&self) -> Result<Option<ModelVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(BASELINE)
                .bind(true)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(model_from_row).transpose()
        })
    }

    /// The newest `limit` model versions of one strategy, newest first.
    pub async fn list_for_strategy(
        &self,
        strategy: StrategyId,
        limit: u32,
    ) -> Result<Vec<ModelVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_MODELS_OF_STRATEGY)
                .bind(strategy.get())
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(model_from_row).collect()
        })
    }

    /// Makes `id` the only baseline **of its strategy** (STAB-2
    /// `baseline_model_id` per AI MODE strategy), in one transaction; the
    /// baselines of other strategies stay. An unknown id changes nothing.
    pub async fn set_strategy_baseline(
        &self,
        id: ModelVersionId,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let at = ms(codec::truncate_to_millis(now));
        on_pool!(self.store, |pool, d| {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query(d.pick(&LOCK_MODEL))
                .bind(id.get())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StorageError::not_found("model version", id))?;
            let strategy = Cols::new(&row, "model_versions").opt_i64("strategy_id")?;
            match strategy {
                Some(s) => {
                    sqlx::query(CLEAR_STRATEGY_BASELINE)
                        .bind(false)
                        .bind(at)
                        .bind(true)
                        .bind(s)
                        .execute(&mut *tx)
                        .await?;
                }
                None => {
                    sqlx::query(CLEAR_UNOWNED_BASELINE)
                        .bind(false)
                        .bind(at)
                        .bind(true)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            sqlx::query(SET_BASELINE)
                .bind(true)
                .bind(at)
                .bind(id.get())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The baseline of one strategy, if it has one.
    pub async fn baseline_for(
        &self,
        strategy: StrategyId,
    ) -> Result<Option<ModelVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(BASELINE_OF_STRATEGY)
                .bind(true)
                .bind(strategy.get())
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(model_from_row).transpose()
        })
    }

    /// Replaces a model's metrics (24 h rolling metrics, drift figures).
    pub async fn update_metrics(
        &self,
        id: ModelVersionId,
        metrics: &Value,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let metrics = json_object("metrics", metrics)?;
        let n = on_pool!(self.store, |pool, _d| {
            sqlx::query(UPDATE_METRICS)
                .bind(metrics.as_str())
                .bind(ms(now))
                .bind(id.get())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(StorageError::not_found("model version", id));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- candidates

text_enum!(
    /// Validation-gate verdict (OPT-2).
    GateVerdict, "verdict" {
        /// Adoptable.
        Pass => "PASS",
        /// Not yet conclusive.
        Hold => "HOLD",
        /// Rejected (or hard fail).
        Reject => "REJECT",
    }
);

const INSERT_CANDIDATE: &str = "INSERT INTO model_candidates (tuning_run, model_version_id, params, \
    metrics, verdict, created_at) VALUES (?, ?, ?, ?, ?, ?)";
const LIST_RUN: &str = "SELECT id, tuning_run, model_version_id, params, metrics, verdict, created_at \
    FROM model_candidates WHERE tuning_run = ? ORDER BY id";
const LIST_CANDIDATES: &str = "SELECT id, tuning_run, model_version_id, params, metrics, verdict, \
    created_at FROM model_candidates ORDER BY id DESC LIMIT ?";
const COUNT_RUN: &str = "SELECT COUNT(*) AS n FROM model_candidates WHERE tuning_run = ?";

/// A tuning candidate to record (OPT-3: K = 60 per run).
#[derive(Debug, Clone, PartialEq)]
pub struct NewModelCandidate {
    /// The tuning run it belongs to.
    pub tuning_run: String,
    /// The model version it became, if adopted.
    pub model_version_id: Option<ModelVersionId>,
    /// Its parameters (JSON object).
    pub params: Value,
    /// Its evaluation metrics (JSON object).
    pub metrics: Value,
    /// Gate verdict.
    pub verdict: GateVerdict,
}

/// What [`ModelCandidates::record_run`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRun {
    /// The candidates' row ids, in the order given.
    pub candidate_ids: Vec<i64>,
    /// The adopted candidate's new DRAFT model version, if one was adopted.
    pub model: Option<ModelVersion>,
}

/// A stored candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelCandidate {
    /// Row id.
    pub id: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// The candidate.
    pub candidate: NewModelCandidate,
}

fn candidate_from_row<R: RowExt>(r: &R) -> Result<ModelCandidate, StorageError> {
    let c = Cols::new(r, "model_candidates");
    Ok(ModelCandidate {
        id: c.i64("id")?,
        created_at: c.ts("created_at")?,
        candidate: NewModelCandidate {
            tuning_run: c.text("tuning_run")?,
            model_version_id: c.opt_id("model_version_id", ModelVersionId::new)?,
            params: c.json("params")?,
            metrics: c.json("metrics")?,
            verdict: c.parse("verdict", GateVerdict::parse)?,
        },
    })
}

/// The tuning-candidate repository.
#[derive(Debug, Clone, Copy)]
pub struct ModelCandidates<'a> {
    store: &'a Store,
}

impl<'a> ModelCandidates<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Records a candidate; returns its id.
    pub async fn insert(
        &self,
        c: &NewModelCandidate,
        now: DateTime<Utc>,
    ) -> Result<i64, StorageError> {
        let run = codec::name("tuning_run", &c.tuning_run, 128)?;
        let params = json_object("params", &c.params)?;
        let metrics = json_object("metrics", &c.metrics)?;
        let model = c.model_version_id.map(ModelVersionId::get);
        let id = on_pool!(self.store, |pool, _d| {
            sqlx::query(INSERT_CANDIDATE)
                .bind(run)
                .bind(model)
                .bind(params.as_str())
                .bind(metrics.as_str())
                .bind(c.verdict.as_str())
                .bind(ms(now))
                .execute(pool)
                .await
                .map_err(crate::error::on_foreign_key(
                    "model_version_id",
                    format!("model version {model:?} does not exist"),
                ))?
                .inserted_id()
        });
        Ok(id)
    }

    /// Records a whole tuning run in one transaction (all or nothing): the
    /// adopted candidate's DRAFT model version when `adopt` names one
    /// (`adopt.0` is an index into `candidates`; that candidate row then
    /// points at the new model), and every candidate. Every candidate must
    /// carry the same non-empty `tuning_run`, and a run that already has
    /// candidates is refused (`Conflict` on `tuning_run`, not retryable), so
    /// a restarted trainer can never record one run twice.
    pub async fn record_run(
        &self,
        candidates: &[NewModelCandidate],
        adopt: Option<(usize, &NewModelVersion)>,
        now: DateTime<Utc>,
    ) -> Result<RecordedRun, StorageError> {
        let Some(first) = candidates.first() else {
            return Err(StorageError::invalid(
                "candidates",
                "a tuning run needs at least one candidate",
            ));
        };
        let run = codec::name("candidates[0].tuning_run", &first.tuning_run, 128)?.to_owned();
        let mut encoded = Vec::with_capacity(candidates.len());
        for (i, c) in candidates.iter().enumerate() {
            if c.tuning_run != run {
                return Err(StorageError::invalid(
                    &format!("candidates[{i}].tuning_run"),
                    format!("every candidate must belong to {run:?}"),
                ));
            }
            if c.model_version_id.is_some() {
                return Err(StorageError::invalid(
                    &format!("candidates[{i}].model_version_id"),
                    "set by the adoption, not by the caller",
                ));
            }
            encoded.push((
                json_object(&format!("candidates[{i}].params"), &c.params)?,
                json_object(&format!("candidates[{i}].metrics"), &c.metrics)?,
                c.verdict.as_str(),
            ));
        }
        let adopt = match adopt {
            Some((index, model)) => {
                if index >= candidates.len() {
                    return Err(StorageError::invalid(
                        "adopt.index",
                        format!(
                            "must name one of the {} candidates, got {index}",
                            candidates.len()
                        ),
                    ));
                }
                Some((
                    index,
                    model,
                    json_object("adopt.params", &model.params)?,
                    json_object("adopt.metrics", &model.metrics)?,
                ))
            }
            None => None,
        };
        let now = codec::truncate_to_millis(now);
        let (model_id, ids) = on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let existing = sqlx::query(COUNT_RUN)
                .bind(run.as_str())
                .fetch_one(&mut *tx)
                .await?;
            if crate::db::count(&existing)? > 0 {
                return Err(StorageError::Conflict {
                    field: "tuning_run",
                    message: format!("tuning run {run:?} is already recorded"),
                    retryable: false,
                });
            }
            let mut model_id = None;
            if let Some((_, model, params, metrics)) = &adopt {
                let strategy = model.strategy_id.map(StrategyId::get);
                let id = sqlx::query(INSERT_MODEL)
                    .bind(strategy)
                    .bind(ModelStage::Draft.as_str())
                    .bind(params.as_str())
                    .bind(metrics.as_str())
                    .bind(false)
                    .bind(ms(now))
                    .bind(ms(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::error::on_foreign_key(
                        "adopt.strategy_id",
                        format!("strategy {strategy:?} does not exist"),
                    ))?
                    .inserted_id();
                model_id = Some(id);
            }
            let adopted_index = adopt.as_ref().map(|a| a.0);
            let mut ids = Vec::with_capacity(encoded.len());
            for (i, (params, metrics, verdict)) in encoded.iter().enumerate() {
                let link = if adopted_index == Some(i) {
                    model_id
                } else {
                    None
                };
                let id = sqlx::query(INSERT_CANDIDATE)
                    .bind(run.as_str())
                    .bind(link)
                    .bind(params.as_str())
                    .bind(metrics.as_str())
                    .bind(*verdict)
                    .bind(ms(now))
                    .execute(&mut *tx)
                    .await?
                    .inserted_id();
                ids.push(id);
            }
            tx.commit().await?;
            (model_id, ids)
        });
        let model = match (model_id, adopt) {
            (Some(id), Some((_, m, _, _))) => Some(ModelVersion {
                id: ModelVersionId::new(id)?,
                strategy_id: m.strategy_id,
                stage: ModelStage::Draft,
                params: m.params.clone(),
                metrics: m.metrics.clone(),
                is_baseline: false,
                created_at: now,
                updated_at: now,
                paper_deployed_at: None,
                rolled_back_at: None,
            }),
            _ => None,
        };
        Ok(RecordedRun {
            candidate_ids: ids,
            model,
        })
    }

    /// The candidates of one tuning run, in insertion order.
    pub async fn list_run(&self, tuning_run: &str) -> Result<Vec<ModelCandidate>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_RUN)
                .bind(tuning_run)
                .fetch_all(pool)
                .await?;
            rows.iter().map(candidate_from_row).collect()
        })
    }

    /// The newest `limit` candidates, newest first.
    pub async fn list_recent(&self, limit: u32) -> Result<Vec<ModelCandidate>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_CANDIDATES)
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(candidate_from_row).collect()
        })
    }
}

// ---------------------------------------------------------------- scan runs

const INSERT_SCAN: &str = "INSERT INTO scan_runs (ts, trader_id, regime, markets_scanned, data) \
    VALUES (?, ?, ?, ?, ?)";
const LIST_SCANS: &str = "SELECT id, ts, trader_id, regime, markets_scanned, data FROM scan_runs \
    WHERE ts >= ? AND ts < ? ORDER BY ts, id LIMIT ?";

/// One screener pass (OPT-1).
#[derive(Debug, Clone, PartialEq)]
pub struct NewScanRun {
    /// When.
    pub ts: DateTime<Utc>,
    /// The trader that ran it (None: the trainer's own scan).
    pub trader_id: Option<TraderId>,
    /// Regime at the time.
    pub regime: Option<RegimeLabel>,
    /// Markets considered.
    pub markets_scanned: u32,
    /// Parameters and summary (any JSON).
    pub data: Value,
}

/// A stored scan run.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRun {
    /// Row id.
    pub id: i64,
    /// The run.
    pub run: NewScanRun,
}

fn scan_from_row<R: RowExt>(r: &R) -> Result<ScanRun, StorageError> {
    let c = Cols::new(r, "scan_runs");
    Ok(ScanRun {
        id: c.i64("id")?,
        run: NewScanRun {
            ts: c.ts("ts")?,
            trader_id: c.opt_id("trader_id", TraderId::new)?,
            regime: c.opt_parse("regime", RegimeLabel::parse)?,
            markets_scanned: c.u32("markets_scanned")?,
            data: c.json("data")?,
        },
    })
}

/// The scan-run repository.
#[derive(Debug, Clone, Copy)]
pub struct ScanRuns<'a> {
    store: &'a Store,
}

impl<'a> ScanRuns<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Records a scan run; returns its id.
    pub async fn insert(&self, run: &NewScanRun) -> Result<i64, StorageError> {
        let data = codec::json("data", &run.data)?;
        let trader = run.trader_id.map(TraderId::get);
        let id = on_pool!(self.store, |pool, _d| {
            sqlx::query(INSERT_SCAN)
                .bind(ms(run.ts))
                .bind(trader)
                .bind(run.regime.map(RegimeLabel::as_str))
                .bind(i64::from(run.markets_scanned))
                .bind(data.as_str())
                .execute(pool)
                .await
                .map_err(crate::error::on_foreign_key(
                    "trader_id",
                    format!("trader {trader:?} does not exist"),
                ))?
                .inserted_id()
        });
        Ok(id)
    }

    /// Records a scan run and its feature snapshots in one transaction (all
    /// or nothing), so a crash never leaves a run without its snapshots.
    /// Each snapshot's `scan_run_id` is replaced by the new run's id; a bad
    /// one is named as `snapshots[i].field`. Returns the run id and the
    /// snapshot ids.
    pub async fn insert_with_snapshots(
        &self,
        run: &NewScanRun,
        snapshots: &[NewFeatureSnapshot],
    ) -> Result<(i64, Vec<i64>), StorageError> {
        let data = codec::json("data", &run.data)?;
        let trader = run.trader_id.map(TraderId::get);
        let encoded = encode_snapshots(snapshots)?;
        on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let run_id = sqlx::query(INSERT_SCAN)
                .bind(ms(run.ts))
                .bind(trader)
                .bind(run.regime.map(RegimeLabel::as_str))
                .bind(i64::from(run.markets_scanned))
                .bind(data.as_str())
                .execute(&mut *tx)
                .await
                .map_err(crate::error::on_foreign_key(
                    "trader_id",
                    format!("trader {trader:?} does not exist"),
                ))?
                .inserted_id();
            let mut ids = Vec::with_capacity(snapshots.len());
            for (s, (features, score)) in snapshots.iter().zip(&encoded) {
                let res = sqlx::query(INSERT_FEATURE)
                    .bind(run_id)
                    .bind(s.market.as_str())
                    .bind(ms(s.ts))
                    .bind(features.as_str())
                    .bind(*score)
                    .execute(&mut *tx)
                    .await?;
                ids.push(res.inserted_id());
            }
            tx.commit().await?;
            Ok((run_id, ids))
        })
    }

    /// Scan runs with `from ≤ ts < to`, oldest first.
    pub async fn list(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ScanRun>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_SCANS)
                .bind(ms(from))
                .bind(ms(to))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(scan_from_row).collect()
        })
    }
}

// ---------------------------------------------------------------- feature snapshots

macro_rules! feature_cols {
    () => {
        "id, scan_run_id, market, ts, features, score, label_ret_60m, label_ret_240m, \
         label_mfe_240m, label_mae_240m, label_dd_240m, labelled_at"
    };
}

/// The stored form of each snapshot's features and score, validated before
/// anything is written; a bad one is named as `snapshots[i].field`.
fn encode_snapshots(
    snapshots: &[NewFeatureSnapshot],
) -> Result<Vec<(String, Option<f64>)>, ValidationError> {
    snapshots
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Ok((
                json_object(&format!("snapshots[{i}].features"), &s.features)?,
                codec::opt_finite(&format!("snapshots[{i}].score"), s.score)?,
            ))
        })
        .collect()
}

const INSERT_FEATURE: &str = "INSERT INTO feature_snapshots (scan_run_id, market, ts, features, \
    score) VALUES (?, ?, ?, ?, ?)";
const SET_LABELS: &str = "UPDATE feature_snapshots SET label_ret_60m = ?, label_ret_240m = ?, \
    label_mfe_240m = ?, label_mae_240m = ?, label_dd_240m = ?, labelled_at = ? WHERE id = ?";
const SET_LABELS_ONCE: &str = "UPDATE feature_snapshots SET label_ret_60m = ?, label_ret_240m = ?, \
    label_mfe_240m = ?, label_mae_240m = ?, label_dd_240m = ?, labelled_at = ? \
    WHERE id = ? AND labelled_at IS NULL";
const COUNT_FEATURE: &str = "SELECT COUNT(*) AS n FROM feature_snapshots WHERE id = ?";
const MARK_UNAVAILABLE: &str =
    "UPDATE feature_snapshots SET labelled_at = ? WHERE id = ? AND labelled_at IS NULL";
const UNLABELLED: &str = concat!(
    "SELECT ",
    feature_cols!(),
    " FROM feature_snapshots WHERE labelled_at IS NULL AND ts <= ? ORDER BY ts, id LIMIT ?"
);
const FEATURE_RANGE: &str = concat!(
    "SELECT ",
    feature_cols!(),
    " FROM feature_snapshots WHERE ts >= ? AND ts < ? ORDER BY ts, id LIMIT ?"
);

/// A feature snapshot to record (one market in one scan run).
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeatureSnapshot {
    /// The scan run.
    pub scan_run_id: i64,
    /// Market.
    pub market: Market,
    /// When.
    pub ts: DateTime<Utc>,
    /// Feature values (JSON object).
    pub features: Value,
    /// Score at the time, if computed.
    pub score: Option<f64>,
}

/// The OPT-1 labels of a snapshot, filled in once the future is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureLabels {
    /// Return after 60 minutes.
    pub ret_60m: f64,
    /// Return after 240 minutes.
    pub ret_240m: f64,
    /// Maximum favourable excursion within 240 minutes.
    pub mfe_240m: f64,
    /// Maximum adverse excursion within 240 minutes.
    pub mae_240m: f64,
    /// Drawdown within 240 minutes.
    pub dd_240m: f64,
}

/// A stored feature snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSnapshot {
    /// Row id.
    pub id: i64,
    /// The snapshot.
    pub snapshot: NewFeatureSnapshot,
    /// Labels, once computed.
    pub labels: Option<FeatureLabels>,
    /// When the labels were written, or when the snapshot was found
    /// unlabellable ([`FeatureSnapshots::mark_unavailable`]: `labels` stays
    /// `None`). `None`: not labelled yet.
    pub labelled_at: Option<DateTime<Utc>>,
}

impl FeatureSnapshot {
    /// Labelled, or marked as never labellable: the labelling job is done with it.
    pub fn is_settled(&self) -> bool {
        self.labelled_at.is_some()
    }
}

fn feature_from_row<R: RowExt>(r: &R) -> Result<FeatureSnapshot, StorageError> {
    let c = Cols::new(r, "feature_snapshots");
    let labelled_at = c.opt_ts("labelled_at")?;
    // A snapshot marked unavailable has `labelled_at` but no labels.
    let labels = match (labelled_at, c.opt_f64("label_ret_60m")?) {
        (None, _) | (Some(_), None) => None,
        (Some(_), Some(_)) => Some(FeatureLabels {
            ret_60m: c.f64("label_ret_60m")?,
            ret_240m: c.f64("label_ret_240m")?,
            mfe_240m: c.f64("label_mfe_240m")?,
            mae_240m: c.f64("label_mae_240m")?,
            dd_240m: c.f64("label_dd_240m")?,
        }),
    };
    Ok(FeatureSnapshot {
        id: c.i64("id")?,
        snapshot: NewFeatureSnapshot {
            scan_run_id: c.i64("scan_run_id")?,
            market: c.parse("market", Market::parse)?,
            ts: c.ts("ts")?,
            features: c.json("features")?,
            score: c.opt_f64("score")?,
        },
        labels,
        labelled_at,
    })
}

/// The feature-snapshot repository.
#[derive(Debug, Clone, Copy)]
pub struct FeatureSnapshots<'a> {
    store: &'a Store,
}

impl<'a> FeatureSnapshots<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Records the snapshots of a scan in one transaction (all or none);
    /// a bad one is named as `snapshots[i].field`. Returns their ids.
    pub async fn insert_many(
        &self,
        snapshots: &[NewFeatureSnapshot],
    ) -> Result<Vec<i64>, StorageError> {
        let encoded = encode_snapshots(snapshots)?;
        on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let mut ids = Vec::with_capacity(snapshots.len());
            for (s, (features, score)) in snapshots.iter().zip(&encoded) {
                let res = sqlx::query(INSERT_FEATURE)
                    .bind(s.scan_run_id)
                    .bind(s.market.as_str())
                    .bind(ms(s.ts))
                    .bind(features.as_str())
                    .bind(*score)
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::error::on_foreign_key(
                        "scan_run_id",
                        format!("scan run {} does not exist", s.scan_run_id),
                    ))?;
                ids.push(res.inserted_id());
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// Writes the labels of one snapshot (every label must be finite).
    pub async fn set_labels(
        &self,
        id: i64,
        labels: &FeatureLabels,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let values = [
            codec::finite("label_ret_60m", labels.ret_60m)?,
            codec::finite("label_ret_240m", labels.ret_240m)?,
            codec::finite("label_mfe_240m", labels.mfe_240m)?,
            codec::finite("label_mae_240m", labels.mae_240m)?,
            codec::finite("label_dd_240m", labels.dd_240m)?,
        ];
        let n = on_pool!(self.store, |pool, _d| {
            let mut q = sqlx::query(SET_LABELS);
            for v in values {
                q = q.bind(v);
            }
            q.bind(ms(now))
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(StorageError::not_found("feature snapshot", id));
        }
        Ok(())
    }

    /// Writes the labels of many snapshots in one transaction (all or
    /// none); a bad value is named as `labels[i].label_…`, a missing id is
    /// `NotFound`. Only snapshots not yet settled are written: labels are
    /// computed once.
    pub async fn set_labels_many(
        &self,
        labels: &[(i64, FeatureLabels)],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let encoded = labels
            .iter()
            .enumerate()
            .map(|(i, (id, l))| {
                let f = |name: &str, v: f64| codec::finite(&format!("labels[{i}].{name}"), v);
                Ok::<_, ValidationError>((
                    *id,
                    [
                        f("label_ret_60m", l.ret_60m)?,
                        f("label_ret_240m", l.ret_240m)?,
                        f("label_mfe_240m", l.mfe_240m)?,
                        f("label_mae_240m", l.mae_240m)?,
                        f("label_dd_240m", l.dd_240m)?,
                    ],
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let at = ms(now);
        on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            for (id, values) in &encoded {
                let mut q = sqlx::query(SET_LABELS_ONCE);
                for v in values {
                    q = q.bind(*v);
                }
                let n = q
                    .bind(at)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n == 0 {
                    let exists = sqlx::query(COUNT_FEATURE)
                        .bind(*id)
                        .fetch_one(&mut *tx)
                        .await?;
                    if crate::db::count(&exists)? == 0 {
                        return Err(StorageError::not_found("feature snapshot", *id));
                    }
                }
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Marks snapshots whose labels can never be computed (a hole in the
    /// data, a corrupt candle, no trade to enter at): `labelled_at` is set
    /// and the labels stay NULL, so the labelling job does not read them
    /// again. Snapshots already settled are left alone. Returns how many
    /// were marked.
    pub async fn mark_unavailable(
        &self,
        ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let at = ms(now);
        let n = on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let mut n = 0;
            for id in ids {
                n += sqlx::query(MARK_UNAVAILABLE)
                    .bind(at)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            n
        });
        Ok(n)
    }

    /// Unlabelled snapshots taken at or before `before` (old enough for
    /// their 240-minute labels), oldest first.
    pub async fn unlabelled(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<FeatureSnapshot>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(UNLABELLED)
                .bind(ms(before))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(feature_from_row).collect()
        })
    }

    /// Snapshots with `from ≤ ts < to`, oldest first.
    pub async fn range(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<FeatureSnapshot>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(FEATURE_RANGE)
                .bind(ms(from))
                .bind(ms(to))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(feature_from_row).collect()
        })
    }
}

/// Appends the next version of `$scope` and its config-audit row inside the
/// open write transaction `$tx`; evaluates to `(row id, version)`.
macro_rules! append_config_in_tx {
    ($tx:ident, $d:ident, $scope:expr, $data_text:expr, $data:expr, $actor:expr, $now:expr) => {{
        let prev = sqlx::query($d.pick(&LOCK_LATEST_CONFIG))
            .bind($scope)
            .fetch_optional(&mut *$tx)
            .await?
            .as_ref()
            .map(config_from_row)
            .transpose()?;
        let version = prev.as_ref().map_or(1, |p| p.version + 1);
        let res = sqlx::query(INSERT_CONFIG)
            .bind($scope)
            .bind(i64::from(version))
            .bind($data_text.as_str())
            .bind(ms($now))
            .bind($actor)
            .execute(&mut *$tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StorageError::Conflict {
                        field: "version",
                        message: format!("{} changed concurrently; read it again", $scope),
                        retryable: true,
                    }
                } else {
                    StorageError::from(e)
                }
            })?;
        let audit = AuditRow::new(
            $actor,
            "config",
            $scope,
            prev.as_ref().map(|p| &p.data),
            Some($data),
            $now,
        )?;
        insert_config_audit!(&mut *$tx, audit)?;
        (res.inserted_id(), version)
    }};
}

// ---------------------------------------------------------------- bandit states

const UPSERT_BANDIT: Sql2 = Sql2 {
    sqlite: "INSERT INTO bandit_states (arm, regime, alpha, beta, pulls, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (arm, regime) DO UPDATE SET \
             alpha = excluded.alpha, beta = excluded.beta, pulls = excluded.pulls, \
             updated_at = excluded.updated_at",
    mysql: "INSERT INTO bandit_states (arm, regime, alpha, beta, pulls, updated_at) \
            VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE alpha = VALUES(alpha), \
            beta = VALUES(beta), pulls = VALUES(pulls), updated_at = VALUES(updated_at)",
};
const GET_BANDIT: &str = "SELECT arm, regime, alpha, beta, pulls, updated_at FROM bandit_states \
    WHERE arm = ? AND regime = ?";
const LIST_BANDIT: &str = "SELECT arm, regime, alpha, beta, pulls, updated_at FROM bandit_states \
    ORDER BY arm, regime";

/// The Beta posterior of one arm (strategy) in one regime (OPT-4).
#[derive(Debug, Clone, PartialEq)]
pub struct BanditState {
    /// The arm (strategy key).
    pub arm: String,
    /// The regime it applies to.
    pub regime: RegimeLabel,
    /// Beta α (successes + prior), > 0.
    pub alpha: f64,
    /// Beta β (failures + prior), > 0.
    pub beta: f64,
    /// Number of updates.
    pub pulls: u64,
    /// Last update.
    pub updated_at: DateTime<Utc>,
}

fn bandit_from_row<R: RowExt>(r: &R) -> Result<BanditState, StorageError> {
    let c = Cols::new(r, "bandit_states");
    Ok(BanditState {
        arm: c.text("arm")?,
        regime: c.parse("regime", RegimeLabel::parse)?,
        alpha: c.f64("alpha")?,
        beta: c.f64("beta")?,
        pulls: c.u64("pulls")?,
        updated_at: c.ts("updated_at")?,
    })
}

/// The bandit-state repository (one row per arm and regime).
#[derive(Debug, Clone, Copy)]
pub struct BanditStates<'a> {
    store: &'a Store,
}

impl<'a> BanditStates<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Writes one arm's posterior (insert or replace).
    pub async fn upsert(&self, s: &BanditState) -> Result<(), StorageError> {
        let arm = codec::name("arm", &s.arm, 128)?;
        for (field, v) in [("alpha", s.alpha), ("beta", s.beta)] {
            if codec::finite(field, v)? <= 0.0 {
                return Err(StorageError::invalid(field, "must be greater than zero"));
            }
        }
        let pulls =
            i64::try_from(s.pulls).map_err(|_| StorageError::invalid("pulls", "is too large"))?;
        on_pool!(self.store, |pool, d| {
            sqlx::query(d.pick(&UPSERT_BANDIT))
                .bind(arm)
                .bind(s.regime.as_str())
                .bind(s.alpha)
                .bind(s.beta)
                .bind(pulls)
                .bind(ms(s.updated_at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// One arm's posterior in one regime.
    pub async fn get(
        &self,
        arm: &str,
        regime: RegimeLabel,
    ) -> Result<Option<BanditState>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_BANDIT)
                .bind(arm)
                .bind(regime.as_str())
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(bandit_from_row).transpose()
        })
    }

    /// Writes several posteriors **and** the next version of the
    /// configuration scope `scope` (the consumer's watermark: which trades
    /// the posteriors already contain) in one transaction, so a restart can
    /// never count a trade twice or lose one. The scope gets its config-audit
    /// row as with [`ConfigVersions::append`]; errors name
    /// `states[i].field`, `scope` or `data`.
    pub async fn upsert_with_watermark(
        &self,
        states: &[BanditState],
        scope: &str,
        data: &Value,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ConfigVersion, StorageError> {
        let c = NewConfig::validate(scope, data, actor, now)?;
        let mut rows = Vec::with_capacity(states.len());
        for (i, s) in states.iter().enumerate() {
            let field = |f: &str| format!("states[{i}].{f}");
            let arm = codec::name(&field("arm"), &s.arm, 128)?;
            for (name, v) in [("alpha", s.alpha), ("beta", s.beta)] {
                if codec::finite(&field(name), v)? <= 0.0 {
                    return Err(StorageError::invalid(
                        &field(name),
                        "must be greater than zero",
                    ));
                }
            }
            let pulls = i64::try_from(s.pulls)
                .map_err(|_| StorageError::invalid(&field("pulls"), "is too large"))?;
            rows.push((arm, s, pulls));
        }
        let (id, version) = on_pool!(self.store, |pool, d| {
            let mut tx = pool.begin_write().await?;
            for (arm, s, pulls) in &rows {
                sqlx::query(d.pick(&UPSERT_BANDIT))
                    .bind(*arm)
                    .bind(s.regime.as_str())
                    .bind(s.alpha)
                    .bind(s.beta)
                    .bind(*pulls)
                    .bind(ms(s.updated_at))
                    .execute(&mut *tx)
                    .await?;
            }
            let written = append_config_in_tx!(tx, d, c.scope, c.data_text, c.data, c.actor, c.now);
            tx.commit().await?;
            written
        });
        Ok(c.stored(id, version))
    }

    /// Every posterior, by arm then regime.
    pub async fn list(&self) -> Result<Vec<BanditState>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_BANDIT).fetch_all(pool).await?;
            rows.iter().map(bandit_from_row).collect()
        })
    }
}

// ---------------------------------------------------------------- config versions

const LATEST_CONFIG: &str = "SELECT id, scope, version, data, created_at, created_by \
    FROM config_versions WHERE scope = ? ORDER BY version DESC LIMIT 1";
const GET_CONFIG: &str = "SELECT id, scope, version, data, created_at, created_by \
    FROM config_versions WHERE scope = ? AND version = ?";
const LIST_CONFIG: &str = "SELECT id, scope, version, data, created_at, created_by \
    FROM config_versions WHERE scope = ? ORDER BY version";
const INSERT_CONFIG: &str = "INSERT INTO config_versions (scope, version, data, created_at, \
    created_by) VALUES (?, ?, ?, ?, ?)";
const LOCK_LATEST_CONFIG: Sql2 = Sql2 {
    sqlite: "SELECT id, scope, version, data, created_at, created_by FROM config_versions \
             WHERE scope = ? ORDER BY version DESC LIMIT 1",
    mysql: "SELECT id, scope, version, data, created_at, created_by FROM config_versions \
            WHERE scope = ? ORDER BY version DESC LIMIT 1 FOR UPDATE",
};

/// One version of an operator-tunable configuration scope (e.g. `risk`,
/// `strategy:3`). A trader reads its scopes once at start (FIX-12).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigVersion {
    /// Row id.
    pub id: i64,
    /// Scope.
    pub scope: String,
    /// 1, 2, …
    pub version: u32,
    /// The configuration (JSON object).
    pub data: Value,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
}

/// A new config version, validated before anything is written (errors name
/// `scope`, `actor` or `data`).
struct NewConfig<'a> {
    scope: &'a str,
    actor: &'a str,
    data: &'a Value,
    data_text: String,
    now: DateTime<Utc>,
}

impl<'a> NewConfig<'a> {
    fn validate(
        scope: &'a str,
        data: &'a Value,
        actor: &'a str,
        now: DateTime<Utc>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            scope: codec::name("scope", scope, 128)?,
            actor: codec::name("actor", actor, ACTOR_MAX)?,
            data_text: json_object("data", data)?,
            data,
            now: codec::truncate_to_millis(now),
        })
    }

    /// The row as stored under `id` with `version`.
    fn stored(&self, id: i64, version: u32) -> ConfigVersion {
        ConfigVersion {
            id,
            scope: self.scope.to_owned(),
            version,
            data: self.data.clone(),
            created_at: self.now,
            created_by: self.actor.to_owned(),
        }
    }
}

fn config_from_row<R: RowExt>(r: &R) -> Result<ConfigVersion, StorageError> {
    let c = Cols::new(r, "config_versions");
    Ok(ConfigVersion {
        id: c.i64("id")?,
        scope: c.text("scope")?,
        version: c.u32("version")?,
        data: c.json("data")?,
        created_at: c.ts("created_at")?,
        created_by: c.text("created_by")?,
    })
}

/// The config-version repository (new versions only; old ones stay).
#[derive(Debug, Clone, Copy)]
pub struct ConfigVersions<'a> {
    store: &'a Store,
}

impl<'a> ConfigVersions<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Stores the next version of `scope` and its config-audit row (old →
    /// new data) in one transaction. Two writers racing on one scope: one
    /// wins, the other gets a retryable `Conflict`.
    pub async fn append(
        &self,
        scope: &str,
        data: &Value,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<ConfigVersion, StorageError> {
        let c = NewConfig::validate(scope, data, actor, now)?;
        let (id, version) = on_pool!(self.store, |pool, d| {
            let mut tx = pool.begin_write().await?;
            let written = append_config_in_tx!(tx, d, c.scope, c.data_text, c.data, c.actor, c.now);
            tx.commit().await?;
            written
        });
        Ok(c.stored(id, version))
    }

    /// The newest version of `scope`.
    pub async fn latest(&self, scope: &str) -> Result<Option<ConfigVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(LATEST_CONFIG)
                .bind(scope)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(config_from_row).transpose()
        })
    }

    /// One version of `scope` (rollback reads an older one and appends it again).
    pub async fn get(
        &self,
        scope: &str,
        version: u32,
    ) -> Result<Option<ConfigVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_CONFIG)
                .bind(scope)
                .bind(i64::from(version))
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(config_from_row).transpose()
        })
    }

    /// Every version of `scope`, oldest first.
    pub async fn list(&self, scope: &str) -> Result<Vec<ConfigVersion>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_CONFIG).bind(scope).fetch_all(pool).await?;
            rows.iter().map(config_from_row).collect()
        })
    }
}
