//! What every inspection command shares: formats, empty results, bad arguments, the
//! table fitting a width.

use super::{cli, csv_records, fill, items, json};
use crate::helpers::{Backend, TestDb, run_on, stderr, stdout};
use crate::on_every_backend;

async fn an_empty_database_gives_empty_lists_in_every_format(db: TestDb) {
    db.open().await;
    for args in [
        &["runs", "list"][..],
        &["categories", "list"],
        &["categories", "tree"],
        &["products", "list"],
        &["cerema", "users", "list"],
        &["cerema", "structures", "list"],
        &["offers", "search", "--q", "développeur"],
        &["rome", "search", "cuisine"],
    ] {
        let table = cli(&db, args);
        assert_eq!(table.status.code(), Some(0), "{args:?}: {}", stderr(&table));
        assert!(
            stdout(&table).contains("no "),
            "{args:?} says so: {}",
            stdout(&table)
        );
        assert!(items(&json(&db, args)).is_empty(), "{args:?}");
        let (header, rows) = csv_records(&db, args);
        assert!(
            !header.is_empty() && rows.is_empty(),
            "{args:?}: {header:?}"
        );
    }
    let stats = json(&db, &["db", "stats"]);
    assert!(items(&stats["last_runs"]).is_empty());
}

on_every_backend!(an_empty_database_gives_empty_lists_in_every_format);

#[tokio::test]
async fn bad_arguments_exit_2_with_a_message() {
    run_on(Backend::Sqlite, |db| async move {
        for (args, says) in [
            (&["runs", "list", "--status", "done"][..], "--status"),
            (&["runs", "list", "--source", "ftp"], "--source"),
            (&["runs", "show", "abc"], "invalid digit"),
            (&["runs", "list", "--format", "xml"], "--format"),
            (&["products", "list", "--limit", "0"], "--limit"),
            (&["products", "list", "--status", "lost"], "--status"),
            (&["products", "show"], "required"),
            (
                &["products", "show", "1", "--sku", "X"],
                "cannot be used with",
            ),
            (&["offers", "search", "--limit", "0"], "--limit"),
            (&["offers", "search", "--rome", "xx"], "not a ROME code"),
            (
                &["offers", "search", "--commune", "7505"],
                "not an INSEE commune",
            ),
            (
                &["offers", "search", "--departement", "9999"],
                "not a département",
            ),
            (&["rome", "show", "%"], "must hold a word"),
            (&["rome", "search", "x", "--limit", "0"], "--limit"),
            (&["match-skills", "--rome", "G1602"], "--skills"),
            (&["categories", "tree", "--depth", "0"], "--depth"),
            (
                &["cerema", "users", "list", "--structure", "x"],
                "--structure",
            ),
            (&["db", "stats", "--format", "yaml"], "--format"),
        ] {
            let out = cli(&db, args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
            assert!(stdout(&out).is_empty(), "{args:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn tables_fit_the_width_and_cut_long_text() {
    run_on(Backend::Sqlite, |db| async move {
        fill(&db);
        let out = crate::helpers::run(
            crate::helpers::sagasync(&db)
                .env("COLUMNS", "250")
                .args(["offers", "search", "--limit", "5"]),
        );
        let wide = stdout(&out);
        assert!(wide.lines().any(|l| l.chars().count() > 100), "{wide}");

        let narrow = crate::helpers::run(
            crate::helpers::sagasync(&db)
                .env("COLUMNS", "80")
                .args(["offers", "search", "--limit", "5"]),
        );
        let text = stdout(&narrow);
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        // Without COLUMNS, a pipe gets 80 columns too.
        assert_eq!(
            stdout(&cli(&db, &["offers", "search", "--limit", "5"])),
            text
        );

        let show = cli(&db, &["runs", "show", "1"]);
        assert!(stdout(&show).contains("started_at"), "{}", stdout(&show));
        let products = cli(&db, &["products", "list", "--limit", "3"]);
        assert!(
            stdout(&products)
                .lines()
                .all(|l| !l.contains("Z ") && l.chars().count() < 400),
            "times shortened: {}",
            stdout(&products)
        );
    })
    .await;
}
