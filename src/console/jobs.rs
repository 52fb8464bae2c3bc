//! The jobs (ROME codes) as the stored offers describe them: `/rome` (and `/api/rome`),
//! the codes present with their offer counts; `/rome/{code}`, a job's profile (its JSON
//! is `/api/job_details/{code}`: both come from `skills::rome_profile`); `/match`, a
//! person's skills scored against a job (as `match-skills` and `POST /api/match_skills`
//! score them: `skills::match_stored`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use maud::{Markup, html};
use serde::Serialize;

use super::chart::{self, Mark};
use super::layout::{self, Nav, count, or_dash};
use super::offers::url_segment;
use super::{PageError, PageResult};
use crate::inspect::offers::{self, MAX_LIMIT, OfferFilter, RomeCount};
use crate::serve::routes::{PageOf, known, text};
use crate::serve::{ApiError, AppState, DEFAULT_RESULTS};
use crate::skills::{
    MatchResult, RequiredSkill, RomeProfile, SkillsError, match_stored, rome_code, rome_profile,
    split_skills,
};

/// Skills of a profile shown in its table; the others are folded under it.
pub const SKILLS_SHOWN: usize = 25;
/// Skills a match takes at most (as `POST /api/match_skills`).
pub const MAX_SKILLS: usize = 100;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/rome", get(index_page))
        .route("/rome/{code}", get(rome_page))
        .route("/api/rome", get(index_json))
        .route("/match", get(match_page))
}

type Params = Query<HashMap<String, String>>;

/// A page of the ROME codes present and how many there are.
#[derive(Debug, Serialize)]
pub struct RomePage {
    #[serde(flatten)]
    pub page: PageOf<RomeCount>,
    pub total: u64,
}

async fn rome_index(
    db: &sea_orm::DatabaseConnection,
    limit: u64,
    offset: u64,
) -> Result<RomePage, ApiError> {
    let filter = OfferFilter {
        limit,
        offset,
        ..OfferFilter::default()
    };
    let items = offers::rome_codes(db, &filter).await?;
    let total = offers::rome_code_count(db, &filter).await?;
    let mut page = PageOf::new(items, limit, offset);
    if offset + page.items.len() as u64 >= total {
        page.next_offset = None;
    }
    Ok(RomePage { page, total })
}

fn paging(p: &HashMap<String, String>) -> Result<(u64, u64), ApiError> {
    Ok((
        crate::serve::routes::count(p, "limit", DEFAULT_RESULTS)?,
        crate::serve::routes::offset(p)?,
    ))
}

async fn index_json(
    State(st): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<Json<RomePage>, ApiError> {
    known(&p, &["limit", "offset"])?;
    let (limit, offset) = paging(&p)?;
    Ok(Json(rome_index(&st.db, limit, offset).await?))
}

/// A checked ROME code, or a 400 naming `name`.
fn checked_rome(name: &str, code: &str) -> Result<String, PageError> {
    rome_code(code).ok_or_else(|| {
        PageError::bad(format!(
            "`{name}` must be a ROME code (a letter and 4 digits, e.g. G1602), not {:?}",
            code.trim()
        ))
    })
}

async fn index_page(
    State(st): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<Response, PageError> {
    known(&p, &["code", "limit", "offset"])?;
    if let Some(code) = text(&p, "code") {
        let code = checked_rome("code", code)?;
        return Ok(Redirect::to(&format!("/rome/{code}")).into_response());
    }
    let (limit, offset) = paging(&p)?;
    let list = rome_index(&st.db, limit, offset).await?;
    let mut params = Vec::new();
    if limit != DEFAULT_RESULTS {
        params.push(("limit", limit.to_string()));
    }
    let body = html! {
        h1 { "Jobs" }
        p.lead { (count(list.total)) " ROME codes among the stored offers, most offers first." }
        div.grid {
            form.stack.panel method="get" action="/rome" {
                label {
                    span { "Go to a ROME code" }
                    input type="search" name="code" placeholder="G1602" required pattern="[A-Za-z][0-9]{4}";
                }
                div.actions { button type="submit" { "Show the job" } }
            }
            div.panel {
                h2 { "Match your skills" }
                p { "Score your skills against what the offers of a job ask for: " a href="/match" { "the skills match" } "." }
            }
        }
        h2 { "ROME codes" }
        @if list.page.items.is_empty() {
            @if list.total == 0 {
                (layout::empty("No stored offer has a ROME code.", html! {
                    "Collect offers with " code { "sagasync france-travail collect" } " (or " code { "sagasync demo" } ")."
                }))
            } @else {
                (layout::empty("No ROME code on this page.", html! { a href="/rome" { "Back to the first page." } }))
            }
        } @else {
            div.table-wrap {
                table id="rome-codes" {
                    thead { tr { th { "code" } th { "label" } th.num { "offers" } } }
                    tbody {
                        @for r in &list.page.items {
                            tr {
                                td.mono { (rome_cell(r.rome_code.as_deref())) }
                                td { (or_dash(r.rome_libelle.as_deref())) }
                                td.num {
                                    @match &r.rome_code {
                                        Some(c) => a href=(format!("/offers{}", layout::query(&[("rome", c.clone())]))) { (count(r.offers)) },
                                        None => (count(r.offers)),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (layout::pager("/rome", &params, offset, limit, list.page.items.len(), Some(list.total)))
    };
    Ok(layout::page("Jobs", Nav::Jobs, body).into_response())
}

fn rome_cell(code: Option<&str>) -> Markup {
    match code {
        Some(c) => html! { a href=(format!("/rome/{c}")) { (c) } },
        None => html! { span.muted { "none" } },
    }
}

/// `0.425` as `42.5%`.
fn percent(f: f64) -> String {
    let p = f * 100.0;
    if (p - p.round()).abs() < 0.05 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// A share as a meter with its percentage written beside it.
fn share(f: f64) -> Markup {
    html! {
        meter min="0" max="1" value=(f) { (percent(f)) }
        (percent(f))
    }
}

async fn rome_page(State(st): State<Arc<AppState>>, Path(code): Path<String>) -> PageResult {
    let code = checked_rome("rome_code", &code)?;
    let Some(p) = rome_profile(&st.db, &code).await? else {
        return Err(PageError::not_found(format!(
            "No stored offer has ROME code {code}."
        )));
    };
    let offers_of = |extra: &[(&str, String)]| {
        let mut q = vec![("rome", p.rome_code.clone())];
        q.extend(extra.iter().cloned());
        format!("/offers{}", layout::query(&q))
    };
    let title = match &p.rome_libelle {
        Some(l) => format!("{} {l}", p.rome_code),
        None => p.rome_code.clone(),
    };
    let contracts: Vec<Mark> = p
        .contracts
        .iter()
        .map(|c| {
            Mark::new(
                c.value.as_str(),
                c.offers as f64,
                format!("{} ({})", count(c.offers), percent(c.frequency)),
            )
            .link(offers_of(&[("contract", c.value.clone())]))
        })
        .collect();
    let body = html! {
        p.muted { a href="/rome" { "Jobs" } " / " span.mono { (p.rome_code) } }
        h1 { span.mono { (p.rome_code) } " " (or_dash(p.rome_libelle.as_deref())) }
        section.cards aria-label="Figures" {
            a.card href=(offers_of(&[])) {
                span.figure id="rome-offers" { (count(p.offers)) }
                span.what { "stored offers" }
            }
            div.card { span.figure { (count(p.skills.len() as u64)) } span.what { "distinct skills asked" } }
            a.card href=(format!("/match{}", layout::query(&[("rome", p.rome_code.clone())]))) {
                span.figure { "→" } span.what { "match your skills" }
            }
        }
        h2 { "Skills asked" }
        (skills_table(&p))
        div.grid.offer-charts {
            div.panel { (chart::bars("Offers per contract type", &contracts)) }
            div.panel {
                h2 { "Salaries" }
                (salaries(&p))
            }
        }
        h2 { "Recent offers" }
        @if p.samples.is_empty() {
            (layout::empty("No offer to show.", html! {}))
        } @else {
            ul id="samples" {
                @for s in &p.samples {
                    li {
                        a href=(format!("/offers/{}", url_segment(&s.id))) { (s.intitule.as_deref().unwrap_or(&s.id)) }
                        " · " (or_dash(s.lieu_libelle.as_deref())) " · " (or_dash(s.type_contrat.as_deref()))
                    }
                }
            }
            p { a href=(offers_of(&[])) { "All " (count(p.offers)) " offers of this job" } }
        }
    };
    Ok(layout::page(&title, Nav::Jobs, body))
}

fn skills_rows(skills: &[RequiredSkill]) -> Markup {
    html! {
        @for s in skills {
            tr {
                td { (s.libelle) }
                td.num { (count(s.offers)) }
                td.share { (share(s.frequency)) }
            }
        }
    }
}

fn skills_table(p: &RomeProfile) -> Markup {
    let (shown, rest) = p.skills.split_at(p.skills.len().min(SKILLS_SHOWN));
    html! {
        @if p.skills.is_empty() {
            (layout::empty("The offers of this job list no skill.", html! {}))
        } @else {
            div.table-wrap {
                table id="rome-skills" {
                    thead { tr { th { "skill" } th.num { "offers" } th { "share of the offers" } } }
                    tbody { (skills_rows(shown)) }
                }
            }
            @if !rest.is_empty() {
                details.more {
                    summary { "The other " (count(rest.len() as u64)) " skills" }
                    div.table-wrap {
                        table {
                            thead { tr { th { "skill" } th.num { "offers" } th { "share of the offers" } } }
                            tbody { (skills_rows(rest)) }
                        }
                    }
                }
            }
        }
    }
}

fn salaries(p: &RomeProfile) -> Markup {
    html! {
        @if p.salaries.is_empty() {
            (layout::empty("No offer of this job states a salary.", html! {}))
        } @else {
            table id="rome-salaries" {
                thead { tr { th { "salary" } th.num { "offers" } } }
                tbody {
                    @for s in &p.salaries {
                        tr { td { (s.value) } td.num { (count(s.offers)) } }
                    }
                }
            }
        }
    }
}

/// What the match form was given.
#[derive(Default)]
struct MatchForm {
    rome: String,
    skills: String,
}

async fn match_page(
    State(st): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<Response, PageError> {
    known(&p, &["rome", "skills"])?;
    let form = MatchForm {
        rome: layout::param(&p, "rome"),
        skills: p.get("skills").cloned().unwrap_or_default(),
    };
    let codes = offers::rome_codes(
        &st.db,
        &OfferFilter {
            limit: MAX_LIMIT,
            ..OfferFilter::default()
        },
    )
    .await?;
    let answer = |status: StatusCode, error: Option<String>, result: Option<&MatchResult>| {
        let body = html! {
            h1 { "Match your skills" }
            p.lead { "Your skills against what the stored offers of a job ask for." }
            (match_form(&form, &codes, error.as_deref()))
            @if let Some(r) = result { (match_result(r)) }
        };
        (status, layout::page("Match your skills", Nav::Jobs, body)).into_response()
    };
    // No skills asked for yet (the form alone, or a job's link with its code filled
    // in): the form, nothing to complain about.
    if !p.contains_key("skills") || form.rome.is_empty() && form.skills.trim().is_empty() {
        return Ok(answer(StatusCode::OK, None, None));
    }
    let bad = |msg: String| Ok(answer(StatusCode::BAD_REQUEST, Some(msg), None));
    if form.rome.is_empty() {
        return bad("`rome` (the ROME code of the job) is required".to_owned());
    }
    let Some(code) = rome_code(&form.rome) else {
        return bad(format!(
            "`rome` must be a ROME code (a letter and 4 digits, e.g. G1602), not {:?}",
            form.rome
        ));
    };
    let skills = split_skills(&form.skills);
    if skills.is_empty() {
        return bad(
            "`skills` is empty: write at least one skill, one a line or separated by commas"
                .to_owned(),
        );
    }
    if skills.len() > MAX_SKILLS {
        return bad(format!("`skills` holds more than {MAX_SKILLS} skills"));
    }
    match match_stored(&st.db, &code, &skills).await {
        Ok(r) => Ok(answer(StatusCode::OK, None, Some(&r))),
        Err(SkillsError::UnknownRome(c)) => Ok(answer(
            StatusCode::NOT_FOUND,
            Some(format!("`rome`: no stored offer has ROME code {c}")),
            None,
        )),
        Err(SkillsError::Db(e)) => Err(e.into()),
    }
}

fn match_form(form: &MatchForm, codes: &[RomeCount], error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error {
            div.error-box role="alert" id="match-error" { p { (e) } }
        }
        form.stack.panel method="get" action="/match" {
            label {
                span { "ROME code of the job" }
                input type="text" name="rome" value=(form.rome) list="rome-codes" placeholder="G1602"
                    autocomplete="off" required;
            }
            datalist id="rome-codes" {
                @for r in codes {
                    @if let Some(c) = &r.rome_code {
                        option value=(c) { (c) " " (r.rome_libelle.as_deref().unwrap_or("")) " (" (count(r.offers)) " offers)" }
                    }
                }
            }
            label {
                span { "Your skills, one a line or separated by commas" }
                textarea name="skills" rows="6" placeholder="accueil de la clientèle\nhygiène et sécurité" { (form.skills) }
            }
            div.actions {
                button type="submit" { "Match" }
                a href="/rome" { "Browse the jobs" }
            }
        }
    }
}

fn match_result(r: &MatchResult) -> Markup {
    html! {
        h2 { "Result for " a href=(format!("/rome/{}", r.rome_code)) { (r.rome_code) } }
        section.cards aria-label="Score" {
            div.card { span.figure.score id="match-score" data-score=(r.match_score) { (percent(r.match_score)) } span.what { "match score" } }
            div.card { span.figure { (count(r.matching_skills.len() as u64)) } span.what { "skills matched" } }
            div.card { span.figure { (count(r.missing_skills.len() as u64)) } span.what { "skills missing" } }
        }
        div.grid {
            section.panel {
                h3 { "Matched" }
                @if r.matching_skills.is_empty() {
                    (layout::empty("None of your skills matches what the offers ask for.", html! {}))
                } @else {
                    table id="matched" {
                        thead { tr { th { "your skill" } th { "matches" } th.num { "similarity" } th.num { "asked by" } } }
                        tbody {
                            @for m in &r.matching_skills {
                                tr { td { (m.skill) } td { (m.matches) } td.num { (percent(m.similarity)) } td.num { (percent(m.frequency)) } }
                            }
                        }
                    }
                }
            }
            section.panel {
                h3 { "Missing" }
                @if r.missing_skills.is_empty() {
                    (layout::empty("Nothing missing: your skills cover the most requested ones.", html! {}))
                } @else {
                    table id="missing" {
                        thead { tr { th { "skill" } th { "asked by" } } }
                        tbody {
                            @for m in &r.missing_skills {
                                tr { td { (m.libelle) } td.share { (share(m.frequency)) } }
                            }
                        }
                    }
                }
            }
        }
        @if !r.unmatched_skills.is_empty() {
            h3 { "Not recognised" }
            ul id="unmatched" { @for s in &r.unmatched_skills { li { (s) } } }
        }
        h3 { "Recommendations" }
        ul id="recommendations" { @for s in &r.recommendations { li { (s) } } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_written_as_percentages() {
        assert_eq!(percent(0.42), "42%");
        assert_eq!(percent(0.125), "12.5%");
        assert_eq!(percent(1.0), "100%");
        let html = share(0.5).into_string();
        assert!(html.contains(r#"value="0.5""#), "{html}");
        assert!(html.contains("50%"), "{html}");
    }
}
