//! The action log (UI-2 TRADERS ACTION LOG, STAB-3 levels): append-only
//! events with an increasing id, so a live stream (SSE) resumes with
//! [`Events::list_after`] from the last id it delivered.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use domain::TraderId;

use crate::{
    StorageError, Store,
    db::{
        InsertedId,
        codec::{self, ms},
        on_pool,
        row::{Cols, RowExt},
        text_enum,
    },
};

text_enum!(
    /// Alert level (STAB-3).
    EventLevel, "level" {
        /// Informational.
        Info => "INFO",
        /// Something needs attention.
        Warn => "WARN",
        /// Trading is affected (kill switch, rollback, DB/API down).
        Critical => "CRITICAL",
    }
);

/// Longest event kind.
pub const KIND_MAX: usize = 64;
/// Longest event message.
pub const MESSAGE_MAX: usize = 4000;

const INSERT: &str =
    "INSERT INTO events (ts, trader_id, level, kind, message, data) VALUES (?, ?, ?, ?, ?, ?)";
const LIST_AFTER: &str = "SELECT id, ts, trader_id, level, kind, message, data FROM events \
    WHERE id > ? ORDER BY id LIMIT ?";
const LIST_AFTER_FOR: &str = "SELECT id, ts, trader_id, level, kind, message, data FROM events \
    WHERE trader_id = ? AND id > ? ORDER BY id LIMIT ?";
const LATEST: &str = "SELECT id, ts, trader_id, level, kind, message, data FROM events \
    ORDER BY id DESC LIMIT ?";

/// An event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// When it happened.
    pub ts: DateTime<Utc>,
    /// The trader it concerns (None: platform-wide).
    pub trader_id: Option<TraderId>,
    /// Level.
    pub level: EventLevel,
    /// Machine-readable kind, e.g. `ORDER_FILLED`, `KILL_SWITCH` (1–64 characters).
    pub kind: String,
    /// Human-readable text (at most 4000 characters).
    pub message: String,
    /// Structured details (any JSON; `null` when none).
    pub data: Value,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Increasing id (the SSE `id:`).
    pub id: i64,
    /// When it happened.
    pub ts: DateTime<Utc>,
    /// The trader it concerns.
    pub trader_id: Option<TraderId>,
    /// Level.
    pub level: EventLevel,
    /// Kind.
    pub kind: String,
    /// Text.
    pub message: String,
    /// Details.
    pub data: Value,
}

fn event_from_row<R: RowExt>(r: &R) -> Result<Event, StorageError> {
    let c = Cols::new(r, "events");
    Ok(Event {
        id: c.i64("id")?,
        ts: c.ts("ts")?,
        trader_id: c.opt_id("trader_id", TraderId::new)?,
        level: c.parse("level", EventLevel::parse)?,
        kind: c.text("kind")?,
        message: c.text("message")?,
        data: c.json("data")?,
    })
}

/// The events repository (append-only).
#[derive(Debug, Clone, Copy)]
pub struct Events<'a> {
    store: &'a Store,
}

impl<'a> Events<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Appends an event; returns its id.
    pub async fn append(&self, e: &NewEvent) -> Result<i64, StorageError> {
        let kind = codec::name("kind", &e.kind, KIND_MAX)?;
        let message = codec::text("message", &e.message, MESSAGE_MAX)?;
        let data = codec::json("data", &e.data)?;
        let trader = e.trader_id.map(TraderId::get);
        let id = on_pool!(self.store, |pool, _d| {
            sqlx::query(INSERT)
                .bind(ms(e.ts))
                .bind(trader)
                .bind(e.level.as_str())
                .bind(kind)
                .bind(message)
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

    /// Events with an id greater than `after_id`, oldest first (SSE resume;
    /// pass 0 for the beginning).
    pub async fn list_after(&self, after_id: i64, limit: u32) -> Result<Vec<Event>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_AFTER)
                .bind(after_id)
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(event_from_row).collect()
        })
    }

    /// One trader's events with an id greater than `after_id`, oldest first.
    pub async fn list_after_for(
        &self,
        trader: TraderId,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<Event>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST_AFTER_FOR)
                .bind(trader.get())
                .bind(after_id)
                .bind(codec::page(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(event_from_row).collect()
        })
    }

    /// One trader's newest `limit` events of the given kinds, newest first
    /// (e.g. when its kill switch last tripped). No kinds: nothing.
    pub async fn latest_of_kinds(
        &self,
        trader: TraderId,
        kinds: &[&str],
        limit: u32,
    ) -> Result<Vec<Event>, StorageError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; kinds.len()].join(", ");
        let sql = format!(
            "SELECT id, ts, trader_id, level, kind, message, data FROM events \
             WHERE trader_id = ? AND kind IN ({marks}) ORDER BY id DESC LIMIT ?"
        );
        on_pool!(self.store, |pool, _d| {
            let mut q = sqlx::query(&sql).bind(trader.get());
            for k in kinds {
                q = q.bind(*k);
            }
            let rows = q.bind(codec::page(limit)).fetch_all(pool).await?;
            rows.iter().map(event_from_row).collect()
        })
    }

    /// The newest `n` events, oldest first (the log's initial screen).
    pub async fn latest(&self, n: u32) -> Result<Vec<Event>, StorageError> {
        let mut out: Vec<Event> = on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LATEST)
                .bind(codec::page(n))
                .fetch_all(pool)
                .await?;
            rows.iter().map(event_from_row).collect::<Result<_, _>>()?
        });
        out.reverse();
        Ok(out)
    }
}
