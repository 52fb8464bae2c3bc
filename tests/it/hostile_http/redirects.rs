//! Redirects: never to another origin (the credential would follow), followed on the
//! same origin, and a loop or a long chain is an error at once, not retried.

use std::time::{Duration, Instant};

use sagasync::b2b::B2bError;
use sagasync::cerema::{CeremaError, CeremaKind};
use sagasync::france_travail::FtError;
use sagasync::http::FetchError;
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{b2b, cerema, france_travail};
use crate::helpers::{TEST_API_KEY, product_json};

fn redirect(status: u16, location: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("Location", location)
}

/// A second server on another port of 127.0.0.1 that must never be asked anything.
async fn foreign() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(0)
        .named("the foreign origin")
        .mount(&server)
        .await;
    server
}

/// The error is the refused redirect and names where it pointed.
#[track_caller]
fn assert_foreign(e: &FetchError, target: &str) {
    assert!(
        matches!(e, FetchError::ForeignRedirect { target: t, .. } if t.starts_with(target)),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains(target) && msg.contains("another origin: not followed"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_b2b_302_or_307_to_another_port_is_not_followed_and_names_its_target() {
    let api = MockServer::start().await;
    let other = foreign().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(redirect(302, &format!("{}/b2c/categories/", other.uri())))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(path("/b2c/products/"))
        .respond_with(redirect(307, &format!("{}/b2c/products/", other.uri())))
        .expect(1)
        .mount(&api)
        .await;
    let client = b2b(&api.uri(), 3);

    let categories = client.categories("b2c/categories/").await;
    let mut pages = client
        .product_pages("b2c/products/", 100, None)
        .expect("cursor");
    let products = pages.next_page().await.expect("an answer");

    for result in [categories.map(|_| ()), products.map(|_| ())] {
        match result {
            Err(B2bError::Fetch(e)) => assert_foreign(&e, &other.uri()),
            other => panic!("{other:?}"),
        }
    }
    other.verify().await;
    api.verify().await;
}

#[tokio::test]
async fn a_cerema_redirect_to_another_port_keeps_the_token_home() {
    let api = MockServer::start().await;
    let other = foreign().await;
    Mock::given(path("/api/utilisateurs/"))
        .and(header(
            "Authorization",
            format!("Bearer {}", super::CEREMA_TOKEN).as_str(),
        ))
        .respond_with(redirect(302, &format!("{}/api/utilisateurs/", other.uri())))
        .expect(1)
        .mount(&api)
        .await;
    let client = cerema(&api.uri(), 3);
    let first = client.first_page(CeremaKind::Users).expect("a URL");

    let err = client.page(&first).await.expect_err("refused");

    match err {
        CeremaError::Fetch(e) => assert_foreign(&e, &other.uri()),
        other => panic!("{other}"),
    }
    other.verify().await;
}

#[tokio::test]
async fn the_france_travail_token_endpoint_does_not_redirect_the_secret() {
    let api = MockServer::start().await;
    let other = foreign().await;
    // A 307 would send the POST again, client secret and all.
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(redirect(307, &format!("{}/token", other.uri())))
        .expect(1)
        .mount(&api)
        .await;
    let client = france_travail(&api.uri(), 3);

    let err = client.authenticate().await.expect_err("refused");

    match err {
        FtError::Fetch(e) => assert_foreign(&e, &other.uri()),
        other => panic!("{other}"),
    }
    other.verify().await;
}

#[tokio::test]
async fn a_same_origin_redirect_is_followed_with_the_key() {
    let api = MockServer::start().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(redirect(301, "/v2/b2c/categories/"))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(path("/v2/b2c/categories/"))
        .and(header("X-API-Key", TEST_API_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1, "name": "A"}])))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(path("/b2c/products/"))
        .respond_with(redirect(307, &format!("{}/v2/b2c/products/", api.uri())))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(path("/v2/b2c/products/"))
        .and(header("X-API-Key", TEST_API_KEY))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([product_json(1, "P", "1", "S", None)])),
        )
        .expect(1)
        .mount(&api)
        .await;
    let client = b2b(&api.uri(), 0);

    let categories = client
        .categories("b2c/categories/")
        .await
        .expect("followed");
    let mut pages = client
        .product_pages("b2c/products/", 100, None)
        .expect("cursor");
    let page = pages.next_page().await.expect("a page").expect("followed");

    assert_eq!((categories.len(), page.page.items.len()), (1, 1));
}

#[tokio::test]
async fn a_redirect_loop_is_an_error_at_once_not_retried() {
    let api = MockServer::start().await;
    Mock::given(path("/b2c/categories/"))
        .respond_with(redirect(302, "/elsewhere/"))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(path("/elsewhere/"))
        .respond_with(redirect(302, "/b2c/categories/"))
        .expect(1)
        .mount(&api)
        .await;
    let started = Instant::now();

    let err = b2b(&api.uri(), 3)
        .categories("b2c/categories/")
        .await
        .expect_err("a loop");

    assert!(
        matches!(&err, B2bError::Fetch(FetchError::RedirectLoop { target, .. })
            if target.ends_with("/b2c/categories/")),
        "{err}"
    );
    assert!(err.to_string().contains("redirect loop"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "at once");
    api.verify().await;
}

#[tokio::test]
async fn a_long_chain_of_redirects_stops_after_five() {
    let api = MockServer::start().await;
    for hop in 0..10 {
        Mock::given(path(format!("/hop/{hop}/")))
            .respond_with(redirect(302, &format!("/hop/{}/", hop + 1)))
            .expect(u64::from(hop <= 5))
            .mount(&api)
            .await;
    }

    let err = b2b(&api.uri(), 3)
        .categories("hop/0/")
        .await
        .expect_err("too many");

    assert!(
        matches!(
            &err,
            B2bError::Fetch(FetchError::TooManyRedirects { limit: 5, .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("more than 5 redirects"), "{err}");
    api.verify().await;
}
