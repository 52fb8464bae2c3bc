//! The page writer every source uses: the rule "a page in one savepoint, else item by
//! item, each in a savepoint of its own" ([`write_page`]), the size of multi-row
//! INSERTs per backend ([`insert_chunks`]), the content hash, a page's issues
//! ([`PageLog`]) and the commit of a page with the run's figures ([`SyncCtx`]).
//!
//! **Invariant:** an item the database refuses rolls back alone; the others of its page
//! are written, and the refusal is an issue of the run.

use sea_orm::sea_query::Expr;
use sea_orm::sea_query::postgres_array::NotU8;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, Iterable, TransactionTrait,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::run::{save_figures, save_issues};
use super::{Interrupt, ItemIssue, Observer, Stats, payload_excerpt};

/// What every sync carries from page to page: where it writes, its run, the figures
/// committed so far, who watches and the stop flag.
pub struct SyncCtx<'a> {
    pub db: &'a DatabaseConnection,
    pub run_id: i32,
    /// The run's figures as committed.
    pub stats: Stats,
    pub observer: &'a Observer,
    pub interrupt: &'a Interrupt,
}

impl<'a> SyncCtx<'a> {
    pub fn new(
        db: &'a DatabaseConnection,
        run_id: i32,
        observer: &'a Observer,
        interrupt: &'a Interrupt,
    ) -> Self {
        SyncCtx {
            db,
            run_id,
            stats: Stats::default(),
            observer,
            interrupt,
        }
    }

    /// Commits a page's transaction with its issues and the run's figures (these and
    /// the page's); only then do the figures count the page.
    pub async fn commit_page(
        &mut self,
        txn: DatabaseTransaction,
        page: PageLog,
    ) -> Result<(), DbErr> {
        let mut total = self.stats.clone();
        total.absorb(page.stats.clone());
        save_figures(&txn, self.run_id, &total).await?;
        save_issues(&txn, self.run_id, &page.issues).await?;
        txn.commit().await?;
        self.stats = total;
        Ok(())
    }
}

/// A page's figures and issues: each issue counted once and kept to be stored with it.
#[derive(Debug, Default)]
pub struct PageLog {
    pub stats: Stats,
    pub issues: Vec<ItemIssue>,
}

impl PageLog {
    pub fn push(&mut self, issue: ItemIssue) {
        self.stats.push_issue(issue.clone());
        self.issues.push(issue);
    }

    /// An item that was not stored, with the start of its JSON.
    pub fn error(&mut self, id: Option<String>, error: String, raw: &Value) {
        self.push(ItemIssue::error(id, error, Some(payload_excerpt(raw))));
    }

    /// An item stored with a reservation.
    pub fn warning(&mut self, id: Option<String>, error: String, raw: &Value) {
        self.push(ItemIssue::warning(id, error, Some(payload_excerpt(raw))));
    }

    /// Counts an item's warnings, with [`crate::text::NUL_REMOVED`] when `nul`.
    pub fn warnings(&mut self, id: &str, warnings: Vec<String>, nul: bool, raw: &Value) {
        let nul = nul.then(|| crate::text::NUL_REMOVED.to_owned());
        for w in warnings.into_iter().chain(nul) {
            self.warning(Some(id.to_owned()), w, raw);
        }
    }
}

/// The content hash a record is stored with: equal hashes mean nothing to write.
pub fn content_hash(raw: &Value) -> String {
    let mut canonical = Vec::new();
    write_sorted(raw, &mut canonical);
    let digest = Sha256::digest(&canonical);
    hex::encode(&digest[..16])
}

/// `value` as compact JSON with every object's keys sorted: the same record hashes the
/// same whatever order the API wrote its fields in (records keep that order, for the
/// exports), and as it did when records were kept with sorted keys.
fn write_sorted(value: &Value, out: &mut Vec<u8>) {
    // Writing JSON into a Vec cannot fail.
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = serde_json::to_writer(&mut *out, key);
                out.push(b':');
                write_sorted(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_sorted(item, out);
            }
            out.push(b']');
        }
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

/// Values per `IN (...)` list: a transaction's items in one statement (SQLite binds at
/// most 32,766 parameters, PostgreSQL 65,535).
pub const IN_CHUNK: usize = 10_000;

/// `column` is one of `values`: on PostgreSQL `= ANY($1)`, one array parameter (a list
/// of a thousand parameters cost more to encode, bind and plan than the lookups it
/// asks), elsewhere `IN (...)`.
pub fn one_of<C, V>(backend: DbBackend, column: C, values: Vec<V>) -> Expr
where
    C: ColumnTrait,
    V: Into<sea_orm::Value> + NotU8,
{
    match backend {
        DbBackend::Postgres => column.eq_any(values),
        _ => column.is_in(values),
    }
}

/// The values among `candidates` that `column` of `E` already holds (slugs taken), in
/// [`IN_CHUNK`] lists.
pub async fn taken<E: EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
    candidates: &[String],
) -> Result<std::collections::HashSet<String>, DbErr> {
    use sea_orm::{QueryFilter, QuerySelect};
    let backend = db.get_database_backend();
    let mut out = std::collections::HashSet::new();
    for chunk in candidates.chunks(IN_CHUNK) {
        let rows: Vec<String> = E::find()
            .select_only()
            .column(column)
            .filter(one_of(backend, column, chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Most parameters one SQLite statement binds (`SQLITE_MAX_VARIABLE_NUMBER` since 3.32).
pub const SQLITE_MAX_PARAMS: usize = 32_766;
/// Most parameters one PostgreSQL or MySQL statement binds (a 16-bit count on the wire).
pub const NETWORK_MAX_PARAMS: usize = 65_535;
/// Most rows one statement sends over the network: a few hundred kilobytes at most.
/// (sqlx 0.9.0 left Nagle's algorithm on, and statements past a few kilobytes waited
/// ~40 ms for a delayed ACK, so they were cut to 25 rows; 0.9.1 sets TCP_NODELAY again.)
pub const NETWORK_MAX_ROWS: usize = 512;

/// Multi-row INSERTs of `columns` columns for `items`: as many rows as the backend
/// binds (at most [`NETWORK_MAX_ROWS`] over the network), in power-of-two row counts:
/// a dozen statement shapes, each prepared once and then found in the statement cache,
/// where a statement per exact count would be parsed again at every page and crowd the
/// cache.
pub fn insert_chunks<T>(backend: DbBackend, columns: usize, items: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut it = items.into_iter().peekable();
    let max = match backend {
        DbBackend::Sqlite => SQLITE_MAX_PARAMS / columns.max(1),
        _ => (NETWORK_MAX_PARAMS / columns.max(1)).min(NETWORK_MAX_ROWS),
    }
    .max(1);
    let mut left = it.len();
    while it.peek().is_some() {
        let size = 1 << left.min(max).ilog2();
        out.push(it.by_ref().take(size).collect());
        left -= size;
    }
    out
}

/// Inserts `rows` of `E` in multi-row statements sized by [`insert_chunks`].
pub async fn insert_all<E, A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<(), DbErr>
where
    E: EntityTrait<ActiveModel = A>,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
{
    let columns = E::Column::iter().count();
    for chunk in insert_chunks(txn.get_database_backend(), columns, rows) {
        E::insert_many(chunk).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// What a page wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub created: u64,
    pub updated: u64,
}

impl Written {
    pub fn add(&mut self, other: Written) {
        self.created += other.created;
        self.updated += other.updated;
    }

    /// The figures of a write of one item.
    pub fn one(created: bool) -> Written {
        Written {
            created: u64::from(created),
            updated: u64::from(!created),
        }
    }
}

/// How one source writes the items of a page; [`write_page`] holds the rule.
pub(crate) trait PageWrite {
    type Item;

    /// Whether these items may be tried in one go (else item by item at once).
    fn batchable(&self, _items: &[Self::Item]) -> bool {
        true
    }

    /// Writes every item; an error rolls all of them back. State the writer keeps
    /// across items changes only when this succeeds.
    async fn all(
        &mut self,
        txn: &DatabaseTransaction,
        items: &[Self::Item],
    ) -> Result<Written, DbErr>;

    /// Writes one item; an error rolls it back alone.
    async fn one(&mut self, txn: &DatabaseTransaction, item: &Self::Item)
    -> Result<Written, DbErr>;

    /// Records an item the database refused (in the page's transaction, outside the
    /// item's rolled-back savepoint).
    async fn refused(
        &mut self,
        txn: &DatabaseTransaction,
        item: &Self::Item,
        error: DbErr,
    ) -> Result<(), DbErr>;
}

/// Writes `items` in one savepoint; when that fails, each in a savepoint of its own, so
/// an item the database refuses is [`PageWrite::refused`] and the others are kept.
pub(crate) async fn write_page<W: PageWrite>(
    txn: &DatabaseTransaction,
    writer: &mut W,
    items: &[W::Item],
) -> Result<Written, DbErr> {
    if items.is_empty() {
        return Ok(Written::default());
    }
    if writer.batchable(items) {
        let savepoint = txn.begin().await?;
        match writer.all(&savepoint, items).await {
            Ok(written) => {
                savepoint.commit().await?;
                return Ok(written);
            }
            Err(e) => {
                savepoint.rollback().await?;
                tracing::debug!("page write failed ({e}): writing its items one by one");
            }
        }
    }
    let mut written = Written::default();
    for item in items {
        let savepoint = txn.begin().await?;
        match writer.one(&savepoint, item).await {
            Ok(one) => {
                savepoint.commit().await?;
                written.add(one);
            }
            Err(e) => {
                savepoint.rollback().await?;
                writer.refused(txn, item, e).await?;
            }
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_inserts_bind_within_the_protocol_and_row_limits() {
        let sizes = |backend, columns, n| -> Vec<usize> {
            insert_chunks(backend, columns, vec![(); n])
                .iter()
                .map(Vec::len)
                .collect()
        };
        assert_eq!(sizes(DbBackend::Postgres, 13, 60), [32, 16, 8, 4]);
        assert_eq!(sizes(DbBackend::MySql, 5, 1100), [512, 512, 64, 8, 4]);
        assert_eq!(sizes(DbBackend::Postgres, 200, 400), [256, 128, 16]);
        assert_eq!(sizes(DbBackend::Postgres, 70_000, 2), [1, 1]);
        assert_eq!(
            sizes(DbBackend::Sqlite, 40, 1000),
            [512, 256, 128, 64, 32, 8]
        );
    }

    #[test]
    fn content_hashes_follow_the_content() {
        let a = content_hash(&serde_json::json!({"id": 1, "x": "a"}));
        assert_eq!(a.len(), 32);
        assert_eq!(a, content_hash(&serde_json::json!({"id": 1, "x": "a"})));
        assert_ne!(a, content_hash(&serde_json::json!({"id": 1, "x": "b"})));
        // Key order does not matter, and the hash is the one of the record with its keys
        // sorted (what was stored before records kept the API's order).
        let unordered: Value = serde_json::from_str(
            r#"{"x": "a", "n": {"b": 1, "a": [{"z": 1, "y": "é"}]}, "id": 1}"#,
        )
        .expect("JSON");
        let sorted = r#"{"id":1,"n":{"a":[{"y":"é","z":1}],"b":1},"x":"a"}"#;
        let expected = hex::encode(&Sha256::digest(sorted.as_bytes())[..16]);
        assert_eq!(content_hash(&unordered), expected);
    }
}
