//! `sagasync sandbox`: serve the fake upstreams until Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::sandbox::cerema::{self, CeremaConfig};
use crate::sandbox::france_travail::{self, FranceTravailConfig};
use crate::sandbox::{Faults, Sandbox, SandboxConfig};

/// What the sandbox's data is made of (shared by `sandbox` and `demo`).
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Seed of the generated data (same seed, same data)
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of categories (a tree of up to 5 levels)
    #[arg(long, default_value_t = 60)]
    pub categories: usize,
    /// Number of products
    #[arg(long, default_value_t = 2_000)]
    pub products: usize,
    /// Number of Cerema users
    #[arg(long, default_value_t = cerema::DEFAULT_USERS)]
    pub cerema_users: usize,
    /// Number of Cerema structures
    #[arg(long, default_value_t = cerema::DEFAULT_STRUCTURES)]
    pub cerema_structures: usize,
}

impl DataArgs {
    /// The Cerema part of the sandbox, with these sizes.
    pub fn cerema(&self) -> CeremaConfig {
        CeremaConfig {
            users: self.cerema_users,
            structures: self.cerema_structures,
            ..CeremaConfig::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on (loopback; port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:0")]
    pub bind: SocketAddr,
    #[command(flatten)]
    pub data: DataArgs,
    /// The key the B2B API accepts in X-API-Key
    #[arg(long, default_value = "b2c_1_sandbox")]
    pub api_key: String,
    /// The token the Cerema API accepts as `Authorization: Bearer`
    #[arg(long, default_value = "cerema_sandbox_token")]
    pub cerema_token: String,
    /// Number of France Travail job offers
    #[arg(long, default_value_t = france_travail::DEFAULT_OFFERS)]
    pub ft_offers: usize,
    /// France Travail requests allowed per second, as the real API (0: no limit)
    #[arg(long, default_value_t = france_travail::DEFAULT_RATE_LIMIT)]
    pub ft_rate: u32,
    /// Change this share of the products at start (0..1), as a later run would see
    #[arg(long)]
    pub mutate: Option<f64>,
    /// Share of requests answered 502/503
    #[arg(long, default_value_t = 0.0)]
    pub fault_5xx: f64,
    /// Share of requests answered 429 with Retry-After
    #[arg(long, default_value_t = 0.0)]
    pub fault_429: f64,
    /// Retry-After of the 429 answers, seconds
    #[arg(long, default_value_t = 1)]
    pub retry_after: u64,
    /// Share of requests answered slowly
    #[arg(long, default_value_t = 0.0)]
    pub fault_slow: f64,
    /// Delay of the slow answers, milliseconds
    #[arg(long, default_value_t = 35_000)]
    pub slow_ms: u64,
    /// Share of answers whose JSON is cut short
    #[arg(long, default_value_t = 0.0)]
    pub fault_truncated: f64,
    /// Share of answers that are an HTML error page with status 200
    #[arg(long, default_value_t = 0.0)]
    pub fault_html: f64,
    /// Each page of the B2B products and categories and of the Cerema listings answers
    /// after this many milliseconds, as a distant API would
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
}

impl SandboxArgs {
    fn config(&self) -> SandboxConfig {
        SandboxConfig {
            seed: self.data.seed,
            categories: self.data.categories,
            products: self.data.products,
            api_key: self.api_key.clone(),
            cerema: CeremaConfig {
                token: self.cerema_token.clone(),
                ..self.data.cerema()
            },
            france_travail: FranceTravailConfig {
                offers: self.ft_offers,
                rate_limit: self.ft_rate,
                ..FranceTravailConfig::default()
            },
            faults: Faults {
                server_error: self.fault_5xx,
                rate_limit: self.fault_429,
                retry_after_secs: self.retry_after,
                slow: self.fault_slow,
                slow_ms: self.slow_ms,
                truncated: self.fault_truncated,
                html: self.fault_html,
            },
            latency: std::time::Duration::from_millis(self.latency_ms),
        }
    }
}

pub async fn run(args: SandboxArgs, _ctx: &Context) -> anyhow::Result<ExitCode> {
    let sandbox = Sandbox::start(args.bind, args.config()).await?;
    if let Some(share) = args.mutate {
        sandbox.mutate(share).await;
    }
    println!("B2B_API_URL=\"{}\"", sandbox.b2b_url());
    println!("B2B_API_KEY=\"{}\"", args.api_key);
    println!("CEREMA_API_URL=\"{}\"", sandbox.cerema_url());
    println!("CEREMA_API_TOKEN=\"{}\"", sandbox.cerema_token());
    println!("FRANCE_TRAVAIL_AUTH_URL=\"{}\"", sandbox.ft_auth_url());
    println!("FRANCE_TRAVAIL_API_URL=\"{}\"", sandbox.ft_api_url());
    println!("FRANCE_TRAVAIL_CLIENT_ID=\"{}\"", sandbox.ft_client_id());
    println!(
        "FRANCE_TRAVAIL_CLIENT_SECRET=\"{}\"",
        sandbox.ft_client_secret()
    );
    println!(
        "# POST http://{}/sandbox/mutate?share=0.1 changes 10% of the products, Cerema records and France Travail offers",
        sandbox.addr
    );
    tracing::info!("sandbox serving on {} (Ctrl-C stops it)", sandbox.addr);
    tokio::signal::ctrl_c().await?;
    sandbox.stop().await;
    Ok(ExitCode::SUCCESS)
}
