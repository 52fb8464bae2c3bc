//! Logging: `tracing` to stderr (stdout carries only results), level from `RUST_LOG`
//! or from `-v` / `-q`.

use std::io::Write;
use std::sync::Mutex;

use indicatif::ProgressBar;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The progress bar on screen, if any: log lines are written around it (the bar is
/// hidden, the line written, the bar drawn again) instead of through it.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Log lines go around `bar` until [`clear_bar`].
pub fn set_bar(bar: &ProgressBar) {
    if let Ok(mut slot) = BAR.lock() {
        *slot = Some(bar.clone());
    }
}

/// Log lines go straight to stderr again.
pub fn clear_bar() {
    if let Ok(mut slot) = BAR.lock() {
        *slot = None;
    }
}

/// Where a log line goes: stderr, around the progress bar when one is drawn.
struct AroundBar;

/// One log line, written when the subscriber is done with it.
struct Line(Vec<u8>);

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let write = |bytes: &[u8]| {
            let _ = std::io::stderr().lock().write_all(bytes);
        };
        let bar = BAR.lock().ok().and_then(|slot| slot.clone());
        match bar {
            Some(bar) if !bar.is_finished() => bar.suspend(|| write(&self.0)),
            _ => write(&self.0),
        }
    }
}

impl<'a> MakeWriter<'a> for AroundBar {
    type Writer = Line;
    fn make_writer(&'a self) -> Line {
        Line(Vec::with_capacity(128))
    }
}

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
        .with_writer(AroundBar)
        .with_ansi(color.for_stderr())
        .with_target(false)
        .try_init();
}
