//! `sagasync sync-categories` and `sagasync sync-products`: the catalog sync commands.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use super::interrupt::interrupt_on_signals;
use super::progress::{finish_bar, observer};
use super::report::{KindRun, ReportArgs, render};
use crate::b2b::{B2bClient, B2bSettings};
use crate::keys;
use crate::sync::categories::{DEFAULT_CATEGORIES_ENDPOINT, sync_categories};
use crate::sync::products::{
    DEFAULT_CONCURRENCY, DEFAULT_MAX_MISSING_PERCENT, DEFAULT_PAGE_SIZE, DEFAULT_PRODUCTS_ENDPOINT,
    MissingRule, ProductSyncOptions, sync_products,
};

#[derive(Debug, Args)]
pub struct SyncCategoriesArgs {
    /// Categories endpoint, relative to B2B_API_URL
    #[arg(long, env = "B2B_CATEGORIES_ENDPOINT", default_value = DEFAULT_CATEGORIES_ENDPOINT)]
    pub endpoint: String,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Where the products listing is (`sync-products`, and `check`, which asks its page 1).
#[derive(Debug, Clone, Args)]
pub struct ProductsEndpointArgs {
    /// Products endpoint, relative to B2B_API_URL
    #[arg(long, env = "B2B_PRODUCTS_ENDPOINT", default_value = DEFAULT_PRODUCTS_ENDPOINT)]
    pub endpoint: String,
}

#[derive(Debug, Args)]
pub struct SyncProductsArgs {
    /// Only this site's products (a partial run: nothing is marked missing)
    #[arg(long)]
    pub site_id: Option<i64>,
    /// Products per page asked of the API (it may send another size)
    #[arg(long, default_value_t = DEFAULT_PAGE_SIZE, value_parser = super::values::page_size)]
    pub page_size: u32,
    #[command(flatten)]
    pub products: ProductsEndpointArgs,
    /// Pages asked at once when `next` links show page numbers (halved while the API
    /// answers 429/5xx; 1: one page after the other)
    #[arg(
        long,
        env = "B2B_CONCURRENCY",
        default_value_t = DEFAULT_CONCURRENCY,
        value_parser = super::values::concurrency,
        value_name = "PAGES"
    )]
    pub concurrency: usize,
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
    Ok(B2bClient::new(&b2b_settings(ctx), key)?.with_http_options(ctx.global.http_options()))
}

/// Where the B2B API is and how patiently it is asked (`B2B_API_URL`, `INVENTORY_API_*`).
pub fn b2b_settings(ctx: &Context) -> B2bSettings {
    B2bSettings {
        base_url: ctx.global.b2b_api_url.clone(),
        timeout: ctx.global.api_timeout,
        max_retries: ctx.global.api_max_retries,
    }
}

pub async fn run_categories(args: SyncCategoriesArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    let client = b2b_client(ctx, &db).await?;
    let (observer, bar) = observer(ctx.global.quiet, "categories");
    let interrupt = interrupt_on_signals();
    let report = sync_categories(&db, &client, &args.endpoint, observer, &interrupt).await;
    finish_bar(bar);
    let run = KindRun {
        kind: "categories",
        run: &report?,
    };
    render("categories", &[run], &args.report)
}

pub async fn run_products(args: SyncProductsArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db().await?;
    let client = b2b_client(ctx, &db).await?;
    let opts = ProductSyncOptions {
        endpoint: args.products.endpoint,
        page_size: args.page_size,
        site_id: args.site_id,
        concurrency: args.concurrency,
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
    let run = KindRun {
        kind: "products",
        run: &report?,
    };
    render("products", &[run], &args.report)
}
