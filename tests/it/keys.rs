//! The API key store, through the library.

use chrono::Utc;
use entity::api_key;
use entity::prelude::*;
use sagasync::crypto::{Cipher, CryptoError};
use sagasync::keys::{self, KeyError};
use sagasync::secret::Secret;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::helpers::{TestDb, new_key};
use crate::on_every_backend;

/// Key and stored value from the original Django app.
const COMPAT_KEY: &str = "Xx6WqvUTrYSSVsYBjzHqB1A2KUUhC0FPEdfCGxjlBeY=";
const COMPAT_STORED: &str = "Z0FBQUFBQnBJWFBBQVFFQkFRRUJBUUVCQVFFQkFRRUJBWGtKdGFrem9lUkNDRmhURHByUXY3STFmbWpZaEY3aUF4OGxMZ2I0RUo0RmdnN3cwb21rWXhLejZBM2k4SVE3Z1E9PQ==";

fn cipher() -> Cipher {
    Cipher::new(&new_key()).expect("a valid key")
}

async fn active_ids(conn: &sea_orm::DatabaseConnection) -> Vec<i32> {
    ApiKey::find()
        .filter(api_key::Column::IsActive.eq(true))
        .all(conn)
        .await
        .expect("read")
        .into_iter()
        .map(|k| k.id)
        .collect()
}

async fn a_stored_key_is_encrypted_and_listed_masked(db: TestDb) {
    let conn = db.open().await;
    let c = cipher();

    let key = keys::add(
        &conn,
        &c,
        "Clé principale",
        &Secret::new("b2c_1_abcdefghijklmnop"),
        true,
    )
    .await
    .expect("add");

    assert!(!key.key_encrypted.contains("abcdefghijklmnop"));
    assert_eq!(
        c.decrypt(&key.key_encrypted).expect("decrypts").expose(),
        "b2c_1_abcdefghijklmnop"
    );
    let views = keys::list(&conn, Some(&c)).await.expect("list");
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].masked, "b2c_…mnop");
    assert!(views[0].active);
}

async fn activating_a_key_deactivates_the_others(db: TestDb) {
    let conn = db.open().await;
    let c = cipher();
    let a = keys::add(&conn, &c, "a", &Secret::new("key-a-0000"), true)
        .await
        .expect("a");
    let b = keys::add(&conn, &c, "b", &Secret::new("key-b-0000"), true)
        .await
        .expect("b");
    assert_eq!(active_ids(&conn).await, [b.id]);

    keys::activate(&conn, a.id).await.expect("activate a");
    assert_eq!(active_ids(&conn).await, [a.id]);

    keys::deactivate(&conn, a.id).await.expect("deactivate a");
    assert!(active_ids(&conn).await.is_empty());

    let err = keys::activate(&conn, 9999).await.expect_err("unknown id");
    assert!(matches!(err, KeyError::NotFound(9999)));
}

async fn concurrent_activations_leave_exactly_one_active_key(db: TestDb) {
    let setup = db.open().await;
    let c = cipher();
    let mut ids = Vec::new();
    for n in 0..4 {
        let k = keys::add(
            &setup,
            &c,
            &format!("k{n}"),
            &Secret::new(format!("key-{n}-xxxx")),
            false,
        )
        .await
        .expect("add");
        ids.push(k.id);
    }
    // Separate pools, as two processes would have.
    let first = db.connect().await;
    let second = db.connect().await;

    for round in 0..8 {
        let (x, y) = (ids[round % 4], ids[(round + 1) % 4]);
        let (rx, ry) = tokio::join!(keys::activate(&first, x), keys::activate(&second, y));

        rx.expect("first activation succeeds");
        ry.expect("second activation succeeds");
        let active = active_ids(&setup).await;
        assert_eq!(active.len(), 1, "round {round}: {active:?}");
        assert!(active[0] == x || active[0] == y);
    }
}

async fn the_original_apps_stored_key_is_read(db: TestDb) {
    let conn = db.open().await;
    api_key::ActiveModel {
        name: Set("from django".to_owned()),
        key_encrypted: Set(COMPAT_STORED.to_owned()),
        is_active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&conn)
    .await
    .expect("insert");
    let c = Cipher::new(COMPAT_KEY).expect("valid");

    let active = keys::resolve_active(&conn, Ok(&c), None)
        .await
        .expect("resolves");

    assert_eq!(active.secret.expose(), "b2c_1_demoKey42");
    assert_eq!(active.name, "from django");
}

async fn the_active_key_comes_from_the_store_then_the_environment(db: TestDb) {
    let conn = db.open().await;
    let c = cipher();
    let env_key = Secret::new("b2c_9_fromenv");

    let err = keys::resolve_active(&conn, Ok(&c), None)
        .await
        .expect_err("nothing yet");
    assert!(err.to_string().contains("sagasync keys add"), "{err}");

    let fallback = keys::resolve_active(&conn, Ok(&c), Some(&env_key))
        .await
        .expect("env");
    assert_eq!(
        (fallback.id, fallback.secret.expose()),
        (None, "b2c_9_fromenv")
    );

    let stored = keys::add(&conn, &c, "stored", &Secret::new("b2c_1_stored"), true)
        .await
        .expect("add");
    let active = keys::resolve_active(&conn, Ok(&c), Some(&env_key))
        .await
        .expect("stored");
    assert_eq!(
        (active.id, active.secret.expose()),
        (Some(stored.id), "b2c_1_stored")
    );

    keys::mark_used(&conn, stored.id).await.expect("mark used");
    let row = ApiKey::find_by_id(stored.id)
        .one(&conn)
        .await
        .expect("read")
        .expect("row");
    assert!(row.last_used_at.is_some());
}

async fn a_key_stored_with_another_encryption_key_is_a_clear_error(db: TestDb) {
    let conn = db.open().await;
    let key = keys::add(
        &conn,
        &cipher(),
        "Clé principale",
        &Secret::new("b2c_1_zzzz"),
        true,
    )
    .await
    .expect("add");

    let err = keys::resolve_active(&conn, Ok(&cipher()), None)
        .await
        .expect_err("wrong key");

    let msg = err.to_string();
    assert!(
        msg.contains(&format!("API key {} \"Clé principale\"", key.id)),
        "{msg}"
    );
    assert!(!msg.contains("b2c_1_zzzz"));

    let missing = CryptoError::MissingKey("INVENTORY_ENCRYPTION_KEY");
    let err = keys::resolve_active(&conn, Err(&missing), None)
        .await
        .expect_err("no key");
    assert!(err.to_string().contains("generate-encryption-key"), "{err}");
}

async fn rotation_re_encrypts_every_key_or_none(db: TestDb) {
    let conn = db.open().await;
    let (old, new) = (cipher(), cipher());
    keys::add(&conn, &old, "a", &Secret::new("b2c_1_aaaa"), true)
        .await
        .expect("a");
    keys::add(&conn, &old, "b", &Secret::new("b2c_1_bbbb"), false)
        .await
        .expect("b");

    let count = keys::rotate_encryption(&conn, &old, &new)
        .await
        .expect("rotate");

    assert_eq!(count, 2);
    for k in ApiKey::find().all(&conn).await.expect("read") {
        assert!(old.decrypt(&k.key_encrypted).is_err());
        assert!(
            new.decrypt(&k.key_encrypted)
                .expose_ok()
                .starts_with("b2c_1_")
        );
    }

    // A key that the current encryption key cannot read aborts the whole rotation.
    let stray = keys::add(&conn, &old, "stray", &Secret::new("b2c_1_cccc"), false)
        .await
        .expect("c");
    let before = ApiKey::find().all(&conn).await.expect("read");
    let err = keys::rotate_encryption(&conn, &new, &cipher())
        .await
        .expect_err("aborts");
    assert!(
        err.to_string()
            .contains(&format!("API key {} \"stray\"", stray.id)),
        "{err}"
    );
    assert_eq!(
        ApiKey::find().all(&conn).await.expect("read"),
        before,
        "nothing changed"
    );
}

trait ExposeOk {
    fn expose_ok(self) -> String;
}

impl ExposeOk for Result<Secret, CryptoError> {
    fn expose_ok(self) -> String {
        self.expect("decrypts").expose().to_owned()
    }
}

on_every_backend!(
    a_stored_key_is_encrypted_and_listed_masked,
    activating_a_key_deactivates_the_others,
    concurrent_activations_leave_exactly_one_active_key,
    the_original_apps_stored_key_is_read,
    the_active_key_comes_from_the_store_then_the_environment,
    a_key_stored_with_another_encryption_key_is_a_clear_error,
    rotation_re_encrypts_every_key_or_none,
);
