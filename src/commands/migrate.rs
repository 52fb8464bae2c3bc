//! `sagasync migrate status|up|down|fresh`: control over the schema for those who
//! want it (every other command applies pending migrations by itself).

use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use migration::{Migrator, MigratorTrait};
use sea_orm_migration::MigrationStatus;

use super::Context;
use super::format::figures_table;
use super::input::confirm;
use super::table::Layout;
use crate::db::{backend_name, redact_url};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: MigrateCommand,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// List the migrations and whether each is applied
    Status,
    /// Apply pending migrations (all, or the next N)
    Up {
        #[arg(short, long)]
        num: Option<u32>,
    },
    /// Roll back the last N applied migrations
    Down {
        #[arg(short, long, default_value_t = 1)]
        num: u32,
    },
    /// Drop every table, then apply all migrations: ALL DATA IS LOST
    Fresh {
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(args: MigrateArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let url = &ctx.global.database_url;
    let db = ctx.connect_single_db().await?;
    match args.command {
        MigrateCommand::Status => {
            let rows: Vec<Vec<String>> = Migrator::get_migration_with_status(&db)
                .await?
                .iter()
                .map(|m| {
                    let status = match m.status() {
                        MigrationStatus::Applied => "applied",
                        MigrationStatus::Pending => "pending",
                    };
                    vec![m.name().to_owned(), status.to_owned()]
                })
                .collect();
            let table = figures_table(&["migration", "status"], &rows, &Layout::default());
            println!(
                "{} database {}",
                backend_name(db.get_database_backend()),
                redact_url(url)
            );
            println!("{table}");
        }
        MigrateCommand::Up { num } => {
            let pending = Migrator::get_pending_migrations(&db).await?.len();
            match num {
                // One process at a time, as every command migrates.
                None => crate::db::migrate(&db, url, ctx.global.verbose >= 2).await?,
                Some(_) => Migrator::up(&db, num).await?,
            }
            let applied = num.map_or(pending, |n| pending.min(n as usize));
            println!("applied {applied} migration(s)");
        }
        MigrateCommand::Down { num } => {
            let applied = Migrator::get_applied_migrations(&db).await?.len();
            Migrator::down(&db, Some(num)).await?;
            println!("rolled back {} migration(s)", applied.min(num as usize));
        }
        MigrateCommand::Fresh { yes } => {
            if !yes {
                let question = format!("drop every table of {} and start over?", redact_url(url));
                match confirm(&question)? {
                    Some(true) => {}
                    Some(false) => bail!("nothing dropped"),
                    None => bail!("not dropping every table without confirmation: add --yes"),
                }
            }
            Migrator::fresh(&db).await?;
            println!("dropped every table and applied all migrations");
        }
    }
    Ok(ExitCode::SUCCESS)
}
