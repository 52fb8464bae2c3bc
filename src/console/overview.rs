//! `/` (and `/api/overview`): what the database holds, how the last run of each source
//! went, the recent runs as charts, the item errors recorded last.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use maud::{Markup, html};
use serde::Serialize;

use super::PageResult;
use super::chart::{self, Mark};
use super::layout::{self, Nav, count, duration, instant, or_dash, rate, status};
use super::runs::source_name;
use crate::inspect::db::{self, TableRows};
use crate::inspect::runs::{self, RecentError, RunFilter, RunRow};
use crate::serve::{ApiError, AppState};

/// Runs charted per source.
pub const RUNS_CHARTED: u64 = 30;
/// Item errors listed.
pub const ERRORS_LISTED: u64 = 10;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(page))
        .route("/api/overview", get(json))
}

/// The figures of the overview.
#[derive(Debug, Serialize)]
pub struct Overview {
    /// `sqlite`, `postgres` or `mysql`.
    pub backend: &'static str,
    pub size_bytes: u64,
    pub size: String,
    /// Rows per table.
    pub tables: Vec<TableRows>,
    /// The last run of each source and kind.
    pub last_runs: Vec<RunSummary>,
    /// The last `RUNS_CHARTED` runs of each source, oldest first.
    pub recent_runs: Vec<RunSummary>,
    /// The last `ERRORS_LISTED` item errors, newest first.
    pub recent_errors: Vec<RecentError>,
}

/// A run with its duration and rate.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    #[serde(flatten)]
    pub run: RunRow,
    pub duration_secs: Option<f64>,
    /// Items (`total`) per second of the run, when it finished.
    pub items_per_sec: Option<f64>,
}

impl From<RunRow> for RunSummary {
    fn from(run: RunRow) -> Self {
        let duration_secs = run.duration_secs();
        let items_per_sec = duration_secs
            .filter(|s| *s > 0.0)
            .map(|s| (run.total as f64 / s * 10.0).round() / 10.0);
        RunSummary {
            run,
            duration_secs,
            items_per_sec,
        }
    }
}

pub async fn overview(db: &sea_orm::DatabaseConnection) -> crate::inspect::Result<Overview> {
    let stats = db::stats(db).await?;
    let last_runs = runs::latest_of_each_kind(db).await?;
    let mut recent_runs = Vec::new();
    for source in [
        entity::sync_run::Source::B2b,
        entity::sync_run::Source::Cerema,
        entity::sync_run::Source::FranceTravail,
    ] {
        let filter = RunFilter {
            source: Some(source),
            limit: RUNS_CHARTED,
            ..RunFilter::default()
        };
        let mut rows = runs::list(db, &filter).await?;
        rows.reverse();
        recent_runs.extend(rows.into_iter().map(RunSummary::from));
    }
    Ok(Overview {
        backend: stats.backend,
        size_bytes: stats.size_bytes,
        size: stats.size,
        tables: stats.tables,
        last_runs: last_runs.into_iter().map(RunSummary::from).collect(),
        recent_runs,
        recent_errors: runs::recent_errors(db, ERRORS_LISTED).await?,
    })
}

async fn json(State(s): State<Arc<AppState>>) -> Result<Json<Overview>, ApiError> {
    Ok(Json(overview(&s.db).await?))
}

/// The tables shown as cards, with what they hold.
const CARDS: [(&str, &str, &str); 6] = [
    ("products", "products", "/products"),
    ("categories", "categories", "/categories"),
    ("job_offers", "job offers", "/offers"),
    ("cerema_users", "Cerema users", "/cerema"),
    ("cerema_structures", "Cerema structures", "/cerema"),
    ("sync_runs", "runs", "/runs"),
];

async fn page(State(s): State<Arc<AppState>>) -> PageResult {
    let o = overview(&s.db).await?;
    let rows = |table: &str| o.tables.iter().find(|t| t.table == table).map(|t| t.rows);
    let body = html! {
        h1 { "Overview" }
        p.lead {
            "A " (backend_name(o.backend)) " database of " (o.size) "."
        }
        section.cards aria-label="Rows" {
            @for (table, what, href) in CARDS {
                a.card href=(href) {
                    span.figure data-table=(table) { (count(rows(table).unwrap_or(0))) }
                    span.what { (what) }
                }
            }
        }
        h2 { "Last runs" }
        (last_runs(&o.last_runs))
        h2 { "Recent runs" }
        (recent_charts(&o.recent_runs))
        h2 { "Recent item errors and warnings" }
        (recent_errors(&o.recent_errors))
        h2 { "Rows per table" }
        div.table-wrap {
            table id="tables" {
                thead { tr { th { "table" } th.num { "rows" } } }
                tbody {
                    @for t in &o.tables {
                        tr { td.mono { (t.table) } td.num { (count(t.rows)) } }
                    }
                }
            }
        }
    };
    Ok(layout::page("Overview", Nav::Overview, body))
}

fn backend_name(key: &str) -> &'static str {
    match key {
        "postgres" => "PostgreSQL",
        "mysql" => "MySQL/MariaDB",
        _ => "SQLite",
    }
}

fn last_runs(runs: &[RunSummary]) -> Markup {
    html! {
        @if runs.is_empty() {
            (layout::empty("No sync has run yet.", html! {
                "Run " code { "sagasync sync-categories" } " and " code { "sagasync sync-products" }
                " (or " code { "sagasync demo" } ")."
            }))
        } @else {
            div.table-wrap {
                table id="last-runs" {
                    thead {
                        tr {
                            th { "source" } th { "kind" } th { "status" } th.hide-narrow { "started" }
                            th.num { "duration" } th.num { "items" } th.num { "errors" } th.num.hide-narrow { "rate" }
                        }
                    }
                    tbody {
                        @for r in runs {
                            tr {
                                td { (source_name(&r.run.source)) }
                                td { a href=(format!("/runs/{}", r.run.run_id)) { (r.run.kind) } }
                                td { (status(&r.run.status)) }
                                td.hide-narrow { (instant(&r.run.started_at)) }
                                td.num { (r.duration_secs.map(duration).unwrap_or_else(|| "-".to_owned())) }
                                td.num { (count(r.run.total)) }
                                td.num { (count(r.run.errors)) }
                                td.num.hide-narrow { (rate(r.run.total, r.duration_secs)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Per source: items per run and duration per run, oldest first.
fn recent_charts(runs: &[RunSummary]) -> Markup {
    let sources = ["b2b", "cerema", "france_travail"];
    html! {
        @if runs.is_empty() {
            (layout::empty("No run to chart yet.", html! {}))
        } @else {
            div.grid {
                @for source in sources {
                    @let of: Vec<&RunSummary> = runs.iter().filter(|r| r.run.source == source).collect();
                    @if !of.is_empty() {
                        @let label = |r: &RunSummary| format!("#{} {} {}", r.run.run_id, r.run.kind, r.run.started_at.format("%m-%d %H:%M"));
                        @let items: Vec<Mark> = of.iter().map(|r| Mark::count(label(r), u64::try_from(r.run.total).unwrap_or(0)).link(format!("/runs/{}", r.run.run_id)).tick(format!("#{}", r.run.run_id))).collect();
                        @let secs: Vec<Mark> = of.iter().map(|r| {
                            let d = r.duration_secs.unwrap_or(0.0);
                            Mark::new(label(r), d, r.duration_secs.map(duration).unwrap_or_else(|| "unfinished".to_owned())).link(format!("/runs/{}", r.run.run_id)).tick(format!("#{}", r.run.run_id))
                        }).collect();
                        div.panel {
                            (chart::columns(&format!("{}: items per run", source_name(source)), &items, 4))
                            (chart::columns(&format!("{}: duration per run (s)", source_name(source)), &secs, 4))
                        }
                    }
                }
            }
        }
    }
}

fn recent_errors(errors: &[RecentError]) -> Markup {
    html! {
        @if errors.is_empty() {
            (layout::empty("No item error or warning recorded.", html! {}))
        } @else {
            div.table-wrap {
                table id="recent-errors" {
                    thead {
                        tr { th { "when" } th { "run" } th { "item" } th { "message" } }
                    }
                    tbody {
                        @for e in errors {
                            tr {
                                td { (instant(&e.created_at)) }
                                td { a href=(format!("/runs/{}", e.run_id)) { "#" (e.run_id) " " (e.source) " " (e.kind) } }
                                td.mono { (or_dash(e.external_id.as_deref())) }
                                td {
                                    @match e.message.strip_prefix("warning: ") {
                                        Some(w) => { (status("warning")) " " (chart::shorten(w, 200)) }
                                        None => { (status("error")) " " (chart::shorten(&e.message, 200)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
