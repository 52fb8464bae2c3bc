//! `rome show` and `match-skills` through the binary, on offers the demo collected from
//! the sandbox: the profile against what the database holds, the score's bounds, the
//! table output, unknown ROME codes and arguments that are none; every backend.

use std::collections::{BTreeMap, BTreeSet};

use entity::prelude::*;
use sea_orm::EntityTrait;
use serde_json::Value;

use crate::helpers::{TestDb, assert_ok, stderr, stdout};
use crate::inspect::{cli, fill};
use crate::on_every_backend;

/// Runs a skills command with `--format json` and parses it.
fn json(db: &TestDb, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = cli(db, &all);
    assert_ok(&out);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&out)))
}

async fn the_profile_and_the_score_come_from_the_stored_offers(db: TestDb) {
    fill(&db);
    let conn = db.open().await;
    let offers = JobOffer::find().all(&conn).await.expect("offers");
    let skills = JobOfferSkill::find().all(&conn).await.expect("skills");
    // The most common job, and the offers asking each skill (spellings folded).
    let mut per_rome = BTreeMap::<String, BTreeSet<String>>::new();
    for o in &offers {
        if let Some(r) = &o.rome_code {
            per_rome.entry(r.clone()).or_default().insert(o.id.clone());
        }
    }
    let (code, ids) = per_rome
        .iter()
        .max_by_key(|(_, ids)| ids.len())
        .expect("a job");
    let mut asked = BTreeMap::<String, BTreeSet<&str>>::new();
    for s in skills.iter().filter(|s| ids.contains(&s.offer_id)) {
        asked
            .entry(sagasync::text::fold(&s.libelle))
            .or_default()
            .insert(&s.offer_id);
    }

    let profile = json(
        &db,
        &["rome", "show", &code.to_lowercase(), "--skills", "50"],
    );
    assert_eq!(profile["rome_code"], code.as_str());
    assert_eq!(profile["offers"], ids.len());
    let listed = profile["skills"].as_array().expect("skills");
    assert_eq!(listed.len(), asked.len(), "{profile}");
    let mut previous = u64::MAX;
    for s in listed {
        let label = s["libelle"].as_str().expect("a label");
        let n = s["offers"].as_u64().expect("a count");
        assert_eq!(
            n as usize,
            asked[&sagasync::text::fold(label)].len(),
            "{label}"
        );
        let share = s["frequency"].as_f64().expect("a share");
        assert!((share - n as f64 / ids.len() as f64).abs() < 0.01, "{s}");
        assert!(n <= previous, "most requested first");
        previous = n;
    }
    let shares: f64 = profile["contracts"]
        .as_array()
        .expect("contracts")
        .iter()
        .filter_map(|c| c["frequency"].as_f64())
        .sum();
    assert!(
        (shares - 1.0).abs() < 0.02,
        "contract shares add up: {profile}"
    );
    let two = json(&db, &["rome", "show", code, "--skills", "2"]);
    assert_eq!(two["skills"].as_array().map(Vec::len), Some(2));

    // Every required skill, spelled without accents: a full score.
    let all: Vec<String> = listed
        .iter()
        .take(10)
        .filter_map(|s| s["libelle"].as_str())
        .map(sagasync::text::fold)
        .collect();
    let full = json(
        &db,
        &["match-skills", "--rome", code, "--skills", &all.join(", ")],
    );
    assert_eq!(full["match_score"], 1.0, "{full}");
    assert_eq!(full["missing_skills"], serde_json::json!([]), "{full}");
    // One of them: a score strictly between, the rest listed as missing.
    let one = json(&db, &["match-skills", "--rome", code, "--skills", &all[0]]);
    let score = one["match_score"].as_f64().expect("a score");
    assert!(score > 0.0 && score < 1.0, "{one}");
    assert_eq!(one["matching_skills"].as_array().map(Vec::len), Some(1));
    assert!(
        one["recommendations"][0]
            .as_str()
            .is_some_and(|r| r.starts_with("develop")),
        "{one}"
    );
    // Skills that match nothing are all in the answer, in the JSON, the CSV and the
    // table (a typo and an unrelated skill).
    let typos = format!("{}, hygeine, dressage, hygeine", all[0]);
    let args = ["match-skills", "--rome", code, "--skills", &typos];
    let with_typos = json(&db, &args);
    assert_eq!(
        with_typos["unmatched_skills"],
        serde_json::json!(["hygeine", "dressage"]),
        "{with_typos}"
    );
    let text = stdout(&cli(&db, &args));
    assert!(
        text.contains("Unmatched skills") && text.contains("hygeine") && text.contains("dressage"),
        "{text}"
    );
    let out = cli(&db, &[&args[..], &["--format", "csv"]].concat());
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let unmatched: Vec<String> = reader
        .records()
        .map(|r| r.expect("a record"))
        .filter(|r| &r[4] == "unmatched")
        .map(|r| r[5].to_owned())
        .collect();
    assert_eq!(unmatched, ["hygeine", "dressage"]);
    assert_eq!(one["unmatched_skills"], serde_json::json!([]));
    // Nothing: zero, and it says so.
    let none = json(&db, &["match-skills", "--rome", code, "--skills", " , "]);
    assert_eq!(none["match_score"], 0.0);
    assert!(
        none["recommendations"][0]
            .as_str()
            .is_some_and(|r| r.contains("none were given"))
    );

    let table = cli(&db, &["match-skills", "--rome", code, "--skills", &all[0]]);
    assert_ok(&table);
    let text = stdout(&table);
    assert!(text.contains(&format!("{code}: match score")), "{text}");
    assert!(text.contains("Missing skills"), "{text}");
    // CSV: the profile's skills; the match, one row per skill of the profile shown.
    let out = cli(
        &db,
        &["rome", "show", code, "--skills", "50", "--format", "csv"],
    );
    assert_ok(&out);
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    assert_eq!(rows.len(), listed.len());
    assert_eq!(
        &rows[0][1],
        listed[0]["libelle"].as_str().unwrap_or_default()
    );
    let out = cli(
        &db,
        &[
            "match-skills",
            "--rome",
            code,
            "--skills",
            &all[0],
            "--format",
            "csv",
        ],
    );
    assert_ok(&out);
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header = reader.headers().expect("a header").clone();
    assert_eq!(&header[4], "status");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    let matched = rows.iter().filter(|r| &r[4] == "matched").count();
    let missing = rows.iter().filter(|r| &r[4] == "missing").count();
    assert_eq!(matched, 1);
    assert_eq!(
        missing,
        one["missing_skills"].as_array().map_or(0, Vec::len)
    );
    let score = one["match_score"].to_string();
    assert!(rows.iter().all(|r| r[1] == *score.as_str()));

    let table = cli(&db, &["rome", "show", code]);
    assert_ok(&table);
    assert!(stdout(&table).contains("Most requested skills"));

    for args in [
        ["rome", "show", "Z9999", "", ""],
        ["match-skills", "--rome", "Z9999", "--skills", "accueil"],
    ] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        let out = cli(&db, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("no stored offer has ROME code Z9999"),
            "{}",
            stderr(&out)
        );
    }
    for args in [
        vec!["rome", "show", "%"],
        vec!["match-skills", "--rome", "cuisine", "--skills", "x"],
        vec!["match-skills", "--rome", "G1602"],
    ] {
        let out = cli(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

on_every_backend!(the_profile_and_the_score_come_from_the_stored_offers);

/// `| head` closes the pipe before the output ends: what was asked for was written,
/// so every printing command exits 0 without a panic, whatever its format.
#[tokio::test]
async fn a_closed_pipe_ends_output_quietly() {
    crate::helpers::run_on(crate::helpers::Backend::Sqlite, |db| async move {
        fill(&db);
        let code = json(&db, &["offers", "search", "--limit", "1"])[0]["rome_code"]
            .as_str()
            .expect("a ROME code")
            .to_owned();
        let skills = "hygiène, accueil";
        for args in [
            vec!["rome", "show", code.as_str()],
            vec!["rome", "show", code.as_str(), "--format", "json"],
            vec!["match-skills", "--rome", code.as_str(), "--skills", skills],
            vec!["products", "list", "--limit", "200"],
            vec!["rome", "search", "a"],
            vec!["runs", "list"],
            vec!["runs", "show", "2"],
            vec!["db", "stats"],
            vec!["keys", "list"],
            vec!["categories", "tree"],
            vec!["cerema", "users", "list"],
            vec!["profiles", "list"],
        ] {
            let mut child = crate::helpers::sagasync(&db)
                .args(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the binary starts");
            // Closed before the command has opened its database, so before it writes.
            drop(child.stdout.take());
            let out = child.wait_with_output().expect("it ends");
            let err = stderr(&out);
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        }
    })
    .await;
}
