//! `sagasync cerema users list` and `sagasync cerema structures list`: the stored
//! Portail DF records.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::Context;
use super::format::{FormatArgs, write_filtered};
use super::table::Layout;
use super::values::{id, list_limit, offset};
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
    #[arg(long, value_parser = id)]
    pub structure: Option<i64>,
    /// Only the structures' managers (gestionnaires)
    #[arg(long)]
    pub gestionnaire: bool,
    /// Users shown at most
    #[arg(long, default_value_t = 50, value_parser = list_limit)]
    pub limit: u64,
    /// Users skipped before the first shown (same order, same filters)
    #[arg(long, default_value_t = 0, value_parser = offset)]
    pub offset: u64,
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
    #[arg(long, default_value_t = 50, value_parser = list_limit)]
    pub limit: u64,
    /// Structures skipped before the first shown (same order, same filters)
    #[arg(long, default_value_t = 0, value_parser = offset)]
    pub offset: u64,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// What a narrow terminal leaves out of `cerema users list` first.
const USERS_LAYOUT: Layout = Layout {
    drop: &[
        "last_synced_at",
        "groupe",
        "exterieur",
        "date_expiration",
        "structure_id",
        "gestionnaire",
    ],
};

/// What a narrow terminal leaves out of `cerema structures list` first.
const STRUCTURES_LAYOUT: Layout = Layout {
    drop: &[
        "last_synced_at",
        "niveau_acces",
        "region",
        "siret",
        "type",
        "departement",
    ],
};

pub async fn run_users(args: UsersArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let UsersCommand::List(args) = args.command;
    let db = ctx.open_db().await?;
    let filter = UserFilter {
        structure: args.structure,
        gestionnaire: args.gestionnaire.then_some(true),
        limit: args.limit,
        offset: args.offset,
    };
    write_filtered(
        args.format.get(),
        &filter,
        "no user matched",
        USERS_LAYOUT,
        (
            async |page: &UserFilter| Ok(cerema::users(&db, page).await?),
            async |all: &UserFilter| Ok(cerema::count_users(&db, all).await?),
        ),
    )
    .await
}

pub async fn run_structures(args: StructuresArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let StructuresCommand::List(args) = args.command;
    let db = ctx.open_db().await?;
    let filter = StructureFilter {
        departement: args.departement,
        limit: args.limit,
        offset: args.offset,
    };
    write_filtered(
        args.format.get(),
        &filter,
        "no structure matched",
        STRUCTURES_LAYOUT,
        (
            async |page: &StructureFilter| Ok(cerema::structures(&db, page).await?),
            async |all: &StructureFilter| Ok(cerema::count_structures(&db, all).await?),
        ),
    )
    .await
}
