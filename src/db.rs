//! Opening the database: connection settings per backend, migrations on open, and
//! write transactions that never deadlock on SQLite.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

/// Default database: a SQLite file in the working directory, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://sagasync.db?mode=rwc";

/// How long a SQLite writer waits for another process's write lock before giving up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Page cache of each SQLite connection, KiB: a page of products stays in memory
/// until its commit instead of spilling to the WAL item by item.
const SQLITE_CACHE_KIB: u32 = 8 * 1024;

/// WAL pages before SQLite copies them back into the database (its default is 1,000):
/// a long sync touches index pages all over a growing file, and fewer, larger
/// checkpoints write each page once instead of many times (+20% first sync at 300k).
/// The WAL file is kept to about this many 4 KiB pages on disk (`journal_size_limit`);
/// memory does not grow.
const SQLITE_WAL_CHECKPOINT_PAGES: u32 = 16_384;

/// Rows the SQLite worker thread sends ahead of the task reading them (sqlx's default
/// is 50): a `RETURNING` of a thousand ids or a page of mappings flows without stalls.
const SQLITE_ROW_BUFFER: usize = 1024;
/// Prepared statements kept per SQLite connection (sqlx's default is 100): the sync
/// uses a few dozen, and each multi-row insert kept costs memory.
const SQLITE_STATEMENT_CACHE: usize = 24;

/// Connections in the pool: enough for a fetch and a writer to overlap.
const MAX_CONNECTIONS: u32 = 8;
/// Connections to a SQLite file for the commands (syncs, administration): one.
/// SQLite has one writer at a time anyway, and sqlx's pool hands out the connection
/// idle the longest: a writer on several connections moved to another one at every
/// commit, found its page cache thrown away (in WAL mode a connection drops its cache
/// when another one wrote), and in the end every connection held a full cache (131 MB
/// at the end of a million-product first sync, 62 MB on one connection, same speed).
const SQLITE_CONNECTIONS: u32 = 1;
/// Connections to a SQLite file for `serve`, which only reads: requests in parallel.
const SQLITE_READER_CONNECTIONS: u32 = 4;

/// What a pool is for: it sets how many connections a SQLite file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Syncs and administration: one SQLite connection (see [`SQLITE_CONNECTIONS`]).
    Commands,
    /// Read-only requests served in parallel (`serve`).
    Readers,
}

/// Connects without touching the schema. SQLite gets WAL, `foreign_keys=ON`,
/// `synchronous=NORMAL` and a busy timeout; the file is created when missing.
pub async fn connect(url: &str, log_statements: bool) -> anyhow::Result<DatabaseConnection> {
    connect_for(url, log_statements, Use::Commands).await
}

/// [`connect`], with the pool sized for `usage`.
async fn connect_for(
    url: &str,
    log_statements: bool,
    usage: Use,
) -> anyhow::Result<DatabaseConnection> {
    // Each connection to an in-memory SQLite database is a database of its own.
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let max = match usage {
        _ if in_memory => 1,
        Use::Commands if url.starts_with("sqlite:") => SQLITE_CONNECTIONS,
        Use::Readers if url.starts_with("sqlite:") => SQLITE_READER_CONNECTIONS,
        _ => MAX_CONNECTIONS,
    };
    connect_with(url, log_statements, max).await
}

/// Connects with a single connection: schema changes that set per-connection state
/// (SQLite's `PRAGMA foreign_keys` during `migrate fresh`) must all run on it.
pub async fn connect_single(url: &str, log_statements: bool) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, log_statements, 1).await
}

async fn connect_with(
    url: &str,
    log_statements: bool,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(SQLITE_BUSY_TIMEOUT + Duration::from_secs(5))
        .sqlx_logging(log_statements)
        .sqlx_logging_level(tracing::log::LevelFilter::Debug)
        .map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .pragma("cache_size", format!("-{}", SQLITE_CACHE_KIB))
                .pragma("temp_store", "memory")
                .pragma(
                    "wal_autocheckpoint",
                    SQLITE_WAL_CHECKPOINT_PAGES.to_string(),
                )
                .pragma(
                    "journal_size_limit",
                    (SQLITE_WAL_CHECKPOINT_PAGES * 4096).to_string(),
                )
                .row_buffer_size(SQLITE_ROW_BUFFER)
                .statement_cache_capacity(SQLITE_STATEMENT_CACHE)
        })
        // A generic plan made while a table was empty (no statistics yet) would scan it
        // whole for ever after; plan each statement with its parameters instead.
        .map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]));
    Database::connect(opts)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(url)))
}

/// Connects and applies pending migrations: an embedded tool needs no setup step.
pub async fn open(url: &str, log_statements: bool) -> anyhow::Result<DatabaseConnection> {
    open_for(url, log_statements, Use::Commands).await
}

/// [`open`], with the pool sized for `usage`.
pub async fn open_for(
    url: &str,
    log_statements: bool,
    usage: Use,
) -> anyhow::Result<DatabaseConnection> {
    let db = connect_for(url, log_statements, usage).await?;
    Migrator::up(&db, None)
        .await
        .with_context(|| format!("cannot migrate the database {}", redact_url(url)))?;
    Ok(db)
}

/// Starts a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the write
/// lock is taken up front (waiting up to the busy timeout), so two processes never
/// both hold a read lock and deadlock when upgrading it.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Is this error a unique-constraint violation (on any backend)?
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// The backend's name, as users know it.
pub fn backend_name(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "SQLite",
        DbBackend::Postgres => "PostgreSQL",
        DbBackend::MySql => "MySQL/MariaDB",
        _ => "unknown",
    }
}

/// The URL with any password replaced by `***`, fit for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db.example:5432/shop"),
            "postgres://app:***@db.example:5432/shop"
        );
        assert_eq!(redact_url(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
    }
}
