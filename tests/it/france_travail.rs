//! France Travail collect against wiremock: token renewal, Content-Range pages, 204,
//! 429, once a day, the raw archive on disk, bad offers, bad credentials.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use entity::prelude::*;
use entity::{job_offer, job_offer_skill};
use sagasync::archive::{Archive, ArchiveTarget, S3Settings};
use sagasync::france_travail::{FtClient, FtSettings, OfferQuery};
use sagasync::secret::Secret;
use sagasync::sync::offers::{CollectOptions, CollectReport, Collected, Collector, collect};
use sagasync::sync::{Interrupt, RunStatusKind, no_observer};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Backend, TestDb, run, run_on, sagasync, stderr};
use crate::on_every_backend;

const SEARCH: &str = "/v2/offres/search";

fn settings(server: &MockServer) -> FtSettings {
    FtSettings {
        auth_url: format!("{}/token?realm=/partenaire", server.uri()),
        api_url: format!("{}/v2", server.uri()),
        client_id: "client".into(),
        client_secret: Secret::new("s3cr3t"),
        scope: "api_offresdemploiv2 o2dsoffre".into(),
        timeout: Duration::from_secs(5),
        max_retries: 2,
        rate: 50.0,
    }
}

/// The token endpoint: `expires_in` seconds, each answer a new token, `n` times.
async fn mount_token(server: &MockServer, expires_in: u64, n: u64) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_secret=s3cr3t"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok", "token_type": "Bearer", "expires_in": expires_in,
            "scope": "api_offresdemploiv2 o2dsoffre"
        })))
        .expect(n)
        .mount(server)
        .await;
}

fn offer(id: &str) -> Value {
    json!({
        "id": id,
        "intitule": format!("Cuisinier {id}"),
        "romeCode": "G1602",
        "dateCreation": "2026-11-20T10:15:32.000Z",
        "lieuTravail": {"libelle": "75 - Paris 11e Arrondissement", "commune": "75111"},
        "competences": [
            {"code": "1", "libelle": "Préparer les produits culinaires", "exigence": "E"},
            {"code": "2", "libelle": "Respecter les règles d'hygiène", "exigence": "S"}
        ]
    })
}

fn ids(range: std::ops::Range<usize>) -> Vec<Value> {
    range.map(|i| offer(&format!("O{i:06}"))).collect()
}

/// One search page: `offers` at `start`, of `total`.
fn page(start: usize, offers: Vec<Value>, total: usize) -> ResponseTemplate {
    let end = start + offers.len().max(1) - 1;
    let status = if offers.len() == total { 200 } else { 206 };
    ResponseTemplate::new(status)
        .insert_header(
            "Content-Range",
            format!("offres {start}-{end}/{total}").as_str(),
        )
        .set_body_json(json!({ "resultats": offers, "filtresPossibles": [] }))
}

fn opts() -> CollectOptions {
    CollectOptions {
        max_pages: 100,
        delay: Duration::ZERO,
        force: false,
    }
}

async fn run_collect(
    conn: &DatabaseConnection,
    client: &FtClient,
    query: &OfferQuery,
    opts: &CollectOptions,
    archive: Option<&Archive>,
) -> Collected {
    let c = Collector {
        db: conn,
        client,
        opts,
        archive,
    };
    collect(
        c,
        query,
        &mut HashSet::new(),
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("collect")
}

fn done(c: Collected) -> CollectReport {
    match c {
        Collected::Done(r) => r,
        other => panic!("expected a collect, got {other:?}"),
    }
}

fn cuisinier() -> OfferQuery {
    OfferQuery {
        keywords: Some("cuisinier".into()),
        ..OfferQuery::default()
    }
}

async fn pages_follow_content_range_to_the_last_short_page(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_token(&server, 1499, 1).await;
    Mock::given(path(SEARCH))
        .and(query_param("range", "0-149"))
        .and(query_param("motsCles", "cuisinier"))
        .and(header("authorization", "Bearer tok"))
        .respond_with(page(0, ids(0..150), 162))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path(SEARCH))
        .and(query_param("range", "150-299"))
        .respond_with(page(150, ids(150..162), 162))
        .expect(2)
        .mount(&server)
        .await;
    let client = FtClient::new(settings(&server)).expect("client");

    let report = done(run_collect(&conn, &client, &cuisinier(), &opts(), None).await);

    assert_eq!(report.run.status, RunStatusKind::Succeeded);
    assert_eq!(
        (report.upstream_total, report.parts, report.requests),
        (Some(162), 1, 2)
    );
    assert_eq!(
        (report.run.stats.total, report.run.stats.created),
        (162, 162)
    );
    assert_eq!(JobOffer::find().count(&conn).await.expect("count"), 162);
    assert_eq!(
        JobOfferSkill::find().count(&conn).await.expect("count"),
        324
    );
    let o = JobOffer::find_by_id("O000007")
        .one(&conn)
        .await
        .expect("read")
        .expect("offer");
    assert_eq!(
        (o.departement.as_deref(), o.rome_code.as_deref()),
        (Some("75"), Some("G1602"))
    );

    // Again with --force: nothing changed, nothing rewritten, skills kept.
    let again = done(
        run_collect(
            &conn,
            &client,
            &cuisinier(),
            &CollectOptions {
                force: true,
                ..opts()
            },
            None,
        )
        .await,
    );
    assert_eq!(
        (again.run.stats.unchanged, again.run.stats.created),
        (162, 0)
    );
    assert_eq!(
        JobOfferSkill::find().count(&conn).await.expect("count"),
        324
    );
}

/// Without `Content-Range` the total is unknown: full pages are followed until a short one.
#[tokio::test]
async fn without_content_range_pages_are_read_to_the_short_one() {
    run_on(Backend::Sqlite, |db| async move {
        let conn = db.open().await;
        let server = MockServer::start().await;
        mount_token(&server, 1499, 1).await;
        let bare = |offers: Vec<Value>| {
            ResponseTemplate::new(206).set_body_json(json!({ "resultats": offers }))
        };
        for (range, offers) in [
            ("0-149", ids(0..150)),
            ("150-299", ids(150..300)),
            ("300-449", ids(300..340)),
        ] {
            Mock::given(path(SEARCH))
                .and(query_param("range", range))
                .respond_with(bare(offers))
                .expect(1)
                .mount(&server)
                .await;
        }
        let client = FtClient::new(settings(&server)).expect("client");

        let report = done(run_collect(&conn, &client, &cuisinier(), &opts(), None).await);

        assert_eq!(report.run.status, RunStatusKind::Succeeded);
        assert_eq!(
            (report.upstream_total, report.parts, report.requests),
            (None, 1, 3)
        );
        assert_eq!(JobOffer::find().count(&conn).await.expect("count"), 340);
    })
    .await;
}

async fn nothing_found_is_a_204_and_an_empty_run(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_token(&server, 1499, 1).await;
    Mock::given(path(SEARCH))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = FtClient::new(settings(&server)).expect("client");

    let report = done(run_collect(&conn, &client, &cuisinier(), &opts(), None).await);

    assert_eq!(report.run.status, RunStatusKind::Succeeded);
    assert_eq!(
        (report.upstream_total, report.run.stats.total),
        (Some(0), 0)
    );
}

async fn a_changed_offer_is_updated_with_its_skills_and_a_bad_one_recorded(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_token(&server, 1499, 1).await;
    let mut changed = offer("B");
    changed["competences"] = json!([{"libelle": "Dresser les assiettes", "exigence": "E"}]);
    let first = vec![offer("A"), offer("B"), json!({"intitule": "sans id"})];
    let second = vec![offer("A"), changed, json!({"intitule": "sans id"})];
    Mock::given(path(SEARCH))
        .respond_with(page(0, first, 3))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(SEARCH))
        .respond_with(page(0, second, 3))
        .mount(&server)
        .await;
    let client = FtClient::new(settings(&server)).expect("client");
    let forced = CollectOptions {
        force: true,
        ..opts()
    };

    let one = done(run_collect(&conn, &client, &cuisinier(), &forced, None).await);
    let two = done(run_collect(&conn, &client, &cuisinier(), &forced, None).await);

    assert_eq!((one.run.stats.created, one.run.stats.errors), (2, 1));
    let s = &two.run.stats;
    assert_eq!((s.created, s.updated, s.unchanged, s.errors), (0, 1, 1, 1));
    let skills: Vec<String> = JobOfferSkill::find()
        .filter(job_offer_skill::Column::OfferId.eq("B"))
        .all(&conn)
        .await
        .expect("skills")
        .into_iter()
        .map(|s| s.libelle)
        .collect();
    assert_eq!(skills, vec!["Dresser les assiettes"]);
    let errors = SyncError::find().all(&conn).await.expect("errors");
    assert!(errors.iter().any(|e| e.message == "no `id` in the offer"));
    assert_eq!(
        JobOffer::find()
            .filter(job_offer::Column::Id.is_in(["A", "B"]))
            .count(&conn)
            .await
            .expect("count"),
        2
    );
}

async fn a_query_runs_once_a_day_unless_forced(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_token(&server, 1499, 1).await;
    Mock::given(path(SEARCH))
        .respond_with(page(0, ids(0..3), 3))
        .expect(3)
        .mount(&server)
        .await;
    let client = FtClient::new(settings(&server)).expect("client");

    let first = done(run_collect(&conn, &client, &cuisinier(), &opts(), None).await);
    let skipped = run_collect(&conn, &client, &cuisinier(), &opts(), None).await;
    let Collected::AlreadyToday { run_id, .. } = skipped else {
        panic!("the second collect of the day is skipped: {skipped:?}");
    };
    assert_eq!(run_id, first.run.run_id);
    let other = OfferQuery {
        departement: Some("75".into()),
        ..cuisinier()
    };
    // Another query is another query; --force collects again.
    let _ = done(run_collect(&conn, &client, &other, &opts(), None).await);
    let forced = run_collect(
        &conn,
        &client,
        &cuisinier(),
        &CollectOptions {
            force: true,
            ..opts()
        },
        None,
    )
    .await;
    assert!(matches!(forced, Collected::Done(_)));
}

async fn nul_characters_in_an_offer_are_removed_with_a_warning(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_token(&server, 1499, 1).await;
    let mut odd = offer("O1");
    odd["intitule"] = json!("Cuisinier\u{0} de nuit");
    odd["competences"][0]["libelle"] = json!("Préparer\u{0}");
    Mock::given(path(SEARCH))
        .respond_with(page(0, vec![odd, offer("O2")], 2))
        .mount(&server)
        .await;
    let client = FtClient::new(settings(&server)).expect("client");

    let report = done(run_collect(&conn, &client, &cuisinier(), &opts(), None).await);

    assert_eq!(
        (report.run.stats.created, report.run.stats.warnings),
        (2, 1)
    );
    let stored = JobOffer::find_by_id("O1".to_owned())
        .one(&conn)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.intitule.as_deref(), Some("Cuisinier de nuit"));
    let skills: Vec<String> = JobOfferSkill::find()
        .filter(job_offer_skill::Column::OfferId.eq("O1"))
        .all(&conn)
        .await
        .expect("read")
        .into_iter()
        .map(|s| s.libelle)
        .collect();
    assert!(skills.contains(&"Préparer".to_owned()), "{skills:?}");
}

on_every_backend!(
    nul_characters_in_an_offer_are_removed_with_a_warning,
    pages_follow_content_range_to_the_last_short_page,
    nothing_found_is_a_204_and_an_empty_run,
    a_changed_offer_is_updated_with_its_skills_and_a_bad_one_recorded,
    a_query_runs_once_a_day_unless_forced,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_renewed_after_it_expires_and_after_a_401() {
    run_on(Backend::Sqlite, |db| async move {
        let conn = db.open().await;
        let server = MockServer::start().await;
        // Lives 1 s: renewed before the second search; then once more after the 401.
        mount_token(&server, 1, 3).await;
        Mock::given(path(SEARCH))
            .respond_with(
                ResponseTemplate::new(401).set_body_json(json!({"message": "Token expiré"})),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(path(SEARCH))
            .respond_with(page(0, ids(0..2), 2))
            .mount(&server)
            .await;
        let client = FtClient::new(settings(&server)).expect("client");
        let forced = CollectOptions {
            force: true,
            ..opts()
        };

        // Token 1, 401, token 2, success.
        done(run_collect(&conn, &client, &cuisinier(), &forced, None).await);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        // Token 2 has expired: token 3.
        done(run_collect(&conn, &client, &cuisinier(), &forced, None).await);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_waits_for_retry_after_then_goes_on() {
    run_on(Backend::Sqlite, |db| async move {
        let conn = db.open().await;
        let server = MockServer::start().await;
        mount_token(&server, 1499, 1).await;
        Mock::given(path(SEARCH))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_json(json!({"message": "Trop de requêtes"})),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(path(SEARCH))
            .respond_with(page(0, ids(0..5), 5))
            .expect(1)
            .mount(&server)
            .await;
        let client = FtClient::new(settings(&server)).expect("client");

        let started = Instant::now();
        let report = done(run_collect(&conn, &client, &cuisinier(), &opts(), None).await);

        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "Retry-After honoured"
        );
        assert_eq!(report.run.stats.created, 5);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_pages_are_archived_on_disk_with_the_collectors_names() {
    run_on(Backend::Sqlite, |db| async move {
        let conn = db.open().await;
        let server = MockServer::start().await;
        mount_token(&server, 1499, 1).await;
        let first = page(0, ids(0..150), 151);
        let second = page(150, ids(150..151), 151);
        Mock::given(path(SEARCH))
            .and(query_param("range", "0-149"))
            .respond_with(first)
            .mount(&server)
            .await;
        Mock::given(path(SEARCH))
            .and(query_param("range", "150-299"))
            .respond_with(second)
            .mount(&server)
            .await;
        let client = FtClient::new(settings(&server)).expect("client");
        let dir = db.dir().join("raw");
        let archive = Archive::open(ArchiveTarget::Dir(dir.clone()), &S3Settings::default())
            .expect("archive");

        let report = done(run_collect(&conn, &client, &cuisinier(), &opts(), Some(&archive)).await);

        assert_eq!(report.archived, 2);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("archive dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2);
        for (name, p) in names.iter().zip(["_p1.json", "_p2.json"]) {
            assert!(
                name.starts_with("france_travail_cuisinier_") && name.ends_with(p),
                "{name}"
            );
            // france_travail_{keywords}_{YYYYMMDD_HHMMSS}_p{page}.json
            let stamp = &name["france_travail_cuisinier_".len()..name.len() - p.len()];
            assert_eq!(stamp.len(), 15, "{name}");
        }
        let body: Value =
            serde_json::from_slice(&std::fs::read(dir.join(&names[1])).expect("read"))
                .expect("json");
        assert_eq!(body["resultats"][0]["id"], "O000150");
    })
    .await;
}

fn ft_cmd(db: &TestDb, server: &MockServer) -> std::process::Command {
    let mut cmd = sagasync(db);
    for v in [
        "FRANCE_TRAVAIL_CLIENT_ID",
        "FRANCE_TRAVAIL_CLIENT_SECRET",
        "POLE_EMPLOI_CLIENT_ID",
        "POLE_EMPLOI_CLIENT_SECRET",
    ] {
        cmd.env_remove(v);
    }
    cmd.env("FRANCE_TRAVAIL_AUTH_URL", format!("{}/token", server.uri()))
        .env("FRANCE_TRAVAIL_API_URL", format!("{}/v2", server.uri()))
        .env("FRANCE_TRAVAIL_API_MAX_RETRIES", "0");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_bad_flags_and_says_when_credentials_are_refused() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        Mock::given(path("/token"))
            .respond_with(ResponseTemplate::new(401).set_body_json(
                json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
            ))
            .mount(&server)
            .await;

        let five = run(ft_cmd(&db, &server).args(["france-travail", "collect", "--since-days", "5"]));
        assert_eq!(five.status.code(), Some(2));
        assert!(stderr(&five).contains("1, 3, 7, 14 or 31"), "{}", stderr(&five));
        assert_eq!(server.received_requests().await.map(|r| r.len()), Some(0), "refused before any request");

        let none = run(ft_cmd(&db, &server).args(["france-travail", "collect"]));
        assert_eq!(none.status.code(), Some(1));
        assert!(stderr(&none).contains("FRANCE_TRAVAIL_CLIENT_ID"), "{}", stderr(&none));

        let refused = run(ft_cmd(&db, &server)
            .env("POLE_EMPLOI_CLIENT_ID", "old-name")
            .env("FRANCE_TRAVAIL_CLIENT_SECRET", "wrong-secret")
            .args(["france-travail", "collect", "--keywords", "cuisinier"]));
        assert_eq!(refused.status.code(), Some(1));
        let err = stderr(&refused);
        assert!(err.contains("France Travail refused the client credentials: invalid_client"), "{err}");
        assert!(!err.contains("wrong-secret"));
        assert_eq!(err.lines().filter(|l| l.starts_with("error")).count(), 1, "{err}");
    })
    .await;
}
