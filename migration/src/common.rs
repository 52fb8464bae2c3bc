//! Column helpers shared by the migrations. Only add here; changing a helper would
//! change migrations that have already run.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// An exact amount of money: NUMERIC(16, 2), or TEXT affinity on SQLite, whose
/// `real(...)` columns would store a float.
pub fn money(backend: DbBackend, col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    match backend {
        DbBackend::Sqlite => def.custom(Alias::new("decimal_text")),
        _ => def.decimal_len(16, 2),
    };
    def
}

/// A named index, so that `down` and later migrations can refer to it.
pub fn index(name: &str, table: impl IntoIden, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(Alias::new(*c));
    }
    idx
}

/// A point in time kept to the microsecond, with no 2038 limit: TIMESTAMPTZ on
/// PostgreSQL, DATETIME(6) holding UTC on MySQL/MariaDB (whose TIMESTAMP is
/// second-precision and ends in 2038), text on SQLite.
pub fn instant(backend: DbBackend, col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    match backend {
        DbBackend::MySql => def.custom(Alias::new("DATETIME(6)")),
        _ => def.timestamp_with_time_zone(),
    };
    def
}
