//! `sagasync runs list|show`: the recorded sync runs and their item errors.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use entity::prelude::{RunStatus, Source};

use super::Context;
use super::format::{FormatArgs, done, stdout, write_filtered, write_record};
use crate::inspect::runs::{self, RunFilter};

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: RunsCommand,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Runs, newest first
    List(RunsListArgs),
    /// One run: its figures, options, message and recorded item errors
    Show(RunsShowArgs),
}

/// An upstream, as `--source` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum SourceArg {
    B2b,
    Cerema,
    FranceTravail,
}

/// A run status, as `--status` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    Running,
    Succeeded,
    Failed,
    Interrupted,
}

#[derive(Debug, Args)]
pub struct RunsListArgs {
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Runs shown at most
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct RunsShowArgs {
    /// The run's id (`runs list` shows them)
    pub id: i32,
    #[command(flatten)]
    pub format: FormatArgs,
}

pub async fn run(args: RunsArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    match args.command {
        RunsCommand::List(args) => {
            let filter = RunFilter {
                source: args.source.map(|s| match s {
                    SourceArg::B2b => Source::B2b,
                    SourceArg::Cerema => Source::Cerema,
                    SourceArg::FranceTravail => Source::FranceTravail,
                }),
                status: args.status.map(|s| match s {
                    StatusArg::Running => RunStatus::Running,
                    StatusArg::Succeeded => RunStatus::Succeeded,
                    StatusArg::Failed => RunStatus::Failed,
                    StatusArg::Interrupted => RunStatus::Interrupted,
                }),
                limit: args.limit,
                offset: 0,
            };
            write_filtered(
                args.format.format,
                &filter,
                "no run matched",
                async |page| Ok(runs::list(&db, page).await?),
            )
            .await
        }
        RunsCommand::Show(args) => {
            let Some(run) = runs::get(&db, args.id).await? else {
                anyhow::bail!("no run {}: `sagasync runs list` shows the runs", args.id);
            };
            done(write_record(args.format.format, &run, stdout()))
        }
    }
}
