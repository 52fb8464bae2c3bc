//! What a database failure means for the user: a server that cannot be reached (found
//! before the pool, which would retry a refused connection until its acquire timeout
//! and then only say "pool timed out"), and a connection lost in the middle of a run.

use std::error::Error as StdError;
use std::str::FromStr;

use sea_orm::sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgDatabaseError};
use sea_orm::sqlx::{self, ConnectOptions, Connection};
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

use super::CONNECT_TIMEOUT;

/// Why a database server could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum Unreachable {
    #[error(
        "connection refused by {addr}: check that the database server is running and \
         listens on that address and port"
    )]
    Refused { addr: String },
    #[error("unknown host `{host}`: check the host name in the database URL")]
    UnknownHost { host: String },
    #[error(
        "no answer from {addr} within {}s: check the address, the port and any firewall \
         in between",
        CONNECT_TIMEOUT.as_secs()
    )]
    NoAnswer { addr: String },
    #[error("cannot reach {addr} ({detail}): check the network and the address")]
    Network { addr: String, detail: String },
}

/// A connection that broke while a command used it: the server stopped, restarted,
/// killed the session, or the network dropped.
#[derive(Debug, thiserror::Error)]
#[error(
    "the connection to the database was lost ({detail}): check that the server is up, \
     then run the command again"
)]
pub struct ConnectionLost {
    /// What the driver saw, e.g. `expected to read 4 bytes, got 0 bytes at EOF`.
    pub detail: String,
}

/// Connects once, straight through the driver, to a PostgreSQL or MySQL/MariaDB URL
/// (SQLite has no server: nothing to do) and says why that fails.
pub(super) async fn probe(url: &str) -> anyhow::Result<()> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Ok(()); // The pool says what is wrong with the URL.
    };
    let default_port = match parsed.scheme() {
        "postgres" | "postgresql" => 5432,
        "mysql" => 3306,
        _ => return Ok(()),
    };
    let host = parsed.host_str().unwrap_or("localhost").to_owned();
    let addr = format!("{host}:{}", parsed.port().unwrap_or(default_port));
    let attempt = async {
        if default_port == 5432 {
            PgConnectOptions::from_str(url)?
                .connect()
                .await?
                .close()
                .await
        } else {
            MySqlConnectOptions::from_str(url)?
                .connect()
                .await?
                .close()
                .await
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e, host, addr)),
        Err(_) => Err(Unreachable::NoAnswer { addr }.into()),
    }
}

/// A failed first connection: the network's failures said plainly; the server's own
/// answers (authentication, unknown database, TLS) as the driver words them.
fn unreachable(err: sqlx::Error, host: String, addr: String) -> anyhow::Error {
    let sqlx::Error::Io(io) = &err else {
        return err.into();
    };
    let text = io.to_string();
    let why = if io.kind() == std::io::ErrorKind::ConnectionRefused {
        Unreachable::Refused { addr }
    } else if text.contains("lookup address") {
        // The resolver's words ("failed to lookup address information: ...").
        Unreachable::UnknownHost { host }
    } else {
        Unreachable::Network { addr, detail: text }
    };
    why.into()
}

/// The lost connection behind `err`, if that is what it is: any error of its chain
/// that is a driver I/O or protocol error, or a server saying it closed the session.
pub fn connection_lost(err: &anyhow::Error) -> Option<ConnectionLost> {
    err.chain()
        .find_map(lost_detail)
        .map(|detail| ConnectionLost { detail })
}

/// `err`, said as a lost connection when that is what it is (keeping what was being
/// done when it is not already in the words); any other error unchanged.
pub fn explain(err: anyhow::Error) -> anyhow::Error {
    let Some(lost) = connection_lost(&err) else {
        return err;
    };
    let doing = err.to_string();
    if doing.contains(&lost.detail) {
        anyhow::Error::new(lost)
    } else {
        anyhow::Error::new(lost).context(doing)
    }
}

fn lost_detail(err: &(dyn StdError + 'static)) -> Option<String> {
    if let Some(db) = err.downcast_ref::<DbErr>() {
        return match db {
            DbErr::Conn(rt) | DbErr::Exec(rt) | DbErr::Query(rt) => runtime_detail(rt),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed) => {
                Some("the connection was closed".to_owned())
            }
            _ => None,
        };
    }
    if let Some(rt) = err.downcast_ref::<RuntimeErr>() {
        return runtime_detail(rt);
    }
    err.downcast_ref::<sqlx::Error>().and_then(sqlx_detail)
}

fn runtime_detail(err: &RuntimeErr) -> Option<String> {
    match err {
        RuntimeErr::SqlxError(e) => sqlx_detail(e),
        _ => None,
    }
}

fn sqlx_detail(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Io(io) => Some(io.to_string()),
        sqlx::Error::Protocol(text) => Some(text.clone()),
        sqlx::Error::Database(db) if server_closed_session(db.as_ref()) => {
            Some(db.message().to_owned())
        }
        _ => None,
    }
}

/// The server ended the session: PostgreSQL's connection exceptions (class 08) and
/// shutdowns (57P01-57P03, `pg_terminate_backend` included); MySQL/MariaDB's server
/// shutdown (1053), killed connection (1927), gone away / lost (2006, 2013).
fn server_closed_session(err: &dyn sqlx::error::DatabaseError) -> bool {
    if let Some(pg) = err.try_downcast_ref::<PgDatabaseError>() {
        let code = pg.code();
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03");
    }
    if let Some(my) = err.try_downcast_ref::<MySqlDatabaseError>() {
        return matches!(my.number(), 1053 | 1927 | 2006 | 2013)
            || my.code().is_some_and(|c| c.starts_with("08"));
    }
    false
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn io(kind: std::io::ErrorKind, text: &str) -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::new(kind, text.to_owned()))
    }

    fn lost(err: anyhow::Error) -> String {
        explain(err).to_string()
    }

    #[test]
    fn a_driver_io_error_mid_run_is_a_lost_connection() {
        let eof = io(
            std::io::ErrorKind::UnexpectedEof,
            "expected to read 4 bytes, got 0 bytes at EOF",
        );
        let err = anyhow::Error::new(DbErr::Query(RuntimeErr::SqlxError(Arc::new(eof))));

        let said = format!("{:#}", explain(err));

        assert_eq!(
            said,
            "the connection to the database was lost (expected to read 4 bytes, got 0 bytes \
             at EOF): check that the server is up, then run the command again"
        );
    }

    #[test]
    fn what_was_being_done_is_kept_when_it_is_not_in_the_words() {
        let reset = io(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        );
        let err = anyhow::Error::new(DbErr::Exec(RuntimeErr::SqlxError(Arc::new(reset))))
            .context("cannot store the key");

        let said = format!("{:#}", explain(err));

        assert!(
            said.starts_with("cannot store the key: the connection to the database was lost"),
            "{said}"
        );
    }

    #[test]
    fn other_database_errors_are_left_alone() {
        let err = anyhow::Error::new(DbErr::RecordNotFound("x".into()));
        assert_eq!(lost(err), "RecordNotFound Error: x");
        let err = anyhow::Error::new(DbErr::Exec(RuntimeErr::Internal("boom".into())));
        assert_eq!(lost(err), "Execution Error: boom");
        let pool = sqlx::Error::PoolTimedOut;
        let err = anyhow::Error::new(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(pool))));
        assert!(connection_lost(&err).is_none());
    }

    #[test]
    fn a_refused_first_connection_names_the_address() {
        let refused = io(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let said = unreachable(refused, "db".into(), "db:5432".into()).to_string();
        assert!(
            said.starts_with("connection refused by db:5432: check"),
            "{said}"
        );

        let dns = io(
            std::io::ErrorKind::Other,
            "failed to lookup address information: Name or service not known",
        );
        let said = unreachable(dns, "nohost".into(), "nohost:5432".into()).to_string();
        assert_eq!(
            said,
            "unknown host `nohost`: check the host name in the database URL"
        );

        let auth = sqlx::Error::Configuration("bad sslmode".into());
        let said = unreachable(auth, "db".into(), "db:5432".into()).to_string();
        assert!(said.contains("bad sslmode"), "{said}");
    }
}
