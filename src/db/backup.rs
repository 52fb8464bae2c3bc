//! Backups: a consistent copy of a SQLite database taken while other processes read
//! or write it (`VACUUM INTO`), and, for a server, the command line of its own tool.

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// A backup that was written.
#[derive(Debug, Clone)]
pub struct Backup {
    /// Where, absolute.
    pub path: PathBuf,
    /// Its size on disk.
    pub bytes: u64,
}

/// Why a backup was not written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{} exists: choose another file, or add --force to replace it", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: its directory does not exist", .0.display())]
    NoDirectory(PathBuf),
    #[error("cannot write {}: the path is not valid UTF-8", .0.display())]
    NotUtf8(PathBuf),
    #[error("`db backup` copies SQLite databases, this one is {0}")]
    NotSqlite(&'static str),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot copy the database into {}: {source}", path.display())]
    Db { path: PathBuf, source: DbErr },
}

/// Copies the SQLite database behind `db` into `dest` with `VACUUM INTO`: a read
/// transaction, so it is one consistent state however others write meanwhile, and
/// it never waits for a writer. The copy is written next to `dest` under a temporary
/// name and renamed into place: an interrupted backup leaves no half file, and with
/// `replace` the old file stays until the new one is whole. The copy is readable by its
/// owner only (0600 on Unix), as a database holding encrypted keys should be.
pub async fn backup_sqlite(
    db: &DatabaseConnection,
    dest: &Path,
    replace: bool,
) -> Result<Backup, BackupError> {
    let backend = db.get_database_backend();
    if backend != DbBackend::Sqlite {
        return Err(BackupError::NotSqlite(super::backend_name(backend)));
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| BackupError::Io { path, source }
    };
    let path = std::path::absolute(dest).map_err(io(dest))?;
    if !replace && path.exists() {
        return Err(BackupError::Exists(path));
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    if !dir.is_dir() {
        return Err(BackupError::NoDirectory(path));
    }
    // An empty file, which VACUUM INTO accepts (it refuses one with content).
    let partial = tempfile::Builder::new()
        .prefix(".sagasync-backup-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(io(&path))?;
    let Some(partial_name) = partial.path().to_str() else {
        return Err(BackupError::NotUtf8(path));
    };
    let vacuum =
        Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [partial_name.into()]);
    db.execute_raw(vacuum)
        .await
        .map_err(|source| BackupError::Db {
            path: path.clone(),
            source,
        })?;
    let placed = if replace {
        partial.persist(&path)
    } else {
        partial.persist_noclobber(&path)
    };
    if let Err(e) = placed {
        return Err(match e.error.kind() {
            std::io::ErrorKind::AlreadyExists => BackupError::Exists(path),
            _ => BackupError::Io {
                path,
                source: e.error,
            },
        });
    }
    let bytes = std::fs::metadata(&path).map_err(io(&path))?.len();
    Ok(Backup { path, bytes })
}

/// How to back up a server database: its own tool, which takes a consistent snapshot
/// while others write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeBackup {
    /// `PostgreSQL` or `MySQL/MariaDB`.
    pub backend: &'static str,
    /// The command line, for a shell; the password is never in it (the tool asks).
    pub command: String,
}

/// The command that backs up the PostgreSQL or MySQL/MariaDB database at `url` into
/// `file`; `None` for SQLite (and anything else).
pub fn native_backup_command(url: &str, file: &Path) -> Option<NativeBackup> {
    let parsed = url::Url::parse(url).ok()?;
    let (backend, tool, mut args) = match parsed.scheme() {
        "postgres" | "postgresql" => ("PostgreSQL", "pg_dump", vec!["--format=custom".to_owned()]),
        "mysql" => (
            "MySQL/MariaDB",
            "mariadb-dump",
            vec!["--single-transaction".to_owned()],
        ),
        _ => return None,
    };
    let user_flag = if tool == "pg_dump" {
        "--username"
    } else {
        "--user"
    };
    if let Some(host) = parsed.host_str() {
        args.push(format!("--host={}", shell_word(host)));
    }
    if let Some(port) = parsed.port() {
        args.push(format!("--port={port}"));
    }
    if !parsed.username().is_empty() {
        args.push(format!("{user_flag}={}", shell_word(parsed.username())));
    }
    if parsed.password().is_some() {
        // Asks for it: a password never goes on a command line.
        args.push("--password".to_owned());
    }
    let file = shell_word(&file.display().to_string());
    args.push(if tool == "pg_dump" {
        format!("--file={file}")
    } else {
        format!("--result-file={file}")
    });
    let database = parsed.path().trim_start_matches('/');
    if !database.is_empty() {
        args.push(shell_word(database));
    }
    let mut command = format!("{tool} {}", args.join(" "));
    if tool == "mariadb-dump" {
        command.push_str(" (or mysqldump, same arguments)");
    }
    Some(NativeBackup { backend, command })
}

/// `s` as one shell word: as is when plain, else single-quoted.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, file: &str, expected: Option<&str>) {
        let got = native_backup_command(url, Path::new(file)).map(|n| n.command);
        assert_eq!(got.as_deref(), expected, "{url}");
    }

    #[test]
    fn a_server_backup_is_the_native_tool_with_the_urls_settings() {
        check(
            "postgres://app:hunter2@db.example:6432/shop",
            "shop.dump",
            Some(
                "pg_dump --format=custom --host=db.example --port=6432 --username=app \
                 --password --file=shop.dump shop",
            ),
        );
        check(
            "postgres://postgres@127.0.0.1/test",
            "my backup.dump",
            Some(
                "pg_dump --format=custom --host=127.0.0.1 --username=postgres \
                 --file='my backup.dump' test",
            ),
        );
        check(
            "mysql://root:s3cret@127.0.0.1:3306/test",
            "/tmp/t.sql",
            Some(
                "mariadb-dump --single-transaction --host=127.0.0.1 --port=3306 --user=root \
                 --password --result-file=/tmp/t.sql test (or mysqldump, same arguments)",
            ),
        );
        check("sqlite://sagasync.db?mode=rwc", "x.db", None);
    }

    #[test]
    fn the_password_never_reaches_the_command() {
        let n = native_backup_command("postgres://u:hunter2@h/d", Path::new("f"));
        assert!(n.is_some_and(|n| !n.command.contains("hunter2")));
    }
}
