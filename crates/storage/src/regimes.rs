//! Market regimes (REG-5): every Regime Engine output with its label,
//! confidence and the six REG-2 inputs, so the dashboard shows the current
//! regime and any decision can be replayed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use domain::RegimeLabel;

use crate::{
    StorageError, Store,
    db::{
        InsertedId,
        codec::{self, ms},
        on_pool,
        row::{Cols, RowExt},
    },
};

macro_rules! regime_cols {
    () => {
        "id, ts, label, regime_score, btc_adx_4h, btc_atr_pct_4h, breadth_up_1h, dispersion_1h, \
         top5_value_share_1h, whipsaw_5m, engine_version"
    };
}

const INSERT: &str = "INSERT INTO market_regimes (ts, label, regime_score, btc_adx_4h, \
    btc_atr_pct_4h, breadth_up_1h, dispersion_1h, top5_value_share_1h, whipsaw_5m, engine_version) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const LATEST: &str = concat!(
    "SELECT ",
    regime_cols!(),
    " FROM market_regimes ORDER BY ts DESC, id DESC LIMIT 1"
);
const RANGE: &str = concat!(
    "SELECT ",
    regime_cols!(),
    " FROM market_regimes WHERE ts >= ? AND ts < ? ORDER BY ts, id LIMIT ?"
);

/// The six inputs of REG-2.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegimeInputs {
    /// ADX(14) of KRW-BTC on 4 h candles.
    pub btc_adx_4h: f64,
    /// ATR % of KRW-BTC on 4 h candles.
    pub btc_atr_pct_4h: f64,
    /// Share of markets up over the last hour.
    pub breadth_up_1h: f64,
    /// Cross-sectional dispersion of 1 h returns.
    pub dispersion_1h: f64,
    /// Share of traded value in the top 5 markets over 1 h.
    pub top5_value_share_1h: f64,
    /// 5-minute whipsaw measure.
    pub whipsaw_5m: f64,
}

/// One Regime Engine output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegimeRecord {
    /// When it was computed (UTC, ms).
    pub ts: DateTime<Utc>,
    /// Label (REG-1).
    pub label: RegimeLabel,
    /// Confidence 0–100.
    pub regime_score: f64,
    /// The REG-2 inputs.
    pub inputs: RegimeInputs,
    /// Engine version (`1.0`, …).
    pub engine_version: String,
}

/// A stored regime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRegime {
    /// Row id.
    pub id: i64,
    /// The output.
    #[serde(flatten)]
    pub record: RegimeRecord,
}

fn regime_from_row<R: RowExt>(r: &R) -> Result<StoredRegime, StorageError> {
    let c = Cols::new(r, "market_regimes");
    Ok(StoredRegime {
        id: c.i64("id")?,
        record: RegimeRecord {
            ts: c.ts("ts")?,
            label: c.parse("label", RegimeLabel::parse)?,
            regime_score: c.f64("regime_score")?,
            inputs: RegimeInputs {
                btc_adx_4h: c.f64("btc_adx_4h")?,
                btc_atr_pct_4h: c.f64("btc_atr_pct_4h")?,
                breadth_up_1h: c.f64("breadth_up_1h")?,
                dispersion_1h: c.f64("dispersion_1h")?,
                top5_value_share_1h: c.f64("top5_value_share_1h")?,
                whipsaw_5m: c.f64("whipsaw_5m")?,
            },
            engine_version: c.text("engine_version")?,
        },
    })
}

/// The regimes repository.
#[derive(Debug, Clone, Copy)]
pub struct Regimes<'a> {
    store: &'a Store,
}

impl<'a> Regimes<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Stores one output. Every number must be finite and the score within
    /// 0–100 (the error names the field).
    pub async fn insert(&self, r: &RegimeRecord) -> Result<i64, StorageError> {
        let score = codec::finite("regime_score", r.regime_score)?;
        if !(0.0..=100.0).contains(&score) {
            return Err(StorageError::invalid(
                "regime_score",
                format!("must be within 0-100, got {score}"),
            ));
        }
        let i = &r.inputs;
        let inputs = [
            codec::finite("btc_adx_4h", i.btc_adx_4h)?,
            codec::finite("btc_atr_pct_4h", i.btc_atr_pct_4h)?,
            codec::finite("breadth_up_1h", i.breadth_up_1h)?,
            codec::finite("dispersion_1h", i.dispersion_1h)?,
            codec::finite("top5_value_share_1h", i.top5_value_share_1h)?,
            codec::finite("whipsaw_5m", i.whipsaw_5m)?,
        ];
        let version = codec::name("engine_version", &r.engine_version, 32)?;
        let id = on_pool!(self.store, |pool, _d| {
            let mut q = sqlx::query(INSERT)
                .bind(ms(r.ts))
                .bind(r.label.as_str())
                .bind(score);
            for v in inputs {
                q = q.bind(v);
            }
            q.bind(version).execute(pool).await?.inserted_id()
        });
        Ok(id)
    }

    /// The newest regime (the dashboard's CURRENT REGIME).
    pub async fn latest(&self) -> Result<Option<StoredRegime>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(LATEST).fetch_optional(pool).await?;
            row.as_ref().map(regime_from_row).transpose()
        })
    }

    /// Regimes with `from ≤ ts < to`, oldest first.
    pub async fn range(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<StoredRegime>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(RANGE)
                .bind(ms(from))
                .bind(ms(to))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(regime_from_row).collect()
        })
    }
}
