//! `products list|show`: products with their category and sync state, filtered, and one
//! product with its external mapping.
//!
//! Text search folds (`text::fold`) the title, SKU and brand in Rust while reading the
//! rows in keyset batches of `BATCH`: correct on every backend whatever its collation,
//! and memory stays flat however many products the table holds.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{category, external_product, product, sync_error, sync_run};
use sea_orm::{
    ActiveEnum, ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Select,
};
use serde::{Deserialize, Serialize};

use super::categories::category_id;
use crate::inspect::runs::{RecentError, RunRow};
use crate::inspect::{InspectError, matches_words, search_words};

/// The `kind` of the B2B runs that write products (their item errors name products by
/// external id).
pub const PRODUCTS_RUN: &str = "products";

/// Rows read per query while scanning.
pub const BATCH: u64 = 1_000;

/// Which products to list.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Only the products of this category (by slug; not those of its subcategories).
    pub category: Option<String>,
    pub status: Option<SyncStatus>,
    /// Words that must all occur in the title, SKU or brand (accents and case ignored).
    pub search: Option<String>,
    pub available: Option<bool>,
    pub limit: u64,
    pub offset: u64,
}

/// One product as `products list` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, FromQueryResult)]
pub struct ProductRow {
    pub id: i32,
    pub sku: Option<String>,
    pub title: String,
    pub brand: Option<String>,
    pub category_slug: Option<String>,
    pub price: Money,
    pub discount_price: Option<Money>,
    pub stock: i32,
    pub is_available: bool,
    pub external_id: Option<i64>,
    pub sync_status: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// How `products show` names a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductKey {
    Id(i32),
    Sku(String),
    ExternalId(i64),
}

/// One product with its category and external mapping.
#[derive(Debug, Clone, Serialize)]
pub struct ProductDetail {
    pub id: i32,
    pub title: String,
    pub slug: String,
    pub sku: Option<String>,
    pub brand: Option<String>,
    pub category_slug: Option<String>,
    pub category_name: Option<String>,
    pub price: Money,
    pub discount_price: Option<Money>,
    pub stock: i32,
    pub is_available: bool,
    pub description: String,
    pub image_urls: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The link to the B2B inventory (`None` for a product made by hand).
    pub external: Option<ExternalLink>,
}

/// Where a product comes from upstream and how its last sync went.
#[derive(Debug, Clone, Serialize)]
pub struct ExternalLink {
    pub external_id: i64,
    pub external_sku: Option<String>,
    pub external_category_id: Option<i64>,
    pub sync_status: SyncStatus,
    pub sync_error: Option<String>,
    pub api_key_name: Option<String>,
    /// The hash of the item as last received (equal hashes: nothing to write).
    pub content_hash: Option<String>,
    pub last_seen_run_id: Option<i32>,
    pub last_synced_at: DateTime<Utc>,
}

/// The rows of `filter` without order, limit or offset.
async fn base_query(
    db: &DatabaseConnection,
    filter: &ProductFilter,
) -> crate::inspect::Result<Select<Product>> {
    let mut q = Product::find()
        .select_only()
        .columns([
            product::Column::Id,
            product::Column::Sku,
            product::Column::Title,
            product::Column::Brand,
            product::Column::Price,
            product::Column::DiscountPrice,
            product::Column::Stock,
            product::Column::IsAvailable,
            product::Column::UpdatedAt,
        ])
        .column_as(category::Column::Slug, "category_slug")
        .column_as(external_product::Column::ExternalId, "external_id")
        .column_as(external_product::Column::SyncStatus, "sync_status")
        .join(JoinType::LeftJoin, product::Relation::Category.def())
        .join(JoinType::LeftJoin, product::Relation::ExternalProduct.def());
    if let Some(slug) = &filter.category {
        q = q.filter(product::Column::CategoryId.eq(category_id(db, slug).await?));
    }
    if let Some(status) = filter.status {
        q = q.filter(external_product::Column::SyncStatus.eq(status));
    }
    if let Some(available) = filter.available {
        q = q.filter(product::Column::IsAvailable.eq(available));
    }
    Ok(q)
}

/// Calls `f` with each product of `filter` in id order (after `offset` of them, at most
/// `limit`), reading `BATCH` rows at a time; returns how many it was given.
pub async fn each_product<E: From<InspectError>>(
    db: &DatabaseConnection,
    filter: &ProductFilter,
    mut f: impl FnMut(ProductRow) -> Result<(), E>,
) -> Result<u64, E> {
    let words = filter
        .search
        .as_deref()
        .map(search_words)
        .unwrap_or_default();
    let base = base_query(db, filter).await?;
    // Without a search the database skips `offset`; with one, only matches count.
    let mut skip = if words.is_empty() { 0 } else { filter.offset };
    let mut after: Option<i32> = None;
    let mut given = 0;
    while given < filter.limit {
        let take = if words.is_empty() {
            BATCH.min(filter.limit - given)
        } else {
            BATCH
        };
        let q = match after {
            Some(id) => base.clone().filter(product::Column::Id.gt(id)),
            None if words.is_empty() => base.clone().offset(filter.offset),
            None => base.clone(),
        };
        let rows: Vec<ProductRow> = q
            .order_by_asc(product::Column::Id)
            .limit(take)
            .into_model()
            .all(db)
            .await
            .map_err(InspectError::from)?;
        let read = rows.len() as u64;
        for row in rows {
            after = Some(row.id);
            if !words.is_empty() && !matches_words(&folded(&row), &words) {
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            f(row)?;
            given += 1;
            if given == filter.limit {
                break;
            }
        }
        if read < take {
            break;
        }
    }
    Ok(given)
}

/// How many products `filter` selects, whatever its limit and offset: counted by the
/// database, or, with a search, by a scan of every product (keyset batches, memory flat).
pub async fn count_products(
    db: &DatabaseConnection,
    filter: &ProductFilter,
) -> crate::inspect::Result<u64> {
    if filter
        .search
        .as_deref()
        .map(search_words)
        .unwrap_or_default()
        .is_empty()
    {
        return Ok(base_query(db, filter).await?.count(db).await?);
    }
    let all = ProductFilter {
        limit: u64::MAX,
        offset: 0,
        ..filter.clone()
    };
    each_product(db, &all, |_| Ok::<_, InspectError>(())).await
}

/// What a product search looks in.
fn folded(row: &ProductRow) -> String {
    crate::text::search_text([
        Some(row.title.as_str()),
        row.sku.as_deref(),
        row.brand.as_deref(),
    ])
}

/// The products of `filter`, collected.
pub async fn products(
    db: &DatabaseConnection,
    filter: &ProductFilter,
) -> crate::inspect::Result<Vec<ProductRow>> {
    let mut rows = Vec::new();
    each_product(db, filter, |r| {
        rows.push(r);
        Ok::<_, InspectError>(())
    })
    .await?;
    Ok(rows)
}

/// One product, or `None` when nothing has that id, SKU or external id.
pub async fn product(
    db: &DatabaseConnection,
    key: &ProductKey,
) -> crate::inspect::Result<Option<ProductDetail>> {
    let found = match key {
        ProductKey::Id(id) => Product::find_by_id(*id).one(db).await?,
        ProductKey::Sku(sku) => {
            Product::find()
                .filter(product::Column::Sku.eq(sku.as_str()))
                .one(db)
                .await?
        }
        ProductKey::ExternalId(ext) => {
            Product::find()
                .inner_join(ExternalProduct)
                .filter(external_product::Column::ExternalId.eq(*ext))
                .one(db)
                .await?
        }
    };
    let Some(p) = found else { return Ok(None) };
    let category = match p.category_id {
        Some(id) => Category::find_by_id(id).one(db).await?,
        None => None,
    };
    let external = ExternalProduct::find()
        .filter(external_product::Column::ProductId.eq(p.id))
        .one(db)
        .await?
        .map(|e| ExternalLink {
            external_id: e.external_id,
            external_sku: e.external_sku,
            external_category_id: e.external_category_id,
            sync_status: e.sync_status,
            sync_error: e.sync_error,
            api_key_name: e.api_key_name,
            content_hash: e.content_hash,
            last_seen_run_id: e.last_seen_run_id,
            last_synced_at: e.last_synced_at,
        });
    Ok(Some(ProductDetail {
        id: p.id,
        title: p.title,
        slug: p.slug,
        sku: p.sku,
        brand: p.brand,
        category_slug: category.as_ref().map(|c| c.slug.clone()),
        category_name: category.map(|c| c.name),
        price: p.price,
        discount_price: p.discount_price,
        stock: p.stock,
        is_available: p.is_available,
        description: p.description,
        image_urls: p.image_urls,
        created_at: p.created_at,
        updated_at: p.updated_at,
        external,
    }))
}

/// The item errors and warnings recorded for the B2B product `external_id` by product
/// runs, newest first.
pub async fn product_errors(
    db: &DatabaseConnection,
    external_id: i64,
    limit: u64,
    offset: u64,
) -> crate::inspect::Result<Vec<RecentError>> {
    let rows = SyncError::find()
        .inner_join(SyncRun)
        .filter(sync_error::Column::ExternalId.eq(external_id.to_string()))
        .filter(sync_run::Column::Source.eq(Source::B2b))
        .filter(sync_run::Column::Kind.eq(PRODUCTS_RUN))
        .order_by_desc(sync_error::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|e| RecentError {
            run_id: e.run_id,
            source: Source::B2b.to_value(),
            kind: PRODUCTS_RUN.to_owned(),
            external_id: e.external_id,
            message: e.message,
            created_at: e.created_at,
        })
        .collect())
}

/// The run `run_id` (a product's `last_seen_run_id`), when it is still stored.
pub async fn product_run(
    db: &DatabaseConnection,
    run_id: i32,
) -> crate::inspect::Result<Option<RunRow>> {
    Ok(SyncRun::find_by_id(run_id).one(db).await?.map(RunRow::from))
}
