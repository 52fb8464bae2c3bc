//! The API key store: encrypted keys in `api_keys`, exactly one active, env fallback.
//!
//! Invariant: a plaintext key exists only in memory, inside a [`Secret`]; it is written
//! to the database only as Fernet ciphertext and never appears in an error message.

use chrono::Utc;
use entity::api_key;
use entity::prelude::ApiKey;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::crypto::{Cipher, CryptoError};
use crate::db::{begin_write, is_unique_violation};
use crate::secret::Secret;

/// The variable holding the fallback key when no key is stored and active.
pub const FALLBACK_KEY_VAR: &str = "B2B_API_KEY";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(
        "API key {id} \"{name}\" cannot be decrypted with INVENTORY_ENCRYPTION_KEY: it was \
         encrypted with another key (set the key it was stored with, or remove it and add it again)"
    )]
    WrongEncryptionKey { id: i32, name: String },
    #[error("no API key with id {0} (see `sagasync keys list`)")]
    NotFound(i32),
    #[error(
        "no active API key: add one with `sagasync keys add --name NAME --activate`, \
         or set {FALLBACK_KEY_VAR}"
    )]
    NoActiveKey,
    #[error("the API key is empty")]
    EmptyKey,
    #[error("the key name is empty")]
    EmptyName,
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// A key as `keys list` shows it: masked, never in clear.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyView {
    pub id: i32,
    pub name: String,
    pub active: bool,
    pub masked: String,
    pub created_at: chrono::DateTime<Utc>,
    pub last_used_at: Option<chrono::DateTime<Utc>>,
}

/// The key a client sends, and where it came from.
#[derive(Debug, Clone)]
pub struct ActiveKey {
    /// The stored key's id; `None` for the environment fallback.
    pub id: Option<i32>,
    pub name: String,
    pub secret: Secret,
}

impl ActiveKey {
    /// How messages name this key: `key 3 "Clé principale"` or `key B2B_API_KEY`.
    pub fn label(&self) -> String {
        match self.id {
            Some(id) => format!("key {id} \"{}\"", self.name),
            None => format!("key {}", self.name),
        }
    }
}

impl From<&ActiveKey> for crate::b2b::Credential {
    fn from(key: &ActiveKey) -> Self {
        crate::b2b::Credential {
            label: key.label(),
            name: key.name.clone(),
            stored_id: key.id,
            secret: key.secret.clone(),
        }
    }
}

impl From<ActiveKey> for crate::b2b::Credential {
    fn from(key: ActiveKey) -> Self {
        Self::from(&key)
    }
}

/// Shows at most the first 4 and the last 4 characters, and never more than half of
/// the key: `b2c_…9876`.
pub fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let side = (chars.len() / 4).min(4);
    let prefix: String = chars[..side].iter().collect();
    let suffix: String = chars[chars.len() - side..].iter().collect();
    format!("{prefix}…{suffix}")
}

fn decrypt(cipher: &Cipher, key: &api_key::Model) -> Result<Secret, KeyError> {
    cipher
        .decrypt(&key.key_encrypted)
        .map_err(|_| KeyError::WrongEncryptionKey {
            id: key.id,
            name: key.name.clone(),
        })
}

/// The stored key `id`, or [`KeyError::NotFound`].
pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<api_key::Model, KeyError> {
    ApiKey::find_by_id(id)
        .one(db)
        .await?
        .ok_or(KeyError::NotFound(id))
}

/// Makes `id` the only active key, inside the caller's write transaction. Other
/// writers are held off first (row locks; SQLite's IMMEDIATE transaction), and the
/// others are switched off before this one is switched on, so the unique index that
/// allows a single active row never sees two.
async fn make_only_active(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    ApiKey::find()
        .select_only()
        .column(api_key::Column::Id)
        .lock_exclusive()
        .into_tuple::<i32>()
        .all(db)
        .await?;
    ApiKey::update_many()
        .col_expr(api_key::Column::IsActive, false.into())
        .filter(api_key::Column::IsActive.eq(true))
        .filter(api_key::Column::Id.ne(id))
        .exec(db)
        .await?;
    ApiKey::update_many()
        .col_expr(api_key::Column::IsActive, true.into())
        .filter(api_key::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores a new key, encrypted; with `activate`, it becomes the only active one.
pub async fn add(
    db: &DatabaseConnection,
    cipher: &Cipher,
    name: &str,
    key: &Secret,
    activate: bool,
) -> Result<api_key::Model, KeyError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(KeyError::EmptyName);
    }
    if key.expose().trim().is_empty() {
        return Err(KeyError::EmptyKey);
    }
    let txn = begin_write(db).await?;
    let row = api_key::ActiveModel {
        name: Set(name.to_owned()),
        key_encrypted: Set(cipher.encrypt(&Secret::new(key.expose().trim()))),
        is_active: Set(false),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if activate {
        make_only_active(&txn, row.id).await?;
    }
    txn.commit().await?;
    get(db, row.id).await
}

/// Every stored key, newest first, masked. Without a cipher, or with the wrong one,
/// the mask says so instead of failing the whole listing.
pub async fn list(
    db: &DatabaseConnection,
    cipher: Option<&Cipher>,
) -> Result<Vec<KeyView>, KeyError> {
    let rows = ApiKey::find()
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|k| {
            let masked = match cipher.map(|c| c.decrypt(&k.key_encrypted)) {
                Some(Ok(plain)) => mask(plain.expose()),
                Some(Err(_)) => "(undecryptable with this encryption key)".to_owned(),
                None => "(encryption key not set)".to_owned(),
            };
            KeyView {
                id: k.id,
                name: k.name,
                active: k.is_active,
                masked,
                created_at: k.created_at,
                last_used_at: k.last_used_at,
            }
        })
        .collect())
}

/// Makes `id` the only active key. Concurrent activations serialize: the last to
/// commit wins, and at no moment are two keys active.
pub async fn activate(db: &DatabaseConnection, id: i32) -> Result<api_key::Model, KeyError> {
    // A writer that raced past the lock meets the unique index instead; one more try
    // then sees its commit and switches it off.
    let mut retries_left = 2;
    loop {
        let txn = begin_write(db).await?;
        get(&txn, id).await?;
        match make_only_active(&txn, id).await {
            Ok(()) => {
                txn.commit().await?;
                return get(db, id).await;
            }
            Err(e) if is_unique_violation(&e) && retries_left > 0 => {
                retries_left -= 1;
                txn.rollback().await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Switches `id` off; no key is active afterwards unless another was.
pub async fn deactivate(db: &DatabaseConnection, id: i32) -> Result<api_key::Model, KeyError> {
    let txn = begin_write(db).await?;
    let key = get(&txn, id).await?;
    let mut row: api_key::ActiveModel = key.into();
    row.is_active = Set(false);
    let key = row.update(&txn).await?;
    txn.commit().await?;
    Ok(key)
}

/// Deletes `id` and returns what it was.
pub async fn remove(db: &DatabaseConnection, id: i32) -> Result<api_key::Model, KeyError> {
    let txn = begin_write(db).await?;
    let key = get(&txn, id).await?;
    ApiKey::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(key)
}

/// Re-encrypts every stored key from `old` to `new`, all or nothing: one key that
/// `old` cannot decrypt aborts the whole rotation with nothing changed.
pub async fn rotate_encryption(
    db: &DatabaseConnection,
    old: &Cipher,
    new: &Cipher,
) -> Result<usize, KeyError> {
    let txn = begin_write(db).await?;
    let rows = ApiKey::find().lock_exclusive().all(&txn).await?;
    let count = rows.len();
    for key in rows {
        let plain = decrypt(old, &key)?;
        let mut row: api_key::ActiveModel = key.into();
        row.key_encrypted = Set(new.encrypt(&plain));
        row.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(count)
}

/// The key to send upstream: the newest active stored key, else the environment
/// fallback, else an error saying how to add one.
pub async fn resolve_active(
    db: &DatabaseConnection,
    cipher: Result<&Cipher, &CryptoError>,
    fallback: Option<&Secret>,
) -> Result<ActiveKey, KeyError> {
    let stored = ApiKey::find()
        .filter(api_key::Column::IsActive.eq(true))
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .one(db)
        .await?;
    if let Some(key) = stored {
        let cipher = cipher.map_err(|e| KeyError::Crypto(e.clone()))?;
        let secret = decrypt(cipher, &key)?;
        return Ok(ActiveKey {
            id: Some(key.id),
            name: key.name,
            secret,
        });
    }
    match fallback.filter(|s| !s.expose().trim().is_empty()) {
        Some(secret) => Ok(ActiveKey {
            id: None,
            name: FALLBACK_KEY_VAR.to_owned(),
            secret: Secret::new(secret.expose().trim()),
        }),
        None => Err(KeyError::NoActiveKey),
    }
}

/// What an encryption key makes of the stored keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyAudit {
    /// Keys stored.
    pub stored: usize,
    /// The keys (id, name) the cipher cannot decrypt, oldest first; all of them when
    /// there is no cipher.
    pub undecryptable: Vec<(i32, String)>,
}

/// Tries `cipher` on every stored key (none is kept in clear): which it cannot decrypt.
pub async fn audit(db: &DatabaseConnection, cipher: Option<&Cipher>) -> Result<KeyAudit, DbErr> {
    let rows = ApiKey::find()
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await?;
    let undecryptable = rows
        .iter()
        .filter(|k| cipher.is_none_or(|c| c.decrypt(&k.key_encrypted).is_err()))
        .map(|k| (k.id, k.name.clone()))
        .collect();
    Ok(KeyAudit {
        stored: rows.len(),
        undecryptable,
    })
}

/// Records that the stored key `id` was just used for a request.
pub async fn mark_used(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    ApiKey::update_many()
        .col_expr(api_key::Column::LastUsedAt, Utc::now().into())
        .filter(api_key::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str, expected: &str) {
        assert_eq!(mask(key), expected, "key {key:?}");
    }

    #[test]
    fn masks_show_little_of_the_key() {
        check("b2c_1_demoKey42", "b2c…y42");
        check("b2c_1_abcdefghijklmnopqrstuvwxyz", "b2c_…wxyz");
        check("short", "s…t");
        check("ab", "…");
        check("", "…");
    }
}
