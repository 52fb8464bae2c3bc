//! `sagasync cerema sync|export`: the Cerema Portail DF's users and structures.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};

use super::Context;
use super::format::is_broken_pipe;
use super::interrupt::interrupt_on_signals;
use super::progress::{finish_bar, observer};
use super::report::{
    ISSUES_SHOWN_PER_RUN, Outcome, ReportArgs, STATS_HEADER, STATS_LAYOUT, issue_lines,
    more_issues_line, render, stats_row,
};
use super::table::Layout;
use super::values::{concurrency, max_pages, retries, timeout_secs};
use crate::cerema::{CeremaAuth, CeremaClient, CeremaKind, CeremaSettings, DEFAULT_CEREMA_API_URL};
use crate::secret::Secret;
use crate::sync::cerema::{
    CeremaReport, CeremaSyncOptions, DEFAULT_CONCURRENCY, export, sync_cerema,
};
use crate::sync::{Interrupt, RunReport, RunStatusKind};

#[derive(Debug, Args)]
pub struct CeremaArgs {
    #[command(subcommand)]
    pub command: CeremaCommand,
}

#[derive(Debug, Subcommand)]
pub enum CeremaCommand {
    /// Download users and/or structures into the database (resumes where a run stopped)
    Sync(CeremaSyncArgs),
    /// Write the stored users or structures as JSON Lines, as the API sent them
    Export(CeremaExportArgs),
    /// Inspect the stored users
    Users(super::cerema_lists::UsersArgs),
    /// Inspect the stored structures
    Structures(super::cerema_lists::StructuresArgs),
}

/// What to sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncWhat {
    Users,
    Structures,
    /// Structures, then users
    All,
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportWhat {
    Users,
    Structures,
}

/// Where the Portail DF is and who we are to it.
#[derive(Debug, Clone, Args)]
pub struct CeremaConnArgs {
    /// Base URL of the Cerema Portail DF API
    #[arg(long, env = "CEREMA_API_URL", default_value = DEFAULT_CEREMA_API_URL)]
    pub cerema_api_url: String,
    /// Token sent as `Authorization: Bearer` (best kept in the environment)
    #[arg(long, env = "CEREMA_API_TOKEN", hide_env_values = true)]
    pub cerema_api_token: Option<Secret>,
    /// Username exchanged with CEREMA_PASSWORD for a token, when there is no token
    #[arg(long, env = "CEREMA_USERNAME")]
    pub cerema_username: Option<String>,
    /// Password of CEREMA_USERNAME
    #[arg(long, env = "CEREMA_PASSWORD", hide_env_values = true)]
    pub cerema_password: Option<Secret>,
    /// Timeout of one request to the Cerema API, in seconds (more than 0, at most 86400)
    #[arg(long, env = "CEREMA_API_TIMEOUT", default_value = "30", value_parser = timeout_secs)]
    pub cerema_timeout: Duration,
    /// Retries of one failed request (network errors, 5xx, 429, a 200 that is not JSON; 0 to 20)
    #[arg(long, env = "CEREMA_API_MAX_RETRIES", default_value_t = 3, value_parser = retries)]
    pub cerema_max_retries: u32,
}

impl CeremaConnArgs {
    /// Whether any credential is given (a token, a username or a password).
    pub fn is_configured(&self) -> bool {
        let token = self
            .cerema_api_token
            .as_ref()
            .is_some_and(|t| !t.is_empty());
        let password = self.cerema_password.as_ref().is_some_and(|p| !p.is_empty());
        let username = self.cerema_username.as_ref().is_some_and(|u| !u.is_empty());
        token || username || password
    }

    /// The client's settings, or what is missing to make them.
    pub fn settings(&self) -> anyhow::Result<CeremaSettings> {
        let auth = match (
            &self.cerema_api_token,
            &self.cerema_username,
            &self.cerema_password,
        ) {
            (Some(token), _, _) if !token.is_empty() => CeremaAuth::Token(token.clone()),
            (_, Some(username), Some(password)) if !username.is_empty() => {
                CeremaAuth::Credentials {
                    username: username.clone(),
                    password: password.clone(),
                }
            }
            (_, Some(_), None) => anyhow::bail!(
                "CEREMA_USERNAME is set but CEREMA_PASSWORD is not: set both, or CEREMA_API_TOKEN"
            ),
            _ => anyhow::bail!(
                "no Cerema credentials: set CEREMA_API_TOKEN, or CEREMA_USERNAME and CEREMA_PASSWORD"
            ),
        };
        let timeout = self.cerema_timeout;
        Ok(CeremaSettings {
            base_url: self.cerema_api_url.clone(),
            auth,
            timeout,
            max_retries: self.cerema_max_retries,
        })
    }
}

fn delay_secs(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if v.is_finite() && (0.0..=3600.0).contains(&v) {
        Ok(v)
    } else {
        Err("the delay must be between 0 and 3600 seconds".to_owned())
    }
}

#[derive(Debug, Args)]
pub struct CeremaSyncArgs {
    /// users, structures, or all (structures first)
    #[arg(value_enum, default_value_t = SyncWhat::All)]
    pub what: SyncWhat,
    /// Least seconds between the starts of two page requests (0 for none)
    #[arg(long, default_value = "0.5", value_parser = delay_secs)]
    pub delay: f64,
    /// Pages asked at once when `next` links show page numbers (halved while the API
    /// answers 429/5xx; 1: one page after the other)
    #[arg(
        long,
        env = "CEREMA_CONCURRENCY",
        default_value_t = DEFAULT_CONCURRENCY,
        value_parser = concurrency,
        value_name = "PAGES"
    )]
    pub concurrency: usize,
    /// Stop after this many pages; the next run continues from there
    #[arg(long, value_parser = max_pages)]
    pub max_pages: Option<u32>,
    /// Forget where the last unfinished run stopped and start from page 1
    #[arg(long)]
    pub restart: bool,
    #[command(flatten)]
    pub conn: CeremaConnArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args)]
pub struct CeremaExportArgs {
    /// users or structures
    #[arg(value_enum)]
    pub what: ExportWhat,
    /// File to write (stdout when absent)
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

pub async fn run(args: CeremaArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    match args.command {
        CeremaCommand::Sync(args) => run_sync(args, ctx).await,
        CeremaCommand::Export(args) => run_export(args, ctx).await,
        CeremaCommand::Users(args) => super::cerema_lists::run_users(args, ctx).await,
        CeremaCommand::Structures(args) => super::cerema_lists::run_structures(args, ctx).await,
    }
}

/// The kinds `what` names, in the order they sync.
pub fn kinds(what: SyncWhat) -> &'static [CeremaKind] {
    match what {
        SyncWhat::Users => &[CeremaKind::Users],
        SyncWhat::Structures => &[CeremaKind::Structures],
        SyncWhat::All => &[CeremaKind::Structures, CeremaKind::Users],
    }
}

/// Runs the syncs of `kinds` one after the other; stops after one that did not succeed.
pub async fn sync_kinds(
    db: &sea_orm::DatabaseConnection,
    client: &CeremaClient,
    kinds: &[CeremaKind],
    opts: &CeremaSyncOptions,
    quiet: bool,
    interrupt: &Interrupt,
) -> anyhow::Result<Vec<CeremaReport>> {
    let mut reports = Vec::new();
    for &kind in kinds {
        let (obs, bar) = observer(quiet, kind.name());
        let report = sync_cerema(db, client, kind, opts, obs, interrupt).await;
        finish_bar(bar);
        let report = report?;
        let stop = report.run.status == RunStatusKind::Interrupted;
        reports.push(report);
        if stop {
            break;
        }
    }
    Ok(reports)
}

async fn run_sync(args: CeremaSyncArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let settings = args.conn.settings()?;
    let client = CeremaClient::new(&settings)?.with_http_options(ctx.global.http_options());
    let db = ctx.open_db().await?;
    let opts = CeremaSyncOptions {
        delay: Duration::from_secs_f64(args.delay),
        concurrency: args.concurrency,
        max_pages: args.max_pages,
        restart: args.restart,
    };
    let interrupt = interrupt_on_signals();
    let reports = sync_kinds(
        &db,
        &client,
        kinds(args.what),
        &opts,
        ctx.global.quiet,
        &interrupt,
    )
    .await?;
    render("cerema", &reports, &args.report)
}

impl Outcome for CeremaReport {
    const COLUMNS: &'static [&'static str] = &STATS_HEADER;
    const LAYOUT: Layout = STATS_LAYOUT;

    fn run(&self) -> Option<&RunReport> {
        Some(&self.run)
    }

    fn row(&self) -> Option<Vec<String>> {
        Some(stats_row(&self.run, self.kind))
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(page) = self.resumed_from_page {
            notes.push(format!(
                "  {}: continued an earlier run from page {page}",
                self.kind
            ));
        }
        if let (false, Some(next)) = (self.complete, self.next_page) {
            notes.push(format!(
                "  {}: stopped before the end after {} page(s); the next `sagasync cerema sync {}` continues from page {next} (--restart starts over)",
                self.kind, self.pages, self.kind
            ));
        }
        notes.extend(issue_lines(
            &self.run,
            ISSUES_SHOWN_PER_RUN,
            Some(self.kind),
        ));
        notes.extend(more_issues_line(&self.run, ISSUES_SHOWN_PER_RUN));
        notes
    }
}

async fn run_export(args: CeremaExportArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    let kind = match args.what {
        ExportWhat::Users => CeremaKind::Users,
        ExportWhat::Structures => CeremaKind::Structures,
    };
    let result = match &args.out {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut out = BufWriter::new(file);
            export(&db, kind, &mut out).await
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let written = export(&db, kind, &mut out).await;
            let _ = out.flush();
            written
        }
    };
    let written = match result {
        Ok(n) => n,
        // `| head` closed the pipe: what was asked for was written.
        Err(e) if is_broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e),
    };
    if let (Some(path), false) = (&args.out, ctx.global.quiet) {
        eprintln!("{written} {} written to {}", kind.name(), path.display());
    }
    Ok(ExitCode::SUCCESS)
}
