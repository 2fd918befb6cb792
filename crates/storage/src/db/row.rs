//! Row decoding over both backends. [`RowExt`] reads raw values from a
//! SQLite or MySQL row; [`Cols`] turns them into domain types and reports a
//! value that fails validation as [`StorageError::Corrupt`] naming the table
//! and column — never a panic.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use sqlx::{Row, mysql::MySqlRow, sqlite::SqliteRow};

use domain::{Krw, Price, ValidationError, Volume};

use super::codec::{from_ms, parse_money};
use crate::StorageError;

/// Raw, nullable reads of one column.
pub(crate) trait RowExt {
    fn opt_i64(&self, col: &str) -> Result<Option<i64>, sqlx::Error>;
    fn opt_f64(&self, col: &str) -> Result<Option<f64>, sqlx::Error>;
    fn opt_bool(&self, col: &str) -> Result<Option<bool>, sqlx::Error>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
    fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, sqlx::Error>;
    /// A money column as text (SQLite `TEXT`, MariaDB `DECIMAL`).
    fn opt_money_text(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
}

macro_rules! common_reads {
    () => {
        fn opt_i64(&self, col: &str) -> Result<Option<i64>, sqlx::Error> {
            self.try_get(col)
        }
        fn opt_f64(&self, col: &str) -> Result<Option<f64>, sqlx::Error> {
            self.try_get(col)
        }
        fn opt_bool(&self, col: &str) -> Result<Option<bool>, sqlx::Error> {
            self.try_get(col)
        }
        fn opt_bytes(&self, col: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
            self.try_get(col)
        }
    };
}

impl RowExt for SqliteRow {
    common_reads!();
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
        self.try_get(col)
    }
    fn opt_money_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
        self.try_get(col)
    }
}

impl RowExt for MySqlRow {
    common_reads!();
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
        // Columns under a `_bin` collation (every table here uses
        // `utf8mb4_bin` for exact, case-sensitive names) carry MySQL's BINARY
        // flag, and sqlx then types them VARBINARY and refuses `String`. Read
        // such a column as bytes and insist they are UTF-8.
        match self.try_get::<Option<String>, _>(col) {
            Err(sqlx::Error::ColumnDecode { .. }) => self
                .try_get::<Option<Vec<u8>>, _>(col)?
                .map(|bytes| {
                    String::from_utf8(bytes).map_err(|e| sqlx::Error::ColumnDecode {
                        index: col.to_owned(),
                        source: Box::new(e),
                    })
                })
                .transpose(),
            other => other,
        }
    }
    fn opt_money_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
        // DECIMAL travels as its exact decimal text in both MySQL protocols;
        // sqlx only refuses `String` for it by type-compatibility check.
        self.try_get_unchecked(col)
    }
}

/// Typed column reads from one row of `table`.
#[derive(Debug)]
pub(crate) struct Cols<'r, R> {
    row: &'r R,
    table: &'static str,
}

impl<'r, R: RowExt> Cols<'r, R> {
    pub(crate) fn new(row: &'r R, table: &'static str) -> Self {
        Self { row, table }
    }

    fn fail(&self, col: &str, message: impl Into<String>) -> StorageError {
        StorageError::corrupt(self.table, col, message)
    }

    fn opt<T>(
        &self,
        col: &str,
        v: Result<Option<T>, sqlx::Error>,
    ) -> Result<Option<T>, StorageError> {
        v.map_err(|e| self.fail(col, e.to_string()))
    }

    fn need<T>(&self, col: &str, v: Result<Option<T>, sqlx::Error>) -> Result<T, StorageError> {
        self.opt(col, v)?
            .ok_or_else(|| self.fail(col, "unexpected NULL"))
    }

    fn valid<T>(&self, col: &str, v: Result<T, ValidationError>) -> Result<T, StorageError> {
        v.map_err(|e| self.fail(col, e.message))
    }

    pub(crate) fn i64(&self, col: &str) -> Result<i64, StorageError> {
        self.need(col, self.row.opt_i64(col))
    }

    pub(crate) fn opt_i64(&self, col: &str) -> Result<Option<i64>, StorageError> {
        self.opt(col, self.row.opt_i64(col))
    }

    pub(crate) fn u32(&self, col: &str) -> Result<u32, StorageError> {
        let v = self.i64(col)?;
        u32::try_from(v).map_err(|_| self.fail(col, format!("out of range: {v}")))
    }

    pub(crate) fn u64(&self, col: &str) -> Result<u64, StorageError> {
        let v = self.i64(col)?;
        u64::try_from(v).map_err(|_| self.fail(col, format!("out of range: {v}")))
    }

    pub(crate) fn f64(&self, col: &str) -> Result<f64, StorageError> {
        self.need(col, self.row.opt_f64(col))
    }

    pub(crate) fn opt_f64(&self, col: &str) -> Result<Option<f64>, StorageError> {
        self.opt(col, self.row.opt_f64(col))
    }

    pub(crate) fn bool(&self, col: &str) -> Result<bool, StorageError> {
        self.need(col, self.row.opt_bool(col))
    }

    pub(crate) fn text(&self, col: &str) -> Result<String, StorageError> {
        self.need(col, self.row.opt_text(col))
    }

    pub(crate) fn opt_text(&self, col: &str) -> Result<Option<String>, StorageError> {
        self.opt(col, self.row.opt_text(col))
    }

    pub(crate) fn bytes(&self, col: &str) -> Result<Vec<u8>, StorageError> {
        self.need(col, self.row.opt_bytes(col))
    }

    /// A typed id (`TraderId::new`, …).
    pub(crate) fn id<T>(
        &self,
        col: &str,
        ctor: fn(i64) -> Result<T, ValidationError>,
    ) -> Result<T, StorageError> {
        let v = self.i64(col)?;
        self.valid(col, ctor(v))
    }

    /// An optional typed id.
    pub(crate) fn opt_id<T>(
        &self,
        col: &str,
        ctor: fn(i64) -> Result<T, ValidationError>,
    ) -> Result<Option<T>, StorageError> {
        self.opt_i64(col)?
            .map(|v| self.valid(col, ctor(v)))
            .transpose()
    }

    /// A value parsed from text (`Market::parse`, enum `parse`, …).
    pub(crate) fn parse<T>(
        &self,
        col: &str,
        parse: impl FnOnce(&str, &str) -> Result<T, ValidationError>,
    ) -> Result<T, StorageError> {
        let raw = self.text(col)?;
        self.valid(col, parse(col, &raw))
    }

    /// An optional value parsed from text.
    pub(crate) fn opt_parse<T>(
        &self,
        col: &str,
        parse: impl FnOnce(&str, &str) -> Result<T, ValidationError>,
    ) -> Result<Option<T>, StorageError> {
        self.opt_text(col)?
            .map(|raw| self.valid(col, parse(col, &raw)))
            .transpose()
    }

    pub(crate) fn ts(&self, col: &str) -> Result<DateTime<Utc>, StorageError> {
        let v = self.i64(col)?;
        from_ms(v).ok_or_else(|| self.fail(col, format!("timestamp out of range: {v}")))
    }

    pub(crate) fn opt_ts(&self, col: &str) -> Result<Option<DateTime<Utc>>, StorageError> {
        self.opt_i64(col)?
            .map(|v| {
                from_ms(v).ok_or_else(|| self.fail(col, format!("timestamp out of range: {v}")))
            })
            .transpose()
    }

    pub(crate) fn opt_decimal(&self, col: &str) -> Result<Option<Decimal>, StorageError> {
        self.opt(col, self.row.opt_money_text(col))?
            .map(|raw| parse_money(&raw).map_err(|m| self.fail(col, m)))
            .transpose()
    }

    pub(crate) fn decimal(&self, col: &str) -> Result<Decimal, StorageError> {
        self.opt_decimal(col)?
            .ok_or_else(|| self.fail(col, "unexpected NULL"))
    }

    pub(crate) fn krw(&self, col: &str) -> Result<Krw, StorageError> {
        self.decimal(col).map(Krw::from_decimal)
    }

    pub(crate) fn opt_krw(&self, col: &str) -> Result<Option<Krw>, StorageError> {
        Ok(self.opt_decimal(col)?.map(Krw::from_decimal))
    }

    pub(crate) fn price(&self, col: &str) -> Result<Price, StorageError> {
        let d = self.decimal(col)?;
        self.valid(col, Price::new(d))
    }

    pub(crate) fn opt_price(&self, col: &str) -> Result<Option<Price>, StorageError> {
        self.opt_decimal(col)?
            .map(|d| self.valid(col, Price::new(d)))
            .transpose()
    }

    pub(crate) fn volume(&self, col: &str) -> Result<Volume, StorageError> {
        let d = self.decimal(col)?;
        self.valid(col, Volume::new(d))
    }

    pub(crate) fn opt_volume(&self, col: &str) -> Result<Option<Volume>, StorageError> {
        self.opt_decimal(col)?
            .map(|d| self.valid(col, Volume::new(d)))
            .transpose()
    }

    /// A JSON column decoded into `T`.
    pub(crate) fn json<T: DeserializeOwned>(&self, col: &str) -> Result<T, StorageError> {
        let raw = self.text(col)?;
        serde_json::from_str(&raw).map_err(|e| self.fail(col, format!("invalid JSON: {e}")))
    }

    /// An optional JSON column.
    pub(crate) fn opt_json<T: DeserializeOwned>(
        &self,
        col: &str,
    ) -> Result<Option<T>, StorageError> {
        self.opt_text(col)?
            .map(|raw| {
                serde_json::from_str(&raw).map_err(|e| self.fail(col, format!("invalid JSON: {e}")))
            })
            .transpose()
    }
}
