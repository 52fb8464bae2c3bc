//! The `sagasync` binary, as a person runs it.

use crate::helpers::{
    Backend, TestDb, assert_ok, new_key, run, run_on, run_with_stdin, sagasync, stderr, stdout,
};
use crate::on_every_backend;

const PLAIN: &str = "b2c_1_ThisMustNeverLeak9876";

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

async fn every_keys_command_works_end_to_end(db: TestDb) {
    let key = new_key();
    let add = |name: &str, value: &str, activate: bool| {
        let mut cmd = sagasync(&db);
        cmd.env("INVENTORY_ENCRYPTION_KEY", &key)
            .args(["keys", "add", "--name", name]);
        if activate {
            cmd.arg("--activate");
        }
        run_with_stdin(&mut cmd, &format!("{value}\n"))
    };

    let out = add("Clé principale", PLAIN, true);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("stored key 1 \"Clé principale\" (active)"),
        "{}",
        stdout(&out)
    );
    assert_ok(&add("second", "b2c_2_anotherkey0000", false));

    let out = run(sagasync(&db)
        .env("INVENTORY_ENCRYPTION_KEY", &key)
        .args(["keys", "list", "--json"]));
    assert_ok(&out);
    let list = json(&out);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_eq!(list[1]["name"], "Clé principale");
    assert_eq!(list[1]["active"], true);
    assert_eq!(list[1]["masked"], "b2c_…9876");

    assert_ok(&run(sagasync(&db).args(["keys", "activate", "2"])));
    let out = run(sagasync(&db)
        .env("INVENTORY_ENCRYPTION_KEY", &key)
        .args(["keys", "list", "--json"]));
    assert_eq!(json(&out)[0]["active"], true);
    assert_eq!(json(&out)[1]["active"], false);

    assert_ok(&run(sagasync(&db).args(["keys", "deactivate", "2"])));

    let out = run(sagasync(&db).args(["keys", "remove", "2"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_ok(&run(sagasync(&db).args(["keys", "remove", "2", "--yes"])));

    let new = new_key();
    let out = run(sagasync(&db)
        .env("INVENTORY_ENCRYPTION_KEY", &key)
        .env("NEW_INVENTORY_ENCRYPTION_KEY", &new)
        .args(["keys", "rotate-encryption"]));
    assert_ok(&out);
    assert!(
        stdout(&out).contains("re-encrypted 1 key"),
        "{}",
        stdout(&out)
    );
    let out = run(sagasync(&db)
        .env("INVENTORY_ENCRYPTION_KEY", &new)
        .args(["keys", "list", "--json"]));
    assert_eq!(json(&out)[0]["masked"], "b2c_…9876");
    let out = run(sagasync(&db)
        .env("INVENTORY_ENCRYPTION_KEY", &key)
        .args(["keys", "list", "--json"]));
    assert!(
        json(&out)[0]["masked"]
            .as_str()
            .unwrap_or_default()
            .contains("undecryptable")
    );
}

async fn the_new_encryption_key_can_come_from_stdin(db: TestDb) {
    let (key, new) = (new_key(), new_key());
    let mut add = sagasync(&db);
    add.env("INVENTORY_ENCRYPTION_KEY", &key)
        .args(["keys", "add", "--name", "k", "--activate"]);
    assert_ok(&run_with_stdin(&mut add, PLAIN));

    let mut rotate = sagasync(&db);
    rotate
        .env("INVENTORY_ENCRYPTION_KEY", &key)
        .args(["keys", "rotate-encryption"]);
    assert_ok(&run_with_stdin(&mut rotate, &format!("  b'{new}'\n")));

    let out = run(sagasync(&db)
        .env("INVENTORY_ENCRYPTION_KEY", &new)
        .args(["keys", "list", "--json"]));
    assert_eq!(json(&out)[0]["masked"], "b2c_…9876");
}

on_every_backend!(
    every_keys_command_works_end_to_end,
    the_new_encryption_key_can_come_from_stdin
);

/// Runs a SQLite-only test (these exercise the binary, not the backend).
async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    run_on(Backend::Sqlite, test).await;
}

#[tokio::test]
async fn a_missing_or_malformed_encryption_key_is_one_clear_line_and_exit_1() {
    on_sqlite(|db| async move {
        let out = run_with_stdin(sagasync(&db).args(["keys", "add", "--name", "x"]), PLAIN);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("INVENTORY_ENCRYPTION_KEY is not set"), "{err}");
        assert!(
            err.contains("sagasync keys generate-encryption-key"),
            "{err}"
        );

        let out = run_with_stdin(
            sagasync(&db)
                .env("INVENTORY_ENCRYPTION_KEY", "not-a-fernet-key")
                .args(["keys", "add", "--name", "x"]),
            PLAIN,
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("not a valid Fernet key"),
            "{}",
            stderr(&out)
        );
    })
    .await;
}

#[tokio::test]
async fn rotating_with_the_wrong_current_key_names_the_key_and_changes_nothing() {
    on_sqlite(|db| async move {
        let key = new_key();
        let mut add = sagasync(&db);
        add.env("INVENTORY_ENCRYPTION_KEY", &key)
            .args(["keys", "add", "--name", "Clé principale"]);
        assert_ok(&run_with_stdin(&mut add, PLAIN));

        let out = run(sagasync(&db)
            .env("INVENTORY_ENCRYPTION_KEY", new_key())
            .env("NEW_INVENTORY_ENCRYPTION_KEY", new_key())
            .args(["keys", "rotate-encryption"]));

        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("API key 1 \"Clé principale\" cannot be decrypted"),
            "{}",
            stderr(&out)
        );
        let out = run(sagasync(&db)
            .env("INVENTORY_ENCRYPTION_KEY", &key)
            .args(["keys", "list", "--json"]));
        assert_eq!(json(&out)[0]["masked"], "b2c_…9876");
    })
    .await;
}

#[tokio::test]
async fn a_key_cannot_be_given_as_an_argument() {
    on_sqlite(|db| async move {
        let out = run(sagasync(&db)
            .env("INVENTORY_ENCRYPTION_KEY", new_key())
            .args(["keys", "add", "--name", "x", PLAIN]));

        assert_eq!(
            out.status.code(),
            Some(2),
            "clap refuses the extra argument"
        );
        db.open().await;
        let out = run(sagasync(&db)
            .env("INVENTORY_ENCRYPTION_KEY", new_key())
            .args(["keys", "list", "--json"]));
        assert_eq!(json(&out), serde_json::json!([]));
    })
    .await;
}

#[tokio::test]
async fn no_plaintext_key_reaches_the_database_file_or_the_logs() {
    on_sqlite(|db| async move {
        let key = new_key();
        let mut add = sagasync(&db);
        add.env("INVENTORY_ENCRYPTION_KEY", &key)
            .env("RUST_LOG", "trace")
            .args(["-vv", "keys", "add", "--name", "k", "--activate"]);
        let added = run_with_stdin(&mut add, PLAIN);
        assert_ok(&added);
        let listed = run(sagasync(&db)
            .env("INVENTORY_ENCRYPTION_KEY", &key)
            .env("RUST_LOG", "trace")
            .args(["-vv", "keys", "list"]));
        assert_ok(&listed);
        assert!(
            stderr(&added).contains("INSERT INTO"),
            "SQL was logged, so the check means something"
        );

        for out in [&added, &listed] {
            assert!(!stdout(out).contains(PLAIN) && !stderr(out).contains(PLAIN));
            assert!(
                !stderr(out).contains(&key),
                "the encryption key leaked into logs"
            );
        }
        let dir = db
            .sqlite_file()
            .and_then(|f| f.parent().map(|p| p.to_path_buf()))
            .expect("dir");
        for entry in std::fs::read_dir(dir).expect("list") {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("read");
            let found = bytes.windows(PLAIN.len()).any(|w| w == PLAIN.as_bytes());
            assert!(!found, "plaintext key found in {}", path.display());
        }
    })
    .await;
}

#[tokio::test]
async fn migrate_commands_show_apply_and_roll_back() {
    on_sqlite(|db| async move {
        let out = run(sagasync(&db).args(["migrate", "status"]));
        assert_ok(&out);
        assert!(stdout(&out).contains("pending"), "{}", stdout(&out));

        let out = run(sagasync(&db).args(["migrate", "up"]));
        assert_ok(&out);
        let all = {
            use migration::MigratorTrait;
            migration::Migrator::migrations().len()
        };
        assert!(
            stdout(&out).contains(&format!("applied {all} migration(s)")),
            "{}",
            stdout(&out)
        );

        let out = run(sagasync(&db).args(["migrate", "down", "-n", "2"]));
        assert_ok(&out);
        let out = run(sagasync(&db).args(["migrate", "status"]));
        assert_eq!(
            stdout(&out).matches("pending").count(),
            2,
            "{}",
            stdout(&out)
        );

        let out = run(sagasync(&db).args(["migrate", "fresh"]));
        assert_eq!(
            out.status.code(),
            Some(1),
            "fresh needs --yes without a terminal"
        );
        let out = run(sagasync(&db).args(["migrate", "fresh", "--yes"]));
        assert_ok(&out);
        let out = run(sagasync(&db).args(["migrate", "status"]));
        assert!(!stdout(&out).contains("pending"), "{}", stdout(&out));
    })
    .await;
}

#[tokio::test]
async fn settings_come_from_flags_then_environment_then_dotenv() {
    on_sqlite(|db| async move {
        let key = new_key();
        let from_dotenv = db.dir().join("dotenv.db");
        let from_env = db.dir().join("env.db");
        let from_flag = db.dir().join("flag.db");
        std::fs::write(
            db.dir().join(".env"),
            format!(
                "DATABASE_URL=sqlite://{}?mode=rwc\nINVENTORY_ENCRYPTION_KEY=\"{key}\"\n",
                from_dotenv.display()
            ),
        )
        .expect("write .env");

        let mut cmd = sagasync(&db);
        cmd.env_remove("DATABASE_URL")
            .args(["keys", "add", "--name", "k"]);
        assert_ok(&run_with_stdin(&mut cmd, PLAIN));
        assert!(from_dotenv.exists(), ".env was read, quotes and all");

        // `keys list` only reads: it names the missing database it was pointed at.
        let url = format!("sqlite://{}?mode=rwc", from_env.display());
        let out = run(sagasync(&db)
            .env("DATABASE_URL", &url)
            .args(["keys", "list"]));
        assert!(
            stderr(&out).contains(&format!("no database at {}", from_env.display())),
            "the environment wins over .env: {}",
            stderr(&out)
        );

        let flag = format!("sqlite://{}?mode=rwc", from_flag.display());
        let out = run(sagasync(&db).env("DATABASE_URL", &url).args([
            "--database-url",
            &flag,
            "keys",
            "list",
        ]));
        assert!(
            stderr(&out).contains(&format!("no database at {}", from_flag.display())),
            "a flag wins over the environment: {}",
            stderr(&out)
        );
        assert!(!from_env.exists() && !from_flag.exists());
    })
    .await;
}

#[tokio::test]
async fn generate_encryption_key_prints_a_usable_key_and_stdout_carries_only_results() {
    on_sqlite(|db| async move {
        let out = run(sagasync(&db).args(["keys", "generate-encryption-key"]));
        assert_ok(&out);
        let printed = stdout(&out);
        assert_eq!(printed.lines().count(), 1);
        assert!(sagasync::crypto::Cipher::new(printed.trim()).is_some());

        db.open().await;
        let out = run(sagasync(&db).args(["keys", "list"]));
        assert_ok(&out);
        assert!(
            stdout(&out).contains("no stored API keys"),
            "{}",
            stdout(&out)
        );
    })
    .await;
}
