//! `sagasync serve`: the read-only JSON API, on loopback unless told otherwise.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

use super::Context;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback exposes the database to the network
    #[arg(long, default_value = "127.0.0.1:5000")]
    pub bind: SocketAddr,
}

pub async fn run(args: ServeArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let db = ctx.open_db_for(crate::db::Use::Readers).await?;
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
    println!("serving the read-only API on http://{addr}/api/health (Ctrl-C stops)");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopping: finishing the requests in flight");
    };
    crate::serve::serve(db, listener, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}
