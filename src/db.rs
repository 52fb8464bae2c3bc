//! Opening the database: connection settings per backend, migrations on open (one
//! process at a time), write transactions that never deadlock on SQLite, closing so
//! that a SQLite file holds everything, and what a failure means for the user.

mod backup;
mod failure;
mod migrate;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, RuntimeErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

pub use backup::{Backup, BackupError, NativeBackup, backup_sqlite, native_backup_command};
pub use failure::{ConnectionLost, Unreachable, connection_lost, explain};
pub use migrate::{MIGRATION_LOCK_WAIT, SchemaStatus, migrate, schema_status};

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

/// How long a PostgreSQL or MySQL/MariaDB server has to accept a connection before we
/// give up on it ("no answer"); a refused connection or an unknown host fails at once.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long closing waits for SQLite's final checkpoint when another process is using
/// the file (that process then checkpoints when it closes).
const SQLITE_CLOSE_BUSY_TIMEOUT: Duration = Duration::from_millis(250);
/// How long closing waits for connections still checked out of the pool.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

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

/// A server that cannot be reached fails here, in seconds and saying why: the pool
/// would retry a refused connection until its acquire timeout and then only say
/// "pool timed out".
async fn connect_with(
    url: &str,
    log_statements: bool,
    max_connections: u32,
) -> anyhow::Result<DatabaseConnection> {
    let context = || format!("cannot open the database {}", redact_url(url));
    failure::probe(url).await.with_context(context)?;
    pool(url, log_statements, max_connections)
        .await
        .with_context(context)
}

/// The pool, with the settings of every backend. Two processes opening a new SQLite
/// file at once may find it locked while the other switches it to WAL (a lock the
/// busy timeout does not wait for): that is tried again for as long as the busy timeout.
async fn pool(
    url: &str,
    log_statements: bool,
    max_connections: u32,
) -> Result<DatabaseConnection, DbErr> {
    let opts = connect_options(url, log_statements, max_connections);
    let give_up = Instant::now() + SQLITE_BUSY_TIMEOUT;
    loop {
        match Database::connect(opts.clone()).await {
            Err(e) if is_sqlite_busy(&e) && Instant::now() < give_up => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => return other,
        }
    }
}

/// Is this SQLite's "database is locked" (`SQLITE_BUSY` or `SQLITE_LOCKED`, extended
/// codes included)?
fn is_sqlite_busy(err: &DbErr) -> bool {
    let (DbErr::Conn(RuntimeErr::SqlxError(e))
    | DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let Some(db) = e.as_database_error() else {
        return false;
    };
    db.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
        && db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

fn connect_options(url: &str, log_statements: bool, max_connections: u32) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(0)
        .connect_timeout(CONNECT_TIMEOUT)
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
        // whole for ever after; plan each statement with its parameters instead (a
        // transaction that only goes by key caches its plans: `plan_for_keys`).
        .map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]));
    opts
}

/// The file a SQLite URL names (as written: relative to the working directory), or
/// `None` for another backend, an in-memory database or a URL that does not parse.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if !url.starts_with("sqlite:") || in_memory {
        return None;
    }
    let opts = SqliteConnectOptions::from_str(url).ok()?;
    Some(opts.get_filename().to_owned())
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
    migrate(&db, url, log_statements)
        .await
        .with_context(|| format!("cannot migrate the database {}", redact_url(url)))?;
    Ok(db)
}

/// Closes the pool, waiting for its connections to close. On SQLite the WAL is first
/// copied into the database file and emptied (`wal_checkpoint(TRUNCATE)`), and the
/// last connection to close removes it: once sagasync has exited, the `.db` file alone
/// holds everything (a `cp` is a complete copy). A process that still uses the file
/// makes the checkpoint give up after a moment: that process checkpoints when it closes.
pub async fn close(db: DatabaseConnection) {
    if db.get_database_backend() == DbBackend::Sqlite
        && !db.get_sqlite_connection_pool().is_closed()
    {
        match tokio::time::timeout(CLOSE_WAIT, checkpoint(&db)).await {
            Ok(Ok(true)) => tracing::debug!("the WAL is checkpointed and empty"),
            Ok(Ok(false)) => {
                tracing::debug!("another connection uses the database: it will checkpoint")
            }
            Ok(Err(e)) => tracing::warn!("cannot checkpoint the database: {e}"),
            Err(_) => tracing::warn!("cannot checkpoint the database: a connection is still busy"),
        }
    }
    if tokio::time::timeout(CLOSE_WAIT, db.close_by_ref())
        .await
        .is_err()
    {
        tracing::warn!("the database connections did not close within {CLOSE_WAIT:?}");
    }
}

/// `PRAGMA wal_checkpoint(TRUNCATE)` on one connection, waiting little for others;
/// whether it completed.
async fn checkpoint(db: &DatabaseConnection) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::{AssertSqlSafe, query, query_as};
    let mut conn = db.get_sqlite_connection_pool().acquire().await?;
    let busy_ms = SQLITE_CLOSE_BUSY_TIMEOUT.as_millis();
    query(AssertSqlSafe(format!("PRAGMA busy_timeout = {busy_ms}")))
        .execute(&mut *conn)
        .await?;
    let (busy, _, _): (i64, i64, i64) = query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await?;
    Ok(busy == 0)
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

/// For the rest of a PostgreSQL transaction whose statements all find their rows by
/// key (a sync's batch of inserts and lookups): indexes are used whatever the
/// statistics say, and plans are cached. The session's `force_custom_plan` (see
/// [`connect`]) plans every statement anew, the foreign-key check of every inserted
/// row included (two per product: a first sync spent a quarter of the server's time
/// planning them); a generic plan is safe here because no plan of this transaction
/// may choose a sequential scan, which a large `IN` list on a growing table
/// otherwise does, at every size (quadratic over a first sync). Nothing on other
/// backends.
pub async fn plan_for_keys(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = auto; SET LOCAL enable_seqscan = off")
            .await?;
    }
    Ok(())
}

/// Is this error a unique-constraint violation (on any backend)?
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// The backend's key in JSON (`db stats`, `/api/health`, `bench`): `sqlite`,
/// `postgres` or `mysql`.
pub fn backend_key(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "mysql",
    }
}

/// The backend's name for people, from its [`backend_key`].
pub fn backend_name_of_key(key: &str) -> &str {
    match key {
        "sqlite" => "SQLite",
        "postgres" => "PostgreSQL",
        "mysql" => "MySQL/MariaDB",
        other => other,
    }
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

    #[test]
    fn sqlite_urls_name_their_file() {
        let check = |url: &str, expected: Option<&str>| {
            assert_eq!(sqlite_file(url), expected.map(PathBuf::from), "{url}");
        };
        check(DEFAULT_DATABASE_URL, Some("sagasync.db"));
        check("sqlite:///var/lib/s.db?mode=rwc", Some("/var/lib/s.db"));
        check("sqlite::memory:", None);
        check("sqlite://x.db?mode=memory", None);
        check("postgres://app@db/shop", None);
    }
}
