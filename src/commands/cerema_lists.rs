//! `sagasync cerema users list` and `sagasync cerema structures list`: the stored
//! Portail DF records.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::Context;
use super::format::{FormatArgs, write_filtered};
use crate::inspect::cerema::{self, StructureFilter, UserFilter};

#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Stored users by id, with their structure's name
    List(UsersListArgs),
}

#[derive(Debug, Args)]
pub struct UsersListArgs {
    /// Only the users of this structure (its id)
    #[arg(long)]
    pub structure: Option<i64>,
    /// Only the structures' managers (gestionnaires)
    #[arg(long)]
    pub gestionnaire: bool,
    /// Users shown at most
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
    #[command(flatten)]
    pub format: FormatArgs,
}

#[derive(Debug, Args)]
pub struct StructuresArgs {
    #[command(subcommand)]
    pub command: StructuresCommand,
}

#[derive(Debug, Subcommand)]
pub enum StructuresCommand {
    /// Stored structures by id, with their number of users
    List(StructuresListArgs),
}

#[derive(Debug, Args)]
pub struct StructuresListArgs {
    /// Only the structures of this département (01, 2A, 971)
    #[arg(long)]
    pub departement: Option<String>,
    /// Structures shown at most
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
    #[command(flatten)]
    pub format: FormatArgs,
}

pub async fn run_users(args: UsersArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let UsersCommand::List(args) = args.command;
    let db = ctx.open_db().await?;
    let filter = UserFilter {
        structure: args.structure,
        gestionnaire: args.gestionnaire.then_some(true),
        limit: args.limit,
        offset: 0,
    };
    write_filtered(
        args.format.format,
        &filter,
        "no user matched",
        async |page| Ok(cerema::users(&db, page).await?),
    )
    .await
}

pub async fn run_structures(args: StructuresArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let StructuresCommand::List(args) = args.command;
    let db = ctx.open_db().await?;
    let filter = StructureFilter {
        departement: args.departement,
        limit: args.limit,
        offset: 0,
    };
    write_filtered(
        args.format.format,
        &filter,
        "no structure matched",
        async |page| Ok(cerema::structures(&db, page).await?),
    )
    .await
}
