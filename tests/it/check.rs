//! `sagasync check` through the binary, against the sandbox (and an S3 server) on
//! loopback: every line ok, one upstream broken, nothing configured, no database.

use std::process::{Command, Output};

use sagasync::sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

use crate::archive::{ACCESS_KEY, S3Server, SECRET_KEY};
use crate::helpers::{
    Backend, TestDb, assert_ok, new_key, run, run_on, run_with_stdin, sagasync, stdout,
};

const CHECKS: [&str; 7] = [
    "database",
    "encryption_key",
    "b2b_key",
    "b2b_api",
    "cerema",
    "france_travail",
    "archive",
];
const BUCKET: &str = "data-lake-brut";

/// A small sandbox on 127.0.0.1.
async fn sandbox() -> Sandbox {
    let config = SandboxConfig {
        products: 30,
        categories: 5,
        ..SandboxConfig::default()
    };
    Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the sandbox starts")
}

/// `sagasync check` with every setting pointed at `sb`, the sandbox's B2B key stored
/// encrypted under `enc_key` and active, and the archive in `s3`'s bucket.
fn configured(db: &TestDb, sb: &Sandbox, enc_key: &str, s3: &S3Server) -> Command {
    let mut cmd = sagasync(db);
    cmd.env("INVENTORY_ENCRYPTION_KEY", enc_key)
        .env("B2B_API_URL", sb.b2b_url())
        .env("CEREMA_API_URL", sb.cerema_url())
        .env("CEREMA_API_TOKEN", sb.cerema_token())
        .env("FRANCE_TRAVAIL_AUTH_URL", sb.ft_auth_url())
        .env("FRANCE_TRAVAIL_API_URL", sb.ft_api_url())
        .env("FRANCE_TRAVAIL_CLIENT_ID", sb.ft_client_id())
        .env("FRANCE_TRAVAIL_CLIENT_SECRET", sb.ft_client_secret())
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_ENDPOINT_URL", s3.endpoint())
        .env("data_lake_bucket", BUCKET)
        .arg("check");
    cmd
}

/// Stores the sandbox's B2B key, encrypted with `enc_key`, as the active key.
fn store_sandbox_key(db: &TestDb, enc_key: &str) {
    let mut add = sagasync(db);
    add.env("INVENTORY_ENCRYPTION_KEY", enc_key).args([
        "keys",
        "add",
        "--name",
        "Clé sandbox",
        "--activate",
    ]);
    assert_ok(&run_with_stdin(&mut add, &SandboxConfig::default().api_key));
}

/// Runs `cmd` off the runtime's threads (the sandbox answers on them meanwhile).
async fn run_async(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .expect("the command ran")
}

/// The JSON lines, as `(check, status, detail)` in order.
fn lines(out: &Output) -> Vec<(String, String, String)> {
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: not JSON: {}", stdout(out)));
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    json.as_array()
        .expect("an array of checks")
        .iter()
        .map(|v| (text(v, "check"), text(v, "status"), text(v, "detail")))
        .collect()
}

fn status_of(lines: &[(String, String, String)]) -> Vec<(&str, &str)> {
    lines
        .iter()
        .map(|(c, s, _)| (c.as_str(), s.as_str()))
        .collect()
}

fn detail<'a>(lines: &'a [(String, String, String)], check: &str) -> &'a str {
    lines
        .iter()
        .find(|(c, _, _)| c == check)
        .map_or("", |(_, _, d)| d.as_str())
}

/// `CHECKS` with `status`, except `except` with `other`.
fn all_but(
    status: &'static str,
    except: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    CHECKS
        .iter()
        .map(|&c| {
            let s = except
                .iter()
                .find(|(e, _)| *e == c)
                .map_or(status, |(_, s)| *s);
            (c, s)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_when_everything_is_configured_and_answers() {
    run_on(Backend::Sqlite, |db| async move {
        // Arrange
        let sb = sandbox().await;
        let s3 = S3Server::start().await;
        s3.create_bucket(BUCKET);
        let enc_key = new_key();
        store_sandbox_key(&db, &enc_key);
        let mut cmd = configured(&db, &sb, &enc_key, &s3);
        cmd.arg("--json");

        // Act
        let out = run_async(cmd).await;

        // Assert
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        let lines = lines(&out);
        assert_eq!(status_of(&lines), all_but("ok", &[]), "{lines:?}");
        assert!(
            detail(&lines, "database").contains("up to date"),
            "{lines:?}"
        );
        assert!(
            detail(&lines, "cerema").contains("1000 structures"),
            "{lines:?}"
        );
        assert!(
            detail(&lines, "b2b_key").contains("key 1 \"Clé sandbox\""),
            "{lines:?}"
        );
        assert!(
            detail(&lines, "b2b_api").contains("30 products"),
            "{lines:?}"
        );
        assert!(
            detail(&lines, "archive").contains(&format!("s3://{BUCKET}")),
            "{lines:?}"
        );
        assert_eq!(sb.requests(), 3, "one request to each of the three APIs");
        let left: Vec<_> = std::fs::read_dir(s3.root.path().join(BUCKET))
            .expect("the bucket")
            .collect();
        assert!(left.is_empty(), "the probe is deleted: {left:?}");
        let all = format!("{}{}", stdout(&out), crate::helpers::stderr(&out));
        for secret in [
            SandboxConfig::default().api_key,
            sb.cerema_token(),
            sb.ft_client_secret(),
            enc_key,
            SECRET_KEY.to_owned(),
        ] {
            assert!(!all.contains(&secret), "{secret} printed: {all}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_france_travail_secret_fails_that_line_only() {
    run_on(Backend::Sqlite, |db| async move {
        let sb = sandbox().await;
        let s3 = S3Server::start().await;
        s3.create_bucket(BUCKET);
        let enc_key = new_key();
        store_sandbox_key(&db, &enc_key);
        let mut cmd = configured(&db, &sb, &enc_key, &s3);
        cmd.env("FRANCE_TRAVAIL_CLIENT_SECRET", "not-the-secret")
            .args(["--format", "json"]);

        let out = run_async(cmd).await;

        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let lines = lines(&out);
        assert_eq!(
            status_of(&lines),
            all_but("ok", &[("france_travail", "failed")]),
            "{lines:?}"
        );
        assert!(
            detail(&lines, "france_travail").starts_with(
                "France Travail refused the client credentials: invalid_client; check \
                 FRANCE_TRAVAIL_CLIENT_ID"
            ),
            "{lines:?}"
        );
        assert!(!stdout(&out).contains("not-the-secret"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_b2b_api_on_a_closed_port_fails_that_line_only() {
    run_on(Backend::Sqlite, |db| async move {
        let sb = sandbox().await;
        let s3 = S3Server::start().await;
        s3.create_bucket(BUCKET);
        let enc_key = new_key();
        store_sandbox_key(&db, &enc_key);
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = closed.local_addr().expect("its address").port();
        drop(closed);
        let mut cmd = configured(&db, &sb, &enc_key, &s3);
        cmd.env("B2B_API_URL", format!("http://127.0.0.1:{port}/api/v1"))
            .env("INVENTORY_API_MAX_RETRIES", "0")
            .arg("--json");

        let out = run_async(cmd).await;

        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let lines = lines(&out);
        assert_eq!(
            status_of(&lines),
            all_but("ok", &[("b2b_api", "failed")]),
            "{lines:?}"
        );
        assert!(
            detail(&lines, "b2b_api").contains(&format!("127.0.0.1:{port}")),
            "{lines:?}"
        );
        assert_eq!(detail(&lines, "b2b_api").lines().count(), 1, "{lines:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_cerema_token_fails_its_line_in_the_table_within_80_columns() {
    run_on(Backend::Sqlite, |db| async move {
        let sb = sandbox().await;
        let s3 = S3Server::start().await;
        let enc_key = new_key();
        store_sandbox_key(&db, &enc_key);
        let archive = db.dir().join("raw");
        std::fs::create_dir(&archive).expect("the archive directory");
        let mut cmd = configured(&db, &sb, &enc_key, &s3);
        cmd.env("CEREMA_API_TOKEN", "not-the-token")
            .arg("--archive")
            .arg(&archive);

        let out = run_async(cmd).await;

        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let text = stdout(&out);
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line:?} in\n{text}");
        }
        let starts: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect();
        let expected: Vec<String> = all_but("ok", &[("cerema", "failed")])
            .iter()
            .map(|(c, s)| format!("{c} {s}"))
            .collect();
        assert_eq!(starts, expected, "{text}");
        assert!(text.contains("Cerema token rejected (401)"), "{text}");
        assert!(!text.contains("not-the-token"), "{text}");
        let left: Vec<_> = std::fs::read_dir(&archive).expect("the archive").collect();
        assert!(left.is_empty(), "the probe is deleted: {left:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nothing_configured_each_line_says_what_to_set_and_the_exit_is_0() {
    run_on(Backend::Sqlite, |db| async move {
        db.open().await.close().await.expect("closed");
        let mut cmd = sagasync(&db);
        cmd.args(["check", "--json"]);

        let out = run_async(cmd).await;

        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        let lines = lines(&out);
        assert_eq!(
            status_of(&lines),
            all_but("not_configured", &[("database", "ok")]),
            "{lines:?}"
        );
        for (check, needle) in [
            ("encryption_key", "INVENTORY_ENCRYPTION_KEY"),
            ("b2b_key", "B2B_API_KEY"),
            ("cerema", "CEREMA_API_TOKEN"),
            ("france_travail", "FRANCE_TRAVAIL_CLIENT_SECRET"),
            ("archive", "--archive"),
        ] {
            assert!(detail(&lines, check).contains(needle), "{check}: {lines:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_sqlite_file_fails_the_database_line_and_is_not_created() {
    run_on(Backend::Sqlite, |db| async move {
        let file = db.sqlite_file().expect("a SQLite file");
        let mut cmd = sagasync(&db);
        cmd.env("B2B_API_KEY", "b2c_1_whatever")
            .env("B2B_API_URL", "http://127.0.0.1:9/api/v1")
            .args(["check", "--json"]);

        let out = run_async(cmd).await;

        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let lines = lines(&out);
        assert_eq!(
            status_of(&lines)[..4],
            [
                ("database", "failed"),
                ("encryption_key", "not_configured"),
                ("b2b_key", "skipped"),
                ("b2b_api", "skipped"),
            ],
            "{lines:?}"
        );
        assert!(
            detail(&lines, "database").starts_with(&format!("no database at {}", file.display())),
            "{lines:?}"
        );
        assert!(!file.exists(), "the check created {}", file.display());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_migration_fails_the_database_line() {
    run_on(Backend::Sqlite, |db| async move {
        db.open().await.close().await.expect("closed");
        assert_ok(&run(sagasync(&db).args(["migrate", "down"])));

        let out = run_async({
            let mut cmd = sagasync(&db);
            cmd.args(["check", "--json"]);
            cmd
        })
        .await;

        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let lines = lines(&out);
        assert_eq!(lines[0].1, "failed", "{lines:?}");
        assert!(lines[0].2.contains("1 migration(s) pending"), "{lines:?}");
        assert!(lines[0].2.contains("sagasync migrate up"), "{lines:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_stored_under_another_encryption_key_fails_both_key_lines() {
    run_on(Backend::Sqlite, |db| async move {
        store_sandbox_key(&db, &new_key());
        let mut cmd = sagasync(&db);
        cmd.env("INVENTORY_ENCRYPTION_KEY", new_key())
            .args(["check", "--json"]);

        let out = run_async(cmd).await;

        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let lines = lines(&out);
        assert_eq!(
            status_of(&lines)[..4],
            [
                ("database", "ok"),
                ("encryption_key", "failed"),
                ("b2b_key", "failed"),
                ("b2b_api", "skipped"),
            ],
            "{lines:?}"
        );
        assert!(
            detail(&lines, "b2b_key").contains("cannot be decrypted with INVENTORY_ENCRYPTION_KEY"),
            "{lines:?}"
        );
        assert!(
            detail(&lines, "encryption_key").contains("key 1 \"Clé sandbox\""),
            "{lines:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_directory_is_probed_without_being_created() {
    run_on(Backend::Sqlite, |db| async move {
        db.open().await.close().await.expect("closed");
        let missing = db.dir().join("raw").join("pages");
        let file = db.dir().join("a-file");
        std::fs::write(&file, "not a directory").expect("a regular file");
        let archive_line = |target: &std::path::Path| {
            let mut cmd = sagasync(&db);
            cmd.args(["check", "--json", "--archive"]).arg(target);
            cmd
        };

        let fine = run_async(archive_line(&missing)).await;
        let blocked = run_async(archive_line(&file.join("raw"))).await;

        assert_eq!(fine.status.code(), Some(0), "{}", stdout(&fine));
        let archive = &lines(&fine)[6];
        assert_eq!(archive.1, "ok", "{archive:?}");
        assert!(archive.2.contains("does not exist yet"), "{archive:?}");
        assert!(!db.dir().join("raw").exists(), "the check created raw/");
        assert_eq!(blocked.status.code(), Some(1), "{}", stdout(&blocked));
        let archive = &lines(&blocked)[6];
        assert_eq!(archive.1, "failed", "{archive:?}");
        assert!(
            archive.2.starts_with("cannot create archive directory"),
            "{archive:?}"
        );
    })
    .await;
}
