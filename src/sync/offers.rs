//! France Travail collect: every offer of a query, even past the API's 3,150-per-query
//! cap (the query is split in halves of its creation-date window until each part
//! fits, an empty half skipped without a request), upserted by id with its skills, de-duplicated across parts, each page
//! in one transaction; raw pages optionally archived. One offer's details are stored by
//! the same reading and upsert ([`store_offer`]).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::instant::Instant;
use entity::prelude::*;
use entity::sync_run::{RunStatus, Source};
use entity::{job_offer, job_offer_skill, sync_run};
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, NotSet,
    QueryFilter, QuerySelect, Set,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::page::{PageLog, PageWrite, SyncCtx, Written, content_hash, insert_all, write_page};
use super::run::Run;
use super::{Interrupt, Observer, Progress, RunError, RunReport};
use crate::archive::{Archive, page_file_name};
use crate::db::begin_write;
use crate::france_travail::parse::{self, OfferRecord};
use crate::france_travail::query::{CAP, CAP_PAGES, split};
use crate::france_travail::{FtClient, FtError, OfferQuery, SearchPage};

/// How a collect runs.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Pages per part at most (a part never has more than 21 anyway).
    pub max_pages: u32,
    pub delay: Duration,
    /// Collect even when the same query completed today.
    pub force: bool,
}

/// What one collect did.
#[derive(Debug, Clone, Serialize)]
pub struct CollectReport {
    pub query: Value,
    #[serde(flatten)]
    pub run: RunReport,
    /// What the API said the query holds (before any split).
    pub upstream_total: Option<u64>,
    /// Parts collected (1 when the query fitted).
    pub parts: u32,
    pub requests: u32,
    /// Pages kept as data: the requests not spent on learning that a part is over the
    /// cap (each part's pages are full but its last).
    pub pages: u32,
    /// Offers received per search request (150 at best): how well the requests, the
    /// scarce resource, were spent.
    pub offers_per_request: f64,
    /// Offers already seen by this command (in another part or query), skipped.
    pub duplicates: u64,
    /// Pages written to the raw archive.
    pub archived: u32,
}

/// The outcome: collected, or skipped because it already ran today.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Collected {
    Done(CollectReport),
    AlreadyToday {
        query: Value,
        run_id: i32,
        /// When that run started.
        #[serde(rename = "started_at")]
        at: DateTime<Utc>,
    },
}

/// The last succeeded run of `query` today (UTC), if any.
pub async fn ran_today(
    db: &DatabaseConnection,
    query: &OfferQuery,
    now: DateTime<Utc>,
) -> Result<Option<(i32, DateTime<Utc>)>, DbErr> {
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    let identity = query.identity();
    let runs = SyncRun::find()
        .filter(sync_run::Column::Source.eq(Source::FranceTravail))
        .filter(sync_run::Column::Kind.eq("offers"))
        .filter(sync_run::Column::Status.eq(RunStatus::Succeeded))
        .filter(sync_run::Column::StartedAt.gte(midnight))
        .all(db)
        .await?;
    Ok(runs
        .into_iter()
        .filter(|r| r.options.get("query") == Some(&identity))
        .map(|r| (r.id, r.started_at))
        .max_by_key(|(_, at)| *at))
}

/// Where the collect is, while it runs.
struct Walk<'a> {
    ctx: SyncCtx<'a>,
    client: &'a FtClient,
    opts: &'a CollectOptions,
    archive: Option<&'a Archive>,
    started: DateTime<Utc>,
    label: String,
    seen: &'a mut HashSet<String>,
    requests: u32,
    pages: u32,
    parts: u32,
    duplicates: u64,
    archived: u32,
    upstream_total: Option<u64>,
}

/// `page` after the `delay`; `None` when interrupted first (or when there is no page).
async fn after_delay(
    delay: Duration,
    interrupt: &Interrupt,
    page: impl Future<Output = Option<Result<SearchPage, FtError>>>,
) -> anyhow::Result<Option<SearchPage>> {
    if !delay.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = interrupt.wait() => return Ok(None),
        }
    }
    tokio::select! {
        page = page => Ok(page.transpose()?),
        _ = interrupt.wait() => Ok(None),
    }
}

/// A part to collect; its first page when a split already fetched it.
struct Part {
    query: OfferQuery,
    first: Option<SearchPage>,
}

/// What every collect of one command shares.
#[derive(Clone, Copy)]
pub struct Collector<'a> {
    pub db: &'a DatabaseConnection,
    pub client: &'a FtClient,
    pub opts: &'a CollectOptions,
    /// Where raw pages go, if anywhere.
    pub archive: Option<&'a Archive>,
}

/// Collects every offer of `query` into `job_offers` (see the module doc). `seen` holds
/// the offer ids this command already collected (shared by its queries).
pub async fn collect(
    c: Collector<'_>,
    query: &OfferQuery,
    seen: &mut HashSet<String>,
    observer: Observer,
    interrupt: &Interrupt,
) -> Result<Collected, RunError> {
    let Collector {
        db,
        client,
        opts,
        archive,
    } = c;
    if !opts.force
        && let Some((run_id, at)) = ran_today(db, query, Utc::now()).await?
    {
        return Ok(Collected::AlreadyToday {
            query: query.identity(),
            run_id,
            at,
        });
    }
    let options = json!({
        "query": query.identity(),
        "max_pages": opts.max_pages,
        "delay_secs": opts.delay.as_secs_f64(),
        "force": opts.force,
        "archive": archive.map(Archive::describe),
    });
    let run = Run::start(db, Source::FranceTravail, "offers", options.clone()).await?;
    let mut walk = Walk {
        ctx: SyncCtx::new(db, run.id, &observer, interrupt),
        client,
        opts,
        archive,
        started: Utc::now(),
        label: query.archive_label(),
        seen,
        requests: 0,
        pages: 0,
        parts: 0,
        duplicates: 0,
        archived: 0,
        upstream_total: None,
    };
    observer(Progress::Phase("collecting France Travail offers"));
    let outcome = walk.all(query.clone()).await;
    let (stats, parts, requests, pages, duplicates, archived, upstream_total) = (
        std::mem::take(&mut walk.ctx.stats),
        walk.parts,
        walk.requests,
        walk.pages,
        walk.duplicates,
        walk.archived,
        walk.upstream_total,
    );
    let offers_per_request = per_request(stats.total + duplicates, requests);
    let figures = json!({
        "upstream_total": upstream_total,
        "parts": parts,
        "requests": requests,
        "pages": pages,
        "offers_per_request": offers_per_request,
        "duplicates": duplicates,
        "archived": archived,
    });
    if let Err(e) = save_collect_figures(db, run.id, options, figures).await {
        tracing::warn!(
            "cannot record the parts and requests of run {}: {e}",
            run.id
        );
    }
    let report = run
        .conclude(
            db,
            stats,
            outcome,
            "interrupted: run the same command again (with --force) to collect the rest".to_owned(),
        )
        .await?;
    Ok(Collected::Done(CollectReport {
        query: query.identity(),
        run: report,
        upstream_total,
        parts,
        requests,
        pages,
        offers_per_request,
        duplicates,
        archived,
    }))
}

/// Offers per request, to one decimal.
fn per_request(offers: u64, requests: u32) -> f64 {
    if requests == 0 {
        return 0.0;
    }
    (offers as f64 / f64::from(requests) * 10.0).round() / 10.0
}

/// Adds what the walk counted (`parts`, `requests`, ...) to the run's options, so
/// `runs show` tells them after the fact.
async fn save_collect_figures(
    db: &DatabaseConnection,
    run_id: i32,
    mut options: Value,
    figures: Value,
) -> Result<(), sea_orm::DbErr> {
    if let Value::Object(o) = &mut options {
        o.insert("collected".to_owned(), figures);
    }
    SyncRun::update_many()
        .col_expr(sync_run::Column::Options, options.into())
        .filter(sync_run::Column::Id.eq(run_id))
        .exec(db)
        .await?;
    Ok(())
}

impl Walk<'_> {
    /// Fetches the first page of `q` (interruptible); `None` when interrupted.
    async fn first(&mut self, q: &OfferQuery) -> anyhow::Result<Option<SearchPage>> {
        self.requests += 1;
        let (client, interrupt) = (self.client, self.ctx.interrupt);
        after_delay(self.opts.delay, interrupt, async {
            Some(client.first_page(q).await)
        })
        .await
    }

    /// Collects every part of `root`: `Ok(true)` when all were, `Ok(false)` interrupted.
    async fn all(&mut self, root: OfferQuery) -> anyhow::Result<bool> {
        let mut stack = vec![Part {
            query: root,
            first: None,
        }];
        while let Some(part) = stack.pop() {
            let first = match part.first {
                Some(p) => p,
                None => match self.first(&part.query).await? {
                    Some(p) => p,
                    None => return Ok(false),
                },
            };
            // Without `Content-Range` the total is unknown: the part is read until a
            // short or empty page (it cannot be split, nothing says it is over the cap).
            let total = first.total;
            if self.upstream_total.is_none() && self.parts == 0 {
                self.upstream_total = total;
            }
            let over = total.filter(|&t| t > CAP);
            if let Some(t) = over
                && self.opts.max_pages > CAP_PAGES
                && let Some(halves) = split(&part.query, Utc::now())
            {
                if !self.split(&part.query, t, halves, &mut stack).await? {
                    return Ok(false);
                }
                continue;
            }
            if let Some(t) = over {
                tracing::warn!(
                    "{} holds {t} offers: only the first {CAP} can be read",
                    part.query.describe()
                );
            }
            self.parts += 1;
            if self.parts > 1 || !stack.is_empty() {
                (self.ctx.observer)(Progress::Note(format!(
                    "part {}: {}{}",
                    self.parts,
                    part.query.describe(),
                    total.map(|t| format!(", {t} offers")).unwrap_or_default()
                )));
            }
            if !self.leaf(&part.query, first).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Pushes the halves of a part over the cap that hold offers. The later half is
    /// probed (offers are recent; its first page is kept as data); the earlier one holds
    /// the rest of the part's total, so it is skipped, without a request, when that is
    /// none (the first windows of a query without `--since-days` start in 2000).
    async fn split(
        &mut self,
        query: &OfferQuery,
        total: u64,
        [earlier, later]: [OfferQuery; 2],
        stack: &mut Vec<Part>,
    ) -> anyhow::Result<bool> {
        (self.ctx.observer)(Progress::Note(format!(
            "{}: {total} offers, over the {CAP} cap: split in two creation-date windows",
            query.describe()
        )));
        let Some(page) = self.first(&later).await? else {
            return Ok(false);
        };
        let in_later = page.total.unwrap_or(page.offers.len() as u64);
        if in_later > 0 {
            stack.push(Part {
                query: later,
                first: Some(page),
            });
        }
        if total > in_later {
            stack.push(Part {
                query: earlier,
                first: None,
            });
        }
        Ok(true)
    }

    /// Reads a part that fits, page by page, from its first page.
    async fn leaf(&mut self, q: &OfferQuery, first: SearchPage) -> anyhow::Result<bool> {
        let (client, delay, interrupt) = (self.client, self.opts.delay, self.ctx.interrupt);
        let mut pages = client.pages_after(q, &first, self.opts.max_pages);
        let mut page = first;
        loop {
            if !pages.has_next() || interrupt.is_set() {
                self.apply(page).await?;
                return Ok(!pages.has_next() || !interrupt.is_set());
            }
            // The next page is fetched while this one is written.
            self.requests += 1;
            let (written, next) = tokio::join!(
                self.apply(page),
                after_delay(delay, interrupt, pages.next_page())
            );
            written?;
            page = match next? {
                Some(p) => p,
                None => return Ok(false),
            };
        }
    }

    /// Writes one page: offers new to this command upserted with their skills, in one
    /// transaction with the run's figures; the raw page archived first.
    async fn apply(&mut self, page: SearchPage) -> anyhow::Result<()> {
        self.pages += 1;
        if let Some(archive) = self.archive
            && !page.raw.is_empty()
        {
            let name = page_file_name(&self.label, self.started, self.pages);
            archive.put(&name, page.raw.clone()).await?;
            self.archived += 1;
        }
        let mut log = PageLog::default();
        let mut items = Vec::new();
        for raw in page.offers {
            log.stats.total += 1;
            let Some((item, warnings)) = Item::read(raw, &mut log) else {
                continue;
            };
            if !self.seen.insert(item.record.id.clone()) {
                log.stats.total -= 1;
                self.duplicates += 1;
                continue;
            }
            log.warnings(&item.record.id, warnings.list, warnings.nul, &item.raw);
            items.push(item);
        }
        let txn = begin_write(self.ctx.db).await?;
        write_offers(&txn, items, &mut log).await?;
        self.ctx.commit_page(txn, log).await?;
        (self.ctx.observer)(Progress::Page {
            number: self.pages,
            expected: self.upstream_total,
            done: self.ctx.stats.total + self.duplicates,
        });
        Ok(())
    }
}

fn row(
    o: &OfferRecord,
    raw: &Value,
    hash: &str,
    now: DateTime<Utc>,
    new: bool,
) -> job_offer::ActiveModel {
    let first_seen: ActiveValue<DateTime<Utc>> = if new { Set(now) } else { NotSet };
    job_offer::ActiveModel {
        id: Set(o.id.clone()),
        intitule: Set(o.intitule.clone()),
        description: Set(o.description.clone()),
        rome_code: Set(o.rome_code.clone()),
        rome_libelle: Set(o.rome_libelle.clone()),
        appellation_libelle: Set(o.appellation_libelle.clone()),
        type_contrat: Set(o.type_contrat.clone()),
        type_contrat_libelle: Set(o.type_contrat_libelle.clone()),
        nature_contrat: Set(o.nature_contrat.clone()),
        experience_exige: Set(o.experience_exige.clone()),
        experience_libelle: Set(o.experience_libelle.clone()),
        lieu_libelle: Set(o.lieu_libelle.clone()),
        commune: Set(o.commune.clone()),
        code_postal: Set(o.code_postal.clone()),
        departement: Set(o.departement.clone()),
        latitude: Set(o.latitude),
        longitude: Set(o.longitude),
        entreprise_nom: Set(o.entreprise_nom.clone()),
        salaire_libelle: Set(o.salaire_libelle.clone()),
        duree_travail_libelle: Set(o.duree_travail_libelle.clone()),
        alternance: Set(o.alternance),
        nombre_postes: Set(o.nombre_postes),
        qualification_code: Set(o.qualification_code.clone()),
        secteur_activite: Set(o.secteur_activite.clone()),
        secteur_activite_libelle: Set(o.secteur_activite_libelle.clone()),
        origine_url: Set(o.origine_url.clone()),
        date_creation: Set(o.date_creation.map(Instant)),
        date_actualisation: Set(o.date_actualisation.map(Instant)),
        search_text: Set(crate::text::search_text([
            o.intitule.as_deref(),
            o.rome_libelle.as_deref(),
            o.appellation_libelle.as_deref(),
            o.entreprise_nom.as_deref(),
            o.description.as_deref(),
        ])),
        raw: Set(raw.clone()),
        content_hash: Set(hash.to_owned()),
        first_seen_at: first_seen,
        last_seen_at: Set(now),
    }
}

fn skill_rows(o: &OfferRecord) -> impl Iterator<Item = job_offer_skill::ActiveModel> + '_ {
    o.skills.iter().map(|s| job_offer_skill::ActiveModel {
        offer_id: Set(o.id.clone()),
        code: Set(s.code.clone()),
        libelle: Set(s.libelle.clone()),
        exigence: Set(s.exigence.clone()),
        ..Default::default()
    })
}

/// An offer ready to write.
struct Item {
    record: OfferRecord,
    raw: Value,
    hash: String,
    /// Not stored yet (else stored with another hash).
    new: bool,
}

/// What reading an offer found to warn about: the parser's warnings, NUL characters.
struct ReadWarnings {
    list: Vec<String>,
    nul: bool,
}

impl Item {
    /// An offer as the API sent it, NUL characters removed, read and hashed; `None`
    /// when it cannot be read, the reason logged as an error of `log`.
    fn read(mut raw: Value, log: &mut PageLog) -> Option<(Item, ReadWarnings)> {
        let nul = crate::text::strip_nul(&mut raw);
        match parse::offer(&raw) {
            Err(reason) => {
                let id = raw.get("id").map(|v| v.to_string());
                log.error(id, reason, &raw);
                None
            }
            Ok((record, list)) => {
                let hash = content_hash(&raw);
                let item = Item {
                    record,
                    raw,
                    hash,
                    new: true,
                };
                Some((item, ReadWarnings { list, nul }))
            }
        }
    }
}

/// What storing one offer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Created,
    Updated,
    /// Stored already as it is: only marked seen.
    Unchanged,
}

/// One offer stored, and what its record warned about (fields left empty, NUL removed).
#[derive(Debug, Clone)]
pub struct StoredOffer {
    pub id: String,
    pub stored: Stored,
    pub warnings: Vec<String>,
}

/// Why an offer was not stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The offer cannot be read (no id...), or the database refused it.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Stores one offer as the API sent it (`offres/{id}`) with its skills, by the collect's
/// upsert, in a transaction of its own: created, updated (skills replaced) or, when
/// its content hash is the stored one, only marked seen. Nothing is written when it
/// is refused.
pub async fn store_offer(db: &DatabaseConnection, raw: Value) -> Result<StoredOffer, StoreError> {
    let mut log = PageLog::default();
    let Some((item, warnings)) = Item::read(raw, &mut log) else {
        return Err(refusal(log));
    };
    let id = item.record.id.clone();
    log.warnings(&id, warnings.list, warnings.nul, &item.raw);
    let txn = begin_write(db).await?;
    write_offers(&txn, vec![item], &mut log).await?;
    if log.stats.errors > 0 {
        txn.rollback().await?;
        return Err(refusal(log));
    }
    txn.commit().await?;
    let s = &log.stats;
    let stored = match (s.created, s.updated) {
        (1, _) => Stored::Created,
        (_, 1) => Stored::Updated,
        _ => Stored::Unchanged,
    };
    let warnings = log.issues.into_iter().map(|i| i.error).collect();
    Ok(StoredOffer {
        id,
        stored,
        warnings,
    })
}

/// The error a refused offer's log holds.
fn refusal(log: PageLog) -> StoreError {
    let message = log
        .issues
        .into_iter()
        .rev()
        .find(|i| !i.warning)
        .map_or_else(|| "the offer was not stored".to_owned(), |i| i.error);
    StoreError::Refused(message)
}

/// New offers as multi-row inserts, changed ones updated (skills replaced), unchanged
/// ones only marked seen; by [`write_page`]'s rule.
async fn write_offers(
    txn: &DatabaseTransaction,
    items: Vec<Item>,
    log: &mut PageLog,
) -> Result<(), DbErr> {
    if items.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = items.iter().map(|i| i.record.id.clone()).collect();
    let existing: HashMap<String, String> = JobOffer::find()
        .select_only()
        .column(job_offer::Column::Id)
        .column(job_offer::Column::ContentHash)
        .filter(job_offer::Column::Id.is_in(ids))
        .into_tuple::<(String, String)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let now = Utc::now();
    let (mut work, mut same) = (Vec::new(), Vec::new());
    for mut item in items {
        match existing.get(&item.record.id) {
            None => work.push(item),
            Some(h) if *h == item.hash => same.push(item.record.id),
            Some(_) => {
                item.new = false;
                work.push(item);
            }
        }
    }
    log.stats.unchanged += same.len() as u64;
    if !same.is_empty() {
        JobOffer::update_many()
            .col_expr(job_offer::Column::LastSeenAt, now.into())
            .filter(job_offer::Column::Id.is_in(same))
            .exec(txn)
            .await?;
    }
    let written = write_page(txn, &mut Offers { log, now }, &work).await?;
    log.stats.created += written.created;
    log.stats.updated += written.updated;
    Ok(())
}

/// Writes offers with their skills.
struct Offers<'a> {
    log: &'a mut PageLog,
    now: DateTime<Utc>,
}

impl PageWrite for Offers<'_> {
    type Item = Item;

    async fn all(&mut self, txn: &DatabaseTransaction, items: &[Item]) -> Result<Written, DbErr> {
        let mut written = Written::default();
        let mut new = Vec::new();
        let mut changed = Vec::new();
        for item in items {
            let row = row(&item.record, &item.raw, &item.hash, self.now, item.new);
            written.add(Written::one(item.new));
            if item.new {
                new.push(row);
            } else {
                JobOffer::update_many()
                    .set(row)
                    .filter(job_offer::Column::Id.eq(item.record.id.as_str()))
                    .exec(txn)
                    .await?;
                changed.push(item.record.id.as_str());
            }
        }
        insert_all(txn, new).await?;
        if !changed.is_empty() {
            JobOfferSkill::delete_many()
                .filter(job_offer_skill::Column::OfferId.is_in(changed))
                .exec(txn)
                .await?;
        }
        let skills = items.iter().flat_map(|i| skill_rows(&i.record)).collect();
        insert_all(txn, skills).await?;
        Ok(written)
    }

    async fn one(&mut self, txn: &DatabaseTransaction, item: &Item) -> Result<Written, DbErr> {
        self.all(txn, std::slice::from_ref(item)).await
    }

    async fn refused(
        &mut self,
        _txn: &DatabaseTransaction,
        item: &Item,
        error: DbErr,
    ) -> Result<(), DbErr> {
        let error = format!("the database refused the offer: {error}");
        self.log
            .error(Some(item.record.id.clone()), error, &item.raw);
        Ok(())
    }
}
