//! The `sagasync` binary: parse, set up logging, run, map the outcome to an exit code.
//!
//! Exit codes: 0 success, 1 fatal error (one line on stderr saying what to do),
//! 2 bad usage (from clap), 130 interrupted.

use std::process::ExitCode;

use sagasync::commands::one_line;

fn main() -> ExitCode {
    // A .env in the working directory fills in what the environment does not set.
    if let Err(e) = dotenvy::from_path(".env")
        && !e.not_found()
    {
        eprintln!("error: cannot read .env: {e}");
        return ExitCode::from(1);
    }
    let database_url_from_flag =
        std::env::args().any(|a| a == "--database-url" || a.starts_with("--database-url="));
    let cli = sagasync::commands::cli::parse();
    sagasync::telemetry::init(cli.global.verbose, cli.global.quiet, cli.global.color);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(sagasync::commands::run(cli, database_url_from_flag)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(1)
        }
    }
}
