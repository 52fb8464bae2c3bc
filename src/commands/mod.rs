//! The command layer: the command line (`cli`), one module per subcommand, each an
//! `Args` struct and a `run`, and what they share: flag values (`values`), rendering
//! (`format` for inspection, `report` for sync runs), `progress`, `interrupt`.
//! Commands turn flags into library calls and render the results; they hold no logic.

pub mod bench;
pub mod catalog;
pub mod cerema;
pub mod cerema_lists;
pub mod check;
pub mod cli;
pub mod db_stats;
pub mod demo;
pub mod fields;
pub mod format;
pub mod france_travail;
pub mod ft_offer;
pub mod input;
pub mod interrupt;
pub mod keys;
pub mod migrate;
pub mod offers;
pub mod profiles;
pub mod progress;
pub mod recommend;
pub mod report;
pub mod runs;
pub mod sandbox;
pub mod serve;
pub mod shell;
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
    /// The command only reads: it never creates a database ([`reads_only`]).
    pub reads_only: bool,
}

impl Context {
    /// The context of one command: nothing opened yet.
    pub fn new(global: GlobalArgs, database_url_from_flag: bool) -> Context {
        Context {
            global,
            database_url_from_flag,
            opened: Mutex::new(Vec::new()),
            reads_only: false,
        }
    }

    /// Opens the database and applies pending migrations.
    pub async fn open_db(&self) -> anyhow::Result<DatabaseConnection> {
        self.open_db_for(crate::db::Use::Commands).await
    }

    /// Opens the database with the pool sized for `usage` (`serve`: concurrent readers).
    /// A command that only reads refuses a SQLite file that does not exist instead of
    /// creating an empty one (see [`missing_database`]).
    pub async fn open_db_for(&self, usage: crate::db::Use) -> anyhow::Result<DatabaseConnection> {
        let url = &self.global.database_url;
        if self.reads_only
            && let Some(file) = crate::db::sqlite_file(url)
            && !file.exists()
        {
            anyhow::bail!(missing_database(&file, std::env::args().skip(1)));
        }
        self.open_url_for(url, usage).await
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
    let mut ctx = Context::new(cli.global, database_url_from_flag);
    ctx.reads_only = reads_only(&cli.command);
    let outcome = dispatch(cli.command, &ctx).await;
    ctx.close().await;
    outcome.map_err(explain)
}

/// The error and its causes on one line, each cause once: many errors (sqlx's, SeaORM's)
/// already quote their cause in their own message. How `main` prints a failed command.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
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

/// Commands that only look at what is stored: on a SQLite file that does not exist they
/// say so instead of creating an empty database and showing zeros.
fn reads_only(command: &Command) -> bool {
    match command {
        Command::Db(_)
        | Command::Runs(_)
        | Command::Categories(_)
        | Command::Products(_)
        | Command::Offers(_)
        | Command::Rome(_)
        | Command::MatchSkills(_)
        | Command::Recommend(_) => true,
        Command::Serve(args) => !args.accounts,
        Command::Cerema(args) => !matches!(args.command, cerema::CeremaCommand::Sync(_)),
        Command::Keys(args) => matches!(args.command, keys::KeysCommand::List { .. }),
        Command::Profiles(args) => matches!(
            args.command,
            profiles::ProfilesCommand::List { .. }
                | profiles::ProfilesCommand::Show { .. }
                | profiles::ProfilesCommand::Export { .. }
        ),
        _ => false,
    }
}

/// What a reading command says when its SQLite file does not exist: where it looked,
/// and the next command to run — the same one on the demo's database when the demo
/// ran here, else a sync or the demo.
fn missing_database(file: &std::path::Path, args: impl Iterator<Item = String>) -> String {
    let demo = crate::db::sqlite_file(demo::DEMO_DATABASE_URL);
    let mut message = format!(
        "no database at {}: nothing was synced into it",
        file.display()
    );
    match demo.filter(|d| d.exists() && d.as_path() != file) {
        Some(demo_file) => {
            let mut words = vec![
                "sagasync".to_owned(),
                "--database-url".to_owned(),
                format!("sqlite://{}", demo_file.display()),
            ];
            let mut skip_value = false;
            for arg in args {
                // The database named on the command line is the one replaced.
                if std::mem::take(&mut skip_value) {
                    continue;
                }
                if arg == "--database-url" {
                    skip_value = true;
                    continue;
                }
                if arg.starts_with("--database-url=") {
                    continue;
                }
                words.push(shell_word(&arg));
            }
            message.push_str(&format!(
                "; the demo's database is {}: {}",
                demo_file.display(),
                words.join(" ")
            ));
        }
        None => message.push_str(
            "; run a sync first (sagasync sync-categories, sync-products...), or `sagasync demo` \
             to try sagasync on generated data",
        ),
    }
    message
}

/// `word` as a shell reads it back: quoted when it holds anything but plain characters.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
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
        Command::Recommend(args) => recommend::run(args, ctx).await,
        Command::Serve(args) => serve::run(args, ctx).await,
        Command::Keys(args) => keys::run(args, ctx).await,
        Command::Profiles(args) => profiles::run(args, ctx).await,
        Command::Migrate(args) => migrate::run(args, ctx).await,
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(args),
        Command::Check(args) => check::run(*args, ctx).await,
        Command::SyncCategories(args) => sync::run_categories(args, ctx).await,
        Command::SyncProducts(args) => sync::run_products(args, ctx).await,
        Command::Demo(args) => demo::run(args, ctx).await,
        Command::Sandbox(args) => sandbox::run(args, ctx).await,
        Command::Bench(args) => bench::run(args, ctx).await,
    }
}
