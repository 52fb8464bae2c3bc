//! `sync-products`: pages applied in write transactions that span batches (a batch in
//! one savepoint, else a savepoint per product), unchanged products skipped by content
//! hash, the position of the pass committed with the pages (a later run continues it),
//! and products no longer upstream marked `missing` after a whole pass, within the
//! guard of [`MissingRule`].

use std::collections::HashMap;
use std::time::Duration;

use entity::external_category;
use entity::prelude::*;
use entity::sync_run::Source;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QuerySelect};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::page::{IN_CHUNK, SyncCtx};
use super::run::Run;
use super::slug::slugify;
use super::{Interrupt, ItemIssue, Observer, Progress, RunError, RunReport};
use crate::b2b::parse::{ProductRecord, RawItem, read_product};
use crate::b2b::{B2bClient, NumberedPage};
use apply::apply_page;
use missing::{Missing, link_late_categories, mark_missing, withheld_message};
use pass::{checkpoint_name, starting_point};
use writer::Writer;

mod apply;
mod insert;
mod missing;
mod pass;
mod plan;
mod writer;

/// Default products endpoint, relative to `B2B_API_URL`.
pub const DEFAULT_PRODUCTS_ENDPOINT: &str = "b2c/products/";
/// Default `page_size` asked of the API (it may send other sizes: `next` is followed).
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// Pages fetched ahead while the current ones are written.
pub const MAX_IN_FLIGHT_PAGES: usize = 8;
/// Default of `--concurrency`: pages of the listing asked at once when its `next`
/// links show page numbers (a distant API answers in tens to hundreds of
/// milliseconds; one request at a time caps a sync at a page per round trip). The
/// cursor holds at most this many pages besides the [`MAX_IN_FLIGHT_PAGES`] already
/// sent to the writer; pages are applied in listing order whatever order they arrive in.
pub const DEFAULT_CONCURRENCY: usize = 4;
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

#[derive(Debug, Clone)]
pub struct ProductSyncOptions {
    pub endpoint: String,
    pub page_size: u32,
    pub site_id: Option<i64>,
    /// Pages asked at once (1: one after the other); see [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
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
            concurrency: DEFAULT_CONCURRENCY,
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
        "concurrency": opts.concurrency,
        "api_key": &client.key().label,
        "restart": opts.restart,
    });
    let run = Run::start(db, Source::B2b, "products", options).await?;
    let mut ctx = SyncCtx::new(db, run.id, &observer, interrupt);
    let mut note = None;
    let mut outcome = run_pages(&mut ctx, client, opts).await;
    let mut stats = ctx.stats;
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

/// Applies every page of the pass; `Ok(Some(pass run id))` when the listing was read to
/// its end and received whole, `Ok(None)` when interrupted. On an error, `stats` holds
/// what was committed, and the saved position the page to continue from.
async fn run_pages(
    ctx: &mut SyncCtx<'_>,
    client: &B2bClient,
    opts: &ProductSyncOptions,
) -> anyhow::Result<Option<i32>> {
    let SyncCtx {
        db,
        run_id,
        ref mut stats,
        observer,
        interrupt,
    } = *ctx;
    let start = starting_point(db, client, opts, run_id).await?;
    let Some(first) = start.next.as_deref() else {
        anyhow::bail!("the saved position has no page to fetch");
    };
    let mut pages = client
        .product_pages_from(first, start.page)?
        .after_received(start.received)
        .concurrency(opts.concurrency);
    if start.run_id != run_id {
        observer(Progress::Resumed {
            page: start.page + 1,
            done: start.received,
        });
    }
    let (tx, mut rx) = mpsc::channel(MAX_IN_FLIGHT_PAGES);
    let fetcher = tokio::spawn(async move {
        while let Some(page) = pages.next_page().await {
            let page = page.map(|p: NumberedPage| ReadPage {
                number: p.number,
                count: p.page.count,
                next: p.next_url,
                entries: p.page.items.into_iter().map(Entry::read).collect(),
            });
            let failed = page.is_err();
            if tx.send(page).await.is_err() || failed {
                break;
            }
        }
    });
    let _stop_fetcher = crate::http::AbortOnDrop::new(fetcher);
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
            writer
                .commit(stats)
                .await
                .inspect_err(|_| *stats = writer.committed.clone())?;
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
            apply_page(txn, &mut state, items, stats).await
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
        writer
            .commit_if_due(stats)
            .await
            .inspect_err(|_| *stats = writer.committed.clone())?;
    };
    // What was applied is kept, also when the listing failed part-way: the position
    // commits with it.
    writer
        .commit(stats)
        .await
        .inspect_err(|_| *stats = writer.committed.clone())?;
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
    pub(super) fn read(raw: RawItem) -> Entry {
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

fn issue(external_id: Option<String>, error: String, raw: &RawItem) -> ItemIssue {
    let payload = match raw.to_value() {
        Some(v) => super::payload_excerpt(&v),
        None => super::text_excerpt(raw.json().to_owned()),
    };
    ItemIssue::error(external_id, error, Some(payload))
}
