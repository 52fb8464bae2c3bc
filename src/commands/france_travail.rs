//! `sagasync france-travail collect`: job offers of one query, of a sector's keywords,
//! or of every sector, into `job_offers`; the settings every France Travail command
//! takes (`FtConnArgs`). `offer` is in `ft_offer`.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use super::Context;
use super::interrupt::interrupt_on_signals;
use super::progress::{finish_bar, observer};
use super::report::{ISSUES_SHOWN_PER_RUN, Outcome, ReportArgs, issue_lines, render};
use super::table::Layout;
use super::values::{max_pages, retries, timeout_secs};
use crate::archive::{Archive, ArchiveTarget, S3Settings};
use crate::france_travail::filters::{self, MinSalary, SalaryPeriod};
use crate::france_travail::query::since_days;
use crate::france_travail::{
    DEFAULT_API_URL, DEFAULT_AUTH_URL, DEFAULT_RATE, DEFAULT_SCOPE, FtClient, FtSettings,
    OfferQuery,
};
use crate::secret::Secret;
use crate::sync::offers::{CollectOptions, Collected, Collector, collect};
use crate::sync::{RunReport, RunStatusKind};

/// The sectors shipped with sagasync (`--sectors` reads another file of that shape).
pub const DEFAULT_SECTORS: &str = include_str!("../../data/sectors.json");

#[derive(Debug, Args)]
pub struct FranceTravailArgs {
    #[command(subcommand)]
    pub command: FranceTravailCommand,
}

#[derive(Debug, Subcommand)]
pub enum FranceTravailCommand {
    /// Collect the offers of a query (split past the API's 3,150 cap) into the database
    Collect(Box<CollectArgs>),
    /// Fetch one offer's details, store or refresh it with its skills, and show it
    Offer(Box<super::ft_offer::OfferArgs>),
}

/// Who we are to France Travail and where it is.
#[derive(Debug, Clone, Args)]
pub struct FtConnArgs {
    /// OAuth2 client id (POLE_EMPLOI_CLIENT_ID is read too)
    #[arg(long, env = "FRANCE_TRAVAIL_CLIENT_ID")]
    pub client_id: Option<String>,
    /// OAuth2 client secret (POLE_EMPLOI_CLIENT_SECRET is read too)
    #[arg(long, env = "FRANCE_TRAVAIL_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<Secret>,
    /// OAuth2 scope (POLE_EMPLOI_SCOPE is read too)
    #[arg(long, env = "FRANCE_TRAVAIL_SCOPE")]
    pub scope: Option<String>,
    /// Token endpoint
    #[arg(long, env = "FRANCE_TRAVAIL_AUTH_URL", default_value = DEFAULT_AUTH_URL)]
    pub auth_url: String,
    /// Offers API base (…/offresdemploi/v2)
    #[arg(long, env = "FRANCE_TRAVAIL_API_URL", default_value = DEFAULT_API_URL)]
    pub api_url: String,
    /// Timeout of one request, in seconds (more than 0, at most 86400)
    #[arg(long, env = "FRANCE_TRAVAIL_API_TIMEOUT", default_value = "30", value_parser = timeout_secs)]
    pub ft_timeout: Duration,
    /// Retries of one failed request (network errors, 5xx, 429, a 200 that is not JSON; 0 to 20)
    #[arg(long, env = "FRANCE_TRAVAIL_API_MAX_RETRIES", default_value_t = 3, value_parser = retries)]
    pub ft_max_retries: u32,
}

fn env_fallback(v: &Option<String>, old: &str) -> Option<String> {
    v.clone()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var(old).ok().filter(|s| !s.is_empty()))
}

impl FtConnArgs {
    /// Whether a client id or a secret is given (here or in `POLE_EMPLOI_*`).
    pub fn is_configured(&self) -> bool {
        let secret = self.client_secret.as_ref().is_some_and(|s| !s.is_empty())
            || env_fallback(&None, "POLE_EMPLOI_CLIENT_SECRET").is_some();
        secret || env_fallback(&self.client_id, "POLE_EMPLOI_CLIENT_ID").is_some()
    }

    /// The client's settings, or what is missing.
    pub fn settings(&self, rate: f64) -> anyhow::Result<FtSettings> {
        let client_id = env_fallback(&self.client_id, "POLE_EMPLOI_CLIENT_ID");
        let secret = self
            .client_secret
            .as_ref()
            .filter(|s| !s.is_empty())
            .cloned()
            .or_else(|| {
                std::env::var("POLE_EMPLOI_CLIENT_SECRET")
                    .ok()
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
            });
        let (Some(client_id), Some(client_secret)) = (client_id, secret) else {
            anyhow::bail!(
                "no France Travail credentials: set FRANCE_TRAVAIL_CLIENT_ID and FRANCE_TRAVAIL_CLIENT_SECRET"
            );
        };
        let timeout = self.ft_timeout;
        Ok(FtSettings {
            auth_url: self.auth_url.clone(),
            api_url: self.api_url.clone(),
            client_id,
            client_secret,
            scope: env_fallback(&self.scope, "POLE_EMPLOI_SCOPE")
                .unwrap_or_else(|| DEFAULT_SCOPE.to_owned()),
            timeout,
            max_retries: self.ft_max_retries,
            rate,
        })
    }
}

fn since(s: &str) -> Result<u32, String> {
    let n: u32 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of days"))?;
    since_days(n)
}

fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "{s:?} is not a number of seconds between 0 and 3600"
        )),
    }
}

fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 1000.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a rate between 0 and 1000 requests per second"
        )),
    }
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Keywords (`motsCles`), comma-separated
    #[arg(long, conflicts_with_all = ["sector", "all_sectors"])]
    pub keywords: Option<String>,
    /// INSEE code of a commune
    #[arg(long)]
    pub commune: Option<String>,
    /// Distance around --commune, km
    #[arg(long, requires = "commune")]
    pub distance: Option<u32>,
    /// Département code(s), comma-separated
    #[arg(long)]
    pub departement: Option<String>,
    /// ROME code(s), comma-separated
    #[arg(long)]
    pub rome: Option<String>,
    /// Contract types, comma-separated (CDI,CDD,MIS,...)
    #[arg(long)]
    pub contract: Option<String>,
    /// Offers published in the last N days: 1, 3, 7, 14 or 31
    #[arg(long, value_parser = since)]
    pub since_days: Option<u32>,
    /// Experience asked: 1 (less than a year), 2 (one to three years), 3 (more)
    #[arg(long, value_parser = filters::experience)]
    pub experience: Option<u8>,
    /// Qualification: 0 (not an executive position) or 9 (executive)
    #[arg(long, value_parser = filters::qualification)]
    pub qualification: Option<u8>,
    /// Sector of activity: a NAF division, two digits (56: food and beverage service)
    #[arg(long, value_parser = filters::sector_code)]
    pub sector_code: Option<String>,
    /// Contract nature: E1 (work contract), E2 (apprenticeship), FS (professionalisation), ...
    #[arg(long, value_parser = filters::contract_nature)]
    pub contract_nature: Option<String>,
    /// Full-time offers (true) or part-time ones (false)
    #[arg(long, value_name = "true|false", value_parser = filters::yes_no)]
    pub full_time: Option<bool>,
    /// INSEE code of a region (11: Île-de-France)
    #[arg(long, value_parser = filters::region)]
    pub region: Option<String>,
    /// Offers of adapted companies (entreprises adaptées: true) or of the others (false)
    #[arg(long, value_name = "true|false", value_parser = filters::yes_no)]
    pub adapted_company: Option<bool>,
    /// Least salary, whole euros per --salary-period
    #[arg(long, requires = "salary_period", value_parser = filters::salary_amount)]
    pub salary_min: Option<u32>,
    /// What --salary-min counts: M (a month), A (a year), H (an hour), C (a fee per engagement)
    #[arg(long, requires = "salary_min", value_parser = filters::salary_period)]
    pub salary_period: Option<SalaryPeriod>,
    /// Collect each keyword of this sector (from --sectors, or the shipped file)
    #[arg(long, conflicts_with = "all_sectors")]
    pub sector: Option<String>,
    /// A JSON file `{"sector": ["keyword", ...]}`
    #[arg(long)]
    pub sectors: Option<PathBuf>,
    /// Collect every keyword of every sector
    #[arg(long)]
    pub all_sectors: bool,
    /// Pages per query part at most
    #[arg(long, default_value_t = 100, value_parser = max_pages)]
    pub max_pages: u32,
    /// Seconds to wait between two requests (on top of the rate limit)
    #[arg(long, default_value = "0", value_parser = seconds)]
    pub delay: f64,
    /// Requests per second at most
    #[arg(long, default_value_t = DEFAULT_RATE, value_parser = rate)]
    pub rate: f64,
    /// Collect even when the same query completed today
    #[arg(long)]
    pub force: bool,
    /// Save each raw page to a directory or to s3://bucket/prefix (AWS_* variables)
    #[arg(long)]
    pub archive: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub conn: FtConnArgs,
}

/// Reads a sectors file: `{"sector": ["keyword", ...]}`.
pub fn read_sectors(text: &str) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let sectors: BTreeMap<String, Vec<String>> =
        serde_json::from_str(text).context("a sectors file is {\"sector\": [\"keyword\", ...]}")?;
    Ok(sectors)
}

impl CollectArgs {
    fn base(&self) -> OfferQuery {
        OfferQuery {
            keywords: self.keywords.clone(),
            commune: self.commune.clone(),
            distance: self.distance,
            departement: self.departement.clone(),
            rome: self.rome.clone(),
            contract: self.contract.clone(),
            since_days: self.since_days,
            experience: self.experience,
            qualification: self.qualification,
            sector_code: self.sector_code.clone(),
            contract_nature: self.contract_nature.clone(),
            full_time: self.full_time,
            region: self.region.clone(),
            adapted_company: self.adapted_company,
            min_salary: self
                .salary_min
                .zip(self.salary_period)
                .map(|(amount, period)| MinSalary { amount, period }),
            ..OfferQuery::default()
        }
    }

    /// The queries to collect, in order.
    pub fn queries(&self) -> anyhow::Result<Vec<OfferQuery>> {
        if self.sector.is_none() && !self.all_sectors {
            return Ok(vec![self.base()]);
        }
        let text = match &self.sectors {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
            None => DEFAULT_SECTORS.to_owned(),
        };
        let sectors = read_sectors(&text)?;
        let chosen: Vec<(&String, &Vec<String>)> = match &self.sector {
            Some(name) => {
                let entry = sectors.get_key_value(name).with_context(|| {
                    let known: Vec<&str> = sectors.keys().map(String::as_str).collect();
                    format!("no sector {name:?}: the sectors are {}", known.join(", "))
                })?;
                vec![entry]
            }
            None => sectors.iter().collect(),
        };
        Ok(chosen
            .into_iter()
            .flat_map(|(sector, keywords)| {
                keywords.iter().map(|k| OfferQuery {
                    keywords: Some(k.clone()),
                    sector: Some(sector.clone()),
                    ..self.base()
                })
            })
            .collect())
    }
}

pub async fn run(args: FranceTravailArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    match args.command {
        FranceTravailCommand::Collect(args) => run_collect(*args, ctx).await,
        FranceTravailCommand::Offer(args) => super::ft_offer::run(*args, ctx).await,
    }
}

async fn run_collect(args: CollectArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let queries = args.queries()?;
    let client =
        FtClient::new(args.conn.settings(args.rate)?)?.with_http_options(ctx.global.http_options());
    let archive = match &args.archive {
        Some(target) => {
            let s3 = S3Settings::from_env();
            let target =
                ArchiveTarget::parse_with_default_bucket(target, s3.default_bucket.as_deref())?;
            Some(Archive::open(target, &s3)?)
        }
        None => None,
    };
    let db = ctx.open_db().await?;
    client.authenticate().await?;
    let opts = CollectOptions {
        max_pages: args.max_pages,
        delay: Duration::from_secs_f64(args.delay),
        force: args.force,
    };
    let interrupt = interrupt_on_signals();
    let mut seen = HashSet::new();
    let mut results = Vec::new();
    for q in &queries {
        let (obs, bar) = observer(ctx.global.quiet, "offers");
        let collector = Collector {
            db: &db,
            client: &client,
            opts: &opts,
            archive: archive.as_ref(),
        };
        let result = collect(collector, q, &mut seen, obs, &interrupt).await;
        finish_bar(bar);
        let result = result?;
        let stop =
            matches!(&result, Collected::Done(r) if r.run.status == RunStatusKind::Interrupted);
        results.push(result);
        if stop {
            break;
        }
    }
    render("france travail", &results, &args.report)
}

fn query_label(q: &serde_json::Value) -> String {
    let Some(map) = q.as_object().filter(|m| !m.is_empty()) else {
        return "every offer".to_owned();
    };
    map.iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Outcome for Collected {
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "query",
        "status",
        "upstream_total",
        "parts",
        "requests",
        "total",
        "created",
        "updated",
        "unchanged",
        "duplicates",
        "errors",
        "warnings",
    ];
    const LAYOUT: Layout = Layout {
        drop: &[
            "parts",
            "requests",
            "duplicates",
            "upstream_total",
            "warnings",
            "run_id",
            "unchanged",
        ],
    };

    fn run(&self) -> Option<&RunReport> {
        match self {
            Collected::Done(r) => Some(&r.run),
            Collected::AlreadyToday { .. } => None,
        }
    }

    /// A collect skipped as done today has no row, only a note.
    fn row(&self) -> Option<Vec<String>> {
        let Collected::Done(r) = self else {
            return None;
        };
        let s = &r.run.stats;
        let figures = [
            u64::from(r.parts),
            u64::from(r.requests),
            s.total,
            s.created,
            s.updated,
            s.unchanged,
            r.duplicates,
            s.errors,
            s.warnings,
        ];
        let mut row = vec![
            r.run.run_id.to_string(),
            query_label(&r.query),
            r.run.status.as_str().to_owned(),
            r.upstream_total.map(|t| t.to_string()).unwrap_or_default(),
        ];
        row.extend(figures.map(|n| n.to_string()));
        Some(row)
    }

    fn notes(&self) -> Vec<String> {
        match self {
            Collected::Done(r) => {
                let mut notes = Vec::new();
                if r.archived > 0 {
                    notes.push(format!(
                        "  run {}: {} raw pages archived",
                        r.run.run_id, r.archived
                    ));
                }
                notes.extend(issue_lines(&r.run, ISSUES_SHOWN_PER_RUN, None));
                notes
            }
            Collected::AlreadyToday { query, run_id, at } => vec![format!(
                "  {}: already collected today at {} (run {run_id}); --force collects it again",
                query_label(query),
                super::table::instant(*at)
            )],
        }
    }
}
