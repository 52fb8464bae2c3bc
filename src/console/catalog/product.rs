//! `/products/{id}` and `/api/products/{id}` (as `products show`), `/api/products/{id}/errors`:
//! a product, its external mapping, the run that last saw it and its last item error.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use sea_orm::DatabaseConnection;
use serde::Serialize;

use super::super::layout::{self, Nav, count, empty, instant, maybe_instant, or_dash, status};
use super::super::{PageError, PageResult};
use super::{Params, money, products_of, yes_no};
use crate::inspect::catalog::{self, ProductDetail};
use crate::inspect::runs::{RecentError, RunRow};
use crate::serve::routes::{self as api, PageOf};
use crate::serve::{ApiError, AppState, DEFAULT_RESULTS};

/// A product id from the path: a 400 when it is not a number.
fn product_id(raw: &str) -> Result<i32, ApiError> {
    raw.trim().parse::<i32>().map_err(|_| {
        ApiError::bad(format!(
            "a product id is a whole number, not {:?}",
            raw.trim()
        ))
    })
}

async fn find_product(db: &DatabaseConnection, raw: &str) -> Result<ProductDetail, ApiError> {
    let id = product_id(raw)?;
    catalog::product(db, &catalog::ProductKey::Id(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no product with id {id}")))
}

pub(super) async fn json(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<ProductDetail>, ApiError> {
    Ok(Json(find_product(&s.db, &id).await?))
}

pub(super) async fn errors_json(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> Result<Json<PageOf<RecentError>>, ApiError> {
    api::known(&p, &["limit", "offset"])?;
    let (limit, offset) = (api::count(&p, "limit", DEFAULT_RESULTS)?, api::offset(&p)?);
    let product = find_product(&s.db, &id).await?;
    let items = match &product.external {
        Some(e) => catalog::product_errors(&s.db, e.external_id, limit, offset).await?,
        None => Vec::new(),
    };
    Ok(Json(PageOf::new(items, limit, offset)))
}

/// What `/products/{id}` shows besides the product itself.
#[derive(Debug, Serialize)]
struct History {
    last_run: Option<RunRow>,
    last_error: Option<RecentError>,
}

async fn history(db: &DatabaseConnection, p: &ProductDetail) -> crate::inspect::Result<History> {
    let Some(e) = &p.external else {
        return Ok(History {
            last_run: None,
            last_error: None,
        });
    };
    let last_run = match e.last_seen_run_id {
        Some(id) => catalog::product_run(db, id).await?,
        None => None,
    };
    let last_error = catalog::product_errors(db, e.external_id, 1, 0)
        .await?
        .pop();
    Ok(History {
        last_run,
        last_error,
    })
}

pub(super) async fn page(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> PageResult {
    let p = find_product(&s.db, &id).await.map_err(|e| match e.0 {
        StatusCode::NOT_FOUND => {
            PageError::not_found(format!("There is no product with id {}.", id.trim()))
        }
        _ => PageError::from(e),
    })?;
    let h = history(&s.db, &p).await?;
    let body = html! { article.catalog-product {
        p.crumbs { a href="/products" { "Products" } " › "
            @if let (Some(slug), Some(name)) = (&p.category_slug, &p.category_name) {
                a href=(products_of(slug)) { (name) } " › "
            }
            span.mono { "#" (p.id) }
        }
        h1 { (p.title) }
        div.grid {
            section.panel aria-labelledby="product-h" {
                h2 id="product-h" { "Product" }
                (product_fields(&p))
            }
            section.panel aria-labelledby="mapping-h" {
                h2 id="mapping-h" { "External mapping" }
                (mapping(&p))
            }
        }
        div.grid {
            section.panel aria-labelledby="run-h" {
                h2 id="run-h" { "Last sync" }
                (last_run(&p, h.last_run.as_ref()))
            }
            section.panel aria-labelledby="error-h" {
                h2 id="error-h" { "Last recorded error or warning" }
                (last_error(&p, h.last_error.as_ref()))
            }
        }
        @if !p.description.trim().is_empty() {
            h2 { "Description" }
            div.panel.catalog-description { (p.description) }
        }
        p.muted { "As JSON: "
            a href=(format!("/api/products/{}", p.id)) { "/api/products/" (p.id) } ", its errors: "
            a href=(format!("/api/products/{}/errors", p.id)) { "/api/products/" (p.id) "/errors" }
        }
    } };
    Ok(layout::page(&p.title, Nav::Catalog, body))
}

fn product_fields(p: &ProductDetail) -> Markup {
    let images: Vec<String> = p
        .image_urls
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    html! {
        dl.fields {
            dt { "id" } dd.mono { (p.id) }
            dt { "title" } dd { (p.title) }
            dt { "slug" } dd.mono { (p.slug) }
            dt { "SKU" } dd.mono { (or_dash(p.sku.as_deref())) }
            dt { "brand" } dd { (or_dash(p.brand.as_deref())) }
            dt { "category" } dd {
                @match (&p.category_slug, &p.category_name) {
                    (Some(slug), Some(name)) => { a href=(products_of(slug)) { (name) } " " span.mono.muted { (slug) } }
                    _ => span.muted { "none" },
                }
            }
            dt { "price" } dd { (money(&p.price)) }
            dt { "discount price" } dd { @match &p.discount_price { Some(d) => (money(d)), None => span.muted { "-" } } }
            dt { "stock" } dd { (count(p.stock)) }
            dt { "available" } dd { (yes_no(p.is_available)) }
            dt { "images" } dd {
                @if images.is_empty() { span.muted { "none" } }
                @for (i, url) in images.iter().enumerate() {
                    @if i > 0 { br; }
                    (layout::external_link(Some(url)))
                }
            }
            dt { "created" } dd { (instant(&p.created_at)) }
            dt { "updated" } dd { (instant(&p.updated_at)) }
        }
    }
}

fn mapping(p: &ProductDetail) -> Markup {
    let Some(e) = &p.external else {
        return empty(
            "No external mapping:",
            html! { "this product was not stored by a B2B sync." },
        );
    };
    html! {
        dl.fields {
            dt { "external id" } dd.mono data-external-id=(e.external_id) { (e.external_id) }
            dt { "external SKU" } dd.mono { (or_dash(e.external_sku.as_deref())) }
            dt { "external category" } dd.mono { (e.external_category_id.map(|c| c.to_string()).unwrap_or_else(|| "-".to_owned())) }
            dt { "sync status" } dd { (status(&sea_orm::ActiveEnum::to_value(&e.sync_status))) }
            dt { "last synced" } dd { (instant(&e.last_synced_at)) }
            dt { "content hash" } dd.mono { (or_dash(e.content_hash.as_deref())) }
            dt { "API key" } dd { (or_dash(e.api_key_name.as_deref())) }
            @if let Some(err) = e.sync_error.as_deref().filter(|s| !s.trim().is_empty()) {
                dt { "last error" } dd { div.error-box { (err) } }
            }
        }
    }
}

fn last_run(p: &ProductDetail, run: Option<&RunRow>) -> Markup {
    let seen = p.external.as_ref().and_then(|e| e.last_seen_run_id);
    match (run, seen) {
        (Some(r), _) => html! {
            p { "Last seen upstream by run "
                a href=(format!("/runs/{}", r.run_id)) { "#" (r.run_id) " " (r.source) " " (r.kind) } "." }
            dl.fields {
                dt { "status" } dd { (status(&r.status)) }
                dt { "started" } dd { (instant(&r.started_at)) }
                dt { "finished" } dd { (maybe_instant(r.finished_at.as_ref())) }
                dt { "items" } dd { (count(r.total)) " (" (count(r.errors)) " errors)" }
            }
        },
        (None, Some(id)) => empty(
            &format!("Run #{id} last saw it, but that run is no longer stored."),
            html! {},
        ),
        (None, None) => empty(
            "No run is recorded as having seen it.",
            html! {
                "A " code { "sagasync sync-products" } " run that reads it upstream will be."
            },
        ),
    }
}

fn last_error(p: &ProductDetail, e: Option<&RecentError>) -> Markup {
    let Some(ext) = &p.external else {
        return empty(
            "None: errors are recorded by external id, and it has none.",
            html! {},
        );
    };
    let Some(e) = e else {
        return empty(
            &format!(
                "No product run recorded an error or warning for external id {}.",
                ext.external_id
            ),
            html! {},
        );
    };
    html! {
        p {
            @match e.message.strip_prefix("warning: ") {
                Some(w) => { (status("warning")) " " (w) }
                None => { (status("error")) " " (e.message) }
            }
        }
        p.muted {
            (instant(&e.created_at)) ", run "
            a href=(format!("/runs/{}", e.run_id)) { "#" (e.run_id) " " (e.source) " " (e.kind) }
        }
    }
}
