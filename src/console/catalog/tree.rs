//! `/categories` and `/api/categories/tree`: the tree folded by `<details>`, each
//! category with its own products and those below it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use maud::{Markup, html};

use super::super::PageResult;
use super::super::chart::{self, Mark};
use super::super::layout::{self, Nav, count, empty};
use super::{Params, products_of};
use crate::inspect::catalog::{self, TreeFilter, TreeRow};
use crate::serve::routes as api;
use crate::serve::{ApiError, AppState};

/// Top-level categories charted on `/categories`.
const CHARTED: usize = 12;
/// Up to this many top-level categories, the tree opens them (their children shown).
const OPEN_TOPS: usize = 30;

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

pub(super) async fn json(
    State(s): State<Arc<AppState>>,
    Query(p): Params,
) -> Result<Json<Vec<TreeRow>>, ApiError> {
    let filter = tree_filter(&p)?;
    Ok(Json(catalog::tree(&s.db, &filter).await?))
}

pub(super) async fn page(State(s): State<Arc<AppState>>, Query(p): Params) -> PageResult {
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

#[cfg(test)]
mod tests {
    use super::*;

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
