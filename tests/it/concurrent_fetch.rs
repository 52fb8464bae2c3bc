//! Product pages asked several at a time: applied in listing order exactly once, slowed
//! down by 429s, followed one at a time when `next` has no page number, stopped at a
//! failing page with the pages before it committed.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::prelude::*;
use entity::{external_product, product};
use sagasync::b2b::B2bClient;
use sagasync::sync::products::{MissingRule, ProductSyncOptions, sync_products};
use sagasync::sync::{Interrupt, Progress, RunError, RunReport, no_observer};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestDb, assert_ok, b2b_client, product_json, run, sagasync, stderr};
use crate::on_every_backend;

/// Item `i` of a listing: names repeat, so which product gets the plain slug depends
/// on the order products are applied in.
fn item(id: i64) -> Value {
    let name = ["a", "b", "c", "d"][(id % 4) as usize];
    product_json(id, &format!("Riz {name}"), "5", &format!("S{id}"), None)
}

/// `pages` pages of `per_page` items, ids from 1.
fn listing(pages: usize, per_page: usize) -> Vec<Vec<Value>> {
    (0..pages)
        .map(|p| {
            (0..per_page)
                .map(|i| item((p * per_page + i + 1) as i64))
                .collect()
        })
        .collect()
}

fn page_url(server: &MockServer, n: usize) -> String {
    format!("{}/b2c/products/?page={n}&page_size=100", server.uri())
}

/// Serves `pages` as DRF pages, each asked exactly once; page `n` answers after
/// `delay(n)`.
async fn mount_pages(server: &MockServer, pages: &[Vec<Value>], delay: impl Fn(usize) -> u64) {
    mount_listing(server, pages, delay, Some(1)).await;
}

/// Serves `pages` as DRF pages, each asked `expect` times when given; page `n` answers
/// after `delay(n)`.
async fn mount_listing(
    server: &MockServer,
    pages: &[Vec<Value>],
    delay: impl Fn(usize) -> u64,
    expect: Option<u64>,
) {
    let count: usize = pages.iter().map(Vec::len).sum();
    for (i, items) in pages.iter().enumerate() {
        let n = i + 1;
        let next = (n < pages.len()).then(|| page_url(server, n + 1));
        let mock = Mock::given(path("/b2c/products/"))
            .and(query_param("page", n.to_string()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"count": count, "next": next, "results": items}))
                    .set_delay(Duration::from_millis(delay(n))),
            );
        let mock = match expect {
            Some(times) => mock.expect(times),
            None => mock,
        };
        mock.mount(server).await;
    }
}

fn options(concurrency: usize) -> ProductSyncOptions {
    ProductSyncOptions {
        concurrency,
        missing: MissingRule {
            allow_any: true,
            ..MissingRule::default()
        },
        ..ProductSyncOptions::default()
    }
}

async fn sync_with(
    conn: &DatabaseConnection,
    client: &B2bClient,
    concurrency: usize,
) -> Result<RunReport, RunError> {
    sync_products(
        conn,
        client,
        &options(concurrency),
        no_observer(),
        &Interrupt::new(),
    )
    .await
}

/// Every product with its mapping, by external id.
async fn catalog(conn: &DatabaseConnection) -> Vec<(i64, String, String, Option<String>)> {
    let mut rows = Vec::new();
    for link in ExternalProduct::find().all(conn).await.expect("read") {
        let p = Product::find_by_id(link.product_id)
            .one(conn)
            .await
            .expect("read")
            .expect("a product");
        rows.push((link.external_id, p.title, p.slug, p.sku));
    }
    rows.sort();
    rows
}

async fn stored_ids(conn: &DatabaseConnection) -> Vec<i64> {
    let mut ids: Vec<i64> = catalog(conn).await.into_iter().map(|r| r.0).collect();
    ids.sort_unstable();
    ids
}

/// The page numbers of the requests `server` received, in order.
async fn asked(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "page" || k == "cursor")
                .map(|(k, v)| format!("{k}={v}"))
        })
        .collect()
}

async fn pages_fetched_at_once_are_applied_in_order_as_a_sequential_sync_would(db: TestDb) {
    let conn = db.open().await;
    let pages = listing(15, 3);
    let server = MockServer::start().await;
    // Later pages answer first.
    mount_pages(&server, &pages, |n| (16 - n as u64) * 15).await;
    let numbers = Arc::new(Mutex::new(Vec::new()));
    let seen = numbers.clone();
    let observer: sagasync::sync::Observer = Arc::new(move |p| {
        if let Progress::Page { number, .. } = p {
            seen.lock().expect("lock").push(number);
        }
    });

    let report = sync_products(
        &conn,
        &b2b_client(&server.uri(), 0, 5000),
        &options(4),
        observer,
        &Interrupt::new(),
    )
    .await
    .expect("the concurrent sync completes");

    assert_eq!((report.stats.total, report.stats.created), (45, 45));
    let numbers = numbers.lock().expect("lock").clone();
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]) && numbers.last() == Some(&15),
        "pages applied in listing order: {numbers:?}"
    );
    // The same listing one page at a time, into another database of this backend.
    let other = TestDb::create(db.backend).await.expect("a second database");
    let other_conn = other.open().await;
    let sequential = MockServer::start().await;
    mount_pages(&sequential, &pages, |_| 0).await;
    let one_by_one = sync_with(&other_conn, &b2b_client(&sequential.uri(), 0, 5000), 1)
        .await
        .expect("the sequential sync completes");
    assert_eq!(one_by_one.stats.created, 45);
    let (concurrent, sequential) = (catalog(&conn).await, catalog(&other_conn).await);
    let slugs = |rows: &[(i64, String, String, Option<String>)]| {
        rows.iter()
            .filter(|r| !r.2.ends_with(&format!("-{}", r.0)))
            .count()
    };
    assert_eq!(
        slugs(&concurrent),
        4,
        "the first of each name has the plain slug"
    );
    assert_eq!(concurrent, sequential);
}

/// Pages 3 to 5, asked together, answer 429 with `Retry-After` once.
async fn a_429_during_concurrent_fetching_still_brings_every_product(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    for n in 3..=5 {
        Mock::given(path("/b2c/products/"))
            .and(query_param("page", n.to_string()))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_string("slow down"),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .expect(1)
            .mount(&server)
            .await;
    }
    mount_pages(&server, &listing(12, 2), |_| 0).await;

    let report = sync_with(&conn, &b2b_client(&server.uri(), 3, 5000), 4)
        .await
        .expect("the run completes after the 429s");

    assert_eq!((report.stats.total, report.stats.created), (24, 24));
    assert_eq!(stored_ids(&conn).await, (1..=24).collect::<Vec<_>>());
}

/// Mounts a listing whose page 2 links to a cursor, not to page 3: pages 3 to 6, which
/// the page numbers predict, hold other products (ids from 900) that must never be
/// stored. The real pages are each asked once.
async fn mount_listing_that_leaves_page_numbers(server: &MockServer, predicted_asks: u64) {
    let count = 8;
    let page = |next: Option<String>, ids: [i64; 2]| {
        ResponseTemplate::new(200).set_body_json(
            json!({"count": count, "next": next, "results": [item(ids[0]), item(ids[1])]}),
        )
    };
    let cursor = |c: &str| format!("{}/b2c/products/?cursor={c}", server.uri());
    let chain = [
        (("page", "1"), page(Some(page_url(server, 2)), [1, 2])),
        (("page", "2"), page(Some(cursor("c3")), [3, 4])),
        (("cursor", "c3"), page(Some(cursor("c4")), [5, 6])),
        (("cursor", "c4"), page(None, [7, 8])),
    ];
    for ((key, value), answer) in chain {
        Mock::given(path("/b2c/products/"))
            .and(query_param(key, value))
            .respond_with(answer.set_delay(Duration::from_millis(100)))
            .expect(1)
            .mount(server)
            .await;
    }
    for n in 3..=6_usize {
        let poison = ResponseTemplate::new(200).set_body_json(json!({
            "count": count, "next": page_url(server, n + 1),
            "results": [item(900 + n as i64), item(950 + n as i64)]}));
        let mock = Mock::given(path("/b2c/products/"))
            .and(query_param("page", n.to_string()))
            .respond_with(poison);
        let mock = if predicted_asks == 0 {
            mock.expect(0)
        } else {
            mock
        };
        mock.mount(server).await;
    }
}

async fn a_listing_whose_next_leaves_page_numbers_falls_back_and_completes(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_listing_that_leaves_page_numbers(&server, 1).await;

    let report = sync_with(&conn, &b2b_client(&server.uri(), 0, 5000), 4)
        .await
        .expect("the run completes");

    assert_eq!((report.stats.total, report.stats.created), (8, 8));
    assert_eq!(stored_ids(&conn).await, (1..=8).collect::<Vec<_>>());
    let asked = asked(&server).await;
    assert!(
        asked.iter().any(|a| a == "page=3"),
        "page 3 was asked ahead: {asked:?}"
    );

    // A listing by offset has no page number: one page at a time from the start.
    let offsets = MockServer::start().await;
    for (offset, next, ids) in [(0, Some(2), [11, 12]), (2, None, [13, 14])] {
        let next = next.map(|o| format!("{}/b2c/products/?limit=2&offset={o}", offsets.uri()));
        let body = json!({"count": 4, "next": next, "results": [item(ids[0]), item(ids[1])]});
        let matcher = if offset == 0 {
            query_param("page", "1")
        } else {
            query_param("offset", offset.to_string())
        };
        Mock::given(path("/b2c/products/"))
            .and(matcher)
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&offsets)
            .await;
    }
    let report = sync_with(&conn, &b2b_client(&offsets.uri(), 0, 5000), 4)
        .await
        .expect("the offset listing completes");
    assert_eq!(report.stats.created, 4);
}

/// `--concurrency 1` (here `B2B_CONCURRENCY=1`) asks only the pages `next` links give.
async fn concurrency_one_asks_only_the_pages_next_links_give(db: TestDb) {
    let server = MockServer::start().await;
    mount_listing_that_leaves_page_numbers(&server, 0).await;
    let command = || {
        let mut cmd = sagasync(&db);
        cmd.args(["sync-products", "--api-max-retries", "0"])
            .env("B2B_API_URL", server.uri())
            .env("B2B_API_KEY", crate::helpers::TEST_API_KEY);
        cmd
    };

    let refused = run(command().args(["--concurrency", "0"]));
    let out = run(command().env("B2B_CONCURRENCY", "1"));

    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert_ok(&out);
    assert_eq!(
        asked(&server).await,
        ["page=1", "page=2", "cursor=c3", "cursor=c4"]
    );
    assert_eq!(
        stored_ids(&db.open().await).await,
        (1..=8).collect::<Vec<_>>()
    );
}

/// Page 6 of 10 fails (500, no retry) while pages 7 to 9, asked with it, answer first.
async fn a_failing_page_stops_the_run_with_the_pages_before_it_committed(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "6"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_string("boom")
                .set_delay(Duration::from_millis(300)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount_listing(&server, &listing(10, 2), |_| 0, None).await;
    let client = b2b_client(&server.uri(), 0, 5000);

    let failed = sync_with(&conn, &client, 4).await;

    let e = failed.expect_err("page 6 fails the run");
    assert!(e.to_string().contains("HTTP 500"), "{e}");
    assert_eq!(stored_ids(&conn).await, (1..=10).collect::<Vec<_>>());
    let position = SyncCheckpoint::find()
        .one(&conn)
        .await
        .expect("read")
        .expect("a saved position")
        .position;
    assert_eq!(position["next"], json!(page_url(&server, 6)), "{position}");
    assert_eq!(position["page"], 5, "{position}");

    let resumed = sync_with(&conn, &client, 4)
        .await
        .expect("the next run continues from page 6");

    assert_eq!((resumed.stats.total, resumed.stats.created), (10, 10));
    assert_eq!(stored_ids(&conn).await, (1..=20).collect::<Vec<_>>());
    let asked = asked(&server).await;
    let times = |page: &str| asked.iter().filter(|a| *a == page).count();
    assert_eq!((times("page=1"), times("page=6")), (1, 2), "{asked:?}");
    let synced = ExternalProduct::find()
        .filter(external_product::Column::SyncStatus.eq(external_product::SyncStatus::Synced))
        .count(&conn)
        .await
        .expect("count");
    assert_eq!(synced, 20);
    assert_eq!(
        Product::find()
            .filter(product::Column::Slug.eq("riz-b"))
            .count(&conn)
            .await
            .expect("count"),
        1
    );
}

async fn a_page_asked_ahead_that_redirects_to_another_host_sends_it_nothing(db: TestDb) {
    let conn = db.open().await;
    let foreign = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(0)
        .mount(&foreign)
        .await;
    let server = MockServer::start().await;
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "3"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "Location",
            format!("{}/b2c/products/?page=3", foreign.uri()),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    mount_listing(&server, &listing(4, 2), |_| 0, None).await;

    let failed = sync_with(&conn, &b2b_client(&server.uri(), 0, 5000), 4).await;

    let err = failed.expect_err("a redirect off the origin stops the run");
    assert!(err.to_string().contains(&foreign.uri()), "{err}");
    assert_eq!(
        stored_ids(&conn).await,
        vec![1, 2, 3, 4],
        "pages 1 and 2 are kept"
    );
}

on_every_backend!(
    a_page_asked_ahead_that_redirects_to_another_host_sends_it_nothing,
    pages_fetched_at_once_are_applied_in_order_as_a_sequential_sync_would,
    a_429_during_concurrent_fetching_still_brings_every_product,
    a_listing_whose_next_leaves_page_numbers_falls_back_and_completes,
    concurrency_one_asks_only_the_pages_next_links_give,
    a_failing_page_stops_the_run_with_the_pages_before_it_committed,
);

/// The cursor itself: pages answered out of order come out in order, and 429s from a
/// round of requests halve the window once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cursor_gives_pages_in_order_and_halves_its_window_once_per_round() {
    let server = MockServer::start().await;
    for n in 3..=5 {
        Mock::given(path("/b2c/products/"))
            .and(query_param("page", n.to_string()))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    mount_pages(&server, &listing(10, 1), |n| (11 - n as u64) * 10).await;
    let mut pages = b2b_client(&server.uri(), 3, 5000)
        .product_pages("b2c/products/", 100, None)
        .expect("cursor")
        .concurrency(4);

    let mut got = Vec::new();
    while let Some(page) = pages.next_page().await {
        let page = page.expect("a page");
        got.push((page.number, page.page.items.len()));
    }

    assert_eq!(got, (1..=10).map(|n| (n, 1)).collect::<Vec<_>>());
    assert_eq!(pages.slowdowns(), 1, "three 429s of one round halve once");
}
