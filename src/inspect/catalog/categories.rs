//! `categories list|tree`: every category with its parent and product count, and the
//! tree in display order (siblings by position, then name) with subtree totals.

use std::collections::{HashMap, HashSet};

use entity::prelude::*;
use entity::{category, product};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::inspect::{InspectError, Result};

/// One category as `categories list` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategoryRow {
    pub id: i32,
    pub name: String,
    pub slug: String,
    /// The parent's slug.
    pub parent_slug: Option<String>,
    pub level: i32,
    pub position: i32,
    /// Products in this category itself.
    pub products: u64,
}

/// What part of the tree to show.
#[derive(Debug, Clone, Default)]
pub struct TreeFilter {
    /// Only this category and what is below it (by slug).
    pub root: Option<String>,
    /// Levels shown: 1 is the top level (or the root) alone; `None` shows all.
    pub depth: Option<u32>,
}

/// One line of the tree, in display order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TreeRow {
    /// 0 for the top level (or the root asked for).
    pub depth: u32,
    pub id: i32,
    pub name: String,
    pub slug: String,
    /// Products in this category itself.
    pub products: u64,
    /// Products in this category and every category below it.
    pub total_products: u64,
}

#[derive(Debug, FromQueryResult)]
struct Node {
    id: i32,
    name: String,
    slug: String,
    parent_id: Option<i32>,
    position: i32,
}

/// Products per category id (categories without products are absent).
async fn product_counts(db: &DatabaseConnection) -> Result<HashMap<i32, u64>> {
    let rows: Vec<(Option<i32>, i64)> = Product::find()
        .select_only()
        .column(product::Column::CategoryId)
        .column_as(product::Column::Id.count(), "n")
        .filter(product::Column::CategoryId.is_not_null())
        .group_by(product::Column::CategoryId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, n)| Some((id?, u64::try_from(n).unwrap_or(0))))
        .collect())
}

/// The id of the category `slug`, or `NotFound`.
pub async fn category_id(db: &DatabaseConnection, slug: &str) -> Result<i32> {
    Category::find()
        .select_only()
        .column(category::Column::Id)
        .filter(category::Column::Slug.eq(slug))
        .into_tuple::<i32>()
        .one(db)
        .await?
        .ok_or_else(|| InspectError::NotFound {
            what: "category",
            key: slug.to_owned(),
        })
}

/// How many categories are stored.
pub async fn count_categories(db: &DatabaseConnection) -> Result<u64> {
    Ok(Category::find().count(db).await?)
}

/// Categories by id.
pub async fn categories(
    db: &DatabaseConnection,
    limit: u64,
    offset: u64,
) -> Result<Vec<CategoryRow>> {
    let page = Category::find()
        .order_by_asc(category::Column::Id)
        .limit(limit)
        .offset(offset)
        .all(db)
        .await?;
    let parent_ids: HashSet<i32> = page.iter().filter_map(|c| c.parent_id).collect();
    let parents: HashMap<i32, String> = Category::find()
        .select_only()
        .column(category::Column::Id)
        .column(category::Column::Slug)
        .filter(category::Column::Id.is_in(parent_ids))
        .into_tuple::<(i32, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let counts = product_counts(db).await?;
    Ok(page
        .into_iter()
        .map(|c| CategoryRow {
            parent_slug: c.parent_id.and_then(|p| parents.get(&p).cloned()),
            products: counts.get(&c.id).copied().unwrap_or(0),
            id: c.id,
            name: c.name,
            slug: c.slug,
            level: c.level,
            position: c.position,
        })
        .collect())
}

/// The tree (or the subtree of `root`) in display order, down to `depth` levels.
pub async fn tree(db: &DatabaseConnection, filter: &TreeFilter) -> Result<Vec<TreeRow>> {
    let mut nodes: Vec<Node> = Category::find()
        .select_only()
        .columns([
            category::Column::Id,
            category::Column::Name,
            category::Column::Slug,
            category::Column::ParentId,
            category::Column::Position,
        ])
        .into_model()
        .all(db)
        .await?;
    // Sorted here, not in SQL: the order must not depend on the backend's collation.
    nodes.sort_by(|a, b| (a.position, &a.name, a.id).cmp(&(b.position, &b.name, b.id)));
    let counts = product_counts(db).await?;
    let known: HashSet<i32> = nodes.iter().map(|n| n.id).collect();
    let mut children: HashMap<Option<i32>, Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        // A parent that is not stored puts the category at the top level.
        let parent = n.parent_id.filter(|p| known.contains(p));
        children.entry(parent).or_default().push(i);
    }
    let tops: Vec<usize> = match &filter.root {
        Some(slug) => {
            let i = nodes.iter().position(|n| &n.slug == slug).ok_or_else(|| {
                InspectError::NotFound {
                    what: "category",
                    key: slug.clone(),
                }
            })?;
            vec![i]
        }
        None => children.get(&None).cloned().unwrap_or_default(),
    };
    let totals = subtree_totals(&nodes, &children, &counts);
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    // Depth-first, children in order: push them reversed.
    let mut stack: Vec<(usize, u32)> = tops.into_iter().rev().map(|i| (i, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        if filter.depth.is_some_and(|d| depth >= d) || !seen.insert(i) {
            continue;
        }
        let n = &nodes[i];
        rows.push(TreeRow {
            depth,
            id: n.id,
            name: n.name.clone(),
            slug: n.slug.clone(),
            products: counts.get(&n.id).copied().unwrap_or(0),
            total_products: totals.get(&i).copied().unwrap_or(0),
        });
        if let Some(kids) = children.get(&Some(n.id)) {
            stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
        }
    }
    Ok(rows)
}

/// Products of each node and all below it (post-order; a cycle is cut where it closes).
fn subtree_totals(
    nodes: &[Node],
    children: &HashMap<Option<i32>, Vec<usize>>,
    counts: &HashMap<i32, u64>,
) -> HashMap<usize, u64> {
    let mut totals: HashMap<usize, u64> = HashMap::new();
    let mut entered = HashSet::new();
    for start in 0..nodes.len() {
        let mut stack = vec![(start, false)];
        while let Some((i, done)) = stack.pop() {
            let kids = children.get(&Some(nodes[i].id));
            if done {
                let below: u64 = kids
                    .into_iter()
                    .flatten()
                    .map(|k| totals.get(k).copied().unwrap_or(0))
                    .sum();
                let own = counts.get(&nodes[i].id).copied().unwrap_or(0);
                totals.insert(i, own + below);
            } else if entered.insert(i) {
                stack.push((i, true));
                stack.extend(kids.into_iter().flatten().map(|&k| (k, false)));
            }
        }
    }
    totals
}
