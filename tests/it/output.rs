//! What the commands print, through the binary: tables fitted to 80 columns without a
//! cell split across lines, records when a row cannot fit, thousands separators and
//! UTC instants in tables only, `--format` (and `--json`) on every command that prints
//! data with one JSON shape per command, lists that say when they were cut and page
//! with `--offset`, numeric flags refused in words.

use std::process::Output;

use serde_json::Value;
use unicode_width::UnicodeWidthStr;
use wiremock::MockServer;

use crate::helpers::{
    Backend, TEST_API_KEY, TestDb, assert_ok, mount_categories, mount_product_pages, product_json,
    run, run_on, sagasync, stderr, stdout,
};
use crate::inspect::{OFFERS, PRODUCTS, cli, csv_records, field, fill, items, json};
use crate::on_every_backend;

/// Runs `sagasync ARGS` with `COLUMNS=width`.
fn at_width(db: &TestDb, width: u16, args: &[&str]) -> Output {
    run(sagasync(db).env("COLUMNS", width.to_string()).args(args))
}

/// The lines of `text` wider than `width` terminal columns.
fn too_wide(text: &str, width: usize) -> Vec<&str> {
    text.lines().filter(|l| l.width() > width).collect()
}

/// The body lines of the first table in `text` (between the header rule and the end).
fn table_body(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.starts_with('╞'))
        .skip(1)
        .take_while(|l| l.starts_with('│'))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_fits_80_columns_with_one_line_per_row() {
    run_on(Backend::Sqlite, |db| async move {
        fill(&db);
        let offers = json(&db, &["offers", "search", "--limit", "1"]);
        let offer = &items(&offers)[0];
        let offer_id = offer["id"].as_str().expect("an offer id").to_owned();
        let rome = offer["rome_code"].as_str().expect("a ROME code").to_owned();

        // Lists: each row on one line (a cell split across lines would add lines).
        for (args, rows) in [
            (&["products", "list", "--limit", "40"][..], 40),
            (&["offers", "search", "--limit", "30"], 30),
            (&["runs", "list"], 5),
            (&["categories", "list"], 25),
            (&["categories", "tree"], 25),
            (&["cerema", "users", "list", "--limit", "30"], 30),
            (&["cerema", "structures", "list"], 30),
            (&["keys", "list"], 1),
        ] {
            let out = at_width(&db, 80, args);
            assert_ok(&out);
            let text = stdout(&out);
            assert!(too_wide(&text, 80).is_empty(), "{args:?}:\n{text}");
            assert!(
                !text.contains("RECORD"),
                "{args:?} fits as a table:\n{text}"
            );
            assert_eq!(
                table_body(&text).len(),
                rows,
                "{args:?}: one line a row:\n{text}"
            );
        }
        // Records and reports: no line past 80 columns either.
        for args in [
            &["products", "show", "1"][..],
            &["offers", "show", &offer_id],
            &["runs", "show", "2"],
            &["db", "stats"],
            &["rome", "show", &rome],
            &[
                "match-skills",
                "--rome",
                &rome,
                "--skills",
                "accueil, service",
            ],
            &["migrate", "status"],
        ] {
            let out = at_width(&db, 80, args);
            assert_ok(&out);
            let text = stdout(&out);
            assert!(too_wide(&text, 80).is_empty(), "{args:?}:\n{text}");
        }
        // The sync reports (here the demo's runs) fit as well.
        let demo = at_width(
            &db,
            80,
            &[
                "demo",
                "--database-url",
                &db.url,
                "--products",
                "300",
                "--categories",
                "25",
                "--cerema-users",
                "250",
                "--cerema-structures",
                "30",
                "--ft-offers",
                "200",
                "-q",
            ],
        );
        assert_ok(&demo);
        let text = stdout(&demo);
        assert!(too_wide(&text, 80).is_empty(), "{text}");
        assert!(!text.contains("RECORD"), "{text}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_that_cannot_fit_becomes_a_record_of_field_lines() {
    run_on(Backend::Sqlite, |db| async move {
        fill(&db);
        let rows = items(&json(&db, &["products", "list", "--limit", "2"])).clone();

        let out = at_width(&db, 36, &["products", "list", "--limit", "2"]);
        assert_ok(&out);
        let text = stdout(&out);

        assert!(too_wide(&text, 36).is_empty(), "{text}");
        assert!(text.starts_with("-[ RECORD 1 ]"), "{text}");
        assert!(text.contains("\n-[ RECORD 2 ]"), "{text}");
        assert!(!text.contains('┆'), "no table: {text}");
        // Every column, one line each, the id as it is.
        let first: Vec<&str> = text
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("-["))
            .collect();
        assert_eq!(first.len(), 12, "{text}");
        let id_line = format!("{:<14} | {}", "id", rows[0]["id"]);
        assert!(first.contains(&id_line.as_str()), "{id_line:?} in {text}");
        let external = format!("{:<14} | ", "external_id");
        assert!(first.iter().any(|l| l.starts_with(&external)), "{text}");
        // Wide enough: a table again.
        let wide = stdout(&at_width(&db, 80, &["products", "list", "--limit", "2"]));
        assert!(!wide.contains("RECORD"), "{wide}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_group_thousands_and_show_utc_while_json_and_csv_keep_raw_values() {
    run_on(Backend::Sqlite, |db| async move {
        fill(&db);
        let products = json(&db, &["products", "list", "--limit", "300"]);
        let big = items(&products)
            .iter()
            .find(|p| {
                p["price"]
                    .as_str()
                    .and_then(|s| s.split('.').next())
                    .is_some_and(|int| int.len() >= 5)
            })
            .expect("a price of 10,000 or more");
        let raw = big["price"].as_str().expect("a price").to_owned();
        let grouped = sagasync::commands::table::thousands(&raw);
        assert!(grouped.contains(','), "{grouped}");
        let id = big["id"].to_string();

        let table = stdout(&at_width(&db, 250, &["products", "show", &id]));
        assert!(table.contains(&grouped), "{grouped} in {table}");
        assert!(!table.contains(&raw), "{raw} not in {table}");
        let (header, rows) = csv_records(&db, &["products", "list", "--limit", "300"]);
        let price = header
            .iter()
            .position(|h| h == "price")
            .expect("a price column");
        assert!(rows.iter().any(|r| r[price] == raw), "{raw} in the CSV");
        assert!(rows.iter().all(|r| !r[price].contains(',')));

        // Counts: db stats' size in bytes.
        let stats = json(&db, &["db", "stats"]);
        let size = stats["size_bytes"].as_u64().expect("a size");
        assert!(size >= 1_000);
        let table = stdout(&at_width(&db, 80, &["db", "stats"]));
        assert!(
            table.contains(&sagasync::commands::table::count(size)),
            "{table}"
        );

        // Instants: in UTC with a Z, in every table.
        let listed = json(&db, &["runs", "list", "--limit", "1"]);
        let started = listed[0]["started_at"].as_str().expect("an instant");
        let t = chrono::DateTime::parse_from_rfc3339(started).expect("RFC 3339");
        let shown = t.to_utc().format("%Y-%m-%d %H:%M:%SZ").to_string();
        for args in [
            &["runs", "list"][..],
            &["runs", "show", "5"],
            &["keys", "list"],
        ] {
            let text = stdout(&at_width(&db, 250, args));
            assert!(!text.contains("+00:00"), "{args:?}: {text}");
            if args[0] == "runs" {
                assert!(text.contains(&shown), "{shown} in {args:?}: {text}");
            }
        }
        let keys = stdout(&at_width(&db, 250, &["keys", "list"]));
        assert!(
            keys.lines().any(|l| l.contains(":") && l.contains("Z ")),
            "{keys}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_json_parses_on_syncs_keys_stats_and_runs_and_json_is_its_alias() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        mount_categories(&server, serde_json::json!([{"id": 1, "name": "A"}])).await;
        mount_product_pages(&server, &[vec![product_json(1, "P", "1200", "S", Some(1))]]).await;
        let sync = |args: &[&str]| {
            run(sagasync(&db)
                .env("B2B_API_URL", server.uri())
                .env("B2B_API_KEY", TEST_API_KEY)
                .args(args))
        };

        for (command, kind) in [
            ("sync-categories", "categories"),
            ("sync-products", "products"),
        ] {
            for flag in [&["--format", "json"][..], &["--json"]] {
                let out = sync(&[&[command][..], flag].concat());
                assert_ok(&out);
                let runs: Value = serde_json::from_slice(&out.stdout).expect("JSON");
                let runs = runs.as_array().expect("an array of runs");
                assert_eq!(runs.len(), 1);
                assert_eq!(runs[0]["kind"], kind);
            }
        }
        let csv = sync(&["sync-products", "--format", "csv"]);
        assert_ok(&csv);
        let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
        let header: Vec<String> = reader
            .headers()
            .expect("a header")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header[..4], ["run_id", "kind", "status", "total"]);
        assert_eq!(reader.records().count(), 1);
        let both = sync(&["sync-products", "--json", "--format", "table"]);
        assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));

        for args in [
            &["keys", "list"][..],
            &["db", "stats"],
            &["runs", "list"],
            &["runs", "show", "1"],
            &["products", "list"],
        ] {
            let format = json(&db, args);
            let alias = run(sagasync(&db).args([args, &["--json"]].concat()));
            assert_ok(&alias);
            let alias: Value = serde_json::from_slice(&alias.stdout).expect("JSON");
            assert_eq!(alias, format, "{args:?}");
        }
        assert!(json(&db, &["db", "stats"]).is_object());
        assert_eq!(items(&json(&db, &["runs", "list"])).len(), 5);
        let (header, keys) = csv_records(&db, &["keys", "list"]);
        assert_eq!(header[0], "id");
        assert!(keys.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_prints_one_shape_for_one_query_and_for_several() {
    use sagasync::sandbox::france_travail::FranceTravailConfig;
    use sagasync::sandbox::{Sandbox, SandboxConfig};
    run_on(Backend::Sqlite, |db| async move {
        let config = SandboxConfig {
            france_travail: FranceTravailConfig {
                offers: 300,
                ..FranceTravailConfig::default()
            },
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), config)
            .await
            .expect("sandbox");
        let sectors = db.dir().join("sectors.json");
        std::fs::write(&sectors, r#"{"cuisine": ["cuisinier", "serveur"]}"#).expect("write");
        let collect = |args: &[&str]| {
            run(sagasync(&db)
                .env("FRANCE_TRAVAIL_AUTH_URL", sandbox.ft_auth_url())
                .env("FRANCE_TRAVAIL_API_URL", sandbox.ft_api_url())
                .env("FRANCE_TRAVAIL_CLIENT_ID", sandbox.ft_client_id())
                .env("FRANCE_TRAVAIL_CLIENT_SECRET", sandbox.ft_client_secret())
                .args([&["france-travail", "collect"][..], args].concat()))
        };

        let one = collect(&["--keywords", "cuisinier", "--format", "json"]);
        assert_ok(&one);
        let one: Value = serde_json::from_slice(&one.stdout).expect("JSON");
        let several = collect(&[
            "--sector",
            "cuisine",
            "--sectors",
            sectors.to_str().expect("a path"),
            "--force",
            "--json",
        ]);
        assert_ok(&several);
        let several: Value = serde_json::from_slice(&several.stdout).expect("JSON");

        let one = one.as_array().expect("one query: an array");
        let several = several.as_array().expect("several queries: an array");
        assert_eq!((one.len(), several.len()), (1, 2));
        let keys = |v: &Value| {
            let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&one[0]), keys(&several[0]), "the same objects");
        assert_eq!(one[0]["outcome"], "done");
        sandbox.stop().await;
    })
    .await;
}

async fn lists_page_with_offset_and_say_what_part_they_show(db: TestDb) {
    fill(&db);
    // --offset skips rows of the same order, as the JSON API's `offset` does.
    let runs = field(&json(&db, &["runs", "list"]), "run_id");
    let page = field(
        &json(&db, &["runs", "list", "--limit", "2", "--offset", "1"]),
        "run_id",
    );
    assert_eq!(page, runs[1..3]);
    let products = field(&json(&db, &["products", "list", "--limit", "300"]), "id");
    let page = json(
        &db,
        &["products", "list", "--limit", "50", "--offset", "100"],
    );
    assert_eq!(field(&page, "id"), products[100..150]);
    let offers = field(&json(&db, &["offers", "search", "--limit", "200"]), "id");
    let page = json(
        &db,
        &["offers", "search", "--limit", "7", "--offset", "190"],
    );
    assert_eq!(field(&page, "id"), offers[190..197]);
    let users = field(
        &json(&db, &["cerema", "users", "list", "--limit", "250"]),
        "id",
    );
    let page = json(&db, &["cerema", "users", "list", "--offset", "245"]);
    assert_eq!(field(&page, "id"), users[245..]);
    let categories = field(&json(&db, &["categories", "list"]), "id");
    let page = json(
        &db,
        &["categories", "list", "--limit", "3", "--offset", "2"],
    );
    assert_eq!(field(&page, "id"), categories[2..5]);

    // A table says what part it shows, after the table; JSON and CSV never do.
    let shown = |args: &[&str]| {
        let out = cli(&db, args);
        assert_ok(&out);
        stdout(&out).lines().last().unwrap_or_default().to_owned()
    };
    assert_eq!(
        shown(&["products", "list", "--limit", "50"]),
        format!("50 of {PRODUCTS} shown; --offset 50 for the next ones, or a larger --limit")
    );
    assert_eq!(
        shown(&["offers", "search", "--limit", "20", "--offset", "100"]),
        format!("20 of {OFFERS} shown (from row 101); --offset 120 for the next ones")
    );
    assert_eq!(
        shown(&["runs", "list", "--offset", "3"]),
        "2 of 5 shown (from row 4, the last ones)"
    );
    assert_eq!(
        shown(&["cerema", "structures", "list", "--offset", "500"]),
        "0 of 30 shown: --offset 500 is past the end"
    );
    let all = stdout(&cli(&db, &["runs", "list"]));
    assert!(!all.contains(" of 5 shown"), "all 5 runs: {all}");
    let searched = shown(&["products", "list", "--search", "a", "--limit", "3"]);
    assert!(searched.starts_with("3 of "), "{searched}");
    let (_, rows) = csv_records(&db, &["products", "list", "--limit", "50"]);
    assert_eq!(rows.len(), 50);
    let out = cli(
        &db,
        &["products", "list", "--limit", "50", "--format", "csv"],
    );
    assert!(!stdout(&out).contains("shown"));
}

on_every_backend!(lists_page_with_offset_and_say_what_part_they_show);

#[tokio::test]
async fn numeric_flags_say_in_words_what_they_take() {
    run_on(Backend::Sqlite, |db| async move {
        for (args, says) in [
            (
                &["products", "list", "--limit", "0"][..],
                "must be a whole number of rows from 1 to 10,000,000",
            ),
            (
                &["runs", "list", "--limit", "0"],
                "must be a whole number of rows from 1 to 10,000,000",
            ),
            (
                &["offers", "search", "--limit=-5"],
                "must be a whole number of rows from 1 to 10,000,000",
            ),
            (
                &["cerema", "users", "list", "--limit", "99999999999"],
                "must be a whole number of rows from 1 to 10,000,000",
            ),
            (
                &["categories", "list", "--offset=-1"],
                "must be a whole number of rows to skip: 0 or more",
            ),
            (
                &["categories", "tree", "--depth", "0"],
                "must be a whole number of levels from 1 to 1,000",
            ),
            (
                &["cerema", "users", "list", "--structure", "x"],
                "must be an id: a whole number",
            ),
            (
                &["cerema", "sync", "--max-pages", "0"],
                "must be a whole number of pages from 1 to",
            ),
        ] {
            let out = cli(&db, args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains(says), "{args:?}: {err}");
            assert!(
                !err.contains("18446744073709551615") && !err.contains(" in 1.."),
                "{err}"
            );
        }
    })
    .await;
}
