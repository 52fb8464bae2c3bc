//! `recommend` through the binary, on offers the demo collected from the sandbox: the
//! ranking against `match-skills`, offers near a commune (nearest first, within the
//! distance), a profile's skills and experience bonus, and the errors; every backend.

use entity::job_offer;
use entity::prelude::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use sagasync::profiles::store::{self, AccountInput, ExperienceInput, SkillInput};
use sagasync::skills::recommend::{haversine_km, with_bonus};

use crate::helpers::{TestDb, assert_ok, stderr, stdout};
use crate::inspect::{cli, fill};
use crate::on_every_backend;

/// Runs a command with `--format json` and parses it.
fn json(db: &TestDb, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = cli(db, &all);
    assert_ok(&out);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&out)))
}

/// An offer's (latitude, longitude).
fn position(o: &job_offer::Model) -> (f64, f64) {
    (
        o.latitude.expect("a latitude"),
        o.longitude.expect("a longitude"),
    )
}

/// The ROME code with the most stored offers, and its 10 most requested skills.
async fn busiest_job(db: &TestDb) -> (String, Vec<String>) {
    let conn = db.open().await;
    let offers = JobOffer::find().all(&conn).await.expect("offers");
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for o in &offers {
        if let Some(r) = &o.rome_code {
            *counts.entry(r.clone()).or_default() += 1;
        }
    }
    let code = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(c, _)| c.clone())
        .expect("a job");
    let profile = json(db, &["rome", "show", &code, "--skills", "10"]);
    let skills = profile["skills"]
        .as_array()
        .expect("skills")
        .iter()
        .filter_map(|s| s["libelle"].as_str().map(str::to_owned))
        .collect();
    (code, skills)
}

async fn recommendations_rank_jobs_by_the_match_skills_score(db: TestDb) {
    fill(&db);
    let (code, skills) = busiest_job(&db).await;
    let skills = skills.join(", ");

    let found = json(&db, &["recommend", "--skills", &skills, "--limit", "5"]);
    let found = found.as_array().expect("an array");
    assert!(!found.is_empty() && found.len() <= 5, "{found:?}");
    assert_eq!(found[0]["rome_code"], code.as_str(), "{found:?}");
    assert_eq!(found[0]["match_score"], 1.0, "{found:?}");
    let conn = db.open().await;
    let mut previous = f64::MAX;
    for r in found {
        let rc = r["rome_code"].as_str().expect("a code");
        let matched = json(&db, &["match-skills", "--rome", rc, "--skills", &skills]);
        assert_eq!(r["match_score"], matched["match_score"], "{rc}");
        assert_eq!(r["matching_skills"], matched["matching_skills"], "{rc}");
        assert_eq!(r["missing_skills"], matched["missing_skills"], "{rc}");
        let score = r["match_score"].as_f64().expect("a score");
        assert!(score > 0.0 && score <= previous, "best first: {found:?}");
        previous = score;
        let offers = r["offers"].as_array().expect("offers");
        assert!(!offers.is_empty() && offers.len() <= 3, "{r}");
        for o in offers {
            assert!(o.get("distance_km").is_none(), "{o}");
            let id = o["id"].as_str().expect("an id");
            let stored = JobOffer::find_by_id(id)
                .one(&conn)
                .await
                .expect("read")
                .expect("a stored offer");
            assert_eq!(stored.rome_code.as_deref(), Some(rc));
        }
    }

    // The table and the CSV say the same.
    let out = cli(&db, &["recommend", "--skills", &skills]);
    assert_ok(&out);
    assert!(stdout(&out).contains(&code), "{}", stdout(&out));
    let out = cli(&db, &["recommend", "--skills", &skills, "--format", "csv"]);
    assert_ok(&out);
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let first = reader.records().next().expect("a row").expect("a record");
    assert_eq!(&first[0], code.as_str());
}

async fn offers_near_a_commune_are_within_the_distance_nearest_first(db: TestDb) {
    fill(&db);
    let (code, skills) = busiest_job(&db).await;
    let conn = db.open().await;
    let offers = JobOffer::find()
        .filter(job_offer::Column::RomeCode.eq(code.as_str()))
        .filter(job_offer::Column::Latitude.is_not_null())
        .all(&conn)
        .await
        .expect("offers");
    let commune = offers[0].commune.clone().expect("a commune");
    let all = JobOffer::find()
        .filter(job_offer::Column::Commune.eq(commune.as_str()))
        .filter(job_offer::Column::Latitude.is_not_null())
        .all(&conn)
        .await
        .expect("the commune's offers");
    let n = all.len() as f64;
    let center = (
        all.iter().filter_map(|o| o.latitude).sum::<f64>() / n,
        all.iter().filter_map(|o| o.longitude).sum::<f64>() / n,
    );
    const KM: f64 = 40.0;
    let within: Vec<&job_offer::Model> = offers
        .iter()
        .filter(|o| haversine_km(center, position(o)) <= KM)
        .collect();

    let found = json(
        &db,
        &[
            "recommend",
            "--skills",
            &skills.join(", "),
            "--commune",
            &commune,
            "--distance",
            &KM.to_string(),
            "--limit",
            "3",
        ],
    );
    let found = found.as_array().expect("an array");
    assert_eq!(found[0]["rome_code"], code.as_str(), "{found:?}");
    let shown = found[0]["offers"].as_array().expect("offers");
    assert_eq!(shown.len(), within.len().min(3), "{found:?}");
    for r in found {
        let mut previous = 0.0;
        for o in r["offers"].as_array().expect("offers") {
            let d = o["distance_km"].as_f64().expect("a distance");
            assert!(
                d <= KM && d >= previous,
                "nearest first, within {KM} km: {r}"
            );
            previous = d;
            if r["rome_code"] == code.as_str() {
                let id = o["id"].as_str().expect("an id");
                let stored = within
                    .iter()
                    .find(|s| s.id == id)
                    .expect("an offer of the code within the distance");
                let exact = haversine_km(center, position(stored));
                assert!((exact - d).abs() <= 0.06, "{exact} vs {d}");
            }
        }
    }
}

async fn a_profile_brings_its_skills_and_its_experience(db: TestDb) {
    fill(&db);
    let (code, skills) = busiest_job(&db).await;
    let conn = db.open().await;
    let input = AccountInput {
        email: "ana@example.org".to_owned(),
        name: "Ana".to_owned(),
        phone: None,
    };
    let ana = store::add_account(&conn, &input, None)
        .await
        .expect("an account");
    let skill = SkillInput {
        id: None,
        label: skills[0].clone(),
    };
    store::add_item::<ProfileSkill>(&conn, ana.id, &skill)
        .await
        .expect("a skill");
    let experience = ExperienceInput {
        id: None,
        title: "Past job".to_owned(),
        employer: None,
        rome_code: Some(code.clone()),
        start_date: "2021-03-01".to_owned(),
        end_date: None,
    };
    store::add_item::<ProfileExperience>(&conn, ana.id, &experience)
        .await
        .expect("an experience");

    let found = json(&db, &["recommend", "--profile", "ANA@example.org"]);
    let matched = json(
        &db,
        &["match-skills", "--rome", &code, "--skills", &skills[0]],
    );
    let r = found
        .as_array()
        .expect("an array")
        .iter()
        .find(|r| r["rome_code"] == code.as_str())
        .expect("the job of the experience");
    let score = matched["match_score"].as_f64().expect("a score");
    assert_eq!(r["match_score"].as_f64(), Some(with_bonus(score, true)));
    let by_id = json(&db, &["recommend", "--profile", &ana.id.to_string()]);
    assert_eq!(by_id, found);

    // A profile without skills, an unknown profile, no skills, an unknown commune.
    let input = AccountInput {
        email: "bob@example.org".to_owned(),
        name: "Bob".to_owned(),
        phone: None,
    };
    store::add_account(&conn, &input, None)
        .await
        .expect("an account");
    for (args, said) in [
        (
            vec!["recommend", "--profile", "bob@example.org"],
            "holds no skill",
        ),
        (
            vec!["recommend", "--profile", "nobody@example.org"],
            "no account",
        ),
        (vec!["recommend", "--skills", " , "], "no skills given"),
        (
            vec!["recommend", "--skills", "accueil", "--commune", "99999"],
            "commune 99999",
        ),
    ] {
        let out = cli(&db, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(said), "{args:?}: {}", stderr(&out));
    }
    for args in [
        vec!["recommend"],
        vec!["recommend", "--skills", "x", "--profile", "1"],
        vec!["recommend", "--skills", "x", "--distance", "5"],
        vec![
            "recommend",
            "--skills",
            "x",
            "--commune",
            "75056",
            "--distance",
            "-3",
        ],
    ] {
        let out = cli(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

on_every_backend!(
    recommendations_rank_jobs_by_the_match_skills_score,
    offers_near_a_commune_are_within_the_distance_nearest_first,
    a_profile_brings_its_skills_and_its_experience,
);
