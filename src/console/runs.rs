//! `/runs` (the sync runs, newest first, filtered by source, status and kind) and
//! `/runs/{id}` (one run: its figures, options, and recorded item errors and warnings,
//! paged), with `/api/runs/{id}` beside them (`/api/runs` is the API's own).
//!
//! Also the reading of the pages' parameters that `cerema` shares: a bad one is a 400
//! page naming it, an unknown one refused so a typo does not go unnoticed.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use entity::prelude::*;
use maud::{Markup, html};
use sea_orm::{ActiveEnum, Iterable};
use serde_json::Value;

use super::layout::{self, Nav, count, duration, instant, maybe_instant, or_dash, rate, status};
use super::{PageError, PageResult};
use crate::inspect::runs::{self, Issues, ItemError, RunDetail, RunFilter, RunRow};
use crate::serve::routes::{self, enum_param, known};
use crate::serve::{ApiError, AppState, DEFAULT_RESULTS};

/// Rows a page of the console shows when `limit` is not given.
pub(super) const PAGE_ROWS: u64 = 50;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/runs", get(list_page))
        .route("/runs/{id}", get(run_page))
        .route("/api/runs/{id}", get(run_json))
}

type Params = Query<HashMap<String, String>>;

/// `limit` (from 1, at most `MAX_RESULTS`; `default` when absent) and `offset`.
pub(super) fn paging(p: &HashMap<String, String>, default: u64) -> Result<(u64, u64), ApiError> {
    Ok((routes::count(p, "limit", default)?, routes::offset(p)?))
}

/// An id from the path: a positive whole number, or a 400 naming `what`.
pub(super) fn path_id<T: std::str::FromStr + PartialOrd + Default>(
    raw: &str,
    what: &str,
) -> Result<T, ApiError> {
    match raw.trim().parse::<T>() {
        Ok(id) if id > T::default() => Ok(id),
        _ => Err(ApiError::bad(format!(
            "{what} must be a positive whole number, not {raw:?}"
        ))),
    }
}

/// `show`: all of a run's issues, its errors or its warnings.
fn issues_param(p: &HashMap<String, String>) -> Result<Issues, ApiError> {
    match layout::param(p, "show").as_str() {
        "" | "all" => Ok(Issues::All),
        "errors" => Ok(Issues::Errors),
        "warnings" => Ok(Issues::Warnings),
        v => Err(ApiError::bad(format!(
            "`show` must be one of all, errors, warnings, not {v:?}"
        ))),
    }
}

/// A source's name for people.
pub(super) fn source_name(key: &str) -> &str {
    match key {
        "b2b" => "B2B catalog",
        "cerema" => "Cerema",
        "france_travail" => "France Travail",
        other => other,
    }
}

/// The list's filters, as read from its parameters.
struct ListFilters {
    filter: RunFilter,
    kind: String,
}

impl ListFilters {
    fn read(p: &HashMap<String, String>) -> Result<Self, ApiError> {
        known(p, &["source", "status", "kind", "limit", "offset"])?;
        let (limit, offset) = paging(p, PAGE_ROWS)?;
        Ok(ListFilters {
            filter: RunFilter {
                source: enum_param::<Source>(p, "source")?,
                status: enum_param::<RunStatus>(p, "status")?,
                limit,
                offset,
            },
            kind: layout::param(p, "kind"),
        })
    }

    /// The parameters that select the same runs (the pager's links keep them).
    fn params(&self) -> Vec<(&'static str, String)> {
        let f = &self.filter;
        let mut p = vec![
            ("source", f.source.map(|s| s.to_value()).unwrap_or_default()),
            ("status", f.status.map(|s| s.to_value()).unwrap_or_default()),
            ("kind", self.kind.clone()),
        ];
        if f.limit != PAGE_ROWS {
            p.push(("limit", f.limit.to_string()));
        }
        p
    }

    fn kind(&self) -> Option<&str> {
        Some(self.kind.as_str()).filter(|k| !k.is_empty())
    }
}

async fn list_page(State(s): State<Arc<AppState>>, Query(p): Params) -> PageResult {
    let f = ListFilters::read(&p)?;
    let rows = runs::list_of_kind(&s.db, &f.filter, f.kind()).await?;
    let total = runs::count_of_kind(&s.db, &f.filter, f.kind()).await?;
    let kinds = runs::kinds(&s.db).await?;
    let params = f.params();
    let body = html! {
        div.runs-page {
            h1 { "Runs" }
            p.lead { (count(total)) " runs match, newest first." }
            (list_form(&f, &kinds))
            @if rows.is_empty() {
                (layout::empty("No run matches these filters.", html! {
                    a href="/runs" { "Show every run" } "."
                }))
            } @else {
                (runs_table(&rows))
            }
            (layout::pager("/runs", &params, f.filter.offset, f.filter.limit, rows.len(), Some(total)))
        }
    };
    Ok(layout::page("Runs", Nav::Runs, body))
}

fn list_form(f: &ListFilters, kinds: &[String]) -> Markup {
    let sources: Vec<(String, String)> = Source::iter()
        .map(|s| (s.to_value(), source_name(&s.to_value()).to_owned()))
        .collect();
    let statuses: Vec<(String, String)> = RunStatus::iter()
        .map(|s| (s.to_value(), s.to_value()))
        .collect();
    let kinds: Vec<(String, String)> = kinds.iter().map(|k| (k.clone(), k.clone())).collect();
    let selected = |v: Option<String>| v.unwrap_or_default();
    html! {
        form.filters method="get" action="/runs" {
            (layout::select("source", "Source", &sources, &selected(f.filter.source.map(|s| s.to_value()))))
            (layout::select("status", "Status", &statuses, &selected(f.filter.status.map(|s| s.to_value()))))
            (layout::select("kind", "Kind", &kinds, &f.kind))
            button type="submit" { "Filter" }
            a.button.secondary href="/runs" { "Clear" }
        }
    }
}

fn runs_table(rows: &[RunRow]) -> Markup {
    html! {
        div.table-wrap {
            table id="runs" {
                thead {
                    tr {
                        th { "run" } th { "source" } th { "kind" } th { "status" }
                        th.hide-narrow { "started" } th.num { "duration" } th.num { "items" }
                        th.num.hide-narrow { "created" } th.num.hide-narrow { "updated" }
                        th.num.hide-narrow { "unchanged" } th.num.hide-narrow { "missing" }
                        th.num { "errors" } th.num.hide-narrow { "rate" }
                    }
                }
                tbody {
                    @for r in rows {
                        @let secs = r.duration_secs();
                        tr data-run=(r.run_id) {
                            td { a href=(format!("/runs/{}", r.run_id)) { "#" (r.run_id) } }
                            td { (source_name(&r.source)) }
                            td { (r.kind) }
                            td { (status(&r.status)) }
                            td.hide-narrow { (instant(&r.started_at)) }
                            td.num { (secs.map(duration).unwrap_or_else(|| "-".to_owned())) }
                            td.num { (count(r.total)) }
                            td.num.hide-narrow { (count(r.created)) }
                            td.num.hide-narrow { (count(r.updated)) }
                            td.num.hide-narrow { (count(r.unchanged)) }
                            td.num.hide-narrow { (count(r.missing)) }
                            td.num { (count(r.errors)) }
                            td.num.hide-narrow { (rate(r.total, secs)) }
                        }
                    }
                }
            }
        }
    }
}

async fn run_json(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> Result<Json<RunDetail>, ApiError> {
    known(&p, &["limit", "offset", "show"])?;
    let id = path_id::<i32>(&id, "a run's id")?;
    let (limit, offset) = paging(&p, DEFAULT_RESULTS)?;
    let which = issues_param(&p)?;
    match runs::get_page(&s.db, id, which, limit, offset).await? {
        Some(run) => Ok(Json(run)),
        None => Err(ApiError::not_found(format!("no run {id}"))),
    }
}

/// How many of a run's issues are errors and warnings.
struct IssueCounts {
    all: u64,
    warnings: u64,
}

impl IssueCounts {
    fn of(&self, which: Issues) -> u64 {
        match which {
            Issues::All => self.all,
            Issues::Errors => self.all.saturating_sub(self.warnings),
            Issues::Warnings => self.warnings,
        }
    }
}

async fn run_page(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> PageResult {
    known(&p, &["limit", "offset", "show"])?;
    let id = path_id::<i32>(&id, "a run's id")?;
    let (limit, offset) = paging(&p, PAGE_ROWS)?;
    let which = issues_param(&p)?;
    let Some(run) = runs::get_page(&s.db, id, which, limit, offset).await? else {
        return Err(PageError::not_found(format!(
            "There is no run #{id}: the runs list shows them all."
        )));
    };
    let counts = IssueCounts {
        all: run.errors_recorded,
        warnings: runs::count_issues(&s.db, id, Issues::Warnings).await?,
    };
    let links = item_links(&s.db, &run).await?;
    let r = &run.run;
    let title = format!("Run #{} · {} {}", r.run_id, source_name(&r.source), r.kind);
    let issues = IssuesView {
        run_id: r.run_id,
        which,
        limit,
        offset,
        counts: &counts,
        links: &links,
    };
    let body = html! {
        div.runs-page {
            p.crumbs { a href="/runs" { "Runs" } " / #" (r.run_id) }
            h1 { (title) " " (status(&r.status)) }
            (run_summary(&run, &counts))
            h2 { "Options" }
            (options(&run.options))
            h2 id="issues" { "Item errors and warnings" }
            (issues.render(&run.item_errors))
        }
    };
    Ok(layout::page(&title, Nav::Runs, body))
}

/// The figures as cards, the message, and when and how fast it ran.
fn run_summary(run: &RunDetail, counts: &IssueCounts) -> Markup {
    let r = &run.run;
    let cards: [(&str, i128); 7] = [
        ("items read", r.total.into()),
        ("created", r.created.into()),
        ("updated", r.updated.into()),
        ("unchanged", r.unchanged.into()),
        ("missing", r.missing.into()),
        ("errors", r.errors.into()),
        ("warnings", counts.warnings.into()),
    ];
    html! {
        @if let Some(m) = &run.message {
            @if r.status == "failed" {
                div.error-box.run-message role="alert" { p { (m) } }
            } @else {
                p.run-message { (m) }
            }
        }
        section.cards aria-label="Figures" {
            @for (what, n) in cards {
                div.card {
                    span.figure data-figure=(what) { (count(n)) }
                    span.what { (what) }
                }
            }
        }
        div.panel.run-facts {
            dl.fields {
                dt { "source" } dd { (source_name(&r.source)) " (" code { (r.source) } ")" }
                dt { "kind" } dd { (r.kind) }
                dt { "status" } dd { (status(&r.status)) }
                dt { "started" } dd { (instant(&r.started_at)) }
                dt { "finished" } dd { (maybe_instant(r.finished_at.as_ref())) }
                dt { "duration" } dd { (run.duration_secs.map(duration).unwrap_or_else(|| "still running".to_owned())) }
                dt { "rate" } dd { (rate(r.total, run.duration_secs)) }
            }
        }
    }
}

/// The options a run was started with: an object as a definition list (nested values
/// as JSON), anything else as JSON.
fn options(v: &Value) -> Markup {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    html! {
        @match v {
            Value::Object(map) if map.is_empty() => (layout::empty("No option recorded.", html! {})),
            Value::Object(map) => {
                dl.fields.options {
                    @for (k, v) in map {
                        dt.mono { (k) }
                        dd {
                            @match v {
                                Value::Null => span.muted { "none" },
                                Value::String(s) => (s),
                                Value::Bool(_) | Value::Number(_) => span.mono { (v) },
                                _ => pre { (pretty(v)) },
                            }
                        }
                    }
                }
            }
            Value::Null => (layout::empty("No option recorded.", html! {})),
            other => pre { (pretty(other)) },
        }
    }
}

/// Where an item error's upstream id leads: the local product of a B2B product, the
/// stored Cerema structure; nothing for the other kinds.
async fn item_links(
    db: &sea_orm::DatabaseConnection,
    run: &RunDetail,
) -> crate::inspect::Result<HashMap<String, String>> {
    let ids = run
        .item_errors
        .iter()
        .filter_map(|e| e.external_id.as_deref());
    let links = match (run.run.source.as_str(), run.run.kind.as_str()) {
        ("b2b", "products") => runs::local_products(db, ids)
            .await?
            .into_iter()
            .map(|(ext, id)| (ext, format!("/products/{id}")))
            .collect(),
        ("cerema", "structures") => crate::inspect::cerema::stored_structures(db, ids)
            .await?
            .into_iter()
            .map(|(ext, id)| (ext, format!("/cerema/structures/{id}")))
            .collect(),
        _ => HashMap::new(),
    };
    Ok(links)
}

/// A page of a run's recorded issues, with the choice of errors or warnings.
struct IssuesView<'a> {
    run_id: i32,
    which: Issues,
    limit: u64,
    offset: u64,
    counts: &'a IssueCounts,
    links: &'a HashMap<String, String>,
}

impl IssuesView<'_> {
    fn params(&self, which: Issues) -> Vec<(&'static str, String)> {
        let mut p = vec![("show", show_value(which).to_owned())];
        if self.limit != PAGE_ROWS {
            p.push(("limit", self.limit.to_string()));
        }
        p
    }

    fn render(&self, page: &[ItemError]) -> Markup {
        let path = format!("/runs/{}", self.run_id);
        let tabs = [
            (Issues::All, "all"),
            (Issues::Errors, "errors"),
            (Issues::Warnings, "warnings"),
        ];
        html! {
            nav.issue-tabs aria-label="Which issues" {
                @for (which, label) in tabs {
                    @let href = format!("{path}{}#issues", layout::query(&self.params(which)));
                    @if which == self.which {
                        a href=(href) aria-current="true" { (label) " " span.count { (count(self.counts.of(which))) } }
                    } @else {
                        a href=(href) { (label) " " span.count { (count(self.counts.of(which))) } }
                    }
                }
            }
            @if page.is_empty() {
                (layout::empty(match self.which {
                    Issues::All => "No item error or warning recorded for this run.",
                    Issues::Errors => "No item error recorded for this run.",
                    Issues::Warnings => "No warning recorded for this run.",
                }, html! {}))
            } @else {
                (self.table(page))
            }
            (layout::pager(&path, &self.params(self.which), self.offset, self.limit, page.len(), Some(self.counts.of(self.which))))
        }
    }

    fn table(&self, page: &[ItemError]) -> Markup {
        html! {
            div.table-wrap {
                table id="item-errors" {
                    thead {
                        tr { th { "issue" } th { "item" } th { "message" } th.hide-narrow { "recorded" } }
                    }
                    tbody {
                        @for e in page {
                            @let warning = e.message.strip_prefix(runs::WARNING_PREFIX);
                            tr data-issue=(e.id) {
                                td { (status(if warning.is_some() { "warning" } else { "error" })) }
                                td.mono { (self.item(e.external_id.as_deref())) }
                                td.issue-message {
                                    (warning.unwrap_or(&e.message))
                                    @if let Some(payload) = &e.payload {
                                        details.payload {
                                            summary { "payload" }
                                            pre { (payload) }
                                        }
                                    }
                                }
                                td.hide-narrow { (instant(&e.created_at)) }
                            }
                        }
                    }
                }
            }
        }
    }

    fn item(&self, external_id: Option<&str>) -> Markup {
        match external_id.and_then(|id| Some((id, self.links.get(id)?))) {
            Some((id, href)) => html! { a href=(href) { (id) } },
            None => or_dash(external_id),
        }
    }
}

fn show_value(which: Issues) -> &'static str {
    match which {
        Issues::All => "",
        Issues::Errors => "errors",
        Issues::Warnings => "warnings",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::MAX_RESULTS;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn options_are_listed_escaped_with_nested_values_as_json() {
        let v = serde_json::json!({
            "endpoint": "<b>b2c</b>",
            "page_size": 100,
            "site_id": null,
            "query": {"q": "\"><img"},
        });
        let html = options(&v).into_string();
        assert!(
            html.contains(r#"<dt class="mono">endpoint</dt><dd>&lt;b&gt;b2c&lt;/b&gt;</dd>"#),
            "{html}"
        );
        assert!(html.contains(r#"<span class="mono">100</span>"#), "{html}");
        assert!(
            html.contains(r#"<span class="muted">none</span>"#),
            "{html}"
        );
        assert!(
            html.contains("<pre>{\n  &quot;q&quot;: &quot;\\&quot;&gt;&lt;img&quot;\n}</pre>"),
            "{html}"
        );
        assert!(
            options(&Value::Null)
                .into_string()
                .contains("No option recorded.")
        );
    }

    #[test]
    fn page_parameters_are_checked_and_named() {
        assert_eq!(paging(&params(&[]), 50).ok(), Some((50, 0)));
        assert_eq!(
            paging(&params(&[("limit", "500"), ("offset", "7")]), 50).ok(),
            Some((MAX_RESULTS, 7))
        );
        let bad = |pairs: &[(&str, &str)]| paging(&params(pairs), 50).err().map(|e| e.1);
        assert!(bad(&[("limit", "0")]).is_some_and(|m| m.contains("`limit`")));
        assert!(bad(&[("offset", "x")]).is_some_and(|m| m.contains("`offset`")));
        assert!(
            known(&params(&[("sort", "id")]), &["limit"]).is_err_and(|e| e.1.contains("`sort`"))
        );
        assert_eq!(path_id::<i32>(" 12 ", "an id").ok(), Some(12));
        for raw in ["0", "-3", "abc", "99999999999"] {
            assert!(path_id::<i32>(raw, "an id").is_err(), "{raw}");
        }
        assert!(
            enum_param::<RunStatus>(&params(&[("status", "Failed")]), "status")
                .is_ok_and(|s| s == Some(RunStatus::Failed))
        );
        assert!(
            enum_param::<RunStatus>(&params(&[("status", "done")]), "status")
                .is_err_and(|e| e.1.contains("running, succeeded, failed, interrupted"))
        );
        assert_eq!(
            issues_param(&params(&[("show", "warnings")])).ok(),
            Some(Issues::Warnings)
        );
    }
}
