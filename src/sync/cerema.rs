//! Cerema Portail DF sync: users or structures, page by page, upserted by their
//! upstream id. Each page commits in one transaction together with the checkpoint that
//! lets the next run resume right after it; a completed run clears the checkpoint.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::instant::Instant;
use entity::sync_run::Source;
use entity::{cerema_structure, cerema_user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    NotSet, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use super::run::{Run, save_figures, save_issues};
use super::{Interrupt, ItemIssue, Observer, Progress, RunError, RunReport, Stats, checkpoint};
use crate::cerema::parse::{self, Read, Refused, StructureRecord, UserRecord};
use crate::cerema::{CeremaClient, CeremaError, CeremaKind};
use crate::db::begin_write;

/// Pause between two pages, as the original scripts keep.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(500);
/// Rows per multi-row INSERT on SQLite (well under its 32,766 bound variables).
const SQLITE_INSERT_ROWS: usize = 500;
/// Rows per multi-row INSERT elsewhere: small, because sqlx 0.9.0 does not set
/// TCP_NODELAY and a large statement waits for a delayed ACK.
const NETWORK_INSERT_ROWS: usize = 25;
/// Rows read per query by `export`: memory stays flat whatever the table holds.
const EXPORT_BATCH: u64 = 1_000;

/// How a Cerema sync runs.
#[derive(Debug, Clone)]
pub struct CeremaSyncOptions {
    pub delay: Duration,
    /// Stop after this many pages (the checkpoint stays: the next run continues).
    pub max_pages: Option<u32>,
    /// Forget the checkpoint and start from page 1.
    pub restart: bool,
}

/// What a Cerema run reports: the run's figures and where the listing stands.
#[derive(Debug, Clone, Serialize)]
pub struct CeremaReport {
    pub kind: &'static str,
    #[serde(flatten)]
    pub run: RunReport,
    /// Pages fetched by this run.
    pub pages: u32,
    /// The page this run started at, when it continued an earlier one.
    pub resumed_from_page: Option<u32>,
    /// True when the listing was read to its end (the checkpoint is cleared).
    pub complete: bool,
    /// The page the next run starts at, when the listing was not read to its end.
    pub next_page: Option<u32>,
}

/// What the checkpoint of a Cerema listing holds.
#[derive(Debug, Clone, PartialEq)]
struct Position {
    base: String,
    next: String,
    page: u32,
}

impl Position {
    fn to_json(&self) -> Value {
        json!({ "base": self.base, "next": self.next, "page": self.page })
    }

    fn from_json(v: &Value) -> Option<Position> {
        Some(Position {
            base: v.get("base")?.as_str()?.to_owned(),
            next: v.get("next")?.as_str()?.to_owned(),
            page: u32::try_from(v.get("page")?.as_u64()?).ok()?,
        })
    }
}

/// One stored kind of record: how it is read and how it becomes a row.
trait Row: Sized + Send + Sync + 'static {
    type Entity: EntityTrait<ActiveModel = Self::Active>;
    type Active: ActiveModelTrait<Entity = Self::Entity> + Send + Sync + Clone;
    fn read(raw: &Value) -> Result<Read<Self>, Refused>;
    fn id(&self) -> i64;
    fn id_column() -> <Self::Entity as EntityTrait>::Column;
    fn hash_column() -> <Self::Entity as EntityTrait>::Column;
    fn raw_column() -> <Self::Entity as EntityTrait>::Column;
    /// The row to write; `first_seen_at` only for a new one.
    fn active(&self, raw: &Value, hash: &str, now: DateTime<Utc>, new: bool) -> Self::Active;
}

fn seen(now: DateTime<Utc>, new: bool) -> sea_orm::ActiveValue<DateTime<Utc>> {
    if new { Set(now) } else { NotSet }
}

impl Row for UserRecord {
    type Entity = cerema_user::Entity;
    type Active = cerema_user::ActiveModel;

    fn read(raw: &Value) -> Result<Read<Self>, Refused> {
        parse::user(raw)
    }
    fn id(&self) -> i64 {
        self.id_user
    }
    fn id_column() -> cerema_user::Column {
        cerema_user::Column::IdUser
    }
    fn hash_column() -> cerema_user::Column {
        cerema_user::Column::ContentHash
    }
    fn raw_column() -> cerema_user::Column {
        cerema_user::Column::Raw
    }
    fn active(&self, raw: &Value, hash: &str, now: DateTime<Utc>, new: bool) -> Self::Active {
        cerema_user::ActiveModel {
            id_user: Set(self.id_user),
            email: Set(self.email.clone()),
            structure_id: Set(self.structure_id),
            gestionnaire: Set(self.gestionnaire),
            exterieur: Set(self.exterieur),
            cgu_valide: Set(self.cgu_valide.map(Instant)),
            date_rattachement: Set(self.date_rattachement.map(Instant)),
            date_expiration: Set(self.date_expiration.map(Instant)),
            groupe: Set(self.groupe),
            raw: Set(raw.clone()),
            content_hash: Set(hash.to_owned()),
            first_seen_at: seen(now, new),
            last_synced_at: Set(now),
        }
    }
}

impl Row for StructureRecord {
    type Entity = cerema_structure::Entity;
    type Active = cerema_structure::ActiveModel;

    fn read(raw: &Value) -> Result<Read<Self>, Refused> {
        parse::structure(raw)
    }
    fn id(&self) -> i64 {
        self.id
    }
    fn id_column() -> cerema_structure::Column {
        cerema_structure::Column::Id
    }
    fn hash_column() -> cerema_structure::Column {
        cerema_structure::Column::ContentHash
    }
    fn raw_column() -> cerema_structure::Column {
        cerema_structure::Column::Raw
    }
    fn active(&self, raw: &Value, hash: &str, now: DateTime<Utc>, new: bool) -> Self::Active {
        cerema_structure::ActiveModel {
            id: Set(self.id),
            raison_sociale: Set(self.raison_sociale.clone()),
            structure_type: Set(self.structure_type.clone()),
            siret: Set(self.siret.clone()),
            naf: Set(self.naf.clone()),
            formjur: Set(self.formjur.clone()),
            departement: Set(self.departement.clone()),
            region: Set(self.region.clone()),
            niveau_acces: Set(self.niveau_acces.clone()),
            acces_lovac: Set(self.acces_lovac.map(Instant)),
            acces_df_ano: Set(self.acces_df_ano.map(Instant)),
            acces_df_non_ano: Set(self.acces_df_non_ano.map(Instant)),
            raw: Set(raw.clone()),
            content_hash: Set(hash.to_owned()),
            first_seen_at: seen(now, new),
            last_synced_at: Set(now),
        }
    }
}

/// Syncs one Cerema listing into its table; see the module doc.
pub async fn sync_cerema(
    db: &DatabaseConnection,
    client: &CeremaClient,
    kind: CeremaKind,
    opts: &CeremaSyncOptions,
    observer: Observer,
    interrupt: &Interrupt,
) -> Result<CeremaReport, RunError> {
    match kind {
        CeremaKind::Users => {
            sync_listing::<UserRecord>(db, client, kind, opts, observer, interrupt).await
        }
        CeremaKind::Structures => {
            sync_listing::<StructureRecord>(db, client, kind, opts, observer, interrupt).await
        }
    }
}

/// The checkpoint name of a listing.
pub fn checkpoint_name(kind: CeremaKind) -> String {
    format!("cerema:{}", kind.name())
}

/// Where a run ended, for its report.
#[derive(Debug, Default)]
struct Walk {
    pages: u32,
    resumed_from_page: Option<u32>,
    next_page: Option<u32>,
}

async fn sync_listing<R: Row>(
    db: &DatabaseConnection,
    client: &CeremaClient,
    kind: CeremaKind,
    opts: &CeremaSyncOptions,
    observer: Observer,
    interrupt: &Interrupt,
) -> Result<CeremaReport, RunError> {
    let options = json!({
        "base_url": client.base().as_str(),
        "delay_secs": opts.delay.as_secs_f64(),
        "max_pages": opts.max_pages,
        "restart": opts.restart,
    });
    let run = Run::start(db, Source::Cerema, kind.name(), options).await?;
    let mut stats = Stats::default();
    let mut walk = Walk::default();
    let outcome = walk_pages::<R>(
        db, client, kind, opts, run.id, &mut stats, &mut walk, &observer, interrupt,
    )
    .await;
    let complete = matches!(outcome, Ok(true)) && walk.next_page.is_none();
    let interrupted = format!(
        "interrupted at page {}: the next run continues from there",
        walk.next_page.unwrap_or(1)
    );
    let report = run.conclude(db, stats, outcome, interrupted).await?;
    Ok(CeremaReport {
        kind: kind.name(),
        run: report,
        pages: walk.pages,
        resumed_from_page: walk.resumed_from_page,
        complete,
        next_page: walk.next_page,
    })
}

/// The page to start from: the checkpoint's (when it belongs to this base URL), or 1.
async fn starting_point(
    db: &DatabaseConnection,
    client: &CeremaClient,
    kind: CeremaKind,
    restart: bool,
) -> anyhow::Result<(Url, u32, u64, bool)> {
    let name = checkpoint_name(kind);
    if restart && checkpoint::clear(db, &name).await? {
        tracing::info!("--restart: the saved position of {name} is forgotten");
    }
    let first = (client.first_page(kind)?, 1, 0, false);
    let Some(saved) = checkpoint::load(db, &name).await? else {
        return Ok(first);
    };
    let position = Position::from_json(&saved.position);
    match position {
        Some(p) if p.base == client.base().as_str() => {
            let url = client.next_url(&client.first_page(kind)?, &p.next)?;
            let done = u64::try_from(saved.done).unwrap_or(0);
            tracing::info!(
                "resuming {} from page {} ({done} read by run {}); --restart starts over",
                kind.name(),
                p.page,
                saved.run_id
            );
            Ok((url, p.page, done, true))
        }
        _ => {
            tracing::warn!(
                "the saved position of {name} belongs to another API URL: starting from page 1"
            );
            checkpoint::clear(db, &name).await?;
            Ok(first)
        }
    }
}

/// Reads pages until the end (`Ok(true)`), `--max-pages` (`Ok(true)` with a next
/// page), an interrupt (`Ok(false)`) or an error.
#[allow(clippy::too_many_arguments)]
async fn walk_pages<R: Row>(
    db: &DatabaseConnection,
    client: &CeremaClient,
    kind: CeremaKind,
    opts: &CeremaSyncOptions,
    run_id: i32,
    stats: &mut Stats,
    walk: &mut Walk,
    observer: &Observer,
    interrupt: &Interrupt,
) -> anyhow::Result<bool> {
    let (mut url, mut number, mut done, resumed) =
        starting_point(db, client, kind, opts.restart).await?;
    if resumed {
        walk.resumed_from_page = Some(number);
        observer(Progress::Resumed { page: number, done });
    }
    walk.next_page = Some(number);
    observer(Progress::Phase(match kind {
        CeremaKind::Users => "syncing Cerema users",
        CeremaKind::Structures => "syncing Cerema structures",
    }));
    let name = checkpoint_name(kind);
    let mut visited: HashSet<String> = HashSet::new();
    loop {
        visited.insert(url.to_string());
        let page = tokio::select! {
            page = client.page(&url) => page?,
            _ = interrupt.wait() => return Ok(false),
        };
        let next = match page.next.as_deref() {
            Some(n) => Some(client.next_url(&url, n)?),
            None => None,
        };
        if let Some(n) = &next
            && visited.contains(n.as_str())
        {
            return Err(CeremaError::NextLoop { url: n.to_string() }.into());
        }
        done += page.results.len() as u64;
        let position = next.as_ref().map(|n| Position {
            base: client.base().to_string(),
            next: n.to_string(),
            page: number + 1,
        });
        let mut page_stats = Stats::default();
        let mut issues = Vec::new();
        let items = read_page::<R>(page.results, &mut page_stats, &mut issues);

        let txn = begin_write(db).await?;
        apply::<R>(&txn, items, &mut page_stats, &mut issues).await?;
        match &position {
            Some(p) => checkpoint::save(&txn, &name, run_id, p.to_json(), done).await?,
            None => {
                checkpoint::clear(&txn, &name).await?;
            }
        }
        let mut total = stats.clone();
        total.absorb(page_stats.clone());
        save_figures(&txn, run_id, &total).await?;
        save_issues(&txn, run_id, &issues).await?;
        txn.commit().await?;

        stats.absorb(page_stats);
        walk.pages += 1;
        observer(Progress::Page {
            number,
            expected: page.count,
            done,
        });
        let Some(next) = next else {
            walk.next_page = None;
            return Ok(true);
        };
        url = next;
        number += 1;
        walk.next_page = Some(number);
        if interrupt.is_set() {
            return Ok(false);
        }
        if opts.max_pages.is_some_and(|max| walk.pages >= max) {
            return Ok(true);
        }
        if !opts.delay.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(opts.delay) => {}
                _ = interrupt.wait() => return Ok(false),
            }
        }
    }
}

/// A record ready to write.
struct Item<R> {
    record: R,
    raw: Value,
    hash: String,
}

fn hash_of(raw: &Value) -> String {
    let digest = Sha256::digest(raw.to_string().as_bytes());
    hex::encode(&digest[..16])
}

fn issue(id: Option<String>, error: String, raw: &Value, warning: bool) -> ItemIssue {
    ItemIssue {
        external_id: id,
        error,
        warning,
        payload: Some(super::payload_excerpt(raw)),
    }
}

/// Reads a page's records: refused ones become errors, unreadable fields warnings, and
/// an id seen twice keeps its last record.
fn read_page<R: Row>(
    results: Vec<Value>,
    stats: &mut Stats,
    issues: &mut Vec<ItemIssue>,
) -> Vec<Item<R>> {
    let mut items: Vec<Item<R>> = Vec::with_capacity(results.len());
    let mut index: HashMap<i64, usize> = HashMap::new();
    for mut raw in results {
        stats.total += 1;
        let nul = crate::text::strip_nul(&mut raw);
        let read = match R::read(&raw) {
            Ok(read) => read,
            Err(refused) => {
                let i = issue(refused.id, refused.reason, &raw, false);
                stats.push_issue(i.clone());
                issues.push(i);
                continue;
            }
        };
        let id = read.record.id();
        let nul = nul.then(|| crate::text::NUL_REMOVED.to_owned());
        for w in read.warnings.into_iter().chain(nul) {
            let i = issue(Some(id.to_string()), w, &raw, true);
            stats.push_issue(i.clone());
            issues.push(i);
        }
        let hash = hash_of(&raw);
        let item = Item {
            record: read.record,
            raw,
            hash,
        };
        if let Some(&at) = index.get(&id) {
            let i = issue(
                Some(id.to_string()),
                format!("id {id} appears twice in one page: the last record is kept"),
                &item.raw,
                true,
            );
            stats.push_issue(i.clone());
            issues.push(i);
            items[at] = item;
        } else {
            index.insert(id, items.len());
            items.push(item);
        }
    }
    items
}

/// Writes a page: new records inserted, changed ones updated, unchanged ones counted.
/// All in one savepoint when nothing fails; else record by record, each in its own, so
/// a record the database refuses is recorded and the others are kept.
async fn apply<R: Row>(
    txn: &DatabaseTransaction,
    items: Vec<Item<R>>,
    stats: &mut Stats,
    issues: &mut Vec<ItemIssue>,
) -> Result<(), DbErr> {
    if items.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = items.iter().map(|i| i.record.id()).collect();
    let existing: HashMap<i64, String> = R::Entity::find()
        .select_only()
        .column(R::id_column())
        .column(R::hash_column())
        .filter(R::id_column().is_in(ids))
        .into_tuple::<(i64, String)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let mut new = Vec::new();
    let mut changed = Vec::new();
    for item in items {
        match existing.get(&item.record.id()) {
            None => new.push(item),
            Some(hash) if *hash == item.hash => stats.unchanged += 1,
            Some(_) => changed.push(item),
        }
    }
    let now = Utc::now();
    let savepoint = txn.begin().await?;
    match write_all::<R>(&savepoint, &new, &changed, now).await {
        Ok(()) => {
            savepoint.commit().await?;
            stats.created += new.len() as u64;
            stats.updated += changed.len() as u64;
            return Ok(());
        }
        Err(e) => {
            savepoint.rollback().await?;
            tracing::debug!("page write failed ({e}): writing its records one by one");
        }
    }
    for (item, is_new) in new
        .iter()
        .map(|i| (i, true))
        .chain(changed.iter().map(|i| (i, false)))
    {
        let savepoint = txn.begin().await?;
        let result = if is_new {
            write_all::<R>(&savepoint, std::slice::from_ref(item), &[], now).await
        } else {
            write_all::<R>(&savepoint, &[], std::slice::from_ref(item), now).await
        };
        match result {
            Ok(()) => {
                savepoint.commit().await?;
                if is_new {
                    stats.created += 1;
                } else {
                    stats.updated += 1;
                }
            }
            Err(e) => {
                savepoint.rollback().await?;
                let i = issue(
                    Some(item.record.id().to_string()),
                    format!("the database refused the record: {e}"),
                    &item.raw,
                    false,
                );
                stats.push_issue(i.clone());
                issues.push(i);
            }
        }
    }
    Ok(())
}

async fn write_all<R: Row>(
    txn: &DatabaseTransaction,
    new: &[Item<R>],
    changed: &[Item<R>],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let rows = match sea_orm::ConnectionTrait::get_database_backend(txn) {
        sea_orm::DbBackend::Sqlite => SQLITE_INSERT_ROWS,
        _ => NETWORK_INSERT_ROWS,
    };
    for chunk in new.chunks(rows) {
        let models = chunk
            .iter()
            .map(|i| i.record.active(&i.raw, &i.hash, now, true));
        R::Entity::insert_many(models)
            .exec_without_returning(txn)
            .await?;
    }
    for item in changed {
        R::Entity::update_many()
            .set(item.record.active(&item.raw, &item.hash, now, false))
            .filter(R::id_column().eq(item.record.id()))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Writes the stored records of a listing as JSON Lines, one record per line as the API
/// sent it, in id order. Reads [`EXPORT_BATCH`] rows at a time; returns the count.
pub async fn export(
    db: &DatabaseConnection,
    kind: CeremaKind,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    match kind {
        CeremaKind::Users => export_table::<UserRecord>(db, out).await,
        CeremaKind::Structures => export_table::<StructureRecord>(db, out).await,
    }
}

async fn export_table<R: Row>(
    db: &DatabaseConnection,
    out: &mut impl Write,
) -> anyhow::Result<u64> {
    let mut after: Option<i64> = None;
    let mut written = 0;
    loop {
        let mut query = R::Entity::find()
            .select_only()
            .column(R::id_column())
            .column(R::raw_column())
            .order_by_asc(R::id_column())
            .limit(EXPORT_BATCH);
        if let Some(last) = after {
            query = query.filter(R::id_column().gt(last));
        }
        let rows: Vec<(i64, Value)> = query.into_tuple().all(db).await?;
        let Some(&(last, _)) = rows.last() else {
            break;
        };
        for (_, raw) in &rows {
            serde_json::to_writer(&mut *out, raw)?;
            out.write_all(b"\n")?;
            written += 1;
        }
        after = Some(last);
    }
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_through_json() {
        let p = Position {
            base: "https://portaildf.cerema.fr/".to_owned(),
            next: "https://portaildf.cerema.fr/api/utilisateurs/?page=3".to_owned(),
            page: 3,
        };
        assert_eq!(Position::from_json(&p.to_json()), Some(p));
        assert_eq!(Position::from_json(&json!({"page": 3})), None);
    }

    #[test]
    fn a_page_keeps_the_last_of_two_records_with_one_id() {
        let mut stats = Stats::default();
        let mut issues = Vec::new();
        let items = read_page::<UserRecord>(
            vec![
                json!({"id_user": 1, "email": "a@x.fr"}),
                json!({"email": "sans-id@x.fr"}),
                json!({"id_user": "12a"}),
                json!({"id_user": "1", "email": "b@x.fr"}),
            ],
            &mut stats,
            &mut issues,
        );
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].record.email.as_deref(), Some("b@x.fr"));
        assert_eq!((stats.total, stats.errors, stats.warnings), (4, 2, 1));
        assert_eq!(issues.len(), 3);
        assert_eq!(issues[1].external_id.as_deref(), Some("12a"));
    }
}
