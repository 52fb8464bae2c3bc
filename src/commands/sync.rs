//! `sagasync sync-categories` and `sagasync sync-products`: the catalog sync commands.

use std::process::ExitCode;

use clap::Args;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

use super::Context;
use super::interrupt::{interrupt_on_signals, interrupted_exit_code};
use super::progress::{finish_bar, observer};
use crate::b2b::{B2bClient, B2bSettings};
use crate::keys;
use crate::sync::categories::{DEFAULT_CATEGORIES_ENDPOINT, sync_categories};
use crate::sync::products::{
    DEFAULT_MAX_MISSING_PERCENT, DEFAULT_PAGE_SIZE, DEFAULT_PRODUCTS_ENDPOINT, MissingRule,
    ProductSyncOptions, sync_products,
};
use crate::sync::{RunReport, RunStatusKind};

/// How many item errors the table shows (JSON has them all, up to the report's limit).
const ERRORS_SHOWN: usize = 20;

/// Flags every sync command takes.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Print the stats as one JSON object on stdout
    #[arg(long)]
    pub json: bool,
    /// Exit with 1 when any item failed (the run still completes)
    #[arg(long)]
    pub fail_on_errors: bool,
}

#[derive(Debug, Args)]
pub struct SyncCategoriesArgs {
    /// Categories endpoint, relative to B2B_API_URL
    #[arg(long, env = "B2B_CATEGORIES_ENDPOINT", default_value = DEFAULT_CATEGORIES_ENDPOINT)]
    pub endpoint: String,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args)]
pub struct SyncProductsArgs {
    /// Only this site's products (a partial run: nothing is marked missing)
    #[arg(long)]
    pub site_id: Option<i64>,
    /// Products per page asked of the API (it may send another size)
    #[arg(long, default_value_t = DEFAULT_PAGE_SIZE, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub page_size: u32,
    /// Products endpoint, relative to B2B_API_URL
    #[arg(long, env = "B2B_PRODUCTS_ENDPOINT", default_value = DEFAULT_PRODUCTS_ENDPOINT)]
    pub endpoint: String,
    /// Start from page 1, forgetting where an unfinished run stopped
    #[arg(long)]
    pub restart: bool,
    /// Most of the stored products one run may mark missing, in percent; past it none is
    #[arg(
        long,
        env = "B2B_MAX_MISSING_PERCENT",
        default_value_t = DEFAULT_MAX_MISSING_PERCENT,
        value_parser = parse_percent,
        value_name = "PERCENT"
    )]
    pub max_missing_percent: f64,
    /// Mark missing every stored product the listing lacks, however many
    #[arg(long)]
    pub allow_missing: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// A percentage from 0 to 100.
fn parse_percent(s: &str) -> Result<f64, String> {
    match s.trim().trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err("must be a percentage from 0 to 100".to_owned()),
    }
}

/// The B2B client with the active key (stored, or `B2B_API_KEY`).
pub async fn b2b_client(
    ctx: &Context,
    db: &sea_orm::DatabaseConnection,
) -> anyhow::Result<B2bClient> {
    let cipher = ctx.cipher();
    let key = keys::resolve_active(db, cipher.as_ref(), ctx.global.b2b_api_key.as_ref()).await?;
    let settings = B2bSettings {
        base_url: ctx.global.b2b_api_url.clone(),
        timeout: ctx.global.api_timeout,
        max_retries: ctx.global.api_max_retries,
    };
    Ok(B2bClient::new(&settings, key)?.with_http_options(ctx.global.http_options()))
}

pub async fn run_categories(args: SyncCategoriesArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    let client = b2b_client(ctx, &db).await?;
    let (observer, bar) = observer(ctx.global.quiet, "categories");
    let interrupt = interrupt_on_signals();
    let report = sync_categories(&db, &client, &args.endpoint, observer, &interrupt).await;
    finish_bar(bar);
    render(&report?, &args.report, "categories")
}

pub async fn run_products(args: SyncProductsArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    let client = b2b_client(ctx, &db).await?;
    let opts = ProductSyncOptions {
        endpoint: args.endpoint,
        page_size: args.page_size,
        site_id: args.site_id,
        restart: args.restart,
        missing: MissingRule {
            max_share: args.max_missing_percent / 100.0,
            allow_any: args.allow_missing,
        },
    };
    let (observer, bar) = observer(ctx.global.quiet, "products");
    let interrupt = interrupt_on_signals();
    let report = sync_products(&db, &client, &opts, observer, &interrupt).await;
    finish_bar(bar);
    render(&report?, &args.report, "products")
}

/// Columns of a run's figures, as every command shows them.
pub const STATS_HEADER: [&str; 10] = [
    "run",
    "kind",
    "status",
    "total",
    "created",
    "updated",
    "unchanged",
    "missing",
    "errors",
    "warnings",
];

/// A run's figures as a table row (`kind` when several kinds share the table).
pub fn stats_row(report: &RunReport, kind: Option<&str>) -> Vec<String> {
    let s = &report.stats;
    let status = match report.status {
        RunStatusKind::Succeeded => "succeeded",
        RunStatusKind::Interrupted => "interrupted",
    };
    vec![
        report.run_id.to_string(),
        kind.unwrap_or("-").to_owned(),
        status.to_owned(),
        s.total.to_string(),
        s.created.to_string(),
        s.updated.to_string(),
        s.unchanged.to_string(),
        s.missing.to_string(),
        s.errors.to_string(),
        s.warnings.to_string(),
    ]
}

/// Prints the report (table or JSON) and picks the exit code.
pub fn render(report: &RunReport, args: &ReportArgs, what: &str) -> anyhow::Result<ExitCode> {
    if args.json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        let s = &report.stats;
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_header(STATS_HEADER);
        table.add_row(stats_row(report, Some(what)));
        println!("{what}:\n{table}");
        for issue in s.errors_list.iter().take(ERRORS_SHOWN) {
            let kind = if issue.warning { "warning" } else { "error" };
            let id = issue.external_id.as_deref().unwrap_or("?");
            println!("  {kind} [{id}] {}", issue.error);
        }
        let listed = s.errors_list.len().min(ERRORS_SHOWN) as u64;
        if s.errors + s.warnings > listed {
            println!(
                "  … {} more in run {}'s errors",
                s.errors + s.warnings - listed,
                report.run_id
            );
        }
    }
    if let Some(message) = &report.message {
        eprintln!("error: {message}");
        return Ok(ExitCode::from(1));
    }
    Ok(match report.status {
        RunStatusKind::Interrupted => interrupted_exit_code(),
        RunStatusKind::Succeeded if args.fail_on_errors && report.stats.errors > 0 => {
            ExitCode::from(1)
        }
        RunStatusKind::Succeeded => ExitCode::SUCCESS,
    })
}
