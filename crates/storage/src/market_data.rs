//! Market data: candles (one row per market, interval and open time —
//! writing the same candle again updates it, so a forming candle can be
//! re-sent and a replay is idempotent) and per-market collector health (ING-1).

use chrono::{DateTime, Duration, Utc};
use sqlx::QueryBuilder;

use domain::{Krw, Market, Price, ValidationError, Volume};

use crate::{
    StorageError, Store,
    db::{
        BeginWrite, Sql2,
        codec::{self, ms},
        count, on_pool,
        row::{Cols, RowExt},
        text_enum,
    },
};

text_enum!(
    /// Candle interval (Upbit minute units, day and week candles).
    CandleInterval, "interval" {
        /// 1 minute.
        M1 => "1m",
        /// 3 minutes.
        M3 => "3m",
        /// 5 minutes.
        M5 => "5m",
        /// 10 minutes.
        M10 => "10m",
        /// 15 minutes.
        M15 => "15m",
        /// 30 minutes.
        M30 => "30m",
        /// 1 hour (Upbit `minutes/60`).
        H1 => "1h",
        /// 4 hours (Upbit `minutes/240`).
        H4 => "4h",
        /// 1 day.
        D1 => "1d",
        /// 1 week.
        W1 => "1w",
    }
);

impl CandleInterval {
    /// The length of one candle.
    pub const fn duration(self) -> Duration {
        match self {
            Self::M1 => Duration::minutes(1),
            Self::M3 => Duration::minutes(3),
            Self::M5 => Duration::minutes(5),
            Self::M10 => Duration::minutes(10),
            Self::M15 => Duration::minutes(15),
            Self::M30 => Duration::minutes(30),
            Self::H1 => Duration::hours(1),
            Self::H4 => Duration::hours(4),
            Self::D1 => Duration::days(1),
            Self::W1 => Duration::weeks(1),
        }
    }
}

/// One OHLCV candle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candle {
    /// Market.
    pub market: Market,
    /// Interval.
    pub interval: CandleInterval,
    /// Open time (UTC, millisecond precision).
    pub ts: DateTime<Utc>,
    /// Open.
    pub open: Price,
    /// High.
    pub high: Price,
    /// Low.
    pub low: Price,
    /// Close.
    pub close: Price,
    /// Traded base volume (Upbit `candle_acc_trade_volume`).
    pub volume: Volume,
    /// Traded KRW value (Upbit `candle_acc_trade_price`); None when the
    /// source does not carry it.
    pub value: Option<Krw>,
}

impl Candle {
    /// Checks `low ≤ open, close ≤ high` and a non-negative value, naming
    /// `prefix.field` on error.
    pub fn validate(&self, prefix: &str) -> Result<(), ValidationError> {
        let field = |f: &str| format!("{prefix}.{f}");
        if self.low > self.high {
            return Err(ValidationError::new(field("low"), "must not exceed high"));
        }
        for (name, p) in [("open", self.open), ("close", self.close)] {
            if p < self.low || p > self.high {
                return Err(ValidationError::new(
                    field(name),
                    "must lie between low and high",
                ));
            }
        }
        if self.value.is_some_and(Krw::is_negative) {
            return Err(ValidationError::new(field("value"), "must not be negative"));
        }
        Ok(())
    }
}

const UPSERT_PREFIX: &str =
    "INSERT INTO candles (market, interval_code, ts, open, high, low, close, volume, value_krw) ";
const UPSERT_SUFFIX: Sql2 = Sql2 {
    sqlite: " ON CONFLICT (market, interval_code, ts) DO UPDATE SET open = excluded.open, \
              high = excluded.high, low = excluded.low, close = excluded.close, \
              volume = excluded.volume, value_krw = excluded.value_krw",
    mysql: " ON DUPLICATE KEY UPDATE open = VALUES(open), high = VALUES(high), low = VALUES(low), \
             close = VALUES(close), volume = VALUES(volume), value_krw = VALUES(value_krw)",
};
const RANGE: &str = "SELECT market, interval_code, ts, open, high, low, close, volume, value_krw \
    FROM candles WHERE market = ? AND interval_code = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?";
const LATEST: &str = "SELECT market, interval_code, ts, open, high, low, close, volume, value_krw \
    FROM candles WHERE market = ? AND interval_code = ? ORDER BY ts DESC LIMIT ?";
const LATEST_TS: &str = "SELECT MAX(ts) AS ts FROM candles WHERE market = ? AND interval_code = ?";
const RANGE_MANY_PREFIX: &str = "SELECT market, interval_code, ts, open, high, low, close, volume, \
    value_krw FROM candles WHERE market IN (";
const RANGE_MANY_SUFFIX: &str = ") AND interval_code = ";
const COUNT: &str = "SELECT COUNT(*) AS n FROM candles WHERE market = ? AND interval_code = ?";

const UPSERT_HEALTH: Sql2 = Sql2 {
    sqlite: "INSERT INTO collector_health (market, last_candle_ts, lag_ms, updated_at) \
             VALUES (?, ?, ?, ?) ON CONFLICT (market) DO UPDATE SET \
             last_candle_ts = excluded.last_candle_ts, lag_ms = excluded.lag_ms, \
             updated_at = excluded.updated_at",
    mysql: "INSERT INTO collector_health (market, last_candle_ts, lag_ms, updated_at) \
            VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE last_candle_ts = VALUES(last_candle_ts), \
            lag_ms = VALUES(lag_ms), updated_at = VALUES(updated_at)",
};
const UPSERT_HEALTH_SUFFIX: Sql2 = Sql2 {
    sqlite: " ON CONFLICT (market) DO UPDATE SET last_candle_ts = excluded.last_candle_ts, \
             lag_ms = excluded.lag_ms, updated_at = excluded.updated_at",
    mysql: " ON DUPLICATE KEY UPDATE last_candle_ts = VALUES(last_candle_ts), \
            lag_ms = VALUES(lag_ms), updated_at = VALUES(updated_at)",
};
const LIST_HEALTH: &str =
    "SELECT market, last_candle_ts, lag_ms, updated_at FROM collector_health ORDER BY market";
const GET_HEALTH: &str =
    "SELECT market, last_candle_ts, lag_ms, updated_at FROM collector_health WHERE market = ?";

/// Rows per `INSERT` statement (9 parameters each; SQLite allows 32 766).
pub const UPSERT_BATCH: usize = 1000;
/// Markets per statement of [`Candles::range_many`] (each one `?` of the
/// `IN` list); longer lists are split into several statements.
pub const RANGE_MANY_MARKETS: usize = 500;
/// Most candles one [`Candles::range_many`] call returns; a larger range is
/// refused (narrow it or page by time) rather than loaded into memory.
pub const RANGE_MANY_MAX_ROWS: usize = 500_000;
/// Rows per statement of [`CollectorHealthRepo::upsert_many`] (4 parameters each).
const HEALTH_BATCH: usize = 1000;
/// Attempts for a batch that hits a deadlock or a busy database.
const UPSERT_ATTEMPTS: u32 = 4;

/// A candle's parameters, validated and encoded once.
struct CandleParams {
    market: String,
    interval: &'static str,
    ts: i64,
    open: String,
    high: String,
    low: String,
    close: String,
    volume: String,
    value: Option<String>,
}

fn encode(i: usize, c: &Candle) -> Result<CandleParams, ValidationError> {
    let prefix = format!("candles[{i}]");
    c.validate(&prefix)?;
    let f = |name: &str| format!("{prefix}.{name}");
    Ok(CandleParams {
        market: c.market.as_str().to_owned(),
        interval: c.interval.as_str(),
        ts: ms(c.ts),
        open: codec::money(&f("open"), c.open.get())?,
        high: codec::money(&f("high"), c.high.get())?,
        low: codec::money(&f("low"), c.low.get())?,
        close: codec::money(&f("close"), c.close.get())?,
        volume: codec::money(&f("volume"), c.volume.get())?,
        value: codec::opt_money(&f("value"), c.value.map(Krw::get))?,
    })
}

fn candle_from_row<R: RowExt>(r: &R) -> Result<Candle, StorageError> {
    let c = Cols::new(r, "candles");
    Ok(Candle {
        market: c.parse("market", Market::parse)?,
        interval: c.parse("interval_code", CandleInterval::parse)?,
        ts: c.ts("ts")?,
        open: c.price("open")?,
        high: c.price("high")?,
        low: c.price("low")?,
        close: c.price("close")?,
        volume: c.volume("volume")?,
        value: c.opt_krw("value_krw")?,
    })
}

/// The candles repository.
#[derive(Debug, Clone, Copy)]
pub struct Candles<'a> {
    store: &'a Store,
}

impl<'a> Candles<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Inserts or updates candles in batches of [`UPSERT_BATCH`] inside one
    /// transaction: all are written or none. Every candle is validated
    /// first (an error names `candles[i].field`). Rows are written in key
    /// order, so concurrent writers lock in the same order; a deadlock or
    /// busy database is retried a few times. Returns the number of distinct
    /// candles written (the last of duplicates in the input wins).
    pub async fn upsert_many(&self, candles: &[Candle]) -> Result<u64, StorageError> {
        let mut params = candles
            .iter()
            .enumerate()
            .map(|(i, c)| encode(i, c))
            .collect::<Result<Vec<_>, _>>()?;
        // Stable sort keeps input order among equal keys; keep the last.
        params.sort_by(|a, b| (&a.market, a.interval, a.ts).cmp(&(&b.market, b.interval, b.ts)));
        let mut deduped: Vec<CandleParams> = Vec::with_capacity(params.len());
        for p in params {
            match deduped.last_mut() {
                Some(last)
                    if (&last.market, last.interval, last.ts) == (&p.market, p.interval, p.ts) =>
                {
                    *last = p;
                }
                _ => deduped.push(p),
            }
        }
        if deduped.is_empty() {
            return Ok(0);
        }
        let mut attempt = 1;
        loop {
            match self.write_batches(&deduped).await {
                Err(e) if e.is_retryable() && attempt < UPSERT_ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "candle upsert retried");
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt)))
                        .await;
                }
                Err(e) => return Err(e),
                Ok(()) => return Ok(deduped.len() as u64),
            }
        }
    }

    async fn write_batches(&self, rows: &[CandleParams]) -> Result<(), StorageError> {
        on_pool!(self.store, |pool, d| {
            let mut tx = pool.begin_write().await?;
            for chunk in rows.chunks(UPSERT_BATCH) {
                let mut qb = QueryBuilder::new(UPSERT_PREFIX);
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(p.market.as_str())
                        .push_bind(p.interval)
                        .push_bind(p.ts)
                        .push_bind(p.open.as_str())
                        .push_bind(p.high.as_str())
                        .push_bind(p.low.as_str())
                        .push_bind(p.close.as_str())
                        .push_bind(p.volume.as_str())
                        .push_bind(p.value.as_deref());
                });
                qb.push(d.pick(&UPSERT_SUFFIX));
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Candles with `from ≤ ts < to`, oldest first, at most `limit`.
    pub async fn range(
        &self,
        market: &Market,
        interval: CandleInterval,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Candle>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(RANGE)
                .bind(market.as_str())
                .bind(interval.as_str())
                .bind(ms(from))
                .bind(ms(to))
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(candle_from_row).collect()
        })
    }

    /// The newest `n` candles, oldest first (indicator warm-up).
    pub async fn latest(
        &self,
        market: &Market,
        interval: CandleInterval,
        n: u32,
    ) -> Result<Vec<Candle>, StorageError> {
        let mut out: Vec<Candle> = on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LATEST)
                .bind(market.as_str())
                .bind(interval.as_str())
                .bind(codec::page(n))
                .fetch_all(pool)
                .await?;
            rows.iter().map(candle_from_row).collect::<Result<_, _>>()?
        });
        out.reverse();
        Ok(out)
    }

    /// The candles of several markets with `from ≤ ts < to`, ordered by
    /// market then open time — one ordered index range per market over the
    /// primary key `(market, interval_code, ts)`, so the cost grows with the
    /// rows returned, not with the size of the table. This is the read for
    /// "recent candles of many markets" (traders' warm-up and per-minute
    /// refresh, the regime writer). Duplicate markets are read once.
    /// More than [`RANGE_MANY_MAX_ROWS`] candles is refused with
    /// [`StorageError::Invalid`] naming `from` (nothing is returned).
    pub async fn range_many(
        &self,
        markets: &[Market],
        interval: CandleInterval,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Candle>, StorageError> {
        let mut codes: Vec<&str> = markets.iter().map(Market::as_str).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut out: Vec<Candle> = Vec::new();
        if codes.is_empty() || from >= to {
            return Ok(out);
        }
        for chunk in codes.chunks(RANGE_MANY_MARKETS) {
            let room = RANGE_MANY_MAX_ROWS.saturating_sub(out.len());
            // One more than the room left, to tell "exactly full" from "too many".
            let limit = i64::try_from(room.saturating_add(1)).unwrap_or(i64::MAX);
            let rows: Vec<Candle> = on_pool!(self.store, |pool, _d| {
                let mut qb = QueryBuilder::new(RANGE_MANY_PREFIX);
                let mut list = qb.separated(", ");
                for code in chunk {
                    list.push_bind(*code);
                }
                qb.push(RANGE_MANY_SUFFIX)
                    .push_bind(interval.as_str())
                    .push(" AND ts >= ")
                    .push_bind(ms(from))
                    .push(" AND ts < ")
                    .push_bind(ms(to))
                    .push(" ORDER BY market, ts LIMIT ")
                    .push_bind(limit);
                let rows = qb.build().fetch_all(pool).await?;
                rows.iter().map(candle_from_row).collect::<Result<_, _>>()?
            });
            if rows.len() > room {
                return Err(StorageError::invalid(
                    "from",
                    format!(
                        "the range holds more than {RANGE_MANY_MAX_ROWS} candles; \
                         narrow it or read it in time slices"
                    ),
                ));
            }
            out.extend(rows);
        }
        Ok(out)
    }

    /// Open time of the newest stored candle (where a backfill resumes).
    pub async fn latest_ts(
        &self,
        market: &Market,
        interval: CandleInterval,
    ) -> Result<Option<DateTime<Utc>>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(LATEST_TS)
                .bind(market.as_str())
                .bind(interval.as_str())
                .fetch_one(pool)
                .await?;
            Cols::new(&row, "candles").opt_ts("ts")
        })
    }

    /// Number of stored candles of one market and interval.
    pub async fn count(
        &self,
        market: &Market,
        interval: CandleInterval,
    ) -> Result<i64, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(COUNT)
                .bind(market.as_str())
                .bind(interval.as_str())
                .fetch_one(pool)
                .await?;
            count(&row)
        })
    }
}

/// How fresh one market's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectorHealth {
    /// Market.
    pub market: Market,
    /// Open time of the newest candle collected, if any.
    pub last_candle_ts: Option<DateTime<Utc>>,
    /// How far behind real time the collector is, in milliseconds.
    pub lag_ms: i64,
    /// When this was measured.
    pub updated_at: DateTime<Utc>,
}

fn health_from_row<R: RowExt>(r: &R) -> Result<CollectorHealth, StorageError> {
    let c = Cols::new(r, "collector_health");
    Ok(CollectorHealth {
        market: c.parse("market", Market::parse)?,
        last_candle_ts: c.opt_ts("last_candle_ts")?,
        lag_ms: c.i64("lag_ms")?,
        updated_at: c.ts("updated_at")?,
    })
}

/// The collector-health repository (one row per market, overwritten).
#[derive(Debug, Clone, Copy)]
pub struct CollectorHealthRepo<'a> {
    store: &'a Store,
}

impl<'a> CollectorHealthRepo<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Records the current health of one market.
    pub async fn upsert(&self, h: &CollectorHealth) -> Result<(), StorageError> {
        if h.lag_ms < 0 {
            return Err(StorageError::invalid("lag_ms", "must not be negative"));
        }
        on_pool!(self.store, |pool, d| {
            sqlx::query(d.pick(&UPSERT_HEALTH))
                .bind(h.market.as_str())
                .bind(h.last_candle_ts.map(ms))
                .bind(h.lag_ms)
                .bind(ms(h.updated_at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Records the health of many markets at once (one transaction; the
    /// collector writes every market's row this way each few seconds).
    /// A negative `lag_ms` is refused naming `health[i].lag_ms`.
    pub async fn upsert_many(&self, rows: &[CollectorHealth]) -> Result<(), StorageError> {
        for (i, h) in rows.iter().enumerate() {
            if h.lag_ms < 0 {
                return Err(StorageError::invalid(
                    &format!("health[{i}].lag_ms"),
                    "must not be negative",
                ));
            }
        }
        // Key order: concurrent writers lock rows in the same order.
        // A market measured twice in one batch keeps its last measurement,
        // as candles do (the sort is stable).
        let mut by_market: Vec<&CollectorHealth> = rows.iter().collect();
        by_market.sort_by(|a, b| a.market.cmp(&b.market));
        let mut sorted: Vec<&CollectorHealth> = Vec::with_capacity(by_market.len());
        for h in by_market {
            match sorted.last_mut() {
                Some(last) if last.market == h.market => *last = h,
                _ => sorted.push(h),
            }
        }
        if sorted.is_empty() {
            return Ok(());
        }
        on_pool!(self.store, |pool, d| {
            let mut tx = pool.begin_write().await?;
            for chunk in sorted.chunks(HEALTH_BATCH) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO collector_health (market, last_candle_ts, lag_ms, updated_at) ",
                );
                qb.push_values(chunk, |mut b, h| {
                    b.push_bind(h.market.as_str())
                        .push_bind(h.last_candle_ts.map(ms))
                        .push_bind(h.lag_ms)
                        .push_bind(ms(h.updated_at));
                });
                qb.push(d.pick(&UPSERT_HEALTH_SUFFIX));
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every market's health, by market.
    pub async fn list(&self) -> Result<Vec<CollectorHealth>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_HEALTH).fetch_all(pool).await?;
            rows.iter().map(health_from_row).collect()
        })
    }

    /// One market's health.
    pub async fn get(&self, market: &Market) -> Result<Option<CollectorHealth>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_HEALTH)
                .bind(market.as_str())
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(health_from_row).transpose()
        })
    }
}
