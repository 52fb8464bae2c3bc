//! `sagasync serve`: the read-only web console and JSON API, on loopback unless told
//! otherwise; with `--accounts`, the accounts API besides.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

use super::Context;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on: a port (5080, on loopback), localhost:PORT, or IP:PORT;
    /// anything but loopback exposes the database to the network
    #[arg(long, default_value = "127.0.0.1:5000", value_parser = bind_address, value_name = "ADDR")]
    pub bind: SocketAddr,

    /// Also serve the accounts API (register, login, each person's profile under
    /// /api/me): the only routes that write to the database
    #[arg(long)]
    pub accounts: bool,
}

/// A listening address: `5080` and `localhost:5080` are loopback (IPv4), `:5080` too;
/// otherwise an IP address and a port (`0.0.0.0:5080`, `[::1]:5080`).
pub fn bind_address(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let allowed = || {
        format!(
            "{s:?} is not an address to listen on: give a port (5080), localhost:PORT, \
             or IP:PORT (127.0.0.1:5080, 0.0.0.0:5080, [::1]:5080)"
        )
    };
    let port = |p: &str| p.parse::<u16>().map_err(|_| allowed());
    let loopback = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    if s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
        return port(s).map(loopback);
    }
    if let Some(p) = s.strip_prefix("localhost:").or_else(|| s.strip_prefix(':')) {
        return port(p).map(loopback);
    }
    s.parse::<SocketAddr>().map_err(|_| allowed())
}

pub async fn run(args: ServeArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db_for(crate::db::Use::Readers).await?;
    let options = crate::serve::ServeOptions {
        accounts: args
            .accounts
            .then(crate::serve::accounts::AccountsOptions::default),
    };
    if !crate::serve::is_loopback(&args.bind) {
        tracing::warn!(
            "serving on {}, not loopback: anyone who reaches it can read the database",
            args.bind
        );
    }
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.bind))?;
    let addr = listener.local_addr()?;
    if args.accounts {
        println!(
            "serving the web console on http://{addr}/ and the JSON API under http://{addr}/api/, \
             with the accounts API (register, login, /api/me) (Ctrl-C stops)"
        );
    } else {
        println!(
            "serving the web console on http://{addr}/ and the read-only JSON API under http://{addr}/api/ (Ctrl-C stops)"
        );
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopping: finishing the requests in flight");
    };
    crate::serve::serve_with(db, listener, options, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}
