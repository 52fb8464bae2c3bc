//! `sagasync runs list|show`: the recorded sync runs and their item errors.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use entity::prelude::{RunStatus, Source};

use super::Context;
use super::format::{FormatArgs, done, stdout, write_filtered, write_record};
use super::table::Layout;
use super::values::{list_limit, offset};
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
    /// Only the runs of this upstream
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
    /// Only the runs that ended (or stand) this way
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Runs shown at most
    #[arg(long, default_value_t = 20, value_parser = list_limit)]
    pub limit: u64,
    /// Runs skipped before the first shown (newest first, same filters)
    #[arg(long, default_value_t = 0, value_parser = offset)]
    pub offset: u64,
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

/// What a narrow terminal leaves out of `runs list` first: the figures a run's `show`
/// gives; id, kind, status, start and total stay longest.
const RUNS_LAYOUT: Layout = Layout {
    drop: &[
        "finished_at",
        "missing",
        "unchanged",
        "updated",
        "source",
        "errors",
        "created",
    ],
};

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
                offset: args.offset,
            };
            write_filtered(
                args.format.get(),
                &filter,
                "no run matched",
                RUNS_LAYOUT,
                (
                    async |page: &RunFilter| Ok(runs::list(&db, page).await?),
                    async |all: &RunFilter| Ok(runs::count(&db, all).await?),
                ),
            )
            .await
        }
        RunsCommand::Show(args) => {
            let Some(run) = runs::get(&db, args.id).await? else {
                anyhow::bail!("no run {}: `sagasync runs list` shows the runs", args.id);
            };
            done(write_record(args.format.get(), &run, stdout()))
        }
    }
}
