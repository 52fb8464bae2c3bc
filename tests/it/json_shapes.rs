//! `docs/json.md` against the real output: every documented command and API route is
//! run, and the field names it prints must be exactly the ones the page lists (a field
//! marked `?` may be absent), so the page and the code cannot drift apart.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

use serde_json::{Value, json};

use sagasync::sandbox::cerema::CeremaConfig;
use sagasync::sandbox::france_travail::FranceTravailConfig;
use sagasync::sandbox::{Sandbox, SandboxConfig};

use crate::helpers::{Backend, TestDb, assert_ok, sagasync, stdout};
use crate::inspect::{CATEGORIES, OFFERS, STRUCTURES, USERS};
use crate::on_every_backend;

const DOC: &str = include_str!("../../docs/json.md");

/// One documented field: its path (`tables[].rows`) and whether it may be absent.
#[derive(Debug, Clone)]
struct Field {
    path: String,
    optional: bool,
}

/// The field tables of `docs/json.md`, by the heading's name (`db stats`,
/// `GET /api/health`, `Errors`).
fn documented() -> BTreeMap<String, Vec<Field>> {
    let mut shapes: BTreeMap<String, Vec<Field>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in DOC.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            let name = h.trim().trim_matches('`').to_owned();
            shapes.entry(name.clone()).or_default();
            current = Some(name);
        } else if line.starts_with("## ") {
            current = None;
        } else if let (Some(name), Some(rest)) = (&current, line.strip_prefix("| `")) {
            let Some((path, _)) = rest.split_once("` |") else {
                continue;
            };
            let (path, optional) = match path.strip_suffix('?') {
                Some(p) => (p, true),
                None => (path, false),
            };
            if let Some(fields) = shapes.get_mut(name) {
                fields.push(Field {
                    path: path.to_owned(),
                    optional,
                });
            }
        }
    }
    shapes
}

/// The paths of `v`'s fields, descending only into the fields `descend` names (the
/// documented parents): free-form objects such as `options` stay one field. Also the
/// parents seen holding something (a non-empty list or an object).
fn paths(v: &Value, prefix: &str, descend: &BTreeSet<String>, out: &mut Paths) {
    match v {
        Value::Array(items) => {
            for item in items {
                paths(item, prefix, descend, out);
            }
        }
        Value::Object(map) => {
            for (key, child) in map {
                let path = format!("{prefix}{key}");
                out.found.insert(path.clone());
                if !descend.contains(&path) {
                    continue;
                }
                match child {
                    Value::Array(items) if !items.is_empty() => {
                        out.filled.insert(path.clone());
                        paths(child, &format!("{path}[]."), descend, out);
                    }
                    Value::Object(_) => {
                        out.filled.insert(path.clone());
                        paths(child, &format!("{path}."), descend, out);
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

#[derive(Default)]
struct Paths {
    found: BTreeSet<String>,
    /// Parents that held items: their documented fields must show.
    filled: BTreeSet<String>,
}

/// The parent of a path: `tables` for `tables[].rows`, `external` for `external.id`.
fn parent(path: &str) -> Option<&str> {
    let cut = path.rfind('.')?;
    Some(path[..cut].trim_end_matches("[]"))
}

/// Asserts that `v` (an object, or an array of them) has exactly the fields the
/// section `name` of the page lists.
#[track_caller]
fn assert_shape(shapes: &BTreeMap<String, Vec<Field>>, name: &str, v: &Value) {
    let fields = shapes
        .get(name)
        .unwrap_or_else(|| panic!("docs/json.md has no section `{name}`"));
    assert!(!fields.is_empty(), "section `{name}` lists no field");
    if let Value::Array(items) = v {
        assert!(!items.is_empty(), "{name}: an empty array shows no field");
    }
    let descend: BTreeSet<String> = fields
        .iter()
        .filter_map(|f| parent(&f.path).map(str::to_owned))
        .collect();
    let mut got = Paths::default();
    paths(v, "", &descend, &mut got);
    let listed: BTreeSet<String> = fields.iter().map(|f| f.path.clone()).collect();
    let undocumented: Vec<&String> = got.found.difference(&listed).collect();
    assert!(
        undocumented.is_empty(),
        "{name}: fields missing from docs/json.md: {undocumented:?}\n{v}"
    );
    let missing: Vec<&str> = fields
        .iter()
        .filter(|f| !f.optional && !got.found.contains(&f.path))
        .filter(|f| parent(&f.path).is_none_or(|p| got.filled.contains(p)))
        .map(|f| f.path.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "{name}: documented fields not in the output: {missing:?}\n{v}"
    );
}

/// Runs `cmd` off the runtime's threads (the sandbox answers on them meanwhile).
async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("sagasync runs"))
        .await
        .expect("the command's thread")
}

/// `cmd ARGS --format json`, parsed (whatever the exit code: `check` fails unset).
async fn json_of(mut cmd: Command, args: &[&str]) -> Value {
    cmd.args(args).args(["--format", "json"]);
    let out = output(cmd).await;
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}\n{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `sagasync ARGS --format json` on `db`, which must succeed.
async fn ok_json(db: &TestDb, args: &[&str]) -> Value {
    let mut cmd = sagasync(db);
    cmd.args(args).args(["--format", "json"]);
    let out = output(cmd).await;
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
}

/// The first item's `field`, as text.
fn first(v: &Value, field: &str) -> String {
    match &v[0][field] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn every_documented_output_has_exactly_the_documented_fields(db: TestDb) {
    let shapes = documented();
    let covered: RefCell<BTreeSet<&str>> = RefCell::default();
    let check = |name: &'static str, v: &Value| {
        assert_shape(&shapes, name, v);
        covered.borrow_mut().insert(name);
    };

    // The demo fills the database (its summary is a documented shape).
    let demo = ok_json(
        &db,
        &[
            "demo",
            "--database-url",
            &db.url,
            "--products",
            "40",
            "--categories",
            &CATEGORIES.to_string(),
            "--cerema-users",
            &USERS.to_string(),
            "--cerema-structures",
            &STRUCTURES.to_string(),
            "--ft-offers",
            &OFFERS.to_string(),
            "-q",
        ],
    )
    .await;
    check("demo", &demo);
    for run in demo["runs"].as_array().expect("the demo's runs") {
        check("sync-products", run);
    }

    let stats = ok_json(&db, &["db", "stats"]).await;
    check("db stats", &stats);
    let runs = ok_json(&db, &["runs", "list"]).await;
    check("runs list", &runs);
    check(
        "runs show",
        &ok_json(&db, &["runs", "show", &first(&runs, "run_id")]).await,
    );
    check(
        "categories list",
        &ok_json(&db, &["categories", "list"]).await,
    );
    check(
        "categories tree",
        &ok_json(&db, &["categories", "tree"]).await,
    );
    let products = ok_json(&db, &["products", "list"]).await;
    check("products list", &products);
    check(
        "products show",
        &ok_json(&db, &["products", "show", &first(&products, "id")]).await,
    );
    check(
        "cerema users list",
        &ok_json(&db, &["cerema", "users", "list"]).await,
    );
    check(
        "cerema structures list",
        &ok_json(&db, &["cerema", "structures", "list"]).await,
    );
    let offers = ok_json(&db, &["offers", "search"]).await;
    check("offers search", &offers);
    check(
        "offers show",
        &ok_json(&db, &["offers", "show", &first(&offers, "id")]).await,
    );
    let rome = first(&offers, "rome_code");
    let profile = ok_json(&db, &["rome", "show", &rome]).await;
    check("rome show", &profile);
    check("rome search", &ok_json(&db, &["rome", "search", "e"]).await);
    let skill = profile["skills"][0]["libelle"]
        .as_str()
        .expect("a skill")
        .to_owned();
    let matched = ok_json(
        &db,
        &[
            "match-skills",
            "--rome",
            &rome,
            "--skills",
            &format!("{skill}, jonglage"),
        ],
    )
    .await;
    check("match-skills", &matched);
    let commune = first(&offers, "commune");
    let recommended = ok_json(
        &db,
        &[
            "recommend",
            "--skills",
            &skill,
            "--commune",
            &commune,
            "--distance",
            "500",
        ],
    )
    .await;
    check("recommend", &recommended);
    console_offers_and_jobs(&db, &check).await;
    check("keys list", &ok_json(&db, &["keys", "list"]).await);
    profiles(&db, &check).await;
    check("check", &json_of(sagasync(&db), &["check"]).await);

    syncs(&db, &check).await;
    api(&db, &shapes, &profile, &matched, &rome, &skill).await;
    covered.borrow_mut().extend([
        "GET /api/health",
        "GET /api/search_jobs",
        "GET /api/runs",
        "GET /api/overview",
        "GET /api/cerema",
        "GET /api/cerema/structures/{id}",
        "Errors",
    ]);

    if db.backend == Backend::Sqlite {
        let bench = bench(&db).await;
        check("bench", &bench);
        for p in bench.as_array().expect("phases") {
            let key = p["phase"].as_str().expect("a phase key");
            assert!(sagasync::bench::PHASES.contains(&key), "{key}");
        }
        for key in sagasync::bench::PHASES {
            assert!(DOC.contains(&format!("`{key}`")), "{key} is documented");
        }
    } else {
        covered.borrow_mut().insert("bench");
    }

    let sections: BTreeSet<&str> = shapes.keys().map(String::as_str).collect();
    assert_eq!(
        covered.into_inner(),
        sections,
        "every section of docs/json.md is checked"
    );
}

/// `sync-categories`, `sync-products`, `cerema sync` and `france-travail collect`
/// against a sandbox.
async fn syncs(db: &TestDb, check: &impl Fn(&'static str, &Value)) {
    let config = SandboxConfig {
        products: 20,
        categories: 4,
        cerema: CeremaConfig {
            users: 15,
            structures: 3,
            ..CeremaConfig::default()
        },
        france_travail: FranceTravailConfig {
            offers: 20,
            ..FranceTravailConfig::default()
        },
        ..SandboxConfig::default()
    };
    let api_key = config.api_key.clone();
    let sb = Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the sandbox starts");
    // A database of their own: the demo's stored key would need its encryption key.
    let url = format!("sqlite://{}?mode=rwc", db.dir().join("syncs.db").display());
    let with = |vars: &[(&str, String)]| {
        let mut cmd = sagasync(db);
        cmd.env("DATABASE_URL", &url);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd
    };
    let b2b = [("B2B_API_URL", sb.b2b_url()), ("B2B_API_KEY", api_key)];
    for command in ["sync-categories", "sync-products"] {
        let report = json_of(with(&b2b), &[command]).await;
        assert_eq!(report[0]["status"], "succeeded", "{report}");
        check("sync-products", &report);
    }
    let cerema = [
        ("CEREMA_API_URL", sb.cerema_url()),
        ("CEREMA_API_TOKEN", sb.cerema_token()),
    ];
    let report = json_of(with(&cerema), &["cerema", "sync", "all", "--delay", "0"]).await;
    assert_eq!(report[0]["status"], "succeeded", "{report}");
    check("cerema sync", &report);
    let ft = [
        ("FRANCE_TRAVAIL_AUTH_URL", sb.ft_auth_url()),
        ("FRANCE_TRAVAIL_API_URL", sb.ft_api_url()),
        ("FRANCE_TRAVAIL_CLIENT_ID", sb.ft_client_id()),
        ("FRANCE_TRAVAIL_CLIENT_SECRET", sb.ft_client_secret()),
    ];
    let done = json_of(with(&ft), &["france-travail", "collect"]).await;
    assert_eq!(done[0]["outcome"], "done", "{done}");
    let again = json_of(with(&ft), &["france-travail", "collect"]).await;
    assert_eq!(again[0]["outcome"], "already_today", "{again}");
    // Either outcome's fields, together: those of one are absent from the other.
    check(
        "france-travail collect",
        &json!([done[0].clone(), again[0].clone()]),
    );
    sb.stop().await;
}

/// Every route, against its section (or the command's it answers as).
async fn api(
    db: &TestDb,
    shapes: &BTreeMap<String, Vec<Field>>,
    profile: &Value,
    matched: &Value,
    rome: &str,
    skill: &str,
) {
    let server = crate::console::Console::start(db).await;
    let (base, http) = (server.base.clone(), server.http.clone());
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let r = http.get(url).send().await.expect("the server answers");
            r.json::<Value>().await.expect("a JSON answer")
        }
    };

    assert_shape(shapes, "GET /api/health", &get("/api/health".into()).await);
    for path in ["/api/search_jobs?q=".to_owned(), "/api/paris_jobs/a".into()] {
        let found = get(path).await;
        assert_shape(shapes, "GET /api/search_jobs", &found);
        if !found["jobs"].as_array().is_some_and(Vec::is_empty) {
            assert_shape(shapes, "offers search", &found["jobs"]);
        }
    }
    for (route, rows) in [
        ("runs", "runs list"),
        ("products", "products list"),
        ("categories", "categories list"),
    ] {
        let page = get(format!("/api/{route}?limit=2")).await;
        assert_shape(shapes, "GET /api/runs", &page);
        assert!(page.get("next_offset").is_some(), "{page}");
        assert_shape(shapes, rows, &page["items"]);
    }
    let details = get(format!("/api/job_details/{rome}")).await;
    assert_shape(shapes, "rome show", &details);
    assert_eq!(
        details.as_object().map(|o| o.keys().collect::<Vec<_>>()),
        profile.as_object().map(|o| o.keys().collect::<Vec<_>>())
    );
    let r = http
        .post(format!("{base}/api/match_skills"))
        .json(&json!({"rome_code": rome, "skills": [skill, "jonglage"]}))
        .send()
        .await
        .expect("the server answers");
    let answer: Value = r.json().await.expect("a JSON answer");
    assert_shape(shapes, "match-skills", &answer);
    assert_eq!(&answer, matched, "the API answers as the command");
    assert_shape(shapes, "Errors", &get("/api/nowhere".into()).await);
    assert_shape(
        shapes,
        "GET /api/overview",
        &get("/api/overview".into()).await,
    );
    let runs = get("/api/runs?limit=1".into()).await;
    let run = &runs["items"][0]["run_id"];
    assert_shape(shapes, "runs show", &get(format!("/api/runs/{run}")).await);
    assert_shape(shapes, "GET /api/cerema", &get("/api/cerema".into()).await);
    let structures = get("/api/cerema/structures?limit=2".into()).await;
    assert_shape(shapes, "GET /api/runs", &structures);
    assert_shape(shapes, "cerema structures list", &structures["items"]);
    let id = &structures["items"][0]["id"];
    assert_shape(
        shapes,
        "GET /api/cerema/structures/{id}",
        &get(format!("/api/cerema/structures/{id}?limit=2")).await,
    );

    server.shutdown().await;
}

/// `profiles list` and `show`, and the accounts API (`serve --accounts`) on one
/// account whose profile holds one of each item.
async fn profiles(db: &TestDb, check: &impl Fn(&'static str, &Value)) {
    let mut add = sagasync(db);
    add.args([
        "profiles",
        "add",
        "--email",
        "ana@example.org",
        "--name",
        "Ana",
        "-q",
    ]);
    let out = tokio::task::spawn_blocking(move || {
        crate::helpers::run_with_stdin(&mut add, &format!("{}\n", crate::profiles::PASSWORD))
    })
    .await
    .expect("the command's thread");
    assert_ok(&out);
    let options = sagasync::serve::ServeOptions {
        accounts: Some(sagasync::serve::accounts::AccountsOptions::default()),
    };
    let server = crate::console::Console::start_with(db, options).await;
    let (base, http) = (server.base.clone(), server.http.clone());
    let login: Value = http
        .post(format!("{base}/api/login"))
        .json(&json!({"email": "ana@example.org", "password": crate::profiles::PASSWORD}))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a JSON answer");
    check("POST /api/login", &login);
    let token = login["token"].as_str().expect("a token").to_owned();
    for (route, body) in [
        ("skills", json!({"label": "Service en salle"})),
        (
            "experiences",
            json!({"title": "Serveuse", "employer": "Café", "rome_code": "G1803", "start_date": "2021-03-01"}),
        ),
        (
            "education",
            json!({"degree": "CAP Cuisine", "school": "Lycée", "end_date": "2019-06-30"}),
        ),
    ] {
        let r = http
            .post(format!("{base}/api/me/{route}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .expect("the server answers");
        assert_eq!(r.status().as_u16(), 201, "{route}");
    }
    let get = |path: &'static str| {
        let (http, url, token) = (http.clone(), format!("{base}{path}"), token.clone());
        async move {
            let r = http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .expect("the server answers");
            r.json::<Value>().await.expect("a JSON answer")
        }
    };
    check("profiles list", &get("/api/me").await);
    check("GET /api/me/skills", &get("/api/me/skills").await);
    check("GET /api/me/experiences", &get("/api/me/experiences").await);
    check("GET /api/me/education", &get("/api/me/education").await);
    server.shutdown().await;
    check("profiles list", &ok_json(db, &["profiles", "list"]).await);
    check(
        "profiles show",
        &ok_json(db, &["profiles", "show", "ana@example.org"]).await,
    );
}

/// A tiny `sagasync bench` (SQLite only, every phase but the distant ones).
async fn bench(db: &TestDb) -> Value {
    let mut cmd = sagasync(db);
    cmd.args([
        "bench",
        "--products",
        "60",
        "--categories",
        "4",
        "--cerema-users",
        "13",
        "--ft-offers",
        "30",
        "--distant-products",
        "30",
        "--latencies-ms",
        "1",
        "--sqlite-only",
    ]);
    json_of(cmd, &[]).await
}

/// The JSON of the console's offers and jobs pages (`/api/offers`, `/api/offers/stats`,
/// `/api/offers/{id}`, `/api/rome`), and `/api/rome/search`.
async fn console_offers_and_jobs(db: &TestDb, check: &impl Fn(&'static str, &Value)) {
    let server = crate::console::Console::start(db).await;
    let (base, http) = (server.base.clone(), server.http.clone());
    let get = |path: &str| {
        let r = http.get(format!("{base}{path}")).send();
        async move {
            let r = r.await.expect("the server answers");
            r.json::<Value>().await.expect("a JSON answer")
        }
    };
    let offers = get("/api/offers?limit=2").await;
    assert!(offers.get("next_offset").is_some(), "{offers}");
    check("GET /api/offers", &offers);
    check("offers search", &offers["items"]);
    check("GET /api/offers/stats", &get("/api/offers/stats").await);
    let id = offers["items"][0]["id"].as_str().expect("an id");
    let offer = get(&format!("/api/offers/{id}")).await;
    check("offers show", &offer);
    let rome = get("/api/rome?limit=2").await;
    assert!(rome.get("next_offset").is_some(), "{rome}");
    check("GET /api/rome", &rome);
    let found = get("/api/rome/search?q=e&limit=2").await;
    assert!(found.get("next_offset").is_some(), "{found}");
    check("GET /api/rome/search", &found);
    check("rome search", &found["items"]);
    server.shutdown().await;
}

on_every_backend!(every_documented_output_has_exactly_the_documented_fields);
