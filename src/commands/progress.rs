//! A sync's progress while it runs: a bar on a terminal, a log line now and then
//! otherwise, nothing with `-q`. Every sync command draws it the same way.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::sync::{Observer, Progress};

/// How often a sync writes a progress line when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// What [`observer`] draws with, kept until the phase ends: the bar on a terminal (none
/// otherwise) and the count, for the phase's summary line.
pub struct Bar {
    bar: Option<ProgressBar>,
    meter: Arc<Mutex<Meter>>,
    noun: &'static str,
}

/// Ends a phase [`observer`] watched: its bar is cleared, and one line stays saying what
/// it counted, how long it took and how fast (`products: 100,000 in 3.2 s, 31,250/s`),
/// on stderr (a log line when stderr is not a terminal). Nothing when nothing was counted.
pub fn finish_bar(bar: Option<Bar>) {
    let Some(Bar { bar, meter, noun }) = bar else {
        return;
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
        crate::telemetry::clear_bar();
    }
    let Ok(m) = meter.lock() else { return };
    if let Some(line) = m.summary(noun) {
        if bar.is_some() {
            eprintln!("{line}");
        } else {
            tracing::info!("{line}");
        }
    }
}

/// The rate of a run: items per second since it started (or since it resumed).
struct Meter {
    started: Instant,
    /// Items already read when this run started (a resumed run counts from there).
    base: u64,
    /// Items read so far (the last page's count).
    done: u64,
}

impl Meter {
    fn new() -> Meter {
        Meter {
            started: Instant::now(),
            base: 0,
            done: 0,
        }
    }

    fn rate(&self, done: u64) -> f64 {
        done.saturating_sub(self.base) as f64 / self.started.elapsed().as_secs_f64().max(0.001)
    }

    /// `page 12, 1,200 / 13,064 users, 850/s`.
    fn line(&self, number: u32, expected: Option<u64>, done: u64, noun: &str) -> String {
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
            HumanCount(self.rate(done).round() as u64)
        )
    }

    /// `products: 100,000 in 3.2 s, 31,250/s`; `None` when nothing was read.
    fn summary(&self, noun: &str) -> Option<String> {
        let read = self.done.saturating_sub(self.base);
        if read == 0 {
            return None;
        }
        let secs = self.started.elapsed().as_secs_f64();
        Some(format!(
            "{noun}: {} in {secs:.1} s, {}/s",
            HumanCount(read),
            HumanCount(self.rate(self.done).round() as u64)
        ))
    }
}

/// A bar on a terminal, periodic log lines otherwise, nothing with `-q`. `noun` names
/// what is counted (`products`, `users`). The bar spans the terminal's width and shows
/// the time left once the total is known; notes (a France Travail split) show in it
/// while no page has come yet.
pub fn observer(quiet: bool, noun: &'static str) -> (Observer, Option<Bar>) {
    if quiet {
        return (crate::sync::no_observer(), None);
    }
    let meter = Arc::new(Mutex::new(Meter::new()));
    let resume = |meter: &Mutex<Meter>, done: u64| {
        if let Ok(mut m) = meter.lock() {
            *m = Meter {
                started: Instant::now(),
                base: done,
                done,
            };
        }
    };
    let record = |meter: &Mutex<Meter>, done: u64| {
        if let Ok(mut m) = meter.lock() {
            m.done = done;
        }
    };
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {wide_msg} {bar:20} {elapsed}/{eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        crate::telemetry::set_bar(&bar);
        let handle = bar.clone();
        let state = meter.clone();
        let observer: Observer = Arc::new(move |p| match p {
            Progress::Phase(name) => handle.set_message(name),
            Progress::Note(note) => {
                handle.println(&note);
                if handle.position() == 0 {
                    handle.set_message(note);
                }
            }
            Progress::Resumed { done, .. } => resume(&state, done),
            Progress::Page {
                number,
                expected,
                done,
            } => {
                if let Some(total) = expected {
                    handle.set_length(total.max(done));
                }
                handle.set_position(done);
                record(&state, done);
                if let Ok(m) = state.lock() {
                    handle.set_message(m.line(number, expected, done, noun));
                }
            }
        });
        let bar = Bar {
            bar: Some(bar),
            meter,
            noun,
        };
        return (observer, Some(bar));
    }
    let last = Mutex::new(Instant::now());
    let state = meter.clone();
    let observer: Observer = Arc::new(move |p| match p {
        Progress::Phase(name) => tracing::info!("{name}"),
        Progress::Note(note) => tracing::info!("{note}"),
        Progress::Resumed { page, done } => {
            resume(&state, done);
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
            record(&state, done);
            let Ok(mut last) = last.lock() else { return };
            if last.elapsed() < LOG_EVERY {
                return;
            }
            *last = Instant::now();
            if let Ok(m) = state.lock() {
                tracing::info!("{}", m.line(number, expected, done, noun));
            }
        }
    });
    let bar = Bar {
        bar: None,
        meter,
        noun,
    };
    (observer, Some(bar))
}
