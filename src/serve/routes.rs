//! The handlers of `sagasync serve`: parameters checked by hand so a bad one is a JSON
//! 400 that names it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use entity::prelude::*;
use sea_orm::{ActiveEnum, EntityTrait, PaginatorTrait};
use serde::Serialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, DEFAULT_RESULTS, MAX_RESULTS};
use crate::inspect::catalog::{self, ProductFilter};
use crate::inspect::offers::{self, OfferFilter};
use crate::inspect::rome;
use crate::inspect::runs::{self, RunFilter};
use crate::skills::{SkillsError, match_stored, rome_profile, split_skills};

type Params = Query<HashMap<String, String>>;
type Answer = Result<Json<Value>, ApiError>;

/// A positive count from `name`, capped at [`MAX_RESULTS`]; `default` when absent.
pub(crate) fn count(
    p: &HashMap<String, String>,
    name: &str,
    default: u64,
) -> Result<u64, ApiError> {
    match p.get(name).map(|v| v.trim()) {
        None | Some("") => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n.min(MAX_RESULTS)),
            _ => Err(ApiError::bad(format!(
                "`{name}` must be a whole number from 1 (at most {MAX_RESULTS} are returned), not {v:?}"
            ))),
        },
    }
}

/// An offset (0 when absent).
pub(crate) fn offset(p: &HashMap<String, String>) -> Result<u64, ApiError> {
    match p.get("offset").map(|v| v.trim()) {
        None | Some("") => Ok(0),
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| ApiError::bad(format!("`offset` must be a whole number, not {v:?}"))),
    }
}

/// A checked ROME code (a letter and 4 digits), upper-cased.
fn rome(code: &str) -> Result<String, ApiError> {
    crate::skills::rome_code(code).ok_or_else(|| {
        ApiError::bad(format!(
            "`rome_code` must be a ROME code (a letter and 4 digits, e.g. G1602), not {:?}",
            code.trim()
        ))
    })
}

/// A page of items with what the next page needs.
#[derive(Debug, Serialize)]
pub(crate) struct PageOf<T> {
    pub items: Vec<T>,
    pub limit: u64,
    pub offset: u64,
    /// The `offset` of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

impl<T> PageOf<T> {
    /// A page of a list whose length is not known: there is a next page while the
    /// page is full.
    pub fn new(items: Vec<T>, limit: u64, offset: u64) -> Self {
        let next_offset = (items.len() as u64 == limit).then_some(offset + limit);
        PageOf {
            items,
            limit,
            offset,
            next_offset,
        }
    }

    /// A page of a list of `total` rows.
    pub fn of_total(items: Vec<T>, limit: u64, offset: u64, total: u64) -> Self {
        let next_offset = (offset + (items.len() as u64) < total).then_some(offset + limit);
        PageOf {
            items,
            limit,
            offset,
            next_offset,
        }
    }
}

pub(crate) fn to_json(v: impl Serialize) -> Answer {
    serde_json::to_value(v)
        .map(Json)
        .map_err(|e| ApiError::from(anyhow::Error::from(e)))
}

pub async fn health(State(s): State<Arc<AppState>>) -> Answer {
    let backend = crate::db::backend_key(sea_orm::ConnectionTrait::get_database_backend(&s.db));
    let offers = JobOffer::find().count(&s.db).await?;
    let products = Product::find().count(&s.db).await?;
    Ok(Json(json!({
        "status": "ok",
        "backend": backend,
        "offers": offers,
        "products": products,
        "version": env!("CARGO_PKG_VERSION"),
    })))
}

pub async fn job_details(State(s): State<Arc<AppState>>, Path(code): Path<String>) -> Answer {
    let code = rome(&code)?;
    match rome_profile(&s.db, &code).await? {
        Some(p) => to_json(p),
        None => Err(ApiError::not_found(format!(
            "no stored offer has ROME code {code}"
        ))),
    }
}

/// A page of a list of `total` rows, and `total`.
#[derive(Debug, Serialize)]
pub(crate) struct Counted<T> {
    #[serde(flatten)]
    pub page: PageOf<T>,
    pub total: u64,
}

/// The ROME codes whose label or a job title holds every word of `q`, most stored
/// offers first, a page of them.
pub async fn rome_search(State(s): State<Arc<AppState>>, Query(p): Params) -> Answer {
    known(&p, &["q", "limit", "offset"])?;
    let (limit, offset) = (count(&p, "limit", DEFAULT_RESULTS)?, offset(&p)?);
    let q = text(&p, "q")
        .filter(|q| !crate::inspect::search_words(q).is_empty())
        .ok_or_else(|| ApiError::bad("`q` (the words to look for) must hold a word"))?;
    let codes = rome::codes_matching(&s.db, q).await?;
    let items = rome::counts(&s.db, &codes, limit, offset).await?;
    let total = codes.len() as u64;
    to_json(Counted {
        page: PageOf::of_total(items, limit, offset, total),
        total,
    })
}

pub async fn match_skills(
    State(s): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = body.map_err(|r| ApiError(r.status(), r.body_text()))?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("the body is not JSON: {e}")))?;
    let code = v
        .get("rome_code")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad("`rome_code` (a string) is required"))?;
    let code = rome(code)?;
    let skills: Vec<String> = match v.get("skills") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ApiError::bad("`skills` must be a list of strings"))
            })
            .collect::<Result<_, _>>()?,
        Some(Value::String(s)) => split_skills(s),
        _ => return Err(ApiError::bad("`skills` (a list of strings) is required")),
    };
    if skills.len() > 100 {
        return Err(ApiError::bad("`skills` holds more than 100 skills"));
    }
    match match_stored(&s.db, &code, &skills).await {
        Ok(r) => to_json(r),
        Err(SkillsError::UnknownRome(c)) => Err(ApiError::not_found(format!(
            "no stored offer has ROME code {c}"
        ))),
        Err(SkillsError::Db(e)) => Err(e.into()),
    }
}

/// The arrondissements of Paris and the commune itself.
fn paris_communes() -> Vec<String> {
    std::iter::once("75056".to_owned())
        .chain((75101..=75120).map(|c| c.to_string()))
        .collect()
}

/// A text parameter, trimmed; `None` when absent or blank.
pub(crate) fn text<'a>(p: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    p.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Parameters this route does not know are refused, so a typo is not silently ignored.
pub(crate) fn known(p: &HashMap<String, String>, names: &[&str]) -> Result<(), ApiError> {
    match p.keys().find(|k| !names.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(ApiError::bad(format!(
            "unknown parameter `{k}` (this route takes {})",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Offers of `filter` as the search routes answer them.
async fn offers_answer(s: &AppState, filter: OfferFilter, echo: Value) -> Answer {
    let jobs = offers::search(&s.db, &filter).await?;
    jobs_answer(jobs, filter.limit, echo)
}

/// `{count, max_results, jobs}` and the echoed parameters.
fn jobs_answer(jobs: Vec<offers::OfferRow>, limit: u64, echo: Value) -> Answer {
    let mut answer = json!({
        "count": jobs.len(),
        "max_results": limit,
        "jobs": jobs,
    });
    if let (Value::Object(a), Value::Object(e)) = (&mut answer, echo) {
        a.extend(e);
    }
    Ok(Json(answer))
}

pub async fn search_jobs(State(s): State<Arc<AppState>>, Query(p): Params) -> Answer {
    known(&p, &["q", "location", "max_results"])?;
    let limit = count(&p, "max_results", DEFAULT_RESULTS)?;
    let q = text(&p, "q");
    let location = text(&p, "location");
    let mut filter = OfferFilter {
        q: q.map(str::to_owned),
        limit,
        ..OfferFilter::default()
    };
    match location {
        None => {}
        Some(l) if offers::is_commune_code(l) => filter.commune = vec![l.to_uppercase()],
        Some(l) if offers::is_departement_code(l) => filter.departement = Some(l.to_uppercase()),
        Some(l) => {
            filter.commune = offers::communes_named(&s.db, l).await?;
            if filter.commune.is_empty() {
                // No stored offer is in a place of that name: an empty answer, not 404.
                return jobs_answer(Vec::new(), limit, json!({ "q": q, "location": l }));
            }
        }
    }
    offers_answer(&s, filter, json!({ "q": q, "location": location })).await
}

pub async fn paris_jobs(
    State(s): State<Arc<AppState>>,
    Path(q): Path<String>,
    Query(p): Params,
) -> Answer {
    known(&p, &["max_results"])?;
    let limit = count(&p, "max_results", DEFAULT_RESULTS)?;
    let q = q.trim();
    if q.is_empty() {
        return Err(ApiError::bad(
            "`q` (the words to look for) must not be empty",
        ));
    }
    let filter = OfferFilter {
        q: Some(q.to_owned()),
        commune: paris_communes(),
        limit,
        ..OfferFilter::default()
    };
    offers_answer(&s, filter, json!({ "q": q, "location": "Paris" })).await
}

/// An enumeration parameter read through the entity's own string values.
pub(crate) fn enum_param<E: ActiveEnum<Value = String> + sea_orm::Iterable>(
    p: &HashMap<String, String>,
    name: &str,
) -> Result<Option<E>, ApiError> {
    match text(p, name) {
        None => Ok(None),
        Some(v) => E::try_from_value(&v.to_lowercase()).map(Some).map_err(|_| {
            let allowed: Vec<String> = E::iter().map(|e| e.to_value()).collect();
            ApiError::bad(format!(
                "`{name}` must be one of {}, not {v:?}",
                allowed.join(", ")
            ))
        }),
    }
}

pub async fn runs(State(s): State<Arc<AppState>>, Query(p): Params) -> Answer {
    known(&p, &["limit", "offset", "source", "status"])?;
    let (limit, offset) = (count(&p, "limit", DEFAULT_RESULTS)?, offset(&p)?);
    let filter = RunFilter {
        source: enum_param::<Source>(&p, "source")?,
        status: enum_param::<RunStatus>(&p, "status")?,
        limit,
        offset,
    };
    to_json(PageOf::new(
        runs::list(&s.db, &filter).await?,
        limit,
        offset,
    ))
}

pub async fn products(State(s): State<Arc<AppState>>, Query(p): Params) -> Answer {
    let filter = product_filter(&p, DEFAULT_RESULTS)?;
    let rows = catalog::products(&s.db, &filter).await?;
    to_json(PageOf::new(rows, filter.limit, filter.offset))
}

/// The parameters of `/api/products` (and of the console's `/products`), checked.
pub(crate) fn product_filter(
    p: &HashMap<String, String>,
    default_limit: u64,
) -> Result<ProductFilter, ApiError> {
    known(
        p,
        &[
            "limit",
            "offset",
            "category",
            "status",
            "search",
            "available",
        ],
    )?;
    let (limit, offset) = (count(p, "limit", default_limit)?, offset(p)?);
    let available = match text(p, "available") {
        None => None,
        Some("true" | "1") => Some(true),
        Some("false" | "0") => Some(false),
        Some(v) => {
            return Err(ApiError::bad(format!(
                "`available` must be true or false, not {v:?}"
            )));
        }
    };
    Ok(ProductFilter {
        category: text(p, "category").map(str::to_owned),
        status: enum_param::<SyncStatus>(p, "status")?,
        search: text(p, "search").map(str::to_owned),
        available,
        limit,
        offset,
    })
}

pub async fn categories(State(s): State<Arc<AppState>>, Query(p): Params) -> Answer {
    known(&p, &["limit", "offset"])?;
    let (limit, offset) = (count(&p, "limit", DEFAULT_RESULTS)?, offset(&p)?);
    let rows = catalog::categories(&s.db, limit, offset).await?;
    to_json(PageOf::new(rows, limit, offset))
}
