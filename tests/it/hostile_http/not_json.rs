//! A 200 that is not the page expected (an HTML maintenance page, a JSON body cut short,
//! JSON of another shape) is retried like a 5xx; when the retries are spent, the error
//! quotes what came.

use std::time::Duration;

use sagasync::b2b::B2bError;
use sagasync::cerema::CeremaKind;
use sagasync::france_travail::OfferQuery;
use sagasync::http::FetchError;
use sagasync::sandbox::{Faults, Sandbox, SandboxConfig};
use sagasync::sync::products::{ProductSyncOptions, sync_products};
use sagasync::sync::{Interrupt, no_observer};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{b2b, fast, france_travail};
use crate::helpers::{Backend, TestDb, product_json, run_on};

const MAINTENANCE: &str = "<!DOCTYPE html><html><head><title>Maintenance</title></head>\
                           <body><h1>Service temporairement indisponible</h1></body></html>";

fn html() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(MAINTENANCE, "text/html; charset=utf-8")
}

/// `body` as JSON cut in half, status 200 (a proxy that dropped the end).
fn truncated(body: &Value) -> ResponseTemplate {
    let text = body.to_string();
    ResponseTemplate::new(200).set_body_raw(&text.as_bytes()[..text.len() / 2], "application/json")
}

fn page_two() -> Value {
    json!({"count": 2, "next": null, "results": [product_json(2, "Q", "2", "S2", None)]})
}

/// Page 1 (product 1, `next` to page 2); page 2 answered `first` `times` times, then
/// properly.
async fn mount_two_pages(server: &MockServer, first: ResponseTemplate, times: u64) {
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "count": 2, "next": format!("{}/b2c/products/?page=2", server.uri()),
            "results": [product_json(1, "P", "1", "S1", None)]})))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "2"))
        .respond_with(first)
        .up_to_n_times(times)
        .expect(times)
        .mount(server)
        .await;
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_two()))
        .mount(server)
        .await;
}

fn opts(page_size: u32) -> ProductSyncOptions {
    ProductSyncOptions {
        page_size,
        ..ProductSyncOptions::default()
    }
}

async fn an_html_page_then_json_is_retried_and_the_run_completes(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_two_pages(&server, html(), 2).await;

    let report = sync_products(
        &conn,
        &b2b(&server.uri(), 3),
        &opts(100),
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("completes");

    assert_eq!((report.stats.total, report.stats.created), (2, 2));
    server.verify().await;
}

#[tokio::test]
async fn an_html_page_then_json_is_retried_and_the_run_completes_on_sqlite() {
    run_on(
        Backend::Sqlite,
        an_html_page_then_json_is_retried_and_the_run_completes,
    )
    .await;
}

#[tokio::test]
async fn a_cut_or_misshapen_page_then_json_is_retried() {
    let misshapen = ResponseTemplate::new(200)
        .set_body_json(json!({"count": 2, "next": null, "results": "temporarily empty"}));
    for (what, first) in [("cut", truncated(&page_two())), ("misshapen", misshapen)] {
        let server = MockServer::start().await;
        mount_two_pages(&server, first, 1).await;
        let client = b2b(&server.uri(), 2);
        let mut pages = client
            .product_pages("b2c/products/", 100, None)
            .expect("cursor");

        let mut items = 0;
        while let Some(page) = pages.next_page().await {
            items += page
                .unwrap_or_else(|e| panic!("{what}: {e}"))
                .page
                .items
                .len();
        }

        assert_eq!(items, 2, "{what}");
        server.verify().await;
    }
}

#[tokio::test]
async fn html_forever_fails_after_the_retries_quoting_the_page() {
    let server = MockServer::start().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(html())
        .expect(3)
        .mount(&server)
        .await;

    let err = b2b(&server.uri(), 2)
        .categories("b2c/categories/")
        .await
        .expect_err("still HTML");

    assert!(
        matches!(err, B2bError::Fetch(FetchError::Undecodable { .. })),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("<!DOCTYPE html><html><head><title>Maintenance"),
        "{msg}"
    );
    server.verify().await;
}

#[tokio::test]
async fn a_misshapen_page_forever_ends_as_a_shape_error_naming_the_page() {
    let server = MockServer::start().await;
    let bad = ResponseTemplate::new(200)
        .set_body_json(json!({"count": 2, "next": null, "results": "temporarily empty"}));
    mount_two_pages(&server, bad, 3).await;
    let client = b2b(&server.uri(), 2);
    let mut pages = client
        .product_pages("b2c/products/", 100, None)
        .expect("cursor");

    let first = pages.next_page().await.expect("page 1");
    let second = pages.next_page().await.expect("page 2");

    assert!(first.is_ok());
    match second {
        Err(B2bError::Shape { url, reason }) => {
            assert!(url.ends_with("page=2"), "{url}");
            assert!(reason.contains("results"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    server.verify().await;
}

#[tokio::test]
async fn a_cerema_maintenance_page_is_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/api/utilisateurs/"))
        .respond_with(html())
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/utilisateurs/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "count": 1, "next": null, "results": [{"id_user": 1}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = super::cerema(&server.uri(), 2);
    let first = client.first_page(CeremaKind::Users).expect("a URL");

    let page = client.page(&first).await.expect("retried");

    assert_eq!(page.results.len(), 1);
    server.verify().await;
}

#[tokio::test]
async fn a_france_travail_token_or_page_cut_short_is_asked_again() {
    let server = MockServer::start().await;
    let token = json!({"access_token": "tok", "token_type": "Bearer", "expires_in": 1499});
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(html())
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&token))
        .expect(1)
        .mount(&server)
        .await;
    let offers = json!({"resultats": [{"id": "O1", "intitule": "Cuisinier"}]});
    Mock::given(path("/v2/offres/search"))
        .respond_with(truncated(&offers).insert_header("Content-Range", "offres 0-0/1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/offres/search"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Range", "offres 0-0/1")
                .set_body_json(&offers),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = france_travail(&server.uri(), 2);

    let page = client
        .search(&OfferQuery::default(), 0, 149)
        .await
        .expect("retried");

    assert_eq!((page.offers.len(), page.total), (1, Some(1)));
    server.verify().await;
}

#[tokio::test]
async fn a_sync_through_20_percent_maintenance_pages_gets_every_product() {
    run_on(Backend::Sqlite, |db| async move {
        let conn = db.open().await;
        let key = "b2c_1_hostile";
        let config = SandboxConfig {
            seed: 7,
            categories: 20,
            products: 300,
            api_key: key.into(),
            faults: Faults {
                html: 0.1,
                truncated: 0.1,
                ..Faults::default()
            },
            ..SandboxConfig::default()
        };
        let sb = Sandbox::start(([127, 0, 0, 1], 0).into(), config)
            .await
            .expect("the sandbox starts");
        let settings = sagasync::b2b::B2bSettings {
            base_url: sb.b2b_url(),
            timeout: Duration::from_secs(5),
            max_retries: 4,
        };
        let secret = sagasync::secret::Secret::new(key);
        let key = sagasync::keys::ActiveKey {
            id: None,
            name: "sandbox".into(),
            secret,
        };
        let client = sagasync::b2b::B2bClient::new(&settings, key)
            .expect("client")
            .with_http_options(fast());

        let report = sync_products(&conn, &client, &opts(20), no_observer(), &Interrupt::new())
            .await
            .expect("completes");

        assert_eq!((report.stats.total, report.stats.created), (300, 300));
        let pages = 300 / 20;
        assert!(
            sb.requests() > pages + 2,
            "faults forced retries: {} requests for {pages} pages",
            sb.requests()
        );
    })
    .await;
}
