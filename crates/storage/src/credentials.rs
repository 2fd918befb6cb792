//! Upbit credentials (UI-7): name, access key, and the secret key sealed
//! with AES-256-GCM under the master key (SPEC §17). Listings show only a
//! masked access key; the secret is only ever returned as a redacted
//! [`domain::Secret`] by [`Credentials::decrypt`].

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::json;

use domain::{CredentialId, Secret, secret::mask_key};

use crate::{
    StorageError, Store,
    audit::{ACTOR_MAX, AuditRow, insert_config_audit},
    db::{
        BeginWrite, InsertedId,
        codec::{self, ms},
        count, on_pool,
        row::{Cols, RowExt},
    },
    secrets::{MasterKey, NONCE_LEN, Sealed},
};

/// Longest credential name.
pub const NAME_MAX: usize = 128;
/// Longest access key.
pub const ACCESS_KEY_MAX: usize = 128;
/// Longest secret key.
pub const SECRET_MAX: usize = 256;

const INSERT: &str = "INSERT INTO credentials \
    (name, access_key, secret_nonce, secret_ciphertext, created_at) VALUES (?, ?, ?, ?, ?)";
const LIST: &str = "SELECT id, name, access_key, created_at FROM credentials ORDER BY id";
const GET: &str = "SELECT id, name, access_key, created_at FROM credentials WHERE id = ?";
const GET_SEALED: &str = "SELECT id, name, access_key, secret_nonce, secret_ciphertext, created_at \
    FROM credentials WHERE id = ?";
const IN_USE: &str =
    "SELECT COUNT(*) AS n FROM traders WHERE credential_id = ? AND removed_at IS NULL";
const DETACH_REMOVED: &str =
    "UPDATE traders SET credential_id = NULL WHERE credential_id = ? AND removed_at IS NOT NULL";
const DELETE: &str = "DELETE FROM credentials WHERE id = ?";

/// A credential to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// Unique display name.
    pub name: String,
    /// Upbit access key.
    pub access_key: String,
    /// Upbit secret key (sealed before it is stored).
    pub secret: Secret,
}

/// A credential as listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSummary {
    /// Id.
    pub id: CredentialId,
    /// Name.
    pub name: String,
    /// The access key masked by `domain::secret::mask_key` (`AbCd…`).
    pub access_key_masked: String,
    /// Added.
    pub created_at: DateTime<Utc>,
}

/// A decrypted credential, for the trader that signs Upbit requests.
#[derive(Clone, PartialEq, Eq)]
pub struct DecryptedCredential {
    /// Id.
    pub id: CredentialId,
    /// Name.
    pub name: String,
    /// Upbit access key.
    pub access_key: String,
    /// Upbit secret key (redacted in `Debug`).
    pub secret: Secret,
    /// Added.
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for DecryptedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedCredential")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("access_key", &mask_key(&self.access_key))
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

/// Associated data binding a ciphertext to its access key: a sealed secret
/// copied onto another credential row does not decrypt.
fn aad(access_key: &str) -> Vec<u8> {
    format!("upbit-credential:{access_key}").into_bytes()
}

fn summary_from_row<R: RowExt>(r: &R) -> Result<CredentialSummary, StorageError> {
    let c = Cols::new(r, "credentials");
    Ok(CredentialSummary {
        id: c.id("id", CredentialId::new)?,
        name: c.text("name")?,
        access_key_masked: mask_key(&c.text("access_key")?),
        created_at: c.ts("created_at")?,
    })
}

fn check_access_key(raw: &str) -> Result<&str, StorageError> {
    let key = codec::name("access_key", raw, ACCESS_KEY_MAX)?;
    if key.chars().any(char::is_whitespace) {
        return Err(StorageError::invalid(
            "access_key",
            "must not contain whitespace",
        ));
    }
    Ok(key)
}

/// The credentials repository.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    store: &'a Store,
}

impl<'a> Credentials<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self { store }
    }

    /// Seals the secret and stores the credential with an audit row (which
    /// holds only the name and the masked access key).
    pub async fn create(
        &self,
        new: &NewCredential,
        key: &MasterKey,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CredentialSummary, StorageError> {
        let name = codec::name("name", &new.name, NAME_MAX)?;
        let access_key = check_access_key(&new.access_key)?;
        let secret = new.secret.expose();
        if secret.is_empty() || secret.chars().count() > SECRET_MAX {
            return Err(StorageError::invalid(
                "secret",
                format!("must be 1-{SECRET_MAX} characters"),
            ));
        }
        let sealed = key.seal(secret.as_bytes(), &aad(access_key))?;
        let now = codec::truncate_to_millis(now);
        let masked = mask_key(access_key);
        let id = on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let res = sqlx::query(INSERT)
                .bind(name)
                .bind(access_key)
                .bind(sealed.nonce.to_vec())
                .bind(sealed.ciphertext.as_slice())
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(crate::error::on_unique(
                    "name",
                    format!("a credential named {name:?} already exists"),
                ))?;
            let id = CredentialId::new(res.inserted_id())?;
            let value = json!({"name": name, "access_key": masked});
            let audit = AuditRow::new(
                actor,
                "credential",
                &id.to_string(),
                None,
                Some(&value),
                now,
            )?;
            insert_config_audit!(&mut *tx, audit)?;
            tx.commit().await?;
            id
        });
        Ok(CredentialSummary {
            id,
            name: name.to_owned(),
            access_key_masked: masked,
            created_at: now,
        })
    }

    /// Every credential, masked, by id.
    pub async fn list(&self) -> Result<Vec<CredentialSummary>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let rows = sqlx::query(LIST).fetch_all(pool).await?;
            rows.iter().map(summary_from_row).collect()
        })
    }

    /// One credential, masked.
    pub async fn get(&self, id: CredentialId) -> Result<Option<CredentialSummary>, StorageError> {
        on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET).bind(id.get()).fetch_optional(pool).await?;
            row.as_ref().map(summary_from_row).transpose()
        })
    }

    /// Decrypts a credential. A wrong master key or altered row fails with
    /// `StorageError::Secret(SecretError::Decrypt)`, never garbage.
    pub async fn decrypt(
        &self,
        id: CredentialId,
        key: &MasterKey,
    ) -> Result<DecryptedCredential, StorageError> {
        let (name, access_key, sealed, created_at) = on_pool!(self.store, |pool, _d| {
            let row = sqlx::query(GET_SEALED)
                .bind(id.get())
                .fetch_optional(pool)
                .await?
                .ok_or_else(|| StorageError::not_found("credential", id))?;
            let c = Cols::new(&row, "credentials");
            let nonce = c.bytes("secret_nonce")?;
            let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|n: Vec<u8>| {
                StorageError::corrupt(
                    "credentials",
                    "secret_nonce",
                    format!("expected {NONCE_LEN} bytes, got {}", n.len()),
                )
            })?;
            (
                c.text("name")?,
                c.text("access_key")?,
                Sealed {
                    nonce,
                    ciphertext: c.bytes("secret_ciphertext")?,
                },
                c.ts("created_at")?,
            )
        });
        let secret = key.open(&sealed, &aad(&access_key))?;
        Ok(DecryptedCredential {
            id,
            name,
            access_key,
            secret,
            created_at,
        })
    }

    /// Deletes a credential and its sealed secret (UI-7 DELETE), with an
    /// audit row. Refused with a `Conflict` while a trader that is not
    /// removed uses it; removed traders are detached from it first.
    pub async fn delete(
        &self,
        id: CredentialId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let actor = codec::name("actor", actor, ACTOR_MAX)?;
        let existing = self
            .get(id)
            .await?
            .ok_or_else(|| StorageError::not_found("credential", id))?;
        let old = json!({"name": existing.name, "access_key": existing.access_key_masked});
        let audit = AuditRow::new(actor, "credential", &id.to_string(), Some(&old), None, now)?;
        on_pool!(self.store, |pool, _d| {
            let mut tx = pool.begin_write().await?;
            let row = sqlx::query(IN_USE)
                .bind(id.get())
                .fetch_one(&mut *tx)
                .await?;
            let users = count(&row)?;
            if users > 0 {
                return Err(StorageError::Conflict {
                    field: "credential_id",
                    message: format!("credential {id} is used by {users} trader(s)"),
                    retryable: false,
                });
            }
            sqlx::query(DETACH_REMOVED)
                .bind(id.get())
                .execute(&mut *tx)
                .await?;
            let res = sqlx::query(DELETE).bind(id.get()).execute(&mut *tx).await?;
            if res.rows_affected() != 1 {
                return Err(StorageError::not_found("credential", id));
            }
            insert_config_audit!(&mut *tx, audit)?;
            tx.commit().await?;
        });
        Ok(())
    }
}
