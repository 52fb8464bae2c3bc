//! The inspection commands (`db stats`, `runs`, `categories`, `products`, `cerema users|
//! structures list`, `offers`) through the binary, on a database the demo filled from the
//! sandbox: expected rows against what the database holds, each format, empty results,
//! bad arguments and unknown ids; every backend.

use std::collections::BTreeSet;
use std::process::Output;

use entity::prelude::*;
use entity::{category, sync_error, sync_run};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::Value;

use crate::helpers::{TestDb, assert_ok, run, sagasync, stderr, stdout, table_names};
use crate::on_every_backend;

pub const PRODUCTS: u64 = 300;
pub const CATEGORIES: u64 = 25;
pub const USERS: u64 = 250;
pub const STRUCTURES: u64 = 30;
pub const OFFERS: u64 = 200;

/// Fills `db` through `sagasync demo` (every sync against the in-process sandbox).
pub fn fill(db: &TestDb) {
    fill_with(db, PRODUCTS);
}

/// `fill`, with `products` products.
pub fn fill_with(db: &TestDb, products: u64) {
    let out = run(sagasync(db).args([
        "demo",
        "--database-url",
        &db.url,
        "--products",
        &products.to_string(),
        "--categories",
        &CATEGORIES.to_string(),
        "--cerema-users",
        &USERS.to_string(),
        "--cerema-structures",
        &STRUCTURES.to_string(),
        "--ft-offers",
        &OFFERS.to_string(),
        "-q",
    ]));
    assert_ok(&out);
}

/// Runs `sagasync ARGS` on `db`.
pub fn cli(db: &TestDb, args: &[&str]) -> Output {
    run(sagasync(db).args(args))
}

/// Runs `sagasync ARGS --format json`, asserts success, and parses stdout.
#[track_caller]
pub fn json(db: &TestDb, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = cli(db, &all);
    assert_ok(&out);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&out)))
}

/// The items of a JSON array.
#[track_caller]
pub fn items(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array: {v}"))
}

/// `field` of each item, as text.
pub fn field(v: &Value, field: &str) -> Vec<String> {
    items(v)
        .iter()
        .map(|i| match &i[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Runs `sagasync ARGS --format csv`, asserts success, and parses the records.
#[track_caller]
pub fn csv_records(db: &TestDb, args: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut all = args.to_vec();
    all.extend(["--format", "csv"]);
    let out = cli(db, &all);
    assert_ok(&out);
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a record").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

async fn db_stats_counts_every_table_and_names_the_last_run_of_each_kind(db: TestDb) {
    fill(&db);
    let conn = db.open().await;

    let stats = json(&db, &["db", "stats"]);

    let backend = match db.backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
        crate::helpers::Backend::MySql => "mysql",
    };
    assert_eq!(stats["backend"], backend);
    assert!(
        stats["size_bytes"].as_u64().is_some_and(|n| n > 0),
        "{stats}"
    );
    let tables: Vec<String> = field(&stats["tables"], "table");
    let mut expected_tables = table_names(&conn).await;
    expected_tables.retain(|t| !t.starts_with("sqlite_"));
    assert_eq!(tables, expected_tables, "every table (SQLite's own aside)");
    let rows = |t: &str| {
        items(&stats["tables"])
            .iter()
            .find(|i| i["table"] == t)
            .map(|i| i["rows"].clone())
    };
    assert_eq!(rows("products"), Some(PRODUCTS.into()));
    assert_eq!(rows("cerema_users"), Some(USERS.into()));
    assert_eq!(rows("job_offers"), Some(OFFERS.into()));
    let last: BTreeSet<(String, String, String)> = items(&stats["last_runs"])
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("?").to_owned();
            (s("source"), s("kind"), s("status"))
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = [
        ("b2b", "categories"),
        ("b2b", "products"),
        ("cerema", "structures"),
        ("cerema", "users"),
        ("france_travail", "offers"),
    ]
    .into_iter()
    .map(|(s, k)| (s.to_owned(), k.to_owned(), "succeeded".to_owned()))
    .collect();
    assert_eq!(last, expected);

    let table = cli(&db, &["db", "stats"]);
    assert_ok(&table);
    assert!(
        stdout(&table).contains("cerema_structures"),
        "{}",
        stdout(&table)
    );
    let (header, records) = csv_records(&db, &["db", "stats"]);
    assert_eq!(header, ["table", "rows"]);
    assert_eq!(records.len(), tables.len());
}

async fn runs_are_listed_newest_first_filtered_and_shown_with_their_errors(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let all = SyncRun::find()
        .order_by_desc(sync_run::Column::Id)
        .all(&conn)
        .await
        .expect("runs");

    let listed = json(&db, &["runs", "list"]);
    let ids: Vec<String> = all.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(field(&listed, "run_id"), ids, "newest first");

    let cerema = json(&db, &["runs", "list", "--source", "cerema"]);
    assert_eq!(field(&cerema, "kind"), ["users", "structures"]);
    let two = json(&db, &["runs", "list", "--limit", "2"]);
    assert_eq!(field(&two, "run_id"), ids[..2]);
    let failed = json(&db, &["runs", "list", "--status", "failed"]);
    assert!(items(&failed).is_empty());
    let succeeded = json(&db, &["runs", "list", "--status", "succeeded"]);
    assert_eq!(items(&succeeded).len(), all.len());

    // The product run recorded warnings (products of unknown categories).
    let products_run = all.iter().find(|r| r.kind == "products").expect("a run");
    let recorded = SyncError::find()
        .filter(sync_error::Column::RunId.eq(products_run.id))
        .count(&conn)
        .await
        .expect("count");
    let shown = json(&db, &["runs", "show", &products_run.id.to_string()]);
    assert_eq!(shown["run_id"], products_run.id);
    assert_eq!(shown["kind"], "products");
    assert_eq!(shown["total"], PRODUCTS);
    assert!(shown["options"].is_object(), "{shown}");
    assert_eq!(shown["errors_recorded"], recorded);
    assert_eq!(items(&shown["item_errors"]).len() as u64, recorded);

    let table = cli(&db, &["runs", "show", &products_run.id.to_string()]);
    assert_ok(&table);
    assert!(stdout(&table).contains("item_errors"), "{}", stdout(&table));
    let (header, records) = csv_records(&db, &["runs", "list", "--source", "b2b"]);
    assert_eq!(header[..4], ["run_id", "source", "kind", "status"]);
    assert_eq!(records.len(), 2);
}

async fn the_category_tree_counts_products_down_to_its_leaves(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let cats = Category::find().all(&conn).await.expect("categories");

    let tree = json(&db, &["categories", "tree"]);
    assert_eq!(items(&tree).len() as u64, CATEGORIES, "every category once");
    let top: u64 = items(&tree)
        .iter()
        .filter(|r| r["depth"] == 0)
        .map(|r| r["total_products"].as_u64().unwrap_or(0))
        .sum();
    let with_category = Product::find()
        .filter(entity::product::Column::CategoryId.is_not_null())
        .count(&conn)
        .await
        .expect("count");
    assert_eq!(
        top, with_category,
        "the top level's totals cover every product"
    );
    // A row's children follow it, one level deeper.
    for pair in items(&tree).windows(2) {
        let (a, b) = (pair[0]["depth"].as_u64(), pair[1]["depth"].as_u64());
        assert!(b <= a.map(|d| d + 1), "{tree}");
    }

    let shallow = json(&db, &["categories", "tree", "--depth", "1"]);
    let roots = cats.iter().filter(|c| c.parent_id.is_none()).count();
    assert_eq!(items(&shallow).len(), roots);

    let root = cats
        .iter()
        .find(|c| c.parent_id.is_none())
        .expect("a top-level category");
    let sub = json(&db, &["categories", "tree", "--root", &root.slug]);
    assert_eq!(items(&sub)[0]["slug"], root.slug.as_str());
    let from_full = items(&tree)
        .iter()
        .find(|r| r["slug"] == root.slug.as_str())
        .map(|r| r["total_products"].clone());
    assert_eq!(Some(items(&sub)[0]["total_products"].clone()), from_full);

    let table = cli(&db, &["categories", "tree", "--root", &root.slug]);
    assert_ok(&table);
    assert!(stdout(&table).contains(&root.name), "{}", stdout(&table));

    let list = json(&db, &["categories", "list"]);
    let mut expected: Vec<String> = cats.iter().map(|c| c.id.to_string()).collect();
    expected.sort_by_key(|id| id.parse::<i32>().unwrap_or(0));
    assert_eq!(field(&list, "id"), expected);
    let leaf = cats
        .iter()
        .find(|c| c.parent_id.is_some())
        .expect("a child");
    let counted = Product::find()
        .filter(entity::product::Column::CategoryId.eq(leaf.id))
        .count(&conn)
        .await
        .expect("count");
    let row = items(&list)
        .iter()
        .find(|r| r["id"] == leaf.id)
        .expect("listed");
    assert_eq!(row["products"], counted);
    let parent = Category::find()
        .filter(category::Column::Id.eq(leaf.parent_id.unwrap_or_default()))
        .one(&conn)
        .await
        .expect("read")
        .expect("its parent");
    assert_eq!(row["parent_slug"], parent.slug.as_str());

    let unknown = cli(&db, &["categories", "tree", "--root", "no-such-slug"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no category with slug \"no-such-slug\""),
        "{}",
        stderr(&unknown)
    );
}

on_every_backend!(
    db_stats_counts_every_table_and_names_the_last_run_of_each_kind,
    runs_are_listed_newest_first_filtered_and_shown_with_their_errors,
    the_category_tree_counts_products_down_to_its_leaves,
);

pub mod offers;
mod products;
mod usage;
