//! Logging: `tracing` to stderr (stdout carries only results), level from `RUST_LOG`
//! or from `-v` / `-q`.

use tracing_subscriber::EnvFilter;

/// The filter for a verbosity: `-q` errors only, default info for sagasync and warnings
/// from the rest, `-v` debug, `-vv` trace with SQL statements.
pub fn default_filter(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,sagasync=info",
        (false, 1) => "info,sagasync=debug",
        (false, _) => "debug,sagasync=trace,sqlx=debug",
    }
}

/// Installs the global subscriber once; later calls do nothing.
pub fn init(verbose: u8, quiet: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(verbose, quiet)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
