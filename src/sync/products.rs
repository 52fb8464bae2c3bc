//! `sync-products`: pages applied in write transactions that span batches (a batch in
//! one savepoint, else a savepoint per product), unchanged products skipped by content
//! hash, the position of the pass committed with the pages (a later run continues it),
//! and products no longer upstream marked `missing` after a whole pass, within the
//! guard of [`MissingRule`].

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::external_product::{self, SyncStatus};
use entity::prelude::*;
use entity::sync_run::Source;
use entity::{external_category, product};
use sea_orm::sea_query::{Expr, Query, QueryStatementBuilder};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QuerySelect, QueryTrait, Set, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::run::{Run, save_figures, save_issues};
use super::slug::{slugify, with_suffix};
use super::{Interrupt, ItemIssue, Observer, Progress, RunError, RunReport, Stats, checkpoint};
use crate::b2b::parse::{CategoryRecord, CategoryRef, ProductRecord, RawItem, read_product};
use crate::b2b::{B2bClient, B2bError, NumberedPage};
use crate::db::{begin_write, is_unique_violation};

/// Default products endpoint, relative to `B2B_API_URL`.
pub const DEFAULT_PRODUCTS_ENDPOINT: &str = "b2c/products/";
/// Default `page_size` asked of the API (it may send other sizes: `next` is followed).
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Pages fetched ahead while the current ones are written.
pub const MAX_IN_FLIGHT_PAGES: usize = 8;
/// Pages already fetched are applied together, up to this many items in one batch
/// (a few multi-row statements): never more memory than a few pages.
pub const MAX_ITEMS_PER_BATCH: usize = 1_000;
/// A write transaction spans batches while pages keep coming, and is committed after
/// this many items, after [`COMMIT_AFTER`], whenever the next page is not there yet
/// (the write lock is never held while waiting for the network), and at the end.
/// Each commit writes out every index page it touched: committing every few hundred
/// items made a first sync a fifth slower.
pub const COMMIT_EVERY_ITEMS: usize = 4_000;
/// See [`COMMIT_EVERY_ITEMS`]: what a crash can lose (to be synced again) is bounded
/// by this much work.
pub const COMMIT_AFTER: Duration = Duration::from_millis(250);
/// Ids per `IN (...)` list: a transaction's items in one statement (SQLite binds at
/// most 32,766 parameters, PostgreSQL 65,535).
const IN_CHUNK: usize = 10_000;
/// Most parameters one SQLite statement binds (`SQLITE_MAX_VARIABLE_NUMBER` since 3.32).
const SQLITE_MAX_PARAMS: usize = 32_766;
/// Multi-row INSERTs of `columns` columns for `items`. On SQLite (in-process, each
/// statement costs a thread hop) as many rows as it binds, in power-of-two row counts:
/// a dozen statement shapes, each prepared once and then found in the statement cache,
/// where a statement per exact count would be parsed again at every page and crowd the
/// cache. Elsewhere few rows, because sqlx 0.9.0 leaves Nagle's algorithm on and a
/// message past a few kilobytes then waits ~40 ms for a delayed ACK (sqlx issue #4335).
fn insert_chunks<T>(backend: DbBackend, columns: usize, items: Vec<T>) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut it = items.into_iter().peekable();
    let max = match backend {
        DbBackend::Sqlite => (SQLITE_MAX_PARAMS / columns.max(1)).max(1),
        _ => 25,
    };
    let mut left = it.len();
    while it.peek().is_some() {
        let mut size = left.min(max);
        if backend == DbBackend::Sqlite {
            size = 1 << size.ilog2();
        }
        out.push(it.by_ref().take(size).collect());
        left -= size;
    }
    out
}

#[derive(Debug, Clone)]
pub struct ProductSyncOptions {
    pub endpoint: String,
    pub page_size: u32,
    pub site_id: Option<i64>,
    /// Forget the saved position of an unfinished pass and start from page 1.
    pub restart: bool,
    pub missing: MissingRule,
}

impl Default for ProductSyncOptions {
    fn default() -> Self {
        ProductSyncOptions {
            endpoint: DEFAULT_PRODUCTS_ENDPOINT.to_owned(),
            page_size: DEFAULT_PAGE_SIZE,
            site_id: None,
            restart: false,
            missing: MissingRule::default(),
        }
    }
}

/// Default of `--max-missing-percent`: a run that would unpublish more of the stored
/// products than this does not (an API answering a short listing by mistake must not
/// empty a shop).
pub const DEFAULT_MAX_MISSING_PERCENT: f64 = 10.0;

/// How many stored products one complete pass may mark missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MissingRule {
    /// Largest share of the stored products (0.10 = 10 %).
    pub max_share: f64,
    /// Mark them however many they are (`--allow-missing`).
    pub allow_any: bool,
}

impl Default for MissingRule {
    fn default() -> Self {
        MissingRule {
            max_share: DEFAULT_MAX_MISSING_PERCENT / 100.0,
            allow_any: false,
        }
    }
}

/// Runs a products sync: from page 1, or from where an unfinished pass stopped, to the
/// end (or to Ctrl-C / SIGTERM). After a pass that read the whole listing and received
/// as many items as its `count` says, the products it did not see become `missing`,
/// unless they are more than [`MissingRule`] allows.
pub async fn sync_products(
    db: &DatabaseConnection,
    client: &B2bClient,
    opts: &ProductSyncOptions,
    observer: Observer,
    interrupt: &Interrupt,
) -> Result<RunReport, RunError> {
    let options = json!({
        "endpoint": opts.endpoint,
        "page_size": opts.page_size,
        "site_id": opts.site_id,
        "api_key": &client.key().label,
        "restart": opts.restart,
    });
    let run = Run::start(db, Source::B2b, "products", options).await?;
    let mut stats = Stats::default();
    let mut note = None;
    let mut outcome = run_pages(db, client, opts, run.id, &mut stats, &observer, interrupt).await;
    if let Ok(Some(pass)) = &outcome {
        let pass = *pass;
        let finished = async {
            let linked = link_late_categories(db, pass).await?;
            if linked > 0 {
                tracing::info!("{linked} products linked to categories met later in the listing");
            }
            if opts.site_id.is_some() {
                return Ok(None);
            }
            observer(Progress::Phase("marking missing products"));
            mark_missing(db, pass, opts.missing).await.map(Some)
        }
        .await;
        match finished {
            Ok(None) => {}
            Ok(Some(Missing::Marked(n))) => stats.missing = n,
            Ok(Some(Missing::Withheld { would, stored })) => {
                stats.missing_withheld = would;
                note = Some(withheld_message(would, stored, opts.missing.max_share));
            }
            Err(e) => outcome = Err(anyhow::Error::from(e)),
        }
    }
    let interrupted = format!(
        "interrupted after {} products; what was applied is kept, the next run continues \
         from there",
        stats.total
    );
    let outcome = outcome.map(|pass| pass.is_some());
    run.conclude_noted(db, stats, outcome, interrupted, note)
        .await
}

fn withheld_message(would: u64, stored: u64, max_share: f64) -> String {
    let share = would as f64 * 100.0 / stored.max(1) as f64;
    format!(
        "{would} of the {stored} stored products ({share:.0}%) were not in the listing, more \
         than the {:.0}% a run may mark missing (B2B_MAX_MISSING_PERCENT): none was marked; \
         check the API, then run again with --allow-missing to mark them",
        max_share * 100.0
    )
}

/// Longest checkpoint name the `sync_checkpoints` table takes.
const MAX_CHECKPOINT_NAME: usize = 64;

/// The checkpoint of a products listing (one per endpoint and site); a digest of the
/// listing when its name would be too long.
fn checkpoint_name(opts: &ProductSyncOptions) -> String {
    let listing = match opts.site_id {
        Some(site) => format!("{}?site_id={site}", opts.endpoint),
        None => opts.endpoint.clone(),
    };
    let name = format!("b2b:products:{listing}");
    if name.chars().count() <= MAX_CHECKPOINT_NAME {
        return name;
    }
    let digest = hex::encode(Sha256::digest(listing.as_bytes()));
    format!("b2b:products:{}", &digest[..32])
}

/// Where one pass over the listing stands: the checkpoint's position, saved with every
/// commit, so a run that stops continues where the committed pages end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pass {
    /// The first run of the pass: a product seen by it or by a later run was seen by
    /// the pass (run ids only grow).
    run_id: i32,
    /// The page to fetch next; `None` once the listing has been read to its end.
    next: Option<String>,
    /// The number of the last page applied.
    page: u32,
    /// Items received by the pass, every run of it.
    received: u64,
    /// The listing's `count`, as its last page applied gave it.
    count: Option<u64>,
}

/// The pass to continue (`--restart` forgets it), or a new one from page 1.
async fn starting_point(
    db: &DatabaseConnection,
    client: &B2bClient,
    opts: &ProductSyncOptions,
    run_id: i32,
) -> anyhow::Result<Pass> {
    let name = checkpoint_name(opts);
    if opts.restart && checkpoint::clear(db, &name).await? {
        tracing::info!("--restart: the saved position of {name} is forgotten");
    }
    if let Some(saved) = checkpoint::load(db, &name).await? {
        match serde_json::from_value::<Pass>(saved.position) {
            Ok(pass)
                if pass
                    .next
                    .as_deref()
                    .is_some_and(|url| client.product_pages_from(url, 0).is_ok()) =>
            {
                tracing::info!(
                    "resuming the products listing at page {} ({} products read since run {}); \
                     --restart starts over",
                    pass.page + 1,
                    pass.received,
                    pass.run_id
                );
                return Ok(pass);
            }
            _ => {
                tracing::warn!(
                    "the saved position of {name} is not on B2B_API_URL's listing: starting \
                     from page 1"
                );
                checkpoint::clear(db, &name).await?;
            }
        }
    }
    let first = client.first_products_url(&opts.endpoint, opts.page_size, opts.site_id)?;
    Ok(Pass {
        run_id,
        next: Some(first.to_string()),
        page: 0,
        received: 0,
        count: None,
    })
}

/// A page that says the listing goes on but holds nothing: an upstream fault, never the
/// end of the listing.
fn empty_page_error(page: &NumberedPage, received: u64) -> Option<B2bError> {
    let count = page.page.count?;
    (page.page.items.is_empty() && received < count).then(|| B2bError::Shape {
        url: page.url.clone(),
        reason: format!(
            "page {} is empty while `count` says {count} products and {received} were \
             received: stopping here, nothing marked missing (the next run continues from \
             this page)",
            page.number
        ),
    })
}

/// Applies every page of the pass; `Ok(Some(pass run id))` when the listing was read to
/// its end and received whole, `Ok(None)` when interrupted. On an error, `stats` holds
/// what was committed, and the saved position the page to continue from.
async fn run_pages(
    db: &DatabaseConnection,
    client: &B2bClient,
    opts: &ProductSyncOptions,
    run_id: i32,
    stats: &mut Stats,
    observer: &Observer,
    interrupt: &Interrupt,
) -> anyhow::Result<Option<i32>> {
    let start = starting_point(db, client, opts, run_id).await?;
    let Some(first) = start.next.as_deref() else {
        anyhow::bail!("the saved position has no page to fetch");
    };
    let mut pages = client.product_pages_from(first, start.page)?;
    if start.run_id != run_id {
        observer(Progress::Resumed {
            page: start.page + 1,
            done: start.received,
        });
    }
    let (tx, mut rx) = mpsc::channel(MAX_IN_FLIGHT_PAGES);
    let mut received = start.received;
    let fetcher = tokio::spawn(async move {
        while let Some(page) = pages.next_page().await {
            let page = page.and_then(|p: NumberedPage| match empty_page_error(&p, received) {
                Some(e) => Err(e),
                None => {
                    received += p.page.items.len() as u64;
                    Ok(ReadPage {
                        number: p.number,
                        count: p.page.count,
                        next: p.next_url,
                        entries: p.page.items.into_iter().map(Entry::read).collect(),
                    })
                }
            });
            let failed = page.is_err();
            if tx.send(page).await.is_err() || failed {
                break;
            }
        }
    });
    let _stop_fetcher = AbortOnDrop(fetcher);
    let mut state = State::load(db, client, run_id).await?;
    let mut writer = Writer {
        open: None,
        committed: stats.clone(),
        run_id,
        checkpoint: checkpoint_name(opts),
        pass: start,
    };
    let done_before = writer.pass.received;
    observer(Progress::Phase("syncing products"));
    let outcome = loop {
        if rx.is_empty() {
            writer.commit(stats).await?;
        }
        // Waiting for a slow page must not delay Ctrl-C.
        let page = tokio::select! {
            page = rx.recv() => page,
            () = interrupt.wait() => break Ok(false),
        };
        let Some(page) = page else { break Ok(true) };
        let page: ReadPage = match page {
            Ok(page) => page,
            Err(e) => break Err(anyhow::Error::from(e)),
        };
        let expected = page.count;
        let first_number = page.number;
        let mut items = Vec::new();
        writer.pass.take(page, &mut items);
        // Pages that are already here join this batch.
        let mut failed = None;
        while items.len() < MAX_ITEMS_PER_BATCH {
            match rx.try_recv() {
                Ok(Ok(more)) => writer.pass.take(more, &mut items),
                Ok(Err(e)) => {
                    failed = Some(e);
                    break;
                }
                Err(_) => break,
            }
        }
        let applied = async {
            let txn = writer.txn(db).await?;
            if first_number == 1
                && let Some(id) = client.key().stored_id
            {
                crate::keys::mark_used(txn, id).await?;
            }
            apply_page(txn, &mut state, items, stats, interrupt).await
        }
        .await;
        if let Err(e) = applied {
            // The transaction rolls back: the figures go back to what was committed.
            *stats = writer.committed;
            return Err(e);
        }
        if let Some(e) = failed {
            break Err(e.into());
        }
        observer(Progress::Page {
            number: writer.pass.page,
            expected,
            done: done_before + stats.total,
        });
        if interrupt.is_set() {
            break Ok(false);
        }
        writer.commit_if_due(stats).await?;
    };
    // What was applied is kept, also when the listing failed part-way: the position
    // commits with it.
    writer.commit(stats).await?;
    if !outcome? {
        return Ok(None);
    }
    let pass = &writer.pass;
    if let Some(count) = pass.count
        && pass.received != count
    {
        anyhow::bail!(
            "the products listing ended after {} products while its `count` says {count}: \
             nothing was marked missing (what was received is stored); run again to read \
             the listing anew",
            pass.received
        );
    }
    Ok(Some(pass.run_id))
}

impl Pass {
    /// Takes an applied page into the pass, its entries into `items`.
    fn take(&mut self, page: ReadPage, items: &mut Vec<Entry>) {
        self.page = page.number;
        self.received += page.entries.len() as u64;
        self.next = page.next;
        if page.count.is_some() {
            self.count = page.count;
        }
        items.extend(page.entries);
    }
}

/// The write transaction kept open across batches (see [`COMMIT_EVERY_ITEMS`]).
struct Writer {
    open: Option<(DatabaseTransaction, Instant)>,
    /// The figures as last committed.
    committed: Stats,
    run_id: i32,
    /// The checkpoint the pass's position is saved to.
    checkpoint: String,
    /// Where the pass stands after the last page applied (committed with it).
    pass: Pass,
}

impl Writer {
    /// The open transaction, begun if there is none.
    async fn txn(&mut self, db: &DatabaseConnection) -> Result<&DatabaseTransaction, DbErr> {
        let open = match self.open.take() {
            Some(open) => open,
            None => (begin_write(db).await?, Instant::now()),
        };
        Ok(&self.open.insert(open).0)
    }

    async fn commit_if_due(&mut self, stats: &Stats) -> Result<(), DbErr> {
        let done_since_commit = stats.total.saturating_sub(self.committed.total);
        let due = self.open.as_ref().is_some_and(|(_, since)| {
            done_since_commit >= COMMIT_EVERY_ITEMS as u64 || since.elapsed() >= COMMIT_AFTER
        });
        if due {
            self.commit(stats).await?;
        }
        Ok(())
    }

    /// Commits the open transaction, if any, with the run's figures and the position.
    async fn commit(&mut self, stats: &Stats) -> Result<(), DbErr> {
        if let Some((txn, _)) = self.open.take() {
            save_figures(&txn, self.run_id, stats).await?;
            if self.pass.next.is_some() {
                let position = serde_json::to_value(&self.pass)
                    .map_err(|e| DbErr::Custom(format!("cannot save the position: {e}")))?;
                checkpoint::save(
                    &txn,
                    &self.checkpoint,
                    self.run_id,
                    position,
                    self.pass.received,
                )
                .await?;
            } else {
                checkpoint::clear(&txn, &self.checkpoint).await?;
            }
            txn.commit().await?;
            self.committed = stats.clone();
        }
        Ok(())
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the sync knows across pages: the category mapping, the key, the run.
struct State {
    run_id: i32,
    categories: HashMap<i64, i32>,
    api_key_id: Option<i32>,
    api_key_name: String,
}

impl State {
    async fn load(
        db: &DatabaseConnection,
        client: &B2bClient,
        run_id: i32,
    ) -> Result<State, DbErr> {
        let categories = ExternalCategory::find()
            .select_only()
            .columns([
                external_category::Column::ExternalId,
                external_category::Column::CategoryId,
            ])
            .into_tuple::<(i64, i32)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        Ok(State {
            run_id,
            categories,
            api_key_id: client.key().stored_id,
            api_key_name: client.key().name.clone(),
        })
    }
}

/// One upstream item on its way in.
struct Entry {
    raw: RawItem,
    external_id: Option<i64>,
    record: Result<ProductRecord, String>,
    /// `slugify(title)`, the slug a new product gets unless it is taken.
    slug: String,
    digest: [u8; 32],
}

impl Entry {
    /// Parses and digests an item; pure CPU work, done by the fetch task.
    fn read(raw: RawItem) -> Entry {
        let read = read_product(raw.json());
        Entry {
            slug: read
                .record
                .as_ref()
                .map(|r| slugify(&r.title))
                .unwrap_or_default(),
            external_id: read.external_id,
            record: read.record.map_err(|e| e.0),
            digest: Sha256::digest(raw.bytes()).into(),
            raw,
        }
    }
}

/// The id an issue shows: the usable id, else whatever `id` the item holds.
fn shown_id(external_id: Option<i64>, raw: &RawItem) -> Option<String> {
    external_id.map(|id| id.to_string()).or_else(|| {
        raw.to_value()
            .and_then(|v| v.get("id").map(|id| id.to_string()))
    })
}

/// A fetched page, its items already parsed.
struct ReadPage {
    number: u32,
    count: Option<u64>,
    /// The next page's URL, `None` on the last page.
    next: Option<String>,
    entries: Vec<Entry>,
}

/// What to do with an item's category.
enum CategoryPlan {
    None,
    Known(i32),
    Create { external_id: i64, name: String },
    Unknown(i64),
}

impl CategoryPlan {
    fn of(state: &State, r: &Option<CategoryRef>) -> CategoryPlan {
        match r {
            None => CategoryPlan::None,
            Some(r) => match (state.categories.get(&r.id()), r) {
                (Some(local), _) => CategoryPlan::Known(*local),
                (
                    None,
                    CategoryRef::Object {
                        id,
                        name: Some(name),
                    },
                ) => CategoryPlan::Create {
                    external_id: *id,
                    name: name.clone(),
                },
                (None, _) => CategoryPlan::Unknown(r.id()),
            },
        }
    }

    /// The local category a stored product must have to be unchanged; `Err` when it
    /// does not exist yet (the product is written, its category created).
    fn local(&self) -> Result<Option<i32>, ()> {
        match self {
            CategoryPlan::Known(local) => Ok(Some(*local)),
            CategoryPlan::None | CategoryPlan::Unknown(_) => Ok(None),
            CategoryPlan::Create { .. } => Err(()),
        }
    }
}

/// A content hash in hex, on the stack.
struct Hash([u8; 64]);

impl Hash {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// What is stored and compared: the digest of the item's bytes as received (taken on
/// the fetch side). Whether the category resolves is compared on the row itself (see
/// [`CategoryPlan::local`]), so the hash never depends on the order pages came in. The
/// suffix keeps the hashes stored before that rule.
fn content_hash(digest: &[u8; 32]) -> Hash {
    let mut h = Sha256::new();
    h.update(digest);
    h.update(b"|cat");
    let mut out = Hash([0; 64]);
    // 32 bytes always fit 64 hex digits.
    let _ = hex::encode_to_slice(h.finalize(), &mut out.0);
    out
}

fn issue(external_id: Option<String>, error: String, raw: &RawItem) -> ItemIssue {
    ItemIssue {
        external_id,
        error,
        warning: false,
        payload: Some(match raw.to_value() {
            Some(v) => super::payload_excerpt(&v),
            None => super::text_excerpt(raw.json().to_owned()),
        }),
    }
}

/// What the sync needs of an existing link (the columns read for every item).
#[derive(Debug, Clone, FromQueryResult)]
struct Mapping {
    id: i32,
    product_id: i32,
    external_id: i64,
    content_hash: Option<String>,
    sync_status: SyncStatus,
    /// The stored product's category.
    category_id: Option<i32>,
}

impl Mapping {
    fn of(m: external_product::Model, category_id: Option<i32>) -> Mapping {
        Mapping {
            id: m.id,
            product_id: m.product_id,
            external_id: m.external_id,
            content_hash: m.content_hash,
            sync_status: m.sync_status,
            category_id,
        }
    }
}

async fn existing_mappings(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Mapping>, DbErr> {
    use external_product::Column as C;
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        for m in ExternalProduct::find()
            .select_only()
            .columns([
                C::Id,
                C::ProductId,
                C::ExternalId,
                C::ContentHash,
                C::SyncStatus,
            ])
            .column_as(product::Column::CategoryId, "category_id")
            .join(
                sea_orm::JoinType::InnerJoin,
                sea_orm::RelationTrait::def(&external_product::Relation::Product),
            )
            .filter(C::ExternalId.is_in(chunk.iter().copied()))
            .into_model::<Mapping>()
            .all(db)
            .await?
        {
            out.insert(m.external_id, m);
        }
    }
    Ok(out)
}

async fn taken_slugs(
    db: &impl ConnectionTrait,
    candidates: Vec<String>,
) -> Result<HashSet<String>, DbErr> {
    let mut out = HashSet::new();
    for chunk in candidates.chunks(IN_CHUNK) {
        let rows = Product::find()
            .select_only()
            .column(product::Column::Slug)
            .filter(product::Column::Slug.is_in(chunk.iter().cloned()))
            .into_tuple::<String>()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Applies a batch of items in `txn`; each item in a savepoint of its own.
async fn apply_page(
    txn: &DatabaseTransaction,
    state: &mut State,
    entries: Vec<Entry>,
    stats: &mut Stats,
    interrupt: &Interrupt,
) -> anyhow::Result<()> {
    let ids: Vec<i64> = entries.iter().filter_map(|e| e.external_id).collect();
    let mut existing = existing_mappings(txn, &ids).await?;
    let candidates: Vec<String> = entries
        .iter()
        .filter_map(|e| match (&e.record, e.external_id) {
            (Ok(_), Some(id)) if !existing.contains_key(&id) => Some(e.slug.clone()),
            _ => None,
        })
        .collect();
    let mut slugs = taken_slugs(txn, candidates).await?;
    let mut page = Stats::default();
    let mut unchanged: Vec<i32> = Vec::new();
    let mut issues: Vec<ItemIssue> = Vec::new();
    let mut work: Vec<Work> = Vec::new();
    // Plan (no writes): errors, unchanged items, and the work left.
    for entry in entries {
        page.total += 1;
        let record = match entry.record {
            Ok(r) => r,
            Err(e) => {
                if let Some(m) = entry.external_id.and_then(|id| existing.get(&id)) {
                    mark_error(txn, m.id, state.run_id, &e).await?;
                }
                issues.push(issue(
                    shown_id(entry.external_id, &entry.raw),
                    e,
                    &entry.raw,
                ));
                continue;
            }
        };
        let plan = CategoryPlan::of(state, &record.category);
        let hash = content_hash(&entry.digest);
        if let Some(m) = existing.get(&record.external_id)
            && m.content_hash.as_deref() == Some(hash.as_str())
            && m.sync_status == SyncStatus::Synced
            && plan.local() == Ok(m.category_id)
        {
            page.unchanged += 1;
            unchanged.push(m.id);
            continue;
        }
        if !record.warnings.is_empty() {
            issues.push(ItemIssue {
                warning: true,
                ..issue(
                    shown_id(entry.external_id, &entry.raw),
                    record.warnings.join("; "),
                    &entry.raw,
                )
            });
        }
        if let CategoryPlan::Unknown(cat) = plan {
            issues.push(ItemIssue {
                warning: true,
                ..issue(
                    shown_id(entry.external_id, &entry.raw),
                    format!("unknown category {cat}: the product is kept without a category"),
                    &entry.raw,
                )
            });
        }
        work.push(Work {
            record,
            slug: entry.slug,
            plan,
            hash: hash.as_str().to_owned(),
            external_id: entry.external_id,
            raw: entry.raw,
        });
    }
    // Apply: all at once when nothing fails (the common case), else item by item.
    let batched = match apply_batch(txn, state, &work, &existing, &mut slugs).await? {
        Some(outcome) => {
            page.created += outcome.created;
            page.updated += outcome.updated;
            true
        }
        None => false,
    };
    if !batched {
        for w in work {
            if interrupt.is_set() {
                page.total -= 1;
                continue;
            }
            let mapping = existing.get(&w.record.external_id).cloned();
            // Planned again: an earlier item of the page may have created its category.
            let plan = CategoryPlan::of(state, &w.record.category);
            let savepoint = txn.begin().await?;
            let applied =
                apply_item(&savepoint, state, &w, mapping.as_ref(), &plan, &mut slugs).await;
            match applied {
                Ok(outcome) => {
                    savepoint.commit().await?;
                    if let Some((ext, local)) = outcome.new_category {
                        state.categories.insert(ext, local);
                    }
                    if outcome.created {
                        page.created += 1;
                    } else {
                        page.updated += 1;
                    }
                    if let Some(m) = outcome.mapping {
                        existing.insert(m.external_id, m);
                    }
                }
                Err(e) => {
                    savepoint.rollback().await?;
                    let message = explain(txn, &w.record, &e).await;
                    if let Some(m) = &mapping {
                        mark_error(txn, m.id, state.run_id, &message).await?;
                    }
                    issues.push(issue(shown_id(w.external_id, &w.raw), message, &w.raw));
                }
            }
        }
    }
    for chunk in unchanged.chunks(IN_CHUNK) {
        ExternalProduct::update_many()
            .col_expr(
                external_product::Column::LastSeenRunId,
                Expr::value(state.run_id),
            )
            .filter(external_product::Column::Id.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    save_issues(txn, state.run_id, &issues).await?;
    for i in issues {
        page.push_issue(i);
    }
    stats.absorb(page);
    Ok(())
}

/// An item that must be written.
struct Work {
    record: ProductRecord,
    slug: String,
    plan: CategoryPlan,
    hash: String,
    external_id: Option<i64>,
    raw: RawItem,
}

struct BatchOutcome {
    created: u64,
    updated: u64,
}

/// Writes a page's work in a few statements inside one savepoint: multi-row inserts for
/// new products, plain updates for changed ones. `None` (savepoint rolled back, nothing
/// written) when the batch cannot be used or one item fails; the caller then goes item
/// by item, each in its own savepoint, so the guarantee is the same.
async fn apply_batch(
    txn: &DatabaseTransaction,
    state: &State,
    work: &[Work],
    existing: &HashMap<i64, Mapping>,
    slugs: &mut HashSet<String>,
) -> Result<Option<BatchOutcome>, DbErr> {
    let needs_category = work
        .iter()
        .any(|w| matches!(w.plan, CategoryPlan::Create { .. }));
    // MySQL has no RETURNING to pair new rows with their ids.
    if work.is_empty() || needs_category || txn.get_database_backend() == DbBackend::MySql {
        return Ok(work.is_empty().then_some(BatchOutcome {
            created: 0,
            updated: 0,
        }));
    }
    let mut picked = slugs.clone();
    let savepoint = txn.begin().await?;
    match write_batch(&savepoint, state, work, existing, &mut picked).await {
        Ok(outcome) => {
            savepoint.commit().await?;
            *slugs = picked;
            Ok(Some(outcome))
        }
        Err(e) => {
            tracing::debug!("batch write failed, going item by item: {e}");
            savepoint.rollback().await?;
            Ok(None)
        }
    }
}

async fn write_batch(
    txn: &DatabaseTransaction,
    state: &State,
    work: &[Work],
    existing: &HashMap<i64, Mapping>,
    slugs: &mut HashSet<String>,
) -> Result<BatchOutcome, DbErr> {
    let now = Utc::now();
    let mut new_products = Vec::with_capacity(work.len());
    let mut new_items: Vec<(external_product::ActiveModel, String)> =
        Vec::with_capacity(work.len());
    let mut updated = 0;
    let mut seen = HashSet::new();
    for w in work {
        if !seen.insert(w.record.external_id) {
            return Err(DbErr::Custom(format!(
                "product {} twice in one page",
                w.record.external_id
            )));
        }
        let (fields, link) = rows(state, &w.record, &w.plan, None, &w.hash, now);
        match existing.get(&w.record.external_id) {
            Some(m) => {
                update_rows(txn, m, fields, link).await?;
                updated += 1;
            }
            None => {
                let slug = pick_slug(slugs, &w.slug, w.record.external_id);
                new_products.push(product::ActiveModel {
                    slug: Set(slug.clone()),
                    created_at: Set(now),
                    ..fields
                });
                new_items.push((link, slug));
            }
        }
    }
    let created = new_items.len() as u64;
    insert_new(txn, new_products, new_items).await?;
    Ok(BatchOutcome { created, updated })
}

/// One multi-row INSERT of [`insert_new`]: the products of a chunk, or their links.
#[derive(Clone, Copy)]
enum Step {
    Products(usize),
    Links(usize),
}

/// Inserts new products and their links, chunk by chunk, each statement built while
/// the one before runs (SQLite runs them on a thread of its own): products 0, products
/// 1, links 0, products 2, links 1, ... A chunk's links need its products' ids, which
/// came back two statements earlier.
async fn insert_new(
    txn: &DatabaseTransaction,
    products: Vec<product::ActiveModel>,
    links: Vec<(external_product::ActiveModel, String)>,
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    // The same chunks for both tables (the larger row decides their size), each taken
    // when its statement is built.
    fn chunked<T>(backend: DbBackend, items: Vec<T>) -> Vec<Option<Vec<T>>> {
        let columns = PRODUCT_COLUMNS.max(LINK_COLUMNS);
        insert_chunks(backend, columns, items)
            .into_iter()
            .map(Some)
            .collect()
    }
    let mut product_chunks = chunked(backend, products);
    let mut link_chunks = chunked(backend, links);
    let n = product_chunks.len();
    let mut order = Vec::with_capacity(2 * n);
    for i in 0..n {
        order.push(Step::Products(i));
        if i > 0 {
            order.push(Step::Links(i - 1));
        }
    }
    if n > 0 {
        order.push(Step::Links(n - 1));
    }
    let mut ids: HashMap<String, i32> = HashMap::new();
    let mut build = |step: Step, ids: &HashMap<String, i32>| -> Result<Statement, DbErr> {
        match step {
            Step::Products(i) => {
                let chunk = product_chunks[i].take().unwrap_or_default();
                // Only `id` and `slug` come back: decoding whole rows would cost more
                // than the insert. RETURNING's order is unspecified: rows are paired
                // with their links by unique slug.
                let mut insert = Product::insert_many(chunk).into_query();
                insert.returning(
                    Query::returning().columns([product::Column::Id, product::Column::Slug]),
                );
                Ok(backend.build(&insert))
            }
            Step::Links(i) => {
                let mut rows = Vec::new();
                for (link, slug) in link_chunks[i].take().unwrap_or_default() {
                    let product_id = *ids
                        .get(&slug)
                        .ok_or_else(|| DbErr::Custom(format!("no id for {slug}")))?;
                    rows.push(external_product::ActiveModel {
                        product_id: Set(product_id),
                        ..link
                    });
                }
                Ok(backend.build(&ExternalProduct::insert_many(rows).into_query()))
            }
        }
    };
    let mut next = order.first().map(|s| build(*s, &ids)).transpose()?;
    for (k, step) in order.iter().enumerate() {
        let Some(statement) = next.take() else { break };
        let upcoming = order.get(k + 1).copied();
        let (ran, built) = futures::join!(
            async {
                match step {
                    Step::Products(_) => txn.query_all_raw(statement).await.map(Some),
                    Step::Links(_) => txn.execute_raw(statement).await.map(|_| None),
                }
            },
            async { upcoming.map(|s| build(s, &ids)).transpose() }
        );
        for row in ran?.unwrap_or_default() {
            ids.insert(
                row.try_get_by_index::<String>(1)?,
                row.try_get_by_index::<i32>(0)?,
            );
        }
        next = built?;
    }
    Ok(())
}

/// Columns a new product row binds (all but `id`).
const PRODUCT_COLUMNS: usize = 13;
/// Columns a new link row binds (all but `id`).
const LINK_COLUMNS: usize = 11;

/// The product's columns and its link's columns, as an item is written.
fn rows(
    state: &State,
    record: &ProductRecord,
    plan: &CategoryPlan,
    created_category: Option<i32>,
    hash: &str,
    now: chrono::DateTime<Utc>,
) -> (product::ActiveModel, external_product::ActiveModel) {
    let category_id = match plan {
        CategoryPlan::Known(local) => Some(*local),
        CategoryPlan::Create { .. } => created_category,
        CategoryPlan::None | CategoryPlan::Unknown(_) => None,
    };
    let fields = product::ActiveModel {
        title: Set(record.title.clone()),
        description: Set(record.description.clone()),
        price: Set(Money(record.price)),
        discount_price: Set(record.discount_price.map(Money)),
        category_id: Set(category_id),
        brand: Set(record.brand.clone()),
        sku: Set(record.sku.clone()),
        stock: Set(record.stock),
        is_available: Set(record.is_available),
        image_urls: Set(json!(record.image_urls)),
        updated_at: Set(now),
        ..Default::default()
    };
    let link = external_product::ActiveModel {
        external_id: Set(record.external_id),
        external_sku: Set(record.sku.clone()),
        external_category_id: Set(record.category.as_ref().map(CategoryRef::id)),
        api_key_id: Set(state.api_key_id),
        api_key_name: Set(Some(state.api_key_name.clone())),
        sync_status: Set(SyncStatus::Synced),
        sync_error: Set(None),
        content_hash: Set(Some(hash.to_owned())),
        last_seen_run_id: Set(Some(state.run_id)),
        last_synced_at: Set(now),
        ..Default::default()
    };
    (fields, link)
}

async fn update_rows(
    txn: &DatabaseTransaction,
    mapping: &Mapping,
    fields: product::ActiveModel,
    link: external_product::ActiveModel,
) -> Result<(), DbErr> {
    Product::update_many()
        .set(fields)
        .filter(product::Column::Id.eq(mapping.product_id))
        .exec(txn)
        .await?;
    ExternalProduct::update_many()
        .set(link)
        .filter(external_product::Column::Id.eq(mapping.id))
        .exec(txn)
        .await?;
    Ok(())
}

/// `base` (the title's slug), or with `-{external_id}` when taken; reserves the one
/// chosen.
fn pick_slug(slugs: &mut HashSet<String>, base: &str, external_id: i64) -> String {
    let slug = if slugs.contains(base) {
        with_suffix(base, external_id)
    } else {
        base.to_owned()
    };
    slugs.insert(slug.clone());
    slug
}

/// The reason an item failed, in words a person can act on.
async fn explain(txn: &DatabaseTransaction, record: &ProductRecord, e: &DbErr) -> String {
    if is_unique_violation(e)
        && let Some(sku) = &record.sku
        && let Ok(Some(owner)) = Product::find()
            .filter(product::Column::Sku.eq(sku.as_str()))
            .one(txn)
            .await
    {
        return format!(
            "SKU {sku:?} already belongs to product {} ({:?})",
            owner.id, owner.title
        );
    }
    format!("cannot store the product: {e}")
}

async fn mark_error(
    txn: &DatabaseTransaction,
    mapping_id: i32,
    run_id: i32,
    message: &str,
) -> Result<(), DbErr> {
    ExternalProduct::update_many()
        .col_expr(
            external_product::Column::SyncStatus,
            SyncStatus::Error.into(),
        )
        .col_expr(
            external_product::Column::SyncError,
            Some(message.to_owned()).into(),
        )
        .col_expr(external_product::Column::LastSeenRunId, Expr::value(run_id))
        .col_expr(external_product::Column::LastSyncedAt, Utc::now().into())
        .filter(external_product::Column::Id.eq(mapping_id))
        .exec(txn)
        .await?;
    Ok(())
}

struct ItemOutcome {
    created: bool,
    new_category: Option<(i64, i32)>,
    mapping: Option<Mapping>,
}

async fn apply_item(
    txn: &DatabaseTransaction,
    state: &State,
    work: &Work,
    mapping: Option<&Mapping>,
    plan: &CategoryPlan,
    slugs: &mut HashSet<String>,
) -> Result<ItemOutcome, DbErr> {
    let (record, hash) = (&work.record, work.hash.as_str());
    let now = Utc::now();
    let (category_id, new_category) = match plan {
        CategoryPlan::Create { external_id, name } => {
            let local = create_category(txn, *external_id, name).await?;
            (Some(local), Some((*external_id, local)))
        }
        _ => (None, None),
    };
    let (fields, link) = rows(state, record, plan, category_id, hash, now);
    match mapping {
        Some(m) => {
            update_rows(txn, m, fields, link).await?;
            Ok(ItemOutcome {
                created: false,
                new_category,
                mapping: None,
            })
        }
        None => {
            let slug = pick_slug(slugs, &work.slug, record.external_id);
            let product = Product::insert(product::ActiveModel {
                slug: Set(slug),
                created_at: Set(now),
                ..fields
            })
            .exec(txn)
            .await?;
            let link = external_product::ActiveModel {
                product_id: Set(product.last_insert_id),
                ..link
            };
            let mapping = link.insert(txn).await?;
            Ok(ItemOutcome {
                created: true,
                new_category,
                mapping: Some(Mapping::of(mapping, category_id)),
            })
        }
    }
}

/// Creates a category met through a product (name only; `sync-categories` completes it).
async fn create_category(
    txn: &DatabaseTransaction,
    external_id: i64,
    name: &str,
) -> Result<i32, DbErr> {
    let rec = CategoryRecord {
        external_id,
        name: name.to_owned(),
        description: String::new(),
        parent_external_id: None,
        position: 0,
        rayon_type: None,
        image_url: None,
    };
    let (category, _) = super::categories::insert_category(txn, &rec).await?;
    Ok(category.id)
}

/// What the end of a complete pass did about the products it did not see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// This many became unavailable and `missing`.
    Marked(u64),
    /// None did: `would` of the `stored` products would have, more than the rule allows.
    Withheld { would: u64, stored: u64 },
}

/// After a complete pass: the products no run of it saw (run ids from `pass_run_id` on)
/// become unavailable and `missing`, unless they are more than `rule` allows.
async fn mark_missing(
    db: &DatabaseConnection,
    pass_run_id: i32,
    rule: MissingRule,
) -> Result<Missing, DbErr> {
    let not_seen = || {
        Condition::all()
            .add(
                Condition::any()
                    .add(external_product::Column::LastSeenRunId.is_null())
                    .add(external_product::Column::LastSeenRunId.lt(pass_run_id)),
            )
            .add(external_product::Column::SyncStatus.ne(SyncStatus::Missing))
    };
    let txn = begin_write(db).await?;
    let would = ExternalProduct::find()
        .filter(not_seen())
        .count(&txn)
        .await?;
    if would == 0 {
        return Ok(Missing::Marked(0));
    }
    let stored = ExternalProduct::find()
        .filter(external_product::Column::SyncStatus.ne(SyncStatus::Missing))
        .count(&txn)
        .await?;
    if !rule.allow_any && would as f64 > rule.max_share * stored as f64 {
        return Ok(Missing::Withheld { would, stored });
    }
    Product::update_many()
        .col_expr(product::Column::IsAvailable, Expr::value(false))
        .col_expr(product::Column::UpdatedAt, Utc::now().into())
        .filter(
            product::Column::Id.in_subquery(
                Query::select()
                    .column(external_product::Column::ProductId)
                    .from(external_product::Entity)
                    .cond_where(not_seen())
                    .to_owned(),
            ),
        )
        .exec(&txn)
        .await?;
    let marked = ExternalProduct::update_many()
        .col_expr(
            external_product::Column::SyncStatus,
            SyncStatus::Missing.into(),
        )
        .filter(not_seen())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Missing::Marked(marked.rows_affected))
}

/// Products of the pass left without a category because it was unknown when they were
/// written, linked to it now that it is known (a category created by a product later
/// in the listing): the result does not depend on the order pages came in.
async fn link_late_categories(db: &DatabaseConnection, pass_run_id: i32) -> Result<u64, DbErr> {
    use external_category::Column as Ec;
    use external_product::Column as Ep;
    use sea_orm::sea_query::ExprTrait;
    let mapped = || {
        Query::select()
            .from(external_product::Entity)
            .inner_join(
                external_category::Entity,
                Expr::col((external_category::Entity, Ec::ExternalId))
                    .equals((external_product::Entity, Ep::ExternalCategoryId)),
            )
            .to_owned()
    };
    let category_of_product = mapped()
        .column((external_category::Entity, Ec::CategoryId))
        .and_where(
            Expr::col((external_product::Entity, Ep::ProductId))
                .equals((product::Entity, product::Column::Id)),
        )
        .limit(1)
        .to_owned();
    let late = mapped()
        .column((external_product::Entity, Ep::ProductId))
        .and_where(Expr::col((external_product::Entity, Ep::LastSeenRunId)).gte(pass_run_id))
        .to_owned();
    let txn = begin_write(db).await?;
    let linked = Product::update_many()
        .col_expr(
            product::Column::CategoryId,
            Expr::SubQuery(
                None,
                Box::new(category_of_product.into_sub_query_statement()),
            ),
        )
        .filter(product::Column::CategoryId.is_null())
        .filter(product::Column::Id.in_subquery(late))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(linked.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(backend: DbBackend, columns: usize, n: usize) -> Vec<usize> {
        insert_chunks(backend, columns, vec![(); n])
            .iter()
            .map(Vec::len)
            .collect()
    }

    #[test]
    fn checkpoint_names_fit_their_column() {
        let name = |endpoint: &str, site_id| {
            checkpoint_name(&ProductSyncOptions {
                endpoint: endpoint.to_owned(),
                site_id,
                ..ProductSyncOptions::default()
            })
        };
        assert_eq!(name("b2c/products/", None), "b2b:products:b2c/products/");
        assert_eq!(
            name("b2c/products/", Some(3)),
            "b2b:products:b2c/products/?site_id=3"
        );
        let long = "v2/very/long/path/to/the/products/listing/of/this/inventory/";
        assert_eq!(name(long, None).len(), MAX_CHECKPOINT_NAME - 19);
        assert_ne!(name(long, None), name(long, Some(1)));
    }

    #[test]
    fn inserts_are_split_within_the_parameter_limit() {
        assert_eq!(
            sizes(DbBackend::Sqlite, PRODUCT_COLUMNS, 1000),
            [512, 256, 128, 64, 32, 8]
        );
        assert_eq!(sizes(DbBackend::Sqlite, PRODUCT_COLUMNS, 1), [1]);
        assert!(sizes(DbBackend::Sqlite, PRODUCT_COLUMNS, 0).is_empty());
        let big = sizes(DbBackend::Sqlite, LINK_COLUMNS, 7000);
        assert_eq!(big.iter().sum::<usize>(), 7000);
        assert!(
            big.iter()
                .all(|n| n * LINK_COLUMNS <= SQLITE_MAX_PARAMS && n.is_power_of_two())
        );
        assert_eq!(big[0], 2048);
        assert_eq!(
            sizes(DbBackend::Postgres, PRODUCT_COLUMNS, 60),
            [25, 25, 10]
        );
    }
}
