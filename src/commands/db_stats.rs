//! `sagasync db stats`: rows per table, size and backend, and the last run of each
//! source and kind. `sagasync db backup FILE`: a consistent copy of a SQLite database.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::Context;
use super::format::{Format, FormatArgs, done, stdout, write_list, write_record};
use super::table::Layout;
use crate::db::{backup_sqlite, native_backup_command, redact_url};
use crate::inspect;
use crate::inspect::db::human_size;

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Rows per table, database size and backend, last run of each source and kind
    Stats(FormatArgs),
    /// Copy the SQLite database into FILE, consistent while others read or write it
    /// (PostgreSQL, MySQL/MariaDB: prints the command of their own tool)
    Backup(BackupArgs),
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The copy to write: a new SQLite file
    pub file: PathBuf,
    /// Replace FILE if it exists (only once the new copy is complete)
    #[arg(long)]
    pub force: bool,
}

pub async fn run(args: DbArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    match args.command {
        DbCommand::Stats(format) => stats(format, ctx).await,
        DbCommand::Backup(backup) => run_backup(backup, ctx).await,
    }
}

async fn stats(format: FormatArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    let stats = inspect::db::stats(&db).await?;
    if format.get() == Format::Csv {
        // One record per item: here the tables and their rows.
        return write_list(Format::Csv, &stats.tables, "", Layout::default());
    }
    done(write_record(format.get(), &stats, stdout()))
}

async fn run_backup(args: BackupArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let url = &ctx.global.database_url;
    if let Some(native) = native_backup_command(url, &args.file) {
        anyhow::bail!(
            "`db backup` copies SQLite databases; back up this {} database with its own \
             tool, consistent while others write: {}",
            native.backend,
            native.command
        );
    }
    let db = ctx.open_db().await?;
    let backup = backup_sqlite(&db, &args.file, args.force).await?;
    println!(
        "wrote a consistent copy of {} to {} ({})",
        redact_url(url),
        backup.path.display(),
        human_size(backup.bytes)
    );
    Ok(ExitCode::SUCCESS)
}
