//! Pending migrations applied by one process at a time, under a lock the backend
//! provides: two commands started at once on a new database must not both create the
//! tables. The loser waits for the lock, then finds nothing left to do.
//!
//! `Migrator::up` reads what is pending and then applies it: it is run entirely under
//! the lock, so what it reads is what the winner left. SQLite: inside one `BEGIN
//! IMMEDIATE` transaction on the command's connection (SQLite's DDL is transactional;
//! sea-orm-migration opens no transaction of its own there). PostgreSQL: a session
//! advisory lock; MySQL/MariaDB: `GET_LOCK`; both held on a connection of its own
//! for the whole migration (sea-orm-migration wraps each PostgreSQL migration in a
//! transaction of its own, MySQL's DDL commits by itself).

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use sea_orm_migration::MigrationStatus;

use super::begin_write;

/// How long a process waits for another one's migration before giving up.
pub const MIGRATION_LOCK_WAIT: Duration = Duration::from_secs(120);

/// PostgreSQL's advisory lock key for migrations: "sagasync" in ASCII. Advisory locks
/// belong to one database, so two databases of a server never wait for each other.
const PG_LOCK_KEY: i64 = 0x7361_6761_7379_6e63;

/// MySQL/MariaDB's lock name: `GET_LOCK` names are server-wide, so the name holds the
/// database's (hashed: a name is at most 64 characters).
const MYSQL_LOCK_NAME: &str = "CONCAT('sagasync:migrate:', MD5(DATABASE()))";

/// Applies pending migrations, one process at a time. When nothing is pending (every
/// start but the first ones) it takes no lock: a command never waits for a running sync.
pub async fn migrate(
    db: &DatabaseConnection,
    url: &str,
    log_statements: bool,
) -> anyhow::Result<()> {
    if Migrator::get_pending_migrations_read_only(db)
        .await?
        .is_empty()
    {
        return Ok(());
    }
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            // Waits up to the busy timeout for another writer (a migration included).
            let txn = begin_write(db).await?;
            Migrator::up(&txn, None).await?;
            txn.commit().await?;
            Ok(())
        }
        backend => {
            // The lock is the session's: a pool of one connection keeps it on one.
            let own = super::pool(url, log_statements, 1).await?;
            let result = migrate_locked(&own, backend).await;
            // Closing ends the session, which releases the lock even after an error.
            let _ = own.close().await;
            result
        }
    }
}

async fn migrate_locked(db: &DatabaseConnection, backend: DbBackend) -> anyhow::Result<()> {
    let (try_lock, lock, unlock) = match backend {
        DbBackend::Postgres => (
            format!("SELECT pg_try_advisory_lock({PG_LOCK_KEY})::int::bigint"),
            format!("SELECT pg_advisory_lock({PG_LOCK_KEY}), 1::bigint"),
            format!("SELECT pg_advisory_unlock({PG_LOCK_KEY})"),
        ),
        _ => (
            format!("SELECT GET_LOCK({MYSQL_LOCK_NAME}, 0)"),
            format!(
                "SELECT 0, GET_LOCK({MYSQL_LOCK_NAME}, {})",
                MIGRATION_LOCK_WAIT.as_secs()
            ),
            format!("SELECT RELEASE_LOCK({MYSQL_LOCK_NAME})"),
        ),
    };
    if scalar(db, &try_lock, 0).await? != Some(1) {
        tracing::info!("another process is migrating the database: waiting for it");
        if backend == DbBackend::Postgres {
            let wait_ms = MIGRATION_LOCK_WAIT.as_millis();
            db.execute_unprepared(&format!("SET lock_timeout = {wait_ms}"))
                .await?;
        }
        let got = scalar(db, &lock, 1).await.map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "another process has been migrating the database for {}s",
                MIGRATION_LOCK_WAIT.as_secs()
            ))
        })?;
        if got != Some(1) {
            anyhow::bail!(
                "another process has been migrating the database for {}s: wait for it to \
                 finish, then run the command again",
                MIGRATION_LOCK_WAIT.as_secs()
            );
        }
    }
    let result = Migrator::up(db, None).await;
    let _ = db.execute_unprepared(&unlock).await;
    Ok(result?)
}

/// Where a database's schema stands against this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Migrations applied.
    pub applied: usize,
    /// The names of the migrations not applied yet, oldest first.
    pub pending: Vec<String>,
}

/// Reads which migrations are applied and which are pending, writing nothing (not even
/// the migrations table: a database never migrated shows every migration pending).
/// A database migrated by a newer build (a migration this one does not know) is an error.
pub async fn schema_status(db: &DatabaseConnection) -> Result<SchemaStatus, DbErr> {
    let all = Migrator::get_migration_with_status_read_only(db).await?;
    let (pending, applied): (Vec<_>, Vec<_>) = all
        .iter()
        .partition(|m| m.status() == MigrationStatus::Pending);
    Ok(SchemaStatus {
        applied: applied.len(),
        pending: pending.iter().map(|m| m.name().to_owned()).collect(),
    })
}

/// The integer in column `index` of the one row of `sql` (`None` for NULL).
async fn scalar(db: &DatabaseConnection, sql: &str, index: usize) -> Result<Option<i64>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    match row {
        Some(row) => row.try_get_by_index::<Option<i64>>(index),
        None => Ok(None),
    }
}
