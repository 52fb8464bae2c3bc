//! `rome search`, `rome show LABEL` and `GET /api/rome/search`: on the offers the demo
//! collected, the codes found against what the database holds (CLI and API alike), the
//! formats, paging, empty results and errors; on offers written for the purpose, how a
//! label resolves (exact label first, else the only code). Every backend.

use std::collections::BTreeMap;

use entity::prelude::*;
use sagasync::inspect::rome::{self, Named};
use sagasync::sync::offers::store_offer;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::console::Console;
use crate::helpers::{TestDb, assert_ok, stderr, stdout};
use crate::inspect::{cli, csv_records, fill, json};
use crate::on_every_backend;

/// What the stored offers give for `text`: (code, label, offers) of the codes whose
/// label or a job title holds every folded word, most offers first, then by code.
fn expected(offers: &[entity::job_offer::Model], text: &str) -> Vec<(String, String, u64)> {
    let words = sagasync::inspect::search_words(text);
    let holds = |t: &Option<String>| {
        t.as_deref()
            .is_some_and(|t| sagasync::inspect::matches_words(&sagasync::text::fold(t), &words))
    };
    let mut found = BTreeMap::<String, bool>::new();
    let mut per_code = BTreeMap::<String, (String, u64)>::new();
    for o in offers {
        let Some(code) = &o.rome_code else { continue };
        *found.entry(code.clone()).or_default() |=
            holds(&o.rome_libelle) || holds(&o.appellation_libelle);
        let e = per_code.entry(code.clone()).or_default();
        e.0 = e.0.clone().max(o.rome_libelle.clone().unwrap_or_default());
        e.1 += 1;
    }
    let mut list: Vec<(String, String, u64)> = per_code
        .into_iter()
        .filter(|(code, _)| found[code])
        .map(|(code, (label, n))| (code, label, n))
        .collect();
    list.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    list
}

fn rows_of(v: &Value) -> Vec<(String, String, u64)> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|r| {
            (
                r["rome_code"].as_str().unwrap_or_default().to_owned(),
                r["rome_libelle"].as_str().unwrap_or_default().to_owned(),
                r["offers"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

async fn rome_search_finds_codes_by_label_and_job_title(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let offers = JobOffer::find().all(&conn).await.expect("offers");
    let server = Console::start(&db).await;

    for text in [
        "cuisine",
        "ASSISTANT",
        "développeur",
        "agent entretien",
        "e",
    ] {
        let want = expected(&offers, text);
        assert!(!want.is_empty(), "{text}: the demo's offers hold it");
        let got = json(&db, &["rome", "search", text, "--limit", "100"]);
        assert_eq!(rows_of(&got), want, "{text}");
        // The API pages through the same list.
        let mut api = Vec::new();
        let mut offset = 0;
        loop {
            let q = url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
            let page = server
                .json(&format!("/api/rome/search?q={q}&limit=2&offset={offset}"))
                .await;
            assert_eq!(page["total"], want.len(), "{page}");
            api.extend(rows_of(&page["items"]));
            match page["next_offset"].as_u64() {
                Some(next) => offset = next,
                None => break,
            }
        }
        assert_eq!(api, want, "{text}: the API agrees");
    }
    // Several words, each in the label or the same job title; words in no one place
    // find nothing.
    let words = json(&db, &["rome", "search", "personnel", "CUISINE"]);
    assert_eq!(rows_of(&words), expected(&offers, "personnel cuisine"));
    assert_eq!(rows_of(&words).len(), 1, "{words}");

    // Paging, CSV, the table's lines.
    let all = expected(&offers, "e");
    assert!(all.len() > 3, "{all:?}");
    let page = json(
        &db,
        &["rome", "search", "e", "--limit", "2", "--offset", "1"],
    );
    assert_eq!(rows_of(&page), all[1..3].to_vec());
    let (header, rows) = csv_records(&db, &["rome", "search", "e", "--limit", "100"]);
    assert_eq!(header, ["rome_code", "rome_libelle", "offers"]);
    assert_eq!(rows.len(), all.len());
    assert_eq!(
        rows[0],
        [all[0].0.clone(), all[0].1.clone(), all[0].2.to_string()]
    );
    let table = cli(&db, &["rome", "search", "e", "--limit", "2"]);
    assert_ok(&table);
    let text = stdout(&table);
    assert!(
        text.contains(&all[0].0) && text.contains("rome_libelle"),
        "{text}"
    );
    assert!(
        text.contains(&format!("2 of {} shown", all.len())),
        "{text}"
    );

    // Nothing found: said in a table, [] in JSON, the header alone in CSV; exit 0.
    let none = cli(&db, &["rome", "search", "zzzqqq"]);
    assert_ok(&none);
    assert!(
        stdout(&none).contains("no ROME code's label or job title holds every word of \"zzzqqq\""),
        "{}",
        stdout(&none)
    );
    assert_eq!(json(&db, &["rome", "search", "zzzqqq"]), json!([]));
    let (header, rows) = csv_records(&db, &["rome", "search", "zzzqqq"]);
    assert_eq!((header.len(), rows.len()), (3, 0));
    let empty = server.json("/api/rome/search?q=zzzqqq").await;
    assert_eq!(
        empty,
        json!({"items": [], "limit": 20, "offset": 0, "total": 0})
    );

    // Bad arguments: exit 2, or a 400 naming the parameter.
    for args in [
        vec!["rome", "search"],
        vec!["rome", "search", "%"],
        vec!["rome", "search", "x", "--limit", "0"],
    ] {
        let out = cli(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    for (path, says) in [
        ("/api/rome/search", "`q`"),
        ("/api/rome/search?q=%25", "`q`"),
        ("/api/rome/search?q=x&limit=0", "`limit`"),
        ("/api/rome/search?q=x&page=2", "unknown parameter `page`"),
    ] {
        let a = server.get(path).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert!(a.body.contains(says), "{path}: {}", a.body);
    }
    server.shutdown().await;
}

async fn rome_show_takes_a_label(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let offers = JobOffer::find().all(&conn).await.expect("offers");
    // The label of the job with most offers, in capitals and without accents.
    let (code, label, _) = expected(&offers, "e").into_iter().next().expect("a job");
    let shouted = sagasync::text::fold(&label).to_uppercase();
    let by_label = json(&db, &["rome", "show", &shouted]);
    let by_code = json(&db, &["rome", "show", &code]);
    assert_eq!(by_label, by_code, "{shouted}");
    // Words given apart are one label.
    let words: Vec<&str> = shouted.split(' ').collect();
    let args: Vec<&str> = ["rome", "show"].into_iter().chain(words).collect();
    assert_eq!(json(&db, &args)["rome_code"], code.as_str());

    // Several codes: exit 1, each listed with its label, and asked for one.
    let several = expected(&offers, "assistant");
    assert!(several.len() > 1, "{several:?}");
    let out = cli(&db, &["rome", "show", "assistant"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("\"assistant\" names several ROME codes"),
        "{err}"
    );
    for (code, label, _) in &several {
        assert!(err.contains(&format!("{code} {label}")), "{code}: {err}");
    }
    assert!(err.contains("give one of them"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    // None: exit 1, saying so; an unknown code, as before.
    let out = cli(&db, &["rome", "show", "zzzqqq"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no ROME code of the stored offers has a label or a job title"),
        "{}",
        stderr(&out)
    );
    let out = cli(&db, &["rome", "show", "Z9999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no stored offer has ROME code Z9999"));
}

/// A stored offer of `code` labelled `label`, with `title` as its job title.
async fn store(conn: &sea_orm::DatabaseConnection, id: &str, code: &str, label: &str, title: &str) {
    let raw = json!({
        "id": id, "intitule": title, "romeCode": code, "romeLibelle": label,
        "appellationlibelle": title,
    });
    store_offer(conn, raw).await.expect("stored");
}

async fn a_label_names_its_exact_code_first_else_the_only_one(db: TestDb) {
    let conn = db.open().await;
    store(&conn, "A1", "X1001", "Cuisine", "Cuisinier / Cuisinière").await;
    store(&conn, "A2", "X1001", "Cuisine", "Chef de cuisine").await;
    store(
        &conn,
        "B1",
        "X1002",
        "Cuisine collective",
        "Cuisinier de collectivité",
    )
    .await;
    store(&conn, "C1", "X1003", "Pâtisserie", "Pâtissier / Pâtissière").await;
    store(&conn, "D1", "X1004", "Boulangerie", "Boulanger CUISINE").await;

    let named = |text: &'static str| {
        let conn = conn.clone();
        async move { rome::named(&conn, text).await.expect("a query") }
    };
    // The label itself, whatever its spelling, though other codes hold its words.
    assert_eq!(named("CUISINE").await, Named::One("X1001".into()));
    assert_eq!(
        named("cuisine  collective!").await,
        Named::One("X1002".into())
    );
    // No exact label: the only code holding every word, in its label or a title.
    assert_eq!(named("patissiere").await, Named::One("X1003".into()));
    assert_eq!(named("chef").await, Named::One("X1001".into()));
    assert_eq!(named("collectivite").await, Named::One("X1002".into()));
    // Words across the label and a title of the same code are not a match.
    assert_eq!(named("boulangerie pâtissier").await, Named::None);
    assert_eq!(named("zzz").await, Named::None);
    let Named::Several(codes) = named("cuisin").await else {
        panic!("several codes hold \"cuisin\"");
    };
    let listed: Vec<(Option<&str>, u64)> = codes
        .iter()
        .map(|c| (c.rome_code.as_deref(), c.offers))
        .collect();
    assert_eq!(
        listed,
        [(Some("X1001"), 2), (Some("X1002"), 1), (Some("X1004"), 1)],
        "most offers first, then by code"
    );

    assert_eq!(
        rome::codes_matching(&conn, "Cuisinier")
            .await
            .expect("codes"),
        ["X1001", "X1002"]
    );
    let page = rome::counts(
        &conn,
        &["X1001".into(), "X1002".into(), "X1004".into()],
        1,
        1,
    )
    .await
    .expect("a page");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].rome_code.as_deref(), Some("X1002"));
    assert_eq!(page[0].rome_libelle.as_deref(), Some("Cuisine collective"));
    assert!(
        rome::counts(&conn, &[], 10, 0)
            .await
            .expect("none")
            .is_empty()
    );
}

on_every_backend!(
    rome_search_finds_codes_by_label_and_job_title,
    rome_show_takes_a_label,
    a_label_names_its_exact_code_first_else_the_only_one,
);
