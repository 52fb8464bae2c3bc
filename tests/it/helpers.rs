//! Test helpers: a fresh database per test on each backend, and the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    fn admin_url_var(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres => Some("TEST_POSTGRES_URL"),
            Backend::MySql => Some("TEST_MYSQL_URL"),
        }
    }
}

/// A database that exists for one test, dropped when the value is.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    dir: tempfile::TempDir,
    server: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("sagasync_t{}_{n}_{nanos}", std::process::id())
}

/// `scheme://user@host:port/NAME`: the server URL with another database name.
fn with_database(server_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(server_url).expect("a valid database URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl TestDb {
    /// A fresh database, or `None` when the backend is not configured here.
    pub async fn create(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let Some(var) = backend.admin_url_var() else {
            let path = dir.path().join("test.db");
            let url = format!("sqlite://{}?mode=rwc", path.display());
            return Some(TestDb {
                url,
                backend,
                dir,
                server: None,
            });
        };
        let server_url = match std::env::var(var) {
            Ok(u) if !u.is_empty() => u,
            _ if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("{var} is not set: CI must test {backend:?}")
            }
            _ => {
                eprintln!("skipped on {backend:?}: {var} is not set");
                return None;
            }
        };
        let name = unique_name();
        let admin = Database::connect(&server_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach {var}: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
        admin.close().await.ok();
        let url = with_database(&server_url, &name);
        Some(TestDb {
            url,
            backend,
            dir,
            server: Some((server_url, name)),
        })
    }

    /// Opens it through sagasync (settings and migrations as the app applies them).
    pub async fn open(&self) -> DatabaseConnection {
        sagasync::db::open(&self.url, false)
            .await
            .expect("open the test database")
    }

    /// Connects without applying migrations.
    pub async fn connect(&self) -> DatabaseConnection {
        sagasync::db::connect(&self.url, false)
            .await
            .expect("connect to the test database")
    }

    /// A scratch directory for this test (the working directory of CLI runs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite file, when this is SQLite.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        (self.backend == Backend::Sqlite).then(|| self.dir.path().join("test.db"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server_url, name)) = self.server.take() else {
            return;
        };
        let backend = self.backend;
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let admin = Database::connect(&server_url).await.ok()?;
                let sql = match backend {
                    Backend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    _ => format!("DROP DATABASE IF EXISTS {name}"),
                };
                admin.execute_unprepared(&sql).await.ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

/// Runs `test` on a fresh database of `backend`, or skips it (outside CI) when the
/// backend is not configured.
pub async fn run_on<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(db) = TestDb::create(backend).await {
        test(db).await;
    }
}

/// Declares, for each async `fn name(db: TestDb)`, a module `name` with one test per
/// backend: `name::sqlite`, `name::postgres`, `name::mysql`.
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            use $crate::helpers::{run_on, Backend};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run_on(Backend::Sqlite, super::$test).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run_on(Backend::Postgres, super::$test).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                run_on(Backend::MySql, super::$test).await;
            }
        }
    )+};
}

/// The names of the tables the database holds, whatever the backend.
pub async fn table_names(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = 'public'"
        }
        _ => {
            "SELECT table_name AS name FROM information_schema.tables \
              WHERE table_schema = DATABASE()"
        }
    };
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .expect("list tables");
    let mut names: Vec<String> = rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("a table name"))
        .collect();
    names.sort();
    names
}

/// Makes the database itself refuse to insert the row of `table` whose `column` is
/// `value` (an SQL literal), with a trigger: how a test shows that a record the
/// database refuses rolls back alone.
pub async fn refuse_on_insert(db: &DatabaseConnection, table: &str, column: &str, value: &str) {
    let name = format!("refuse_{table}");
    let statements = match db.get_database_backend() {
        DbBackend::Sqlite => vec![format!(
            "CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN NEW.{column} = {value} \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )],
        DbBackend::Postgres => vec![
            format!(
                "CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN \
                 IF NEW.{column} = {value} THEN RAISE EXCEPTION 'refused by the test'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW \
                 EXECUTE FUNCTION {name}()"
            ),
        ],
        _ => vec![format!(
            "CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW BEGIN \
             IF NEW.{column} = {value} THEN \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF; END"
        )],
    };
    for sql in statements {
        db.execute_unprepared(&sql)
            .await
            .expect("create the trigger");
    }
}

/// A fresh Fernet key.
pub fn new_key() -> String {
    sagasync::crypto::Cipher::generate_key()
}

/// The `sagasync` binary, in `db`'s scratch directory, pointed at `db`, with none of
/// the caller's sagasync settings leaking in.
pub fn sagasync(db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sagasync"));
    for var in [
        "DATABASE_URL",
        "B2B_API_URL",
        "B2B_API_KEY",
        "B2B_CONCURRENCY",
        "INVENTORY_ENCRYPTION_KEY",
        "NEW_INVENTORY_ENCRYPTION_KEY",
        "INVENTORY_API_TIMEOUT",
        "INVENTORY_API_MAX_RETRIES",
        "CEREMA_API_URL",
        "CEREMA_API_TOKEN",
        "CEREMA_USERNAME",
        "CEREMA_PASSWORD",
        "CEREMA_API_TIMEOUT",
        "CEREMA_API_MAX_RETRIES",
        "CEREMA_CONCURRENCY",
        "FRANCE_TRAVAIL_CLIENT_ID",
        "FRANCE_TRAVAIL_CLIENT_SECRET",
        "FRANCE_TRAVAIL_SCOPE",
        "FRANCE_TRAVAIL_AUTH_URL",
        "FRANCE_TRAVAIL_API_URL",
        "POLE_EMPLOI_CLIENT_ID",
        "POLE_EMPLOI_CLIENT_SECRET",
        "POLE_EMPLOI_SCOPE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "KEY_ACCESS",
        "KEY_SECRET",
        "data_lake_bucket",
        "RUST_LOG",
        "COLUMNS",
    ] {
        cmd.env_remove(var);
    }
    cmd.current_dir(db.dir()).env("DATABASE_URL", &db.url);
    cmd
}

/// Runs `cmd` with `stdin` piped in, and returns what it did.
pub fn run_with_stdin(cmd: &mut Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sagasync");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for sagasync")
}

/// Runs `cmd` with an empty stdin.
pub fn run(cmd: &mut Command) -> Output {
    run_with_stdin(cmd, "")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success, showing stderr when it failed.
#[track_caller]
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "failed ({:?}): {}",
        out.status,
        stderr(out)
    );
}

/// A client for a fake B2B API at `base`, with a stored-looking key.
pub fn b2b_client(base: &str, max_retries: u32, timeout_ms: u64) -> sagasync::b2b::B2bClient {
    let key = sagasync::keys::ActiveKey {
        id: None,
        name: "B2B_API_KEY".to_owned(),
        secret: sagasync::secret::Secret::new(TEST_API_KEY),
    };
    let settings = sagasync::b2b::B2bSettings {
        base_url: base.to_owned(),
        timeout: std::time::Duration::from_millis(timeout_ms),
        max_retries,
    };
    sagasync::b2b::B2bClient::new(&settings, key).expect("a client")
}

/// The key the fake upstreams expect.
pub const TEST_API_KEY: &str = "b2c_1_testkey0000";

/// A product as the B2B API lists it.
pub fn product_json(
    id: i64,
    name: &str,
    price: &str,
    sku: &str,
    category: Option<i64>,
) -> serde_json::Value {
    let mut p = serde_json::json!({
        "id": id, "name": name, "selling_price": price, "cug": sku,
        "quantity": "5.000", "is_available_b2c": true, "description": format!("{name} description"),
    });
    if let Some(c) = category {
        p["category"] = serde_json::json!({"id": c, "name": format!("Cat {c}")});
    }
    p
}

/// Serves `pages` as DRF pages at `/b2c/products/` with absolute `next` links.
pub async fn mount_product_pages(server: &wiremock::MockServer, pages: &[Vec<serde_json::Value>]) {
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, ResponseTemplate};
    let count: usize = pages.iter().map(Vec::len).sum();
    for (i, items) in pages.iter().enumerate() {
        let n = i + 1;
        let next = (n < pages.len()).then(|| {
            format!(
                "{}/b2c/products/?page={}&page_size=100",
                server.uri(),
                n + 1
            )
        });
        Mock::given(method("GET"))
            .and(path("/b2c/products/"))
            .and(query_param("page", n.to_string()))
            .and(header("X-API-Key", TEST_API_KEY))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "count": count, "next": next, "previous": null, "results": items,
            })))
            .mount(server)
            .await;
    }
}

/// Serves `body` at `/b2c/categories/`.
pub async fn mount_categories(server: &wiremock::MockServer, body: serde_json::Value) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    Mock::given(method("GET"))
        .and(path("/b2c/categories/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Serves page 1 of `/b2c/products/` (product 1, `next` to page 2) and answers page 2
/// with `second`: a fault, a slow answer.
pub async fn mount_page_one_then(
    server: &wiremock::MockServer,
    second: wiremock::ResponseTemplate,
) {
    use wiremock::matchers::{path, query_param};
    use wiremock::{Mock, ResponseTemplate};
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "count": 2, "next": format!("{}/b2c/products/?page=2", server.uri()),
            "results": [product_json(1, "P", "1", "S1", None)]})))
        .mount(server)
        .await;
    Mock::given(path("/b2c/products/"))
        .and(query_param("page", "2"))
        .respond_with(second)
        .mount(server)
        .await;
}
