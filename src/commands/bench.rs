//! `sagasync bench`: measure the catalog sync against its floor, and the Cerema sync;
//! print the figures.

use std::process::ExitCode;

use std::time::Duration;

use clap::Args;

use super::Context;
use super::format::{Format, FormatArgs, figures_table};
use super::table::Layout;
use crate::bench::{
    BenchOptions, Phase, cerema, distant, drop_database, floor, france_travail, fresh_database,
    run as run_phases,
};
use crate::sandbox::cerema::DEFAULT_USERS;
use crate::sync::products::DEFAULT_CONCURRENCY;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Products in the sandbox catalog
    #[arg(long, default_value_t = 100_000, value_parser = super::values::count)]
    pub products: usize,
    /// Categories in the sandbox catalog
    #[arg(long, default_value_t = 2_000, value_parser = super::values::count)]
    pub categories: usize,
    /// Page size asked of the sandbox
    #[arg(long, default_value_t = 100, value_parser = super::values::page_size)]
    pub page_size: u32,
    /// Share of products changed before the last phase
    #[arg(long, default_value_t = 0.1)]
    pub changed: f64,
    /// Cerema users synced after the catalog (0 skips the Cerema phases)
    #[arg(long, default_value_t = DEFAULT_USERS, value_parser = super::values::count)]
    pub cerema_users: usize,
    /// France Travail offers collected at 10 requests/s (0 skips that phase; SQLite only)
    #[arg(long, default_value_t = 20_000, value_parser = super::values::count)]
    pub ft_offers: usize,
    /// Product pages asked at once by every products phase (1: one after the other)
    #[arg(
        long,
        default_value_t = DEFAULT_CONCURRENCY,
        value_parser = super::values::concurrency
    )]
    pub concurrency: usize,
    /// Products of the distant API phases, a smaller catalog than --products since they
    /// wait on latency (0, or not fewer than --products, skips them; SQLite only)
    #[arg(long, default_value_t = 20_000, value_parser = super::values::count)]
    pub distant_products: usize,
    /// Per-page latencies of the distant API phases, milliseconds
    #[arg(long, value_delimiter = ',', default_value = "20,100", value_parser = super::values::latency_ms)]
    pub latencies_ms: Vec<u64>,
    /// Also measure on this PostgreSQL server (a fresh database is made and dropped)
    #[arg(long, env = "TEST_POSTGRES_URL")]
    pub postgres: Option<String>,
    /// Also measure on this MySQL/MariaDB server (a fresh database is made and dropped)
    #[arg(long, env = "TEST_MYSQL_URL")]
    pub mysql: Option<String>,
    /// Only SQLite, even when TEST_POSTGRES_URL or TEST_MYSQL_URL is set
    #[arg(long)]
    pub sqlite_only: bool,
    /// JSON: an array of phases; CSV: a row per phase
    #[command(flatten)]
    pub format: FormatArgs,
}

pub async fn run(args: BenchArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    let opts = BenchOptions {
        products: args.products,
        categories: args.categories,
        page_size: args.page_size,
        seed: 42,
        changed_share: args.changed,
        cerema_users: args.cerema_users,
        ft_offers: args.ft_offers,
        concurrency: args.concurrency,
        distant_products: args.distant_products,
    };
    let dir = tempfile::tempdir()?;
    let mut servers: Vec<Option<String>> = vec![None];
    if !args.sqlite_only {
        let given = [&args.postgres, &args.mysql];
        servers.extend(
            given
                .into_iter()
                .flatten()
                .filter(|u| !u.is_empty())
                .cloned()
                .map(Some),
        );
    }
    let mut all: Vec<Phase> = Vec::new();
    for server in servers {
        let (floor_db, floor_name) = fresh_database(server.as_deref(), dir.path(), "floor").await?;
        let floor_phase = floor(&floor_db, &opts).await?;
        floor_db.close().await?;
        let (db, name) = fresh_database(server.as_deref(), dir.path(), "sync").await?;
        let mut phases = run_phases(&db, &opts).await?;
        for p in phases.iter_mut().filter(|p| p.phase != "console_overview") {
            p.ratio_to_floor = Some(p.items_per_sec / floor_phase.items_per_sec.max(1e-9));
        }
        if opts.cerema_users > 0 {
            phases.extend(cerema(&db, &opts).await?);
        }
        // Bound by the rate limit, not the database: measured once, on SQLite.
        if opts.ft_offers > 0 && server.is_none() {
            phases.push(france_travail(&db, &opts).await?);
        }
        db.close().await?;
        // Bound by the latency, not the database: measured once, on SQLite.
        if (1..opts.products).contains(&opts.distant_products) && server.is_none() {
            for &ms in &args.latencies_ms {
                let name = format!("distant{ms}");
                let (db, _) = fresh_database(None, dir.path(), &name).await?;
                phases.push(distant(&db, &opts, Duration::from_millis(ms)).await?);
                db.close().await?;
            }
        }
        all.push(floor_phase);
        all.extend(phases);
        if let Some(server) = &server {
            for n in [floor_name, name].into_iter().flatten() {
                drop_database(server, &n).await?;
            }
        }
    }
    match args.format.get() {
        Format::Json => println!("{}", serde_json::to_string_pretty(&all)?),
        Format::Csv => write_csv(&all)?,
        Format::Table => print_table(&opts, &all),
    }
    Ok(ExitCode::SUCCESS)
}

/// The columns of the CSV: every figure of a phase, empty when it has none.
const CSV_COLUMNS: [&str; 12] = [
    "backend",
    "phase",
    "label",
    "items",
    "duration_secs",
    "items_per_sec",
    "peak_rss_mb",
    "ratio_to_floor",
    "ratio_to_ceiling",
    "requests",
    "sequential_per_sec",
    "latency_ms",
];

fn write_csv(all: &[Phase]) -> anyhow::Result<()> {
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut csv = csv::Writer::from_writer(std::io::stdout().lock());
    csv.write_record(CSV_COLUMNS)?;
    for p in all {
        csv.write_record([
            p.backend.clone(),
            p.phase.to_owned(),
            p.label.clone(),
            p.items.to_string(),
            p.duration_secs.to_string(),
            p.items_per_sec.to_string(),
            opt(p.peak_rss_mb),
            opt(p.ratio_to_floor),
            opt(p.ratio_to_ceiling),
            p.requests.map(|r| r.to_string()).unwrap_or_default(),
            opt(p.sequential_per_sec),
            p.latency_ms.map(|l| l.to_string()).unwrap_or_default(),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

fn print_table(opts: &BenchOptions, all: &[Phase]) {
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|p| {
            vec![
                crate::db::backend_name_of_key(&p.backend).to_owned(),
                p.label.clone(),
                p.items.to_string(),
                format!("{:.2}", p.duration_secs),
                format!("{:.0}", p.items_per_sec),
                match (p.ratio_to_floor, p.ratio_to_ceiling, p.sequential_per_sec) {
                    (Some(r), _, _) => format!("{:.0}%", r * 100.0),
                    (None, Some(c), _) => format!("{:.0}% of ceiling", c * 100.0),
                    (None, None, Some(s)) => format!(
                        "{:.1}x sequential ({}/s)",
                        p.items_per_sec / s.max(1e-9),
                        super::table::thousands(&format!("{s:.0}"))
                    ),
                    (None, None, None) => "-".into(),
                },
                p.peak_rss_mb
                    .map(|m| format!("{m:.0}"))
                    .unwrap_or_else(|| "?".into()),
            ]
        })
        .collect();
    let table = figures_table(
        &[
            "backend",
            "phase",
            "items",
            "wall (s)",
            "items/s",
            "vs floor (or ceiling)",
            "peak RSS (MB)",
        ],
        &rows,
        &Layout {
            drop: &["peak RSS (MB)", "wall (s)", "backend"],
        },
    );
    let count = |n: usize| super::table::count(n as u64);
    let title = format!(
        "{} products, {} categories, page size {}, {} page(s) at once; {} Cerema users; {} \
         France Travail offers (ceiling: 10 requests/s x 150 = 1,500 offers/s); distant API: \
         {} products (sequential: page size / latency)",
        count(opts.products),
        count(opts.categories),
        opts.page_size,
        opts.concurrency,
        count(opts.cerema_users),
        count(opts.ft_offers),
        count(opts.distant_products)
    );
    println!(
        "{}\n{table}",
        super::table::wrap(&title, super::table::width())
    );
}
