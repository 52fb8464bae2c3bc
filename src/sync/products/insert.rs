//! The insert pipeline: multi-row inserts sized per backend, each statement built
//! while the previous one runs, and the rows a product and its link are written as.

use std::collections::HashMap;

use chrono::Utc;
use entity::external_product::{self, SyncStatus};
use entity::prelude::*;
use entity::product;
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait, Set, Statement,
};
use serde_json::json;

#[cfg(test)]
use super::super::page::SQLITE_MAX_PARAMS;
use super::super::page::insert_chunks;
use super::State;
use super::plan::{CategoryPlan, Mapping};
use crate::b2b::parse::{CategoryRef, ProductRecord};

/// One multi-row INSERT of [`insert_new`]: the products of a chunk, or their links.
#[derive(Clone, Copy)]
pub(super) enum Step {
    Products(usize),
    Links(usize),
}

/// Inserts new products and their links, chunk by chunk, each statement built while
/// the one before runs (SQLite runs them on a thread of its own): products 0, products
/// 1, links 0, products 2, links 1, ... A chunk's links need its products' ids, which
/// came back two statements earlier.
pub(super) async fn insert_new(
    txn: &DatabaseTransaction,
    products: Vec<product::ActiveModel>,
    links: Vec<(external_product::ActiveModel, String)>,
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    // The same chunks for both tables (the larger row decides their size), each taken
    // when its statement is built.
    pub(super) fn chunked<T>(backend: DbBackend, items: Vec<T>) -> Vec<Option<Vec<T>>> {
        let columns = PRODUCT_COLUMNS.max(LINK_COLUMNS);
        insert_chunks(backend, columns, items)
            .into_iter()
            .map(Some)
            .collect()
    }
    let mut product_chunks = chunked(backend, products);
    let mut link_chunks = chunked(backend, links);
    let n = product_chunks.len();
    let mut order = Vec::with_capacity(2 * n);
    for i in 0..n {
        order.push(Step::Products(i));
        if i > 0 {
            order.push(Step::Links(i - 1));
        }
    }
    if n > 0 {
        order.push(Step::Links(n - 1));
    }
    let mut ids: HashMap<String, i32> = HashMap::new();
    // A step's statement, and on MySQL the query that finds the rows a products insert
    // made (what RETURNING gives elsewhere).
    let mut build =
        |step: Step, ids: &HashMap<String, i32>| -> Result<(Statement, Option<Statement>), DbErr> {
            match step {
                Step::Products(i) => {
                    let chunk = product_chunks[i].take().unwrap_or_default();
                    let returned = [product::Column::Id, product::Column::Slug];
                    if backend == DbBackend::MySql {
                        // No RETURNING on MySQL: the new rows are found by their unique
                        // slugs, in the same transaction, right after the insert.
                        let slugs: Vec<String> = chunk
                            .iter()
                            .filter_map(|p| match &p.slug {
                                sea_orm::ActiveValue::Set(s) => Some(s.clone()),
                                _ => None,
                            })
                            .collect();
                        let insert = Product::insert_many(chunk).into_query();
                        let select = Product::find()
                            .select_only()
                            .columns(returned)
                            .filter(product::Column::Slug.is_in(slugs))
                            .build(backend);
                        return Ok((backend.build(&insert), Some(select)));
                    }
                    // Only `id` and `slug` come back: decoding whole rows would cost more
                    // than the insert. RETURNING's order is unspecified: rows are paired
                    // with their links by unique slug.
                    let mut insert = Product::insert_many(chunk).into_query();
                    insert.returning(Query::returning().columns(returned));
                    Ok((backend.build(&insert), None))
                }
                Step::Links(i) => {
                    let mut rows = Vec::new();
                    for (link, slug) in link_chunks[i].take().unwrap_or_default() {
                        let product_id = *ids
                            .get(&slug)
                            .ok_or_else(|| DbErr::Custom(format!("no id for {slug}")))?;
                        rows.push(external_product::ActiveModel {
                            product_id: Set(product_id),
                            ..link
                        });
                    }
                    Ok((
                        backend.build(&ExternalProduct::insert_many(rows).into_query()),
                        None,
                    ))
                }
            }
        };
    let mut next = order.first().map(|s| build(*s, &ids)).transpose()?;
    for (k, step) in order.iter().enumerate() {
        let Some((statement, find)) = next.take() else {
            break;
        };
        let upcoming = order.get(k + 1).copied();
        // A chunk's links wait for its products' ids: built after they come back (one
        // chunk, or the last), not while their insert runs.
        let waits =
            matches!((step, upcoming), (Step::Products(i), Some(Step::Links(j))) if *i == j);
        let ahead = upcoming.filter(|_| !waits);
        let (ran, built) = futures::join!(
            async {
                match (step, find) {
                    (Step::Products(_), None) => txn.query_all_raw(statement).await.map(Some),
                    (Step::Products(_), Some(find)) => {
                        txn.execute_raw(statement).await?;
                        txn.query_all_raw(find).await.map(Some)
                    }
                    (Step::Links(_), _) => txn.execute_raw(statement).await.map(|_| None),
                }
            },
            async { ahead.map(|s| build(s, &ids)).transpose() }
        );
        for row in ran?.unwrap_or_default() {
            ids.insert(
                row.try_get_by_index::<String>(1)?,
                row.try_get_by_index::<i32>(0)?,
            );
        }
        next = match (waits, upcoming) {
            (true, Some(s)) => Some(build(s, &ids)?),
            _ => built?,
        };
    }
    Ok(())
}

/// Columns a new product row binds (all but `id`).
pub(super) const PRODUCT_COLUMNS: usize = 13;
/// Columns a new link row binds (all but `id`).
pub(super) const LINK_COLUMNS: usize = 11;

/// The product's columns and its link's columns, as an item is written.
pub(super) fn rows(
    state: &State,
    record: &ProductRecord,
    plan: &CategoryPlan,
    created_category: Option<i32>,
    hash: &str,
    now: chrono::DateTime<Utc>,
) -> (product::ActiveModel, external_product::ActiveModel) {
    let category_id = match plan {
        CategoryPlan::Known(local) => Some(*local),
        CategoryPlan::Create { .. } => created_category,
        CategoryPlan::None | CategoryPlan::Unknown(_) => None,
    };
    let fields = product::ActiveModel {
        title: Set(record.title.clone()),
        description: Set(record.description.clone()),
        price: Set(Money(record.price)),
        discount_price: Set(record.discount_price.map(Money)),
        category_id: Set(category_id),
        brand: Set(record.brand.clone()),
        sku: Set(record.sku.clone()),
        stock: Set(record.stock),
        is_available: Set(record.is_available),
        image_urls: Set(json!(record.image_urls)),
        updated_at: Set(now),
        ..Default::default()
    };
    let link = external_product::ActiveModel {
        external_id: Set(record.external_id),
        external_sku: Set(record.sku.clone()),
        external_category_id: Set(record.category.as_ref().map(CategoryRef::id)),
        api_key_id: Set(state.api_key_id),
        api_key_name: Set(Some(state.api_key_name.clone())),
        sync_status: Set(SyncStatus::Synced),
        sync_error: Set(None),
        content_hash: Set(Some(hash.to_owned())),
        last_seen_run_id: Set(Some(state.run_id)),
        last_synced_at: Set(now),
        ..Default::default()
    };
    (fields, link)
}

pub(super) async fn update_rows(
    txn: &DatabaseTransaction,
    mapping: &Mapping,
    fields: product::ActiveModel,
    link: external_product::ActiveModel,
) -> Result<(), DbErr> {
    Product::update_many()
        .set(fields)
        .filter(product::Column::Id.eq(mapping.product_id))
        .exec(txn)
        .await?;
    ExternalProduct::update_many()
        .set(link)
        .filter(external_product::Column::Id.eq(mapping.id))
        .exec(txn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn sizes(backend: DbBackend, columns: usize, n: usize) -> Vec<usize> {
        insert_chunks(backend, columns, vec![(); n])
            .iter()
            .map(Vec::len)
            .collect()
    }

    #[test]
    fn inserts_are_split_within_the_parameter_limit() {
        assert_eq!(
            sizes(DbBackend::Sqlite, PRODUCT_COLUMNS, 1000),
            [512, 256, 128, 64, 32, 8]
        );
        assert_eq!(sizes(DbBackend::Sqlite, PRODUCT_COLUMNS, 1), [1]);
        assert!(sizes(DbBackend::Sqlite, PRODUCT_COLUMNS, 0).is_empty());
        let big = sizes(DbBackend::Sqlite, LINK_COLUMNS, 7000);
        assert_eq!(big.iter().sum::<usize>(), 7000);
        assert!(
            big.iter()
                .all(|n| n * LINK_COLUMNS <= SQLITE_MAX_PARAMS && n.is_power_of_two())
        );
        assert_eq!(big[0], 2048);
        assert_eq!(
            sizes(DbBackend::Postgres, PRODUCT_COLUMNS, 600),
            [512, 64, 16, 8]
        );
    }
}
