//! The harness can fail: each kind of problem a page can have, served by a tiny axum
//! app on a loopback port, shows up in the visit; a clean page is clean.

use std::panic::AssertUnwindSafe;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use futures::FutureExt;

use super::{Browser, Level, Origin, Problem, Shot, Visit};

/// Serves `app` on a random loopback port; its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the test server") });
    base
}

/// A page titled `title` with `body`.
fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><link rel=\"icon\" href=\"data:,\"></head><body>{body}</body></html>"
    ))
}

/// Serves `body` at `/` and visits it; `None` when the test is skipped.
async fn visit_body(body: &'static str) -> Option<(Browser, Visit)> {
    let browser = Browser::start().await?;
    let base = serve(Router::new().route("/", get(move || async move { page("T", body) }))).await;
    let visit = browser.visit(&format!("{base}/")).await;
    Some((browser, visit))
}

fn find<'a>(problems: &'a [Problem], origin: &Origin, needle: &str) -> Option<&'a Problem> {
    problems
        .iter()
        .find(|p| &p.origin == origin && p.text.contains(needle))
}

#[tokio::test]
async fn a_clean_page_is_clean_and_readable() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let body = "<h1>Hello</h1><ul><li>one</li><li>two</li></ul>";
    let base =
        serve(Router::new().route("/", get(move || async move { page("Clean", body) }))).await;

    let visit = browser.visit(&format!("{base}/")).await;

    assert_eq!(visit.status, 200);
    assert_eq!(visit.title, "Clean");
    assert_eq!(visit.url, format!("{base}/"));
    assert_eq!(visit.text("h1").await, "Hello");
    assert_eq!(visit.texts("li").await, ["one", "two"]);
    assert_eq!(visit.count("li").await, 2);
    assert_eq!(visit.eval::<i64>("1 + 2").await, 3);
    assert_eq!(
        visit.page().url().await.ok().flatten(),
        Some(format!("{base}/"))
    );
    visit.assert_clean().await;
    browser.close().await;
}

#[tokio::test]
async fn console_errors_and_warnings_are_problems() {
    let body = "<script>console.error('boom', 42); console.warn('careful')</script>";
    let Some((_browser, visit)) = visit_body(body).await else {
        return;
    };

    let problems = visit.problems().await;

    let error = find(&problems, &Origin::Console, "boom 42").expect("the console error");
    assert_eq!(error.level, Level::Error);
    let warning = find(&problems, &Origin::Console, "careful").expect("the console warning");
    assert_eq!(warning.level, Level::Warning);
    assert_eq!(problems.len(), 2, "each reported once: {problems:#?}");
    let failure = AssertUnwindSafe(visit.assert_clean())
        .catch_unwind()
        .await
        .expect_err("a page with problems is not clean");
    let message = failure.downcast_ref::<String>().expect("a panic message");
    assert!(message.contains("2 problem(s)"), "{message}");
    assert!(message.contains("Error console: boom 42"), "{message}");
    assert!(message.contains("Warning console: careful"), "{message}");
}

#[tokio::test]
async fn an_uncaught_exception_is_a_problem() {
    let body = "<script>throw new Error('kaboom')</script>";
    let Some((_browser, visit)) = visit_body(body).await else {
        return;
    };

    let problems = visit.problems().await;

    assert!(
        find(&problems, &Origin::Exception, "kaboom").is_some(),
        "{problems:#?}"
    );
}

#[tokio::test]
async fn a_missing_image_is_a_problem() {
    let body = "<img src=\"/missing.png\" alt=\"\">";
    let Some((_browser, visit)) = visit_body(body).await else {
        return;
    };

    let problems = visit.problems().await;

    let failed = find(&problems, &Origin::Log("network".into()), "404").expect("the failed load");
    assert_eq!(failed.level, Level::Error);
    assert!(
        failed
            .url
            .as_deref()
            .unwrap_or_default()
            .ends_with("/missing.png")
    );
}

#[tokio::test]
async fn a_csp_violation_is_a_problem() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let strict = || async {
        let body = "<p>strict</p><script>document.title = 'ran'</script>";
        (
            [(header::CONTENT_SECURITY_POLICY, "script-src 'self'")],
            page("Strict", body),
        )
    };
    let base = serve(Router::new().route("/", get(strict))).await;

    let visit = browser.visit(&format!("{base}/")).await;

    assert_eq!(visit.title, "Strict", "the inline script must not run");
    let problems = visit.problems().await;
    // Reported by the Log domain (source `security`), not by Runtime.
    let violation = find(
        &problems,
        &Origin::Log("security".into()),
        "Content Security Policy",
    );
    assert_eq!(
        violation.map(|p| p.level),
        Some(Level::Error),
        "{problems:#?}"
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
    // The harness's own evaluation is not the page's script: the CSP does not stop it.
    assert_eq!(
        visit
            .eval::<String>("document.querySelector('p').textContent")
            .await,
        "strict"
    );
}

#[tokio::test]
async fn an_alert_is_recorded_and_dismissed() {
    let body = "<script>alert('xss')</script><p id=\"after\">after</p>";
    let Some((_browser, visit)) = visit_body(body).await else {
        return;
    };

    let problems = visit.problems().await;

    assert!(
        find(&problems, &Origin::Dialog("alert".into()), "xss").is_some(),
        "{problems:#?}"
    );
    assert_eq!(
        visit.text("#after").await,
        "after",
        "the page went on loading"
    );
}

#[tokio::test]
async fn a_missing_document_gives_404_and_only_its_own_problems() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let body = "<link rel=\"stylesheet\" href=\"/missing.css\"><h1>Not found</h1>";
    let missing = move || async move { (StatusCode::NOT_FOUND, page("Not found", body)) };
    let base = serve(Router::new().route("/gone", get(missing))).await;

    let gone = browser.visit(&format!("{base}/gone")).await;
    let empty = browser.visit(&format!("{base}/nowhere")).await;

    assert_eq!(
        (gone.status, gone.url.clone()),
        (404, format!("{base}/gone"))
    );
    assert_eq!(gone.title, "Not found");
    // The document's own 404 is its status, not a problem; its stylesheet's 404 is one.
    let problems = gone.problems().await;
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(find(&problems, &Origin::Log("network".into()), "404").is_some());
    assert!(
        problems[0]
            .url
            .as_deref()
            .unwrap_or_default()
            .ends_with("/missing.css")
    );
    // Without a body Chromium shows an error page of its own; the URL is still the one asked.
    assert_eq!(
        (empty.status, empty.url.clone()),
        (404, format!("{base}/nowhere"))
    );
    empty.assert_clean().await;
}

#[tokio::test]
async fn a_filled_form_submits_and_a_link_clicks_through() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let form = "<form method=\"post\" action=\"/greet\"><input name=\"name\" required>\
                <button>Send</button></form>";
    let greet = |axum::Form(f): axum::Form<std::collections::HashMap<String, String>>| async move {
        let name = f.get("name").cloned().unwrap_or_default();
        page(
            "Greeting",
            &format!("<h1 id=\"greeting\">Hello, {name}</h1><a href=\"/\">again</a>"),
        )
        .into_response()
    };
    let app = Router::new()
        .route("/", get(move || async move { page("Form", form) }))
        .route("/greet", post(greet));
    let base = serve(app).await;
    let visit = browser.visit(&format!("{base}/")).await;

    visit.fill("input[name=name]", "Ada").await;
    let greeted = visit.submit("form").await;

    assert_eq!(greeted.status, 200);
    assert_eq!(greeted.url, format!("{base}/greet"));
    assert_eq!(greeted.text("#greeting").await, "Hello, Ada");
    let back = greeted.click("a").await;
    assert_eq!(back.title, "Form");
    back.assert_clean().await;
}

#[tokio::test]
async fn a_screenshot_is_a_png_of_the_asked_width() {
    let body = "<h1>Shot</h1>";
    let Some((_browser, visit)) = visit_body(body).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");

    for (name, shot) in [("phone.png", Shot::PHONE), ("desktop.png", Shot::DESKTOP)] {
        let path = dir.path().join(name);
        visit.screenshot(&path, shot).await;

        let png = std::fs::read(&path).expect("the screenshot");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
        let width = u32::from_be_bytes(png[16..20].try_into().expect("an IHDR width"));
        assert_eq!(width, shot.width, "{name}");
    }
}
