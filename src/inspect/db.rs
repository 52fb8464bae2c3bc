//! `db stats`: rows per table, the database's size and backend, and the last run of
//! each source and kind.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};

use super::Result;

/// What `db stats` shows.
#[derive(Debug, Clone, Serialize)]
pub struct DbStats {
    /// `sqlite`, `postgres` or `mysql`.
    pub backend: &'static str,
    /// On disk: the SQLite file with its `-wal`, `pg_database_size`, or the data and
    /// indexes of the MySQL schema.
    pub size_bytes: u64,
    /// `size_bytes` for people: `1.3 MiB`.
    pub size: String,
    pub tables: Vec<TableRows>,
    pub last_runs: Vec<LastRun>,
}

/// One table and how many rows it holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableRows {
    pub table: String,
    pub rows: u64,
}

/// The latest run of one source and kind.
#[derive(Debug, Clone, Serialize)]
pub struct LastRun {
    pub source: Source,
    pub kind: String,
    pub run_id: i32,
    pub status: RunStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub async fn stats(db: &DatabaseConnection) -> Result<DbStats> {
    let backend = db.get_database_backend();
    let tables = table_rows(db).await?;
    let size_bytes = size(db).await?;
    Ok(DbStats {
        backend: crate::db::backend_key(backend),
        size_bytes,
        size: human_size(size_bytes),
        tables,
        last_runs: last_runs(db).await?,
    })
}

/// Rows per table, every table of the database (the migrations' bookkeeping
/// included), sorted by name.
pub async fn table_rows(db: &DatabaseConnection) -> Result<Vec<TableRows>> {
    let backend = db.get_database_backend();
    let mut tables = Vec::new();
    for table in table_names(db).await? {
        let sql = format!("SELECT COUNT(*) FROM {}", quote(backend, &table));
        let rows = scalar_i64(db, &sql).await?.unwrap_or(0);
        tables.push(TableRows {
            table,
            rows: u64::try_from(rows).unwrap_or(0),
        });
    }
    Ok(tables)
}

/// `1536` gives `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The last run of each (source, kind), by source then kind.
pub async fn last_runs(db: &DatabaseConnection) -> Result<Vec<LastRun>> {
    let runs = super::runs::latest_query().all(db).await?;
    Ok(runs
        .into_iter()
        .map(|r| LastRun {
            source: r.source,
            kind: r.kind,
            run_id: r.id,
            status: r.status,
            started_at: r.started_at,
            finished_at: r.finished_at,
        })
        .collect())
}

/// The application's tables (the migrations' bookkeeping included), sorted.
async fn table_names(db: &DatabaseConnection) -> Result<Vec<String>> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
        }
        DbBackend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        _ => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut names = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    names.sort();
    Ok(names)
}

/// A table name as an identifier (names come from the catalog, quoted all the same).
fn quote(backend: DbBackend, name: &str) -> String {
    match backend {
        DbBackend::MySql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

async fn scalar_i64(db: &DatabaseConnection, sql: &str) -> Result<Option<i64>> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(match row {
        Some(r) => r.try_get_by_index::<Option<i64>>(0)?,
        None => None,
    })
}

async fn size(db: &DatabaseConnection) -> Result<u64> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => return sqlite_size(db).await,
        DbBackend::Postgres => "SELECT CAST(pg_database_size(current_database()) AS BIGINT)",
        _ => {
            "SELECT CAST(COALESCE(SUM(data_length + index_length), 0) AS SIGNED) \
             FROM information_schema.tables WHERE table_schema = DATABASE()"
        }
    };
    Ok(u64::try_from(scalar_i64(db, sql).await?.unwrap_or(0)).unwrap_or(0))
}

/// The main file and its `-wal` (from `PRAGMA database_list`); an in-memory database
/// counts its pages.
async fn sqlite_size(db: &DatabaseConnection) -> Result<u64> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT file FROM pragma_database_list WHERE name = 'main'",
        ))
        .await?;
    let file = match row {
        Some(r) => r.try_get_by_index::<Option<String>>(0)?,
        None => None,
    };
    match file.filter(|f| !f.is_empty()) {
        Some(file) => {
            let len = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            Ok(len(&file) + len(&format!("{file}-wal")))
        }
        None => {
            let pages = scalar_i64(
                db,
                "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
            )
            .await?;
            Ok(u64::try_from(pages.unwrap_or(0)).unwrap_or(0))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_people_write_them() {
        let check = |b: u64, s: &str| assert_eq!(super::human_size(b), s, "{b}");
        check(0, "0 B");
        check(1023, "1023 B");
        check(1536, "1.5 KiB");
        check(5 * 1024 * 1024 * 1024, "5.0 GiB");
    }
}
