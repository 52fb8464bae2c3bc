//! Fernet encryption of stored API keys, compatible with the original Django app.
//!
//! Stored form: standard base64 of the Fernet token (what the original stores); a bare
//! Fernet token is also read. The encryption key is used as given, after removing what
//! a copy and paste tends to add (spaces, quotes, a Python `b'...'` wrapper).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fernet::Fernet;

use crate::secret::Secret;

/// How to make a key, for every message that asks for one.
pub const GENERATE_HINT: &str = "make one with `sagasync keys generate-encryption-key`";

#[derive(Debug, Clone, thiserror::Error)]
pub enum CryptoError {
    #[error("{0} is not set: {GENERATE_HINT} and set it in the environment or in .env")]
    MissingKey(&'static str),
    #[error("{0} is not a valid Fernet key (url-safe base64 of 32 bytes): {GENERATE_HINT}")]
    MalformedKey(&'static str),
    #[error("the value cannot be decrypted with this encryption key")]
    Undecryptable,
    #[error("the decrypted value is not UTF-8 text")]
    NotText,
}

/// A Fernet cipher built from a validated encryption key.
#[derive(Clone)]
pub struct Cipher {
    fernet: Fernet,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(***)")
    }
}

/// Removes surrounding spaces, quotes and a `b'...'` wrapper from a pasted key.
pub fn normalize_key(raw: &str) -> &str {
    let mut s = raw.trim();
    for _ in 0..2 {
        if let Some(inner) = s
            .strip_prefix("b'")
            .and_then(|r| r.strip_suffix('\''))
            .or_else(|| s.strip_prefix("b\"").and_then(|r| r.strip_suffix('"')))
            .or_else(|| s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')))
            .or_else(|| s.strip_prefix('"').and_then(|r| r.strip_suffix('"')))
        {
            s = inner.trim();
        }
    }
    s
}

impl Cipher {
    /// Builds a cipher from the key named `var` (for messages); `None` when it is unset.
    pub fn from_env_value(var: &'static str, raw: Option<&Secret>) -> Result<Self, CryptoError> {
        let raw = raw.filter(|s| !s.expose().trim().is_empty());
        let raw = raw.ok_or(CryptoError::MissingKey(var))?;
        Cipher::new(raw.expose()).ok_or(CryptoError::MalformedKey(var))
    }

    /// A cipher from a key in any of the accepted spellings, or `None` when malformed.
    pub fn new(raw: &str) -> Option<Self> {
        let key = normalize_key(raw);
        Fernet::new(key)
            .or_else(|| Fernet::new(&key.replace('+', "-").replace('/', "_")))
            .map(|fernet| Cipher { fernet })
    }

    /// A fresh random key, url-safe base64 of 32 bytes.
    pub fn generate_key() -> String {
        Fernet::generate_key()
    }

    /// Encrypts `plain` into the stored form: standard base64 of a Fernet token.
    pub fn encrypt(&self, plain: &Secret) -> String {
        let token = self.fernet.encrypt(plain.expose().as_bytes());
        STANDARD.encode(token.as_bytes())
    }

    /// Decrypts a stored value: base64 of a token, or a bare token.
    pub fn decrypt(&self, stored: &str) -> Result<Secret, CryptoError> {
        let stored = stored.trim();
        let token = STANDARD
            .decode(stored)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .filter(|t| t.starts_with("gAAAA"))
            .unwrap_or_else(|| stored.to_owned());
        let plain = self
            .fernet
            .decrypt(&token)
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| CryptoError::NotText)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "Xx6WqvUTrYSSVsYBjzHqB1A2KUUhC0FPEdfCGxjlBeY=";
    const STORED: &str = "Z0FBQUFBQnBJWFBBQVFFQkFRRUJBUUVCQVFFQkFRRUJBWGtKdGFrem9lUkNDRmhURHByUXY3STFmbWpZaEY3aUF4OGxMZ2I0RUo0RmdnN3cwb21rWXhLejZBM2k4SVE3Z1E9PQ==";

    fn check_normalize(input: &str, expected: &str) {
        assert_eq!(normalize_key(input), expected, "input: {input:?}");
    }

    #[test]
    fn pasted_keys_are_normalized() {
        check_normalize(KEY, KEY);
        check_normalize(&format!("  {KEY}\n"), KEY);
        check_normalize(&format!("\"{KEY}\""), KEY);
        check_normalize(&format!("'{KEY}'"), KEY);
        check_normalize(&format!("b'{KEY}'"), KEY);
        check_normalize(&format!(" \"b'{KEY}'\" "), KEY);
    }

    #[test]
    fn the_original_apps_stored_value_decrypts() {
        let cipher = Cipher::new(KEY).expect("valid key");
        let plain = cipher.decrypt(STORED).expect("decrypts");
        assert_eq!(plain.expose(), "b2c_1_demoKey42");
    }

    #[test]
    fn a_bare_token_is_read_too() {
        let cipher = Cipher::new(KEY).expect("valid key");
        let token = String::from_utf8(STANDARD.decode(STORED).expect("b64")).expect("utf8");
        assert_eq!(
            cipher.decrypt(&token).expect("decrypts").expose(),
            "b2c_1_demoKey42"
        );
    }

    #[test]
    fn encrypt_then_decrypt_round_trips_in_the_stored_form() {
        let cipher = Cipher::new(&Cipher::generate_key()).expect("valid key");
        let stored = cipher.encrypt(&Secret::new("b2c_9_abc"));
        assert!(!stored.contains("b2c_9_abc"));
        assert!(
            STANDARD.decode(&stored).is_ok(),
            "stored form is standard base64"
        );
        assert_eq!(
            cipher.decrypt(&stored).expect("decrypts").expose(),
            "b2c_9_abc"
        );
    }

    #[test]
    fn a_wrong_key_is_an_error_not_garbage() {
        let other = Cipher::new(&Cipher::generate_key()).expect("valid key");
        assert!(matches!(
            other.decrypt(STORED),
            Err(CryptoError::Undecryptable)
        ));
    }

    #[test]
    fn malformed_and_missing_keys_say_how_to_make_one() {
        for bad in ["", "   ", "not-a-key", "c2hvcnQ="] {
            let err = Cipher::from_env_value("INVENTORY_ENCRYPTION_KEY", Some(&Secret::new(bad)))
                .expect_err("refused");
            assert!(err.to_string().contains("generate-encryption-key"), "{err}");
        }
        let err = Cipher::from_env_value("INVENTORY_ENCRYPTION_KEY", None).expect_err("refused");
        assert!(err.to_string().contains("is not set"), "{err}");
    }
}
