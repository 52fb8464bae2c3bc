//! The catalog sync, through the library, against a fake B2B API, on every backend.

use chrono::Utc;
use entity::external_product::SyncStatus;
use entity::prelude::*;
use entity::sync_run::RunStatus;
use entity::{
    category, external_category, external_product, product, sync_error, sync_lock, sync_run,
};
use sagasync::db::Use;
use sagasync::sync::categories::sync_categories;
use sagasync::sync::products::{MissingRule, ProductSyncOptions, sync_products};
use sagasync::sync::{Interrupt, RunError, RunReport, RunStatusKind, no_observer};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::json;
use wiremock::MockServer;

use crate::helpers::{
    Backend, TestDb, b2b_client, mount_categories, mount_product_pages, product_json,
    refuse_on_insert,
};
use crate::on_every_backend;

fn opts(site_id: Option<i64>) -> ProductSyncOptions {
    ProductSyncOptions {
        site_id,
        ..ProductSyncOptions::default()
    }
}

async fn products(conn: &DatabaseConnection, server: &MockServer) -> RunReport {
    sync_products(
        conn,
        &b2b_client(&server.uri(), 0, 5000),
        &opts(None),
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("the run completes")
}

async fn categories(conn: &DatabaseConnection, server: &MockServer) -> RunReport {
    sync_categories(
        conn,
        &b2b_client(&server.uri(), 0, 5000),
        "b2c/categories/",
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("the run completes")
}

/// (name, parent name, level) of every category, by name.
async fn tree(conn: &DatabaseConnection) -> Vec<(String, Option<String>, i32)> {
    let all = Category::find().all(conn).await.expect("read");
    let name_of = |id: i32| all.iter().find(|c| c.id == id).map(|c| c.name.clone());
    let mut rows: Vec<_> = all
        .iter()
        .map(|c| (c.name.clone(), c.parent_id.and_then(name_of), c.level))
        .collect();
    rows.sort();
    rows
}

fn t(name: &str, parent: Option<&str>, level: i32) -> (String, Option<String>, i32) {
    (name.to_owned(), parent.map(str::to_owned), level)
}

async fn children_listed_before_parents_are_linked(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_categories(
        &server,
        json!([
            {"id": 3, "name": "Riz", "parent_id": 2},
            {"id": 2, "name": "Céréales", "parent": {"id": 1}},
            {"id": 1, "name": "Épicerie", "parent": null, "order": 2},
        ]),
    )
    .await;

    let report = categories(&conn, &server).await;

    assert_eq!(
        (
            report.stats.total,
            report.stats.created,
            report.stats.errors
        ),
        (3, 3, 0)
    );
    assert_eq!(
        tree(&conn).await,
        [
            t("Céréales", Some("Épicerie"), 1),
            t("Riz", Some("Céréales"), 2),
            t("Épicerie", None, 0)
        ]
    );
    let slugs: Vec<String> = Category::find()
        .all(&conn)
        .await
        .expect("read")
        .into_iter()
        .map(|c| c.slug)
        .collect();
    assert!(slugs.contains(&"epicerie".to_owned()), "{slugs:?}");
}

async fn cycles_and_self_parents_are_broken_and_recorded(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_categories(
        &server,
        json!({"results": [
            {"id": 10, "name": "A", "parent_id": 12},
            {"id": 11, "name": "B", "parent_id": 10},
            {"id": 12, "name": "C", "parent_id": 11},
            {"id": 20, "name": "Self", "parent_id": 20},
            {"id": 30, "name": "Orphan", "parent_id": 999},
        ]}),
    )
    .await;

    let report = categories(&conn, &server).await;

    assert_eq!(report.stats.warnings, 3, "{:?}", report.stats.errors_list);
    assert_eq!(
        tree(&conn).await,
        [
            t("A", None, 0),
            t("B", Some("A"), 1),
            t("C", Some("B"), 2),
            t("Orphan", None, 0),
            t("Self", None, 0)
        ]
    );
    let stored = SyncError::find()
        .filter(sync_error::Column::RunId.eq(report.run_id))
        .all(&conn)
        .await
        .expect("read");
    assert!(
        stored
            .iter()
            .any(|e| e.message.contains("cycle") && e.external_id.as_deref() == Some("10"))
    );
    assert!(stored.iter().any(|e| e.message.contains("999")));
}

async fn categories_are_read_in_every_shape_and_resyncs_change_nothing(db: TestDb) {
    let conn = db.open().await;
    for body in [
        json!([{"id": 1, "name": "A"}, {"id": 2, "name": "B", "parent_id": 1}]),
        json!({"results": [{"id": 1, "name": "A"}, {"id": 2, "name": "B", "parent_id": 1}]}),
        json!({"categories": [{"id": 1, "name": "A", "children": [{"id": 2, "name": "B"}]}]}),
    ] {
        let server = MockServer::start().await;
        mount_categories(&server, body).await;
        categories(&conn, &server).await;
        assert_eq!(tree(&conn).await, [t("A", None, 0), t("B", Some("A"), 1)]);
    }
    let server = MockServer::start().await;
    mount_categories(
        &server,
        json!([{"id": 1, "name": "A"}, {"id": 2, "name": "B", "parent_id": 1}]),
    )
    .await;

    let again = categories(&conn, &server).await;

    assert_eq!(
        (
            again.stats.unchanged,
            again.stats.created,
            again.stats.updated
        ),
        (2, 0, 0)
    );
    assert_eq!(Category::find().all(&conn).await.expect("read").len(), 2);
}

async fn vanished_categories_lose_their_mapping_but_stay(db: TestDb) {
    let conn = db.open().await;
    let first = MockServer::start().await;
    mount_categories(
        &first,
        json!([{"id": 1, "name": "A"}, {"id": 2, "name": "B"}, {"id": 2, "name": "B bis"}]),
    )
    .await;
    let report = categories(&conn, &first).await;
    assert_eq!(report.stats.warnings, 1, "the duplicate id is recorded");
    assert_eq!(
        tree(&conn).await,
        [t("A", None, 0), t("B bis", None, 0)],
        "the last one wins"
    );

    let second = MockServer::start().await;
    mount_categories(&second, json!([{"id": 1, "name": "A renamed"}])).await;
    let report = categories(&conn, &second).await;

    assert_eq!((report.stats.updated, report.stats.missing), (1, 1));
    assert_eq!(
        Category::find().all(&conn).await.expect("read").len(),
        2,
        "the local category stays"
    );
    let mappings = ExternalCategory::find().all(&conn).await.expect("read");
    assert_eq!(
        mappings.iter().map(|m| m.external_id).collect::<Vec<_>>(),
        [1]
    );
}

async fn product_row(
    conn: &DatabaseConnection,
    external_id: i64,
) -> Option<(product::Model, external_product::Model)> {
    let link = ExternalProduct::find()
        .filter(external_product::Column::ExternalId.eq(external_id))
        .one(conn)
        .await
        .expect("read")?;
    let p = Product::find_by_id(link.product_id)
        .one(conn)
        .await
        .expect("read")?;
    Some((p, link))
}

async fn three_pages_of_products_are_created_then_left_unchanged(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    let p = |id: i64, cat| {
        product_json(
            id,
            &format!("Produit {id}"),
            "1.234,56",
            &format!("SKU-{id}"),
            cat,
        )
    };
    mount_product_pages(
        &server,
        &[
            vec![p(1, Some(7)), p(2, Some(7))],
            vec![p(3, None)],
            vec![p(4, Some(8))],
        ],
    )
    .await;

    let first = products(&conn, &server).await;
    let second = products(&conn, &server).await;

    assert_eq!(
        (first.stats.total, first.stats.created, first.stats.errors),
        (4, 4, 0)
    );
    assert_eq!(
        (
            second.stats.total,
            second.stats.unchanged,
            second.stats.created,
            second.stats.updated
        ),
        (4, 4, 0, 0)
    );
    assert_eq!(
        Product::find().all(&conn).await.expect("read").len(),
        4,
        "no duplicates"
    );
    assert_eq!(
        Category::find().all(&conn).await.expect("read").len(),
        2,
        "categories met through products"
    );
    let (prod, link) = product_row(&conn, 1).await.expect("stored");
    assert_eq!(prod.price.to_string(), "1234.56");
    assert_eq!(
        (prod.stock, prod.sku.as_deref(), prod.slug.as_str()),
        (5, Some("SKU-1"), "produit-1")
    );
    assert_eq!(
        (link.sync_status, link.api_key_name.as_deref()),
        (SyncStatus::Synced, Some("B2B_API_KEY"))
    );
    let run = SyncRun::find_by_id(second.run_id)
        .one(&conn)
        .await
        .expect("read")
        .expect("run");
    assert_eq!(
        (run.status, run.total, run.unchanged),
        (RunStatus::Succeeded, 4, 4)
    );
}

async fn a_bad_product_fails_alone(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    let mut bad = product_json(2, "Bad", "gratuit", "SKU-2", None);
    bad["description"] = json!("x");
    mount_product_pages(
        &server,
        &[vec![
            product_json(1, "Good", "10.00", "SKU-1", None),
            bad,
            product_json(3, "Also good", "-4", "SKU-3", None),
            json!({"name": "no id", "price": 1}),
            product_json(4, "Fine", "12500.00", "SKU-4", None),
        ]],
    )
    .await;

    let report = products(&conn, &server).await;

    assert_eq!(
        (
            report.stats.total,
            report.stats.created,
            report.stats.errors
        ),
        (5, 2, 3)
    );
    let ids: Vec<Option<&str>> = report
        .stats
        .errors_list
        .iter()
        .map(|e| e.external_id.as_deref())
        .collect();
    assert_eq!(ids, [Some("2"), Some("3"), None]);
    assert!(
        report.stats.errors_list[0]
            .error
            .contains("invalid selling_price")
    );
    assert!(product_row(&conn, 1).await.is_some() && product_row(&conn, 4).await.is_some());
    let stored = SyncError::find()
        .filter(sync_error::Column::RunId.eq(report.run_id))
        .all(&conn)
        .await
        .expect("read");
    assert_eq!(stored.len(), 3);
    assert!(
        stored[0]
            .payload
            .as_deref()
            .unwrap_or_default()
            .contains("gratuit")
    );
}

async fn a_duplicate_sku_fails_the_second_product_only(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_product_pages(
        &server,
        &[vec![
            product_json(1, "Original", "10.00", "DUP", None),
            product_json(2, "Copy", "20.00", "DUP", None),
            product_json(3, "Other", "30.00", "OTHER", None),
        ]],
    )
    .await;

    let report = products(&conn, &server).await;

    assert_eq!((report.stats.created, report.stats.errors), (2, 1));
    assert!(
        report.stats.errors_list[0]
            .error
            .contains("SKU \"DUP\" already belongs to product"),
        "{:?}",
        report.stats.errors_list
    );
    let (original, _) = product_row(&conn, 1).await.expect("kept");
    assert_eq!(
        (original.title.as_str(), original.price.to_string().as_str()),
        ("Original", "10.00")
    );
    assert!(product_row(&conn, 2).await.is_none(), "rolled back whole");
    assert!(product_row(&conn, 3).await.is_some());
}

async fn products_not_seen_by_a_complete_run_become_missing_and_come_back(db: TestDb) {
    let conn = db.open().await;
    let all = MockServer::start().await;
    let p = |id: i64| product_json(id, &format!("P{id}"), "5", &format!("S{id}"), None);
    mount_product_pages(&all, &[vec![p(1), p(2), p(3)]]).await;
    products(&conn, &all).await;

    let fewer = MockServer::start().await;
    mount_product_pages(&fewer, &[vec![p(1)]]).await;
    // Two thirds of the catalog gone is past the guard: it takes --allow-missing.
    let allow = ProductSyncOptions {
        missing: MissingRule {
            allow_any: true,
            ..MissingRule::default()
        },
        ..opts(None)
    };
    let partial = sync_products(
        &conn,
        &b2b_client(&fewer.uri(), 0, 5000),
        &allow,
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("the run completes")
    .stats;
    assert_eq!(partial.missing, 2);
    let (gone, link) = product_row(&conn, 2).await.expect("never deleted");
    assert_eq!(
        (gone.is_available, link.sync_status),
        (false, SyncStatus::Missing)
    );

    let site = products(&conn, &fewer).await; // same listing again: still missing, nothing new
    assert_eq!(site.stats.missing, 0);
    let only_site = sync_products(
        &conn,
        &b2b_client(&fewer.uri(), 0, 5000),
        &opts(Some(1)),
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("site run");
    assert_eq!(only_site.stats.missing, 0, "a partial run marks nothing");

    let back = products(&conn, &all).await.stats;
    assert_eq!((back.updated, back.unchanged, back.missing), (2, 1, 0));
    let (p2, link) = product_row(&conn, 2).await.expect("back");
    assert_eq!(
        (p2.is_available, link.sync_status),
        (true, SyncStatus::Synced)
    );
}

async fn a_site_run_does_not_mark_the_rest_missing(db: TestDb) {
    let conn = db.open().await;
    let all = MockServer::start().await;
    let p = |id: i64| product_json(id, &format!("P{id}"), "5", &format!("S{id}"), None);
    mount_product_pages(&all, &[vec![p(1), p(2)]]).await;
    products(&conn, &all).await;
    let site = MockServer::start().await;
    mount_product_pages(&site, &[vec![p(1)]]).await;

    let report = products_for_site(&conn, &site).await;

    assert_eq!(report.stats.missing, 0);
    let (p2, link) = product_row(&conn, 2).await.expect("kept");
    assert_eq!(
        (p2.is_available, link.sync_status),
        (true, SyncStatus::Synced)
    );
}

async fn products_for_site(conn: &DatabaseConnection, server: &MockServer) -> RunReport {
    sync_products(
        conn,
        &b2b_client(&server.uri(), 0, 5000),
        &opts(Some(3)),
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("site run")
}

async fn product_categories_resolve_through_the_mapping(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_categories(&server, json!([{"id": 5, "name": "Boissons"}])).await;
    categories(&conn, &server).await;
    let mut by_id = product_json(1, "Jus", "500", "J", None);
    by_id["category_id"] = json!(5);
    let mut unknown = product_json(2, "Eau", "300", "E", None);
    unknown["category_id"] = json!(404);
    mount_product_pages(
        &server,
        &[vec![
            by_id,
            unknown,
            product_json(3, "Thé", "900", "T", Some(6)),
        ]],
    )
    .await;

    let report = products(&conn, &server).await;

    assert_eq!(
        (
            report.stats.created,
            report.stats.warnings,
            report.stats.errors
        ),
        (3, 1, 0)
    );
    assert!(
        report.stats.errors_list[0]
            .error
            .contains("unknown category 404")
    );
    let cat_of = |p: &product::Model| p.category_id;
    let boissons = Category::find()
        .filter(category::Column::Slug.eq("boissons"))
        .one(&conn)
        .await
        .expect("read")
        .expect("cat");
    assert_eq!(
        cat_of(&product_row(&conn, 1).await.expect("p1").0),
        Some(boissons.id)
    );
    assert_eq!(cat_of(&product_row(&conn, 2).await.expect("p2").0), None);
    let created = ExternalCategory::find()
        .filter(external_category::Column::ExternalId.eq(6))
        .one(&conn)
        .await
        .expect("read")
        .expect("created from the product's category object");
    assert_eq!(
        cat_of(&product_row(&conn, 3).await.expect("p3").0),
        Some(created.category_id)
    );
}

async fn changed_products_are_updated_in_place(db: TestDb) {
    let conn = db.open().await;
    let before = MockServer::start().await;
    mount_product_pages(&before, &[vec![product_json(1, "Riz", "100", "R", None)]]).await;
    products(&conn, &before).await;
    let (old, _) = product_row(&conn, 1).await.expect("stored");
    let after = MockServer::start().await;
    let mut changed = product_json(1, "Riz parfumé", "150.50", "R", None);
    changed["quantity"] = json!(-3);
    mount_product_pages(&after, &[vec![changed]]).await;

    let report = products(&conn, &after).await;

    assert_eq!(report.stats.updated, 1);
    let (new, _) = product_row(&conn, 1).await.expect("stored");
    assert_eq!(
        (new.id, new.slug.as_str()),
        (old.id, old.slug.as_str()),
        "same row, same slug"
    );
    assert_eq!(
        (
            new.title.as_str(),
            new.price.to_string().as_str(),
            new.stock
        ),
        ("Riz parfumé", "150.50", 0)
    );
}

async fn a_second_sync_of_the_same_kind_is_refused_until_the_lock_is_stale(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_product_pages(&server, &[vec![product_json(1, "P", "1", "S", None)]]).await;
    let holder = sync_run::ActiveModel {
        source: Set(entity::sync_run::Source::B2b),
        kind: Set("products".into()),
        options: Set(json!({})),
        status: Set(RunStatus::Running),
        started_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&conn)
    .await
    .expect("a running run");
    let lock = sync_lock::ActiveModel {
        name: Set("b2b:products".into()),
        run_id: Set(holder.id),
        holder: Set("pid 1 on elsewhere".into()),
        acquired_at: Set(Utc::now()),
        heartbeat_at: Set(Utc::now()),
    }
    .insert(&conn)
    .await
    .expect("a fresh lock");
    let client = b2b_client(&server.uri(), 0, 5000);

    let err = sync_products(
        &conn,
        &client,
        &opts(None),
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect_err("locked");
    assert!(
        matches!(err, RunError::Locked { run_id, .. } if run_id == holder.id),
        "{err}"
    );
    assert!(err.to_string().contains("pid 1 on elsewhere"));

    let mut stale: sync_lock::ActiveModel = lock.into();
    stale.heartbeat_at = Set(Utc::now() - chrono::Duration::minutes(5));
    stale.update(&conn).await.expect("age the lock");
    let report = sync_products(
        &conn,
        &client,
        &opts(None),
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("taken over");

    assert_eq!(report.status, RunStatusKind::Succeeded);
    let old = SyncRun::find_by_id(holder.id)
        .one(&conn)
        .await
        .expect("read")
        .expect("run");
    assert_eq!(old.status, RunStatus::Interrupted);
    assert!(
        SyncLock::find().all(&conn).await.expect("read").is_empty(),
        "released at the end"
    );
}

async fn a_fatal_error_marks_the_run_failed_and_keeps_committed_pages(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    let html = wiremock::ResponseTemplate::new(200).set_body_raw("<html>oops</html>", "text/html");
    crate::helpers::mount_page_one_then(&server, html).await;

    let err = sync_products(
        &conn,
        &b2b_client(&server.uri(), 0, 5000),
        &opts(None),
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect_err("fatal");

    let RunError::Failed { run_id, .. } = err else {
        panic!("{err}")
    };
    let run = SyncRun::find_by_id(run_id)
        .one(&conn)
        .await
        .expect("read")
        .expect("run");
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.message
            .unwrap_or_default()
            .contains("<html>oops</html>")
    );
    assert!(
        product_row(&conn, 1).await.is_some(),
        "page 1 stays committed"
    );
    assert!(SyncLock::find().all(&conn).await.expect("read").is_empty());
}

async fn a_large_page_is_written_in_chunks_each_link_to_its_own_product(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    // 700 products in one page and one batch: several multi-row inserts per table
    // (512 + 128 + 32 + 16 + 8 + 4 rows on SQLite), titles shared by 14 products each
    // so most slugs get their `-{id}` suffix.
    let page: Vec<_> = (1..=700)
        .map(|id| {
            product_json(
                id,
                &format!("Produit {}", id % 50),
                "10.00",
                &format!("SKU-{id}"),
                None,
            )
        })
        .collect();
    mount_product_pages(&server, &[page]).await;

    let report = products(&conn, &server).await;

    assert_eq!(
        (
            report.stats.total,
            report.stats.created,
            report.stats.errors
        ),
        (700, 700, 0)
    );
    let links = ExternalProduct::find().all(&conn).await.expect("read");
    let all = Product::find().all(&conn).await.expect("read");
    assert_eq!((links.len(), all.len()), (700, 700));
    for link in &links {
        let p = all
            .iter()
            .find(|p| p.id == link.product_id)
            .expect("each link has its product");
        let sku = format!("SKU-{}", link.external_id);
        assert_eq!(p.sku.as_deref(), Some(sku.as_str()));
        assert_eq!(link.external_sku.as_deref(), Some(sku.as_str()));
        assert_eq!(p.title, format!("Produit {}", link.external_id % 50));
    }
    let run = SyncRun::find_by_id(report.run_id)
        .one(&conn)
        .await
        .expect("read")
        .expect("run");
    assert_eq!(
        (run.status, run.total, run.created),
        (RunStatus::Succeeded, 700, 700)
    );
}

async fn a_category_the_database_refuses_rolls_back_alone(db: TestDb) {
    let conn = db.open().await;
    refuse_on_insert(&conn, "categories", "name", "'Refusée'").await;
    let server = MockServer::start().await;
    mount_categories(
        &server,
        json!([
            {"id": 1, "name": "Épicerie"},
            {"id": 2, "name": "Refusée", "parent_id": 1},
            {"id": 3, "name": "Riz", "parent_id": 1},
        ]),
    )
    .await;

    let report = categories(&conn, &server).await;

    let s = &report.stats;
    assert_eq!((s.total, s.created, s.errors), (3, 2, 1));
    assert_eq!(
        tree(&conn).await,
        [t("Riz", Some("Épicerie"), 1), t("Épicerie", None, 0)]
    );
    let issue = &s.errors_list[0];
    assert_eq!(issue.external_id.as_deref(), Some("2"));
    assert!(
        issue.error.starts_with("cannot store the category: "),
        "{}",
        issue.error
    );
}

on_every_backend!(
    a_category_the_database_refuses_rolls_back_alone,
    children_listed_before_parents_are_linked,
    cycles_and_self_parents_are_broken_and_recorded,
    categories_are_read_in_every_shape_and_resyncs_change_nothing,
    vanished_categories_lose_their_mapping_but_stay,
    three_pages_of_products_are_created_then_left_unchanged,
    a_bad_product_fails_alone,
    a_duplicate_sku_fails_the_second_product_only,
    products_not_seen_by_a_complete_run_become_missing_and_come_back,
    a_site_run_does_not_mark_the_rest_missing,
    product_categories_resolve_through_the_mapping,
    changed_products_are_updated_in_place,
    a_second_sync_of_the_same_kind_is_refused_until_the_lock_is_stale,
    a_fatal_error_marks_the_run_failed_and_keeps_committed_pages,
    a_large_page_is_written_in_chunks_each_link_to_its_own_product,
);

/// On a SQLite file the commands keep to one connection: a writer moving from one
/// connection to another at each commit starts every transaction with its page cache
/// thrown away, and each connection ends up holding a cache of its own. `serve`, which
/// only reads, gets several so that requests run in parallel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_gets_one_connection_for_syncs_and_several_for_serve() {
    let db = TestDb::create(Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    let conn = db.open().await;
    let server = MockServer::start().await;
    let p = |id: i64| {
        product_json(
            id,
            &format!("Produit {id}"),
            "10.00",
            &format!("S{id}"),
            None,
        )
    };
    mount_product_pages(&server, &[vec![p(1), p(2)], vec![p(3)], vec![p(4)]]).await;

    let report = products(&conn, &server).await;

    assert_eq!((report.stats.total, report.stats.created), (4, 4));
    let pool = conn.get_sqlite_connection_pool();
    assert_eq!((pool.options().get_max_connections(), pool.size()), (1, 1));

    let readers = sagasync::db::open_for(&db.url, false, Use::Readers)
        .await
        .expect("open for readers");
    let pool = readers.get_sqlite_connection_pool();
    let mut first = pool.acquire().await.expect("a first reader");
    let mut second = pool
        .acquire()
        .await
        .expect("a second reader at the same time");
    for reader in [&mut *first, &mut *second] {
        let count: i64 = sea_orm::sqlx::query_scalar("SELECT COUNT(*) FROM products")
            .fetch_one(reader)
            .await
            .expect("read");
        assert_eq!(count, 4);
    }
}
