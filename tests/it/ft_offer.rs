//! `france-travail offer ID`: one offer fetched from the sandbox, stored with its skills,
//! refreshed when it changed, shown as `offers show` shows it (every backend); against
//! wiremock, an unknown offer, hostile answers (HTML with 200, another offer's JSON, a
//! cut body) refused with nothing stored, and the token renewed on a 401.

use entity::prelude::*;
use entity::{job_offer, job_offer_skill};
use sagasync::sandbox::france_travail::FranceTravailConfig;
use sagasync::sandbox::{Sandbox, SandboxConfig};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    Backend, TestDb, assert_ok, refuse_on_insert, run, run_on, sagasync, stderr, stdout,
};
use crate::on_every_backend;

fn cli(db: &TestDb, auth: &str, api: &str, id: &str, secret: &str) -> std::process::Command {
    let mut cmd = sagasync(db);
    cmd.env("FRANCE_TRAVAIL_AUTH_URL", auth)
        .env("FRANCE_TRAVAIL_API_URL", api)
        .env("FRANCE_TRAVAIL_CLIENT_ID", id)
        .env("FRANCE_TRAVAIL_CLIENT_SECRET", secret)
        .env("FRANCE_TRAVAIL_API_MAX_RETRIES", "0");
    cmd
}

fn sandbox_cli(db: &TestDb, sb: &Sandbox) -> std::process::Command {
    cli(
        db,
        &sb.ft_auth_url(),
        &sb.ft_api_url(),
        &sb.ft_client_id(),
        &sb.ft_client_secret(),
    )
}

async fn skills_of(conn: &DatabaseConnection, id: &str) -> Vec<String> {
    JobOfferSkill::find()
        .filter(job_offer_skill::Column::OfferId.eq(id))
        .all(conn)
        .await
        .expect("skills")
        .into_iter()
        .map(|s| s.libelle)
        .collect()
}

async fn an_offer_is_fetched_stored_refreshed_and_shown(db: TestDb) {
    let config = SandboxConfig {
        seed: 21,
        france_travail: FranceTravailConfig {
            offers: 300,
            rate_limit: 0,
            ..FranceTravailConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the sandbox");
    let ids = sb.ft_offer_ids("").await.expect("ids");
    let id = ids[7].clone();

    let out = run(sandbox_cli(&db, &sb).args(["france-travail", "offer", &id, "--format", "json"]));
    assert_ok(&out);
    assert!(
        stderr(&out).contains(&format!("offer {id}: stored")),
        "{}",
        stderr(&out)
    );
    let shown: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(shown["id"], id.as_str());

    let conn = db.open().await;
    let stored = JobOffer::find_by_id(id.clone())
        .one(&conn)
        .await
        .expect("read")
        .expect("stored");
    let offers_show = crate::inspect::json(&db, &["offers", "show", &id]);
    assert_eq!(shown, offers_show, "shown as `offers show` shows it");
    let asked: Vec<String> = stored.raw["competences"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|s| s["libelle"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(skills_of(&conn, &id).await, asked, "with its skills");
    assert_eq!(JobOffer::find().count(&conn).await.expect("count"), 1);

    // Again: unchanged, only marked seen.
    let out = run(sandbox_cli(&db, &sb).args(["france-travail", "offer", &id]));
    assert_ok(&out);
    assert!(
        stderr(&out).contains("already stored as it is"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("field") && stdout(&out).contains(&id));

    // Changed upstream: refreshed, skills replaced, first seen kept.
    let http = sagasync::http::client().expect("a client");
    let r = http
        .post(format!("http://{}/sandbox/mutate?share=1", sb.addr))
        .send()
        .await
        .expect("mutate");
    assert_eq!(r.status(), 200);
    let out = run(sandbox_cli(&db, &sb).args(["france-travail", "offer", &id, "--format", "csv"]));
    assert_ok(&out);
    assert!(stderr(&out).contains("refreshed"), "{}", stderr(&out));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    assert_eq!(reader.records().count(), 1, "one CSV record");
    let refreshed = JobOffer::find_by_id(id.clone())
        .one(&conn)
        .await
        .expect("read")
        .expect("stored");
    assert_ne!(refreshed.content_hash, stored.content_hash);
    assert_ne!(refreshed.date_actualisation, stored.date_actualisation);
    assert_eq!(refreshed.first_seen_at, stored.first_seen_at);
    assert_eq!(skills_of(&conn, &id).await.len(), asked.len());

    // An offer the database refuses: said, nothing of it stored.
    let other = ids[8].clone();
    refuse_on_insert(&conn, "job_offers", "id", &format!("'{other}'")).await;
    let out = run(sandbox_cli(&db, &sb).args(["france-travail", "offer", &other]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "offer {other} not stored: the database refused the offer"
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(JobOffer::find().count(&conn).await.expect("count"), 1);
    assert!(skills_of(&conn, &other).await.is_empty());

    // An id France Travail does not know (the sandbox answers 204).
    let out = run(sandbox_cli(&db, &sb).args(["france-travail", "offer", "0000000"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "error: no offer 0000000 at France Travail"
    );
}

on_every_backend!(an_offer_is_fetched_stored_refreshed_and_shown);

const ID: &str = "171XKPT";

fn offer(id: &str) -> Value {
    json!({
        "id": id,
        "intitule": "Cuisinier (H/F)",
        "romeCode": "G1602",
        "competences": [{"code": "1", "libelle": "Dresser les assiettes", "exigence": "E"}]
    })
}

/// A France Travail whose token endpoint answers, and whose `offres/171XKPT` answers
/// `answer`.
async fn upstream(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok", "token_type": "Bearer", "expires_in": 1499
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/offres/{ID}")))
        .and(header("authorization", "Bearer tok"))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

fn wiremock_cli(db: &TestDb, server: &MockServer) -> std::process::Command {
    cli(
        db,
        &format!("{}/token", server.uri()),
        &format!("{}/v2", server.uri()),
        "client",
        "secret",
    )
}

async fn stored_offers(db: &TestDb) -> u64 {
    JobOffer::find()
        .count(&db.open().await)
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_offer_is_said_and_nothing_stored() {
    run_on(Backend::Sqlite, |db| async move {
        for status in [404, 204] {
            let server = upstream(
                ResponseTemplate::new(status).set_body_json(json!({"message": "Offre inconnue"})),
            )
            .await;
            let out = run(wiremock_cli(&db, &server).args(["france-travail", "offer", ID]));
            assert_eq!(out.status.code(), Some(1), "{status}");
            assert_eq!(
                stderr(&out).trim(),
                format!("error: no offer {ID} at France Travail"),
                "{status}"
            );
        }
        assert_eq!(stored_offers(&db).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_are_refused_with_nothing_stored() {
    run_on(Backend::Sqlite, |db| async move {
        let html = ResponseTemplate::new(200)
            .insert_header("content-type", "text/html")
            .set_body_string("<html><body>Maintenance en cours</body></html>");
        let other = ResponseTemplate::new(200).set_body_json(offer("999ZZZZ"));
        let cut = ResponseTemplate::new(200)
            .insert_header("content-type", "application/json")
            .set_body_string(r#"{"id": "171XKPT", "intitule": "Cuisin"#);
        let empty = ResponseTemplate::new(200).set_body_string("");
        let list = ResponseTemplate::new(200).set_body_json(json!({"resultats": [offer(ID)]}));
        for (answer, says) in [
            (html, "it starts with \"<html><body>Maintenance"),
            (other, "the answer is offer \"999ZZZZ\", not \"171XKPT\""),
            (cut, "the answer is not the JSON expected"),
            (empty, "an empty body with status 200"),
            (list, "the answer holds no offer `id`"),
        ] {
            let server = upstream(answer).await;
            let out = run(wiremock_cli(&db, &server).args(["france-travail", "offer", ID]));
            assert_eq!(out.status.code(), Some(1), "{says}");
            let err = stderr(&out);
            assert!(
                err.contains(&format!("cannot read offer {ID} from France Travail"))
                    && err.contains(says),
                "{says}: {err}"
            );
            assert_eq!(
                err.lines().filter(|l| l.starts_with("error")).count(),
                1,
                "{err}"
            );
        }
        assert_eq!(stored_offers(&db).await, 0, "nothing stored");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_renewed_once_and_the_offer_stored() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "tok", "token_type": "Bearer", "expires_in": 1499
            })))
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(path(format!("/v2/offres/{ID}")))
            .respond_with(
                ResponseTemplate::new(401).set_body_json(json!({"message": "Jeton expiré"})),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(path(format!("/v2/offres/{ID}")))
            .and(header("authorization", "Bearer tok"))
            .and(header("accept", "application/json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(offer(ID)))
            .expect(1)
            .mount(&server)
            .await;

        let out = run(wiremock_cli(&db, &server).args([
            "france-travail",
            "offer",
            ID,
            "--format",
            "json",
        ]));

        assert_ok(&out);
        let shown: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(shown["skills"][0]["libelle"], "Dresser les assiettes");
        let conn = db.open().await;
        let stored = JobOffer::find()
            .filter(job_offer::Column::Id.eq(ID))
            .count(&conn)
            .await
            .expect("count");
        assert_eq!(stored, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_that_is_not_one_is_refused_before_any_request() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        for id in ["../search", "171 XKPT", ""] {
            let out = run(wiremock_cli(&db, &server).args(["france-travail", "offer", id]));
            assert_eq!(out.status.code(), Some(2), "{id:?}: {}", stderr(&out));
            assert!(
                stderr(&out).contains("letters and digits"),
                "{}",
                stderr(&out)
            );
        }
        let requests = server.received_requests().await.expect("recorded");
        assert!(requests.is_empty(), "{requests:?}");
    })
    .await;
}

/// An offer answered by a redirect to another host: the redirect is refused, the
/// other host gets no request (so never the token), nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_sends_it_nothing() {
    run_on(Backend::Sqlite, |db| async move {
        let elsewhere = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(200).set_body_json(offer(ID)))
            .mount(&elsewhere)
            .await;
        let moved = ResponseTemplate::new(302)
            .insert_header("location", format!("{}/v2/offres/{ID}", elsewhere.uri()));
        let server = upstream(moved).await;
        let out = run(wiremock_cli(&db, &server).args(["france-travail", "offer", ID]));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let requests = elsewhere.received_requests().await.unwrap_or_default();
        assert!(
            requests.is_empty(),
            "the other host was asked: {requests:?}"
        );
        assert_eq!(stored_offers(&db).await, 0, "nothing stored");
    })
    .await;
}
