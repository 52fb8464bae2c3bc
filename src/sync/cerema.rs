//! Cerema Portail DF sync: users or structures, page by page, upserted by their
//! upstream id. Each page commits in one transaction together with the checkpoint that
//! lets the next run resume right after it; a completed run clears the checkpoint.

use std::collections::HashMap;
use std::io::Write;
use std::marker::PhantomData;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::instant::Instant;
use entity::sync_run::Source;
use entity::{cerema_structure, cerema_user};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    NotSet, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::page::{PageLog, PageWrite, SyncCtx, Written, content_hash, insert_all, write_page};
use super::run::Run;
use super::{Interrupt, Observer, Progress, RunError, RunReport, checkpoint};
use crate::cerema::parse::{self, Read, Refused, StructureRecord, UserRecord};
use crate::cerema::{CeremaClient, CeremaKind, CeremaPages, NumberedPage};
use crate::db::begin_write;

/// Least time between the starts of two page requests: the original scripts' pause.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(500);
/// Default of `--concurrency`: pages asked at once when `next` links show page numbers
/// (the delay still spaces their starts).
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Rows read per query by `export`: memory stays flat whatever the table holds.
const EXPORT_BATCH: u64 = 1_000;

/// How a Cerema sync runs.
#[derive(Debug, Clone)]
pub struct CeremaSyncOptions {
    /// Least time between the starts of two page requests.
    pub delay: Duration,
    /// Pages asked at once when the listing's links show page numbers.
    pub concurrency: usize,
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
    let options = json!({
        "base_url": client.base().as_str(),
        "delay_secs": opts.delay.as_secs_f64(),
        "concurrency": opts.concurrency,
        "max_pages": opts.max_pages,
        "restart": opts.restart,
    });
    let run = Run::start(db, Source::Cerema, kind.name(), options).await?;
    let mut ctx = SyncCtx::new(db, run.id, &observer, interrupt);
    let mut walk = Walk::default();
    let outcome = match kind {
        CeremaKind::Users => {
            walk_pages::<UserRecord>(&mut ctx, client, kind, opts, &mut walk).await
        }
        CeremaKind::Structures => {
            walk_pages::<StructureRecord>(&mut ctx, client, kind, opts, &mut walk).await
        }
    };
    let complete = matches!(outcome, Ok(true)) && walk.next_page.is_none();
    let interrupted = format!(
        "interrupted at page {}: the next run continues from there",
        walk.next_page.unwrap_or(1)
    );
    let report = run.conclude(db, ctx.stats, outcome, interrupted).await?;
    Ok(CeremaReport {
        kind: kind.name(),
        run: report,
        pages: walk.pages,
        resumed_from_page: walk.resumed_from_page,
        complete,
        next_page: walk.next_page,
    })
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

/// The pages to read: from the checkpoint's position (when it belongs to this base
/// URL), or from page 1; with the items read before, when resumed.
async fn starting_point(
    db: &DatabaseConnection,
    client: &CeremaClient,
    kind: CeremaKind,
    restart: bool,
) -> anyhow::Result<(CeremaPages, u32, Option<u64>)> {
    let name = checkpoint_name(kind);
    if restart && checkpoint::clear(db, &name).await? {
        tracing::info!("--restart: the saved position of {name} is forgotten");
    }
    let Some(saved) = checkpoint::load(db, &name).await? else {
        return Ok((client.pages(kind)?, 1, None));
    };
    match Position::from_json(&saved.position) {
        Some(p) if p.base == client.base().as_str() => {
            let done = u64::try_from(saved.done).unwrap_or(0);
            let pages = client
                .pages_from(kind, &p.next, p.page)?
                .after_received(done);
            tracing::info!(
                "resuming {} from page {} ({done} read by run {}); --restart starts over",
                kind.name(),
                p.page,
                saved.run_id
            );
            Ok((pages, p.page, Some(done)))
        }
        _ => {
            tracing::warn!(
                "the saved position of {name} belongs to another API URL: starting from page 1"
            );
            checkpoint::clear(db, &name).await?;
            Ok((client.pages(kind)?, 1, None))
        }
    }
}

/// Reads pages until the end (`Ok(true)`), `--max-pages` (`Ok(true)` with a next
/// page), an interrupt (`Ok(false)`) or an error. Each page commits with the position
/// of the next one.
async fn walk_pages<R: Row>(
    ctx: &mut SyncCtx<'_>,
    client: &CeremaClient,
    kind: CeremaKind,
    opts: &CeremaSyncOptions,
    walk: &mut Walk,
) -> anyhow::Result<bool> {
    let (pages, first, resumed) = starting_point(ctx.db, client, kind, opts.restart).await?;
    let mut pages = pages.concurrency(opts.concurrency).spaced(opts.delay);
    if let Some(max) = opts.max_pages {
        pages = pages.at_most(max);
    }
    let mut done = resumed.unwrap_or(0);
    if resumed.is_some() {
        walk.resumed_from_page = Some(first);
        (ctx.observer)(Progress::Resumed { page: first, done });
    }
    walk.next_page = Some(first);
    (ctx.observer)(Progress::Phase(match kind {
        CeremaKind::Users => "syncing Cerema users",
        CeremaKind::Structures => "syncing Cerema structures",
    }));
    let name = checkpoint_name(kind);
    loop {
        let page = tokio::select! {
            page = pages.next_page() => page,
            _ = ctx.interrupt.wait() => return Ok(false),
        };
        let Some(page) = page else { return Ok(true) };
        let NumberedPage {
            number,
            page,
            next_url,
        } = page?;
        done += page.results.len() as u64;
        let mut log = PageLog::default();
        let items = read_page::<R>(page.results, &mut log);

        let txn = begin_write(ctx.db).await?;
        write_items::<R>(&txn, items, &mut log).await?;
        match &next_url {
            Some(next) => {
                let position = Position {
                    base: client.base().to_string(),
                    next: next.clone(),
                    page: number + 1,
                };
                checkpoint::save(&txn, &name, ctx.run_id, position.to_json(), done).await?;
            }
            None => {
                checkpoint::clear(&txn, &name).await?;
            }
        }
        ctx.commit_page(txn, log).await?;

        walk.pages += 1;
        (ctx.observer)(Progress::Page {
            number,
            expected: page.count,
            done,
        });
        if next_url.is_none() {
            walk.next_page = None;
            return Ok(true);
        }
        walk.next_page = Some(number + 1);
        if ctx.interrupt.is_set() {
            return Ok(false);
        }
        if opts.max_pages.is_some_and(|max| walk.pages >= max) {
            return Ok(true);
        }
    }
}

/// A record ready to write.
struct Item<R> {
    record: R,
    raw: Value,
    hash: String,
    /// Not stored yet (else stored with another hash).
    new: bool,
}

/// Reads a page's records: refused ones become errors, unreadable fields warnings, and
/// an id seen twice keeps its last record.
fn read_page<R: Row>(results: Vec<Value>, log: &mut PageLog) -> Vec<Item<R>> {
    let mut items: Vec<Item<R>> = Vec::with_capacity(results.len());
    let mut index: HashMap<i64, usize> = HashMap::new();
    for mut raw in results {
        log.stats.total += 1;
        let nul = crate::text::strip_nul(&mut raw);
        let read = match R::read(&raw) {
            Ok(read) => read,
            Err(refused) => {
                log.error(refused.id, refused.reason, &raw);
                continue;
            }
        };
        let id = read.record.id();
        log.warnings(&id.to_string(), read.warnings, nul, &raw);
        let item = Item {
            record: read.record,
            hash: content_hash(&raw),
            raw,
            new: true,
        };
        if let Some(&at) = index.get(&id) {
            log.warning(
                Some(id.to_string()),
                format!("id {id} appears twice in one page: the last record is kept"),
                &item.raw,
            );
            items[at] = item;
        } else {
            index.insert(id, items.len());
            items.push(item);
        }
    }
    items
}

/// Writes a page: new records inserted, changed ones updated, unchanged ones counted
/// (by [`write_page`]'s rule: a record the database refuses is an error of its own).
async fn write_items<R: Row>(
    txn: &DatabaseTransaction,
    items: Vec<Item<R>>,
    log: &mut PageLog,
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
    let mut work = Vec::with_capacity(items.len());
    for mut item in items {
        match existing.get(&item.record.id()) {
            None => work.push(item),
            Some(hash) if *hash == item.hash => log.stats.unchanged += 1,
            Some(_) => {
                item.new = false;
                work.push(item);
            }
        }
    }
    let mut writer = Rows {
        log,
        now: Utc::now(),
        kind: PhantomData,
    };
    let written = write_page(txn, &mut writer, &work).await?;
    log.stats.created += written.created;
    log.stats.updated += written.updated;
    Ok(())
}

/// Writes records of one kind: the new ones in multi-row INSERTs, the others updated.
struct Rows<'a, R> {
    log: &'a mut PageLog,
    now: DateTime<Utc>,
    kind: PhantomData<R>,
}

impl<R: Row> PageWrite for Rows<'_, R> {
    type Item = Item<R>;

    async fn all(
        &mut self,
        txn: &DatabaseTransaction,
        items: &[Item<R>],
    ) -> Result<Written, DbErr> {
        let mut written = Written::default();
        let mut new = Vec::new();
        for item in items {
            let row = item
                .record
                .active(&item.raw, &item.hash, self.now, item.new);
            written.add(Written::one(item.new));
            if item.new {
                new.push(row);
            } else {
                R::Entity::update_many()
                    .set(row)
                    .filter(R::id_column().eq(item.record.id()))
                    .exec(txn)
                    .await?;
            }
        }
        insert_all(txn, new).await?;
        Ok(written)
    }

    async fn one(&mut self, txn: &DatabaseTransaction, item: &Item<R>) -> Result<Written, DbErr> {
        self.all(txn, std::slice::from_ref(item)).await
    }

    async fn refused(
        &mut self,
        _txn: &DatabaseTransaction,
        item: &Item<R>,
        error: DbErr,
    ) -> Result<(), DbErr> {
        let id = item.record.id().to_string();
        let error = format!("the database refused the record: {error}");
        self.log.error(Some(id), error, &item.raw);
        Ok(())
    }
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
            let mut line = serde_json::Serializer::with_formatter(&mut *out, PythonStyle);
            serde::Serialize::serialize(raw, &mut line)?;
            out.write_all(b"\n")?;
            written += 1;
        }
        after = Some(last);
    }
    out.flush()?;
    Ok(written)
}

/// JSON on one line as Python's `json.dumps` writes it by default apart from non-ASCII
/// text (kept as UTF-8): `", "` between items and `": "` after keys, so the lines read
/// as the original scripts' `utilisateurs.jsonl` did, and their `grep` recipes
/// (`grep '"gestionnaire": true'`) keep working.
struct PythonStyle;

impl serde_json::ser::Formatter for PythonStyle {
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exported_lines_are_written_as_python_writes_them() {
        let raw: Value = serde_json::from_str(
            r#"{"id_user":7,"email":"a@b.fr","gestionnaire":true,"groupe":null,"tags":[1,"é"],"s":{"id":3}}"#,
        )
        .expect("JSON");
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonStyle);
        serde::Serialize::serialize(&raw, &mut ser).expect("serialize");
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            r#"{"id_user": 7, "email": "a@b.fr", "gestionnaire": true, "groupe": null, "tags": [1, "é"], "s": {"id": 3}}"#
        );
    }

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
        let mut log = PageLog::default();
        let items = read_page::<UserRecord>(
            vec![
                json!({"id_user": 1, "email": "a@x.fr"}),
                json!({"email": "sans-id@x.fr"}),
                json!({"id_user": "12a"}),
                json!({"id_user": "1", "email": "b@x.fr"}),
            ],
            &mut log,
        );
        let (stats, issues) = (log.stats, log.issues);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].record.email.as_deref(), Some("b@x.fr"));
        assert_eq!((stats.total, stats.errors, stats.warnings), (4, 2, 1));
        assert_eq!(issues.len(), 3);
        assert_eq!(issues[1].external_id.as_deref(), Some("12a"));
    }
}
