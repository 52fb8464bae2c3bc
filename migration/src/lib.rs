//! Schema migrations of sagasync, run by `sagasync migrate ...`, by every command that
//! opens the database, and by `cargo run -p migration -- ...`.
//!
//! Invariant: a migration that has landed is never edited, only followed by a new one;
//! migrations declare their own identifiers and never import the `entity` crate.
//! Invariant: every migration runs on SQLite, PostgreSQL and MySQL/MariaDB, up and down.

pub use sea_orm_migration::prelude::*;

mod common;
mod m20261122_000001_create_api_keys;
mod m20261122_000002_create_categories;
mod m20261122_000003_create_external_categories;
mod m20261122_000004_create_products;
mod m20261122_000005_create_external_products;
mod m20261122_000006_create_sync_runs;
mod m20261122_000007_create_sync_errors;
mod m20261122_000008_create_sync_locks;
mod m20261122_000009_create_cerema_structures;
mod m20261122_000010_create_cerema_users;
mod m20261122_000011_create_sync_checkpoints;
mod m20261122_000012_create_job_offers;
mod m20261123_000001_use_binary_collation_for_identifiers;
mod m20261203_000001_create_profiles;
mod m20261203_000002_index_console_filters;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_api_keys::Migration),
            Box::new(m20261122_000002_create_categories::Migration),
            Box::new(m20261122_000003_create_external_categories::Migration),
            Box::new(m20261122_000004_create_products::Migration),
            Box::new(m20261122_000005_create_external_products::Migration),
            Box::new(m20261122_000006_create_sync_runs::Migration),
            Box::new(m20261122_000007_create_sync_errors::Migration),
            Box::new(m20261122_000008_create_sync_locks::Migration),
            Box::new(m20261122_000009_create_cerema_structures::Migration),
            Box::new(m20261122_000010_create_cerema_users::Migration),
            Box::new(m20261122_000011_create_sync_checkpoints::Migration),
            Box::new(m20261122_000012_create_job_offers::Migration),
            Box::new(m20261123_000001_use_binary_collation_for_identifiers::Migration),
            Box::new(m20261203_000001_create_profiles::Migration),
            Box::new(m20261203_000002_index_console_filters::Migration),
        ]
    }
}
