//! Passwords and login tokens.
//!
//! Passwords: Argon2id (v19) with m = 19 MiB, t = 2, p = 1 (OWASP's minimum for
//! Argon2id), a 16-byte random salt per hash, stored as the PHC string. A login for an
//! unknown email, or an account without a password, still verifies against a dummy
//! hash, so its answer takes as long as a wrong password's.
//!
//! Tokens: 32 random bytes from the OS (256 bits), given once as hex, stored as their
//! SHA-256 (hex); valid for [`TOKEN_TTL`], deleted at logout, on a new password and
//! when the account is disabled. The hash found is compared in constant time.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::Utc;
use entity::prelude::*;
use entity::{account, account_token};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secret::Secret;

/// Argon2 memory cost, in KiB (19 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// Argon2 passes over the memory.
pub const ARGON2_ITERATIONS: u32 = 2;
/// Argon2 lanes.
pub const ARGON2_PARALLELISM: u32 = 1;
/// How long a login token is valid.
pub const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// Shortest and longest password, in characters.
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 128;

fn hasher() -> Argon2<'static> {
    let params = Params::new(
        ARGON2_MEMORY_KIB,
        ARGON2_ITERATIONS,
        ARGON2_PARALLELISM,
        Some(32),
    )
    .unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The rules a password must follow, said in full when one does not.
pub fn check_password(password: &Secret, email: &str) -> Result<(), String> {
    let p = password.expose();
    let n = p.chars().count();
    let rules = format!(
        "a password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long, not the email, \
         and not one character repeated"
    );
    if n < MIN_PASSWORD {
        return Err(format!(
            "the password is too short ({n} characters): {rules}"
        ));
    }
    if n > MAX_PASSWORD {
        return Err(format!(
            "the password is too long ({n} characters): {rules}"
        ));
    }
    if p.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(format!("the password is the email: {rules}"));
    }
    let mut chars = p.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(format!("the password repeats one character: {rules}"));
    }
    Ok(())
}

/// The Argon2id PHC string of `password` (CPU-bound: tens of milliseconds; async
/// callers run it on a blocking thread).
pub fn hash_password(password: &Secret) -> anyhow::Result<String> {
    hasher()
        .hash_password(password.expose().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Whether `password` matches `stored`; with no stored hash (unknown account, no
/// password set) a dummy hash is verified anyway and the answer is no.
pub fn verify_password(password: &Secret, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        hash_password(&Secret::new("dummy password for timing")).unwrap_or_default()
    });
    let (phc, real) = match stored {
        Some(s) if !s.is_empty() => (s, true),
        _ => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    // The hash's own parameters are used, so older hashes still verify.
    let ok = hasher()
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok();
    ok && real
}

/// Hex SHA-256 of a token: what `account_tokens` stores.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh token from the OS RNG, as hex.
pub fn new_token() -> anyhow::Result<Secret> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(Secret::new(hex::encode(bytes)))
}

/// A token given at login, with its expiry.
#[derive(Debug)]
pub struct Login {
    pub token: Secret,
    pub expires_at: Instant,
    pub account_id: i32,
}

/// Stores a new token for `account_id`, valid for `ttl`.
pub async fn issue_token(
    db: &impl ConnectionTrait,
    account_id: i32,
    ttl: Duration,
) -> anyhow::Result<Login> {
    let token = new_token()?;
    let now = Utc::now();
    let expires_at = Instant(now + chrono::Duration::from_std(ttl)?);
    account_token::ActiveModel {
        account_id: Set(account_id),
        token_hash: Set(token_hash(token.expose())),
        created_at: Set(Instant(now)),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Login {
        token,
        expires_at,
        account_id,
    })
}

/// The account a token belongs to, if the token is known, unexpired, and its account
/// is not disabled.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<account::Model>, DbErr> {
    let hash = token_hash(token);
    let Some(row) = AccountToken::find()
        .filter(account_token::Column::TokenHash.eq(&hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let same: bool = row.token_hash.as_bytes().ct_eq(hash.as_bytes()).into();
    if !same || row.expires_at.0 <= Utc::now() {
        return Ok(None);
    }
    let account = Account::find_by_id(row.account_id).one(db).await?;
    Ok(account.filter(|a| !a.disabled))
}

/// Deletes the token (logout); whether it existed.
pub async fn revoke(db: &impl ConnectionTrait, token: &str) -> Result<bool, DbErr> {
    Ok(AccountToken::delete_many()
        .filter(account_token::Column::TokenHash.eq(token_hash(token)))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Deletes the expired tokens (done at each login, so the table does not grow).
pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Ok(AccountToken::delete_many()
        .filter(account_token::Column::ExpiresAt.lte(Instant(Utc::now())))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_with_the_documented_parameters_and_verifies() {
        let pw = Secret::new("correct horse battery");
        let h = hash_password(&pw).expect("a hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify_password(&pw, Some(&h)));
        assert!(!verify_password(
            &Secret::new("correct horse batterx"),
            Some(&h)
        ));
        assert!(!verify_password(&pw, None));
        assert_ne!(h, hash_password(&pw).expect("a hash"), "salted");
    }

    #[test]
    fn an_unknown_account_costs_a_verification_like_a_wrong_password() {
        let h = hash_password(&Secret::new("correct horse battery")).expect("a hash");
        let wrong = Secret::new("wrong horse battery");
        verify_password(&wrong, None); // the dummy hash is made once
        let time = |stored: Option<&str>| {
            let start = std::time::Instant::now();
            for _ in 0..3 {
                assert!(!verify_password(&wrong, stored));
            }
            start.elapsed()
        };
        let (known, unknown) = (time(Some(&h)), time(None));
        assert!(
            unknown * 2 >= known,
            "an unknown email answers faster ({unknown:?}) than a wrong password ({known:?})"
        );
    }

    #[test]
    fn tokens_are_256_random_bits_stored_as_their_sha256() {
        let a = new_token().expect("a token");
        let b = new_token().expect("a token");
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(a.expose()).len(), 64);
        assert_ne!(token_hash(a.expose()), a.expose());
    }

    #[test]
    fn password_rules_are_stated_in_the_error() {
        let e = check_password(&Secret::new("short"), "a@b.fr").expect_err("short");
        assert!(e.contains("12 to 128 characters"), "{e}");
        assert!(check_password(&Secret::new("aaaaaaaaaaaaaa"), "a@b.fr").is_err());
        assert!(check_password(&Secret::new("Ana@Example.org"), "ana@example.org").is_err());
        assert!(check_password(&Secret::new("a fine long passphrase"), "a@b.fr").is_ok());
    }
}
