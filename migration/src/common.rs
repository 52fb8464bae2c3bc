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
