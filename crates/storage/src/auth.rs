//! Admin users (argon2 PHC hashes, computed by the dashboard-api) and login
//! sessions. Session tokens are never stored: only their SHA-256, so a copy
//! of the database cannot be replayed as a login. Hashes and CSRF tokens
//! come back as redacted [`Secret`]s.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use domain::Secret;

use crate::{
    StorageError, Store,
    db::{
        BeginWrite, InsertedId,
        codec::{self, ms},
        count, on_pool,
        row::{Cols, RowExt},
    },
};

/// Longest username.
pub const USERNAME_MAX: usize = 64;
/// Shortest session token accepted (the API issues 32+ random bytes).
pub const TOKEN_MIN: usize = 16;

const INSERT_ADMIN: &str = "INSERT INTO admin_users (username, password_hash, created_at, updated_at) \
    VALUES (?, ?, ?, ?)";
const GET_ADMIN: &str = "SELECT id, username, password_hash, created_at, updated_at \
    FROM admin_users WHERE username = ?";
const COUNT_ADMINS: &str = "SELECT COUNT(*) AS n FROM admin_users";
const SET_PASSWORD: &str =
    "UPDATE admin_users SET password_hash = ?, updated_at = ? WHERE username = ?";
const INSERT_SESSION: &str = "INSERT INTO sessions \
    (token_hash, admin_user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)";
const GET_SESSION: &str = "SELECT s.id, s.admin_user_id, u.username, s.csrf_token, s.created_at, s.expires_at \
    FROM sessions s JOIN admin_users u ON u.id = s.admin_user_id \
    WHERE s.token_hash = ? AND s.expires_at > ?";
const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = ?";
const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE admin_user_id = ?";
const PURGE_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= ?";

/// An admin user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// argon2 PHC string (`$argon2id$…`), redacted in `Debug`.
    pub password_hash: Secret,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last password change.
    pub updated_at: DateTime<Utc>,
}

/// A live login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Id.
    pub id: i64,
    /// The admin it belongs to.
    pub admin_user_id: i64,
    /// The admin's username.
    pub username: String,
    /// The CSRF token paired with the session (redacted in `Debug`).
    pub csrf_token: Secret,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
}

fn admin_from_row<R: RowExt>(r: &R) -> Result<AdminUser, StorageError> {
    let c = Cols::new(r, "admin_users");
    Ok(AdminUser {
        id: c.i64("id")?,
        username: c.text("username")?,
        password_hash: Secret::new(c.text("password_hash")?),
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
    })
}

fn session_from_row<R: RowExt>(r: &R) -> Result<Session, StorageError> {
    let c = Cols::new(r, "sessions");
    Ok(Session {
        id: c.i64("id")?,
        admin_user_id: c.i64("admin_user_id")?,
        username: c.text("username")?,
        csrf_token: Secret::new(c.text("csrf_token")?),
        created_at: c.ts("created_at")?,
        expires_at: c.ts("expires_at")?,
    })
}

/// SHA-256 (hex) of a session token: what the `sessions` table stores.
fn token_hash(token: &Secret) -> String {
    hex::encode(Sha256::digest(token.expose().as_bytes()))
}

fn check_hash(hash: &Secret) -> Result<&str, StorageError> {
    let h = hash.expose();
    if !h.starts_with("$argon2") || h.len() > 255 {
        return Err(StorageError::invalid(
            "password_hash",
            "must be an argon2 PHC string of at most 255 characters",
        ));
    }
    Ok(h)
}

fn check_token<'s>(field: &str, token: &'s Secret, max: usize) -> Result<&'s str, StorageError> {
    let t = token.expose();
    if t.len() < TOKEN_MIN || t.len() > max || !t.is_ascii() {
        return Err(StorageError::invalid(
            field,
            format!("must be {TOKEN_MIN}-{max} ASCII characters"),
        ));
    }
    Ok(t)
}

/// The auth repository.
#[derive(Debug, Clone, Copy)]
pub struct Auth<'a> {
    store: &'a Store,
}

impl<'a> Auth<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Number of admin users (0 on first start: the API then creates one from
    /// `ADMIN_PASSWORD`).
    pub async fn admin_count(&self) -> Result<i64, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(COUNT_ADMINS).fetch_one(pool).await?;
            count(&row)
        })
    }

    /// Creates an admin user; `Conflict` on `username` if it exists.
    pub async fn create_admin(
        &self,
        username: &str,
        password_hash: &Secret,
        now: DateTime<Utc>,
    ) -> Result<AdminUser, StorageError> {
        let username = codec::name("username", username, USERNAME_MAX)?;
        let hash = check_hash(password_hash)?;
        let now = codec::truncate_to_millis(now);
        let id = on_pool!(self.store, |pool, _d| {
            sqlx::query(INSERT_ADMIN)
                .bind(username)
                .bind(hash)
                .bind(ms(now))
                .bind(ms(now))
                .execute(pool)
                .await
                .map_err(crate::error::on_unique(
                    "username",
                    format!("admin {username:?} already exists"),
                ))?
                .inserted_id()
        });
        Ok(AdminUser {
            id,
            username: username.to_owned(),
            password_hash: password_hash.clone(),
            created_at: now,
            updated_at: now,
        })
    }

    /// An admin user by username.
    pub async fn admin(&self, username: &str) -> Result<Option<AdminUser>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_ADMIN)
                .bind(username)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(admin_from_row).transpose()
        })
    }

    /// Replaces an admin's password hash and ends all of their sessions.
    pub async fn set_password(
        &self,
        username: &str,
        password_hash: &Secret,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let hash = check_hash(password_hash)?;
        let user = self
            .admin(username)
            .await?
            .ok_or_else(|| StorageError::not_found("admin user", username))?;
        on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(SET_PASSWORD)
                .bind(hash)
                .bind(ms(now))
                .bind(username)
                .execute(&mut *tx)
                .await?;
            sqlx::query(DELETE_USER_SESSIONS)
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Stores a session for `token` (only its hash is kept).
    pub async fn create_session(
        &self,
        admin_user_id: i64,
        token: &Secret,
        csrf_token: &Secret,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Session, StorageError> {
        check_token("token", token, 512)?;
        let csrf = check_token("csrf_token", csrf_token, 128)?;
        if expires_at <= now {
            return Err(StorageError::invalid("expires_at", "must be in the future"));
        }
        let now = codec::truncate_to_millis(now);
        let expires_at = codec::truncate_to_millis(expires_at);
        let hash = token_hash(token);
        let id = on_pool!(self.store, |pool, _d| {
            sqlx::query(INSERT_SESSION)
                .bind(hash.as_str())
                .bind(admin_user_id)
                .bind(csrf)
                .bind(ms(now))
                .bind(ms(expires_at))
                .execute(pool)
                .await
                .map_err(crate::error::on_foreign_key(
                    "admin_user_id",
                    format!("admin user {admin_user_id} does not exist"),
                ))?
                .inserted_id()
        });
        let username = on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_SESSION)
                .bind(hash.as_str())
                .bind(ms(now))
                .fetch_one(pool)
                .await?;
            session_from_row(&row)?.username
        });
        Ok(Session {
            id,
            admin_user_id,
            username,
            csrf_token: csrf_token.clone(),
            created_at: now,
            expires_at,
        })
    }

    /// The unexpired session for `token`, if any.
    pub async fn session(
        &self,
        token: &Secret,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StorageError> {
        let hash = token_hash(token);
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_SESSION)
                .bind(hash.as_str())
                .bind(ms(now))
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(session_from_row).transpose()
        })
    }

    /// Ends the session for `token` (logout). True when one existed.
    pub async fn delete_session(&self, token: &Secret) -> Result<bool, StorageError> {
        let hash = token_hash(token);
        let n = on_pool!(self.store, |pool, _d| {
            sqlx::query(DELETE_SESSION)
                .bind(hash.as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Deletes every expired session; returns how many.
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StorageError> {
        let n = on_pool!(self.store, |pool, _d| {
            sqlx::query(PURGE_SESSIONS)
                .bind(ms(now))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
