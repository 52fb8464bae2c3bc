//! The Cerema Portail DF sync: pagination quirks, resume, restart, upserts, bad
//! records, auth, and the export round trip (wiremock and the sandbox; every backend).

use std::collections::BTreeMap;
use std::time::Duration;

use entity::prelude::*;
use entity::{cerema_structure, cerema_user, sync_run};
use sagasync::cerema::{CeremaAuth, CeremaClient, CeremaKind, CeremaSettings};
use sagasync::sandbox::cerema::{CeremaConfig, CeremaData};
use sagasync::sandbox::{Sandbox, SandboxConfig};
use sagasync::secret::Secret;
use sagasync::sync::cerema::{
    CeremaReport, CeremaSyncOptions, DEFAULT_CONCURRENCY, export, sync_cerema,
};
use sagasync::sync::{Interrupt, RunStatusKind, no_observer};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    Backend, TestDb, assert_ok, refuse_on_insert, run, run_on, sagasync, stderr, stdout,
};
use crate::on_every_backend;

const TOKEN: &str = "cerema-test-token";
const USERS: &str = "/api/utilisateurs/";

fn client(base: &str, max_retries: u32) -> CeremaClient {
    CeremaClient::new(&CeremaSettings {
        base_url: base.to_owned(),
        auth: CeremaAuth::Token(Secret::new(TOKEN)),
        timeout: Duration::from_secs(5),
        max_retries,
    })
    .expect("a valid client")
}

fn opts() -> CeremaSyncOptions {
    CeremaSyncOptions {
        delay: Duration::ZERO,
        concurrency: DEFAULT_CONCURRENCY,
        max_pages: None,
        restart: false,
    }
}

async fn sync_users(
    conn: &DatabaseConnection,
    client: &CeremaClient,
    opts: &CeremaSyncOptions,
) -> Result<CeremaReport, sagasync::sync::RunError> {
    sync_cerema(
        conn,
        client,
        CeremaKind::Users,
        opts,
        no_observer(),
        &Interrupt::new(),
    )
    .await
}

fn user(id: i64) -> Value {
    json!({
        "id_user": id,
        "email": format!("agent{id}@ddt-01.gouv.fr"),
        "structure": 10 + id % 3,
        "gestionnaire": id % 2 == 0,
        "exterieur": false,
        "cgu_valide": "2024-03-31T23:30:00+02:00",
        "date_rattachement": "2023-01-15T08:00:00+01:00",
        // Past 2038 and to the microsecond: a MySQL TIMESTAMP would lose both.
        "date_expiration": (id == 6).then_some("2099-12-31T23:59:59.123456+01:00"),
        "groupe": 4
    })
}

/// Page `n` of `pages`: the next link as the Portail DF writes it (`http://`, `#` or
/// `%23`), relative to the mock server.
fn page(server: &MockServer, n: usize, pages: usize, results: Vec<Value>) -> Value {
    let next = (n < pages).then(|| {
        let quirk = if n.is_multiple_of(2) { "#" } else { "%23" };
        format!("{}{USERS}?page={}{quirk}", server.uri(), n + 1)
    });
    json!({ "count": pages * 2, "next": next, "previous": null, "results": results })
}

/// Mounts `pages` pages of two users each (ids 1, 2 / 3, 4 / ...), each expected
/// `expect_each` times.
async fn mount_users(server: &MockServer, pages: usize, expect_each: u64) {
    mount_users_expecting(server, pages, |_| expect_each.into()).await;
}

/// Mounts `pages` pages of two users each, page `n` expected `expect(n)` times.
async fn mount_users_expecting(
    server: &MockServer,
    pages: usize,
    expect: impl Fn(usize) -> wiremock::Times,
) {
    for n in 1..=pages {
        let ids = [2 * n as i64 - 1, 2 * n as i64];
        let body = page(server, n, pages, ids.iter().map(|&i| user(i)).collect());
        let mock = Mock::given(method("GET"))
            .and(path(USERS))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()));
        let mock = if n == 1 {
            mock.and(wiremock::matchers::query_param_is_missing("page"))
        } else {
            mock.and(query_param("page", n.to_string()))
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(expect(n))
            .mount(server)
            .await;
    }
}

async fn user_ids(conn: &DatabaseConnection) -> Vec<i64> {
    CeremaUser::find()
        .order_by_asc(cerema_user::Column::IdUser)
        .all(conn)
        .await
        .expect("read users")
        .into_iter()
        .map(|u| u.id_user)
        .collect()
}

async fn checkpoints(conn: &DatabaseConnection) -> u64 {
    SyncCheckpoint::find().count(conn).await.expect("count")
}

async fn next_links_are_cleaned_and_followed_to_the_last_page(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    mount_users(&server, 3, 1).await;

    let report = sync_users(&conn, &client(&server.uri(), 0), &opts())
        .await
        .expect("sync");

    assert_eq!(report.run.status, RunStatusKind::Succeeded);
    assert!(report.complete);
    assert_eq!((report.pages, report.run.stats.created), (3, 6));
    assert_eq!(user_ids(&conn).await, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(
        checkpoints(&conn).await,
        0,
        "a completed run clears its checkpoint"
    );
    let first = CeremaUser::find_by_id(1)
        .one(&conn)
        .await
        .expect("read")
        .expect("user 1");
    // 23:30 at +02:00 is 21:30 UTC: the instant is kept, and the offset stays in raw.
    assert_eq!(
        first.cgu_valide.map(|t| t.0.to_rfc3339()),
        Some("2024-03-31T21:30:00+00:00".to_owned())
    );
    assert_eq!(first.raw["cgu_valide"], "2024-03-31T23:30:00+02:00");
    assert_eq!(first.structure_id, Some(11));
    let sixth = CeremaUser::find_by_id(6)
        .one(&conn)
        .await
        .expect("read")
        .expect("user 6");
    assert_eq!(
        sixth.date_expiration.map(|t| t.0.to_rfc3339()),
        Some("2099-12-31T22:59:59.123456+00:00".to_owned())
    );
    let run = SyncRun::find_by_id(report.run.run_id)
        .one(&conn)
        .await
        .expect("read")
        .expect("run");
    assert_eq!(
        (run.source, run.kind.as_str(), run.created),
        (sync_run::Source::Cerema, "users", 6)
    );
}

async fn a_run_that_fails_on_page_3_is_continued_from_page_3(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    // Page 3 fails twice (the request and its one retry), then answers.
    Mock::given(method("GET"))
        .and(path(USERS))
        .and(query_param("page", "3"))
        .respond_with(ResponseTemplate::new(503).set_body_string("maintenance"))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    // Page 4, asked ahead of page 3, may come before page 3 fails; the next run asks
    // it again. Pages 1 and 2 are asked once: the next run starts at page 3.
    mount_users_expecting(
        &server,
        4,
        |n| if n == 4 { (1..=2).into() } else { 1.into() },
    )
    .await;
    let client = client(&server.uri(), 1);

    let failed = sync_users(&conn, &client, &opts()).await;
    let err = failed.expect_err("page 3 fails past its retries");
    assert!(err.to_string().contains("503"), "{err}");
    assert_eq!(
        user_ids(&conn).await,
        vec![1, 2, 3, 4],
        "pages 1 and 2 are kept"
    );
    assert_eq!(checkpoints(&conn).await, 1);
    let failed_run = SyncRun::find()
        .order_by_asc(sync_run::Column::Id)
        .all(&conn)
        .await
        .expect("runs");
    assert_eq!(failed_run[0].status, sync_run::RunStatus::Failed);

    let resumed = sync_users(&conn, &client, &opts()).await.expect("resume");

    assert_eq!(resumed.resumed_from_page, Some(3));
    assert!(resumed.complete);
    assert_eq!((resumed.pages, resumed.run.stats.created), (2, 4));
    assert_eq!(checkpoints(&conn).await, 0);

    // The table equals a clean run's.
    let clean_db = TestDb::create(db.backend).await.expect("a second database");
    let clean = clean_db.open().await;
    let clean_server = MockServer::start().await;
    mount_users(&clean_server, 4, 1).await;
    sync_users(&clean, &self::client(&clean_server.uri(), 0), &opts())
        .await
        .expect("clean run");
    let rows = |c: &DatabaseConnection| {
        let c = c.clone();
        async move {
            CeremaUser::find()
                .order_by_asc(cerema_user::Column::IdUser)
                .all(&c)
                .await
                .expect("read")
                .into_iter()
                .map(|u| (u.id_user, u.email, u.structure_id, u.cgu_valide, u.raw))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(rows(&conn).await, rows(&clean).await);
}

async fn restart_starts_over_and_max_pages_leaves_a_position(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    // Page 1 is read by the first run and again after --restart; the rest once.
    for n in 1..=3usize {
        let ids = [2 * n as i64 - 1, 2 * n as i64];
        let body = page(&server, n, 3, ids.iter().map(|&i| user(i)).collect());
        let m = Mock::given(method("GET")).and(path(USERS));
        let m = if n == 1 {
            m.and(wiremock::matchers::query_param_is_missing("page"))
        } else {
            m.and(query_param("page", n.to_string()))
        };
        m.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(if n == 1 { 2 } else { 1 })
            .mount(&server)
            .await;
    }
    let client = client(&server.uri(), 0);
    let one = CeremaSyncOptions {
        max_pages: Some(1),
        ..opts()
    };

    let first = sync_users(&conn, &client, &one).await.expect("one page");
    assert_eq!((first.complete, first.next_page), (false, Some(2)));
    assert_eq!(first.run.status, RunStatusKind::Succeeded);
    assert_eq!(checkpoints(&conn).await, 1);

    let restarted = sync_users(
        &conn,
        &client,
        &CeremaSyncOptions {
            restart: true,
            ..opts()
        },
    )
    .await
    .expect("restart");

    assert_eq!(restarted.resumed_from_page, None);
    assert!(restarted.complete);
    assert_eq!(restarted.pages, 3);
    assert_eq!(
        (restarted.run.stats.unchanged, restarted.run.stats.created),
        (2, 4)
    );
    assert_eq!(user_ids(&conn).await, vec![1, 2, 3, 4, 5, 6]);
}

async fn a_changed_record_is_updated_and_the_others_left_alone(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    let body = |email: &str| {
        let mut changed = user(2);
        changed["email"] = json!(email);
        json!({ "count": 2, "next": null, "results": [user(1), changed] })
    };
    Mock::given(path(USERS))
        .respond_with(ResponseTemplate::new(200).set_body_json(body("old@x.fr")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(USERS))
        .respond_with(ResponseTemplate::new(200).set_body_json(body("new@x.fr")))
        .mount(&server)
        .await;
    let client = client(&server.uri(), 0);
    sync_users(&conn, &client, &opts()).await.expect("first");
    let before = CeremaUser::find_by_id(2)
        .one(&conn)
        .await
        .expect("read")
        .expect("user 2");
    let untouched = CeremaUser::find_by_id(1)
        .one(&conn)
        .await
        .expect("read")
        .expect("user 1");

    let second = sync_users(&conn, &client, &opts()).await.expect("second");

    let s = &second.run.stats;
    assert_eq!((s.created, s.updated, s.unchanged), (0, 1, 1));
    let after = CeremaUser::find_by_id(2)
        .one(&conn)
        .await
        .expect("read")
        .expect("user 2");
    assert_eq!(after.email.as_deref(), Some("new@x.fr"));
    assert_eq!(after.raw["email"], "new@x.fr");
    assert_eq!(after.first_seen_at, before.first_seen_at);
    assert!(after.last_synced_at >= before.last_synced_at);
    let same = CeremaUser::find_by_id(1)
        .one(&conn)
        .await
        .expect("read")
        .expect("user 1");
    assert_eq!(
        same.last_synced_at, untouched.last_synced_at,
        "unchanged: not rewritten"
    );
    assert_eq!(CeremaUser::find().count(&conn).await.expect("count"), 2);
}

async fn bad_records_are_recorded_and_the_good_ones_stored(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    let results = json!([
        user(1),
        {"email": "sans-id@x.fr"},
        {"id_user": "12a", "email": "typo@x.fr"},
        {"id_user": "7", "email": "digits@x.fr", "structure": 999999},
        {"id_user": 8, "gestionnaire": "peut-être"},
        "not an object"
    ]);
    Mock::given(path(USERS))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"count": 6, "next": null, "results": results})),
        )
        .mount(&server)
        .await;

    let report = sync_users(&conn, &client(&server.uri(), 0), &opts())
        .await
        .expect("sync");

    let s = &report.run.stats;
    assert_eq!((s.total, s.created, s.errors, s.warnings), (6, 3, 3, 1));
    assert_eq!(user_ids(&conn).await, vec![1, 7, 8]);
    let seven = CeremaUser::find_by_id(7)
        .one(&conn)
        .await
        .expect("read")
        .expect("user 7");
    assert_eq!(
        seven.structure_id,
        Some(999_999),
        "an unknown structure is kept"
    );
    let errors: Vec<(Option<String>, String)> = SyncError::find()
        .all(&conn)
        .await
        .expect("errors")
        .into_iter()
        .map(|e| (e.external_id, e.message))
        .collect();
    assert!(
        errors.contains(&(
            Some("12a".to_owned()),
            "`id_user` \"12a\" is not an integer".to_owned()
        )),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|(id, m)| id.is_none() && m.contains("no `id_user`"))
    );
    assert!(
        errors
            .iter()
            .any(|(id, m)| id.as_deref() == Some("8") && m.starts_with("warning: "))
    );
}

async fn a_rejected_token_is_fatal_and_stores_nothing(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    Mock::given(path(USERS))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"detail": "Given token not valid for any token type"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let err = sync_users(&conn, &client(&server.uri(), 3), &opts())
        .await
        .expect_err("401 is fatal");

    let text = err.to_string();
    assert!(text.contains("token rejected"), "{text}");
    assert!(!text.contains(TOKEN), "the token never shows: {text}");
    assert_eq!(CeremaUser::find().count(&conn).await.expect("count"), 0);
}

async fn the_export_gives_back_the_sandbox_records(db: TestDb) {
    let conn = db.open().await;
    let config = SandboxConfig {
        seed: 11,
        cerema: CeremaConfig {
            users: 250,
            structures: 40,
            ..CeremaConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("sandbox");
    let client = CeremaClient::new(&CeremaSettings {
        base_url: sandbox.cerema_url(),
        auth: CeremaAuth::Credentials {
            username: "sandbox".into(),
            password: Secret::new("sandbox"),
        },
        timeout: Duration::from_secs(5),
        max_retries: 0,
    })
    .expect("client");
    for kind in [CeremaKind::Structures, CeremaKind::Users] {
        let report = sync_cerema(
            &conn,
            &client,
            kind,
            &opts(),
            no_observer(),
            &Interrupt::new(),
        )
        .await
        .expect("sync");
        assert_eq!(report.run.stats.errors, 0);
    }
    assert_eq!(
        CeremaStructure::find().count(&conn).await.expect("count"),
        40
    );
    let structure = CeremaStructure::find_by_id(1)
        .one(&conn)
        .await
        .expect("read")
        .expect("1");
    assert!(structure.siret.is_some_and(|s| s.len() == 14));
    assert!(
        CeremaStructure::find()
            .all(&conn)
            .await
            .expect("read")
            .iter()
            .all(|s: &cerema_structure::Model| s.departement.is_some())
    );

    let mut out = Vec::new();
    let written = export(&conn, CeremaKind::Users, &mut out)
        .await
        .expect("export");

    assert_eq!(written, 250);
    let data = CeremaData::new(11, 250, 40);
    let text = String::from_utf8(out).expect("utf-8");
    let exported: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON record per line"))
        .collect();
    let expected: Vec<Value> = (0..250).map(|i| data.user(i)).collect();
    assert_eq!(exported, expected);
    // Written as the original scripts' `json.dumps` wrote them: the API's key order,
    // `", "` and `": "`, so their recipes (`grep '"gestionnaire": true'`) still work.
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    // (PostgreSQL receives records as jsonb, which orders keys by length: there the
    // order is the database's.)
    if db.backend != crate::helpers::Backend::Postgres {
        for (line, record) in text.lines().zip(&expected) {
            let parsed: Value = serde_json::from_str(line).expect("JSON");
            assert_eq!(keys(&parsed), keys(record), "the API's order: {line}");
            assert!(line.starts_with("{\"id_user\": "), "{line}");
        }
    }
    let managers = expected
        .iter()
        .filter(|u| u["gestionnaire"] == true)
        .count();
    assert!(managers > 0);
    assert_eq!(
        text.lines()
            .filter(|l| l.contains(r#""gestionnaire": true"#))
            .count(),
        managers
    );
}

/// PostgreSQL refuses NUL characters in text and JSON, the others store them: they are
/// removed everywhere, with a warning, so every backend holds the same rows.
async fn nul_characters_are_removed_with_a_warning(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    let mut odd = user(1);
    odd["email"] = json!("agent\u{0}1@ddt-01.gouv.fr");
    odd["note\u{0}"] = json!(["a\u{0}b"]);
    Mock::given(path(USERS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "count": 2, "next": null, "results": [odd, user(2)]
        })))
        .mount(&server)
        .await;

    let report = sync_users(&conn, &client(&server.uri(), 0), &opts())
        .await
        .expect("the run completes");

    assert_eq!(
        (report.run.stats.created, report.run.stats.warnings),
        (2, 1)
    );
    let stored = CeremaUser::find_by_id(1)
        .one(&conn)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.email.as_deref(), Some("agent1@ddt-01.gouv.fr"));
    assert_eq!(stored.raw["note"], json!(["ab"]));
}

async fn a_record_the_database_refuses_rolls_back_alone(db: TestDb) {
    let conn = db.open().await;
    refuse_on_insert(&conn, "cerema_users", "id_user", "3").await;
    let server = MockServer::start().await;
    let results: Vec<Value> = (1..=4).map(user).collect();
    Mock::given(path(USERS))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"count": 4, "next": null, "results": results})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let report = sync_users(&conn, &client(&server.uri(), 0), &opts())
        .await
        .expect("sync");

    assert_eq!(report.run.status, RunStatusKind::Succeeded);
    let s = &report.run.stats;
    assert_eq!((s.total, s.created, s.errors), (4, 3, 1));
    assert_eq!(user_ids(&conn).await, vec![1, 2, 4]);
    let errors = SyncError::find().all(&conn).await.expect("errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].external_id.as_deref(), Some("3"));
    assert!(
        errors[0]
            .message
            .starts_with("the database refused the record: "),
        "{}",
        errors[0].message
    );
}

on_every_backend!(
    a_record_the_database_refuses_rolls_back_alone,
    nul_characters_are_removed_with_a_warning,
    next_links_are_cleaned_and_followed_to_the_last_page,
    a_run_that_fails_on_page_3_is_continued_from_page_3,
    restart_starts_over_and_max_pages_leaves_a_position,
    a_changed_record_is_updated_and_the_others_left_alone,
    bad_records_are_recorded_and_the_good_ones_stored,
    a_rejected_token_is_fatal_and_stores_nothing,
    the_export_gives_back_the_sandbox_records,
);

fn cerema_cmd(db: &TestDb, base: &str) -> std::process::Command {
    let mut cmd = sagasync(db);
    cmd.env("CEREMA_API_URL", base)
        .env("CEREMA_API_MAX_RETRIES", "0")
        .env("CEREMA_API_TIMEOUT", "5");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_syncs_with_a_login_exports_and_says_what_is_missing() {
    run_on(Backend::Sqlite, |db| async move {
        let config = SandboxConfig {
            cerema: CeremaConfig {
                users: 120,
                structures: 15,
                ..CeremaConfig::default()
            },
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), config)
            .await
            .expect("sandbox");
        let base = sandbox.cerema_url();

        let none = run(cerema_cmd(&db, &base).args(["cerema", "sync"]));
        assert_eq!(none.status.code(), Some(1));
        assert!(
            stderr(&none).contains("set CEREMA_API_TOKEN"),
            "{}",
            stderr(&none)
        );

        let wrong = run(cerema_cmd(&db, &base)
            .env("CEREMA_USERNAME", "sandbox")
            .env("CEREMA_PASSWORD", "wrong")
            .args(["cerema", "sync", "users", "--delay", "0"]));
        assert_eq!(wrong.status.code(), Some(1));
        let msg = stderr(&wrong);
        assert!(msg.contains("refused the username and password"), "{msg}");
        assert!(!msg.contains("wrong"), "the password never shows: {msg}");

        let ok = run(cerema_cmd(&db, &base)
            .env("CEREMA_USERNAME", "sandbox")
            .env("CEREMA_PASSWORD", "sandbox")
            .args(["cerema", "sync", "all", "--delay", "0", "--json"]));
        assert_ok(&ok);
        let reports: Vec<Value> = serde_json::from_str(&stdout(&ok)).expect("json list");
        let created: BTreeMap<String, u64> = reports
            .iter()
            .map(|r| {
                (
                    r["kind"].as_str().unwrap_or("?").to_owned(),
                    r["created"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            created,
            BTreeMap::from([("structures".into(), 15), ("users".into(), 120)])
        );

        let file = db.dir().join("structures.jsonl");
        let export = run(cerema_cmd(&db, &base).args([
            "cerema",
            "export",
            "structures",
            "--out",
            file.to_str().expect("path"),
        ]));
        assert_ok(&export);
        let text = std::fs::read_to_string(&file).expect("export file");
        assert_eq!(text.lines().count(), 15);
        let to_stdout = run(cerema_cmd(&db, &base).args(["cerema", "export", "users"]));
        assert_ok(&to_stdout);
        assert_eq!(stdout(&to_stdout).lines().count(), 120);

        let bad_delay = run(cerema_cmd(&db, &base).args(["cerema", "sync", "--delay", "-1"]));
        assert_eq!(bad_delay.status.code(), Some(2));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_the_position_and_the_next_run_continues() {
    run_on(Backend::Sqlite, |db| async move {
        let config = SandboxConfig {
            cerema: CeremaConfig {
                users: 1_000,
                ..CeremaConfig::default()
            },
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), config)
            .await
            .expect("sandbox");
        let base = sandbox.cerema_url();
        let child = cerema_cmd(&db, &base)
            .env("CEREMA_API_TOKEN", sandbox.cerema_token())
            .args(["cerema", "sync", "users", "--delay", "30", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let conn = db.connect().await;
        let mut committed = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if CeremaUser::find().count(&conn).await.unwrap_or(0) > 0 {
                committed = true;
                break;
            }
        }
        assert!(committed, "page 1 was applied");
        let status = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
        let report: Value = serde_json::from_slice(&out.stdout).expect("json");
        let report = &report[0];
        assert_eq!(report["status"], "interrupted");
        assert_eq!(report["next_page"], 2);

        let next = run(cerema_cmd(&db, &base)
            .env("CEREMA_API_TOKEN", sandbox.cerema_token())
            .args(["cerema", "sync", "users", "--delay", "0", "--json"]));
        assert_ok(&next);
        let report: Value = serde_json::from_str(&stdout(&next)).expect("json");
        let report = &report[0];
        assert_eq!(report["resumed_from_page"], 2);
        assert_eq!(report["created"], 900);
        assert_eq!(CeremaUser::find().count(&conn).await.expect("count"), 1_000);
    })
    .await;
}

/// Mounts pages `from..=pages` of a listing of `pages` pages of two users each, each
/// asked once, page `n` answering after `delay_ms(n)` to a request carrying `bearer`.
async fn mount_slow_users(
    server: &MockServer,
    (from, pages): (usize, usize),
    bearer: &str,
    delay_ms: impl Fn(usize) -> u64,
) {
    for n in from..=pages {
        let ids = [2 * n as i64 - 1, 2 * n as i64];
        let body = page(server, n, pages, ids.iter().map(|&i| user(i)).collect());
        let mock = Mock::given(method("GET"))
            .and(path(USERS))
            .and(header("authorization", format!("Bearer {bearer}").as_str()));
        let mock = if n == 1 {
            mock.and(wiremock::matchers::query_param_is_missing("page"))
        } else {
            mock.and(query_param("page", n.to_string()))
        };
        mock.respond_with(
            ResponseTemplate::new(200)
                .set_body_json(body)
                .set_delay(Duration::from_millis(delay_ms(n))),
        )
        .expect(1)
        .mount(server)
        .await;
    }
}

/// The page numbers `server` was asked for, in the order asked (page 1 has none).
async fn asked_pages(server: &MockServer) -> Vec<u32> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1)
        })
        .collect()
}

/// Waits until `server` was asked `pages` distinct pages (at most 10 s; a page asked
/// again after a 429 counts once), and gives them sorted.
async fn wait_for_asks(server: &MockServer, pages: usize) -> Vec<u32> {
    let distinct = |mut asked: Vec<u32>| {
        asked.sort_unstable();
        asked.dedup();
        asked
    };
    for _ in 0..200 {
        let asked = distinct(asked_pages(server).await);
        if asked.len() >= pages {
            return asked;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    distinct(asked_pages(server).await)
}

/// The Cerema cursor asks the pages the first page's `count` and page-numbered `next`
/// imply before their links are read (the quirky `next` cleaned first), gives them in
/// listing order, and halves its window once for a round of 429s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cerema_pages_are_asked_at_once_and_given_in_order() {
    let server = MockServer::start().await;
    for n in 3..=5 {
        Mock::given(path(USERS))
            .and(query_param("page", n.to_string()))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    // Later pages answer first.
    mount_slow_users(&server, (1, 8), TOKEN, |n| (9 - n as u64) * 20).await;
    let mut pages = client(&server.uri(), 3)
        .pages(CeremaKind::Users)
        .expect("cursor")
        .concurrency(4);

    let first = pages.next_page().await.expect("page 1").expect("page 1");
    assert_eq!(first.number, 1);
    // Pages 2 to 5 are asked before page 2 is taken from the cursor.
    let ahead = wait_for_asks(&server, 5).await;
    assert_eq!(ahead, vec![1, 2, 3, 4, 5], "four pages asked at once");

    let mut got = vec![(first.number, first.page.results.len())];
    while let Some(page) = pages.next_page().await {
        let page = page.expect("a page");
        got.push((page.number, page.page.results.len()));
    }
    assert_eq!(got, (1..=8).map(|n| (n, 2)).collect::<Vec<_>>());
    assert_eq!(pages.slowdowns(), 1, "three 429s of one round halve once");
}

/// Pages asked at once that all meet an expired token log in once, not once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_asked_at_once_that_meet_an_expired_token_log_in_once() {
    let server = MockServer::start().await;
    let login = |token: &str| {
        Mock::given(method("POST"))
            .and(path("/api/token/"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access": token, "refresh": "r"}))
                    .set_delay(Duration::from_millis(200)),
            )
    };
    login("first")
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    login("second").expect(1).mount(&server).await;
    // The first token opens page 1 only; pages 2 to 6 need the second.
    Mock::given(method("GET"))
        .and(path(USERS))
        .and(header("authorization", "Bearer first"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"detail": "expired"})))
        .with_priority(2)
        .mount(&server)
        .await;
    mount_slow_users(&server, (2, 6), "second", |_| 0).await;
    Mock::given(method("GET"))
        .and(path(USERS))
        .and(wiremock::matchers::query_param_is_missing("page"))
        .and(header("authorization", "Bearer first"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            &server,
            1,
            6,
            vec![user(1), user(2)],
        )))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    let client = CeremaClient::new(&CeremaSettings {
        base_url: server.uri(),
        auth: CeremaAuth::Credentials {
            username: "agent".to_owned(),
            password: Secret::new("motdepasse"),
        },
        timeout: Duration::from_secs(5),
        max_retries: 0,
    })
    .expect("a valid client");
    let mut pages = client
        .pages(CeremaKind::Users)
        .expect("cursor")
        .concurrency(4);

    let mut numbers = Vec::new();
    while let Some(page) = pages.next_page().await {
        numbers.push(page.expect("a page").number);
    }

    assert_eq!(numbers, vec![1, 2, 3, 4, 5, 6]);
    // The mocks' expectations say the rest: two logins, page 1 once with the first
    // token, each other page once with the second.
}

/// `--delay` spaces the starts of the requests, pages asked at once included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delay_spaces_the_requests_of_pages_asked_at_once() {
    let server = MockServer::start().await;
    mount_users(&server, 5, 1).await;
    let mut pages = client(&server.uri(), 0)
        .pages(CeremaKind::Users)
        .expect("cursor")
        .concurrency(4)
        .spaced(Duration::from_millis(250));

    let started = std::time::Instant::now();
    let mut count = 0;
    while let Some(page) = pages.next_page().await {
        page.expect("a page");
        count += 1;
    }

    assert_eq!(count, 5);
    // Five requests, 250 ms apart at least: the last starts a second after the first.
    assert!(
        started.elapsed() >= Duration::from_millis(990),
        "{:?}",
        started.elapsed()
    );
}

/// A hostile answer on page 3 of a 4-page listing, a page asked ahead of its `next`
/// link (4 pages at once): `answer` once (or always when `always`), the real page after.
async fn hostile_page_three(server: &MockServer, answer: ResponseTemplate, always: bool) {
    let mock = Mock::given(method("GET"))
        .and(path(USERS))
        .and(query_param("page", "3"))
        .respond_with(answer)
        .with_priority(1);
    let mock = if always { mock } else { mock.up_to_n_times(1) };
    mock.mount(server).await;
    mount_users_expecting(server, 4, |n| {
        if n == 3 && always {
            0.into()
        } else {
            (1..=2).into()
        }
    })
    .await;
}

/// Page 3, asked ahead, redirects to another host: that host receives nothing (no
/// token), the run fails, and the pages before page 3 stay committed with the position
/// at page 3.
async fn a_page_asked_ahead_that_redirects_elsewhere_sends_the_token_nowhere(db: TestDb) {
    let conn = db.open().await;
    let server = MockServer::start().await;
    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": []})))
        .expect(0)
        .mount(&other)
        .await;
    let elsewhere = format!("{}{USERS}?page=3", other.uri());
    let redirect = ResponseTemplate::new(302).insert_header("Location", elsewhere.as_str());
    hostile_page_three(&server, redirect, true).await;

    let err = sync_users(&conn, &client(&server.uri(), 1), &opts())
        .await
        .expect_err("a redirect off the API's origin stops the run");

    assert!(err.to_string().contains("redirect"), "{err}");
    assert_eq!(
        user_ids(&conn).await,
        vec![1, 2, 3, 4],
        "pages 1 and 2 are kept"
    );
    assert_eq!(checkpoints(&conn).await, 1, "the next run starts at page 3");
    other.verify().await;
}

/// An HTML maintenance page (status 200) or a body cut in the middle, on a page asked
/// ahead, is asked again: the run completes with every record.
async fn a_page_asked_ahead_that_comes_back_as_html_or_cut_is_asked_again(db: TestDb) {
    let conn = db.open().await;
    let html = ResponseTemplate::new(200)
        .insert_header("Content-Type", "text/html")
        .set_body_string("<!DOCTYPE html><html><body>Maintenance</body></html>");
    let cut = ResponseTemplate::new(200)
        .insert_header("Content-Type", "application/json")
        .set_body_string(r#"{"count": 8, "next": null, "results": [{"id_user": 5, "em"#);
    for answer in [html, cut] {
        let server = MockServer::start().await;
        hostile_page_three(&server, answer, false).await;

        let report = sync_users(&conn, &client(&server.uri(), 2), &opts())
            .await
            .expect("asked again, then complete");

        assert!(report.complete);
        assert_eq!(user_ids(&conn).await, (1..=8).collect::<Vec<_>>());
        server.verify().await;
    }
}

/// A page that contradicts the listing's `count` (empty while more are announced, or
/// bringing the listing past its count, as an API that ignores `page` does) stops the
/// run: the pages before it stay, the position points at it, nothing is skipped.
async fn a_page_that_contradicts_the_count_stops_the_run_and_keeps_the_rest(db: TestDb) {
    let conn = db.open().await;
    // Page 2 is empty though `count` says 8 and it links to page 3.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(USERS))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&server, 2, 4, vec![])))
        .with_priority(1)
        .mount(&server)
        .await;
    mount_users_expecting(
        &server,
        4,
        |n| if n == 2 { 0.into() } else { (0..=2).into() },
    )
    .await;

    let err = sync_users(&conn, &client(&server.uri(), 0), &opts())
        .await
        .expect_err("an empty page in the middle is not the end");

    assert!(err.to_string().contains("page 2 is empty"), "{err}");
    assert_eq!(user_ids(&conn).await, vec![1, 2]);
    assert_eq!(checkpoints(&conn).await, 1);

    // Every page brings the same users and links to the next: past `count`, it stops.
    let conn = TestDb::create(db.backend).await.expect("a database");
    let conn = conn.open().await;
    let looping = MockServer::start().await;
    for n in 1..=6usize {
        let body = page(&looping, n, 6, vec![user(1), user(2)]);
        let body = json!({ "count": 4, "next": body["next"], "results": body["results"] });
        let mock = Mock::given(method("GET")).and(path(USERS));
        let mock = if n == 1 {
            mock.and(wiremock::matchers::query_param_is_missing("page"))
        } else {
            mock.and(query_param("page", n.to_string()))
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&looping)
            .await;
    }

    let err = sync_users(&conn, &client(&looping.uri(), 0), &opts())
        .await
        .expect_err("a listing that goes past its count is not followed for ever");

    assert!(
        err.to_string().contains("while its `count` says 4"),
        "{err}"
    );
}

on_every_backend!(
    a_page_asked_ahead_that_redirects_elsewhere_sends_the_token_nowhere,
    a_page_asked_ahead_that_comes_back_as_html_or_cut_is_asked_again,
    a_page_that_contradicts_the_count_stops_the_run_and_keeps_the_rest,
);
