//! `france-travail collect`'s filters beyond place, job and contract type (experience,
//! qualification, sector, contract nature, full time, region, adapted company, least
//! salary): each reaches the API under its name, a value the API would refuse is
//! refused before any request, a query differing only by one is another query (once a
//! day, archive names), and the sandbox honours each of them end to end.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use entity::prelude::*;
use sagasync::archive::{Archive, ArchiveTarget, S3Settings};
use sagasync::france_travail::filters::{MinSalary, SalaryPeriod};
use sagasync::france_travail::{FtClient, OfferQuery};
use sagasync::sandbox::france_travail::FranceTravailConfig;
use sagasync::sandbox::{Sandbox, SandboxConfig};
use sagasync::sync::offers::{CollectOptions, Collected, Collector, collect};
use sagasync::sync::{Interrupt, no_observer};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{Backend, TestDb, assert_ok, run, run_on, sagasync, stderr};
use crate::on_every_backend;

/// The CLI pointed at a France Travail at `auth` (token) and `api` (offers), no retries.
fn ft_cli(db: &TestDb, auth: &str, api: &str, id: &str, secret: &str) -> std::process::Command {
    let mut cmd = sagasync(db);
    cmd.env("FRANCE_TRAVAIL_AUTH_URL", auth)
        .env("FRANCE_TRAVAIL_API_URL", api)
        .env("FRANCE_TRAVAIL_CLIENT_ID", id)
        .env("FRANCE_TRAVAIL_CLIENT_SECRET", secret)
        .env("FRANCE_TRAVAIL_API_MAX_RETRIES", "0");
    cmd
}

async fn mock_token(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok", "token_type": "Bearer", "expires_in": 1499
        })))
        .mount(server)
        .await;
}

fn wiremock_cli(db: &TestDb, server: &MockServer) -> std::process::Command {
    ft_cli(
        db,
        &format!("{}/token", server.uri()),
        &format!("{}/v2", server.uri()),
        "client",
        "secret",
    )
}

/// Parameters of a request: (name, value).
type Params = &'static [(&'static str, &'static str)];

/// The flags, and the parameters the API must receive for them.
const FLAGS: &[(&[&str], Params)] = &[
    (&["--experience", "2"], &[("experience", "2")]),
    (&["--qualification", "9"], &[("qualification", "9")]),
    (&["--sector-code", "56"], &[("secteurActivite", "56")]),
    (&["--contract-nature", "fs"], &[("natureContrat", "FS")]),
    (&["--full-time", "false"], &[("tempsPlein", "false")]),
    (&["--region", "11"], &[("region", "11")]),
    (
        &["--adapted-company", "true"],
        &[("entrepriseAdaptee", "true")],
    ),
    (
        &["--salary-min", "1800", "--salary-period", "a"],
        &[("salaireMin", "1800"), ("periodeSalaire", "A")],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_reaches_the_api_under_its_name() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        mock_token(&server).await;
        Mock::given(path("/v2/offres/search"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;

        for (flags, sent) in FLAGS {
            let mut args = vec![
                "france-travail",
                "collect",
                "--keywords",
                "cuisinier",
                "--force",
            ];
            args.extend(*flags);
            let out = run(wiremock_cli(&db, &server).args(&args));
            assert_ok(&out);
            let requests = server.received_requests().await.expect("recorded");
            let search = requests
                .iter()
                .rev()
                .find(|r| r.url.path() == "/v2/offres/search")
                .expect("a search");
            let got: BTreeSet<(String, String)> = search.url.query_pairs().into_owned().collect();
            let mut want: BTreeSet<(String, String)> = sent
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            want.insert(("motsCles".into(), "cuisinier".into()));
            want.insert(("range".into(), "0-149".into()));
            assert_eq!(got, want, "{flags:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_the_api_would_refuse_are_refused_before_any_request() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        for (flags, says) in [
            (&["--experience", "4"][..], "must be 1 (less than a year"),
            (&["--experience", "D"], "must be 1"),
            (&["--qualification", "5"], "must be 0 (not an executive"),
            (&["--sector-code", "5"], "NAF division: two digits"),
            (&["--sector-code", "56.10"], "NAF division"),
            (&["--contract-nature", "CDI"], "E1 (Contrat travail)"),
            (&["--full-time", "oui"], "must be true or false"),
            (&["--adapted-company", "1"], "must be true or false"),
            (&["--region", "12"], "two-digit INSEE code of a region"),
            (&["--region", "Bretagne"], "53 Bretagne"),
            (
                &["--salary-min", "0", "--salary-period", "M"],
                "whole number of euros",
            ),
            (
                &["--salary-min", "1800.5", "--salary-period", "M"],
                "whole number of euros",
            ),
            (
                &["--salary-min", "1800", "--salary-period", "W"],
                "M (monthly), A (yearly)",
            ),
            (&["--salary-min", "1800"], "--salary-period"),
            (&["--salary-period", "M"], "--salary-min"),
        ] {
            let mut args = vec!["france-travail", "collect"];
            args.extend(flags);
            let out = run(wiremock_cli(&db, &server).args(&args));
            assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(says), "{flags:?}: {}", stderr(&out));
        }
        let requests = server.received_requests().await.expect("recorded");
        assert!(
            requests.is_empty(),
            "refused before any request: {requests:?}"
        );
    })
    .await;
}

fn client(server: &MockServer) -> FtClient {
    FtClient::new(sagasync::france_travail::FtSettings {
        auth_url: format!("{}/token", server.uri()),
        api_url: format!("{}/v2", server.uri()),
        client_id: "client".into(),
        client_secret: sagasync::secret::Secret::new("secret"),
        scope: sagasync::france_travail::DEFAULT_SCOPE.to_owned(),
        timeout: Duration::from_secs(5),
        max_retries: 0,
        rate: 100.0,
    })
    .expect("client")
}

async fn collect_once(
    conn: &DatabaseConnection,
    client: &FtClient,
    query: &OfferQuery,
    archive: Option<&Archive>,
) -> Collected {
    let opts = CollectOptions {
        max_pages: 100,
        delay: Duration::ZERO,
        force: false,
    };
    let c = Collector {
        db: conn,
        client,
        opts: &opts,
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

/// One query per filter, each differing from `base` by that filter alone.
fn variants(base: &OfferQuery) -> Vec<OfferQuery> {
    let q = || base.clone();
    vec![
        OfferQuery {
            experience: Some(1),
            ..q()
        },
        OfferQuery {
            qualification: Some(0),
            ..q()
        },
        OfferQuery {
            sector_code: Some("56".into()),
            ..q()
        },
        OfferQuery {
            contract_nature: Some("E1".into()),
            ..q()
        },
        OfferQuery {
            full_time: Some(true),
            ..q()
        },
        OfferQuery {
            full_time: Some(false),
            ..q()
        },
        OfferQuery {
            region: Some("11".into()),
            ..q()
        },
        OfferQuery {
            adapted_company: Some(false),
            ..q()
        },
        OfferQuery {
            min_salary: Some(MinSalary {
                amount: 1800,
                period: SalaryPeriod::Month,
            }),
            ..q()
        },
        OfferQuery {
            min_salary: Some(MinSalary {
                amount: 1800,
                period: SalaryPeriod::Hour,
            }),
            ..q()
        },
    ]
}

async fn a_query_differing_only_by_a_filter_is_another_query(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mock_token(&server).await;
    let offer = json!({"id": "A1", "intitule": "Cuisinier", "romeCode": "G1602"});
    Mock::given(path("/v2/offres/search"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Range", "offres 0-0/1")
                .set_body_json(json!({ "resultats": [offer] })),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    let dir = db.dir().join("raw");
    let archive =
        Archive::open(ArchiveTarget::Dir(dir.clone()), &S3Settings::default()).expect("archive");
    let base = OfferQuery {
        keywords: Some("cuisinier".into()),
        ..OfferQuery::default()
    };

    assert!(matches!(
        collect_once(&conn, &client, &base, Some(&archive)).await,
        Collected::Done(_)
    ));
    for q in variants(&base) {
        let outcome = collect_once(&conn, &client, &q, Some(&archive)).await;
        assert!(
            matches!(outcome, Collected::Done(_)),
            "{q:?} is another query: {outcome:?}"
        );
        // ... and the same query again, done today.
        let again = collect_once(&conn, &client, &q, None).await;
        assert!(matches!(again, Collected::AlreadyToday { .. }), "{q:?}");
    }
    assert!(matches!(
        collect_once(&conn, &client, &base, None).await,
        Collected::AlreadyToday { .. }
    ));
    // Each query's raw page went to a file of its own, the filters in its name.
    let names: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("the archive")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1 + variants(&base).len(), "{names:?}");
    let prefixes: BTreeSet<&str> = names.iter().map(|n| &n[..n.len() - 24]).collect();
    assert_eq!(prefixes.len(), names.len(), "{names:?}");
    assert!(
        prefixes.contains("france_travail_cuisinier"),
        "{prefixes:?}"
    );
}

on_every_backend!(a_query_differing_only_by_a_filter_is_another_query);

/// `field` of a raw offer, as text (a path such as `entreprise.entrepriseAdaptee`).
fn at<'a>(raw: &'a Value, field: &str) -> &'a Value {
    field.split('.').fold(raw, |v, k| &v[k])
}

/// The euros a month a `salaire.libelle` can reach (`Mensuel de 1850,00 Euros à
/// 2300,00 Euros`, `Annuel de ...`, `Horaire de 11,88 Euros`).
fn monthly_top(libelle: &str) -> f64 {
    let words: Vec<&str> = libelle.split(' ').collect();
    let amounts: Vec<f64> = words
        .windows(2)
        .filter(|w| w[1] == "Euros")
        .filter_map(|w| w[0].replace(',', ".").parse::<f64>().ok())
        .collect();
    let top = amounts.iter().copied().fold(0.0, f64::max);
    match libelle.split(' ').next() {
        Some("Horaire") => top * 151.67,
        Some("Annuel") => top / 12.0,
        _ => top,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_honours_each_filter_end_to_end() {
    run_on(Backend::Sqlite, |db| async move {
        let config = SandboxConfig {
            seed: 11,
            france_travail: FranceTravailConfig {
                offers: 2_000,
                rate_limit: 0,
                ..FranceTravailConfig::default()
            },
            ..SandboxConfig::default()
        };
        let sb = Sandbox::start(([127, 0, 0, 1], 0).into(), config)
            .await
            .expect("the sandbox");
        let conn = db.open().await;
        type Check = fn(&Value) -> bool;
        let cases: &[(&[&str], &str, Check)] = &[
            (&["--experience", "1"], "experience=1", |o| {
                o["experienceExige"] == "D"
            }),
            (&["--qualification", "9"], "qualification=9", |o| {
                o.get("qualificationCode").is_none_or(|q| *q == "9")
            }),
            (&["--sector-code", "56"], "secteurActivite=56", |o| {
                o.get("secteurActivite").is_none_or(|s| *s == "56")
            }),
            (&["--contract-nature", "E2"], "natureContrat=E2", |o| {
                o["natureContrat"] == "Contrat apprentissage"
            }),
            (&["--contract-nature", "FS"], "natureContrat=FS", |o| {
                o["natureContrat"] == "Cont. professionnalisation"
            }),
            (&["--full-time", "true"], "tempsPlein=true", |o| {
                o["dureeTravailLibelleConverti"] == "Temps plein"
            }),
            (&["--full-time", "false"], "tempsPlein=false", |o| {
                o["dureeTravailLibelleConverti"] == "Temps partiel"
            }),
            (&["--region", "84"], "region=84", |o| {
                at(o, "lieuTravail.libelle")
                    .as_str()
                    .is_some_and(|l| l.starts_with("69 - "))
            }),
            (
                &["--adapted-company", "true"],
                "entrepriseAdaptee=true",
                |o| at(o, "entreprise.entrepriseAdaptee") == true,
            ),
            (
                &["--adapted-company", "false"],
                "entrepriseAdaptee=false",
                |o| at(o, "entreprise.entrepriseAdaptee") != true,
            ),
            (
                &["--salary-min", "2500", "--salary-period", "M"],
                "salaireMin=2500&periodeSalaire=M",
                |o| {
                    at(o, "salaire.libelle")
                        .as_str()
                        .is_some_and(|l| monthly_top(l) >= 2500.0)
                },
            ),
            (
                &["--salary-min", "30000", "--salary-period", "A"],
                "salaireMin=30000&periodeSalaire=A",
                |o| {
                    at(o, "salaire.libelle")
                        .as_str()
                        .is_some_and(|l| monthly_top(l) >= 2500.0)
                },
            ),
        ];
        let every: usize = sb.ft_offer_ids("").await.expect("ids").len();
        for (flags, params, check) in cases {
            let mut args = vec!["france-travail", "collect", "--force"];
            args.extend(*flags);
            let out = run(ft_cli(
                &db,
                &sb.ft_auth_url(),
                &sb.ft_api_url(),
                &sb.ft_client_id(),
                &sb.ft_client_secret(),
            )
            .args(&args));
            assert_ok(&out);
            let expected: BTreeSet<String> = sb
                .ft_offer_ids(params)
                .await
                .expect("ids")
                .into_iter()
                .collect();
            assert!(
                !expected.is_empty() && expected.len() < every,
                "{params}: {} of {every}",
                expected.len()
            );
            let run_id = SyncRun::find()
                .all(&conn)
                .await
                .expect("runs")
                .into_iter()
                .map(|r| r.id)
                .max()
                .expect("a run");
            let stored = SyncRun::find_by_id(run_id)
                .one(&conn)
                .await
                .expect("read")
                .expect("the run");
            assert_eq!(
                stored.total,
                expected.len() as i64,
                "{params}: the collect read exactly the sandbox's matches"
            );
            for id in &expected {
                let o = JobOffer::find_by_id(id.clone())
                    .one(&conn)
                    .await
                    .expect("read")
                    .unwrap_or_else(|| panic!("{params}: {id} stored"));
                assert!(check(&o.raw), "{params}: {}", o.raw);
            }
        }
    })
    .await;
}
