//! `runs list|show`: the rows of `sync_runs`, newest first, and one run with its
//! recorded item errors.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{external_product, sync_error, sync_run};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveEnum, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::Result;

/// Item errors `get` returns at most; `errors` pages through the rest.
pub const ERRORS_SHOWN: u64 = 1_000;

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub source: Option<Source>,
    pub status: Option<RunStatus>,
    pub limit: u64,
    pub offset: u64,
}

/// One run as `runs list` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRow {
    pub run_id: i32,
    /// `b2b`, `cerema` or `france_travail`.
    pub source: String,
    pub kind: String,
    /// `running`, `succeeded`, `failed` or `interrupted`.
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub total: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub missing: i64,
    pub errors: i64,
}

/// One run with its options, message and recorded errors.
#[derive(Debug, Clone, Serialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunRow,
    /// Seconds from start to finish, when it finished.
    pub duration_secs: Option<f64>,
    pub message: Option<String>,
    /// The flags the run was started with.
    pub options: serde_json::Value,
    /// Rows of `sync_errors` for this run (there may be more than `item_errors` holds).
    pub errors_recorded: u64,
    /// The first `ERRORS_SHOWN` of them, in the order they were recorded.
    pub item_errors: Vec<ItemError>,
}

/// One item a run could not apply.
#[derive(Debug, Clone, Serialize)]
pub struct ItemError {
    pub id: i32,
    pub external_id: Option<String>,
    pub message: String,
    pub payload: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<sync_run::Model> for RunRow {
    fn from(r: sync_run::Model) -> Self {
        RunRow {
            run_id: r.id,
            source: r.source.to_value(),
            kind: r.kind,
            status: r.status.to_value(),
            started_at: r.started_at,
            finished_at: r.finished_at,
            total: r.total,
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            missing: r.missing,
            errors: r.errors,
        }
    }
}

impl From<sync_error::Model> for ItemError {
    fn from(e: sync_error::Model) -> Self {
        ItemError {
            id: e.id,
            external_id: e.external_id,
            message: e.message,
            payload: e.payload,
            created_at: e.created_at,
        }
    }
}

impl RunRow {
    /// Seconds from start to finish, when it finished.
    pub fn duration_secs(&self) -> Option<f64> {
        self.finished_at
            .map(|end| (end - self.started_at).num_milliseconds() as f64 / 1000.0)
    }
}

/// The last run of each source and kind (`b2b products`, `cerema users`, ...), by
/// source then kind.
pub async fn latest_of_each_kind(db: &DatabaseConnection) -> Result<Vec<RunRow>> {
    let runs = latest_query().all(db).await?;
    Ok(runs.into_iter().map(RunRow::from).collect())
}

/// The last run of each source and kind, by source then kind.
pub(super) fn latest_query() -> sea_orm::Select<SyncRun> {
    let latest = Query::select()
        .expr(Expr::col(sync_run::Column::Id).max())
        .from(SyncRun)
        .group_by_columns([sync_run::Column::Source, sync_run::Column::Kind])
        .to_owned();
    SyncRun::find()
        .filter(sync_run::Column::Id.in_subquery(latest))
        .order_by_asc(sync_run::Column::Source)
        .order_by_asc(sync_run::Column::Kind)
}

/// An item error with the run it belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct RecentError {
    pub run_id: i32,
    pub source: String,
    pub kind: String,
    pub external_id: Option<String>,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// The `limit` item errors recorded last, newest first, whatever their run.
pub async fn recent_errors(db: &DatabaseConnection, limit: u64) -> Result<Vec<RecentError>> {
    let rows = SyncError::find()
        .find_also_related(SyncRun)
        .order_by_desc(sync_error::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(e, run)| RecentError {
            run_id: e.run_id,
            source: run
                .as_ref()
                .map(|r| r.source.to_value())
                .unwrap_or_default(),
            kind: run.map(|r| r.kind).unwrap_or_default(),
            external_id: e.external_id,
            message: e.message,
            created_at: e.created_at,
        })
        .collect())
}

/// Runs newest first (by id: ids grow with start times).
pub async fn list(db: &DatabaseConnection, filter: &RunFilter) -> Result<Vec<RunRow>> {
    list_of_kind(db, filter, None).await
}

/// How many runs `filter` selects, whatever its limit and offset.
pub async fn count(db: &DatabaseConnection, filter: &RunFilter) -> Result<u64> {
    count_of_kind(db, filter, None).await
}

/// `list`, and only the runs of `kind` (`products`, `users`...) when it is given.
pub async fn list_of_kind(
    db: &DatabaseConnection,
    filter: &RunFilter,
    kind: Option<&str>,
) -> Result<Vec<RunRow>> {
    let runs = run_query(filter, kind)
        .order_by_desc(sync_run::Column::Id)
        .limit(filter.limit)
        .offset(filter.offset)
        .all(db)
        .await?;
    Ok(runs.into_iter().map(RunRow::from).collect())
}

/// `count`, and only the runs of `kind` when it is given.
pub async fn count_of_kind(
    db: &DatabaseConnection,
    filter: &RunFilter,
    kind: Option<&str>,
) -> Result<u64> {
    Ok(run_query(filter, kind).count(db).await?)
}

/// The kinds runs were recorded with (`categories`, `products`, ...), sorted.
pub async fn kinds(db: &DatabaseConnection) -> Result<Vec<String>> {
    Ok(SyncRun::find()
        .select_only()
        .column(sync_run::Column::Kind)
        .distinct()
        .order_by_asc(sync_run::Column::Kind)
        .into_tuple()
        .all(db)
        .await?)
}

/// The runs `filter` (and `kind`) selects, without order, limit or offset.
fn run_query(filter: &RunFilter, kind: Option<&str>) -> sea_orm::Select<SyncRun> {
    let mut query = SyncRun::find();
    if let Some(source) = filter.source {
        query = query.filter(sync_run::Column::Source.eq(source));
    }
    if let Some(status) = filter.status {
        query = query.filter(sync_run::Column::Status.eq(status));
    }
    if let Some(kind) = kind {
        query = query.filter(sync_run::Column::Kind.eq(kind));
    }
    query
}

/// What `sync_errors` messages of warnings start with (`run::save_issues` writes it):
/// a warning is an item stored with a reservation, an error one not stored.
pub const WARNING_PREFIX: &str = "warning: ";

/// Which of a run's recorded issues: all, only errors, or only warnings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Issues {
    #[default]
    All,
    Errors,
    Warnings,
}

impl Issues {
    /// The issue of `message`: `Warnings` for a warning, `Errors` for an error.
    pub fn of(message: &str) -> Issues {
        if message.starts_with(WARNING_PREFIX) {
            Issues::Warnings
        } else {
            Issues::Errors
        }
    }
}

/// One run, or `None` when there is no run with that id; with its first
/// `ERRORS_SHOWN` item errors.
pub async fn get(db: &DatabaseConnection, id: i32) -> Result<Option<RunDetail>> {
    get_page(db, id, Issues::All, ERRORS_SHOWN, 0).await
}

/// One run, or `None` when there is no run with that id; `item_errors` holds the
/// page of its issues `which`, `limit` and `offset` select (`errors_recorded` counts
/// them all).
pub async fn get_page(
    db: &DatabaseConnection,
    id: i32,
    which: Issues,
    limit: u64,
    offset: u64,
) -> Result<Option<RunDetail>> {
    let Some(run) = SyncRun::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let errors_recorded = count_issues(db, id, Issues::All).await?;
    let item_errors = issues(db, id, which, limit, offset).await?;
    let message = run.message.clone();
    let options = run.options.clone();
    let run = RunRow::from(run);
    Ok(Some(RunDetail {
        duration_secs: run.duration_secs(),
        message,
        options,
        errors_recorded,
        item_errors,
        run,
    }))
}

/// A run's item errors (warnings included) in the order they were recorded.
pub async fn errors(
    db: &DatabaseConnection,
    run_id: i32,
    limit: u64,
    offset: u64,
) -> Result<Vec<ItemError>> {
    issues(db, run_id, Issues::All, limit, offset).await
}

/// A run's recorded issues `which` selects, in the order they were recorded.
pub async fn issues(
    db: &DatabaseConnection,
    run_id: i32,
    which: Issues,
    limit: u64,
    offset: u64,
) -> Result<Vec<ItemError>> {
    let rows = issue_query(run_id, which)
        .order_by_asc(sync_error::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(ItemError::from).collect())
}

/// How many issues `which` selects among a run's.
pub async fn count_issues(db: &DatabaseConnection, run_id: i32, which: Issues) -> Result<u64> {
    Ok(issue_query(run_id, which).count(db).await?)
}

/// A run's issues `which` selects, without order, limit or offset.
fn issue_query(run_id: i32, which: Issues) -> sea_orm::Select<SyncError> {
    let query = SyncError::find().filter(sync_error::Column::RunId.eq(run_id));
    // The prefix holds no LIKE wildcard, so it needs no escape.
    let warning = format!("{WARNING_PREFIX}%");
    match which {
        Issues::All => query,
        Issues::Errors => query.filter(sync_error::Column::Message.not_like(warning)),
        Issues::Warnings => query.filter(sync_error::Column::Message.like(warning)),
    }
}

/// The local ids of the B2B products whose upstream ids are among `external_ids`
/// (ids that are not numbers, or not stored, are left out): a run's item errors
/// link to their products through it.
pub async fn local_products<'a>(
    db: &DatabaseConnection,
    external_ids: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, i32>> {
    let asked = super::numeric_ids(external_ids);
    if asked.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: HashSet<i64> = asked.iter().map(|(_, id)| *id).collect();
    let local: HashMap<i64, i32> = ExternalProduct::find()
        .select_only()
        .column(external_product::Column::ExternalId)
        .column(external_product::Column::ProductId)
        .filter(external_product::Column::ExternalId.is_in(ids))
        .into_tuple::<(i64, i32)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(asked
        .into_iter()
        .filter_map(|(s, id)| Some((s.to_owned(), *local.get(&id)?)))
        .collect())
}
