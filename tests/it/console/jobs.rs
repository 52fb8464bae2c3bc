//! `/rome`, `/rome/{code}` and `/match`: the figures of `/api/job_details/{code}` and
//! the score of `POST /api/match_skills`, shown as pages; bad codes and skills refused
//! with the form kept.

use entity::job_offer;
use entity::prelude::*;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};

use super::offers::{enc, esc};
use super::{Console, fill_hostile};
use crate::helpers::TestDb;
use crate::on_every_backend;
use sagasync::console::layout::count;

/// The ROME codes stored, with their offers, most first.
async fn rome_counts(conn: &sea_orm::DatabaseConnection) -> Vec<(String, u64)> {
    let rows: Vec<(Option<String>, i64)> = JobOffer::find()
        .select_only()
        .column(job_offer::Column::RomeCode)
        .column_as(
            Expr::from(Func::count(Expr::col(job_offer::Column::Id))),
            "n",
        )
        .filter(job_offer::Column::RomeCode.is_not_null())
        .group_by(job_offer::Column::RomeCode)
        .into_tuple()
        .all(conn)
        .await
        .expect("a GROUP BY");
    let mut v: Vec<(String, u64)> = rows
        .into_iter()
        .filter_map(|(c, n)| Some((c?, n as u64)))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// A percentage as the pages write it.
fn percent(f: f64) -> String {
    let p = f * 100.0;
    if (p - p.round()).abs() < 0.05 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

async fn a_job_page_shows_what_job_details_says(db: TestDb) {
    fill_hostile(&db).await;
    let conn = db.open().await;
    let console = Console::start(&db).await;
    let codes = rome_counts(&conn).await;
    let (code, offers) = codes[0].clone();

    let details = console.json(&format!("/api/job_details/{code}")).await;
    assert_eq!(details["offers"].as_u64(), Some(offers));
    let page = console.page(&format!("/rome/{code}")).await;
    assert!(
        page.contains(&format!(r#"id="rome-offers">{}<"#, count(offers))),
        "{page}"
    );
    for s in details["skills"].as_array().expect("skills") {
        let row = format!(
            r#"<td>{}</td><td class="num">{}</td>"#,
            esc(s["libelle"].as_str().expect("a label")),
            count(s["offers"].as_u64().expect("a count"))
        );
        assert!(page.contains(&row), "{row}: {page}");
        let share = percent(s["frequency"].as_f64().expect("a share"));
        assert!(page.contains(&share), "{share}: {page}");
    }
    for c in details["contracts"].as_array().expect("contracts") {
        let value = c["value"].as_str().expect("a contract");
        assert!(
            page.contains(&format!("/offers?rome={code}&amp;contract={value}")),
            "{value}: {page}"
        );
        let n = count(c["offers"].as_u64().expect("a count"));
        assert!(page.contains(&n), "{n}: {page}");
    }
    for s in details["salaries"].as_array().expect("salaries") {
        let value = esc(s["value"].as_str().expect("a salary"));
        assert!(page.contains(&value), "{value}: {page}");
    }
    for s in details["samples"].as_array().expect("samples") {
        let id = s["id"].as_str().expect("an id");
        assert!(
            page.contains(&format!(r#"href="/offers/{id}""#)),
            "{id}: {page}"
        );
    }

    // The index: every code present, most offers first, with its count.
    let index = console.json("/api/rome?limit=100").await;
    assert_eq!(index["total"].as_u64(), Some(codes.len() as u64), "{index}");
    let listed: Vec<(String, u64)> = index["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| {
            (
                r["rome_code"].as_str().expect("a code").to_owned(),
                r["offers"].as_u64().expect("a count"),
            )
        })
        .collect();
    assert_eq!(listed, codes);
    let page = console.page("/rome?limit=5").await;
    assert!(page.contains(&format!(r#"href="/rome/{code}""#)), "{page}");
    assert!(
        page.contains(&format!("1–5 of {}", count(codes.len() as u64))),
        "{page}"
    );
    // The form's code leads to its page.
    let page = console
        .page(&format!("/rome?code={}", code.to_lowercase()))
        .await;
    assert!(page.contains(&format!(r#"id="rome-offers">{}<"#, count(offers))));

    console
        .error_page("/rome/G16", 400, "`rome_code` must be a ROME code")
        .await;
    console
        .error_page("/rome/Z9999", 404, "No stored offer has ROME code Z9999")
        .await;
    console.error_page("/rome?code=12", 400, "`code`").await;
    console.error_page("/rome?limit=x", 400, "`limit`").await;
    let a = console.get("/api/rome?offset=x").await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("`offset`"), "{}", a.body);
    console.shutdown().await;
}

/// The rows of the table `id` in `page`.
fn rows<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no table {id}: {page}"));
    let end = page[start..].find("</table>").expect("the table's end");
    &page[start..start + end]
}

async fn the_match_form_scores_as_the_api_does(db: TestDb) {
    fill_hostile(&db).await;
    let conn = db.open().await;
    let console = Console::start(&db).await;
    let code = rome_counts(&conn).await[0].0.clone();
    let details = console.json(&format!("/api/job_details/{code}")).await;
    let top = details["skills"][0]["libelle"].as_str().expect("a skill");
    let skills = format!(
        "{}\npilotage d'avion, {}",
        sagasync::text::fold(top).to_uppercase(),
        details["skills"][1]["libelle"]
            .as_str()
            .unwrap_or("accueil")
    );

    let http = reqwest::Client::new();
    let api: Value = http
        .post(format!("{}/api/match_skills", console.base))
        .body(json!({ "rome_code": code, "skills": skills }).to_string())
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    let page = console
        .page(&format!("/match?rome={code}&skills={}", enc(&skills)))
        .await;
    let score = api["match_score"].as_f64().expect("a score");
    assert!(
        page.contains(&format!(r#"data-score="{score}""#)),
        "{score}: {page}"
    );
    let matched = api["matching_skills"].as_array().expect("matched");
    assert!(!matched.is_empty(), "{api}");
    let table = rows(&page, "matched");
    assert_eq!(table.matches("<tr>").count(), matched.len() + 1, "{table}");
    for m in matched {
        for key in ["skill", "matches"] {
            let v = esc(m[key].as_str().expect("text"));
            assert!(table.contains(&format!("<td>{v}</td>")), "{v}: {table}");
        }
    }
    let missing = api["missing_skills"].as_array().expect("missing");
    if missing.is_empty() {
        assert!(!page.contains(r#"id="missing""#), "{page}");
    } else {
        let table = rows(&page, "missing");
        assert_eq!(table.matches("<tr>").count(), missing.len() + 1, "{table}");
        for m in missing {
            let v = esc(m["libelle"].as_str().expect("text"));
            assert!(table.contains(&format!("<td>{v}</td>")), "{v}: {table}");
        }
    }
    for r in api["recommendations"].as_array().expect("recommendations") {
        let v = esc(r.as_str().expect("text"));
        assert!(page.contains(&v), "{v}: {page}");
    }
    assert!(page.contains("pilotage d&#39;avion") || page.contains("pilotage d'avion"));

    // No parameters: the form alone.
    let form = console.page("/match").await;
    assert!(form.contains(r#"name="rome""#) && form.contains(r#"name="skills""#));
    assert!(!form.contains("match-score"), "{form}");
    assert!(
        form.contains(&format!(r#"<option value="{code}">"#)),
        "{form}"
    );

    // Bad inputs: the form again, the error shown, the values kept.
    for (path, status, says, kept) in [
        (
            "/match?rome=G16&skills=accueil",
            400,
            "`rome`",
            r#"value="G16""#,
        ),
        (
            "/match?rome=&skills=accueil",
            400,
            "`rome`",
            ">accueil</textarea>",
        ),
        (
            "/match?rome=Z9999&skills=accueil",
            404,
            "Z9999",
            ">accueil</textarea>",
        ),
        (
            "/match?rome=G1602&skills=+%2C+",
            400,
            "`skills`",
            r#"value="G1602""#,
        ),
        (
            "/match?rome=G1602&colour=red",
            400,
            "unknown parameter `colour`",
            "",
        ),
    ] {
        console.error_page(path, status, says).await;
        let body = console.get(path).await.body;
        assert!(body.contains(kept), "{path}: {kept} in {body}");
    }
    // A job's link to the form fills its code in and complains of nothing.
    let prefilled = console.page("/match?rome=G1602").await;
    assert!(prefilled.contains(r#"value="G1602""#), "{prefilled}");
    assert!(!prefilled.contains("role=\"alert\""), "{prefilled}");
    console.shutdown().await;
}

on_every_backend!(
    a_job_page_shows_what_job_details_says,
    the_match_form_scores_as_the_api_does
);
