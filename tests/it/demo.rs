//! `sagasync demo` end to end, and `sagasync bench` at a small size (no timing asserted).

use entity::prelude::*;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{Backend, TestDb, assert_ok, run, run_on, sagasync, stderr, stdout};

fn demo(db: &TestDb) -> std::process::Output {
    run(sagasync(db).args([
        "demo",
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
    ]))
}

#[tokio::test]
async fn demo_syncs_everything_and_its_database_holds_what_the_summary_says() {
    run_on(Backend::Sqlite, |db| async move {
        // DATABASE_URL is set by the helper: the demo must keep to its own file.
        let out = demo(&db);
        assert_ok(&out);
        let summary = stdout(&out);
        assert!(
            summary.contains("Rows per table") && summary.contains("Category tree"),
            "{summary}"
        );
        let file = db.dir().join("sagasync-demo.db");
        assert!(summary.contains(&file.display().to_string()), "{summary}");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let conn = sagasync::db::open(&url, false)
            .await
            .expect("open the demo database");
        assert_eq!(Product::find().count(&conn).await.expect("count"), 300);
        assert_eq!(Category::find().count(&conn).await.expect("count"), 25);
        // Figures are right-aligned.
        assert!(
            summary.contains("│ products            ┆  300 │"),
            "{summary}"
        );
        assert!(
            summary.contains("│ cerema_users        ┆  250 │"),
            "{summary}"
        );
        assert_eq!(
            CeremaStructure::find().count(&conn).await.expect("count"),
            30
        );
        assert_eq!(
            Product::find()
                .count(&db.open().await)
                .await
                .expect("count"),
            0,
            "DATABASE_URL untouched"
        );

        let again = demo(&db);
        assert_ok(&again);
        let runs = SyncRun::find().all(&conn).await.expect("runs");
        assert_eq!(
            runs.len(),
            10,
            "categories, products, structures, users, offers, twice"
        );
        assert_eq!(
            (runs[6].total, runs[6].unchanged),
            (300, 300),
            "the second run shows unchanged"
        );
        assert_eq!(
            (runs[8].kind.as_str(), runs[8].total, runs[8].unchanged),
            ("users", 250, 250)
        );
        assert_eq!(
            (runs[9].kind.as_str(), runs[9].total, runs[9].unchanged),
            ("offers", 200, 200)
        );
        assert_eq!(JobOffer::find().count(&conn).await.expect("count"), 200);
        assert!(
            !stdout(&again).contains("b2c_1_"),
            "the demo key is never printed"
        );
    })
    .await;
}

#[tokio::test]
async fn bench_runs_at_a_small_size_and_prints_its_figures() {
    run_on(Backend::Sqlite, |db| async move {
        let out = run(sagasync(&db).args([
            "bench",
            "--products",
            "400",
            "--categories",
            "20",
            "--cerema-users",
            "260",
            "--ft-offers",
            "400",
            "--sqlite-only",
            "--json",
        ]));
        assert_ok(&out);
        let phases: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let phases = phases.as_array().expect("a list");
        assert_eq!(
            phases.len(),
            9,
            "floor + three catalog phases + the console + three Cerema phases + France Travail"
        );
        for p in &phases[..4] {
            assert_eq!(p["items"], 400, "{p}");
        }
        let console = &phases[4];
        assert_eq!(console["phase"], "console_overview", "{console}");
        assert_eq!(console["label"], "console overview, 400 products");
        assert_eq!(console["items"], 1, "one page: {console}");
        assert!(console["ratio_to_floor"].is_null(), "{console}");
        let ft = &phases[8];
        assert_eq!(ft["items"], 400);
        assert!(
            ft["ratio_to_ceiling"].as_f64().is_some_and(|r| r > 0.0),
            "{ft}"
        );
        assert!(ft["requests"].as_u64().is_some_and(|r| r >= 3), "{ft}");
        let cerema: Vec<(&str, u64)> = phases[5..8]
            .iter()
            .map(|p| {
                (
                    p["label"].as_str().unwrap_or("?"),
                    p["items"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            cerema,
            vec![
                ("cerema structures, first sync", 20),
                ("cerema users, first sync", 260),
                ("cerema users, nothing changed", 260),
            ]
        );
        for p in phases {
            assert!(p["items_per_sec"].as_f64().is_some_and(|v| v > 0.0));
        }
        assert!(phases[1]["ratio_to_floor"].is_f64());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_measures_mysql_when_given_a_server() {
    run_on(Backend::MySql, |db| async move {
        let server = std::env::var("TEST_MYSQL_URL").expect("run_on(MySql) has a server");
        let out = run(sagasync(&db)
            .env_remove("TEST_POSTGRES_URL")
            .env_remove("TEST_MYSQL_URL")
            .args([
                "bench",
                "--products",
                "200",
                "--categories",
                "10",
                "--cerema-users",
                "0",
                "--ft-offers",
                "0",
                "--distant-products",
                "0",
                "--mysql",
                &server,
                "--json",
            ]));
        assert_ok(&out);
        let phases: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let mysql: Vec<(&str, u64)> = phases
            .as_array()
            .expect("a list")
            .iter()
            .filter(|p| p["backend"] == "mysql")
            .map(|p| {
                (
                    p["label"].as_str().unwrap_or("?"),
                    p["items"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            mysql,
            vec![
                ("floor: prepared inserts, one transaction", 200),
                ("first sync (all created)", 200),
                ("re-sync, nothing changed", 200),
                ("re-sync, 10% changed", 200),
                ("console overview, 200 products", 1),
            ]
        );
    })
    .await;
}

/// After the demo, reading commands in its directory neither create `sagasync.db` nor
/// show zeros: they say where they looked and give the command on the demo's database;
/// the demo's own closing lines are commands that work as printed.
#[tokio::test]
async fn reading_commands_never_create_a_database_and_point_at_the_demos() {
    run_on(Backend::Sqlite, |db| async move {
        let dir = db.dir();
        let default_file = dir.join("sagasync.db");
        let reading = |args: &[&str]| {
            let mut cmd = sagasync(&db);
            cmd.env_remove("DATABASE_URL").args(args);
            run(&mut cmd)
        };
        for args in [
            &["db", "stats"][..],
            &["runs", "list"],
            &["products", "list"],
            &["keys", "list"],
            &["cerema", "users", "list"],
        ] {
            let out = reading(args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains("no database at sagasync.db"), "{err}");
            assert!(err.contains("sagasync demo"), "{err}");
            assert_eq!(err.lines().count(), 1, "one line: {err}");
            assert!(!default_file.exists(), "{args:?} created {default_file:?}");
        }

        let out = demo(&db);
        assert_ok(&out);
        let summary = stdout(&out);
        let next: Vec<&str> = summary
            .lines()
            .skip_while(|l| !l.starts_with("Look at it:"))
            .skip(1)
            .map(str::trim)
            .collect();
        assert!(next.len() >= 5, "{summary}");
        // The database named once, then commands that run as typed on it.
        let url = next[0]
            .strip_prefix("export DATABASE_URL=")
            .unwrap_or_else(|| panic!("an export line: {summary}"));
        assert_eq!(url, "sqlite://sagasync-demo.db");
        for line in &next[1..5] {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(words[0], "sagasync", "{line}");
            let mut cmd = sagasync(&db);
            cmd.env("DATABASE_URL", url).args(&words[1..]);
            assert_ok(&run(&mut cmd));
        }

        let out = reading(&["db", "stats", "--format", "json"]);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains(
                "sagasync --database-url sqlite://sagasync-demo.db db stats --format json"
            ),
            "{err}"
        );
        assert!(!default_file.exists());
    })
    .await;
}
