//! The command line's surface: help headings, usage lines, completions, manual pages,
//! `serve --bind` spellings, and log lines without colours in a pipe.

use std::io::{BufRead, BufReader};

use crate::helpers::{Backend, TestDb, assert_ok, run, run_on, sagasync, stderr, stdout};

/// `--help` of a command shows its own options first; the options every command takes
/// come after, under their own headings.
#[tokio::test]
async fn a_commands_help_shows_its_own_options_first() {
    run_on(Backend::Sqlite, |db| async move {
        let out = run(sagasync(&db).args(["cerema", "users", "list", "--help"]));
        assert_ok(&out);
        let help = stdout(&out);
        let at = |needle: &str| {
            help.find(needle)
                .unwrap_or_else(|| panic!("{needle:?} in {help}"))
        };
        assert!(at("--structure") < at("Global options:"), "{help}");
        assert!(at("Global options:") < at("--database-url"), "{help}");
        assert!(
            at("B2B API options (global):") < at("--b2b-api-url"),
            "{help}"
        );
        let own = &help[at("Options:")..at("Global options:")];
        assert!(!own.contains("--b2b-api"), "{own}");
    })
    .await;
}

/// A missing argument's usage line is the command's own: options the environment
/// filled are not shown as if they were required.
#[tokio::test]
async fn usage_lines_do_not_list_what_the_environment_filled() {
    run_on(Backend::Sqlite, |db| async move {
        let out = run(sagasync(&db)
            .env("B2B_API_KEY", "b2c_1_x")
            .env("B2B_API_URL", "http://127.0.0.1:9/api")
            .args(["keys", "add"]));
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        let usage = err
            .lines()
            .find(|l| l.starts_with("Usage:"))
            .unwrap_or_else(|| panic!("a usage line in {err}"));
        assert_eq!(
            usage, "Usage: sagasync keys add [OPTIONS] --name <NAME>",
            "{err}"
        );
        assert!(err.contains("--name <NAME>"), "{err}");
    })
    .await;
}

/// Completion scripts for each shell, generated from the command line itself.
#[tokio::test]
async fn completions_are_generated_for_each_shell() {
    run_on(Backend::Sqlite, |db| async move {
        for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
            let out = run(sagasync(&db).args(["completions", shell]));
            assert_ok(&out);
            let script = stdout(&out);
            assert!(script.contains("sync-products"), "{shell}: {script}");
            assert!(script.contains("concurrency"), "{shell}");
        }
        // The bash script is valid bash.
        let out = run(sagasync(&db).args(["completions", "bash"]));
        let file = db.dir().join("sagasync.bash");
        std::fs::write(&file, &out.stdout).expect("write");
        let check = std::process::Command::new("bash")
            .arg("-n")
            .arg(&file)
            .output()
            .expect("bash");
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let out = run(sagasync(&db).args(["completions", "tcsh"]));
        assert_eq!(out.status.code(), Some(2));
    })
    .await;
}

/// `man` prints sagasync(1) in roff, or writes a page per command into a directory.
#[tokio::test]
async fn manual_pages_are_generated() {
    run_on(Backend::Sqlite, |db| async move {
        let out = run(sagasync(&db).arg("man"));
        assert_ok(&out);
        let page = stdout(&out);
        assert!(page.contains(".TH sagasync 1"), "{page}");
        assert!(page.contains("sync\\-products"), "{page}");
        let dir = db.dir().join("man1");
        assert_ok(&run(sagasync(&db).args(["man", "--dir"]).arg(&dir)));
        for name in [
            "sagasync.1",
            "sagasync-sync-products.1",
            "sagasync-cerema-sync.1",
        ] {
            let text = std::fs::read_to_string(dir.join(name)).expect(name);
            assert!(text.contains(".TH"), "{name}");
        }
    })
    .await;
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `serve --bind` takes a port alone, localhost:PORT and IP:PORT, and refuses anything
/// else in words.
#[tokio::test]
async fn serve_binds_a_port_alone_or_localhost() {
    run_on(Backend::Sqlite, |db| async move {
        db.open().await;
        for spelling in ["{port}", "localhost:{port}", "127.0.0.1:{port}"] {
            let port = free_port();
            let bind = spelling.replace("{port}", &port.to_string());
            let mut child = sagasync(&db)
                .args(["serve", "--bind", &bind])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn");
            let out = child.stdout.take().expect("stdout");
            let line = tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                BufReader::new(out).read_line(&mut line).map(|_| line)
            })
            .await
            .expect("join")
            .expect("a line");
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                line.contains(&format!("http://127.0.0.1:{port}/ ")),
                "{bind}: {line}"
            );
        }
        for bad in ["nonsense", "localhost:http", "99999"] {
            let out = run(sagasync(&db).args(["serve", "--bind", bad]));
            assert_eq!(out.status.code(), Some(2), "{bad}");
            assert!(
                stderr(&out).contains("give a port (5080)"),
                "{}",
                stderr(&out)
            );
        }
    })
    .await;
}

/// Log lines written to a pipe carry no colour escapes, unless asked for.
#[tokio::test]
async fn piped_logs_carry_no_escapes_unless_asked() {
    run_on(Backend::Sqlite, |db: TestDb| async move {
        db.open().await;
        let out = run(sagasync(&db).args(["-v", "db", "stats"]));
        assert_ok(&out);
        let err = stderr(&out);
        assert!(err.contains("DEBUG"), "-v logs something: {err}");
        assert!(!err.contains('\u{1b}'), "{err:?}");
        let out = run(sagasync(&db).args(["-v", "--color", "always", "db", "stats"]));
        assert_ok(&out);
        assert!(stderr(&out).contains('\u{1b}'), "asked for colours");
    })
    .await;
}

/// Numeric flags refuse a value by saying what they take, in words (not `0 is not in
/// 1..18446744073709551615`).
#[tokio::test]
async fn numeric_flags_of_syncs_and_bench_say_what_they_take() {
    run_on(Backend::Sqlite, |db| async move {
        for (args, says) in [
            (
                &["sync-products", "--page-size", "0"][..],
                "must be a whole number of products from 1 to 10,000",
            ),
            (
                &["bench", "--latencies-ms", "20,0"],
                "must be a whole number of milliseconds from 1 to 60,000",
            ),
            (
                &["bench", "--products", "lots"],
                "must be a whole number of items",
            ),
            (
                &["rome", "show", "G1602", "--skills", "many"],
                "must be a whole number of items",
            ),
            (
                &["cerema", "sync", "--concurrency", "0"],
                "must be a whole number of pages from 1 to 64",
            ),
        ] {
            let out = run(sagasync(&db).args(args));
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
            assert!(!stderr(&out).contains("18446744073709551615"));
        }
    })
    .await;
}
