//! `/cerema` (structures and their users per département and per type, as bars),
//! `/cerema/structures` (the structures, filtered by département and type, each with
//! its user count) and `/cerema/structures/{id}` (one structure and its users), with
//! `/api/cerema`, `/api/cerema/structures` and `/api/cerema/structures/{id}` beside them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use entity::prelude::Instant;
use maud::{Markup, html};
use serde::Serialize;

use super::chart::{self, Mark};
use super::layout::{self, Nav, count, instant, or_dash};
use super::runs::{PAGE_ROWS, paging, path_id};
use super::{PageError, PageResult};
use crate::inspect::cerema::{
    self, Breakdown, StructureDetail, StructureFilter, StructureRow, UserFilter, UserRow,
};
use crate::serve::routes::{PageOf, known};
use crate::serve::{ApiError, AppState, DEFAULT_RESULTS};

/// Départements charted as bars (the most structures first); the table lists them all.
pub const DEPARTEMENTS_CHARTED: usize = 20;
/// Types charted as bars (the most structures first).
pub const TYPES_CHARTED: usize = 30;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/cerema", get(overview_page))
        .route("/cerema/structures", get(structures_page))
        .route("/cerema/structures/{id}", get(structure_page))
        .route("/api/cerema", get(overview_json))
        .route("/api/cerema/structures", get(structures_json))
        .route("/api/cerema/structures/{id}", get(structure_json))
}

type Params = Query<HashMap<String, String>>;

/// One structure and a page of its users.
#[derive(Debug, Serialize)]
pub struct StructurePage {
    pub structure: StructureDetail,
    pub users: PageOf<UserRow>,
}

/// The link to the structures of a département or of a type.
fn structures_link(departement: Option<&str>, structure_type: Option<&str>) -> String {
    let p = [
        ("departement", departement.unwrap_or_default().to_owned()),
        ("type", structure_type.unwrap_or_default().to_owned()),
    ];
    format!("/cerema/structures{}", layout::query(&p))
}

async fn overview_json(State(s): State<Arc<AppState>>) -> Result<Json<Breakdown>, ApiError> {
    Ok(Json(cerema::breakdown(&s.db).await?))
}

async fn overview_page(State(s): State<Arc<AppState>>, Query(p): Params) -> PageResult {
    known(&p, &[])?;
    let b = cerema::breakdown(&s.db).await?;
    let cards = [
        ("structures", b.structures, "/cerema/structures"),
        ("users", b.users, ""),
        ("départements", b.departements.len() as u64, "#departements"),
        ("types", b.types.len() as u64, "#types"),
        (
            "users without a stored structure",
            b.users_without_structure,
            "",
        ),
    ];
    let body = html! {
        div.cerema-page {
            h1 { "Cerema Portail DF" }
            p.lead {
                (count(b.structures)) " structures and " (count(b.users)) " users stored. "
                a href="/cerema/structures" { "Every structure" }
            }
            section.cards aria-label="Figures" {
                @for (what, n, href) in cards {
                    @if href.is_empty() {
                        div.card { span.figure data-figure=(what) { (count(n)) } span.what { (what) } }
                    } @else {
                        a.card href=(href) { span.figure data-figure=(what) { (count(n)) } span.what { (what) } }
                    }
                }
            }
            @if b.structures == 0 {
                (layout::empty("No Cerema structure stored yet.", html! {
                    "Run " code { "sagasync cerema sync all" } " (or " code { "sagasync demo" } ")."
                }))
            } @else {
                (charts(&b))
                div.grid.cerema-tables {
                    (departements_table(&b))
                    (types_table(&b))
                }
            }
        }
    };
    Ok(layout::page("Cerema", Nav::Cerema, body))
}

/// Bars of structures per département (the most first) and per type.
fn charts(b: &Breakdown) -> Markup {
    let mut deps: Vec<_> = b.departements.iter().collect();
    deps.sort_by_key(|d| std::cmp::Reverse(d.structures));
    let dep_marks: Vec<Mark> = deps
        .iter()
        .take(DEPARTEMENTS_CHARTED)
        .map(|d| match &d.departement {
            Some(code) => {
                Mark::count(code.as_str(), d.structures).link(structures_link(Some(code), None))
            }
            None => Mark::count("(none)", d.structures),
        })
        .collect();
    let type_marks: Vec<Mark> = b
        .types
        .iter()
        .take(TYPES_CHARTED)
        .map(|t| match &t.structure_type {
            Some(name) => {
                Mark::count(name.as_str(), t.structures).link(structures_link(None, Some(name)))
            }
            None => Mark::count("(none)", t.structures),
        })
        .collect();
    let dep_caption = if deps.len() > DEPARTEMENTS_CHARTED {
        format!("Structures per département (the {DEPARTEMENTS_CHARTED} with the most)")
    } else {
        "Structures per département".to_owned()
    };
    html! {
        div.grid.cerema-charts {
            div.panel { (chart::bars(&dep_caption, &dep_marks)) }
            div.panel id="types" { (chart::bars("Structures per type", &type_marks)) }
        }
    }
}

fn departements_table(b: &Breakdown) -> Markup {
    html! {
        section {
            h2 id="departements" { "Per département" }
            div.table-wrap {
                table id="departements-table" {
                    thead { tr { th { "département" } th.num { "structures" } th.num { "users" } } }
                    tbody {
                        @for d in &b.departements {
                            tr data-departement=(d.departement.as_deref().unwrap_or_default()) {
                                td {
                                    @match &d.departement {
                                        Some(code) => a href=(structures_link(Some(code), None)) { (code) },
                                        None => span.muted { "(none)" },
                                    }
                                }
                                td.num { (count(d.structures)) }
                                td.num { (count(d.users)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn types_table(b: &Breakdown) -> Markup {
    html! {
        section {
            h2 id="types-table-title" { "Per type" }
            div.table-wrap {
                table id="types-table" {
                    thead { tr { th { "type" } th.num { "structures" } th.num { "users" } } }
                    tbody {
                        @for t in &b.types {
                            tr {
                                td {
                                    @match &t.structure_type {
                                        Some(name) => a href=(structures_link(None, Some(name))) { (name) },
                                        None => span.muted { "(none)" },
                                    }
                                }
                                td.num { (count(t.structures)) }
                                td.num { (count(t.users)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The structures list's filters, as read from its parameters.
struct ListFilters {
    filter: StructureFilter,
    structure_type: String,
}

impl ListFilters {
    fn read(p: &HashMap<String, String>, default_limit: u64) -> Result<Self, ApiError> {
        known(p, &["departement", "type", "limit", "offset"])?;
        let (limit, offset) = paging(p, default_limit)?;
        let departement = layout::param(p, "departement");
        Ok(ListFilters {
            filter: StructureFilter {
                departement: Some(departement).filter(|d| !d.is_empty()),
                limit,
                offset,
            },
            structure_type: layout::param(p, "type"),
        })
    }

    fn structure_type(&self) -> Option<&str> {
        Some(self.structure_type.as_str()).filter(|t| !t.is_empty())
    }

    async fn rows(
        &self,
        db: &sea_orm::DatabaseConnection,
    ) -> crate::inspect::Result<(Vec<StructureRow>, u64)> {
        let rows = cerema::structures_of_type(db, &self.filter, self.structure_type()).await?;
        let total =
            cerema::count_structures_of_type(db, &self.filter, self.structure_type()).await?;
        Ok((rows, total))
    }
}

async fn structures_json(
    State(s): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<Json<PageOf<StructureRow>>, ApiError> {
    let f = ListFilters::read(&p, DEFAULT_RESULTS)?;
    let (rows, total) = f.rows(&s.db).await?;
    Ok(Json(PageOf::of_total(
        rows,
        f.filter.limit,
        f.filter.offset,
        total,
    )))
}

async fn structures_page(State(s): State<Arc<AppState>>, Query(p): Params) -> PageResult {
    let f = ListFilters::read(&p, PAGE_ROWS)?;
    let (rows, total) = f.rows(&s.db).await?;
    let b = cerema::breakdown(&s.db).await?;
    let mut params = vec![
        (
            "departement",
            f.filter.departement.clone().unwrap_or_default(),
        ),
        ("type", f.structure_type.clone()),
    ];
    if f.filter.limit != PAGE_ROWS {
        params.push(("limit", f.filter.limit.to_string()));
    }
    let body = html! {
        div.cerema-page {
            p.crumbs { a href="/cerema" { "Cerema" } " / structures" }
            h1 { "Cerema structures" }
            p.lead { (count(total)) " structures match, by id." }
            (structures_form(&f, &b))
            @if rows.is_empty() {
                (layout::empty("No structure matches these filters.", html! {
                    a href="/cerema/structures" { "Show every structure" } "."
                }))
            } @else {
                (structures_table(&rows))
            }
            (layout::pager("/cerema/structures", &params, f.filter.offset, f.filter.limit, rows.len(), Some(total)))
        }
    };
    Ok(layout::page("Cerema structures", Nav::Cerema, body))
}

fn structures_form(f: &ListFilters, b: &Breakdown) -> Markup {
    let deps: Vec<(String, String)> = b
        .departements
        .iter()
        .filter_map(|d| {
            let code = d.departement.clone()?;
            Some((code.clone(), format!("{code} ({})", count(d.structures))))
        })
        .collect();
    let mut types: Vec<(String, String)> = b
        .types
        .iter()
        .filter_map(|t| {
            let name = t.structure_type.clone()?;
            Some((name.clone(), format!("{name} ({})", count(t.structures))))
        })
        .collect();
    types.sort();
    let dep = f.filter.departement.clone().unwrap_or_default();
    html! {
        form.filters method="get" action="/cerema/structures" {
            (layout::select("departement", "Département", &deps, &dep))
            (layout::select("type", "Type", &types, &f.structure_type))
            button type="submit" { "Filter" }
            a.button.secondary href="/cerema/structures" { "Clear" }
        }
    }
}

fn structures_table(rows: &[StructureRow]) -> Markup {
    html! {
        div.table-wrap {
            table id="structures" {
                thead {
                    tr {
                        th { "id" } th { "raison sociale" } th { "type" } th { "département" }
                        th.hide-narrow { "région" } th.hide-narrow { "accès" } th.num { "users" }
                        th.hide-narrow { "SIRET" }
                    }
                }
                tbody {
                    @for s in rows {
                        @let href = format!("/cerema/structures/{}", s.id);
                        tr data-structure=(s.id) {
                            td.mono { a href=(href) { (s.id) } }
                            td { a href=(href) { (name(s.raison_sociale.as_deref(), s.id)) } }
                            td { (or_dash(s.structure_type.as_deref())) }
                            td { (or_dash(s.departement.as_deref())) }
                            td.hide-narrow { (or_dash(s.region.as_deref())) }
                            td.hide-narrow { (or_dash(s.niveau_acces.as_deref())) }
                            td.num data-users=(s.users) { (count(s.users)) }
                            td.mono.hide-narrow { (or_dash(s.siret.as_deref())) }
                        }
                    }
                }
            }
        }
    }
}

/// A structure's name, or its id when it has none.
fn name(raison_sociale: Option<&str>, id: i64) -> String {
    match raison_sociale.map(str::trim) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => format!("Structure {id}"),
    }
}

/// `gestionnaire`: only managers (`true`), only the others (`false`), or everyone.
fn gestionnaire(p: &HashMap<String, String>) -> Result<Option<bool>, ApiError> {
    match layout::param(p, "gestionnaire").as_str() {
        "" => Ok(None),
        "true" | "1" => Ok(Some(true)),
        "false" | "0" => Ok(Some(false)),
        v => Err(ApiError::bad(format!(
            "`gestionnaire` must be true or false, not {v:?}"
        ))),
    }
}

/// A structure and the page of its users the parameters ask for.
async fn structure_of(
    s: &AppState,
    raw_id: &str,
    p: &HashMap<String, String>,
    default_limit: u64,
) -> Result<(StructurePage, UserFilter, u64), ApiError> {
    known(p, &["gestionnaire", "limit", "offset"])?;
    let id = path_id::<i64>(raw_id, "a structure's id")?;
    let (limit, offset) = paging(p, default_limit)?;
    let Some(structure) = cerema::structure(&s.db, id).await? else {
        return Err(ApiError::not_found(format!("no Cerema structure {id}")));
    };
    let filter = UserFilter {
        structure: Some(id),
        gestionnaire: gestionnaire(p)?,
        limit,
        offset,
    };
    let users = cerema::users(&s.db, &filter).await?;
    let total = cerema::count_users(&s.db, &filter).await?;
    Ok((
        StructurePage {
            structure,
            users: PageOf::of_total(users, limit, offset, total),
        },
        filter,
        total,
    ))
}

async fn structure_json(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> Result<Json<StructurePage>, ApiError> {
    Ok(Json(structure_of(&s, &id, &p, DEFAULT_RESULTS).await?.0))
}

async fn structure_page(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> PageResult {
    let (page, filter, total) = match structure_of(&s, &id, &p, PAGE_ROWS).await {
        Ok(found) => found,
        Err(ApiError(status, _)) if status == axum::http::StatusCode::NOT_FOUND => {
            return Err(PageError::not_found(format!(
                "There is no stored Cerema structure {}: the structures list shows them all.",
                id.trim()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let st = &page.structure;
    let title = name(st.raison_sociale.as_deref(), st.id);
    let mut params = vec![(
        "gestionnaire",
        filter
            .gestionnaire
            .map(|g| g.to_string())
            .unwrap_or_default(),
    )];
    if filter.limit != PAGE_ROWS {
        params.push(("limit", filter.limit.to_string()));
    }
    let path = format!("/cerema/structures/{}", st.id);
    let body = html! {
        div.cerema-page {
            p.crumbs {
                a href="/cerema" { "Cerema" } " / " a href="/cerema/structures" { "structures" } " / " (st.id)
            }
            h1 { (title) }
            (structure_fields(st))
            h2 id="users" { "Users" }
            (users_form(&path, filter.gestionnaire))
            @if page.users.items.is_empty() {
                (layout::empty("No stored user matches.", html! {}))
            } @else {
                (users_table(&page.users.items))
            }
            (layout::pager(&path, &params, filter.offset, filter.limit, page.users.items.len(), Some(total)))
        }
    };
    Ok(layout::page(&title, Nav::Cerema, body))
}

fn structure_fields(st: &StructureDetail) -> Markup {
    let text = |v: &Option<String>| or_dash(v.as_deref());
    html! {
        div.panel {
            dl.fields.structure {
                dt { "id" } dd.mono { (st.id) }
                dt { "raison sociale" } dd { (text(&st.raison_sociale)) }
                dt { "type" } dd {
                    @match &st.structure_type {
                        Some(t) => a href=(structures_link(None, Some(t))) { (t) },
                        None => (text(&None)),
                    }
                }
                dt { "SIRET" } dd.mono { (text(&st.siret)) }
                dt { "NAF" } dd.mono { (text(&st.naf)) }
                dt { "forme juridique" } dd { (text(&st.formjur)) }
                dt { "département" } dd {
                    @match &st.departement {
                        Some(d) => a href=(structures_link(Some(d), None)) { (d) },
                        None => (text(&None)),
                    }
                }
                dt { "région" } dd { (text(&st.region)) }
                dt { "niveau d'accès" } dd { (text(&st.niveau_acces)) }
                dt { "accès LOVAC" } dd { (access(st.acces_lovac)) }
                dt { "accès DF anonymisées" } dd { (access(st.acces_df_ano)) }
                dt { "accès DF non anonymisées" } dd { (access(st.acces_df_non_ano)) }
                dt { "users" } dd { (count(st.users)) }
                dt { "first seen" } dd { (instant(&st.first_seen_at)) }
                dt { "last synced" } dd { (instant(&st.last_synced_at)) }
            }
        }
    }
}

/// An access's end: the instant, and whether it is past.
fn access(until: Option<Instant>) -> Markup {
    match until {
        None => html! { span.muted { "none" } },
        Some(t) if t.0 < Utc::now() => html! { (instant(&t.0)) " " span.badge.warn { "expired" } },
        Some(t) => html! { (instant(&t.0)) " " span.badge.good { "active" } },
    }
}

fn users_form(path: &str, gestionnaire: Option<bool>) -> Markup {
    let options = [
        ("true".to_owned(), "managers".to_owned()),
        ("false".to_owned(), "the others".to_owned()),
    ];
    let selected = gestionnaire.map(|g| g.to_string()).unwrap_or_default();
    html! {
        form.filters method="get" action=(path) {
            (layout::select("gestionnaire", "Gestionnaire", &options, &selected))
            button type="submit" { "Filter" }
        }
    }
}

fn users_table(users: &[UserRow]) -> Markup {
    let yes_no = |v: Option<bool>| match v {
        Some(true) => html! { "yes" },
        Some(false) => html! { span.muted { "no" } },
        None => html! { span.muted { "-" } },
    };
    html! {
        div.table-wrap {
            table id="users" {
                thead {
                    tr {
                        th { "id" } th { "e-mail" } th { "gestionnaire" } th.hide-narrow { "extérieur" }
                        th.num.hide-narrow { "groupe" } th { "expires" } th.hide-narrow { "last synced" }
                    }
                }
                tbody {
                    @for u in users {
                        tr data-user=(u.id) {
                            td.mono { (u.id) }
                            td { (or_dash(u.email.as_deref())) }
                            td { (yes_no(u.gestionnaire)) }
                            td.hide-narrow { (yes_no(u.exterieur)) }
                            td.num.hide-narrow { (u.groupe.map(|g| g.to_string()).unwrap_or_else(|| "-".to_owned())) }
                            td { (layout::maybe_instant(u.date_expiration.as_ref().map(|t| &t.0))) }
                            td.hide-narrow { (instant(&u.last_synced_at)) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_has_a_next_offset_until_the_total() {
        assert_eq!(PageOf::of_total(vec![1, 2], 2, 0, 5).next_offset, Some(2));
        assert_eq!(PageOf::of_total(vec![5], 2, 4, 5).next_offset, None);
        assert_eq!(PageOf::of_total(vec![3, 4], 2, 2, 4).next_offset, None);
        assert_eq!(PageOf::<u8>::of_total(vec![], 2, 10, 5).next_offset, None);
    }

    #[test]
    fn list_links_keep_names_with_accents_and_apostrophes() {
        assert_eq!(
            structures_link(None, Some("Bureau d'études")),
            "/cerema/structures?type=Bureau+d%27%C3%A9tudes"
        );
        assert_eq!(
            structures_link(Some("2A"), None),
            "/cerema/structures?departement=2A"
        );
    }
}
