//! Console pages of the catalog: `/categories` (the tree with product counts, folded
//! by `<details>`), `/products` (search and filters, paged) and `/products/{id}` (one
//! product, its mapping, its last run and last recorded error); their JSON under
//! `/api/categories/tree`, `/api/products` (in `serve`), `/api/products/{id}` and
//! `/api/products/{id}/errors`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use entity::prelude::*;
use maud::{Markup, html};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde::Serialize;

use super::chart::{self, Mark};
use super::layout::{self, Nav, count, empty, instant, maybe_instant, or_dash, param, status};
use super::{PageError, PageResult};
use crate::inspect::InspectError;
use crate::inspect::catalog::{
    self, ProductDetail, ProductFilter, ProductRow, TreeFilter, TreeRow,
};
use crate::inspect::runs::{RecentError, RunRow};
use crate::serve::routes::{self as api, PageOf};
use crate::serve::{ApiError, AppState, DEFAULT_RESULTS};

/// Products per page of `/products` unless `limit` says otherwise.
pub const PRODUCTS_PER_PAGE: u64 = 50;
/// Up to this many categories, the category filter is a `<select>`; above, a slug.
pub const CATEGORY_SELECT_MAX: u64 = 300;
/// A text search counts its matches (a scan of every product) only on a table this
/// small; on a larger one the page says "more" unless the page's own scan reached the
/// end.
pub const SEARCH_COUNT_MAX: u64 = 10_000;
/// Top-level categories charted on `/categories`.
const CHARTED: usize = 12;
/// Up to this many top-level categories, the tree opens them (their children shown).
const OPEN_TOPS: usize = 30;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/categories", get(tree_page))
        .route("/api/categories/tree", get(tree_json))
        .route("/products", get(list_page))
        .route("/products/{id}", get(product_page))
        .route("/api/products/{id}", get(product_json))
        .route("/api/products/{id}/errors", get(errors_json))
}

type Params = Query<HashMap<String, String>>;

fn products_of(slug: &str) -> String {
    format!(
        "/products{}",
        layout::query(&[("category", slug.to_owned())])
    )
}

fn product_href(id: i32) -> String {
    format!("/products/{id}")
}

/// A price with thousands separators: `1,234.50`. (Belongs in `layout`.)
fn money(m: &Money) -> String {
    crate::commands::table::thousands(&format!("{:.2}", m.amount()))
}

/// `yes` / `no`.
fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

// ---------------------------------------------------------------- categories

/// The tree's parameters (`root`, `depth`), as `categories tree` takes them.
fn tree_filter(p: &HashMap<String, String>) -> Result<TreeFilter, ApiError> {
    api::known(p, &["root", "depth"])?;
    let depth = match api::text(p, "depth") {
        None => None,
        Some(v) => match v.parse::<u32>() {
            Ok(d) if d >= 1 => Some(d),
            _ => {
                return Err(ApiError::bad(format!(
                    "`depth` must be a whole number from 1 (1 is the top level alone), not {v:?}"
                )));
            }
        },
    };
    Ok(TreeFilter {
        root: api::text(p, "root").map(str::to_owned),
        depth,
    })
}

async fn tree_json(
    State(s): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<Json<Vec<TreeRow>>, ApiError> {
    let filter = tree_filter(&p)?;
    Ok(Json(catalog::tree(&s.db, &filter).await?))
}

async fn tree_page(State(s): State<Arc<AppState>>, Query(p): Params) -> PageResult {
    let filter = tree_filter(&p)?;
    let rows = catalog::tree(&s.db, &filter).await?;
    let tops: Vec<&TreeRow> = rows.iter().filter(|r| r.depth == 0).collect();
    let in_tree: u64 = tops.iter().map(|r| r.total_products).sum();
    let mut largest = tops.clone();
    largest.sort_by_key(|r| std::cmp::Reverse(r.total_products));
    let marks: Vec<Mark> = largest
        .iter()
        .take(CHARTED)
        .filter(|r| r.total_products > 0)
        .map(|r| Mark::count(r.name.clone(), r.total_products).link(products_of(&r.slug)))
        .collect();
    let depth = filter.depth.map(|d| d.to_string()).unwrap_or_default();
    let root = filter.root.clone().unwrap_or_default();
    let body = html! {
        h1 { "Categories" }
        @if let Some(slug) = &filter.root {
            p.lead {
                "The subtree of " span.mono { (slug) } ": " (count(rows.len() as u64)) " categories holding "
                (count(in_tree)) " products. " a href="/categories" { "Whole tree" }
            }
        } @else {
            p.lead {
                (count(rows.len() as u64)) " categories, " (count(tops.len() as u64)) " at the top level, holding "
                (count(in_tree)) " products. Each links to its own products."
            }
        }
        form.filters method="get" action="/categories" {
            (layout::input("root", "Subtree of (slug)", &root, "e.g. electronics"))
            label {
                span { "Levels shown" }
                input type="number" name="depth" min="1" value=(depth) placeholder="all";
            }
            button type="submit" { "Show" }
            @if filter.root.is_some() || filter.depth.is_some() {
                a.button.secondary href="/categories" { "Reset" }
            }
        }
        @if rows.is_empty() {
            (empty("No category is stored yet.", html! {
                "Run " code { "sagasync sync-categories" } " (or " code { "sagasync demo" } ")."
            }))
        } @else {
            @if marks.len() > 1 {
                div.panel.catalog-chart {
                    @let caption = if tops.len() > CHARTED {
                        format!("The {CHARTED} largest top-level categories: products with subcategories")
                    } else {
                        "Products per top-level category, with subcategories".to_owned()
                    };
                    (chart::bars(&caption, &marks))
                }
            }
            h2 { "Tree" }
            p.muted.catalog-legend {
                "Open a category to see its subcategories. Figures: products in the category itself, "
                "then with its subcategories."
            }
            div.panel { (tree_markup(&rows, tops.len() <= OPEN_TOPS)) }
        }
        p.muted { "As JSON: " a href={"/api/categories/tree" (layout::query(&[("root", root.clone()), ("depth", depth.clone())]))} { "/api/categories/tree" } }
    };
    Ok(layout::page("Categories", Nav::Catalog, body))
}

/// The rows (depth first) as nested lists, a `<details>` for each category with
/// children (the top level open when `open_tops`). Built from the last row up, without
/// recursion: a row's children are the items already built one level below it.
fn tree_markup(rows: &[TreeRow], open_tops: bool) -> Markup {
    let mut levels: Vec<Vec<Markup>> = Vec::new();
    for row in rows.iter().rev() {
        let d = row.depth as usize;
        if levels.len() < d + 2 {
            levels.resize_with(d + 2, Vec::new);
        }
        let mut kids = std::mem::take(&mut levels[d + 1]);
        kids.reverse();
        let item = tree_node(row, &kids, open_tops && row.depth == 0);
        levels[d].push(item);
    }
    let mut tops = levels.into_iter().next().unwrap_or_default();
    tops.reverse();
    html! { ul.tree.root { @for t in &tops { (t) } } }
}

fn tree_node(row: &TreeRow, kids: &[Markup], open: bool) -> Markup {
    let label = html! {
        span.node {
            a href=(products_of(&row.slug)) { (row.name) }
            span.count {
                (count(row.products))
                @if !kids.is_empty() { " · " (count(row.total_products)) " with subcategories" }
            }
        }
    };
    html! {
        li data-slug=(row.slug) data-products=(row.products) data-total=(row.total_products) {
            @if kids.is_empty() {
                (label)
            } @else {
                details.tree open[open] {
                    summary { (label) }
                    ul.tree { @for k in kids { (k) } }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- products list

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

async fn list_page(
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

// ---------------------------------------------------------------- one product

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

async fn product_json(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<ProductDetail>, ApiError> {
    Ok(Json(find_product(&s.db, &id).await?))
}

async fn errors_json(
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

async fn product_page(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> PageResult {
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
                    @if url.starts_with("https://") || url.starts_with("http://") {
                        a.mono href=(url) rel="noreferrer noopener" { (chart::shorten(url, 80)) }
                    } @else {
                        span.mono { (chart::shorten(url, 80)) }
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn row(depth: u32, slug: &str) -> TreeRow {
        TreeRow {
            depth,
            id: 0,
            name: format!("<{slug}>"),
            slug: slug.to_owned(),
            products: 1,
            total_products: 1,
        }
    }

    #[test]
    fn prices_have_two_decimals_and_separators() {
        let m = |s: &str| Money::from(rust_decimal::Decimal::from_str(s).expect("a decimal"));
        assert_eq!(money(&m("11269")), "11,269.00");
        assert_eq!(money(&m("1234567.5")), "1,234,567.50");
        assert_eq!(money(&m("0.99")), "0.99");
    }

    #[test]
    fn the_tree_nests_children_under_their_parent() {
        let rows = [
            row(0, "a"),
            row(1, "a1"),
            row(2, "a11"),
            row(1, "a2"),
            row(0, "b"),
        ];
        let html = tree_markup(&rows, true).into_string();
        let at = |s: &str| html.find(&format!(r#"data-slug="{s}""#)).expect(s);
        assert!(
            at("a") < at("a1")
                && at("a1") < at("a11")
                && at("a11") < at("a2")
                && at("a2") < at("b")
        );
        // a and a1 have children (details), a11, a2 and b do not; names are escaped.
        assert_eq!(html.matches("<details").count(), 2, "{html}");
        assert_eq!(
            html.matches("<details class=\"tree\" open").count(),
            1,
            "{html}"
        );
        assert!(html.contains("&lt;a11&gt;"), "{html}");
        // The lists close where their subtree ends: b is a sibling of a.
        let b = &html[at("b")..];
        assert_eq!(b.matches("</ul>").count(), 1, "{html}");
    }
}
