//! The command line: global flags (each with its environment variable) and the
//! subcommands. Parsing only; [`super::run`] runs them.

use clap::{ArgAction, Args, Parser, Subcommand};

use super::sync::{SyncCategoriesArgs, SyncProductsArgs};
use super::values::{response_mb, retries, timeout_secs};
use super::{
    bench::BenchArgs,
    catalog::{CategoriesArgs, ProductsArgs},
    cerema::CeremaArgs,
    check::CheckArgs,
    db_stats::DbArgs,
    demo::DemoArgs,
    france_travail::FranceTravailArgs,
    keys::KeysArgs,
    migrate::MigrateArgs,
    offers::OffersArgs,
    profiles::ProfilesArgs,
    recommend::RecommendArgs,
    runs::RunsArgs,
    sandbox::SandboxArgs,
    serve::ServeArgs,
    skills::{MatchSkillsArgs, RomeArgs},
};
use crate::db::DEFAULT_DATABASE_URL;
use crate::http::{DEFAULT_MAX_RESPONSE_MB, HttpOptions};
use crate::secret::Secret;

/// Default B2B inventory API, as the original Django app has it.
pub const DEFAULT_B2B_API_URL: &str = "https://www.bolibanastock.com/api/v1";

#[derive(Debug, Parser)]
#[command(
    name = "sagasync",
    version,
    about = "Sync REST APIs into an embedded database, and inspect what it holds",
    long_about = None,
    after_help = "Settings come from flags, then the environment, then a .env file in the \
                  working directory. Secrets are best kept in the environment: a flag shows in `ps`."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Database to use: sqlite://FILE?mode=rwc, postgres://..., mysql://...
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, help_heading = "Global options")]
    pub database_url: String,

    /// More log output on stderr (-v debug, -vv trace and SQL); RUST_LOG wins
    #[arg(short, long, action = ArgAction::Count, global = true, help_heading = "Global options")]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Global options"
    )]
    pub quiet: bool,

    /// Base URL of the B2B inventory API; requests go to {base}/{endpoint}
    #[arg(long, env = "B2B_API_URL", default_value = DEFAULT_B2B_API_URL, global = true, help_heading = "B2B API options (global)")]
    pub b2b_api_url: String,

    /// Fallback API key, used when no stored key is active
    #[arg(
        long,
        env = "B2B_API_KEY",
        hide_env_values = true,
        global = true,
        help_heading = "B2B API options (global)"
    )]
    pub b2b_api_key: Option<Secret>,

    /// Fernet key that encrypts stored API keys (url-safe base64 of 32 bytes)
    #[arg(
        long,
        env = "INVENTORY_ENCRYPTION_KEY",
        hide_env_values = true,
        global = true,
        help_heading = "B2B API options (global)"
    )]
    pub encryption_key: Option<Secret>,

    /// Timeout of one request to the B2B API, in seconds (more than 0, at most 86400)
    #[arg(
        long,
        env = "INVENTORY_API_TIMEOUT",
        default_value = "30",
        value_parser = timeout_secs,
        global = true,
        help_heading = "B2B API options (global)"
    )]
    pub api_timeout: std::time::Duration,

    /// Retries of one failed request to the B2B API (0 to 20)
    #[arg(
        long,
        env = "INVENTORY_API_MAX_RETRIES",
        default_value_t = 3,
        value_parser = retries,
        global = true,
        help_heading = "B2B API options (global)"
    )]
    pub api_max_retries: u32,

    /// Colours in log lines: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(
        long,
        value_enum,
        default_value_t = crate::telemetry::ColorWhen::Auto,
        value_name = "WHEN",
        global = true,
        help_heading = "Global options"
    )]
    pub color: crate::telemetry::ColorWhen,

    /// Largest answer read from an upstream API, in MiB (1 to 4096); a larger one stops the run
    #[arg(
        long,
        env = "SAGASYNC_MAX_RESPONSE_MB",
        default_value_t = DEFAULT_MAX_RESPONSE_MB,
        value_parser = response_mb,
        global = true,
        help_heading = "Global options"
    )]
    pub max_response_mb: u64,
}

/// The command line of this process; a usage error is printed and the process exits
/// (2), as clap does, but with the usage line of the command alone: clap's names every
/// option the environment filled as if it were required.
pub fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command();
    let matches = match command.try_get_matches_from_mut(std::env::args_os()) {
        Ok(m) => m,
        Err(e) => exit_with(e),
    };
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => exit_with(e),
    }
}

fn exit_with(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.render().to_string();
    eprint!("{}", with_plain_usage(&text));
    std::process::exit(e.exit_code());
}

/// `text` (a clap error) with its `Usage:` line replaced by the usage of the command it
/// names, as `--help` shows it (no option the environment filled).
pub fn with_plain_usage(text: &str) -> String {
    use clap::CommandFactory;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let replaced = line.strip_prefix("Usage: ").and_then(|usage| {
            let mut words = usage.split_whitespace();
            if words.next()? != "sagasync" {
                return None;
            }
            let mut command = Cli::command();
            command.build();
            let mut current = &command;
            for word in words.take_while(|w| !w.starts_with(['-', '<', '['])) {
                current = current.find_subcommand(word)?;
            }
            let usage = current.clone().render_usage().to_string();
            Some(format!("{}\n", usage.trim_end()))
        });
        out.push_str(replaced.as_deref().unwrap_or(line));
    }
    out
}

impl GlobalArgs {
    /// What every upstream client takes from the global settings (the body cap).
    pub fn http_options(&self) -> HttpOptions {
        HttpOptions::max_response_mb(self.max_response_mb)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every sync against the built-in sandbox into sagasync-demo.db, then summarise
    Demo(DemoArgs),
    /// Mirror the B2B inventory's categories (create/update, then link parents)
    SyncCategories(SyncCategoriesArgs),
    /// Mirror the B2B inventory's products, page by page, each in its own savepoint
    SyncProducts(SyncProductsArgs),
    /// Cerema Portail DF: sync users and structures, list or export them
    Cerema(CeremaArgs),
    /// France Travail job offers: collect a query's offers (past the 3,150 cap)
    FranceTravail(FranceTravailArgs),
    /// Inspect the database (rows per table, size, last runs), or back it up
    Db(DbArgs),
    /// Inspect the sync runs and their recorded item errors
    Runs(RunsArgs),
    /// Inspect the stored categories: tree with product counts, list
    Categories(CategoriesArgs),
    /// Inspect the stored products: list with filters and search, show one
    Products(ProductsArgs),
    /// Inspect the stored France Travail offers: search, show one
    Offers(OffersArgs),
    /// A job (ROME code) as the stored offers describe it
    Rome(RomeArgs),
    /// How well skills match what the stored offers of a job ask for
    MatchSkills(MatchSkillsArgs),
    /// The jobs (ROME codes) skills match best, with their best offers, near a commune
    Recommend(RecommendArgs),
    /// Serve a read-only web console and JSON API over the database (loopback by default)
    Serve(ServeArgs),
    /// Administer the stored API keys (encrypted with INVENTORY_ENCRYPTION_KEY)
    Keys(KeysArgs),
    /// Administer the job-seeker accounts and their profiles (skills, experience, education)
    Profiles(ProfilesArgs),
    /// Serve fake upstream APIs on loopback (for trying things without an account)
    Sandbox(SandboxArgs),
    /// Measure the catalog sync against the sandbox and its floor; prints figures
    Bench(BenchArgs),
    /// Show, apply or roll back database migrations (commands apply them anyway)
    Migrate(MigrateArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(super::shell::CompletionsArgs),
    /// Print the manual page (roff), or write one per command into a directory
    Man(super::shell::ManArgs),
    /// Check the setup: database, keys, each upstream API, the archive (one line each)
    Check(Box<CheckArgs>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_setting_shows_its_variable_in_help() {
        let help = Cli::command().render_long_help().to_string();
        for var in [
            "DATABASE_URL",
            "B2B_API_URL",
            "B2B_API_KEY",
            "INVENTORY_ENCRYPTION_KEY",
            "INVENTORY_API_TIMEOUT",
            "INVENTORY_API_MAX_RETRIES",
            "SAGASYNC_MAX_RESPONSE_MB",
        ] {
            assert!(help.contains(var), "{var} missing from --help");
        }
    }
}
