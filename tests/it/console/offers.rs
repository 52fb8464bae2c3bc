//! `/offers`, `/offers/{id}` and their JSON: searches, filters, pages and trend charts
//! against what the database holds; one offer with its skills; upstream text escaped
//! and an upstream link followed only when it is a web address.

use std::collections::{BTreeMap, BTreeSet};

use entity::prelude::*;
use entity::{job_offer, job_offer_skill};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use url::form_urlencoded::byte_serialize;

use super::{Console, fill_hostile};
use crate::helpers::TestDb;
use crate::on_every_backend;
use sagasync::console::layout::count;

/// `s` as maud writes it in text and attributes.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `s` as a query value.
pub fn enc(s: &str) -> String {
    byte_serialize(s.as_bytes()).collect()
}

/// Offers per value of `col` among those of contract type `contract`: a GROUP BY.
async fn grouped(
    conn: &DatabaseConnection,
    col: job_offer::Column,
    contract: &str,
) -> BTreeMap<Option<String>, u64> {
    let rows: Vec<(Option<String>, i64)> = JobOffer::find()
        .select_only()
        .column(col)
        .column_as(
            Expr::from(Func::count(Expr::col(job_offer::Column::Id))),
            "n",
        )
        .filter(job_offer::Column::TypeContrat.eq(contract))
        .group_by(col)
        .into_tuple()
        .all(conn)
        .await
        .expect("a GROUP BY");
    rows.into_iter().map(|(v, n)| (v, n as u64)).collect()
}

/// Every id a paged JSON list gives, following `next_offset`.
async fn every_id(console: &Console, path: &str) -> (BTreeSet<String>, u64) {
    let mut ids = BTreeSet::new();
    let mut offset = 0;
    loop {
        let page = console.json(&format!("{path}&offset={offset}")).await;
        let total = page["total"].as_u64().expect("a total");
        for item in page["items"].as_array().expect("items") {
            assert!(
                ids.insert(item["id"].as_str().expect("an id").to_owned()),
                "{item} twice"
            );
        }
        match page["next_offset"].as_u64() {
            Some(next) => offset = next,
            None => return (ids, total),
        }
    }
}

async fn the_offer_list_searches_filters_pages_and_charts(db: TestDb) {
    fill_hostile(&db).await;
    let conn = db.open().await;
    let console = Console::start(&db).await;
    let offers = JobOffer::find()
        .order_by_asc(job_offer::Column::Id)
        .all(&conn)
        .await
        .expect("the offers");

    // An unaccented word finds the accented titles.
    let (title, word) = offers
        .iter()
        .filter_map(|o| o.intitule.clone())
        .find_map(|t| {
            let w = t
                .split(|c: char| !c.is_alphabetic())
                .find(|w| w.chars().count() > 3 && !w.is_ascii())?
                .to_owned();
            Some((t, w))
        })
        .expect("an accented title");
    let folded = sagasync::text::fold(&word);
    assert!(folded.is_ascii() && folded != word, "{word} -> {folded}");
    let expected = offers
        .iter()
        .filter(|o| o.search_text.contains(&folded))
        .count() as u64;
    let found = console
        .json(&format!("/api/offers?q={}&limit=100", enc(&folded)))
        .await;
    assert_eq!(found["total"].as_u64(), Some(expected), "{found}");
    let titles: Vec<&str> = found["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["intitule"].as_str())
        .collect();
    assert!(titles.contains(&title.as_str()), "{title} in {titles:?}");
    let page = console
        .page(&format!("/offers?q={}&limit=100", enc(&folded)))
        .await;
    assert!(page.contains(&esc(&title)), "{title}: {page}");
    assert!(
        page.contains(&format!("{} offers match", count(expected))),
        "{page}"
    );

    // A département and a contract: every offer once over the pages, none other.
    let contract = offers[0].type_contrat.clone().expect("a contract");
    let by_dep = grouped(&conn, job_offer::Column::Departement, &contract).await;
    let (dep, n) = by_dep
        .iter()
        .filter_map(|(d, n)| Some((d.clone()?, *n)))
        .max_by_key(|(_, n)| *n)
        .expect("a département");
    let want: BTreeSet<String> = offers
        .iter()
        .filter(|o| {
            o.departement.as_deref() == Some(dep.as_str())
                && o.type_contrat.as_deref() == Some(contract.as_str())
        })
        .map(|o| o.id.clone())
        .collect();
    assert_eq!(want.len() as u64, n);
    let (ids, total) = every_id(
        &console,
        &format!("/api/offers?departement={dep}&contract={contract}&limit=3"),
    )
    .await;
    assert_eq!(ids, want);
    assert_eq!(total, n);
    let page = console
        .page(&format!(
            "/offers?departement={dep}&contract={contract}&limit=3"
        ))
        .await;
    assert!(
        page.contains(&format!("1–{} of {}", n.min(3), count(n))),
        "{page}"
    );
    if n > 3 {
        assert!(page.contains("limit=3&amp;offset=3"), "{page}");
    }

    // The charts count in SQL what a GROUP BY over the same filter counts.
    let stats = console
        .json(&format!("/api/offers/stats?contract={contract}"))
        .await;
    let charted: BTreeMap<Option<String>, u64> = stats["departements"]
        .as_array()
        .expect("départements")
        .iter()
        .map(|d| {
            (
                d["value"].as_str().map(str::to_owned),
                d["offers"].as_u64().expect("a count"),
            )
        })
        .collect();
    assert_eq!(charted, by_dep);
    let with_contract: u64 = by_dep.values().sum();
    assert_eq!(stats["total"].as_u64(), Some(with_contract));
    let by_rome = grouped(&conn, job_offer::Column::RomeCode, &contract).await;
    for r in stats["rome_codes"].as_array().expect("ROME codes") {
        let code = r["rome_code"].as_str().map(str::to_owned);
        assert_eq!(r["offers"].as_u64(), by_rome.get(&code).copied(), "{r}");
    }
    let days = stats["days"].as_array().expect("days");
    let per_day: u64 = days.iter().filter_map(|d| d["offers"].as_u64()).sum();
    let undated = stats["undated"].as_u64().expect("undated");
    assert_eq!(per_day + undated, with_contract, "{stats}");
    let dated = JobOffer::find()
        .filter(job_offer::Column::TypeContrat.eq(contract.as_str()))
        .filter(job_offer::Column::DateCreation.is_not_null())
        .count(&conn)
        .await
        .expect("a count");
    assert_eq!(per_day, dated);
    let listed: Vec<&str> = days.iter().filter_map(|d| d["day"].as_str()).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "oldest first");
    let newest = offers
        .iter()
        .filter(|o| o.type_contrat.as_deref() == Some(contract.as_str()))
        .filter_map(|o| o.date_creation)
        .max()
        .expect("a dated offer");
    assert_eq!(
        listed.last().copied(),
        Some(newest.0.format("%Y-%m-%d").to_string().as_str())
    );

    // The charts on the page link each département to the filtered list.
    let page = console.page(&format!("/offers?contract={contract}")).await;
    assert!(
        page.contains(&format!(
            r#"href="/offers?contract={contract}&amp;departement={dep}""#
        )),
        "{page}"
    );
    assert!(page.contains("Offers per creation day"), "{page}");

    // The probes of the first offer, escaped in the list (its charts are on the page).
    let first = &offers[0];
    let commune = first.commune.clone().expect("a commune");
    let page = console
        .page(&format!("/offers?commune={commune}&limit=100"))
        .await;
    assert!(page.contains("&lt;script&gt;alert("), "{page}");
    assert!(page.contains("&quot;&gt;&lt;img src=x"), "{page}");
    let json = console
        .json(&format!("/api/offers?commune={commune}&limit=100"))
        .await;
    assert!(
        json["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["id"] == first.id.as_str()),
        "{json}"
    );
    console.shutdown().await;
}

async fn an_offer_page_shows_every_field_and_its_skills(db: TestDb) {
    fill_hostile(&db).await;
    let conn = db.open().await;
    let console = Console::start(&db).await;

    // The first offer holds the probes; it is given a script as its upstream link.
    let first = JobOffer::find()
        .order_by_asc(job_offer::Column::Id)
        .one(&conn)
        .await
        .expect("a query")
        .expect("an offer");
    JobOffer::update_many()
        .col_expr(job_offer::Column::OrigineUrl, "javascript:alert(1)".into())
        .filter(job_offer::Column::Id.eq(first.id.as_str()))
        .exec(&conn)
        .await
        .expect("the link planted");
    let page = console.page(&format!("/offers/{}", first.id)).await;
    assert!(page.contains("&lt;script&gt;alert("), "{page}");
    assert!(page.contains("&quot;&gt;&lt;img src=x"), "{page}");
    assert!(!page.contains("href=\"javascript:"), "{page}");
    assert!(
        page.contains("javascript:alert(1)"),
        "shown as text: {page}"
    );

    // An offer with skills shows each, with how it is asked, and its web link.
    let with_skills: String = JobOfferSkill::find()
        .select_only()
        .column(job_offer_skill::Column::OfferId)
        .filter(job_offer_skill::Column::OfferId.ne(first.id.as_str()))
        .order_by_asc(job_offer_skill::Column::Id)
        .into_tuple()
        .one(&conn)
        .await
        .expect("a query")
        .expect("an offer with skills");
    let offer = JobOffer::find_by_id(with_skills.clone())
        .one(&conn)
        .await
        .expect("a query")
        .expect("the offer");
    let skills = JobOfferSkill::find()
        .filter(job_offer_skill::Column::OfferId.eq(with_skills.as_str()))
        .all(&conn)
        .await
        .expect("its skills");
    let page = console.page(&format!("/offers/{with_skills}")).await;
    for s in &skills {
        let asked = match s.exigence.as_deref() {
            Some("E") => "required",
            Some("S") => "desired",
            _ => "",
        };
        assert!(
            page.contains(&format!("<td>{}</td>", esc(&s.libelle))),
            "{}: {page}",
            s.libelle
        );
        assert!(page.contains(asked), "{asked}: {page}");
    }
    if let Some(url) = offer
        .origine_url
        .as_deref()
        .filter(|u| u.starts_with("https://"))
    {
        assert!(
            page.contains(&format!(
                r#"href="{}" rel="noopener noreferrer nofollow""#,
                esc(url)
            )),
            "{page}"
        );
    }
    if let Some(code) = &offer.rome_code {
        assert!(page.contains(&format!(r#"href="/rome/{code}""#)), "{page}");
    }
    if let Some(d) = &offer.description {
        let line = d.lines().find(|l| !l.trim().is_empty()).expect("a line");
        assert!(page.contains(&esc(line)), "{line}: {page}");
    }
    let json = console.json(&format!("/api/offers/{with_skills}")).await;
    assert_eq!(json["id"], with_skills.as_str());
    assert_eq!(
        json["skills"].as_array().map(Vec::len),
        Some(skills.len()),
        "{json}"
    );
    assert_eq!(json["intitule"].as_str(), offer.intitule.as_deref());

    // Unknown ids and bad parameters.
    console
        .error_page("/offers/NO-SUCH-OFFER", 404, "No stored offer has id")
        .await;
    let api = console.get("/api/offers/NO-SUCH-OFFER").await;
    assert_eq!(api.status, 404, "{}", api.body);
    for (path, says) in [
        ("/offers?departement=999", "`departement`"),
        ("/offers?rome=G16", "`rome`"),
        ("/offers?contract=%3Cb%3E", "`contract`"),
        ("/offers?limit=0", "`limit`"),
        ("/offers?offset=-1", "`offset`"),
        ("/offers?colour=red", "unknown parameter `colour`"),
        ("/api/offers/stats?offset=3", "unknown parameter `offset`"),
    ] {
        if path.starts_with("/api/") {
            let a = console.get(path).await;
            assert_eq!(a.status, 400, "{path}: {}", a.body);
            assert!(a.body.contains(says), "{path}: {}", a.body);
        } else {
            console.error_page(path, 400, says).await;
        }
    }
    let a = console.get("/api/offers?rome=1").await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("`rome`"), "{}", a.body);
    // A place no offer is in: an empty list that says so, not an error.
    let page = console.page("/offers?commune=Nowhere-sur-Mer").await;
    assert!(
        page.contains("No stored offer is in a place of that name."),
        "{page}"
    );
    console.shutdown().await;
}

on_every_backend!(
    the_offer_list_searches_filters_pages_and_charts,
    an_offer_page_shows_every_field_and_its_skills
);
