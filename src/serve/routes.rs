//! The handlers of `sagasync serve`: parameters checked by hand so a bad one is a JSON
//! 400 that names it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use entity::prelude::*;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde::Serialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, DEFAULT_RESULTS, MAX_RESULTS};
use crate::skills::{SkillsError, match_stored, rome_profile};

type Params = Query<HashMap<String, String>>;
type Answer = Result<Json<Value>, ApiError>;

/// A positive count from `name`, capped at [`MAX_RESULTS`]; `default` when absent.
pub(super) fn count(
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
pub(super) fn offset(p: &HashMap<String, String>) -> Result<u64, ApiError> {
    match p.get("offset").map(|v| v.trim()) {
        None | Some("") => Ok(0),
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| ApiError::bad(format!("`offset` must be a whole number, not {v:?}"))),
    }
}

/// A checked ROME code (a letter and 4 digits), upper-cased.
fn rome(code: &str) -> Result<String, ApiError> {
    let code = code.trim().to_uppercase();
    let ok = code.len() == 5
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code[1..].chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(code)
    } else {
        Err(ApiError::bad(format!(
            "`rome_code` must be a ROME code (a letter and 4 digits, e.g. G1602), not {code:?}"
        )))
    }
}

/// A page of items with what the next page needs.
#[derive(Debug, Serialize)]
pub(super) struct PageOf<T> {
    pub items: Vec<T>,
    pub limit: u64,
    pub offset: u64,
    /// The `offset` of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

impl<T> PageOf<T> {
    pub fn new(items: Vec<T>, limit: u64, offset: u64) -> Self {
        let next_offset = (items.len() as u64 == limit).then_some(offset + limit);
        PageOf {
            items,
            limit,
            offset,
            next_offset,
        }
    }
}

pub(super) fn to_json(v: impl Serialize) -> Answer {
    serde_json::to_value(v)
        .map(Json)
        .map_err(|e| ApiError::from(anyhow::Error::from(e)))
}

pub async fn health(State(s): State<Arc<AppState>>) -> Answer {
    let backend = crate::db::backend_name(sea_orm::ConnectionTrait::get_database_backend(&s.db));
    let offers = JobOffer::find().count(&s.db).await?;
    let products = Product::find().count(&s.db).await?;
    Ok(Json(json!({
        "status": "ok",
        "database": backend,
        "job_offers": offers,
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
        Some(Value::String(s)) => crate::commands::skills::split_skills(s),
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

pub async fn search_jobs(State(s): State<Arc<AppState>>, Query(p): Params) -> Answer {
    let _ = (&s, count(&p, "max_results", DEFAULT_RESULTS)?);
    Err(ApiError::not_found("not yet"))
}

pub async fn paris_jobs(
    State(s): State<Arc<AppState>>,
    Path(q): Path<String>,
    Query(p): Params,
) -> Answer {
    let _ = (&s, q, count(&p, "max_results", DEFAULT_RESULTS)?);
    Err(ApiError::not_found("not yet"))
}

pub async fn runs(State(s): State<Arc<AppState>>, Query(p): Params) -> Answer {
    let _ = (&s, count(&p, "limit", DEFAULT_RESULTS)?, offset(&p)?);
    Err(ApiError::not_found("not yet"))
}

pub async fn products(State(s): State<Arc<AppState>>, Query(p): Params) -> Answer {
    let _ = (&s, count(&p, "limit", DEFAULT_RESULTS)?, offset(&p)?);
    Err(ApiError::not_found("not yet"))
}

pub async fn categories(State(s): State<Arc<AppState>>, Query(p): Params) -> Answer {
    let _ = (&s, count(&p, "limit", DEFAULT_RESULTS)?, offset(&p)?);
    Err(ApiError::not_found("not yet"))
}
