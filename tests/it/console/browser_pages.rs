//! The console in headless Chromium, on a database the sandbox syncs filled with XSS
//! probes planted: every kind of page reached from the overview by its links loads
//! with status 200 and no problem (no console error, no failed load, no CSP violation,
//! no dialog: a probe that ran would open one), runs no script, shows the probes as
//! text, shows the database's figures, and fits a phone's width.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use entity::prelude::*;
use entity::product;
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};

use super::{Console, PROBE_ATTR, PROBE_SCRIPT, fill_hostile};
use crate::browser::{Browser, Shot, Visit};
use crate::helpers::{Backend, TestDb};

/// Pages of one kind visited at most (a kind: the first path segment, whether an id
/// follows, and the query's parameter names).
const PER_KIND: usize = 2;
/// Pages visited at most in all.
const MOST_PAGES: usize = 80;

/// What kind of page `href` is: `/runs/{}?` for `/runs/3`, `/offers?q,departement`.
fn kind(href: &str) -> String {
    let (path, query) = href.split_once('?').unwrap_or((href, ""));
    let mut segments = path.trim_start_matches('/').split('/');
    let first = segments.next().unwrap_or_default();
    let rest = if segments.next().is_some() { "/{}" } else { "" };
    let names: BTreeSet<&str> = query
        .split('&')
        .filter_map(|p| p.split('=').next())
        .filter(|n| !n.is_empty())
        .collect();
    format!(
        "/{first}{rest}?{}",
        names.into_iter().collect::<Vec<_>>().join(",")
    )
}

/// The same-site links of the page a person would follow (not the JSON API, not the
/// assets).
async fn links(page: &Visit) -> Vec<String> {
    page.eval::<Vec<String>>(
        "[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))\
         .filter(h => h.startsWith('/') && !h.startsWith('/api') && !h.startsWith('/assets'))",
    )
    .await
}

/// Nothing on the page a probe could have made: no script element, no injected
/// image, no element with an inline event handler.
async fn assert_inert(page: &Visit) {
    let scripts: usize = page.count("script").await;
    assert_eq!(scripts, 0, "{}: the console sends no script", page.url);
    let injected: usize = page
        .count("img[src='x'], [onerror], [onload], [onclick]")
        .await;
    assert_eq!(injected, 0, "{}: an element made from a probe", page.url);
}

/// A browser, and the console on a fresh SQLite database the sandbox syncs filled,
/// probes planted; `None` (the test skipped) without Chromium outside CI.
async fn browser_and_console() -> Option<(Browser, TestDb, Console)> {
    let browser = Browser::start().await?;
    let db = TestDb::create(Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    fill_hostile(&db).await;
    let console = Console::start(&db).await;
    Some((browser, db, console))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_loads_clean_in_a_browser() {
    let Some((browser, _db, console)) = browser_and_console().await else {
        return;
    };

    let mut seen_kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut visited: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = VecDeque::from(["/".to_owned()]);
    while let Some(href) = queue.pop_front() {
        if visited.len() >= MOST_PAGES || !visited.insert(href.clone()) {
            continue;
        }
        let page = browser.visit(&format!("{}{href}", console.base)).await;
        assert_eq!(page.status, 200, "{href} (linked from a page)");
        assert!(page.title.ends_with("· sagasync"), "{href}: {}", page.title);
        page.assert_clean().await;
        assert_inert(&page).await;
        for link in links(&page).await {
            let seen = seen_kinds.entry(kind(&link)).or_default();
            if *seen < PER_KIND && !visited.contains(&link) {
                *seen += 1;
                queue.push_back(link);
            }
        }
    }
    for section in [
        "/",
        "/runs",
        "/products",
        "/categories",
        "/offers",
        "/cerema",
    ] {
        assert!(
            visited.contains(section),
            "{section} is linked: {visited:?}"
        );
    }
    assert!(
        visited.len() >= 15,
        "the pages link to each other: {visited:?}"
    );
    console.shutdown().await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_show_as_text_and_figures_as_stored() {
    let Some((browser, db, console)) = browser_and_console().await else {
        return;
    };
    let conn = db.open().await;

    // The overview's cards are the database's counts.
    let overview = browser.visit(&format!("{}/", console.base)).await;
    let products = Product::find().count(&conn).await.expect("a count");
    let offers = JobOffer::find().count(&conn).await.expect("a count");
    let card = |n: u64| sagasync::console::layout::count(n);
    assert_eq!(overview.text("[data-table=products]").await, card(products));
    assert_eq!(overview.text("[data-table=job_offers]").await, card(offers));
    // The planted error message is on the overview, as text.
    let errors = overview.text("#recent-errors").await;
    assert!(errors.contains(PROBE_ATTR), "{errors}");
    overview.assert_clean().await;

    // The probed product: its title and brand are text on its page.
    let first = Product::find()
        .order_by_asc(product::Column::Id)
        .one(&conn)
        .await
        .expect("a query")
        .expect("a product");
    let page = browser
        .visit(&format!("{}/products/{}", console.base, first.id))
        .await;
    assert_eq!(page.status, 200);
    let text = page.text("main").await;
    assert!(text.contains(PROBE_SCRIPT), "{text}");
    assert!(text.contains(PROBE_ATTR), "{text}");
    page.assert_clean().await;
    assert_inert(&page).await;

    // A probe typed into a search box comes back as text too.
    let search = browser.visit(&format!("{}/products", console.base)).await;
    search.fill("input[name=search]", PROBE_ATTR).await;
    let found = search.submit("form.filters").await;
    assert_eq!(found.status, 200);
    let value: String = found
        .eval("document.querySelector('input[name=search]').value")
        .await;
    assert_eq!(value, PROBE_ATTR);
    found.assert_clean().await;
    assert_inert(&found).await;
    console.shutdown().await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_a_phone() {
    let Some((browser, _db, console)) = browser_and_console().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    for path in [
        "/",
        "/runs",
        "/products",
        "/offers",
        "/cerema",
        "/categories",
    ] {
        let page = browser.visit(&format!("{}{path}", console.base)).await;
        let png = page
            .screenshot(dir.path().join("phone.png"), Shot::PHONE)
            .await;
        assert!(!png.is_empty());
        let (page_width, view_width): (f64, f64) = page
            .eval("[document.documentElement.scrollWidth, window.innerWidth]")
            .await;
        assert!(
            page_width <= view_width + 1.0,
            "{path} is {page_width} px wide on a {view_width} px phone: tables must scroll in their box"
        );
        page.assert_clean().await;
    }
    console.shutdown().await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_match_form_scores_as_match_skills_does() {
    let Some((browser, db, console)) = browser_and_console().await else {
        return;
    };
    // The job with the most offers, two of the skills it asks for most, and one it
    // does not ask for.
    let jobs = console.json("/api/rome?limit=1").await;
    let rome = jobs["items"][0]["rome_code"]
        .as_str()
        .expect("a ROME code")
        .to_owned();
    let profile = console.json(&format!("/api/job_details/{rome}")).await;
    let asked: Vec<String> = profile["skills"]
        .as_array()
        .expect("skills")
        .iter()
        .take(2)
        .filter_map(|s| s["libelle"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(asked.len(), 2, "{profile}");
    let skills = format!("{}\n{}\njonglage", asked[0], asked[1]);

    let form = browser.visit(&format!("{}/match", console.base)).await;
    form.fill("input[name=rome]", &rome).await;
    form.fill("textarea[name=skills]", &skills).await;
    let result = form.submit("form[action='/match']").await;
    assert_eq!(result.status, 200);
    let score: f64 = result
        .eval("Number(document.querySelector('#match-score').dataset.score)")
        .await;
    result.assert_clean().await;

    let cli = crate::inspect::json(
        &db,
        &[
            "match-skills",
            "--rome",
            &rome,
            "--skills",
            &skills.replace('\n', ", "),
        ],
    );
    let expected = cli["match_score"].as_f64().expect("a score");
    assert!(
        (score - expected).abs() < 1e-9,
        "the form says {score}, match-skills {expected}"
    );
    assert!(expected > 0.0, "two asked skills match: {cli}");
    console.shutdown().await;
    browser.close().await;
}

/// Writes the README's screenshots into `SAGASYNC_SCREENSHOTS` (a directory), from a
/// database the sandbox syncs filled: `scripts/screenshots.sh` runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes the README's screenshots: scripts/screenshots.sh"]
async fn screenshots() {
    let dir = std::path::PathBuf::from(
        std::env::var("SAGASYNC_SCREENSHOTS").expect("SAGASYNC_SCREENSHOTS names a directory"),
    );
    std::fs::create_dir_all(&dir).expect("the screenshots' directory");
    let browser = Browser::start().await.expect("Chromium");
    let db = TestDb::create(Backend::Sqlite)
        .await
        .expect("SQLite is always there");
    crate::inspect::fill_with(&db, 2_000);
    let console = Console::start(&db).await;
    let jobs = console.json("/api/rome?limit=1").await;
    let rome = jobs["items"][0]["rome_code"]
        .as_str()
        .expect("a ROME code")
        .to_owned();
    let profile = console.json(&format!("/api/job_details/{rome}")).await;
    let skill = |i: usize| {
        profile["skills"][i]["libelle"]
            .as_str()
            .unwrap_or("accueil")
            .to_owned()
    };
    let skills = format!("{}\n{}\nanglais", skill(0), skill(2));
    let matched = format!(
        "/match?rome={rome}&skills={}",
        url::form_urlencoded::byte_serialize(skills.as_bytes()).collect::<String>()
    );
    let wide = Shot {
        width: 1280,
        height: 900,
        full_page: false,
    };
    for (name, path, shot) in [
        ("overview.png", "/", wide),
        (
            "offers.png",
            "/offers#trends",
            Shot {
                height: 1100,
                ..wide
            },
        ),
        ("match.png", matched.as_str(), wide),
        (
            "overview-phone.png",
            "/",
            Shot {
                full_page: false,
                ..Shot::PHONE
            },
        ),
    ] {
        let page = browser.visit(&format!("{}{path}", console.base)).await;
        page.assert_clean().await;
        page.screenshot(dir.join(name), shot).await;
    }
    console.shutdown().await;
    browser.close().await;
}
