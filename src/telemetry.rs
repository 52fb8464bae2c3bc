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

/// When log lines carry colours (ANSI escapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set (CLICOLOR_FORCE=1 forces them)
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether stderr gets colours: a file or a pipe gets none unless asked for.
    pub fn for_stderr(self) -> bool {
        use std::io::IsTerminal;
        let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty() && v != "0");
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto if set("CLICOLOR_FORCE") => true,
            ColorWhen::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        }
    }
}

/// Installs the global subscriber once; later calls do nothing.
pub fn init(verbose: u8, quiet: bool, color: ColorWhen) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(default_filter(verbose, quiet)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color.for_stderr())
        .with_target(false)
        .try_init();
}
