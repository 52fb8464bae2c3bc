//! `sagasync demo` end to end, and `sagasync bench` at a small size (no timing asserted).

use entity::prelude::*;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::{Backend, TestDb, assert_ok, run, run_on, sagasync, stdout};

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
            8,
            "floor + three catalog phases + three Cerema phases + France Travail"
        );
        for p in &phases[..4] {
            assert_eq!(p["items"], 400, "{p}");
        }
        let ft = &phases[7];
        assert_eq!(ft["items"], 400);
        assert!(
            ft["ratio_to_ceiling"].as_f64().is_some_and(|r| r > 0.0),
            "{ft}"
        );
        assert!(ft["requests"].as_u64().is_some_and(|r| r >= 3), "{ft}");
        let cerema: Vec<(&str, u64)> = phases[4..7]
            .iter()
            .map(|p| {
                (
                    p["phase"].as_str().unwrap_or("?"),
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
            .filter(|p| p["backend"] == "MySQL/MariaDB")
            .map(|p| {
                (
                    p["phase"].as_str().unwrap_or("?"),
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
            ]
        );
    })
    .await;
}
