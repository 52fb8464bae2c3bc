//! `/products`: the search box and filters of `/api/products`, a page of products with
//! the pager, the total when it is cheap to know.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use entity::prelude::*;
use maud::{Markup, html};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use super::super::PageError;
use super::super::layout::{self, Nav, count, empty, instant, or_dash, param, status};
use super::{Params, money, product_href, products_of, yes_no};
use crate::inspect::InspectError;
use crate::inspect::catalog::{self, ProductFilter, ProductRow, TreeFilter};
use crate::serve::AppState;
use crate::serve::routes as api;

/// Products per page of `/products` unless `limit` says otherwise.
pub const PRODUCTS_PER_PAGE: u64 = 50;
/// Up to this many categories, the category filter is a `<select>`; above, a slug.
pub const CATEGORY_SELECT_MAX: u64 = 300;
/// A text search counts its matches (a scan of every product) only on a table this
/// small; on a larger one the page says "more" unless the page's own scan reached the
/// end.
pub const SEARCH_COUNT_MAX: u64 = 10_000;

/// A page of products and, when it was cheap to know, how many the filters select.
struct Listing {
    rows: Vec<ProductRow>,
    total: Option<u64>,
}

/// The products of `filter`: counted by the database without a search; with one, the
/// page is read with one more row to know whether more follow, and counted only when
/// the page's scan reached the end or the table is small.
async fn listing(
    db: &DatabaseConnection,
    filter: &ProductFilter,
) -> crate::inspect::Result<Listing> {
    let searching = filter
        .search
        .as_deref()
        .is_some_and(|s| !crate::inspect::search_words(s).is_empty());
    if !searching {
        let rows = catalog::products(db, filter).await?;
        let total = catalog::count_products(db, filter).await?;
        return Ok(Listing {
            rows,
            total: Some(total),
        });
    }
    let ahead = ProductFilter {
        limit: filter.limit + 1,
        ..filter.clone()
    };
    let mut rows = catalog::products(db, &ahead).await?;
    let total = if rows.len() as u64 <= filter.limit && (!rows.is_empty() || filter.offset == 0) {
        Some(filter.offset + rows.len() as u64)
    } else if Product::find().count(db).await? <= SEARCH_COUNT_MAX {
        Some(catalog::count_products(db, filter).await?)
    } else {
        None
    };
    rows.truncate(filter.limit as usize);
    Ok(Listing { rows, total })
}

pub(super) async fn page(
    State(s): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<Response, PageError> {
    let filter = api::product_filter(&p, PRODUCTS_PER_PAGE)?;
    let (listing, unknown) = match listing(&s.db, &filter).await {
        Ok(l) => (Some(l), None),
        Err(InspectError::NotFound {
            what: "category",
            key,
        }) => (None, Some(key)),
        Err(e) => return Err(e.into()),
    };
    let form = filters_form(&s.db, &p).await?;
    let params: Vec<(&str, String)> = ["search", "category", "status", "available", "limit"]
        .into_iter()
        .map(|k| (k, param(&p, k)))
        .collect();
    let body = html! {
        h1 { "Products" }
        (form)
        @if let Some(slug) = &unknown {
            div.error-box role="alert" {
                p { "There is no category with the slug " span.mono { (slug) } ". "
                    a href="/categories" { "Pick one in the tree" } "." }
            }
        }
        @if let Some(l) = &listing {
            (results(&s.db, &filter, l, &params).await?)
        }
        p.muted { "As JSON: " a href={"/api/products" (layout::query(&with_offset(&params, filter.offset)))} { "/api/products" } }
    };
    let status = if unknown.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    Ok((status, layout::page("Products", Nav::Catalog, body)).into_response())
}

fn with_offset(params: &[(&'static str, String)], offset: u64) -> Vec<(&'static str, String)> {
    let mut p = params.to_vec();
    if offset > 0 {
        p.push(("offset", offset.to_string()));
    }
    p
}

async fn results(
    db: &DatabaseConnection,
    filter: &ProductFilter,
    l: &Listing,
    params: &[(&'static str, String)],
) -> Result<Markup, PageError> {
    let filtered = filter.search.is_some()
        || filter.category.is_some()
        || filter.status.is_some()
        || filter.available.is_some();
    let found = match l.total {
        Some(t) => format!(
            "{} {}",
            count(t),
            if t == 1 { "product" } else { "products" }
        ),
        None => format!(
            "More than {} products",
            count(filter.offset + l.rows.len() as u64)
        ),
    };
    if l.rows.is_empty() {
        let hint = if !filtered && filter.offset == 0 && Product::find().count(db).await? == 0 {
            empty(
                "No product is stored yet.",
                html! {
                    "Run " code { "sagasync sync-products" } " (or " code { "sagasync demo" } ")."
                },
            )
        } else if filter.offset > 0 && l.total.is_none_or(|t| t > 0) {
            empty(
                "Nothing on this page: the list is shorter.",
                html! { a href="/products" { "Back to the first page" } },
            )
        } else {
            empty(
                "No product matches these filters.",
                html! {
                    "Try other words, another category, or " a href="/products" { "clear the filters" } "."
                },
            )
        };
        return Ok(html! { (hint) });
    }
    Ok(html! {
        p.catalog-found { (found) @if filtered { " match these filters" } "." }
        div.table-wrap {
            table id="products" {
                thead {
                    tr {
                        th { "title" }
                        th.hide-narrow { "SKU" }
                        th.hide-narrow { "brand" }
                        th.hide-narrow { "category" }
                        th.num { "price" }
                        th.num { "stock" }
                        th.hide-narrow { "available" }
                        th { "sync" }
                        th.hide-narrow { "updated" }
                    }
                }
                tbody {
                    @for r in &l.rows {
                        tr {
                            td { a href=(product_href(r.id)) { (r.title) } }
                            td.mono.nowrap.hide-narrow { (or_dash(r.sku.as_deref())) }
                            td.hide-narrow { (or_dash(r.brand.as_deref())) }
                            td.hide-narrow {
                                @match &r.category_slug {
                                    Some(slug) => a.mono href=(products_of(slug)) { (slug) },
                                    None => span.muted { "-" },
                                }
                            }
                            td.num { (price(&r.price, r.discount_price.as_ref())) }
                            td.num { (count(r.stock)) }
                            td.hide-narrow { (yes_no(r.is_available)) }
                            td { (sync_badge(r.sync_status.as_deref())) }
                            td.nowrap.hide-narrow { (instant(&r.updated_at)) }
                        }
                    }
                }
            }
        }
        (layout::pager("/products", params, filter.offset, filter.limit, l.rows.len(), l.total))
    })
}

/// A price, or the discounted price with the regular one struck through.
fn price(price: &Money, discount: Option<&Money>) -> Markup {
    html! {
        @match discount {
            Some(d) if d != price => {
                span.price-now { (money(d)) } " " s.muted.price-was { (money(price)) }
            }
            _ => { (money(price)) }
        }
    }
}

fn sync_badge(s: Option<&str>) -> Markup {
    match s {
        Some(s) => status(s),
        None => html! { span.muted title="not mapped to the B2B inventory" { "-" } },
    }
}

/// The search box and the filters, each labelled; the category a `<select>` of the
/// tree when it is small enough, else its slug.
async fn filters_form(
    db: &DatabaseConnection,
    p: &HashMap<String, String>,
) -> Result<Markup, PageError> {
    let category = param(p, "category");
    let categories = if catalog::count_categories(db).await? <= CATEGORY_SELECT_MAX {
        Some(catalog::tree(db, &TreeFilter::default()).await?)
    } else {
        None
    };
    let statuses: Vec<(String, String)> = ["synced", "pending", "error", "missing"]
        .iter()
        .map(|s| (s.to_string(), s.to_string()))
        .collect();
    let available = [
        ("true".to_owned(), "yes".to_owned()),
        ("false".to_owned(), "no".to_owned()),
    ];
    let limit = param(p, "limit");
    Ok(html! {
        form.filters role="search" method="get" action="/products" {
            (layout::input("search", "Search title, SKU or brand", &param(p, "search"), "e.g. cafe noir"))
            @match &categories {
                Some(rows) => {
                    @let options: Vec<(String, String)> = rows.iter().map(|r| {
                        (r.slug.clone(), format!("{}{} ({})", "\u{a0}\u{a0}".repeat(r.depth as usize), r.name, count(r.products)))
                    }).collect();
                    (layout::select("category", "Category", &options, &category))
                }
                None => (layout::input("category", "Category (slug)", &category, "e.g. electronics")),
            }
            (layout::select("status", "Sync status", &statuses, &param(p, "status")))
            (layout::select("available", "Available", &available, &param(p, "available")))
            @if !limit.is_empty() { input type="hidden" name="limit" value=(limit); }
            button type="submit" { "Search" }
            a.button.secondary href="/products" { "Clear" }
        }
    })
}
