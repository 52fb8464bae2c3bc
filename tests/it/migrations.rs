//! Migrations run up, down and up again on every backend.

use migration::{Migrator, MigratorTrait};

use crate::helpers::{TestDb, table_names};
use crate::on_every_backend;

const TABLES: [&str; 18] = [
    "account_tokens",
    "accounts",
    "api_keys",
    "categories",
    "cerema_structures",
    "cerema_users",
    "external_categories",
    "external_products",
    "job_offer_skills",
    "job_offers",
    "products",
    "profile_education",
    "profile_experiences",
    "profile_skills",
    "sync_checkpoints",
    "sync_errors",
    "sync_locks",
    "sync_runs",
];

fn has_all_tables(names: &[String]) -> bool {
    TABLES.iter().all(|t| names.iter().any(|n| n == t))
}

async fn migrations_go_up_down_and_up_again(db: TestDb) {
    let conn = db.connect().await;

    Migrator::up(&conn, None).await.expect("up");
    assert!(has_all_tables(&table_names(&conn).await));
    assert!(
        Migrator::get_pending_migrations(&conn)
            .await
            .expect("status")
            .is_empty()
    );

    Migrator::down(&conn, None).await.expect("down");
    let left = table_names(&conn).await;
    for t in TABLES {
        assert!(
            !left.iter().any(|n| n == t),
            "{t} left after down: {left:?}"
        );
    }

    Migrator::up(&conn, None).await.expect("up again");
    assert!(has_all_tables(&table_names(&conn).await));
}

async fn opening_the_database_applies_pending_migrations(db: TestDb) {
    let conn = db.open().await;
    assert!(has_all_tables(&table_names(&conn).await));
    // Opening again is a no-op, not an error.
    let again = db.open().await;
    assert!(
        Migrator::get_pending_migrations(&again)
            .await
            .expect("status")
            .is_empty()
    );
}

on_every_backend!(
    migrations_go_up_down_and_up_again,
    opening_the_database_applies_pending_migrations
);
