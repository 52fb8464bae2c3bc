//! Applying a planned batch: one savepoint for the whole batch, else one per product,
//! so a product that fails rolls back alone.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entity::external_product::{self, SyncStatus};
use entity::prelude::*;
use entity::product;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QuerySelect, Set,
};

use super::super::page::{PageWrite, Written, one_of, taken, write_page};
use super::super::run::save_issues;
use super::super::slug::with_suffix;
use super::super::{ItemIssue, Stats};
use super::insert::{insert_new, rows, update_rows};
use super::plan::{CategoryPlan, Mapping, Planned, Work, plan_batch};
use super::{Entry, IN_CHUNK, State, issue, shown_id};
use crate::b2b::parse::{CategoryRecord, ProductRecord};
use crate::db::is_unique_violation;

pub(super) async fn existing_mappings(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, Mapping>, DbErr> {
    use external_product::Column as C;
    let backend = db.get_database_backend();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        for m in ExternalProduct::find()
            .select_only()
            .columns([
                C::Id,
                C::ProductId,
                C::ExternalId,
                C::ContentHash,
                C::SyncStatus,
            ])
            .column_as(product::Column::CategoryId, "category_id")
            .join(
                sea_orm::JoinType::InnerJoin,
                sea_orm::RelationTrait::def(&external_product::Relation::Product),
            )
            .filter(one_of(backend, C::ExternalId, chunk.to_vec()))
            .into_model::<Mapping>()
            .all(db)
            .await?
        {
            out.insert(m.external_id, m);
        }
    }
    Ok(out)
}

/// Applies a batch of items in `txn`: in one savepoint, else each item in a savepoint of
/// its own. A batch once begun is finished (at most [`super::MAX_ITEMS_PER_BATCH`]
/// items), Ctrl-C or not: the position that commits with it is past all of its pages.
pub(super) async fn apply_page(
    txn: &DatabaseTransaction,
    state: &mut State,
    entries: Vec<Entry>,
    stats: &mut Stats,
) -> anyhow::Result<()> {
    let ids: Vec<i64> = entries.iter().filter_map(|e| e.external_id).collect();
    let mut existing = existing_mappings(txn, &ids).await?;
    let candidates: Vec<String> = entries
        .iter()
        .filter_map(|e| match (&e.record, e.external_id) {
            (Ok(_), Some(id)) if !existing.contains_key(&id) => Some(e.slug.clone()),
            _ => None,
        })
        .collect();
    let mut slugs = taken::<Product>(txn, product::Column::Slug, &candidates).await?;
    let Planned {
        total,
        unchanged,
        unreadable,
        mut issues,
        work,
    } = plan_batch(entries, &existing, &state.categories);
    let mut page = Stats {
        total,
        unchanged: unchanged.len() as u64,
        ..Stats::default()
    };
    for (link, reason) in &unreadable {
        mark_error(txn, *link, state.run_id, reason).await?;
    }
    let mut writer = Products {
        state,
        existing: &mut existing,
        slugs: &mut slugs,
        issues: &mut issues,
    };
    let written = write_page(txn, &mut writer, &work).await?;
    page.created += written.created;
    page.updated += written.updated;
    for chunk in unchanged.chunks(IN_CHUNK) {
        ExternalProduct::update_many()
            .col_expr(
                external_product::Column::LastSeenRunId,
                Expr::value(state.run_id),
            )
            .filter(one_of(
                txn.get_database_backend(),
                external_product::Column::Id,
                chunk.to_vec(),
            ))
            .exec(txn)
            .await?;
    }
    save_issues(txn, state.run_id, &issues).await?;
    for i in issues {
        page.push_issue(i);
    }
    stats.absorb(page);
    Ok(())
}

/// Writes a batch's products: in a few statements (multi-row inserts for new products,
/// plain updates for changed ones), else product by product.
struct Products<'a> {
    state: &'a mut State,
    existing: &'a mut HashMap<i64, Mapping>,
    slugs: &'a mut HashSet<String>,
    issues: &'a mut Vec<ItemIssue>,
}

impl PageWrite for Products<'_> {
    type Item = Work;

    /// Not when a product brings a category to create.
    fn batchable(&self, work: &[Work]) -> bool {
        !work
            .iter()
            .any(|w| matches!(w.plan, CategoryPlan::Create { .. }))
    }

    async fn all(&mut self, txn: &DatabaseTransaction, work: &[Work]) -> Result<Written, DbErr> {
        let mut picked = self.slugs.clone();
        let written = write_batch(txn, self.state, work, self.existing, &mut picked).await?;
        *self.slugs = picked;
        Ok(written)
    }

    async fn one(&mut self, txn: &DatabaseTransaction, w: &Work) -> Result<Written, DbErr> {
        let mapping = self.existing.get(&w.record.external_id);
        // Planned again: an earlier item of the page may have created its category.
        let plan = CategoryPlan::of(&self.state.categories, &w.record.category);
        let outcome = apply_item(txn, self.state, w, mapping, &plan, self.slugs).await?;
        if let Some((ext, local)) = outcome.new_category {
            self.state.categories.insert(ext, local);
        }
        if let Some(m) = outcome.mapping {
            self.existing.insert(m.external_id, m);
        }
        Ok(Written::one(outcome.created))
    }

    async fn refused(
        &mut self,
        txn: &DatabaseTransaction,
        w: &Work,
        e: DbErr,
    ) -> Result<(), DbErr> {
        let message = explain(txn, &w.record, &e).await;
        if let Some(m) = self.existing.get(&w.record.external_id) {
            mark_error(txn, m.id, self.state.run_id, &message).await?;
        }
        let id = shown_id(w.external_id, &w.raw);
        self.issues.push(issue(id, message, &w.raw));
        Ok(())
    }
}

pub(super) async fn write_batch(
    txn: &DatabaseTransaction,
    state: &State,
    work: &[Work],
    existing: &HashMap<i64, Mapping>,
    slugs: &mut HashSet<String>,
) -> Result<Written, DbErr> {
    let now = Utc::now();
    let mut new_products = Vec::with_capacity(work.len());
    let mut new_items: Vec<(external_product::ActiveModel, String)> =
        Vec::with_capacity(work.len());
    let mut updated = 0;
    let mut seen = HashSet::new();
    for w in work {
        if !seen.insert(w.record.external_id) {
            return Err(DbErr::Custom(format!(
                "product {} twice in one page",
                w.record.external_id
            )));
        }
        let (fields, link) = rows(state, &w.record, &w.plan, None, &w.hash, now);
        match existing.get(&w.record.external_id) {
            Some(m) => {
                update_rows(txn, m, fields, link).await?;
                updated += 1;
            }
            None => {
                let slug = pick_slug(slugs, &w.slug, w.record.external_id);
                new_products.push(product::ActiveModel {
                    slug: Set(slug.clone()),
                    created_at: Set(now),
                    ..fields
                });
                new_items.push((link, slug));
            }
        }
    }
    let created = new_items.len() as u64;
    insert_new(txn, new_products, new_items).await?;
    Ok(Written { created, updated })
}

/// `base` (the title's slug), or with `-{external_id}` when taken; reserves the one
/// chosen.
pub(super) fn pick_slug(slugs: &mut HashSet<String>, base: &str, external_id: i64) -> String {
    let slug = if slugs.contains(base) {
        with_suffix(base, external_id)
    } else {
        base.to_owned()
    };
    slugs.insert(slug.clone());
    slug
}

/// The reason an item failed, in words a person can act on.
pub(super) async fn explain(
    txn: &DatabaseTransaction,
    record: &ProductRecord,
    e: &DbErr,
) -> String {
    if is_unique_violation(e)
        && let Some(sku) = &record.sku
        && let Ok(Some(owner)) = Product::find()
            .filter(product::Column::Sku.eq(sku.as_str()))
            .one(txn)
            .await
    {
        return format!(
            "SKU {sku:?} already belongs to product {} ({:?})",
            owner.id, owner.title
        );
    }
    format!("cannot store the product: {e}")
}

pub(super) async fn mark_error(
    txn: &DatabaseTransaction,
    mapping_id: i32,
    run_id: i32,
    message: &str,
) -> Result<(), DbErr> {
    ExternalProduct::update_many()
        .col_expr(
            external_product::Column::SyncStatus,
            SyncStatus::Error.into(),
        )
        .col_expr(
            external_product::Column::SyncError,
            Some(message.to_owned()).into(),
        )
        .col_expr(external_product::Column::LastSeenRunId, Expr::value(run_id))
        .col_expr(external_product::Column::LastSyncedAt, Utc::now().into())
        .filter(external_product::Column::Id.eq(mapping_id))
        .exec(txn)
        .await?;
    Ok(())
}

pub(super) struct ItemOutcome {
    pub(super) created: bool,
    pub(super) new_category: Option<(i64, i32)>,
    pub(super) mapping: Option<Mapping>,
}

pub(super) async fn apply_item(
    txn: &DatabaseTransaction,
    state: &State,
    work: &Work,
    mapping: Option<&Mapping>,
    plan: &CategoryPlan,
    slugs: &mut HashSet<String>,
) -> Result<ItemOutcome, DbErr> {
    let (record, hash) = (&work.record, work.hash.as_str());
    let now = Utc::now();
    let (category_id, new_category) = match plan {
        CategoryPlan::Create { external_id, name } => {
            let local = create_category(txn, *external_id, name).await?;
            (Some(local), Some((*external_id, local)))
        }
        _ => (None, None),
    };
    let (fields, link) = rows(state, record, plan, category_id, hash, now);
    match mapping {
        Some(m) => {
            update_rows(txn, m, fields, link).await?;
            Ok(ItemOutcome {
                created: false,
                new_category,
                mapping: None,
            })
        }
        None => {
            let slug = pick_slug(slugs, &work.slug, record.external_id);
            let product = Product::insert(product::ActiveModel {
                slug: Set(slug),
                created_at: Set(now),
                ..fields
            })
            .exec(txn)
            .await?;
            let link = external_product::ActiveModel {
                product_id: Set(product.last_insert_id),
                ..link
            };
            let mapping = link.insert(txn).await?;
            Ok(ItemOutcome {
                created: true,
                new_category,
                mapping: Some(Mapping::of(mapping, category_id)),
            })
        }
    }
}

/// Creates a category met through a product (name only; `sync-categories` completes it).
pub(super) async fn create_category(
    txn: &DatabaseTransaction,
    external_id: i64,
    name: &str,
) -> Result<i32, DbErr> {
    let rec = CategoryRecord {
        external_id,
        name: name.to_owned(),
        description: String::new(),
        parent_external_id: None,
        position: 0,
        rayon_type: None,
        image_url: None,
    };
    let (category, _) = super::super::categories::insert_category(txn, &rec).await?;
    Ok(category.id)
}
