//! `/offers` (and `/api/offers`, `/api/offers/stats`): the stored France Travail offers
//! searched by words, place, job and contract, paged, with the market's trends charted
//! over the offers the filters select; `/offers/{id}` (and `/api/offers/{id}`): one offer
//! with its skills.
//!
//! The page and its JSON are computed by the same functions (`offers_page`, `stats`),
//! every count in SQL (`inspect::offers`): nothing loads the offers to count them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use maud::{Markup, html};
use serde::Serialize;

use super::chart::{self, Mark};
use super::layout::{self, Nav, count, external_link, instant, maybe_instant, or_dash};
use super::{PageError, PageResult};
use crate::inspect::offers::{
    self, DayCount, Facet, MAX_LIMIT, OfferDetail, OfferFilter, OfferRow, RomeCount, ValueCount,
};
use crate::serve::routes::{PageOf, known, text};
use crate::serve::{ApiError, AppState, DEFAULT_RESULTS};

/// Départements charted (the others are summed as one bar).
pub const DEPARTEMENTS_CHARTED: usize = 20;
/// ROME codes charted.
pub const ROME_CODES_CHARTED: usize = 15;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/offers", get(list_page))
        .route("/offers/{id}", get(offer_page))
        .route("/api/offers", get(list_json))
        .route("/api/offers/stats", get(stats_json))
        .route("/api/offers/{id}", get(offer_json))
}

type Params = Query<HashMap<String, String>>;

/// The filters of the list and of the charts.
const FILTERS: [&str; 5] = ["q", "commune", "departement", "rome", "contract"];

/// What a search asks for, read from its parameters.
pub struct Search {
    pub filter: OfferFilter,
    /// The filters as given (checked codes upper-cased), for links and the form.
    pub echo: Vec<(&'static str, String)>,
    /// A commune name no stored offer's place holds: nothing is selected.
    pub nowhere: bool,
}

impl Search {
    /// `/offers` with these filters, `name` set to `value`.
    fn href_with(&self, name: &str, value: &str) -> String {
        let mut p: Vec<(&str, String)> = self
            .echo
            .iter()
            .filter(|(k, _)| *k != name)
            .cloned()
            .collect();
        p.push((name, value.to_owned()));
        format!("/offers{}", layout::query(&p))
    }

    fn echoed(&self, name: &str) -> &str {
        self.echo
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Reads the filters (and, when `paged`, `limit` and `offset`); a bad one is a 400
/// naming it, an unknown parameter too.
pub async fn read_search(
    db: &sea_orm::DatabaseConnection,
    p: &HashMap<String, String>,
    paged: bool,
) -> Result<Search, ApiError> {
    let mut names = FILTERS.to_vec();
    if paged {
        names.extend(["limit", "offset"]);
    }
    known(p, &names)?;
    let mut filter = OfferFilter {
        q: text(p, "q").map(str::to_owned),
        limit: crate::serve::routes::count(p, "limit", DEFAULT_RESULTS)?,
        offset: crate::serve::routes::offset(p)?,
        ..OfferFilter::default()
    };
    if let Some(d) = text(p, "departement") {
        if !offers::is_departement_code(d) {
            return Err(ApiError::bad(format!(
                "`departement` must be a département code (75, 2A, 971), not {d:?}"
            )));
        }
        filter.departement = Some(d.to_uppercase());
    }
    if let Some(r) = text(p, "rome") {
        let code = crate::skills::rome_code(r).ok_or_else(|| {
            ApiError::bad(format!(
                "`rome` must be a ROME code (a letter and 4 digits, e.g. G1602), not {r:?}"
            ))
        })?;
        filter.rome = Some(code);
    }
    if let Some(c) = text(p, "contract") {
        if c.len() > 10 || !c.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ApiError::bad(format!(
                "`contract` must be a contract type code (CDI, CDD, MIS...), not {c:?}"
            )));
        }
        filter.contract = Some(c.to_uppercase());
    }
    let mut nowhere = false;
    if let Some(c) = text(p, "commune") {
        if offers::is_commune_code(c) {
            filter.commune = vec![c.to_uppercase()];
        } else {
            filter.commune = offers::communes_named(db, c).await?;
            nowhere = filter.commune.is_empty();
        }
    }
    let echo = vec![
        ("q", filter.q.clone().unwrap_or_default()),
        ("commune", text(p, "commune").unwrap_or_default().to_owned()),
        (
            "departement",
            filter.departement.clone().unwrap_or_default(),
        ),
        ("rome", filter.rome.clone().unwrap_or_default()),
        ("contract", filter.contract.clone().unwrap_or_default()),
    ];
    Ok(Search {
        filter,
        echo,
        nowhere,
    })
}

/// A page of offers and how many the filters select.
#[derive(Debug, Serialize)]
pub struct OffersPage {
    #[serde(flatten)]
    pub page: PageOf<OfferRow>,
    pub total: u64,
}

pub async fn offers_page(
    db: &sea_orm::DatabaseConnection,
    s: &Search,
) -> Result<OffersPage, ApiError> {
    let f = &s.filter;
    let (items, total) = if s.nowhere {
        (Vec::new(), 0)
    } else {
        (offers::search(db, f).await?, offers::count(db, f).await?)
    };
    let mut page = PageOf::new(items, f.limit, f.offset);
    if f.offset + page.items.len() as u64 >= total {
        page.next_offset = None;
    }
    Ok(OffersPage { page, total })
}

/// The market's trends over the offers a search selects.
#[derive(Debug, Serialize)]
pub struct OfferStats {
    /// Offers selected.
    pub total: u64,
    /// Offers selected without a creation date (left out of `days`).
    pub undated: u64,
    /// Offers per département, most first.
    pub departements: Vec<ValueCount>,
    /// Offers per contract type, most first.
    pub contracts: Vec<ValueCount>,
    /// Offers per ROME code, most first (at most 1,000 codes).
    pub rome_codes: Vec<RomeCount>,
    /// Offers per creation day (UTC), oldest first.
    pub days: Vec<DayCount>,
}

pub async fn stats(db: &sea_orm::DatabaseConnection, s: &Search) -> Result<OfferStats, ApiError> {
    let total = if s.nowhere {
        0
    } else {
        offers::count(db, &s.filter).await?
    };
    stats_of(db, s, total).await
}

/// `stats`, with the `total` of offers the search selects already counted (the list
/// page counts it for its pager).
async fn stats_of(
    db: &sea_orm::DatabaseConnection,
    s: &Search,
    total: u64,
) -> Result<OfferStats, ApiError> {
    if s.nowhere {
        return Ok(OfferStats {
            total: 0,
            undated: 0,
            departements: Vec::new(),
            contracts: Vec::new(),
            rome_codes: Vec::new(),
            days: Vec::new(),
        });
    }
    let all = OfferFilter {
        limit: MAX_LIMIT,
        offset: 0,
        ..s.filter.clone()
    };
    let days = offers::per_day(db, &all).await?;
    let dated: u64 = days.iter().map(|d| d.offers).sum();
    Ok(OfferStats {
        total,
        undated: total.saturating_sub(dated),
        departements: offers::counts_by(db, &all, Facet::Departement).await?,
        contracts: offers::counts_by(db, &all, Facet::Contract).await?,
        rome_codes: offers::rome_codes(db, &all).await?,
        days,
    })
}

async fn list_json(
    State(st): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<Json<OffersPage>, ApiError> {
    let s = read_search(&st.db, &p, true).await?;
    Ok(Json(offers_page(&st.db, &s).await?))
}

async fn stats_json(
    State(st): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<Json<OfferStats>, ApiError> {
    let s = read_search(&st.db, &p, false).await?;
    Ok(Json(stats(&st.db, &s).await?))
}

async fn offer_json(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<OfferDetail>, ApiError> {
    match offers::get(&st.db, &id).await? {
        Some(o) => Ok(Json(o)),
        None => Err(ApiError::not_found(format!(
            "no stored offer has id {id:?}"
        ))),
    }
}

async fn list_page(State(st): State<Arc<AppState>>, Query(p): Params) -> PageResult {
    let s = read_search(&st.db, &p, true).await?;
    let list = offers_page(&st.db, &s).await?;
    let trends = stats_of(&st.db, &s, list.total).await?;
    let contracts = offers::counts_by(&st.db, &OfferFilter::default(), Facet::Contract).await?;
    let filtered = s.echo.iter().any(|(_, v)| !v.is_empty());
    let body = html! {
        h1 { "Job offers" }
        p.lead {
            @if filtered {
                (count(list.total)) " offers match these filters."
            } @else {
                (count(list.total)) " stored France Travail offers, newest first."
            }
        }
        (filters_form(&s, &contracts))
        (offer_table(&list, &s))
        h2 id="trends" { "Market trends" }
        p.muted { "Over the " (count(trends.total)) " offers the filters select." }
        (trend_charts(&trends, &s))
    };
    Ok(layout::page("Job offers", Nav::Offers, body))
}

fn filters_form(s: &Search, contracts: &[ValueCount]) -> Markup {
    let mut options: Vec<(String, String)> = contracts
        .iter()
        .filter_map(|c| {
            let v = c.value.clone()?;
            Some((v.clone(), format!("{v} ({})", count(c.offers))))
        })
        .collect();
    // A code no offer has stays chosen, so the form shows the filter applied.
    let chosen = s.echoed("contract");
    if !chosen.is_empty() && !options.iter().any(|(v, _)| v == chosen) {
        options.push((chosen.to_owned(), format!("{chosen} (0)")));
    }
    html! {
        form.filters method="get" action="/offers" role="search" {
            (layout::input("q", "Words", s.echoed("q"), "boulanger, développeur java"))
            (layout::input("commune", "Commune (INSEE code or name)", s.echoed("commune"), "75056, Lyon"))
            (layout::input("departement", "Département", s.echoed("departement"), "75, 2A, 971"))
            (layout::input("rome", "ROME code", s.echoed("rome"), "G1602"))
            (layout::select("contract", "Contract", &options, s.echoed("contract")))
            button type="submit" { "Search" }
            a.button.secondary href="/offers" { "Reset" }
        }
    }
}

fn offer_table(list: &OffersPage, s: &Search) -> Markup {
    let f = &s.filter;
    let mut params = s.echo.clone();
    if f.limit != DEFAULT_RESULTS {
        params.push(("limit", f.limit.to_string()));
    }
    let pager = layout::pager(
        "/offers",
        &params,
        f.offset,
        f.limit,
        list.page.items.len(),
        Some(list.total),
    );
    html! {
        @if list.page.items.is_empty() {
            @if s.nowhere {
                (layout::empty("No stored offer is in a place of that name.", html! {
                    "Try an INSEE code (" code { "75056" } ") or another spelling."
                }))
            } @else if list.total == 0 && s.echo.iter().any(|(_, v)| !v.is_empty()) {
                (layout::empty("No offer matches these filters.", html! {
                    "Loosen them, or " a href="/offers" { "see every offer" } "."
                }))
            } @else if list.total == 0 {
                (layout::empty("No offer is stored yet.", html! {
                    "Collect offers with " code { "sagasync france-travail collect" }
                    " (or " code { "sagasync demo" } ")."
                }))
            } @else {
                (layout::empty("No offer on this page.", html! { a href="/offers" { "Back to the first page." } }))
            }
        } @else {
            div.table-wrap {
                table id="offers" {
                    thead {
                        tr {
                            th { "offer" } th { "company" } th { "place" } th { "contract" }
                            th { "ROME" } th.hide-narrow { "salary" } th.hide-narrow { "created" }
                        }
                    }
                    tbody {
                        @for o in &list.page.items {
                            tr {
                                td { a href=(format!("/offers/{}", url_segment(&o.id))) { (o.intitule.as_deref().unwrap_or(&o.id)) } }
                                td { (or_dash(o.entreprise_nom.as_deref())) }
                                td { (or_dash(o.lieu_libelle.as_deref())) }
                                td { (or_dash(o.type_contrat.as_deref())) }
                                td.mono { (rome_link(o.rome_code.as_deref())) }
                                td.hide-narrow { (or_dash(o.salaire_libelle.as_deref())) }
                                td.hide-narrow.nowrap { (day(o.date_creation.as_ref().map(|t| &t.0))) }
                            }
                        }
                    }
                }
            }
        }
        (pager)
    }
}

/// The four charts of the market's trends.
fn trend_charts(t: &OfferStats, s: &Search) -> Markup {
    let mut deps: Vec<Mark> = t
        .departements
        .iter()
        .take(DEPARTEMENTS_CHARTED)
        .map(|d| match &d.value {
            Some(v) => Mark::count(v.as_str(), d.offers).link(s.href_with("departement", v)),
            None => Mark::count("none", d.offers),
        })
        .collect();
    let others: u64 = t
        .departements
        .iter()
        .skip(DEPARTEMENTS_CHARTED)
        .map(|d| d.offers)
        .sum();
    if others > 0 {
        deps.push(Mark::count("others", others));
    }
    let contracts: Vec<Mark> = t
        .contracts
        .iter()
        .map(|c| match &c.value {
            Some(v) => Mark::count(v.as_str(), c.offers).link(s.href_with("contract", v)),
            None => Mark::count("none", c.offers),
        })
        .collect();
    let romes: Vec<Mark> = t
        .rome_codes
        .iter()
        .take(ROME_CODES_CHARTED)
        .map(|r| match &r.rome_code {
            Some(code) => {
                let label = match &r.rome_libelle {
                    Some(l) => format!("{code} {l}"),
                    None => code.clone(),
                };
                Mark::count(label, r.offers).link(format!("/rome/{code}"))
            }
            None => Mark::count("none", r.offers),
        })
        .collect();
    let days: Vec<Mark> = t
        .days
        .iter()
        .map(|d| Mark::count(d.day.as_str(), d.offers).tick(d.day.get(5..).unwrap_or(&d.day)))
        .collect();
    html! {
        div.grid.offer-charts {
            div.panel {
                (chart::columns("Offers per creation day (UTC)", &days, 5))
                @if t.undated > 0 {
                    p.muted { (count(t.undated)) " offers have no creation date." }
                }
            }
            div.panel { (chart::bars("Offers per contract type", &contracts)) }
            div.panel { (chart::bars("Offers per département", &deps)) }
            div.panel { (chart::bars("Offers per ROME code", &romes)) }
        }
    }
}

async fn offer_page(State(st): State<Arc<AppState>>, Path(id): Path<String>) -> PageResult {
    let Some(o) = offers::get(&st.db, &id).await? else {
        return Err(PageError::not_found(format!(
            "No stored offer has id {id:?}."
        )));
    };
    let title = o
        .intitule
        .clone()
        .unwrap_or_else(|| format!("Offer {}", o.id));
    let body = html! {
        p.muted { a href="/offers" { "Job offers" } " / " span.mono { (o.id) } }
        h1 { (title) }
        p.lead {
            (or_dash(o.entreprise_nom.as_deref())) " · " (or_dash(o.lieu_libelle.as_deref()))
            " · " (or_dash(o.type_contrat_libelle.as_deref().or(o.type_contrat.as_deref())))
        }
        @if let Some(code) = &o.rome_code {
            p {
                "Job: " a href=(format!("/rome/{code}")) { (code) @if let Some(l) = &o.rome_libelle { " " (l) } }
                " · " a href=(format!("/offers{}", layout::query(&[("rome", code.clone())]))) { "other offers of this job" }
                " · " a href=(format!("/match{}", layout::query(&[("rome", code.clone())]))) { "match your skills" }
            }
        }
        div.grid.offer-detail {
            section.panel aria-labelledby="fields" {
                h2 id="fields" { "Fields" }
                (fields(&o))
            }
            section.panel aria-labelledby="skills" {
                h2 id="skills" { "Skills" }
                (skills(&o))
            }
        }
        h2 { "Description" }
        @match o.description.as_deref().filter(|d| !d.trim().is_empty()) {
            Some(d) => div.panel.offer-description { (d) },
            None => (layout::empty("The offer has no description.", html! {})),
        }
    };
    Ok(layout::page(&title, Nav::Offers, body))
}

/// Every field of the offer but its description and skills.
fn fields(o: &OfferDetail) -> Markup {
    let t = |v: &Option<String>| or_dash(v.as_deref());
    let filtered = |name: &str, v: &Option<String>| match v {
        Some(v) => {
            html! { a href=(format!("/offers{}", layout::query(&[(name, v.clone())]))) { (v) } }
        }
        None => or_dash(None),
    };
    let n = |v: Option<String>| or_dash(v.as_deref());
    html! {
        dl.fields {
            dt { "id" } dd.mono { (o.id) }
            dt { "title" } dd { (t(&o.intitule)) }
            dt { "ROME code" } dd.mono { (rome_link(o.rome_code.as_deref())) }
            dt { "ROME label" } dd { (t(&o.rome_libelle)) }
            dt { "job title label" } dd { (t(&o.appellation_libelle)) }
            dt { "contract" } dd { (filtered("contract", &o.type_contrat)) " " (t(&o.type_contrat_libelle)) }
            dt { "nature" } dd { (t(&o.nature_contrat)) }
            dt { "experience" } dd { (t(&o.experience_exige)) " " (t(&o.experience_libelle)) }
            dt { "place" } dd { (t(&o.lieu_libelle)) }
            dt { "commune (INSEE)" } dd.mono { (filtered("commune", &o.commune)) }
            dt { "postal code" } dd.mono { (t(&o.code_postal)) }
            dt { "département" } dd.mono { (filtered("departement", &o.departement)) }
            dt { "latitude, longitude" } dd { (n(o.latitude.map(|v| v.to_string()))) ", " (n(o.longitude.map(|v| v.to_string()))) }
            dt { "company" } dd { (t(&o.entreprise_nom)) }
            dt { "salary" } dd { (t(&o.salaire_libelle)) }
            dt { "working time" } dd { (t(&o.duree_travail_libelle)) }
            dt { "work-study" } dd { (n(o.alternance.map(|a| if a { "yes" } else { "no" }.to_owned()))) }
            dt { "positions" } dd { (n(o.nombre_postes.map(count))) }
            dt { "qualification" } dd.mono { (t(&o.qualification_code)) }
            dt { "sector" } dd { (t(&o.secteur_activite)) " " (t(&o.secteur_activite_libelle)) }
            dt { "upstream page" } dd { (external_link(o.origine_url.as_deref())) }
            dt { "created" } dd { (maybe_instant(o.date_creation.as_ref().map(|t| &t.0))) }
            dt { "updated" } dd { (maybe_instant(o.date_actualisation.as_ref().map(|t| &t.0))) }
            dt { "first seen" } dd { (instant(&o.first_seen_at)) }
            dt { "last seen" } dd { (instant(&o.last_seen_at)) }
        }
    }
}

fn skills(o: &OfferDetail) -> Markup {
    html! {
        @if o.skills.is_empty() {
            (layout::empty("The offer lists no skill.", html! {}))
        } @else {
            div.table-wrap {
                table id="offer-skills" {
                    thead { tr { th { "skill" } th { "code" } th { "asked as" } } }
                    tbody {
                        @for sk in &o.skills {
                            tr {
                                td { (sk.libelle) }
                                td.mono { (or_dash(sk.code.as_deref())) }
                                td {
                                    @match sk.exigence.as_deref() {
                                        Some("E") => span.badge.warn { "required" },
                                        Some("S") => span.badge { "desired" },
                                        other => (or_dash(other)),
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

/// A ROME code linked to its page.
fn rome_link(code: Option<&str>) -> Markup {
    match code {
        Some(c) if crate::skills::rome_code(c).is_some() => {
            html! { a href=(format!("/rome/{c}")) { (c) } }
        }
        other => or_dash(other),
    }
}

/// The day of an instant, in a `<time>` element.
fn day(t: Option<&chrono::DateTime<chrono::Utc>>) -> Markup {
    match t {
        Some(t) => html! { time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d")) } },
        None => or_dash(None),
    }
}

/// `s` as one path segment (an offer id is upstream text).
pub(super) fn url_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_ids_are_one_path_segment() {
        assert_eq!(url_segment("172REUI"), "172REUI");
        assert_eq!(url_segment("a/b c?"), "a%2Fb%20c%3F");
    }
}
