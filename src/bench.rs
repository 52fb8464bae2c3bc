//! The benchmark: the catalog sync against the sandbox, run as a process of its own as
//! a real API would be (so the figures, peak memory included, are the sync's alone), phase by phase,
//! next to the floor (a plain prepared-statement insert of the same rows, no HTTP, no
//! ORM). Then the Cerema users sync (13,064 users by default, no delay between pages),
//! and a France Travail collect at the default rate limit. The distant API phases run a
//! first sync against a sandbox that answers each page after a latency, next to what a
//! client asking one page at a time could reach.
//! Returns figures; `commands::bench` prints them.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use serde::Serialize;

use crate::b2b::parse::parse_product;
use crate::b2b::{B2bClient, B2bSettings};
use crate::cerema::{CeremaClient, CeremaKind};
use crate::france_travail::{DEFAULT_RATE as FT_RATE, FtClient, OfferQuery};
use crate::keys::ActiveKey;
use crate::sandbox::cerema::CeremaConfig;
use crate::sandbox::data::Catalog;
use crate::sandbox::france_travail::FranceTravailConfig;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::secret::Secret;
use crate::sync::categories::{DEFAULT_CATEGORIES_ENDPOINT, sync_categories};
use crate::sync::cerema::{CeremaSyncOptions, sync_cerema};
use crate::sync::offers::{CollectOptions, Collected, Collector, collect};
use crate::sync::products::{ProductSyncOptions, sync_products};
use crate::sync::slug::slugify;
use crate::sync::{Interrupt, Observer, RunError, no_observer};

/// Rows generated, then inserted, at a time by the floor measurement.
const FLOOR_CHUNK: usize = 5_000;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub products: usize,
    pub categories: usize,
    pub page_size: u32,
    pub seed: u64,
    /// Share of products changed before the last phase.
    pub changed_share: f64,
    /// Cerema users (and a structure per 13 users) synced at `--delay 0`.
    pub cerema_users: usize,
    /// France Travail offers collected at the default rate limit (0: none).
    pub ft_offers: usize,
    /// Product pages asked at once by every products phase.
    pub concurrency: usize,
    /// Products of the distant API phases (a smaller catalog: they wait on latency).
    pub distant_products: usize,
}

/// One measured phase.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// `sqlite`, `postgres` or `mysql`.
    pub backend: String,
    /// What the phase measures, for machines: one of [`PHASES`].
    pub phase: &'static str,
    /// The phase for people: `re-sync, 10% changed`.
    pub label: String,
    pub items: u64,
    /// Wall time of the phase.
    pub duration_secs: f64,
    pub items_per_sec: f64,
    pub peak_rss_mb: Option<f64>,
    /// items/s as a share of the floor's items/s on the same backend.
    pub ratio_to_floor: Option<f64>,
    /// items/s as a share of what the upstream's rate limit allows at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_to_ceiling: Option<f64>,
    /// Requests sent, when they are what bounds the phase.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<u32>,
    /// The most items/s a client asking one page at a time reaches at this latency
    /// (page size / latency), for the distant API phases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequential_per_sec: Option<f64>,
    /// The sandbox's delay before each page, for the distant API phases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
}

/// The `phase` keys, in the order a bench runs them.
pub const PHASES: [&str; 10] = [
    "floor",
    "first_sync",
    "resync_unchanged",
    "resync_changed",
    "cerema_structures_first_sync",
    "cerema_users_first_sync",
    "cerema_users_unchanged",
    "france_travail_collect",
    "distant_first_sync",
    "console_overview",
];

/// Peak resident memory since the last reset, in MB (Linux; `None` elsewhere).
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets the peak so the next reading covers one phase only (Linux).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn phase(backend: &str, key: &'static str, label: &str, items: u64, took: Duration) -> Phase {
    let seconds = took.as_secs_f64();
    Phase {
        backend: backend.to_owned(),
        phase: key,
        label: label.to_owned(),
        items,
        duration_secs: seconds,
        items_per_sec: items as f64 / seconds.max(1e-9),
        peak_rss_mb: peak_rss_mb(),
        ratio_to_floor: None,
        ratio_to_ceiling: None,
        requests: None,
        sequential_per_sec: None,
        latency_ms: None,
    }
}

/// The sandbox as a child process (`sagasync sandbox`), the way a user runs it: its
/// memory and its CPU are not the sync's. Killed when dropped.
struct ApiProcess {
    child: std::process::Child,
    /// `B2B_API_URL` as the sandbox printed it.
    b2b_url: String,
    /// Where `POST /sandbox/mutate` is.
    origin: String,
    /// Kept open: the sandbox may still print.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl ApiProcess {
    /// Starts `sagasync sandbox` with `args` and waits for its URLs.
    async fn start(args: Vec<String>) -> anyhow::Result<ApiProcess> {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let exe = std::env::current_exe().context("cannot find the sagasync binary")?;
        let mut child = Command::new(exe)
            .arg("sandbox")
            .args(&args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start the sandbox process")?;
        let stdout = child.stdout.take().context("the sandbox has no stdout")?;
        let read = tokio::task::spawn_blocking(move || {
            let mut reader = std::io::BufReader::new(stdout);
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    anyhow::bail!("the sandbox process ended before printing its URL");
                }
                if let Some(url) = line.trim().strip_prefix("B2B_API_URL=") {
                    return Ok((url.trim_matches('"').to_owned(), reader));
                }
            }
        });
        let (b2b_url, reader) = match read.await.context("reading the sandbox's URL")? {
            Ok(found) => found,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let origin = url::Url::parse(&b2b_url)
            .map(|u| u.origin().ascii_serialization())
            .context("the sandbox printed an invalid URL")?;
        Ok(ApiProcess {
            child,
            b2b_url,
            origin,
            _stdout: reader,
        })
    }

    /// Changes `share` of the sandbox's records, as `POST /sandbox/mutate` does.
    async fn mutate(&self, share: f64) -> anyhow::Result<()> {
        crate::http::client()
            .map_err(anyhow::Error::msg)?
            .post(format!("{}/sandbox/mutate?share={share}", self.origin))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A sandbox process holding `products` (each page answered after `latency`), a
/// client of it, the options of the bench's products syncs, and its categories synced
/// into `db`.
async fn catalog(
    db: &DatabaseConnection,
    opts: &BenchOptions,
    products: usize,
    latency: Duration,
) -> anyhow::Result<(ApiProcess, B2bClient, ProductSyncOptions)> {
    let api_key = "b2c_1_bench".to_owned();
    let args = [
        ("--seed", opts.seed.to_string()),
        ("--categories", opts.categories.to_string()),
        ("--products", products.to_string()),
        ("--api-key", api_key.clone()),
        ("--latency-ms", latency.as_millis().to_string()),
        ("--cerema-users", "0".to_owned()),
        ("--cerema-structures", "0".to_owned()),
        ("--ft-offers", "0".to_owned()),
    ];
    let args = args
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_owned(), value])
        .collect();
    let sandbox = ApiProcess::start(args).await?;
    let key = ActiveKey {
        id: None,
        name: "bench".to_owned(),
        secret: Secret::new(api_key),
    };
    let settings = B2bSettings {
        base_url: sandbox.b2b_url.clone(),
        timeout: Duration::from_secs(60),
        max_retries: 3,
    };
    let client = B2bClient::new(&settings, key)?;
    let sync_opts = ProductSyncOptions {
        page_size: opts.page_size,
        concurrency: opts.concurrency,
        ..ProductSyncOptions::default()
    };
    sync_categories(
        db,
        &client,
        DEFAULT_CATEGORIES_ENDPOINT,
        no_observer(),
        &Interrupt::new(),
    )
    .await?;
    Ok((sandbox, client, sync_opts))
}

/// Runs every phase on `db` (fresh and migrated) against a fresh sandbox.
pub async fn run(db: &DatabaseConnection, opts: &BenchOptions) -> anyhow::Result<Vec<Phase>> {
    let backend = crate::db::backend_key(db.get_database_backend());
    let (sandbox, client, sync_opts) = catalog(db, opts, opts.products, Duration::ZERO).await?;
    let interrupt = Interrupt::new();
    let mut phases = Vec::new();
    for (key, name) in [
        ("first_sync", "first sync (all created)"),
        ("resync_unchanged", "re-sync, nothing changed"),
        ("resync_changed", "re-sync, changed share"),
    ] {
        if name.ends_with("changed share") {
            sandbox.mutate(opts.changed_share).await?;
        }
        reset_peak_rss();
        let started = Instant::now();
        let report = sync_products(db, &client, &sync_opts, no_observer(), &interrupt).await?;
        let label = name.replace(
            "changed share",
            &format!("{:.0}% changed", opts.changed_share * 100.0),
        );
        phases.push(phase(
            backend,
            key,
            &label,
            report.stats.total,
            started.elapsed(),
        ));
    }
    drop(sandbox);
    phases.push(console_overview(db, opts.products).await?);
    Ok(phases)
}

/// Requests of the console's overview measured (the median is reported).
const CONSOLE_GETS: usize = 5;

/// The console's overview page (`GET /` of `serve`) over HTTP on `db` as the catalog
/// phases left it: the median time of `CONSOLE_GETS` requests, as one item.
pub async fn console_overview(db: &DatabaseConnection, products: usize) -> anyhow::Result<Phase> {
    let backend = crate::db::backend_key(db.get_database_backend());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::serve::serve(db.clone(), listener, async {
        let _ = stopped.await;
    }));
    let http = crate::http::client().map_err(anyhow::Error::msg)?;
    let mut times = Vec::with_capacity(CONSOLE_GETS);
    reset_peak_rss();
    for _ in 0..CONSOLE_GETS {
        let started = Instant::now();
        let page = http
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        anyhow::ensure!(!page.is_empty(), "the overview page came back empty");
        times.push(started.elapsed());
    }
    let _ = stop.send(());
    let _ = server.await;
    times.sort();
    let median = times[times.len() / 2];
    let label = format!(
        "console overview, {} products",
        crate::commands::table::count(products as u64)
    );
    Ok(phase(backend, "console_overview", &label, 1, median))
}

/// A distant API phase on `db` (fresh and migrated): the categories, then a first sync
/// of `opts.distant_products` products (measured) from a sandbox answering each page
/// after `latency`, beside the most a client asking one page at a time reaches.
pub async fn distant(
    db: &DatabaseConnection,
    opts: &BenchOptions,
    latency: Duration,
) -> anyhow::Result<Phase> {
    let backend = crate::db::backend_key(db.get_database_backend());
    let (sandbox, client, sync_opts) = catalog(db, opts, opts.distant_products, latency).await?;
    reset_peak_rss();
    let started = Instant::now();
    let report = sync_products(db, &client, &sync_opts, no_observer(), &Interrupt::new()).await?;
    let took = started.elapsed();
    drop(sandbox);
    let name = format!(
        "distant API {} ms a page, first sync, {} at once",
        latency.as_millis(),
        opts.concurrency
    );
    let mut p = phase(
        backend,
        "distant_first_sync",
        &name,
        report.stats.total,
        took,
    );
    p.latency_ms = u64::try_from(latency.as_millis()).ok();
    p.sequential_per_sec = Some(f64::from(opts.page_size) / latency.as_secs_f64().max(1e-9));
    Ok(p)
}

/// The Cerema phases on `db`: structures, then the users (first sync, then a re-sync
/// with nothing changed), with no delay between pages.
pub async fn cerema(db: &DatabaseConnection, opts: &BenchOptions) -> anyhow::Result<Vec<Phase>> {
    let backend = crate::db::backend_key(db.get_database_backend());
    let config = SandboxConfig {
        seed: opts.seed,
        cerema: CeremaConfig {
            users: opts.cerema_users,
            structures: (opts.cerema_users / 13).max(1),
            ..CeremaConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), config).await?;
    let client = CeremaClient::new(&sandbox.cerema_settings(Duration::from_secs(60)))?;
    let sync_opts = CeremaSyncOptions {
        delay: Duration::ZERO,
        concurrency: crate::sync::cerema::DEFAULT_CONCURRENCY,
        max_pages: None,
        restart: false,
    };
    let interrupt = Interrupt::new();
    let mut phases = Vec::new();
    for (kind, key, name) in [
        (
            CeremaKind::Structures,
            "cerema_structures_first_sync",
            "cerema structures, first sync",
        ),
        (
            CeremaKind::Users,
            "cerema_users_first_sync",
            "cerema users, first sync",
        ),
        (
            CeremaKind::Users,
            "cerema_users_unchanged",
            "cerema users, nothing changed",
        ),
    ] {
        reset_peak_rss();
        let started = Instant::now();
        let report = sync_cerema(db, &client, kind, &sync_opts, no_observer(), &interrupt).await?;
        phases.push(phase(
            backend,
            key,
            name,
            report.run.stats.total,
            started.elapsed(),
        ));
    }
    sandbox.stop().await;
    Ok(phases)
}

/// The France Travail phase on `db`: every offer of a sandbox holding `opts.ft_offers`
/// (split past the cap) at the default rate limit of 10 requests/s, both sides.
pub async fn france_travail(db: &DatabaseConnection, opts: &BenchOptions) -> anyhow::Result<Phase> {
    let backend = crate::db::backend_key(db.get_database_backend());
    let config = SandboxConfig {
        seed: opts.seed,
        france_travail: FranceTravailConfig {
            offers: opts.ft_offers,
            ..FranceTravailConfig::default()
        },
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(([127, 0, 0, 1], 0).into(), config).await?;
    let client = FtClient::new(sandbox.ft_settings(Duration::from_secs(60)))?;
    client.authenticate().await?;
    reset_peak_rss();
    let started = Instant::now();
    let outcome = collect_every_offer(db, &client, no_observer(), &Interrupt::new()).await?;
    let took = started.elapsed();
    sandbox.stop().await;
    let Collected::Done(report) = outcome else {
        anyhow::bail!("the bench's collect was skipped");
    };
    let mut p = phase(
        backend,
        "france_travail_collect",
        &format!(
            "france travail offers, {} parts, {} offers/request, rate {FT_RATE}/s",
            report.parts, report.offers_per_request
        ),
        report.run.stats.total,
        took,
    );
    p.ratio_to_ceiling = Some(p.items_per_sec / (FT_RATE * 150.0));
    p.requests = Some(report.requests);
    Ok(p)
}

/// Collects every offer `client` finds (split past the cap, 100 pages a part at most,
/// no delay) into `db`, even when the same query completed today: a sandbox's offers,
/// for the benchmark and the demo.
pub async fn collect_every_offer(
    db: &DatabaseConnection,
    client: &FtClient,
    observer: Observer,
    interrupt: &Interrupt,
) -> Result<Collected, RunError> {
    let opts = CollectOptions {
        max_pages: 100,
        delay: Duration::ZERO,
        force: true,
    };
    let collector = Collector {
        db,
        client,
        opts: &opts,
        archive: None,
    };
    let mut seen = HashSet::new();
    collect(
        collector,
        &OfferQuery::default(),
        &mut seen,
        observer,
        interrupt,
    )
    .await
}

/// The floor: the same product rows inserted with prepared statements in one
/// transaction, straight through sqlx, into `db` (fresh and migrated).
pub async fn floor(db: &DatabaseConnection, opts: &BenchOptions) -> anyhow::Result<Phase> {
    let backend = db.get_database_backend();
    let catalog = Catalog::new(opts.seed, opts.categories, opts.products);
    reset_peak_rss();
    let mut inserting = Duration::ZERO;
    let now = chrono::Utc::now();
    let mut inserted = 0u64;
    let (p, e) = match backend {
        DbBackend::Postgres => (
            "INSERT INTO products (title, slug, description, price, discount_price, category_id, brand, sku, stock, is_available, image_urls, created_at, updated_at) \
             VALUES ($1, $2, $3, $4::numeric, $5::numeric, NULL, $6, $7, $8, $9, $10::json, $11, $12) RETURNING id",
            "INSERT INTO external_products (product_id, external_id, external_sku, sync_status, content_hash, last_synced_at) VALUES ($1, $2, $3, 'synced', $4, $5)",
        ),
        _ => (
            "INSERT INTO products (title, slug, description, price, discount_price, category_id, brand, sku, stock, is_available, image_urls, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            "INSERT INTO external_products (product_id, external_id, external_sku, sync_status, content_hash, last_synced_at) VALUES (?, ?, ?, 'synced', ?, ?)",
        ),
    };
    // The same loop for each backend's pool (sqlx types differ, the code does not);
    // MySQL has no RETURNING: there the product's id is the statement's last insert id.
    macro_rules! product_id {
        (returning, $query:expr, $tx:expr) => {{
            let (id,): (i32,) = $query.fetch_one(&mut *$tx).await?;
            id
        }};
        (last_insert_id, $query:expr, $tx:expr) => {
            $query.execute(&mut *$tx).await?.last_insert_id()
        };
    }
    macro_rules! insert_all {
        ($pool:expr, $how:ident, $query:ident, $sql:expr) => {{
            let mut tx = $pool.begin().await?;
            let mut start = 0;
            while start < opts.products {
                let rows = floor_rows(&catalog, start);
                let t = Instant::now();
                for r in &rows {
                    let product = sea_orm::sqlx::$query($sql)
                        .bind(&r.title)
                        .bind(&r.slug)
                        .bind(&r.description)
                        .bind(&r.price)
                        .bind(&r.discount)
                        .bind(&r.brand)
                        .bind(&r.sku)
                        .bind(r.stock)
                        .bind(r.available)
                        .bind(&r.images)
                        .bind(now)
                        .bind(now);
                    let id = product_id!($how, product, tx);
                    sea_orm::sqlx::query(e)
                        .bind(id)
                        .bind(r.external_id)
                        .bind(&r.sku)
                        .bind(&r.hash)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                inserting += t.elapsed();
                inserted += rows.len() as u64;
                start += FLOOR_CHUNK;
            }
            let t = Instant::now();
            tx.commit().await?;
            inserting += t.elapsed();
        }};
    }
    match backend {
        DbBackend::Sqlite => insert_all!(db.get_sqlite_connection_pool(), returning, query_as, p),
        DbBackend::Postgres => {
            insert_all!(db.get_postgres_connection_pool(), returning, query_as, p)
        }
        DbBackend::MySql => {
            let sql = p.trim_end_matches(" RETURNING id");
            insert_all!(db.get_mysql_connection_pool(), last_insert_id, query, sql)
        }
        other => anyhow::bail!("no floor is measured on {other:?}"),
    }
    Ok(phase(
        crate::db::backend_key(backend),
        "floor",
        "floor: prepared inserts, one transaction",
        inserted,
        inserting,
    ))
}

struct FloorRow {
    external_id: i64,
    title: String,
    slug: String,
    description: String,
    price: String,
    discount: Option<String>,
    brand: Option<String>,
    sku: Option<String>,
    stock: i32,
    available: bool,
    images: String,
    hash: String,
}

fn floor_rows(catalog: &Catalog, start: usize) -> Vec<FloorRow> {
    let end = (start + FLOOR_CHUNK).min(catalog.products);
    (start..end)
        .filter_map(|i| catalog.product_at(None, i))
        .filter_map(|raw| parse_product(&raw).ok())
        .map(|r| FloorRow {
            slug: format!("{}-{}", slugify(&r.title), r.external_id),
            external_id: r.external_id,
            title: r.title,
            description: r.description,
            price: r.price.to_string(),
            discount: r.discount_price.map(|d| d.to_string()),
            brand: r.brand,
            sku: r.sku,
            stock: r.stock,
            available: r.is_available,
            images: serde_json::to_string(&r.image_urls).unwrap_or_else(|_| "[]".to_owned()),
            hash: "0".repeat(64),
        })
        .collect()
}

/// Opens a fresh, migrated benchmark database: a new SQLite file in `dir`, or a new
/// database on the PostgreSQL or MySQL server at `server_url` (dropped by
/// [`drop_database`]).
pub async fn fresh_database(
    server_url: Option<&str>,
    dir: &std::path::Path,
    name: &str,
) -> anyhow::Result<(DatabaseConnection, Option<String>)> {
    match server_url {
        None => {
            let path = dir.join(format!("{name}.db"));
            let _ = std::fs::remove_file(&path);
            let url = format!("sqlite://{}?mode=rwc", path.display());
            Ok((crate::db::open(&url, false).await?, None))
        }
        Some(server) => {
            let db_name = format!("sagasync_bench_{}_{name}", std::process::id());
            let admin = crate::db::connect(server, false).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db_name}"))
                .await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {db_name}"))
                .await?;
            admin.close().await?;
            let mut url = url::Url::parse(server).context("the database server's URL")?;
            url.set_path(&format!("/{db_name}"));
            Ok((crate::db::open(url.as_str(), false).await?, Some(db_name)))
        }
    }
}

/// Drops a database made by [`fresh_database`] on `server_url`.
pub async fn drop_database(server_url: &str, db_name: &str) -> anyhow::Result<()> {
    let admin = crate::db::connect(server_url, false).await?;
    // PostgreSQL refuses to drop a database someone is still connected to, unless forced.
    let force = match admin.get_database_backend() {
        DbBackend::Postgres => " WITH (FORCE)",
        _ => "",
    };
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {db_name}{force}"))
        .await?;
    admin.close().await?;
    Ok(())
}
