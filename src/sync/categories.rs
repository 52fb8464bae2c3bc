//! `sync-categories`: pass 1 creates or updates the categories in one transaction (by
//! the page writer's rule: a category the database refuses rolls back alone); pass 2
//! links parents from the whole tree (cycles broken, levels recomputed);
//! mappings of categories gone upstream are dropped, the categories kept.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::sync_run::Source;
use entity::{category, external_category};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, Iterable, QueryFilter, Set,
};
use serde_json::{Value, json};

use super::page::{PageWrite, Written, insert_chunks, taken, write_page};
use super::run::{Run, save_figures, save_issues};
use super::slug::{slugify, with_suffix};
use super::{Interrupt, ItemIssue, Observer, Progress, RunError, RunReport, Stats};
use crate::b2b::B2bClient;
use crate::b2b::parse::{CategoryRecord, external_id, parse_category};
use crate::db::begin_write;

/// Default categories endpoint, relative to `B2B_API_URL`.
pub const DEFAULT_CATEGORIES_ENDPOINT: &str = "b2c/categories/";

fn warning(external_id: i64, error: String) -> ItemIssue {
    ItemIssue::warning(Some(external_id.to_string()), error, None)
}

/// The parsed payload: one record per id (the last one wins), plus the problems met.
pub struct Payload {
    pub records: Vec<CategoryRecord>,
    pub issues: Vec<ItemIssue>,
    pub total: u64,
}

/// Parses the listing; duplicates keep their last occurrence, recorded.
pub fn read_payload(items: &[Value]) -> Payload {
    let mut by_id: BTreeMap<i64, (usize, CategoryRecord)> = BTreeMap::new();
    let mut issues = Vec::new();
    for (index, raw) in items.iter().enumerate() {
        let cleaned;
        let raw = if crate::text::has_nul(raw) {
            let mut clean = raw.clone();
            crate::text::strip_nul(&mut clean);
            if let Some(id) = external_id(&clean) {
                issues.push(warning(id, crate::text::NUL_REMOVED.to_owned()));
            }
            cleaned = clean;
            &cleaned
        } else {
            raw
        };
        match parse_category(raw) {
            Ok(rec) => {
                if by_id.contains_key(&rec.external_id) {
                    issues.push(warning(
                        rec.external_id,
                        format!(
                            "category {} appears twice in the payload: the last one wins",
                            rec.external_id
                        ),
                    ));
                }
                by_id.insert(rec.external_id, (index, rec));
            }
            Err(e) => issues.push(ItemIssue::error(
                external_id(raw).map(|id| id.to_string()),
                e.0,
                Some(super::payload_excerpt(raw)),
            )),
        }
    }
    let mut records: Vec<(usize, CategoryRecord)> = by_id.into_values().collect();
    records.sort_by_key(|(index, _)| *index);
    Payload {
        records: records.into_iter().map(|(_, r)| r).collect(),
        issues,
        total: items.len() as u64,
    }
}

/// The tree to build: each category's parent (after repairs) and level.
#[derive(Debug, PartialEq, Eq)]
pub struct Tree {
    pub parent: HashMap<i64, Option<i64>>,
    pub level: HashMap<i64, i32>,
    pub issues: Vec<ItemIssue>,
}

/// Plans the tree (pure): unknown parents become top level, each cycle is broken at
/// its smallest id; both are recorded. Levels follow from the repaired tree.
pub fn plan_tree(records: &[CategoryRecord]) -> Tree {
    let ids: HashSet<i64> = records.iter().map(|r| r.external_id).collect();
    let mut issues = Vec::new();
    let mut parent: HashMap<i64, Option<i64>> = HashMap::new();
    for r in records {
        let p = match r.parent_external_id {
            Some(p) if !ids.contains(&p) => {
                issues.push(warning(
                    r.external_id,
                    format!(
                        "parent {p} of category {} does not exist upstream: kept at the top level",
                        r.external_id
                    ),
                ));
                None
            }
            other => other,
        };
        parent.insert(r.external_id, p);
    }
    // Break cycles: walk up from each node; meeting the current walk again is a cycle.
    let mut done: HashSet<i64> = HashSet::new();
    let mut order: Vec<i64> = records.iter().map(|r| r.external_id).collect();
    order.sort_unstable();
    for start in order {
        let mut path: Vec<i64> = Vec::new();
        let mut on_path: HashSet<i64> = HashSet::new();
        let mut node = Some(start);
        while let Some(n) = node {
            if done.contains(&n) {
                break;
            }
            if !on_path.insert(n) {
                let at = path.iter().position(|x| *x == n).unwrap_or(0);
                let cycle = &path[at..];
                let breaker = cycle.iter().copied().min().unwrap_or(n);
                let shown: Vec<String> = cycle.iter().chain([&n]).map(i64::to_string).collect();
                issues.push(warning(
                    breaker,
                    format!(
                        "parent cycle {} broken: category {breaker} is now top level",
                        shown.join(" → ")
                    ),
                ));
                parent.insert(breaker, None);
                break;
            }
            path.push(n);
            node = parent.get(&n).copied().flatten();
        }
        done.extend(path);
    }
    let mut level: HashMap<i64, i32> = HashMap::new();
    for r in records {
        let mut depth = 0;
        let mut node = parent.get(&r.external_id).copied().flatten();
        while let Some(p) = node {
            depth += 1;
            node = parent.get(&p).copied().flatten();
        }
        level.insert(r.external_id, depth);
    }
    Tree {
        parent,
        level,
        issues,
    }
}

/// Runs a categories sync.
pub async fn sync_categories(
    db: &DatabaseConnection,
    client: &B2bClient,
    endpoint: &str,
    observer: Observer,
    interrupt: &Interrupt,
) -> Result<RunReport, RunError> {
    let options = json!({ "endpoint": endpoint, "api_key": &client.key().label });
    let run = Run::start(db, Source::B2b, "categories", options).await?;
    let mut stats = Stats::default();
    let outcome = apply(
        db, client, endpoint, run.id, &mut stats, &observer, interrupt,
    )
    .await;
    let interrupted = "interrupted during pass 1; what was applied is kept".to_owned();
    run.conclude(db, stats, outcome, interrupted).await
}

/// Local state of a mapped category.
struct Known {
    mapping: external_category::Model,
    category: category::Model,
}

async fn apply(
    db: &DatabaseConnection,
    client: &B2bClient,
    endpoint: &str,
    run_id: i32,
    stats: &mut Stats,
    observer: &Observer,
    interrupt: &Interrupt,
) -> anyhow::Result<bool> {
    observer(Progress::Phase("fetching categories"));
    let items = client.categories(endpoint).await?;
    if let Some(id) = client.key().stored_id {
        crate::keys::mark_used(db, id).await?;
    }
    let payload = read_payload(&items);
    drop(items);
    stats.total = payload.total;
    for i in payload.issues {
        stats.push_issue(i);
    }
    let mut known: HashMap<i64, Known> = ExternalCategory::find()
        .find_also_related(Category)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(mapping, category)| {
            category.map(|category| (mapping.external_id, Known { mapping, category }))
        })
        .collect();

    if interrupt.is_set() {
        save_progress(db, run_id, stats).await?;
        return Ok(false);
    }
    observer(Progress::Phase("creating and updating categories"));
    let work: Vec<&CategoryRecord> = payload
        .records
        .iter()
        .filter(|rec| !unchanged(rec, known.get(&rec.external_id)))
        .collect();
    stats.unchanged += (payload.records.len() - work.len()) as u64;
    let mut touched: HashSet<i64> = HashSet::new();
    let mut pass1 = Pass1 {
        backend: db.get_database_backend(),
        known: &mut known,
        touched: &mut touched,
        refused: Vec::new(),
    };
    let txn = begin_write(db).await?;
    let written = write_page(&txn, &mut pass1, &work).await?;
    txn.commit().await?;
    stats.created += written.created;
    stats.updated += written.updated;
    for i in pass1.refused {
        stats.push_issue(i);
    }
    observer(Progress::Page {
        number: 0,
        expected: Some(payload.records.len() as u64),
        done: payload.records.len() as u64,
    });

    observer(Progress::Phase("linking parents"));
    let tree = plan_tree(&payload.records);
    for i in tree.issues.iter().cloned() {
        stats.push_issue(i);
    }
    let relinked = link_parents(db, &tree, &known).await?;
    for id in relinked {
        if touched.insert(id) {
            stats.unchanged = stats.unchanged.saturating_sub(1);
            stats.updated += 1;
        }
    }

    let seen: HashSet<i64> = payload.records.iter().map(|r| r.external_id).collect();
    let gone: Vec<i32> = known
        .values()
        .filter(|k| !seen.contains(&k.mapping.external_id))
        .map(|k| k.mapping.id)
        .collect();
    if !gone.is_empty() {
        ExternalCategory::delete_many()
            .filter(external_category::Column::Id.is_in(gone.iter().copied()))
            .exec(db)
            .await?;
    }
    stats.missing = gone.len() as u64;
    save_progress(db, run_id, stats).await?;
    Ok(true)
}

async fn save_progress(db: &DatabaseConnection, run_id: i32, stats: &Stats) -> Result<(), DbErr> {
    let txn = begin_write(db).await?;
    save_issues(&txn, run_id, &stats.errors_list).await?;
    save_figures(&txn, run_id, stats).await?;
    txn.commit().await
}

/// Whether pass 1 has nothing to write for `rec`.
fn unchanged(rec: &CategoryRecord, known: Option<&Known>) -> bool {
    known.is_some_and(|k| {
        let c = &k.category;
        c.name == rec.name
            && c.description == rec.description
            && c.image_url == rec.image_url
            && c.position == rec.position
            && c.rayon_type == rec.rayon_type
            && k.mapping.external_parent_id == rec.parent_external_id
    })
}

/// Pass 1: each category created, or updated from its record.
struct Pass1<'a> {
    backend: DbBackend,
    known: &'a mut HashMap<i64, Known>,
    /// The categories pass 1 wrote.
    touched: &'a mut HashSet<i64>,
    refused: Vec<ItemIssue>,
}

impl<'a> PageWrite for Pass1<'a> {
    type Item = &'a CategoryRecord;

    /// Not on MySQL: it has no RETURNING to give the new rows' ids.
    fn batchable(&self, _records: &[&'a CategoryRecord]) -> bool {
        self.backend != DbBackend::MySql
    }

    /// The changed categories updated one by one, the new ones in multi-row inserts.
    async fn all(
        &mut self,
        txn: &DatabaseTransaction,
        records: &[&'a CategoryRecord],
    ) -> Result<Written, DbErr> {
        let mut done = Vec::with_capacity(records.len());
        let mut new = Vec::new();
        for rec in records {
            match self.known.get(&rec.external_id) {
                Some(k) => done.push((rec.external_id, upsert(txn, rec, Some(k)).await?)),
                None => new.push(*rec),
            }
        }
        done.extend(insert_categories(txn, &new).await?);
        Ok(self.remember(done))
    }

    async fn one(
        &mut self,
        txn: &DatabaseTransaction,
        rec: &&'a CategoryRecord,
    ) -> Result<Written, DbErr> {
        let known = upsert(txn, rec, self.known.get(&rec.external_id)).await?;
        Ok(self.remember(vec![(rec.external_id, known)]))
    }

    async fn refused(
        &mut self,
        _txn: &DatabaseTransaction,
        rec: &&'a CategoryRecord,
        e: DbErr,
    ) -> Result<(), DbErr> {
        self.refused.push(ItemIssue::error(
            Some(rec.external_id.to_string()),
            format!("cannot store the category: {e}"),
            None,
        ));
        Ok(())
    }
}

impl Pass1<'_> {
    /// Keeps what was written (once it is), and counts it.
    fn remember(&mut self, done: Vec<(i64, (Known, bool))>) -> Written {
        let mut written = Written::default();
        for (id, (known, created)) in done {
            written.add(Written::one(created));
            self.touched.insert(id);
            self.known.insert(id, known);
        }
        written
    }
}

/// New categories in multi-row inserts (slugs picked as [`insert_category`] does, from
/// one query), then their mappings; paired by their unique slugs.
async fn insert_categories(
    txn: &DatabaseTransaction,
    records: &[&CategoryRecord],
) -> Result<Vec<(i64, (Known, bool))>, DbErr> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let bases: Vec<String> = records.iter().map(|r| slugify(&r.name)).collect();
    let mut taken = taken::<Category>(txn, category::Column::Slug, &bases).await?;
    let mut rows = Vec::with_capacity(records.len());
    let mut by_slug: HashMap<String, &CategoryRecord> = HashMap::with_capacity(records.len());
    for (rec, base) in records.iter().zip(bases) {
        let slug = if taken.contains(&base) {
            with_suffix(&base, rec.external_id)
        } else {
            base
        };
        taken.insert(slug.clone());
        by_slug.insert(slug.clone(), rec);
        rows.push(category_row(rec, slug, now));
    }
    let backend = txn.get_database_backend();
    let columns = <category::Entity as EntityTrait>::Column::iter().count();
    let mut categories = Vec::with_capacity(records.len());
    for chunk in insert_chunks(backend, columns, rows) {
        categories.extend(
            Category::insert_many(chunk)
                .exec_with_returning(txn)
                .await?,
        );
    }
    let mut links = Vec::with_capacity(categories.len());
    for c in &categories {
        let rec = by_slug
            .get(&c.slug)
            .ok_or_else(|| DbErr::Custom(format!("no category came back for {}", c.slug)))?;
        links.push(mapping_row(rec, c.id, now));
    }
    let columns = <external_category::Entity as EntityTrait>::Column::iter().count();
    let mut mappings: HashMap<i32, external_category::Model> = HashMap::new();
    for chunk in insert_chunks(backend, columns, links) {
        for m in ExternalCategory::insert_many(chunk)
            .exec_with_returning(txn)
            .await?
        {
            mappings.insert(m.category_id, m);
        }
    }
    categories
        .into_iter()
        .map(|category| {
            let mapping = mappings.remove(&category.id).ok_or_else(|| {
                DbErr::Custom(format!("no mapping came back for {}", category.slug))
            })?;
            Ok((mapping.external_id, (Known { mapping, category }, true)))
        })
        .collect()
}

fn category_row(rec: &CategoryRecord, slug: String, now: DateTime<Utc>) -> category::ActiveModel {
    category::ActiveModel {
        name: Set(rec.name.clone()),
        slug: Set(slug),
        parent_id: Set(None),
        description: Set(rec.description.clone()),
        image_url: Set(rec.image_url.clone()),
        level: Set(0),
        position: Set(rec.position),
        rayon_type: Set(rec.rayon_type.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

fn mapping_row(
    rec: &CategoryRecord,
    category_id: i32,
    now: DateTime<Utc>,
) -> external_category::ActiveModel {
    external_category::ActiveModel {
        category_id: Set(category_id),
        external_id: Set(rec.external_id),
        external_parent_id: Set(rec.parent_external_id),
        last_synced_at: Set(now),
        ..Default::default()
    }
}

/// Pass 1 for one category: its new state, and whether it was created.
async fn upsert(
    txn: &DatabaseTransaction,
    rec: &CategoryRecord,
    known: Option<&Known>,
) -> Result<(Known, bool), DbErr> {
    let now = Utc::now();
    match known {
        Some(k) => {
            let mut am: category::ActiveModel = k.category.clone().into();
            am.name = Set(rec.name.clone());
            am.description = Set(rec.description.clone());
            am.image_url = Set(rec.image_url.clone());
            am.position = Set(rec.position);
            am.rayon_type = Set(rec.rayon_type.clone());
            am.updated_at = Set(now);
            let category = am.update(txn).await?;
            let mut m: external_category::ActiveModel = k.mapping.clone().into();
            m.external_parent_id = Set(rec.parent_external_id);
            m.last_synced_at = Set(now);
            let mapping = m.update(txn).await?;
            Ok((Known { mapping, category }, false))
        }
        None => {
            let (category, mapping) = insert_category(txn, rec).await?;
            Ok((Known { mapping, category }, true))
        }
    }
}

/// Inserts a new category at the top level (pass 2 links it) with its mapping.
pub(super) async fn insert_category(
    txn: &impl sea_orm::ConnectionTrait,
    rec: &CategoryRecord,
) -> Result<(category::Model, external_category::Model), DbErr> {
    let now = Utc::now();
    let slug = super::slug::free_category_slug(txn, &rec.name, rec.external_id).await?;
    let category = category_row(rec, slug, now).insert(txn).await?;
    let mapping = mapping_row(rec, category.id, now).insert(txn).await?;
    Ok((category, mapping))
}

/// Pass 2, in one transaction: sets `parent_id` and `level` where they differ.
/// Returns the external ids of the categories it changed.
async fn link_parents(
    db: &DatabaseConnection,
    tree: &Tree,
    known: &HashMap<i64, Known>,
) -> Result<Vec<i64>, DbErr> {
    let txn = begin_write(db).await?;
    let mut changed = Vec::new();
    let mut ids: Vec<&i64> = tree.parent.keys().collect();
    ids.sort_unstable();
    for ext in ids {
        let Some(k) = known.get(ext) else { continue };
        let parent_local = tree.parent[ext]
            .and_then(|p| known.get(&p))
            .map(|p| p.category.id);
        let level = tree.level.get(ext).copied().unwrap_or(0);
        if k.category.parent_id == parent_local && k.category.level == level {
            continue;
        }
        Category::update_many()
            .col_expr(category::Column::ParentId, Expr::value(parent_local))
            .col_expr(category::Column::Level, Expr::value(level))
            .col_expr(category::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(category::Column::Id.eq(k.category.id))
            .exec(&txn)
            .await?;
        changed.push(*ext);
    }
    txn.commit().await?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: i64, parent: Option<i64>) -> CategoryRecord {
        CategoryRecord {
            external_id: id,
            name: format!("c{id}"),
            description: String::new(),
            parent_external_id: parent,
            position: 0,
            rayon_type: None,
            image_url: None,
        }
    }

    fn check(
        records: &[CategoryRecord],
        parents: &[(i64, Option<i64>)],
        levels: &[(i64, i32)],
        issues: usize,
    ) {
        let tree = plan_tree(records);
        for (id, p) in parents {
            assert_eq!(tree.parent[id], *p, "parent of {id}");
        }
        for (id, l) in levels {
            assert_eq!(tree.level[id], *l, "level of {id}");
        }
        assert_eq!(tree.issues.len(), issues, "{:?}", tree.issues);
    }

    #[test]
    fn children_before_parents_get_their_levels() {
        check(
            &[rec(3, Some(2)), rec(2, Some(1)), rec(1, None)],
            &[(3, Some(2))],
            &[(1, 0), (2, 1), (3, 2)],
            0,
        );
    }

    #[test]
    fn unknown_parents_become_top_level() {
        check(
            &[rec(1, Some(99)), rec(2, Some(1))],
            &[(1, None)],
            &[(1, 0), (2, 1)],
            1,
        );
    }

    #[test]
    fn cycles_are_broken_at_their_smallest_id() {
        check(
            &[
                rec(3, Some(5)),
                rec(4, Some(3)),
                rec(5, Some(4)),
                rec(6, Some(5)),
            ],
            &[(3, None), (4, Some(3)), (5, Some(4))],
            &[(3, 0), (4, 1), (5, 2), (6, 3)],
            1,
        );
        check(&[rec(7, Some(7))], &[(7, None)], &[(7, 0)], 1);
    }

    #[test]
    fn duplicates_keep_the_last_occurrence() {
        let items = vec![
            json!({"id": 1, "name": "first"}),
            json!({"id": 2, "name": "other"}),
            json!({"id": 1, "name": "second"}),
            json!({"name": "no id"}),
        ];
        let p = read_payload(&items);
        let names: Vec<&str> = p.records.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["other", "second"]);
        assert_eq!((p.total, p.issues.len()), (4, 2));
    }
}
