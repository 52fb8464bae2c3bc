//! `/categories`, `/products`, `/products/{id}` and their JSON: counts, search, filters
//! and pages against what the database holds; the planted probes shown as text.

use std::collections::{BTreeSet, HashMap};

use entity::prelude::*;
use entity::{external_product, product, sync_error, sync_run};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::{Console, PROBE_SCRIPT, fill_hostile};
use crate::helpers::TestDb;
use crate::on_every_backend;

/// The planted title, as an escaped page shows it.
const SCRIPT_SHOWN: &str = "&lt;script&gt;alert(";
/// The planted brand, as an escaped page shows it.
const ATTR_SHOWN: &str = "&quot;&gt;&lt;img src=x";

async fn the_catalog_pages_show_what_the_database_holds(db: TestDb) {
    fill_hostile(&db).await;
    let conn = db.open().await;
    let console = Console::start(&db).await;

    the_tree_counts_every_category(&console, &conn).await;
    search_ignores_accents_and_case(&console, &conn).await;
    filters_and_pages_visit_each_product_once(&console, &conn).await;
    a_product_page_shows_its_mapping_and_history(&console, &conn).await;
    bad_and_unknown_names_are_error_pages(&console).await;
    console.shutdown().await;
}

on_every_backend!(the_catalog_pages_show_what_the_database_holds);

async fn the_tree_counts_every_category(console: &Console, conn: &DatabaseConnection) {
    let categories = Category::find().all(conn).await.expect("categories");
    let products = Product::find().all(conn).await.expect("products");
    let mut own: HashMap<i32, u64> = HashMap::new();
    for p in &products {
        if let Some(c) = p.category_id {
            *own.entry(c).or_default() += 1;
        }
    }
    // A category's total: its products and those of every category whose ancestors
    // include it.
    let parent: HashMap<i32, Option<i32>> =
        categories.iter().map(|c| (c.id, c.parent_id)).collect();
    let mut total: HashMap<i32, u64> = HashMap::new();
    for c in &categories {
        let n = own.get(&c.id).copied().unwrap_or(0);
        let mut at = Some(c.id);
        let mut seen = BTreeSet::new();
        while let Some(id) = at.filter(|id| parent.contains_key(id) && seen.insert(*id)) {
            *total.entry(id).or_default() += n;
            at = parent[&id];
        }
    }

    let page = console.page("/categories").await;
    for c in &categories {
        let shown = format!(
            r#"data-slug="{}" data-products="{}" data-total="{}""#,
            c.slug,
            own.get(&c.id).copied().unwrap_or(0),
            total.get(&c.id).copied().unwrap_or(0)
        );
        assert!(page.contains(&shown), "{}: {shown} in {page}", c.slug);
        let link = format!(r#"href="/products?category={}""#, c.slug);
        assert!(page.contains(&link), "{link}");
    }
    assert!(page.contains(SCRIPT_SHOWN), "the planted name: {page}");
    assert!(page.contains("<details"), "{page}");

    let rows = console.json("/api/categories/tree").await;
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), categories.len());
    for r in rows {
        let id = r["id"].as_i64().expect("an id") as i32;
        assert_eq!(
            r["products"].as_u64(),
            Some(own.get(&id).copied().unwrap_or(0))
        );
        assert_eq!(
            r["total_products"].as_u64(),
            Some(total.get(&id).copied().unwrap_or(0))
        );
    }
    let top = console.json("/api/categories/tree?depth=1").await;
    let tops = categories
        .iter()
        .filter(|c| c.parent_id.is_none_or(|p| !parent.contains_key(&p)))
        .count();
    assert_eq!(top.as_array().map(Vec::len), Some(tops));
}

/// The product ids a list page links to, in order.
fn product_ids(page: &str) -> Vec<i32> {
    page.split(r#"href="/products/"#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// The `rel="next"` link of a page, unescaped.
fn next_link(page: &str) -> Option<String> {
    let rest = page.split(r#"rel="next" href=""#).nth(1)?;
    Some(rest.split('"').next()?.replace("&amp;", "&"))
}

/// Every product of the list at `path`, following its pages; also the first page.
async fn visit(console: &Console, path: &str) -> (Vec<i32>, String) {
    let mut ids = Vec::new();
    let mut next = Some(path.to_owned());
    let mut first = None;
    while let Some(path) = next {
        let page = console.page(&path).await;
        ids.extend(product_ids(&page));
        next = next_link(&page);
        assert!(ids.len() < 100_000, "{path} never ends");
        first.get_or_insert(page);
    }
    (ids, first.unwrap_or_default())
}

#[track_caller]
fn assert_each_once(what: &str, visited: &[i32], expected: &BTreeSet<i32>) {
    let set: BTreeSet<i32> = visited.iter().copied().collect();
    assert_eq!(set.len(), visited.len(), "{what}: a product shown twice");
    assert_eq!(&set, expected, "{what}");
}

/// What a product search looks in, folded.
fn searched(p: &product::Model) -> String {
    sagasync::text::search_text([Some(p.title.as_str()), p.sku.as_deref(), p.brand.as_deref()])
}

async fn search_ignores_accents_and_case(console: &Console, conn: &DatabaseConnection) {
    let products = Product::find()
        .order_by_asc(product::Column::Id)
        .all(conn)
        .await
        .expect("products");
    let accented = products
        .iter()
        .find(|p| p.title != PROBE_SCRIPT && !p.title.is_ascii())
        .expect("a title with an accent");
    // `Pâtes alimentaires` looked for as `PATES ALIMENTAIRES`.
    let words = sagasync::text::fold(&accented.title).to_uppercase();
    let path = format!("/products{}", layout_query("search", &words));
    let (ids, page) = visit(console, &path).await;
    let folded = sagasync::text::fold(&words);
    let expected: BTreeSet<i32> = products
        .iter()
        .filter(|p| {
            let text = searched(p);
            folded
                .split(' ')
                .filter(|w| !w.is_empty())
                .all(|w| text.contains(w))
        })
        .map(|p| p.id)
        .collect();
    assert!(expected.contains(&accented.id));
    assert_each_once(&path, &ids, &expected);
    assert!(
        page.contains(&accented.title.replace('\'', "&#39;")) || page.contains(&accented.title),
        "{page}"
    );

    // A word many products have: several pages, the total counted (a small table).
    let brand = products[1].brand.clone().expect("a brand");
    let path = format!(
        "/products{}&limit=7",
        layout_query("search", &brand.to_lowercase())
    );
    let (ids, page) = visit(console, &path).await;
    let word = sagasync::text::fold(&brand);
    let expected: BTreeSet<i32> = products
        .iter()
        .filter(|p| searched(p).contains(&word))
        .map(|p| p.id)
        .collect();
    assert!(expected.len() > 7, "{brand} is common");
    assert_each_once(&path, &ids, &expected);
    assert!(
        page.contains(&format!("of {}", count(expected.len()))),
        "{page}"
    );
}

fn layout_query(name: &str, value: &str) -> String {
    sagasync::console::layout::query(&[(name, value.to_owned())])
}

fn count(n: usize) -> String {
    sagasync::console::layout::count(n as u64)
}

async fn filters_and_pages_visit_each_product_once(console: &Console, conn: &DatabaseConnection) {
    let products = Product::find().all(conn).await.expect("products");
    let links = ExternalProduct::find().all(conn).await.expect("links");
    let status: HashMap<i32, String> = links
        .iter()
        .map(|l| (l.product_id, sea_orm::ActiveEnum::to_value(&l.sync_status)))
        .collect();
    let ids = |keep: &dyn Fn(&product::Model) -> bool| -> BTreeSet<i32> {
        products.iter().filter(|p| keep(p)).map(|p| p.id).collect()
    };

    // Everything, 100 a page: the planted title and brand escaped on the first.
    let (all, first) = visit(console, "/products?limit=100").await;
    assert_each_once("all", &all, &ids(&|_| true));
    assert!(first.contains(SCRIPT_SHOWN), "the planted title: {first}");
    assert!(first.contains(ATTR_SHOWN), "the planted brand: {first}");
    assert!(
        first.contains(&format!("of {}", count(products.len()))),
        "{first}"
    );

    for s in ["synced", "pending", "error", "missing"] {
        let (seen, _) = visit(console, &format!("/products?status={s}&limit=50")).await;
        let expected = ids(&|p| status.get(&p.id).is_some_and(|x| x == s));
        assert_each_once(s, &seen, &expected);
    }
    for (value, available) in [("true", true), ("false", false)] {
        let (seen, _) = visit(console, &format!("/products?available={value}&limit=40")).await;
        assert_each_once(value, &seen, &ids(&|p| p.is_available == available));
    }
    // The category with the most products, with and without availability.
    let mut per: HashMap<i32, usize> = HashMap::new();
    for p in &products {
        if let Some(c) = p.category_id {
            *per.entry(c).or_default() += 1;
        }
    }
    let (&cat, _) = per
        .iter()
        .max_by_key(|(id, n)| (**n, -**id))
        .expect("a category");
    let slug = Category::find_by_id(cat)
        .one(conn)
        .await
        .expect("a query")
        .expect("the category")
        .slug;
    let (seen, _) = visit(console, &format!("/products?category={slug}&limit=3")).await;
    assert_each_once(&slug, &seen, &ids(&|p| p.category_id == Some(cat)));
    let path = format!("/products?category={slug}&available=true&limit=2");
    let (seen, page) = visit(console, &path).await;
    let expected = ids(&|p| p.category_id == Some(cat) && p.is_available);
    assert_each_once(&path, &seen, &expected);
    assert!(
        page.contains(&format!(r#"<option value="{slug}" selected"#)),
        "{page}"
    );

    // The API takes the same parameters and answers the same first page.
    let api = console
        .json(&format!(
            "/api/products?category={slug}&available=true&limit=2"
        ))
        .await;
    let api_ids: Vec<i32> = api["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("an id") as i32)
        .collect();
    assert_eq!(api_ids, seen[..api_ids.len()].to_vec());
}

async fn a_product_page_shows_its_mapping_and_history(
    console: &Console,
    conn: &DatabaseConnection,
) {
    // The first product: the planted title (in the heading and the page's title) and brand.
    let first = Product::find()
        .order_by_asc(product::Column::Id)
        .one(conn)
        .await
        .expect("a query")
        .expect("a product");
    let page = console.page(&format!("/products/{}", first.id)).await;
    assert!(
        page.contains(SCRIPT_SHOWN) && page.contains(ATTR_SHOWN),
        "{page}"
    );

    let link = ExternalProduct::find()
        .filter(external_product::Column::ProductId.eq(first.id))
        .one(conn)
        .await
        .expect("a query")
        .expect("the demo's products are mapped");
    assert!(
        page.contains(&format!(r#"data-external-id="{0}">{0}<"#, link.external_id)),
        "{page}"
    );
    let hash = link.content_hash.clone().expect("a content hash");
    assert!(page.contains(&hash), "{page}");
    assert!(page.contains(&sea_orm::ActiveEnum::to_value(&link.sync_status)));
    let run = link.last_seen_run_id.expect("the run that saw it");
    assert!(page.contains(&format!(r#"href="/runs/{run}""#)), "{page}");

    let json = console.json(&format!("/api/products/{}", first.id)).await;
    assert_eq!(json["id"].as_i64(), Some(i64::from(first.id)));
    assert_eq!(
        json["external"]["external_id"].as_i64(),
        Some(link.external_id)
    );
    assert_eq!(
        json["external"]["content_hash"].as_str(),
        Some(hash.as_str())
    );

    // The product of the last item error of a products run (the demo records some:
    // products whose category is unknown upstream).
    let errors = SyncError::find()
        .find_also_related(SyncRun)
        .filter(sync_run::Column::Kind.eq("products"))
        .filter(sync_error::Column::ExternalId.is_not_null())
        .order_by_desc(sync_error::Column::Id)
        .all(conn)
        .await
        .expect("errors");
    let mapped = ExternalProduct::find().all(conn).await.expect("links");
    let by_ext: HashMap<String, i32> = mapped
        .iter()
        .map(|l| (l.external_id.to_string(), l.product_id))
        .collect();
    let (e, id) = errors
        .iter()
        .find_map(|(e, _)| Some((e, *by_ext.get(e.external_id.as_deref()?)?)))
        .expect("a products run recorded an item error or warning");
    // Errors are newest first: this is that product's last.
    let page = console.page(&format!("/products/{id}")).await;
    let shown = e.message.strip_prefix("warning: ").unwrap_or(&e.message);
    let escaped = shown
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    assert!(page.contains(&escaped), "{escaped} in {page}");
    assert!(
        page.contains(&format!(r#"href="/runs/{}""#, e.run_id)),
        "{page}"
    );
    let json = console.json(&format!("/api/products/{id}/errors")).await;
    assert_eq!(
        json["items"][0]["run_id"].as_i64(),
        Some(i64::from(e.run_id))
    );
    assert_eq!(
        json["items"][0]["message"].as_str(),
        Some(e.message.as_str())
    );
}

async fn bad_and_unknown_names_are_error_pages(console: &Console) {
    console
        .error_page(
            "/products/999999999",
            404,
            "There is no product with id 999999999",
        )
        .await;
    console
        .error_page("/products/abc", 400, "a product id is a whole number")
        .await;
    console
        .error_page("/products?status=lost", 400, "`status` must be one of")
        .await;
    console
        .error_page("/products?colour=red", 400, "unknown parameter `colour`")
        .await;
    console
        .error_page(
            "/products?category=no-such-slug",
            404,
            "There is no category with the slug",
        )
        .await;
    console
        .error_page("/categories?root=no-such-slug", 404, "no-such-slug")
        .await;
    console
        .error_page(
            "/categories?depth=0",
            400,
            "`depth` must be a whole number from 1",
        )
        .await;
    let api = console.get("/api/products/abc").await;
    assert_eq!(api.status, 400, "{}", api.body);
    let api = console.get("/api/products/999999999").await;
    assert_eq!(api.status, 404, "{}", api.body);
    assert!(
        api.body.contains("no product with id 999999999"),
        "{}",
        api.body
    );
}
