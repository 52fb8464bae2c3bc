//! The command layer: the command line (`cli`), one module per subcommand, each an
//! `Args` struct and a `run`, and what they share: flag values (`values`), rendering
//! (`format` for inspection, `report` for sync runs), `progress`, `interrupt`.
//! Commands turn flags into library calls and render the results; they hold no logic.

pub mod bench;
pub mod catalog;
pub mod cerema;
pub mod cerema_lists;
pub mod cli;
pub mod db_stats;
pub mod demo;
pub mod fields;
pub mod format;
pub mod france_travail;
pub mod input;
pub mod interrupt;
pub mod keys;
pub mod migrate;
pub mod offers;
pub mod progress;
pub mod report;
pub mod runs;
pub mod sandbox;
pub mod serve;
pub mod skills;
pub mod sync;
pub mod table;
pub mod values;

use std::process::ExitCode;
use std::sync::Mutex;

use sea_orm::DatabaseConnection;

use crate::crypto::{Cipher, CryptoError};
use crate::sync::run::RunError;

pub use self::cli::{Cli, Command, GlobalArgs};

/// The variable that holds the encryption key, for messages.
pub const ENCRYPTION_KEY_VAR: &str = "INVENTORY_ENCRYPTION_KEY";

/// What every command may need: the global settings and ways to open what they name.
///
/// Invariant: the databases a command opens through its context are closed when the
/// command ends, whatever its outcome ([`Context::close`]): a SQLite file then holds
/// everything, its WAL emptied.
#[derive(Debug)]
pub struct Context {
    pub global: GlobalArgs,
    /// Whether `--database-url` was given on the command line (the demo then uses it;
    /// otherwise it keeps to its own file, whatever `DATABASE_URL` says).
    pub database_url_from_flag: bool,
    /// The pools opened for this command, closed by [`Context::close`].
    opened: Mutex<Vec<DatabaseConnection>>,
}

impl Context {
    /// The context of one command: nothing opened yet.
    pub fn new(global: GlobalArgs, database_url_from_flag: bool) -> Context {
        Context {
            global,
            database_url_from_flag,
            opened: Mutex::new(Vec::new()),
        }
    }

    /// Opens the database and applies pending migrations.
    pub async fn open_db(&self) -> anyhow::Result<DatabaseConnection> {
        self.open_db_for(crate::db::Use::Commands).await
    }

    /// Opens the database with the pool sized for `usage` (`serve`: concurrent readers).
    pub async fn open_db_for(&self, usage: crate::db::Use) -> anyhow::Result<DatabaseConnection> {
        self.open_url_for(&self.global.database_url, usage).await
    }

    /// Opens the database at `url` (a command's own database, like the demo's), closed
    /// with the others when the command ends.
    pub async fn open_url_for(
        &self,
        url: &str,
        usage: crate::db::Use,
    ) -> anyhow::Result<DatabaseConnection> {
        let db = crate::db::open_for(url, self.global.verbose >= 2, usage).await?;
        self.remember(&db);
        Ok(db)
    }

    /// Connects with one connection and applies nothing (`migrate`), closed with the
    /// others when the command ends.
    pub async fn connect_single_db(&self) -> anyhow::Result<DatabaseConnection> {
        let url = &self.global.database_url;
        let db = crate::db::connect_single(url, self.global.verbose >= 2).await?;
        self.remember(&db);
        Ok(db)
    }

    fn remember(&self, db: &DatabaseConnection) {
        self.opened
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(db.clone());
    }

    /// Closes every database the command opened (SQLite: checkpointed first).
    pub async fn close(&self) {
        let opened = std::mem::take(
            &mut *self
                .opened
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for db in opened {
            crate::db::close(db).await;
        }
    }

    /// The cipher of `INVENTORY_ENCRYPTION_KEY`, or why there is none.
    pub fn cipher(&self) -> Result<Cipher, CryptoError> {
        Cipher::from_env_value(ENCRYPTION_KEY_VAR, self.global.encryption_key.as_ref())
    }
}

/// Runs the parsed command line; the exit code is the command's. The databases it
/// opened are closed before returning, after a success, an error or an interruption.
pub async fn run(cli: Cli, database_url_from_flag: bool) -> anyhow::Result<ExitCode> {
    let ctx = Context::new(cli.global, database_url_from_flag);
    let outcome = dispatch(cli.command, &ctx).await;
    ctx.close().await;
    outcome.map_err(explain)
}

/// A lost database connection said as such, also when a sync run carries it.
fn explain(err: anyhow::Error) -> anyhow::Error {
    if let Some(RunError::Failed { run_id, cause }) = err.downcast_ref::<RunError>()
        && let Some(lost) = crate::db::connection_lost(cause)
    {
        return anyhow::Error::new(lost).context(format!("run {run_id} failed"));
    }
    crate::db::explain(err)
}

async fn dispatch(command: Command, ctx: &Context) -> anyhow::Result<ExitCode> {
    match command {
        Command::Db(args) => db_stats::run(args, ctx).await,
        Command::Runs(args) => runs::run(args, ctx).await,
        Command::Categories(args) => catalog::run_categories(args, ctx).await,
        Command::Products(args) => catalog::run_products(args, ctx).await,
        Command::Offers(args) => offers::run(args, ctx).await,
        Command::Cerema(args) => cerema::run(args, ctx).await,
        Command::FranceTravail(args) => france_travail::run(args, ctx).await,
        Command::Rome(args) => skills::run_rome(args, ctx).await,
        Command::MatchSkills(args) => skills::run_match(args, ctx).await,
        Command::Serve(args) => serve::run(args, ctx).await,
        Command::Keys(args) => keys::run(args, ctx).await,
        Command::Migrate(args) => migrate::run(args, ctx).await,
        Command::SyncCategories(args) => sync::run_categories(args, ctx).await,
        Command::SyncProducts(args) => sync::run_products(args, ctx).await,
        Command::Demo(args) => demo::run(args, ctx).await,
        Command::Sandbox(args) => sandbox::run(args, ctx).await,
        Command::Bench(args) => bench::run(args, ctx).await,
    }
}
