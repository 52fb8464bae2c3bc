//! `sagasync demo`: the whole job on a fresh machine, against the in-process sandbox.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use entity::category;
use entity::prelude::*;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Context;
use super::format::figures_table;
use super::interrupt::interrupt_on_signals;
use super::progress::{finish_bar, observer};
use super::report::{KindRun, table};
use super::sandbox::DataArgs;
use super::table::Layout;
use crate::b2b::{B2bClient, B2bSettings};
use crate::bench::collect_every_offer;
use crate::cerema::CeremaClient;
use crate::crypto::Cipher;
use crate::france_travail::FtClient;
use crate::keys;
use crate::sandbox::france_travail::FranceTravailConfig;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::secret::Secret;
use crate::sync::RunReport;
use crate::sync::categories::{DEFAULT_CATEGORIES_ENDPOINT, sync_categories};
use crate::sync::cerema::CeremaSyncOptions;
use crate::sync::offers::Collected;
use crate::sync::products::{ProductSyncOptions, sync_products};

/// The demo's own database unless `--database-url` is given on the command line.
pub const DEMO_DATABASE_URL: &str = "sqlite://sagasync-demo.db?mode=rwc";
/// The name of the key the demo stores (replaced at each run).
const DEMO_KEY_NAME: &str = "sandbox demo";

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// France Travail offers the demo's sandbox holds (all collected, no split needed)
    #[arg(long, default_value_t = DEMO_FT_OFFERS)]
    pub ft_offers: usize,
    /// The summary as tables, or as one JSON object (`tables`, `runs`, `database`); a
    /// summary of several tables has no CSV form (`db stats` and `runs list` have)
    #[arg(long, value_enum, default_value_t = DemoFormat::Table)]
    pub format: DemoFormat,
}

/// How the demo prints its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoFormat {
    Table,
    Json,
}

/// Offers in the demo's France Travail sandbox: under the 3,150 cap, so the demo needs
/// no split (the benchmark shows one).
const DEMO_FT_OFFERS: usize = 1_500;

/// A random sandbox key; never printed.
fn random_api_key() -> Secret {
    let noise: String = Cipher::generate_key()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(24)
        .collect();
    Secret::new(format!("b2c_1_{noise}"))
}

pub async fn run(args: DemoArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let url = if ctx.database_url_from_flag {
        ctx.global.database_url.clone()
    } else {
        DEMO_DATABASE_URL.to_owned()
    };
    let db = ctx.open_url_for(&url, crate::db::Use::Commands).await?;
    let api_key = random_api_key();
    let config = SandboxConfig {
        seed: args.data.seed,
        categories: args.data.categories,
        products: args.data.products,
        api_key: api_key.expose().to_owned(),
        cerema: args.data.cerema(),
        france_travail: FranceTravailConfig {
            offers: args.ft_offers,
            ..FranceTravailConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), config).await?;
    tracing::info!("sandbox B2B API at {}", sandbox.b2b_url());

    // The user's encryption key when valid; else one that lives only in this process.
    let cipher = ctx.cipher().unwrap_or_else(|_| {
        Cipher::new(&Cipher::generate_key()).expect("a generated key is valid")
    });
    for old in keys::list(&db, None)
        .await?
        .into_iter()
        .filter(|k| k.name == DEMO_KEY_NAME)
    {
        keys::remove(&db, old.id).await?;
    }
    keys::add(&db, &cipher, DEMO_KEY_NAME, &api_key, true).await?;
    let key = keys::resolve_active(&db, Ok(&cipher), None).await?;
    let settings = B2bSettings {
        base_url: sandbox.b2b_url(),
        timeout: Duration::from_secs(30),
        max_retries: 3,
    };
    let client = B2bClient::new(&settings, key)?;

    let interrupt = interrupt_on_signals();
    let (obs, bar) = observer(ctx.global.quiet, "categories");
    let cats = sync_categories(&db, &client, DEFAULT_CATEGORIES_ENDPOINT, obs, &interrupt).await;
    finish_bar(bar);
    let cats = cats?;
    let opts = ProductSyncOptions::default();
    let (obs, bar) = observer(ctx.global.quiet, "products");
    let prods = sync_products(&db, &client, &opts, obs, &interrupt).await;
    finish_bar(bar);
    let prods = prods?;
    let cerema = CeremaClient::new(&sandbox.cerema_settings(Duration::from_secs(30)))?;
    let cerema_opts = CeremaSyncOptions {
        delay: Duration::ZERO,
        concurrency: crate::sync::cerema::DEFAULT_CONCURRENCY,
        max_pages: None,
        restart: false,
    };
    let cerema_runs = super::cerema::sync_kinds(
        &db,
        &cerema,
        super::cerema::kinds(super::cerema::SyncWhat::All),
        &cerema_opts,
        ctx.global.quiet,
        &interrupt,
    )
    .await?;
    let offers = collect_offers(&db, &sandbox, ctx.global.quiet, &interrupt).await?;
    sandbox.stop().await;

    let mut runs = vec![("categories", &cats), ("products", &prods)];
    // Short names: the runs' table fits 80 columns.
    for r in &cerema_runs {
        runs.push((r.kind, &r.run));
    }
    if let Collected::Done(r) = &offers {
        runs.push(("offers", &r.run));
    }
    match args.format {
        DemoFormat::Table => print_summary(&db, &url, &runs).await?,
        DemoFormat::Json => print_json(&db, &url, &runs).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Collects every offer of the sandbox's France Travail API (forced: a second demo the
/// same day shows `unchanged` instead of skipping).
async fn collect_offers(
    db: &DatabaseConnection,
    sandbox: &Sandbox,
    quiet: bool,
    interrupt: &crate::sync::Interrupt,
) -> anyhow::Result<Collected> {
    let client = FtClient::new(sandbox.ft_settings(Duration::from_secs(30)))?;
    client.authenticate().await?;
    let (obs, bar) = observer(quiet, "offers");
    let result = collect_every_offer(db, &client, obs, interrupt).await;
    finish_bar(bar);
    Ok(result?)
}

/// The tables the summary counts, in its order.
const SUMMARY_TABLES: [&str; 11] = [
    "categories",
    "external_categories",
    "products",
    "external_products",
    "cerema_structures",
    "cerema_users",
    "job_offers",
    "job_offer_skills",
    "api_keys",
    "sync_runs",
    "sync_errors",
];

/// Rows of each table of the summary, in its order.
async fn summary_rows(db: &DatabaseConnection) -> anyhow::Result<Vec<(&'static str, u64)>> {
    let counted = crate::inspect::db::table_rows(db).await?;
    Ok(SUMMARY_TABLES
        .into_iter()
        .map(|t| {
            let n = counted.iter().find(|c| c.table == t).map_or(0, |c| c.rows);
            (t, n)
        })
        .collect())
}

/// The database as the summary names it: a SQLite file's full path, a redacted URL.
fn location(url: &str) -> String {
    match crate::db::sqlite_file(url) {
        Some(path) => std::fs::canonicalize(&path)
            .unwrap_or(path)
            .display()
            .to_string(),
        None => crate::db::redact_url(url),
    }
}

/// The summary as one JSON object: rows per table, the runs, the database.
async fn print_json(
    db: &DatabaseConnection,
    url: &str,
    runs: &[(&str, &RunReport)],
) -> anyhow::Result<()> {
    let tables: Vec<serde_json::Value> = summary_rows(db)
        .await?
        .into_iter()
        .map(|(table, rows)| serde_json::json!({ "table": table, "rows": rows }))
        .collect();
    let runs: Vec<KindRun> = runs
        .iter()
        .map(|&(kind, run)| KindRun { kind, run })
        .collect();
    let summary = serde_json::json!({
        "tables": tables,
        "runs": runs,
        "database": location(url),
    });
    println!("{summary}");
    Ok(())
}

async fn print_summary(
    db: &DatabaseConnection,
    url: &str,
    runs: &[(&str, &RunReport)],
) -> anyhow::Result<()> {
    let rows: Vec<Vec<String>> = summary_rows(db)
        .await?
        .into_iter()
        .map(|(t, n)| vec![t.to_owned(), n.to_string()])
        .collect();
    let rows = figures_table(&["table", "rows"], &rows, &Layout::default());
    println!("Rows per table\n{rows}\n");

    println!("Category tree (first two levels)");
    let roots = Category::find()
        .filter(category::Column::ParentId.is_null())
        .order_by_asc(category::Column::Name)
        .all(db)
        .await?;
    for root in roots.iter().take(8) {
        let children: Vec<String> = Category::find()
            .filter(category::Column::ParentId.eq(root.id))
            .order_by_asc(category::Column::Name)
            .limit(6)
            .all(db)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        println!("  {}", root.name);
        for c in children {
            println!("    └ {c}");
        }
    }
    if roots.len() > 8 {
        println!("  … and {} more top-level categories", roots.len() - 8);
    }

    let runs: Vec<KindRun> = runs
        .iter()
        .map(|&(kind, run)| KindRun { kind, run })
        .collect();
    println!("\nRuns\n{}\n", table(&runs));
    if url.starts_with("sqlite://") {
        println!(
            "Database: {} (run the demo again to see `unchanged`)",
            location(url)
        );
    } else {
        println!("Database: {}", location(url));
    }
    println!("\nLook at it:");
    for line in next_commands(url) {
        println!("  {line}");
    }
    Ok(())
}

/// The commands to try next on the demo's database `url`, as they are typed: the
/// database named once (`export DATABASE_URL=...`; a URL with a password is not printed),
/// then short commands that fit any terminal.
pub fn next_commands(url: &str) -> Vec<String> {
    let database = match crate::db::sqlite_file(url) {
        Some(file) => Some(format!("sqlite://{}", file.display())),
        None if crate::db::redact_url(url) != url => None,
        None => Some(url.to_owned()),
    };
    let mut lines = vec![match database {
        Some(database) => format!("export DATABASE_URL={database}"),
        None => "export DATABASE_URL=... (the URL given to the demo)".to_owned(),
    }];
    lines.extend(
        [
            "db stats",
            "categories tree --depth 2",
            "products list --limit 10",
            "runs list",
            "offers search --limit 5",
            "serve",
        ]
        .iter()
        .map(|command| format!("sagasync {command}")),
    );
    lines
}
