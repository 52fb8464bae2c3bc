//! The B2B client against a fake API: retries, typed errors, `next` links.

use std::time::{Duration, Instant};

use sagasync::b2b::B2bError;
use sagasync::http::FetchError;
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TEST_API_KEY, b2b_client, mount_product_pages, product_json};

async fn all_pages(client: &sagasync::b2b::B2bClient) -> Result<Vec<usize>, B2bError> {
    let mut pages = client
        .product_pages("b2c/products/", 100, None)
        .expect("cursor");
    let mut sizes = Vec::new();
    while let Some(page) = pages.next_page().await {
        sizes.push(page?.page.items.len());
    }
    Ok(sizes)
}

#[tokio::test]
async fn three_pages_are_followed_through_absolute_next_links() {
    let server = MockServer::start().await;
    let p = |id| product_json(id, "P", "1.00", &format!("S{id}"), None);
    mount_product_pages(
        &server,
        &[vec![p(1), p(2)], vec![p(3)], vec![p(4), p(5), p(6)]],
    )
    .await;

    let sizes = all_pages(&b2b_client(&server.uri(), 0, 2000))
        .await
        .expect("pages");

    assert_eq!(sizes, [2, 1, 3]);
}

#[tokio::test]
async fn a_site_id_and_page_size_go_in_the_first_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/b2c/products/"))
        .and(query_param("page", "1"))
        .and(query_param("page_size", "25"))
        .and(query_param("site_id", "4"))
        .and(header("X-API-Key", TEST_API_KEY))
        .and(header("Accept", "application/json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([product_json(1, "P", "1", "S", None)])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = b2b_client(&server.uri(), 0, 2000);

    let mut pages = client
        .product_pages("b2c/products/", 25, Some(4))
        .expect("cursor");
    let first = pages.next_page().await.expect("a page").expect("ok");

    assert_eq!(first.page.items.len(), 1, "a bare list is a single page");
    assert!(pages.next_page().await.is_none());
}

#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/b2c/products/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "count": 2, "next": "http://127.0.0.2:9/b2c/products/?page=2", "results": [product_json(1, "P", "1", "S", None)]
        })))
        .mount(&server)
        .await;

    let err = all_pages(&b2b_client(&server.uri(), 0, 2000))
        .await
        .expect_err("refused");

    assert!(matches!(err, B2bError::ForeignNext { .. }), "{err}");
    assert!(err.to_string().contains("127.0.0.2"));
}

#[tokio::test]
async fn a_next_link_loop_stops_with_an_error() {
    let server = MockServer::start().await;
    let page = |n: u32, next: u32| {
        ResponseTemplate::new(200).set_body_json(json!({
            "count": 9, "next": format!("{}/b2c/products/?page={next}&page_size=100", server.uri()),
            "results": [product_json(n.into(), "P", "1", "S", None)]
        }))
    };
    Mock::given(query_param("page", "1"))
        .respond_with(page(1, 2))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(query_param("page", "2"))
        .respond_with(page(2, 1))
        .expect(1)
        .mount(&server)
        .await;

    let err = all_pages(&b2b_client(&server.uri(), 0, 2000))
        .await
        .expect_err("loop");

    assert!(matches!(err, B2bError::NextLoop { .. }), "{err}");
}

#[tokio::test]
async fn a_server_error_is_retried_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1, "name": "A"}])))
        .expect(1)
        .mount(&server)
        .await;

    let items = b2b_client(&server.uri(), 3, 2000)
        .categories("b2c/categories/")
        .await
        .expect("retried");

    assert_eq!(items.len(), 1);
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let server = MockServer::start().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"categories": []})))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();

    let items = b2b_client(&server.uri(), 3, 2000)
        .categories("b2c/categories/")
        .await
        .expect("retried");

    assert!(items.is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retries_stop_at_the_limit_and_4xx_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(path("/b2c/products/"))
        .respond_with(ResponseTemplate::new(404).set_body_string("{\"detail\": \"Not found.\"}"))
        .expect(1)
        .mount(&server)
        .await;
    let client = b2b_client(&server.uri(), 2, 2000);

    let err = client
        .categories("b2c/categories/")
        .await
        .expect_err("gives up");
    assert!(
        matches!(err, B2bError::Fetch(FetchError::Status { status: 503, .. })),
        "{err}"
    );

    let err = all_pages(&client).await.expect_err("404");
    assert!(
        err.to_string().contains("HTTP 404") && err.to_string().contains("Not found"),
        "{err}"
    );
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(3))
                .set_body_json(json!([])),
        )
        .expect(2)
        .mount(&server)
        .await;

    let err = b2b_client(&server.uri(), 1, 300)
        .categories("b2c/categories/")
        .await
        .expect_err("timeout");

    assert!(
        matches!(err, B2bError::Fetch(FetchError::Timeout { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn an_html_page_with_status_200_is_an_error_not_an_empty_list() {
    let server = MockServer::start().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<!DOCTYPE html><html><body>Maintenance</body></html>",
            "text/html",
        ))
        .mount(&server)
        .await;

    let err = b2b_client(&server.uri(), 0, 2000)
        .categories("b2c/categories/")
        .await
        .expect_err("html");

    assert!(
        matches!(err, B2bError::Fetch(FetchError::Undecodable { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("<!DOCTYPE html>"), "{err}");
}

#[tokio::test]
async fn a_refused_key_is_named_never_shown() {
    let server = MockServer::start().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"detail": "Clé API invalide."})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = b2b_client(&server.uri(), 3, 2000)
        .categories("b2c/categories/")
        .await
        .expect_err("403");

    let msg = err.to_string();
    assert!(
        msg.starts_with("the API rejected key B2B_API_KEY (403)"),
        "{msg}"
    );
    assert!(msg.contains("Clé API invalide"));
    assert!(!msg.contains(TEST_API_KEY));
}

#[tokio::test]
async fn an_unreachable_host_is_a_connection_error() {
    // Port 9 (discard) on loopback: nothing listens there.
    let err = b2b_client("http://127.0.0.1:9", 0, 2000)
        .categories("b2c/categories/")
        .await
        .expect_err("refused");

    assert!(
        matches!(err, B2bError::Fetch(FetchError::Connection { .. })),
        "{err}"
    );
}
