//! What the database layer guarantees whatever the command: a SQLite file that holds
//! everything once sagasync has exited, consistent backups, migrations that two
//! processes can start at once, failures that say what happened, identifiers
//! compared byte for byte on every backend, and a PostgreSQL sync that finds its rows
//! by key.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::{category, product};
use migration::{Migrator, MigratorTrait};
use rust_decimal::Decimal;
use sagasync::sandbox::{Faults, Sandbox, SandboxConfig};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, Set, Statement, TransactionTrait,
};
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    Backend, TEST_API_KEY, TestDb, assert_ok, product_json, run, run_on, sagasync, stderr, stdout,
    table_names,
};
use crate::on_every_backend;

// ---------------------------------------------------------------- helpers

/// A sandbox serving `products` products (every page after `slow_ms`, when set).
async fn sandbox(products: usize, slow_ms: u64) -> Sandbox {
    let faults = Faults {
        slow: if slow_ms > 0 { 1.0 } else { 0.0 },
        slow_ms,
        ..Faults::default()
    };
    let config = SandboxConfig {
        seed: 11,
        categories: 10,
        products,
        api_key: TEST_API_KEY.into(),
        faults,
        ..SandboxConfig::default()
    };
    Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the sandbox starts")
}

/// `sagasync sync-products` against `base`, quiet.
fn sync_products(db: &TestDb, base: &str, page_size: u32) -> Command {
    let mut cmd = sagasync(db);
    cmd.env("B2B_API_URL", base)
        .env("B2B_API_KEY", TEST_API_KEY)
        .env("INVENTORY_API_MAX_RETRIES", "0")
        .env("INVENTORY_API_TIMEOUT", "10")
        .args(["sync-products", "-q", "--page-size", &page_size.to_string()]);
    cmd
}

/// A plain connection to a SQLite file, with none of sagasync's settings.
async fn plain_sqlite(path: &Path) -> DatabaseConnection {
    Database::connect(format!("sqlite://{}?mode=rw", path.display()))
        .await
        .expect("open the SQLite file")
}

async fn scalar(db: &impl ConnectionTrait, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("a number")
}

async fn text(db: &DatabaseConnection, sql: &str) -> String {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row")
        .try_get_by_index::<String>(0)
        .expect("a string")
}

/// Copies the `.db` file alone (no `-wal`, no `-shm`) to a fresh directory and
/// counts the products there.
async fn products_in_a_copy_of_the_file_alone(file: &Path) -> i64 {
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    let copy = elsewhere.path().join("copy.db");
    std::fs::copy(file, &copy).expect("copy the .db file");
    let conn = plain_sqlite(&copy).await;
    let tables = table_names(&conn).await;
    if !tables.iter().any(|t| t == "products") {
        return -1;
    }
    let n = scalar(&conn, "SELECT COUNT(*) FROM products").await;
    conn.close().await.ok();
    n
}

/// Products, counted through an ordinary connection (the WAL included).
async fn products_in(file: &Path) -> i64 {
    let conn = plain_sqlite(file).await;
    let n = scalar(&conn, "SELECT COUNT(*) FROM products").await;
    conn.close().await.ok();
    n
}

/// One product row in plain SQL (the same on every backend).
fn insert_product_sql(slug: &str) -> String {
    format!(
        "INSERT INTO products (title, slug, description, price, stock, is_available, \
         image_urls, created_at, updated_at) VALUES ('t', '{slug}', '', '1.00', 0, 1, '[]', \
         '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
}

fn spawn_piped(cmd: &mut Command) -> std::process::Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sagasync")
}

// ---------------------------------------------- 1. one file after a clean exit

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_sync_the_db_file_alone_holds_every_product() {
    run_on(Backend::Sqlite, |db| async move {
        let sb = sandbox(3_000, 0).await;

        assert_ok(&run(&mut sync_products(&db, &sb.b2b_url(), 500)));

        let file = db.sqlite_file().expect("a SQLite file");
        assert_eq!(products_in_a_copy_of_the_file_alone(&file).await, 3_000);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failed_sync_the_db_file_alone_holds_what_was_committed() {
    run_on(Backend::Sqlite, |db| async move {
        let server = MockServer::start().await;
        let items: Vec<_> = (1..=1_500)
            .map(|i| product_json(i, &format!("P{i}"), "1.50", &format!("S{i}"), None))
            .collect();
        Mock::given(path("/b2c/products/"))
            .and(query_param("page", "1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "count": 3_000,
                "next": format!("{}/b2c/products/?page=2", server.uri()),
                "results": items,
            })))
            .mount(&server)
            .await;
        Mock::given(path("/b2c/products/"))
            .and(query_param("page", "2"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;

        let out = run(&mut sync_products(&db, &server.uri(), 1_500));

        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let file = db.sqlite_file().expect("a SQLite file");
        assert_eq!(products_in_a_copy_of_the_file_alone(&file).await, 1_500);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_interrupted_sync_the_db_file_alone_holds_what_was_committed() {
    run_on(Backend::Sqlite, |db| async move {
        let sb = sandbox(20_000, 100).await;
        let child = spawn_piped(&mut sync_products(&db, &sb.b2b_url(), 100));
        tokio::time::sleep(Duration::from_secs(3)).await;

        let kill = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(kill.success());
        let out = child.wait_with_output().expect("wait for sagasync");

        assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
        let file = db.sqlite_file().expect("a SQLite file");
        // The copy first: a connection to the original would checkpoint it on closing.
        let in_copy = products_in_a_copy_of_the_file_alone(&file).await;
        let stored = products_in(&file).await;
        assert!(stored > 0, "some pages were committed before Ctrl-C");
        assert_eq!(in_copy, stored);
    })
    .await;
}

// ------------------------------------------------------------- 2. db backup

/// 2,000 products synced into `db` by the binary, and a second connection to its file
/// that will wait for the write lock.
async fn filled_with_a_second_writer(db: &TestDb) -> DatabaseConnection {
    let sb = sandbox(2_000, 0).await;
    assert_ok(&run(&mut sync_products(db, &sb.b2b_url(), 1_000)));
    let file = db.sqlite_file().expect("a SQLite file");
    let writer = plain_sqlite(&file).await;
    writer
        .execute_unprepared("PRAGMA busy_timeout = 5000")
        .await
        .expect("busy timeout");
    writer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_complete_while_another_connection_holds_a_write_transaction() {
    run_on(Backend::Sqlite, |db| async move {
        let writer = filled_with_a_second_writer(&db).await;
        writer
            .execute_unprepared("BEGIN IMMEDIATE")
            .await
            .expect("take the write lock");
        writer
            .execute_unprepared(&insert_product_sql("uncommitted"))
            .await
            .expect("an uncommitted row");

        let started = Instant::now();
        let out = run(sagasync(&db).args(["db", "backup", "backup.db"]));

        assert_ok(&out);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the backup waited for the writer: {:?}",
            started.elapsed()
        );
        let backup = db.dir().join("backup.db");
        let said = stdout(&out);
        assert!(said.contains(&backup.display().to_string()), "{said}");
        assert!(said.contains("MiB") || said.contains("KiB"), "{said}");
        assert!(
            !db.dir().join("backup.db-wal").exists(),
            "a backup is one file"
        );
        writer
            .execute_unprepared("ROLLBACK")
            .await
            .expect("rollback");
        let copy = plain_sqlite(&backup).await;
        assert_eq!(scalar(&copy, "SELECT COUNT(*) FROM products").await, 2_000);
        assert_eq!(text(&copy, "PRAGMA integrity_check").await, "ok");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_a_writer_keeps_writing_is_consistent() {
    run_on(Backend::Sqlite, |db| async move {
        let writer = filled_with_a_second_writer(&db).await;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let writing = tokio::spawn(async move {
            let mut n = 0u32;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                writer
                    .execute_unprepared(&insert_product_sql(&format!("w-{n}")))
                    .await
                    .expect("the writer writes");
                n += 1;
            }
            n
        });
        tokio::time::sleep(Duration::from_millis(200)).await;

        let out = run(sagasync(&db).args(["db", "backup", "during.db"]));

        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let written = writing.await.expect("the writer");
        assert_ok(&out);
        assert!(written > 0);
        let copy = plain_sqlite(&db.dir().join("during.db")).await;
        let n = scalar(&copy, "SELECT COUNT(*) FROM products").await;
        assert!(
            (2_000..=2_000 + i64::from(written)).contains(&n),
            "{n} products"
        );
        assert_eq!(text(&copy, "PRAGMA integrity_check").await, "ok");
    })
    .await;
}

#[tokio::test]
async fn a_backup_never_overwrites_a_file_unless_forced() {
    run_on(Backend::Sqlite, |db| async move {
        std::fs::write(db.dir().join("taken.db"), "precious").expect("a file");
        db.open().await;

        let out = run(sagasync(&db).args(["db", "backup", "taken.db"]));

        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(db.dir().join("taken.db")).expect("read"),
            "precious"
        );

        assert_ok(&run(
            sagasync(&db).args(["db", "backup", "taken.db", "--force"])
        ));
        let copy = plain_sqlite(&db.dir().join("taken.db")).await;
        assert_eq!(text(&copy, "PRAGMA integrity_check").await, "ok");
        assert!(table_names(&copy).await.iter().any(|t| t == "products"));
    })
    .await;
}

async fn a_backup_of_a_server_database_names_the_native_tool(db: TestDb) {
    db.open().await;
    let out = run(sagasync(&db).args(["db", "backup", "shop.dump"]));

    match db.backend {
        Backend::Sqlite => assert_ok(&out),
        Backend::Postgres | Backend::MySql => {
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            let err = stderr(&out);
            assert_eq!(err.lines().count(), 1, "{err}");
            let tool = if db.backend == Backend::Postgres {
                "pg_dump"
            } else {
                "mariadb-dump"
            };
            assert!(err.contains(tool) && err.contains("shop.dump"), "{err}");
            let name = db.url.rsplit('/').next().expect("a database name");
            assert!(err.contains(name), "{err}");
            assert!(!db.dir().join("shop.dump").exists());
        }
    }
}

// ------------------------------------------- 3. migrations, one at a time

const OPENERS: usize = 5;
const ROUNDS: usize = 3;

async fn concurrent_first_opens_all_succeed(db: TestDb) {
    let backend = db.backend;
    let mut fresh = Some(db);
    for round in 0..ROUNDS {
        let db = match fresh.take() {
            Some(db) => db,
            None => TestDb::create(backend).await.expect("a fresh database"),
        };
        let opens: Vec<_> = (0..OPENERS)
            .map(|_| {
                let url = db.url.clone();
                tokio::spawn(async move { sagasync::db::open(&url, false).await })
            })
            .collect();
        for (i, open) in opens.into_iter().enumerate() {
            let conn = open
                .await
                .expect("the task")
                .unwrap_or_else(|e| panic!("round {round}, opener {i}: {e:#}"));
            conn.close().await.ok();
        }
        let conn = db.connect().await;
        let tables = table_names(&conn).await;
        for t in [
            "api_keys",
            "categories",
            "products",
            "sync_locks",
            "job_offer_skills",
        ] {
            assert!(
                tables.iter().any(|n| n == t),
                "round {round}: no {t} in {tables:?}"
            );
        }
        assert!(
            Migrator::get_pending_migrations(&conn)
                .await
                .expect("status")
                .is_empty()
        );
        conn.close().await.ok();
    }
}

async fn two_processes_started_at_once_on_a_new_database_both_succeed(db: TestDb) {
    let backend = db.backend;
    let mut fresh = Some(db);
    for round in 0..ROUNDS {
        let db = match fresh.take() {
            Some(db) => db,
            None => TestDb::create(backend).await.expect("a fresh database"),
        };
        // A new SQLite database is an empty file (`db stats` only reads: it creates none).
        if let Some(file) = sagasync::db::sqlite_file(&db.url) {
            std::fs::File::create(file).expect("an empty database file");
        }
        let children: Vec<_> = (0..2)
            .map(|_| spawn_piped(sagasync(&db).args(["db", "stats", "--format", "json"])))
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("wait for sagasync");
            assert!(
                out.status.success(),
                "round {round}: {:?} {}",
                out.status,
                stderr(&out)
            );
        }
    }
}

async fn two_syncs_started_at_once_on_a_new_database_meet_the_sync_lock(db: TestDb) {
    let sb = sandbox(3_000, 150).await;
    let children: Vec<_> = (0..2)
        .map(|_| spawn_piped(&mut sync_products(&db, &sb.b2b_url(), 100)))
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait for sagasync"))
        .collect();

    let ok = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "{:?}", outs.iter().map(stderr).collect::<Vec<_>>());
    let loser = outs
        .iter()
        .find(|o| !o.status.success())
        .expect("one loser");
    assert!(
        stderr(loser).contains("sync is running"),
        "{}",
        stderr(loser)
    );
}

// --------------------------------- 4. an unreachable database fails in seconds

/// Runs `sagasync db stats` against `url`; returns its output and how long it took.
async fn stats_against(url: &str) -> (Output, Duration) {
    let db = TestDb::create(Backend::Sqlite)
        .await
        .expect("a scratch directory");
    let started = Instant::now();
    let out = run(sagasync(&db).env("DATABASE_URL", url).args(["db", "stats"]));
    (out, started.elapsed())
}

#[track_caller]
fn assert_fails_fast_saying(out: &Output, took: Duration, words: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let err = stderr(out);
    assert!(took < Duration::from_secs(10), "took {took:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(words), "{err}");
}

#[tokio::test]
async fn a_refused_postgres_connection_fails_in_seconds_saying_so() {
    let (out, took) = stats_against("postgres://postgres@127.0.0.1:1/x").await;
    assert_fails_fast_saying(&out, took, "connection refused");
}

#[tokio::test]
async fn a_refused_mysql_connection_fails_in_seconds_saying_so() {
    let (out, took) = stats_against("mysql://root@127.0.0.1:1/x").await;
    assert_fails_fast_saying(&out, took, "connection refused");
}

#[tokio::test]
async fn an_unknown_database_host_is_named() {
    let (out, took) = stats_against("postgres://u@no-such-host.invalid/x").await;
    assert_fails_fast_saying(&out, took, "unknown host");
    assert!(stderr(&out).contains("no-such-host.invalid"));
    let (out, took) = stats_against("mysql://u@no-such-host.invalid/x").await;
    assert_fails_fast_saying(&out, took, "unknown host");
}

#[tokio::test]
async fn a_server_that_never_answers_is_given_up_on_with_a_reason() {
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("its address").port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().take(4).flatten() {
            open.push(stream);
        }
        std::thread::sleep(Duration::from_secs(30));
    });

    let (out, took) = stats_against(&format!("postgres://u@127.0.0.1:{port}/x")).await;

    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(stderr(&out).contains("no answer"), "{}", stderr(&out));
    drop(held);
}

/// A session the server ends (PostgreSQL `pg_terminate_backend`, MariaDB `KILL`) while
/// a command holds it: the error says the connection was lost and what to do.
async fn a_connection_the_server_kills_is_said_to_be_lost(db: TestDb) {
    let (whoami, kill) = match db.backend {
        Backend::Sqlite => return,
        Backend::Postgres => (
            "SELECT pg_backend_pid()::bigint",
            "SELECT pg_terminate_backend({id})",
        ),
        Backend::MySql => ("SELECT CAST(CONNECTION_ID() AS SIGNED)", "KILL {id}"),
    };
    let conn = db.open().await;
    let txn = conn
        .begin()
        .await
        .expect("a transaction holds one connection");
    let id = scalar(&txn, whoami).await;
    let admin = Database::connect(&db.url)
        .await
        .expect("an admin connection");
    admin
        .execute_unprepared(&kill.replace("{id}", &id.to_string()))
        .await
        .expect("end the session");
    admin.close().await.ok();

    let err = txn
        .query_one_raw(Statement::from_string(
            txn.get_database_backend(),
            "SELECT 1",
        ))
        .await
        .expect_err("the session is gone");

    eprintln!("the driver said: {err}");
    let said = format!(
        "{:#}",
        sagasync::db::explain(anyhow::Error::new(err.clone()))
    );
    assert!(
        said.starts_with("the connection to the database was lost (")
            && said.ends_with("check that the server is up, then run the command again"),
        "{said} (the driver said: {err})"
    );
}

// -------------------------------------- 5. identifiers compared byte for byte

fn category_row(slug: &str) -> category::ActiveModel {
    category::ActiveModel {
        name: Set(format!("Catégorie {slug}")),
        slug: Set(slug.to_owned()),
        parent_id: Set(None),
        description: Set(String::new()),
        level: Set(0),
        position: Set(0),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
}

fn product_row(slug: &str, sku: &str) -> product::ActiveModel {
    product::ActiveModel {
        title: Set(format!("Produit {slug}")),
        slug: Set(slug.to_owned()),
        description: Set(String::new()),
        price: Set(entity::prelude::Money(Decimal::ONE)),
        discount_price: Set(None),
        category_id: Set(None),
        brand: Set(None),
        sku: Set(Some(sku.to_owned())),
        stock: Set(1),
        is_available: Set(true),
        image_urls: Set(serde_json::json!([])),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Identifiers that differ only by case or accents, as upstreams send them.
const VARIANTS: [&str; 4] = ["abc", "ABC", "cafe", "café"];

async fn identifiers_differing_by_case_or_accent_are_distinct_rows(db: TestDb) {
    let conn = db.open().await;

    for v in VARIANTS {
        category_row(v)
            .insert(&conn)
            .await
            .unwrap_or_else(|e| panic!("category {v}: {e}"));
        product_row(v, &format!("SKU-{v}"))
            .insert(&conn)
            .await
            .unwrap_or_else(|e| panic!("product {v}: {e}"));
    }

    assert_eq!(
        entity::prelude::Category::find()
            .count(&conn)
            .await
            .expect("count"),
        4
    );
    assert_eq!(
        entity::prelude::Product::find()
            .count(&conn)
            .await
            .expect("count"),
        4
    );
    let same_slug = product_row("abc", "SKU-other").insert(&conn).await;
    let err = same_slug.expect_err("an exact duplicate slug is refused");
    assert!(sagasync::db::is_unique_violation(&err), "{err}");
    let same_sku = product_row("other", "SKU-café").insert(&conn).await;
    let err = same_sku.expect_err("an exact duplicate sku is refused");
    assert!(sagasync::db::is_unique_violation(&err), "{err}");
    let same_category = category_row("ABC").insert(&conn).await;
    let err = same_category.expect_err("an exact duplicate category slug is refused");
    assert!(sagasync::db::is_unique_violation(&err), "{err}");
    if conn.get_database_backend() == DbBackend::MySql {
        let found = entity::prelude::Product::find()
            .all(&conn)
            .await
            .expect("read");
        let skus: Vec<_> = found.iter().filter_map(|p| p.sku.clone()).collect();
        assert!(skus.contains(&"SKU-café".to_owned()), "{skus:?}");
    }
}

// ------------------------------ 6. a sync reads its tables by key on PostgreSQL

/// Rows of `table` read by sequential scans, once the statistics show the `inserted`
/// rows (a backend reports them when its connection ends).
async fn rows_scanned_whole(db: &DatabaseConnection, table: &str, inserted: i64) -> i64 {
    let started = Instant::now();
    loop {
        let sql = format!(
            "SELECT COALESCE(SUM(n_tup_ins), 0)::bigint, COALESCE(SUM(seq_tup_read), 0)::bigint \
             FROM pg_stat_user_tables WHERE relname = '{table}'"
        );
        // A new transaction each time: the statistics are read once per transaction.
        let txn = db.begin().await.expect("begin");
        let row = txn
            .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .expect("read the statistics")
            .expect("a row");
        txn.commit().await.expect("commit");
        let ins: i64 = row.try_get_by_index(0).expect("n_tup_ins");
        if ins >= inserted {
            return row.try_get_by_index(1).expect("seq_tup_read");
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the statistics never showed {inserted} rows inserted into {table} ({ins})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A growing table looked up with a thousand keys at a time was scanned whole at every
/// batch (the planner's choice at every size): quadratic over a first sync. The scans
/// left are the end of the pass's (a few reads of each table).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_on_postgres_finds_its_rows_by_index() {
    run_on(Backend::Postgres, |db| async move {
        const PRODUCTS: i64 = 12_000;
        let sb = sandbox(PRODUCTS as usize, 0).await;

        assert_ok(&run(&mut sync_products(&db, &sb.b2b_url(), 100)));

        let conn = db.connect().await;
        for table in ["products", "external_products"] {
            let scanned = rows_scanned_whole(&conn, table, PRODUCTS).await;
            assert!(
                scanned <= 3 * PRODUCTS,
                "{scanned} rows of {table} read by sequential scans for {PRODUCTS} products"
            );
        }
    })
    .await;
}

on_every_backend!(
    a_backup_of_a_server_database_names_the_native_tool,
    a_connection_the_server_kills_is_said_to_be_lost,
    concurrent_first_opens_all_succeed,
    two_processes_started_at_once_on_a_new_database_both_succeed,
    two_syncs_started_at_once_on_a_new_database_meet_the_sync_lock,
    identifiers_differing_by_case_or_accent_are_distinct_rows,
);
