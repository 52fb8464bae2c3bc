//! The catalog sync against an upstream that answers badly: a bad answer never marks
//! products missing, a run that stops is continued, values are never silently wrong.

use std::time::Duration;

use entity::external_product::SyncStatus;
use entity::prelude::*;
use entity::sync_run::RunStatus;
use entity::{external_product, product, sync_error};
use sagasync::sync::categories::sync_categories;
use sagasync::sync::products::{MissingRule, ProductSyncOptions, sync_products};
use sagasync::sync::{Interrupt, RunError, RunReport, no_observer};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    Backend, TEST_API_KEY, TestDb, b2b_client, mount_product_pages, product_json, run, sagasync,
    stderr, stdout,
};
use crate::on_every_backend;

fn p(id: i64) -> Value {
    product_json(id, &format!("P{id}"), "5", &format!("S{id}"), None)
}

fn allowing_missing() -> ProductSyncOptions {
    ProductSyncOptions {
        missing: MissingRule {
            allow_any: true,
            ..MissingRule::default()
        },
        ..ProductSyncOptions::default()
    }
}

async fn sync(
    conn: &DatabaseConnection,
    server: &MockServer,
    opts: &ProductSyncOptions,
) -> Result<RunReport, RunError> {
    sync_products(
        conn,
        &b2b_client(&server.uri(), 0, 5000),
        opts,
        no_observer(),
        &Interrupt::new(),
    )
    .await
}

/// Stores products `ids` through a listing of their own.
async fn stored(conn: &DatabaseConnection, ids: impl Iterator<Item = i64>) {
    let server = MockServer::start().await;
    mount_product_pages(&server, &[ids.map(p).collect()]).await;
    sync(conn, &server, &ProductSyncOptions::default())
        .await
        .expect("the first sync completes");
}

/// Answers page `n` of the products listing with `body`.
async fn mount_page(server: &MockServer, n: u32, body: Value) {
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", n.to_string()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn page_url(server: &MockServer, n: u32) -> String {
    format!("{}/b2c/products/?page={n}", server.uri())
}

async fn missing_and_unavailable(conn: &DatabaseConnection) -> (u64, u64) {
    let missing = ExternalProduct::find()
        .filter(external_product::Column::SyncStatus.eq(SyncStatus::Missing))
        .count(conn)
        .await
        .expect("count");
    let unavailable = Product::find()
        .filter(product::Column::IsAvailable.eq(false))
        .count(conn)
        .await
        .expect("count");
    (missing, unavailable)
}

async fn link_of(conn: &DatabaseConnection, external_id: i64) -> external_product::Model {
    ExternalProduct::find()
        .filter(external_product::Column::ExternalId.eq(external_id))
        .one(conn)
        .await
        .expect("read")
        .expect("a link")
}

async fn product_of(conn: &DatabaseConnection, external_id: i64) -> product::Model {
    let link = link_of(conn, external_id).await;
    Product::find_by_id(link.product_id)
        .one(conn)
        .await
        .expect("read")
        .expect("a product")
}

async fn a_bad_answer_never_marks_products_missing(db: TestDb) {
    let conn = db.open().await;
    stored(&conn, 1..=3).await;
    for (what, body) in [
        (
            "an empty page while count says 3",
            json!({"count": 3, "next": null, "results": []}),
        ),
        ("a bare list of numbers", json!([1, 2, 3])),
        (
            "a next that is a number",
            json!({"next": 2, "results": [p(1), p(2), p(3)]}),
        ),
        (
            "items that are not objects",
            json!({"count": 3, "next": null, "results": [p(1), 2, 3]}),
        ),
        (
            "an empty page that links to a next one",
            json!({"next": "/b2c/products/?page=2", "results": []}),
        ),
        (
            "more products than `count` says",
            json!({"count": 2, "next": null, "results": [p(1), p(2), p(3)]}),
        ),
    ] {
        let bad = MockServer::start().await;
        mount_page(&bad, 1, body).await;

        let result = sync(&conn, &bad, &allowing_missing()).await;

        let e = result.expect_err(what);
        assert!(matches!(e, RunError::Failed { .. }), "{what}: {e}");
        assert_eq!(missing_and_unavailable(&conn).await, (0, 0), "{what}");
    }

    // `count` says 5, the pages end after 3.
    let short = MockServer::start().await;
    mount_page(
        &short,
        1,
        json!({"count": 5, "next": page_url(&short, 2), "results": [p(1), p(2)]}),
    )
    .await;
    mount_page(
        &short,
        2,
        json!({"count": 5, "next": null, "results": [p(3)]}),
    )
    .await;

    let e = sync(&conn, &short, &allowing_missing())
        .await
        .expect_err("a short listing fails");

    assert!(
        e.to_string()
            .contains("ended after 3 products while its `count` says 5"),
        "{e}"
    );
    assert_eq!(missing_and_unavailable(&conn).await, (0, 0));

    // An empty page past the first while `count` says more.
    let hole = MockServer::start().await;
    mount_page(
        &hole,
        1,
        json!({"count": 3, "next": page_url(&hole, 2), "results": [p(1)]}),
    )
    .await;
    mount_page(&hole, 2, json!({"count": 3, "next": null, "results": []})).await;
    let e = sync(&conn, &hole, &allowing_missing())
        .await
        .expect_err("an empty page fails");
    assert!(e.to_string().contains("page 2 is empty"), "{e}");
    assert_eq!(missing_and_unavailable(&conn).await, (0, 0));
}

async fn a_run_that_would_unpublish_much_of_the_catalog_does_not(db: TestDb) {
    let conn = db.open().await;
    stored(&conn, 1..=20).await;
    let most = MockServer::start().await;
    mount_product_pages(&most, &[(1..=17).map(p).collect()]).await;

    let report = sync(&conn, &most, &ProductSyncOptions::default())
        .await
        .expect("the run completes");

    assert_eq!(
        (report.stats.missing, report.stats.missing_withheld),
        (0, 3)
    );
    let message = report.message.clone().expect("a message");
    assert!(
        message.contains("3 of the 20 stored products (15%)")
            && message.contains("--allow-missing"),
        "{message}"
    );
    let row = SyncRun::find_by_id(report.run_id)
        .one(&conn)
        .await
        .expect("read")
        .expect("the run");
    assert_eq!(row.message.as_deref(), Some(message.as_str()));
    assert_eq!(missing_and_unavailable(&conn).await, (0, 0));

    // 2 of 20 is the 10 % a run may mark.
    let fewer = MockServer::start().await;
    mount_product_pages(&fewer, &[(1..=18).map(p).collect()]).await;
    let report = sync(&conn, &fewer, &ProductSyncOptions::default())
        .await
        .expect("the run completes");
    assert_eq!(
        (
            report.stats.missing,
            report.stats.missing_withheld,
            report.message
        ),
        (2, 0, None)
    );

    // The override marks them however many.
    let five = MockServer::start().await;
    mount_product_pages(&five, &[(1..=5).map(p).collect()]).await;
    let report = sync(&conn, &five, &allowing_missing())
        .await
        .expect("the run completes");
    assert_eq!(report.stats.missing, 13);
    assert_eq!(missing_and_unavailable(&conn).await, (15, 15));
}

async fn an_unfinished_pass_resumes_at_the_first_page_not_committed(db: TestDb) {
    let conn = db.open().await;
    stored(&conn, [99].into_iter()).await;
    let server = MockServer::start().await;
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_product_pages(&server, &[vec![p(1), p(2)], vec![p(3), p(4)], vec![p(5)]]).await;
    let page_one_requests = || async {
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.query().is_some_and(|q| q.starts_with("page=1")))
            .count()
    };

    let failed = sync(&conn, &server, &allowing_missing()).await;

    assert!(failed.is_err(), "page 2 failed: {failed:?}");
    assert_eq!(Product::find().count(&conn).await.expect("count"), 3);

    let resumed = sync(&conn, &server, &allowing_missing())
        .await
        .expect("the resumed run completes");

    assert_eq!(page_one_requests().await, 1, "page 1 is not asked again");
    let s = &resumed.stats;
    assert_eq!((s.total, s.created, s.missing), (3, 3, 1));
    assert_eq!(link_of(&conn, 99).await.sync_status, SyncStatus::Missing);
    for id in [1, 2] {
        assert_eq!(
            link_of(&conn, id).await.sync_status,
            SyncStatus::Synced,
            "seen by the first run of the pass"
        );
    }

    // A finished pass starts again from page 1; --restart forgets an unfinished one.
    let again = sync(&conn, &server, &allowing_missing())
        .await
        .expect("a new pass");
    assert_eq!((again.stats.total, again.stats.unchanged), (5, 5));
    assert_eq!(page_one_requests().await, 2);
}

async fn a_stored_product_whose_payload_cannot_be_read_keeps_its_state(db: TestDb) {
    let conn = db.open().await;
    stored(&conn, 1..=3).await;
    let server = MockServer::start().await;
    let unreadable = json!({"id": 2, "name": "P2 changed", "selling_price": "gratuit"});
    mount_product_pages(&server, &[vec![p(1), unreadable, p(3)]]).await;

    let report = sync(&conn, &server, &ProductSyncOptions::default())
        .await
        .expect("the run completes");

    assert_eq!((report.stats.errors, report.stats.missing), (1, 0));
    let link = link_of(&conn, 2).await;
    assert_eq!(link.sync_status, SyncStatus::Error);
    assert!(
        link.sync_error
            .as_deref()
            .is_some_and(|e| e.contains("invalid selling_price")),
        "{:?}",
        link.sync_error
    );
    let kept = product_of(&conn, 2).await;
    assert_eq!((kept.title.as_str(), kept.is_available), ("P2", true));
}

async fn ambiguous_numbers_are_errors_and_changed_values_warnings(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    let mut big = p(2);
    big["quantity"] = json!(2_147_483_648_i64);
    let mut nul = p(3);
    nul["name"] = json!("Ri\u{0}z");
    nul["description"] = json!("long\u{0} grain");
    let dotted = json!({"id": 1, "name": "A", "selling_price": "1.2.3"});
    mount_product_pages(&server, &[vec![dotted, big, nul]]).await;

    let report = sync(&conn, &server, &ProductSyncOptions::default())
        .await
        .expect("the run completes");

    assert_eq!((report.stats.errors, report.stats.warnings), (1, 2));
    assert_eq!(
        ExternalProduct::find()
            .filter(external_product::Column::ExternalId.eq(1))
            .count(&conn)
            .await
            .expect("count"),
        0,
        "an ambiguous price is not stored"
    );
    assert_eq!(product_of(&conn, 2).await.stock, i32::MAX);
    let cleaned = product_of(&conn, 3).await;
    assert_eq!(
        (cleaned.title.as_str(), cleaned.description.as_str()),
        ("Riz", "long grain")
    );
    let mut messages: Vec<String> = SyncError::find()
        .filter(sync_error::Column::RunId.eq(report.run_id))
        .all(&conn)
        .await
        .expect("read")
        .into_iter()
        .map(|e| e.message)
        .collect();
    messages.sort();
    assert!(
        messages[0].contains("\"1.2.3\" is ambiguous"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("warning: NUL characters removed from `name`"),
        "{messages:?}"
    );
    assert!(
        messages[2].contains("2147483648 is too large: stored as 2147483647"),
        "{messages:?}"
    );
}

async fn a_resync_of_an_unchanged_listing_changes_nothing_whatever_the_page_order(db: TestDb) {
    let conn = db.open().await;
    // A names category 7 by id before B, later in the listing, creates it.
    let mut a = p(1);
    a["category_id"] = json!(7);
    let b = product_json(2, "P2", "5", "S2", Some(7));
    let server = MockServer::start().await;
    mount_product_pages(&server, &[vec![a.clone()], vec![b.clone()]]).await;

    let first = sync(&conn, &server, &ProductSyncOptions::default())
        .await
        .expect("the run completes");

    assert_eq!(first.stats.created, 2);
    let category = product_of(&conn, 2).await.category_id;
    assert!(category.is_some());
    assert_eq!(
        product_of(&conn, 1).await.category_id,
        category,
        "linked once its category is known"
    );

    let again = sync(&conn, &server, &ProductSyncOptions::default())
        .await
        .expect("the run completes");
    assert_eq!((again.stats.updated, again.stats.unchanged), (0, 2));

    let reversed = MockServer::start().await;
    mount_product_pages(&reversed, &[vec![b], vec![a]]).await;
    let other_order = sync(&conn, &reversed, &ProductSyncOptions::default())
        .await
        .expect("the run completes");
    assert_eq!(
        (other_order.stats.updated, other_order.stats.unchanged),
        (0, 2)
    );
}

async fn nul_characters_in_categories_are_removed_with_a_warning(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": 1, "name": "Épi\u{0}cerie", "description": "d\u{0}"},
            {"id": 2, "name": "Riz", "parent_id": 1},
        ])))
        .mount(&server)
        .await;

    let report = sync_categories(
        &conn,
        &b2b_client(&server.uri(), 0, 5000),
        "b2c/categories/",
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("the run completes");

    assert_eq!((report.stats.created, report.stats.warnings), (2, 1));
    let mut names: Vec<String> = Category::find()
        .all(&conn)
        .await
        .expect("read")
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    assert_eq!(names, ["Riz", "Épicerie"]);
}

/// The sandbox's products name their categories in every way (ids, objects with a
/// name): synced without `sync-categories` first, a second run must find them all
/// unchanged, whatever batches the first run's pages fell into.
async fn a_catalog_synced_without_its_categories_is_unchanged_the_second_time(db: TestDb) {
    let conn = db.open().await;
    let config = sagasync::sandbox::SandboxConfig {
        seed: 11,
        categories: 60,
        products: 3_000,
        api_key: TEST_API_KEY.into(),
        ..sagasync::sandbox::SandboxConfig::default()
    };
    let sandbox = sagasync::sandbox::Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the sandbox starts");
    let client = b2b_client(&sandbox.b2b_url(), 0, 10_000);
    let run = || async {
        sync_products(
            &conn,
            &client,
            &ProductSyncOptions::default(),
            no_observer(),
            &Interrupt::new(),
        )
        .await
        .expect("the run completes")
        .stats
    };

    let first = run().await;
    let second = run().await;

    assert_eq!(first.total, 3_000);
    assert_eq!(
        (second.updated, second.unchanged),
        (0, first.created + first.updated),
        "first run: {} created, {} updated",
        first.created,
        first.updated
    );
}

/// Triggers `interrupt` when a request comes in, then answers `body`.
struct InterruptOnRequest {
    interrupt: Interrupt,
    body: Value,
}

impl wiremock::Respond for InterruptOnRequest {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        self.interrupt.trigger();
        ResponseTemplate::new(200).set_body_json(self.body.clone())
    }
}

/// Ctrl-C while a batch is written product by product (always on MySQL; elsewhere
/// when products create their categories) finishes the batch: the position that
/// commits with it never passes products that were not written.
async fn an_interrupt_during_a_batch_never_skips_products(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    let interrupt = Interrupt::new();
    // Page 1: 300 products that create their categories (written one by one).
    let first: Vec<Value> = (1..=300)
        .map(|id| product_json(id, &format!("P{id}"), "5", &format!("S{id}"), Some(id % 7)))
        .collect();
    // Slow enough that the sync waits for it, so page 1 is being written when page 2
    // is asked for.
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(
                    json!({"count": 301, "next": page_url(&server, 2), "results": first}),
                )
                .set_delay(Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    // Asking for page 2 (while page 1 is written) is Ctrl-C.
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "2"))
        .respond_with(InterruptOnRequest {
            interrupt: interrupt.clone(),
            body: json!({"count": 301, "next": null, "results": [p(301)]}),
        })
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_page(
        &server,
        2,
        json!({"count": 301, "next": null, "results": [p(301)]}),
    )
    .await;
    let client = b2b_client(&server.uri(), 0, 5000);
    let opts = allowing_missing();

    let stopped = sync_products(&conn, &client, &opts, no_observer(), &interrupt)
        .await
        .expect("an interrupted run reports");
    let resumed = sync(&conn, &server, &opts)
        .await
        .expect("the run completes");

    assert_eq!(stopped.status, sagasync::sync::RunStatusKind::Interrupted);
    assert_eq!(
        Product::find().count(&conn).await.expect("count"),
        301,
        "interrupted after {} products, then {} created",
        stopped.stats.total,
        resumed.stats.created
    );
    assert_eq!(missing_and_unavailable(&conn).await, (0, 0));
}

/// A page whose JSON has the wrong shape is fetched again like a 5xx.
async fn a_page_of_the_wrong_shape_is_retried(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"next": 2, "results": [p(1)]})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_product_pages(&server, &[vec![p(1), p(2)]]).await;

    let report = sync_products(
        &conn,
        &b2b_client(&server.uri(), 1, 5000),
        &ProductSyncOptions::default(),
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("the run completes after one retry");

    assert_eq!(report.stats.created, 2);
}

/// A saved position belongs to one listing: another page size starts a new pass.
async fn a_saved_position_is_not_resumed_on_another_listing(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_product_pages(&server, &[vec![p(1)], vec![p(2)]]).await;
    assert!(sync(&conn, &server, &allowing_missing()).await.is_err());

    let other = ProductSyncOptions {
        page_size: 50,
        ..allowing_missing()
    };
    let report = sync(&conn, &server, &other).await.expect("completes");

    assert_eq!((report.stats.total, report.stats.unchanged), (2, 1));
}

on_every_backend!(
    an_interrupt_during_a_batch_never_skips_products,
    a_page_of_the_wrong_shape_is_retried,
    a_saved_position_is_not_resumed_on_another_listing,
    a_catalog_synced_without_its_categories_is_unchanged_the_second_time,
    nul_characters_in_categories_are_removed_with_a_warning,
    a_bad_answer_never_marks_products_missing,
    a_run_that_would_unpublish_much_of_the_catalog_does_not,
    an_unfinished_pass_resumes_at_the_first_page_not_committed,
    a_stored_product_whose_payload_cannot_be_read_keeps_its_state,
    ambiguous_numbers_are_errors_and_changed_values_warnings,
    a_resync_of_an_unchanged_listing_changes_nothing_whatever_the_page_order,
);

/// `sync-products` pointed at `server` with the test key.
fn sync_products_cli(db: &TestDb, server: &MockServer) -> std::process::Command {
    let mut cmd = sagasync(db);
    cmd.args(["sync-products", "--api-max-retries", "0"])
        .env("B2B_API_URL", server.uri())
        .env("B2B_API_KEY", TEST_API_KEY);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_to_unpublish_without_allow_missing() {
    let db = TestDb::create(Backend::Sqlite).await.expect("SQLite");
    let conn = db.open().await;
    stored(&conn, 1..=10).await;
    let server = MockServer::start().await;
    mount_product_pages(&server, &[(1..=4).map(p).collect()]).await;

    let refused = run(&mut sync_products_cli(&db, &server));

    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let said = stderr(&refused);
    assert!(
        said.contains("error: 6 of the 10 stored products (60%) were not in the listing")
            && said.contains("--allow-missing"),
        "{said}"
    );
    assert_eq!(missing_and_unavailable(&conn).await, (0, 0));

    let json = run(sync_products_cli(&db, &server).arg("--json"));
    let report: Value = serde_json::from_str(stdout(&json).trim()).expect("a JSON array");
    assert_eq!(report[0]["missing_withheld"], 6, "{report}");

    let allowed = run(sync_products_cli(&db, &server).arg("--allow-missing"));
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
    assert_eq!(missing_and_unavailable(&conn).await, (6, 6));

    let bad = run(sync_products_cli(&db, &server).args(["--max-missing-percent", "150"]));
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("must be a percentage from 0 to 100"));
}

/// SIGTERM (systemd, `docker stop`, `timeout`) ends a run as Ctrl-C does: what was
/// applied is committed, the run is `interrupted`, the lock released, exit 143.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_interrupts_a_run_cleanly_with_exit_143() {
    let db = TestDb::create(Backend::Sqlite).await.expect("SQLite");
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_page(
        &server,
        1,
        json!({"count": 2, "next": page_url(&server, 2), "results": [p(1)]}),
    )
    .await;
    mount_page(
        &server,
        2,
        json!({"count": 2, "next": null, "results": [p(2)]}),
    )
    .await;
    // Page 2 takes its time.
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .with_priority(1)
        .mount(&server)
        .await;
    let mut child = sync_products_cli(&db, &server)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while Product::find().count(&conn).await.unwrap_or(0) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "page 1 never committed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    assert_eq!(status.code(), Some(143));
    let runs = SyncRun::find().all(&conn).await.expect("read");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Interrupted);
    assert_eq!(SyncLock::find().count(&conn).await.expect("count"), 0);
    assert_eq!(Product::find().count(&conn).await.expect("count"), 1);
}
