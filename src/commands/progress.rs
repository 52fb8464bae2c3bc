//! A sync's progress while it runs: a bar on a terminal, a log line now and then
//! otherwise, nothing with `-q`. Every sync command draws it the same way.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::sync::{Observer, Progress};

/// How often a sync writes a progress line when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Clears the bar [`observer`] drew, if it drew one.
pub fn finish_bar(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// The rate of a run: items per second since it started (or since it resumed).
struct Meter {
    started: Instant,
    /// Items already read when this run started (a resumed run counts from there).
    base: u64,
}

impl Meter {
    /// `page 12, 1,200 / 13,064 users, 850/s`.
    fn line(&self, number: u32, expected: Option<u64>, done: u64, noun: &str) -> String {
        let rate =
            done.saturating_sub(self.base) as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        let of = expected
            .map(|t| format!(" / {}", HumanCount(t)))
            .unwrap_or_default();
        let page = if number > 0 {
            format!("page {number}, ")
        } else {
            String::new()
        };
        format!(
            "{page}{}{of} {noun}, {}/s",
            HumanCount(done),
            HumanCount(rate.round() as u64)
        )
    }
}

/// A bar on a terminal, periodic log lines otherwise, nothing with `-q`. `noun` names
/// what is counted (`products`, `users`).
pub fn observer(quiet: bool, noun: &'static str) -> (Observer, Option<ProgressBar>) {
    if quiet {
        return (crate::sync::no_observer(), None);
    }
    let meter = Mutex::new(Meter {
        started: Instant::now(),
        base: 0,
    });
    let resume = |meter: &Mutex<Meter>, done: u64| {
        if let Ok(mut m) = meter.lock() {
            *m = Meter {
                started: Instant::now(),
                base: done,
            };
        }
    };
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        let handle = bar.clone();
        let observer: Observer = Arc::new(move |p| match p {
            Progress::Phase(name) => handle.set_message(name),
            Progress::Note(note) => handle.println(note),
            Progress::Resumed { done, .. } => resume(&meter, done),
            Progress::Page {
                number,
                expected,
                done,
            } => {
                if let Some(total) = expected {
                    handle.set_length(total.max(done));
                }
                handle.set_position(done);
                if let Ok(m) = meter.lock() {
                    handle.set_message(m.line(number, expected, done, noun));
                }
            }
        });
        return (observer, Some(bar));
    }
    let last = Mutex::new(Instant::now());
    let observer: Observer = Arc::new(move |p| match p {
        Progress::Phase(name) => tracing::info!("{name}"),
        Progress::Note(note) => tracing::info!("{note}"),
        Progress::Resumed { page, done } => {
            resume(&meter, done);
            tracing::info!(
                "continuing from page {page} ({} {noun} read before)",
                HumanCount(done)
            );
        }
        Progress::Page {
            number,
            expected,
            done,
        } => {
            let Ok(mut last) = last.lock() else { return };
            if last.elapsed() < LOG_EVERY {
                return;
            }
            *last = Instant::now();
            if let Ok(m) = meter.lock() {
                tracing::info!("{}", m.line(number, expected, done, noun));
            }
        }
    });
    (observer, None)
}
