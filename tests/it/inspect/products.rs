//! `products list|show` and `cerema users|structures list` against what the demo stored.

use entity::prelude::*;
use entity::{cerema_structure, cerema_user, external_product, product};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};

use sagasync::inspect::catalog::{ProductFilter, ProductRow, products};

use super::{PRODUCTS, USERS, cli, csv_records, field, fill, fill_with, items, json};
use crate::helpers::{Backend, TestDb, assert_ok, run_on, stderr, stdout};
use crate::on_every_backend;

async fn products_are_listed_filtered_searched_without_accents_and_shown(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let all = Product::find()
        .order_by_asc(product::Column::Id)
        .all(&conn)
        .await
        .expect("products");

    let first = json(&db, &["products", "list"]);
    let ids: Vec<String> = all.iter().map(|p| p.id.to_string()).collect();
    assert_eq!(field(&first, "id"), ids[..50], "50 by default, by id");
    let every = json(&db, &["products", "list", "--limit", "100000"]);
    assert_eq!(items(&every).len() as u64, PRODUCTS);

    // Accents and case ignored: `karite` finds `Beurre de karité`.
    let found = json(
        &db,
        &["products", "list", "--search", "KARITE", "--limit", "1000"],
    );
    let expected: Vec<String> = all
        .iter()
        .filter(|p| sagasync::text::fold(&p.title).contains("karite"))
        .map(|p| p.id.to_string())
        .collect();
    assert!(!expected.is_empty(), "the sandbox sells shea butter");
    assert_eq!(field(&found, "id"), expected);
    assert!(field(&found, "title").iter().all(|t| t.contains("karité")));
    let by_brand = all[0].brand.clone().expect("a brand");
    let two_words = json(
        &db,
        &[
            "products",
            "list",
            "--search",
            &format!("karite {by_brand}"),
            "--limit",
            "1000",
        ],
    );
    assert!(items(&two_words).len() <= expected.len());
    for row in items(&two_words) {
        let text = sagasync::text::fold(&format!("{} {}", row["title"], row["brand"]));
        assert!(text.contains("karite") && text.contains(&sagasync::text::fold(&by_brand)));
    }

    // A category, a sync state, availability.
    let with_cat = all.iter().find_map(|p| p.category_id).expect("a category");
    let cat = Category::find_by_id(with_cat)
        .one(&conn)
        .await
        .expect("read")
        .expect("the category");
    let in_cat = json(
        &db,
        &[
            "products",
            "list",
            "--category",
            &cat.slug,
            "--limit",
            "1000",
        ],
    );
    let expected: Vec<String> = all
        .iter()
        .filter(|p| p.category_id == Some(cat.id))
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(field(&in_cat, "id"), expected);
    let link = ExternalProduct::find()
        .filter(external_product::Column::ProductId.eq(all[3].id))
        .one(&conn)
        .await
        .expect("read")
        .expect("a link");
    let mut missing = link.clone().into_active_model();
    missing.sync_status = Set(SyncStatus::Missing);
    missing.sync_error = Set(Some("not seen upstream".to_owned()));
    missing.update(&conn).await.expect("mark missing");
    let mut gone = all[3].clone().into_active_model();
    gone.is_available = Set(false);
    gone.update(&conn).await.expect("mark unavailable");
    let missing = json(&db, &["products", "list", "--status", "missing"]);
    assert_eq!(field(&missing, "id"), [all[3].id.to_string()]);
    assert_eq!(items(&missing)[0]["sync_status"], "missing");
    let available = json(&db, &["products", "list", "--available", "--limit", "1000"]);
    let expected: Vec<String> = all
        .iter()
        .filter(|p| p.is_available && p.id != all[3].id)
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(field(&available, "id"), expected);
    let errors = json(&db, &["products", "list", "--status", "error"]);
    assert!(items(&errors).is_empty());

    // One product, three ways of naming it.
    let p = &all[3];
    let by_id = json(&db, &["products", "show", &p.id.to_string()]);
    assert_eq!(by_id["title"], p.title.as_str());
    assert_eq!(by_id["external"]["external_id"], link.external_id);
    assert_eq!(by_id["external"]["sync_status"], "missing");
    assert_eq!(by_id["external"]["sync_error"], "not seen upstream");
    assert_eq!(by_id["external"]["api_key_name"], "sandbox demo");
    let sku = p.sku.clone().expect("a SKU");
    let by_sku = json(&db, &["products", "show", "--sku", &sku]);
    let by_ext = json(
        &db,
        &[
            "products",
            "show",
            "--external-id",
            &link.external_id.to_string(),
        ],
    );
    assert_eq!((&by_sku["id"], &by_ext["id"]), (&by_id["id"], &by_id["id"]));
    let table = cli(&db, &["products", "show", "--sku", &sku]);
    assert_ok(&table);
    assert!(
        stdout(&table).contains("external.sync_error"),
        "{}",
        stdout(&table)
    );
    let (header, records) = csv_records(&db, &["products", "show", &p.id.to_string()]);
    assert_eq!(records.len(), 1);
    assert!(
        header.contains(&"external.external_id".to_owned()),
        "{header:?}"
    );

    let unknown = cli(&db, &["products", "list", "--category", "no-such-slug"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", stderr(&unknown));
    for key in [&["999999"][..], &["--sku", "NOPE"], &["--external-id", "1"]] {
        let mut args = vec!["products", "show"];
        args.extend(key);
        let out = cli(&db, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).starts_with("error: no product"),
            "{}",
            stderr(&out)
        );
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    }
}

async fn cerema_users_and_structures_are_listed_with_their_filters(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let users = CeremaUser::find()
        .order_by_asc(cerema_user::Column::IdUser)
        .all(&conn)
        .await
        .expect("users");

    let all = json(&db, &["cerema", "users", "list", "--limit", "100000"]);
    assert_eq!(items(&all).len() as u64, USERS);
    let ids: Vec<String> = users.iter().map(|u| u.id_user.to_string()).collect();
    assert_eq!(field(&all, "id"), ids);
    let managers = json(
        &db,
        &[
            "cerema",
            "users",
            "list",
            "--gestionnaire",
            "--limit",
            "1000",
        ],
    );
    let expected: Vec<String> = users
        .iter()
        .filter(|u| u.gestionnaire == Some(true))
        .map(|u| u.id_user.to_string())
        .collect();
    assert_eq!(field(&managers, "id"), expected);
    let structure = users
        .iter()
        .find_map(|u| u.structure_id)
        .expect("a structure");
    let of_one = json(
        &db,
        &[
            "cerema",
            "users",
            "list",
            "--structure",
            &structure.to_string(),
            "--limit",
            "1000",
        ],
    );
    let expected: Vec<String> = users
        .iter()
        .filter(|u| u.structure_id == Some(structure))
        .map(|u| u.id_user.to_string())
        .collect();
    assert_eq!(field(&of_one, "id"), expected);
    let stored = CeremaStructure::find_by_id(structure)
        .one(&conn)
        .await
        .expect("read");
    if let Some(s) = stored {
        assert_eq!(
            items(&of_one)[0]["structure_name"].as_str(),
            s.raison_sociale.as_deref()
        );
    }

    let dep = CeremaStructure::find()
        .one(&conn)
        .await
        .expect("read")
        .and_then(|s| s.departement)
        .expect("a département");
    let structures = json(
        &db,
        &["cerema", "structures", "list", "--departement", &dep],
    );
    let expected: Vec<cerema_structure::Model> = CeremaStructure::find()
        .filter(cerema_structure::Column::Departement.eq(dep.as_str()))
        .order_by_asc(cerema_structure::Column::Id)
        .all(&conn)
        .await
        .expect("structures");
    let expected_ids: Vec<String> = expected.iter().map(|s| s.id.to_string()).collect();
    assert_eq!(field(&structures, "id"), expected_ids);
    for row in items(&structures) {
        let n = users
            .iter()
            .filter(|u| u.structure_id == row["id"].as_i64())
            .count();
        assert_eq!(row["users"], n, "{row}");
    }
    let (header, records) = csv_records(&db, &["cerema", "structures", "list", "--limit", "5"]);
    assert_eq!(header[..3], ["id", "raison_sociale", "type"]);
    assert_eq!(records.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_product_scan_crosses_batches_and_applies_offset_and_limit_to_matches() {
    run_on(Backend::Sqlite, |db| async move {
        fill_with(&db, 2_500);
        let conn = db.open().await;
        let all = Product::find()
            .order_by_asc(product::Column::Id)
            .all(&conn)
            .await
            .expect("products");
        let ids = |rows: Vec<ProductRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
        let scan = |search: Option<&str>, limit, offset| ProductFilter {
            search: search.map(str::to_owned),
            limit,
            offset,
            ..ProductFilter::default()
        };

        let page = products(&conn, &scan(None, 1_200, 1_500))
            .await
            .expect("scan");
        let expected: Vec<i32> = all.iter().skip(1_500).take(1_200).map(|p| p.id).collect();
        assert_eq!(
            ids(page),
            expected,
            "offset in SQL, then keyset past the first batch"
        );

        let matching: Vec<i32> = all
            .iter()
            .filter(|p| sagasync::text::fold(&p.title).contains("pates alimentaires"))
            .map(|p| p.id)
            .collect();
        assert!(matching.len() > 20 && *matching.last().unwrap_or(&0) > 1_000);
        let found = products(&conn, &scan(Some("Pâtes ALIMENTAIRES"), 10_000, 0)).await;
        assert_eq!(ids(found.expect("search")), matching);
        let window = products(&conn, &scan(Some("pates alimentaires"), 7, 5)).await;
        assert_eq!(ids(window.expect("search")), matching[5..12]);
    })
    .await;
}

on_every_backend!(
    products_are_listed_filtered_searched_without_accents_and_shown,
    cerema_users_and_structures_are_listed_with_their_filters,
);
