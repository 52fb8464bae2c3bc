//! `offers search|show` against what the demo collected: accent- and case-insensitive
//! words, places, job, contract, newest first.

use entity::job_offer;
use entity::prelude::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{OFFERS, cli, csv_records, field, fill, items, json};
use crate::helpers::{TestDb, assert_ok, stderr, stdout};
use crate::on_every_backend;

/// The ids of the stored offers `keep` accepts, newest first (then by id).
pub fn newest_first(
    offers: &[job_offer::Model],
    keep: impl Fn(&job_offer::Model) -> bool,
) -> Vec<String> {
    let mut kept: Vec<&job_offer::Model> = offers.iter().filter(|o| keep(o)).collect();
    kept.sort_by(|a, b| {
        (b.date_creation.is_some(), b.date_creation, &a.id).cmp(&(
            a.date_creation.is_some(),
            a.date_creation,
            &b.id,
        ))
    });
    kept.into_iter().map(|o| o.id.clone()).collect()
}

async fn offers_are_found_by_words_without_accents_newest_first(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let offers = JobOffer::find().all(&conn).await.expect("offers");
    assert_eq!(offers.len() as u64, OFFERS);

    let latest = json(&db, &["offers", "search"]);
    assert_eq!(field(&latest, "id"), newest_first(&offers, |_| true)[..20]);
    let every = json(&db, &["offers", "search", "--limit", "100000"]);
    assert_eq!(field(&every, "id"), newest_first(&offers, |_| true));

    for (q, word, accented) in [
        ("developpeur", "developpeur", "Développeur"),
        ("HYGIENE", "hygiene", "hygiène"),
    ] {
        let found = json(&db, &["offers", "search", "--q", q, "--limit", "1000"]);
        let expected = newest_first(&offers, |o| o.search_text.contains(word));
        assert!(!expected.is_empty(), "the sandbox has {word} offers");
        assert_eq!(field(&found, "id"), expected, "{q}");
        let text = offers
            .iter()
            .filter(|o| expected.contains(&o.id))
            .map(|o| format!("{:?} {:?}", o.intitule, o.description))
            .collect::<String>();
        assert!(text.contains(accented), "{q} finds {accented}");
    }
    let both = json(
        &db,
        &[
            "offers",
            "search",
            "--q",
            "Développeur  java",
            "--limit",
            "1000",
        ],
    );
    let expected = newest_first(&offers, |o| {
        o.search_text.contains("developpeur") && o.search_text.contains("java")
    });
    assert_eq!(field(&both, "id"), expected, "every word must occur");

    let sample = &offers[0];
    let commune = sample.commune.clone().expect("a commune");
    let other = offers
        .iter()
        .find_map(|o| o.commune.clone().filter(|c| *c != commune))
        .expect("another commune");
    let places = json(
        &db,
        &[
            "offers",
            "search",
            "--commune",
            &format!("{commune},{other}"),
            "--limit",
            "1000",
        ],
    );
    let expected = newest_first(&offers, |o| {
        o.commune.as_deref() == Some(commune.as_str())
            || o.commune.as_deref() == Some(other.as_str())
    });
    assert_eq!(field(&places, "id"), expected);
    let dep = sample.departement.clone().expect("a département");
    let rome = sample.rome_code.clone().expect("a ROME code");
    let contract = sample.type_contrat.clone().expect("a contract");
    let narrow = json(
        &db,
        &[
            "offers",
            "search",
            "--departement",
            &dep,
            "--rome",
            &rome.to_lowercase(),
            "--contract",
            &contract,
            "--limit",
            "1000",
        ],
    );
    let expected = newest_first(&offers, |o| {
        o.departement == sample.departement
            && o.rome_code == sample.rome_code
            && o.type_contrat == sample.type_contrat
    });
    assert!(expected.contains(&sample.id));
    assert_eq!(field(&narrow, "id"), expected);

    let nothing = json(&db, &["offers", "search", "--q", "astronaute lunaire"]);
    assert!(items(&nothing).is_empty());
    let (header, records) = csv_records(&db, &["offers", "search", "--q", "zzzz"]);
    assert_eq!(header[..2], ["id", "intitule"]);
    assert!(records.is_empty());
}

async fn an_offer_is_shown_with_its_skills(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let offer = JobOffer::find()
        .one(&conn)
        .await
        .expect("read")
        .expect("an offer");
    let skills = JobOfferSkill::find()
        .filter(entity::job_offer_skill::Column::OfferId.eq(offer.id.as_str()))
        .all(&conn)
        .await
        .expect("skills");

    let shown = json(&db, &["offers", "show", &offer.id]);

    assert_eq!(shown["id"], offer.id.as_str());
    assert_eq!(shown["intitule"].as_str(), offer.intitule.as_deref());
    let libelles: Vec<String> = skills.iter().map(|s| s.libelle.clone()).collect();
    assert_eq!(field(&shown["skills"], "libelle"), libelles);
    let table = cli(&db, &["offers", "show", &offer.id]);
    assert_ok(&table);
    assert!(
        stdout(&table).contains(&format!("skills ({})", skills.len())),
        "{}",
        stdout(&table)
    );

    let unknown = cli(&db, &["offers", "show", "NOPE123"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no offer \"NOPE123\""),
        "{}",
        stderr(&unknown)
    );
}

on_every_backend!(
    offers_are_found_by_words_without_accents_newest_first,
    an_offer_is_shown_with_its_skills,
);
