//! `sagasync sync-categories` / `sync-products` as a person runs them.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    Backend, TEST_API_KEY, TestDb, assert_ok, mount_categories, mount_product_pages, new_key,
    product_json, run, run_on, run_with_stdin, sagasync, stderr, stdout,
};

fn sync(db: &TestDb, server: &MockServer, args: &[&str]) -> std::process::Command {
    let mut cmd = sagasync(db);
    cmd.env("B2B_API_URL", server.uri())
        .env("INVENTORY_API_MAX_RETRIES", "0")
        .env("INVENTORY_API_TIMEOUT", "5")
        .args(args);
    cmd
}

#[tokio::test]
async fn sync_products_prints_json_stats_and_fails_on_errors_only_when_asked() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        mount_product_pages(
            &server,
            &[vec![
                product_json(1, "Bon", "10", "A", None),
                product_json(2, "Mauvais", "n/a", "B", None),
            ]],
        )
        .await;

        let out =
            run(sync(&db, &server, &["sync-products", "--json"]).env("B2B_API_KEY", TEST_API_KEY));
        assert_ok(&out);
        let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
        // One run, in the array every sync prints.
        assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
        let stats = &runs[0];
        assert_eq!(stats["kind"], "products");
        assert_eq!(
            (
                stats["total"].as_u64(),
                stats["created"].as_u64(),
                stats["errors"].as_u64()
            ),
            (Some(2), Some(1), Some(1))
        );
        assert_eq!(stats["item_errors"][0]["external_id"], "2");
        assert_eq!(stats["status"], "succeeded");

        let out = run(sync(&db, &server, &["sync-products", "--fail-on-errors"])
            .env("B2B_API_KEY", TEST_API_KEY));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stdout(&out).contains("error [2]"), "{}", stdout(&out));
    })
    .await;
}

#[tokio::test]
async fn a_rejected_stored_key_is_one_line_naming_it_and_exit_1() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        Mock::given(path("/b2c/categories/"))
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({"detail": "Invalid API key."})))
            .mount(&server)
            .await;
        let key = new_key();
        let mut add = sagasync(&db);
        add.env("INVENTORY_ENCRYPTION_KEY", &key).args(["keys", "add", "--name", "Clé principale", "--activate"]);
        assert_ok(&run_with_stdin(&mut add, TEST_API_KEY));

        let out = run(sync(&db, &server, &["sync-categories"]).env("INVENTORY_ENCRYPTION_KEY", &key));

        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(err.contains("the API rejected key 1 \"Clé principale\" (403): {\"detail\": \"Invalid API key.\"}") || err.contains("the API rejected key 1 \"Clé principale\" (403)"), "{err}");
        assert!(!err.contains(TEST_API_KEY) && !stdout(&out).contains(TEST_API_KEY));
        assert_eq!(err.lines().filter(|l| l.starts_with("error")).count(), 1, "{err}");
    })
    .await;
}

#[tokio::test]
async fn without_any_key_the_sync_says_how_to_add_one() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;

        let out = run(&mut sync(&db, &server, &["sync-products"]));

        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("no active API key: add one with `sagasync keys add"),
            "{}",
            stderr(&out)
        );
    })
    .await;
}

#[tokio::test]
async fn the_stored_key_is_sent_and_its_last_use_recorded() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        mount_categories(&server, json!([{"id": 1, "name": "A"}])).await;
        mount_product_pages(&server, &[vec![product_json(1, "P", "1", "S", Some(1))]]).await;
        let key = new_key();
        let mut add = sagasync(&db);
        add.env("INVENTORY_ENCRYPTION_KEY", &key).args([
            "keys",
            "add",
            "--name",
            "main",
            "--activate",
        ]);
        assert_ok(&run_with_stdin(&mut add, TEST_API_KEY));

        assert_ok(&run(
            sync(&db, &server, &["sync-categories"]).env("INVENTORY_ENCRYPTION_KEY", &key)
        ));
        let out =
            run(sync(&db, &server, &["-q", "sync-products"]).env("INVENTORY_ENCRYPTION_KEY", &key));
        assert_ok(&out);
        assert!(
            stderr(&out).is_empty(),
            "-q prints nothing on stderr: {}",
            stderr(&out)
        );

        let out = run(sagasync(&db)
            .env("INVENTORY_ENCRYPTION_KEY", &key)
            .args(["keys", "list", "--json"]));
        let keys: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert!(keys[0]["last_used_at"].is_string(), "{keys}");
    })
    .await;
}

#[tokio::test]
async fn ctrl_c_keeps_what_was_committed_marks_the_run_interrupted_and_exits_130() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        let slow = ResponseTemplate::new(200)
            .set_delay(Duration::from_secs(30))
            .set_body_json(json!([]));
        crate::helpers::mount_page_one_then(&server, slow).await;
        let child = sync(&db, &server, &["sync-products", "--json"])
            .env("B2B_API_KEY", TEST_API_KEY)
            .env("INVENTORY_API_TIMEOUT", "60")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let conn = db.connect().await;
        let mut committed = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            use sea_orm::EntityTrait;
            if let Ok(rows) = entity::prelude::Product::find().all(&conn).await
                && !rows.is_empty()
            {
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
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let report = &report[0];
        assert_eq!(
            (report["status"].as_str(), report["total"].as_u64()),
            (Some("interrupted"), Some(1))
        );
        use sea_orm::EntityTrait;
        let runs = entity::prelude::SyncRun::find()
            .all(&conn)
            .await
            .expect("read");
        assert_eq!(runs[0].status, entity::sync_run::RunStatus::Interrupted);
        assert_eq!(
            entity::prelude::SyncLock::find()
                .all(&conn)
                .await
                .expect("read")
                .len(),
            0
        );
    })
    .await;
}

/// Pages whose new products fill one multi-row insert (a power of two: 1, 2, 4...) are
/// written in it, not product by product after a failed batch: the links of that one
/// chunk are built once its products' ids are back.
async fn a_batch_of_one_insert_chunk_is_written_whole(db: TestDb) {
    let server = MockServer::start().await;
    mount_product_pages(
        &server,
        &[vec![
            product_json(1, "Riz", "10", "A", None),
            product_json(2, "Mil", "12", "B", None),
        ]],
    )
    .await;

    let out = run(
        sync(&db, &server, &["-v", "sync-products", "--json"]).env("B2B_API_KEY", TEST_API_KEY)
    );

    assert_ok(&out);
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
    assert_eq!(stats[0]["created"], 2);
    assert!(
        !stderr(&out).contains("writing its items one by one"),
        "{}",
        stderr(&out)
    );
    // The finished phase leaves one summary line: count, duration, rate.
    let summary = stderr(&out)
        .lines()
        .find(|l| l.contains("products: 2 in "))
        .map(str::to_owned);
    assert!(
        summary.as_deref().is_some_and(|l| l.ends_with("/s")),
        "{}",
        stderr(&out)
    );
}

crate::on_every_backend!(a_batch_of_one_insert_chunk_is_written_whole);
