//! France Travail collect against the sandbox: the split past the 3,150 cap gives
//! exactly the sandbox's offers, the limiter keeps the sandbox's rate limit, and raw
//! pages land in S3.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use entity::prelude::*;
use sagasync::archive::{Archive, ArchiveTarget};
use sagasync::france_travail::{DEFAULT_SCOPE, FtClient, FtSettings, OfferQuery};
use sagasync::sandbox::france_travail::FranceTravailConfig;
use sagasync::sandbox::{Sandbox, SandboxConfig};
use sagasync::secret::Secret;
use sagasync::sync::offers::{CollectOptions, CollectReport, Collected, Collector, collect};
use sagasync::sync::{Interrupt, RunStatusKind, no_observer};
use sea_orm::{DatabaseConnection, EntityTrait, QuerySelect};
use serde_json::Value;

use crate::archive::{ACCESS_KEY, S3Server, SECRET_KEY};
use crate::helpers::{Backend, TestDb, refuse_on_insert, run_on};
use crate::on_every_backend;

async fn sandbox(offers: usize, rate_limit: u32) -> Sandbox {
    let config = SandboxConfig {
        seed: 5,
        france_travail: FranceTravailConfig {
            offers,
            rate_limit,
            ..FranceTravailConfig::default()
        },
        ..SandboxConfig::default()
    };
    Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("sandbox")
}

fn client(sandbox: &Sandbox, rate: f64) -> FtClient {
    FtClient::new(FtSettings {
        auth_url: sandbox.ft_auth_url(),
        api_url: sandbox.ft_api_url(),
        client_id: sandbox.ft_client_id(),
        client_secret: Secret::new(sandbox.ft_client_secret()),
        scope: DEFAULT_SCOPE.to_owned(),
        timeout: Duration::from_secs(30),
        max_retries: 3,
        rate,
    })
    .expect("client")
}

async fn collect_all(
    conn: &DatabaseConnection,
    client: &FtClient,
    query: &OfferQuery,
    archive: Option<&Archive>,
) -> CollectReport {
    let opts = CollectOptions {
        max_pages: 100,
        delay: Duration::ZERO,
        force: true,
    };
    let c = Collector {
        db: conn,
        client,
        opts: &opts,
        archive,
    };
    match collect(
        c,
        query,
        &mut HashSet::new(),
        no_observer(),
        &Interrupt::new(),
    )
    .await
    .expect("collect")
    {
        Collected::Done(r) => r,
        other => panic!("expected a collect: {other:?}"),
    }
}

async fn stored_ids(conn: &DatabaseConnection) -> BTreeSet<String> {
    JobOffer::find()
        .select_only()
        .column(entity::job_offer::Column::Id)
        .into_tuple::<String>()
        .all(conn)
        .await
        .expect("ids")
        .into_iter()
        .collect()
}

async fn a_query_past_the_cap_is_split_and_gives_every_offer_once(db: TestDb) {
    let conn = db.open().await;
    let sandbox = sandbox(5_000, 0).await;
    let client = client(&sandbox, 1000.0);

    let report = collect_all(&conn, &client, &OfferQuery::default(), None).await;

    assert_eq!(report.run.status, RunStatusKind::Succeeded);
    assert_eq!(report.upstream_total, Some(5_000));
    assert!(report.parts > 1, "split: {} parts", report.parts);
    let expected: BTreeSet<String> = sandbox
        .ft_offer_ids("")
        .await
        .expect("ids")
        .into_iter()
        .collect();
    assert_eq!(expected.len(), 5_000);
    assert_eq!(stored_ids(&conn).await, expected);
    assert_eq!(report.run.stats.created, 5_000);
    // The run remembers how it went: parts and requests in its options.
    let row = SyncRun::find_by_id(report.run.run_id)
        .one(&conn)
        .await
        .expect("read")
        .expect("the run");
    let collected = &row.options["collected"];
    assert_eq!(collected["parts"], report.parts, "{}", row.options);
    assert_eq!(collected["requests"], report.requests);
    assert_eq!(collected["upstream_total"], 5_000);
}

async fn an_offer_the_database_refuses_rolls_back_alone(db: TestDb) {
    let conn = db.open().await;
    let sandbox = sandbox(400, 0).await;
    let ids = sandbox.ft_offer_ids("").await.expect("ids");
    let refused = ids[200].clone();
    refuse_on_insert(&conn, "job_offers", "id", &format!("'{refused}'")).await;

    let report = collect_all(
        &conn,
        &client(&sandbox, 1000.0),
        &OfferQuery::default(),
        None,
    )
    .await;

    assert_eq!(report.run.status, RunStatusKind::Succeeded);
    let s = &report.run.stats;
    assert_eq!((s.total, s.created, s.errors), (400, 399, 1));
    let mut expected: BTreeSet<String> = ids.into_iter().collect();
    expected.remove(&refused);
    assert_eq!(stored_ids(&conn).await, expected);
    let issue = &s.errors_list[0];
    assert_eq!(issue.external_id.as_deref(), Some(refused.as_str()));
    assert!(
        issue.error.starts_with("the database refused the offer: "),
        "{}",
        issue.error
    );
    let skills = JobOfferSkill::find().all(&conn).await.expect("skills");
    assert!(!skills.is_empty());
    assert!(skills.iter().all(|k| k.offer_id != refused));
}

on_every_backend!(
    a_query_past_the_cap_is_split_and_gives_every_offer_once,
    an_offer_the_database_refuses_rolls_back_alone,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_offers_come_back_exactly_from_few_requests() {
    run_on(Backend::Sqlite, |db| async move {
        let conn = db.open().await;
        let sandbox = sandbox(20_000, 0).await;
        let client = client(&sandbox, 1000.0);

        let report = collect_all(&conn, &client, &OfferQuery::default(), None).await;

        let expected: BTreeSet<String> = sandbox
            .ft_offer_ids("")
            .await
            .expect("ids")
            .into_iter()
            .collect();
        let paris = sandbox.ft_offer_ids("departement=75").await.expect("ids");
        assert!(paris.len() > 3_150, "Paris alone needs date windows");
        assert_eq!(stored_ids(&conn).await, expected, "no more, no fewer");
        assert_eq!(report.run.stats.total, 20_000);
        // Requests go where offers are: split in halves of the creation window, an
        // empty half never asked, at least 85 % of the requests bring a full page.
        let per_request = 20_000.0 / f64::from(report.requests);
        assert!(
            per_request >= 0.85 * 150.0,
            "{} requests for 20,000 offers in {} parts",
            report.requests,
            report.parts
        );
        assert!(report.parts > 1, "windows: {}", report.parts);
    })
    .await;
}

/// A query whose offers sit in a few départements (the sandbox puts most of its
/// offers in a handful of cities) is split by creation date alone: no request is spent
/// on the départements it does not reach, and at least 85 % of the requests bring a
/// full page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_concentrated_in_a_few_departements_spends_requests_on_full_pages() {
    run_on(Backend::Sqlite, |db| async move {
        let conn = db.open().await;
        let sandbox = sandbox(20_000, 0).await;
        let client = client(&sandbox, 1000.0);
        let query = OfferQuery {
            departement: Some("75,69,13".to_owned()),
            ..OfferQuery::default()
        };

        let report = collect_all(&conn, &client, &query, None).await;

        let expected: BTreeSet<String> = sandbox
            .ft_offer_ids("departement=75,69,13")
            .await
            .expect("ids")
            .into_iter()
            .collect();
        assert!(expected.len() > 2 * 3_150, "{} offers", expected.len());
        assert_eq!(stored_ids(&conn).await, expected, "no more, no fewer");
        // Every page kept is full but the last of each part; at least 85 % of the
        // requests bring one (the others learn that a window is over the cap).
        let offers = expected.len() as u64;
        let shown = format!(
            "{} requests, {} pages, {} parts for {offers} offers",
            report.requests, report.pages, report.parts
        );
        assert!(
            offers >= 150 * u64::from(report.pages - report.parts),
            "{shown}"
        );
        assert!(
            f64::from(report.pages) >= 0.85 * f64::from(report.requests),
            "{shown}"
        );
    })
    .await;
}

/// The most requests whose arrival falls in any one second.
fn busiest_second(times: &[Instant]) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limiter_keeps_under_the_sandbox_rate_limit() {
    run_on(Backend::Sqlite, |db| async move {
        let conn = db.open().await;
        let sandbox = sandbox(3_000, 10).await;
        let client = client(&sandbox, 10.0);

        let report = collect_all(&conn, &client, &OfferQuery::default(), None).await;

        let times = sandbox.ft_search_times();
        assert_eq!(
            times.len() as u32,
            report.requests,
            "no request was answered 429 and retried"
        );
        assert!(times.len() >= 20, "{} requests", times.len());
        assert!(
            busiest_second(&times) <= 10,
            "{} in one second",
            busiest_second(&times)
        );
        assert_eq!(report.run.stats.total, 3_000);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_pages_go_to_s3_under_the_prefix() {
    run_on(Backend::Sqlite, |db| async move {
        let conn = db.open().await;
        let sandbox = sandbox(320, 0).await;
        let client = client(&sandbox, 1000.0);
        let s3 = S3Server::start().await;
        s3.create_bucket("data-lake-brut");
        let target =
            ArchiveTarget::parse("s3://data-lake-brut/raw/france_travail").expect("target");
        let archive = Archive::open(target, &s3.settings(ACCESS_KEY, SECRET_KEY)).expect("archive");

        let report = collect_all(&conn, &client, &OfferQuery::default(), Some(&archive)).await;

        assert_eq!(report.archived, 3, "320 offers: pages of 150, 150, 20");
        let dir = s3.root.path().join("data-lake-brut/raw/france_travail");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("the prefix holds the pages")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        assert_eq!(files.len(), 3, "{files:?}");
        let mut archived = BTreeSet::new();
        for f in &files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            assert!(name.starts_with("france_travail_all_"), "{name}");
            let page: Value =
                serde_json::from_slice(&std::fs::read(f).expect("read")).expect("json");
            for o in page["resultats"].as_array().expect("offers") {
                archived.insert(o["id"].as_str().unwrap_or_default().to_owned());
            }
        }
        assert_eq!(archived, stored_ids(&conn).await);
    })
    .await;
}
