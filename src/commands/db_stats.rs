//! `sagasync db stats`: rows per table, size and backend, and the last run of each
//! source and kind.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::Context;
use super::format::{Format, FormatArgs, done, stdout, write_list, write_record};
use crate::inspect;

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Rows per table, database size and backend, last run of each source and kind
    Stats(FormatArgs),
}

pub async fn run(args: DbArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let DbCommand::Stats(format) = args.command;
    let db = ctx.open_db().await?;
    let stats = inspect::db::stats(&db).await?;
    if format.format == Format::Csv {
        // One record per item: here the tables and their rows.
        return write_list(Format::Csv, &stats.tables, "");
    }
    done(write_record(format.format, &stats, stdout()))
}
