//! `sagasync serve`: real HTTP requests against the API on a random loopback port, over a
//! database the demo filled from the sandbox; every backend. Expected answers come from
//! the database itself.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};

use entity::prelude::*;
use entity::{job_offer, sync_run};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::console::Console;
use crate::helpers::{Backend, TestDb, run_on, sagasync, stderr};
use crate::inspect::offers::newest_first;
use crate::inspect::{OFFERS, PRODUCTS, fill};
use crate::on_every_backend;

/// The API on a random port (the console's fixture), answering JSON.
struct Api {
    server: Console,
}

impl Api {
    async fn start(db: &TestDb) -> Api {
        Api {
            server: Console::start(db).await,
        }
    }

    /// `GET path`: status and JSON body.
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .server
            .http
            .get(format!("{}{path}", self.server.base))
            .send()
            .await
            .expect("the server answers");
        Self::answer(path, r).await
    }

    /// `POST path` with `body`: status and JSON body.
    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let r = self
            .server
            .http
            .post(format!("{}{path}", self.server.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the server answers");
        Self::answer(path, r).await
    }

    async fn answer(path: &str, r: reqwest::Response) -> (u16, Value) {
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = r.text().await.expect("a body");
        assert!(
            ctype.starts_with("application/json"),
            "{path}: {status} answered {ctype:?}: {text}"
        );
        let v = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"));
        (status, v)
    }

    /// `GET path`, which must be a 200.
    async fn ok(&self, path: &str) -> Value {
        let (status, v) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {v}");
        v
    }

    /// `GET path`, which must be an error `status` whose message contains `says`.
    async fn error(&self, path: &str, status: u16, says: &str) {
        let (got, v) = self.get(path).await;
        assert_error(path, got, &v, status, says);
    }

    async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

#[track_caller]
fn assert_error(what: &str, got: u16, v: &Value, status: u16, says: &str) {
    assert_eq!(got, status, "{what}: {v}");
    assert_eq!(v["status"], status, "{what}: {v}");
    let msg = v["error"].as_str().unwrap_or_default();
    assert!(msg.contains(says), "{what}: {msg:?} should say {says:?}");
}

/// The `id` of each job of a search answer.
fn job_ids(v: &Value) -> Vec<String> {
    v["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("jobs: {v}"))
        .iter()
        .map(|j| j["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn is_paris(commune: Option<&str>) -> bool {
    commune.is_some_and(|c| c == "75056" || ("75101"..="75120").contains(&c))
}

/// Pages through `path` (which takes `limit`/`offset`) and returns every item.
async fn every_item(api: &Api, path: &str, limit: u64) -> Vec<Value> {
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let page = api
            .ok(&format!("{path}?limit={limit}&offset={offset}"))
            .await;
        assert_eq!(page["limit"], limit, "{page}");
        assert_eq!(page["offset"], offset, "{page}");
        let items = page["items"].as_array().expect("items").clone();
        assert!(items.len() as u64 <= limit);
        all.extend(items);
        match page["next_offset"].as_u64() {
            Some(next) => {
                assert_eq!(next, offset + limit);
                offset = next;
            }
            None => return all,
        }
    }
}

async fn searches_answer_what_the_database_holds(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let offers = JobOffer::find().all(&conn).await.expect("offers");
    assert_eq!(offers.len() as u64, OFFERS);
    let api = Api::start(&db).await;

    let health = api.ok("/api/health").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["offers"], OFFERS);
    assert_eq!(health["products"], PRODUCTS);

    // Words, accents and case ignored; newest first.
    let expected = newest_first(&offers, |o| o.search_text.contains("developpeur"));
    assert!(expected.len() > 5, "the sandbox has developer offers");
    let found = api
        .ok("/api/search_jobs?q=D%C3%A9VELOPPEUR&max_results=5")
        .await;
    assert_eq!(job_ids(&found), expected[..5]);
    assert_eq!(found["count"], 5);
    assert_eq!(found["q"], "DéVELOPPEUR");
    let found = api
        .ok("/api/search_jobs?q=developpeur&max_results=100")
        .await;
    assert_eq!(job_ids(&found), expected[..expected.len().min(100)]);
    // max_results defaults to 20 and is capped at 100.
    let all = newest_first(&offers, |_| true);
    let default = api.ok("/api/search_jobs").await;
    assert_eq!(default["max_results"], 20);
    assert_eq!(job_ids(&default), all[..20]);
    let capped = api.ok("/api/search_jobs?max_results=100000").await;
    assert_eq!(capped["max_results"], 100);
    assert_eq!(job_ids(&capped), all[..100]);
    let none = api.ok("/api/search_jobs?q=zzzxqw").await;
    assert_eq!(none["count"], 0);
    assert_eq!(none["jobs"], json!([]));

    // location: a commune (5 characters), a département (2-3), a place name.
    let sample = offers
        .iter()
        .find(|o| o.commune.is_some() && o.departement.is_some() && o.lieu_libelle.is_some())
        .expect("an offer with a place");
    let commune = sample.commune.clone().unwrap_or_default();
    let by_commune = api
        .ok(&format!(
            "/api/search_jobs?location={commune}&max_results=100"
        ))
        .await;
    let expected = newest_first(&offers, |o| o.commune.as_deref() == Some(&commune));
    assert_eq!(job_ids(&by_commune), expected[..expected.len().min(100)]);
    let dep = sample.departement.clone().unwrap_or_default();
    let by_dep = api
        .ok(&format!("/api/search_jobs?location={dep}&max_results=100"))
        .await;
    let expected = newest_first(&offers, |o| o.departement.as_deref() == Some(&dep));
    assert_eq!(job_ids(&by_dep), expected[..expected.len().min(100)]);
    // A place name: every stored offer whose place holds the words, accents ignored.
    let lyon = newest_first(&offers, |o| {
        o.lieu_libelle
            .as_deref()
            .is_some_and(|l| sagasync::text::fold(l).contains("lyon"))
    });
    assert!(!lyon.is_empty(), "the sandbox has offers in Lyon");
    let by_name = api
        .ok("/api/search_jobs?location=LYON&max_results=100")
        .await;
    assert_eq!(job_ids(&by_name), lyon[..lyon.len().min(100)]);
    // "Paris" has 5 letters but is no INSEE code.
    let paris = newest_first(&offers, |o| {
        o.lieu_libelle
            .as_deref()
            .is_some_and(|l| sagasync::text::fold(l).contains("paris"))
    });
    assert!(!paris.is_empty(), "the sandbox has offers in Paris");
    let by_name = api
        .ok("/api/search_jobs?location=paris&max_results=100")
        .await;
    assert_eq!(job_ids(&by_name), paris[..paris.len().min(100)]);
    let nowhere = api.ok("/api/search_jobs?location=Atlantis").await;
    assert_eq!(nowhere["count"], 0);

    // Paris: the commune and its arrondissements only.
    let mut seen_outside = false;
    let mut seen_inside = false;
    for q in ["developpeur", "cuisinier", "vendeur"] {
        let expected = newest_first(&offers, |o| {
            o.search_text.contains(q) && is_paris(o.commune.as_deref())
        });
        seen_inside |= !expected.is_empty();
        seen_outside |= offers
            .iter()
            .any(|o| o.search_text.contains(q) && !is_paris(o.commune.as_deref()));
        let paris = api
            .ok(&format!("/api/paris_jobs/{q}?max_results=100"))
            .await;
        assert_eq!(job_ids(&paris), expected[..expected.len().min(100)], "{q}");
        assert_eq!(paris["location"], "Paris");
    }
    assert!(seen_inside && seen_outside, "Paris offers are told apart");

    api.shutdown().await;
}

async fn skills_routes_and_errors(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let api = Api::start(&db).await;
    // The most common job among the stored offers.
    let offers = JobOffer::find().all(&conn).await.expect("offers");
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for o in &offers {
        if let Some(r) = &o.rome_code {
            *counts.entry(r.clone()).or_default() += 1;
        }
    }
    let (code, n) = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(c, n)| (c.clone(), *n))
        .expect("a job");

    let profile = api
        .ok(&format!("/api/job_details/{}", code.to_lowercase()))
        .await;
    assert_eq!(profile["rome_code"], code.as_str());
    assert_eq!(profile["offers"], n);
    let skills = profile["skills"].as_array().expect("skills");
    assert!(!skills.is_empty(), "{profile}");
    let top = skills[0]["libelle"].as_str().expect("a label").to_owned();
    api.error("/api/job_details/Z9999", 404, "Z9999").await;
    api.error("/api/job_details/chef", 400, "rome_code").await;

    // The most requested skill, typed without accents and in capitals, matches.
    let typed = sagasync::text::fold(&top).to_uppercase();
    let (status, m) = api
        .post(
            "/api/match_skills",
            json!({ "rome_code": code, "skills": [typed, "pilotage d'avion"] }).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["rome_code"], code.as_str());
    let score = m["match_score"].as_f64().expect("a score");
    assert!(score > 0.0 && score < 1.0, "{m}");
    assert_eq!(m["matching_skills"][0]["skill"], typed.as_str(), "{m}");
    assert_eq!(m["matching_skills"][0]["matches"], top.as_str(), "{m}");
    assert_eq!(
        m["unmatched_skills"],
        json!(["pilotage d'avion"]),
        "a skill that matched nothing is in the answer: {m}"
    );
    // The CLI gives the same answer.
    let cli = crate::inspect::cli(
        &db,
        &[
            "match-skills",
            "--rome",
            &code,
            "--skills",
            &format!("{typed}, pilotage d'avion"),
            "--format",
            "json",
        ],
    );
    crate::helpers::assert_ok(&cli);
    let cli: Value = serde_json::from_slice(&cli.stdout).expect("JSON");
    assert_eq!(cli, m, "the API and the CLI agree");

    for (body, status, says) in [
        (
            json!({ "rome_code": "Z9999", "skills": ["x"] }).to_string(),
            404,
            "Z9999",
        ),
        (json!({ "skills": ["x"] }).to_string(), 400, "rome_code"),
        (json!({ "rome_code": code }).to_string(), 400, "skills"),
        (
            json!({ "rome_code": code, "skills": [1] }).to_string(),
            400,
            "skills",
        ),
        ("{not json".to_owned(), 400, "not JSON"),
    ] {
        let (got, v) = api.post("/api/match_skills", body.clone()).await;
        assert_error(&body, got, &v, status, says);
    }
    let (got, v) = api
        .post("/api/match_skills", format!("\"{}\"", "a".repeat(70_000)))
        .await;
    assert_eq!(got, 413, "{v}");
    assert_eq!(v["status"], 413);
    let (got, v) = api.post("/api/health", "{}").await;
    assert_error("POST /api/health", got, &v, 405, "read-only");
    api.error("/api/match_skills", 405, "read-only").await;
    api.error("/api/nothing/here", 404, "no such route").await;

    api.shutdown().await;
}

async fn paginated_views_page_through_everything(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let api = Api::start(&db).await;

    let products = every_item(&api, "/api/products", 100).await;
    let ids: BTreeSet<i64> = products.iter().filter_map(|p| p["id"].as_i64()).collect();
    assert_eq!(ids.len() as u64, PRODUCTS, "each product once");
    assert_eq!(products.len() as u64, PRODUCTS);

    let categories = every_item(&api, "/api/categories", 7).await;
    let stored = Category::find().count(&conn).await.expect("count");
    assert_eq!(categories.len() as u64, stored);

    let runs = every_item(&api, "/api/runs", 2).await;
    let stored = SyncRun::find().count(&conn).await.expect("count");
    assert_eq!(runs.len() as u64, stored);
    let ids: BTreeSet<i64> = runs.iter().filter_map(|r| r["run_id"].as_i64()).collect();
    assert_eq!(ids.len() as u64, stored, "no run twice across pages");

    let cerema = api.ok("/api/runs?source=CEREMA&limit=100").await;
    let stored = SyncRun::find()
        .filter(sync_run::Column::Source.eq(Source::Cerema))
        .count(&conn)
        .await
        .expect("count");
    let items = cerema["items"].as_array().expect("items");
    assert_eq!(items.len() as u64, stored);
    assert!(items.iter().all(|r| r["source"] == "cerema"), "{cerema}");
    assert!(cerema.get("next_offset").is_none(), "{cerema}");

    let available = api
        .ok("/api/products?available=true&limit=100&status=synced")
        .await;
    let items = available["items"].as_array().expect("items");
    assert!(!items.is_empty(), "{available}");
    assert!(
        items
            .iter()
            .all(|p| p["is_available"] == true && p["sync_status"] == "synced"),
        "{available}"
    );

    for (path, says) in [
        ("/api/runs?source=ftp", "`source` must be one of"),
        ("/api/runs?status=done", "`status` must be one of"),
        ("/api/products?limit=0", "`limit`"),
        ("/api/products?limit=ten", "`limit`"),
        ("/api/products?offset=-1", "`offset`"),
        ("/api/products?available=maybe", "`available`"),
        ("/api/categories?page=2", "unknown parameter `page`"),
        ("/api/search_jobs?max_results=0", "`max_results`"),
        ("/api/search_jobs?query=x", "unknown parameter `query`"),
    ] {
        api.error(path, 400, says).await;
    }
    api.error("/api/products?category=no-such-slug", 404, "no-such-slug")
        .await;

    // Nothing the API did wrote to the database.
    let offers = JobOffer::find()
        .filter(job_offer::Column::Id.is_not_null())
        .count(&conn)
        .await
        .expect("count");
    assert_eq!(offers, OFFERS);
    api.shutdown().await;
}

on_every_backend!(
    searches_answer_what_the_database_holds,
    skills_routes_and_errors,
    paginated_views_page_through_everything,
);

/// `sagasync serve` itself: prints where it listens, answers, stops on Ctrl-C with 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_serves_until_ctrl_c() {
    run_on(Backend::Sqlite, |db| async move {
        fill(&db);
        let mut child = sagasync(&db)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .expect("join")
        .expect("a line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("an address in {line:?}"))
            .to_owned();
        assert!(url.ends_with('/'), "the console's address first: {line}");
        let http = sagasync::http::client().expect("an HTTP client");
        let page = http.get(&url).send().await.expect("answers");
        assert_eq!(page.status(), 200);
        assert!(
            page.text()
                .await
                .expect("a page")
                .contains("<h1>Overview</h1>"),
            "{url} is the console's overview"
        );
        let health: Value = http
            .get(format!("{url}api/health"))
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("JSON");
        assert_eq!(health["products"], PRODUCTS);

        let status = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let out = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .expect("join")
            .expect("wait");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

        let bad = crate::helpers::run(sagasync(&db).args(["serve", "--bind", "localhost"]));
        assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
        assert!(stderr(&bad).contains("--bind"), "{}", stderr(&bad));
    })
    .await;
}
