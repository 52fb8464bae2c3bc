//! A headless Chromium for the console's tests: `Browser::start` launches one (or skips
//! the test outside CI when Chromium is missing), `visit` opens a URL in a fresh tab and
//! gives its status, final URL, title and every problem the page had, so a test can
//! `assert_clean` a page the way a person with the developer tools open would.
//!
//! A problem is a console message of level error or warning (`Runtime.consoleAPICalled`),
//! an uncaught exception (`Runtime.exceptionThrown`), a browser message of level error or
//! warning (`Log.entryAdded`: failed loads such as a 404 stylesheet or image, CSP
//! violations), or a JavaScript dialog (`alert`, `confirm`: an XSS probe that fired),
//! which is dismissed so the page goes on loading. A tab's problems accumulate across the
//! navigations made in it (`click`, `submit`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chromiumoxide::BrowserConfig;
use chromiumoxide::error::CdpError;
use futures::StreamExt;

mod self_tests;
mod tab;

pub use tab::Visit;

/// Where Chromium is unless `CHROMIUM` says otherwise (Debian package `chromium`).
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// Flags beyond chromiumoxide's defaults (which already hold `--headless`,
/// `--disable-background-networking`, `--no-first-run`, `--disable-sync`): without the
/// network ones Chromium dials Google at start, which a closed network refuses.
const EXTRA_ARGS: [&str; 3] = ["disable-gpu", "disable-quic", "disable-component-update"];
/// The window, and so the viewport of every tab until `screenshot` sets another.
const WINDOW: (u32, u32) = (1280, 800);
/// Longest a launch may take (about a second when all is well).
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest a CDP command or a navigation may take before the test fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// The CDP events a problem comes from: one chromiumoxide cannot read is a problem too,
/// never silently lost (a newer Chromium may send values its types do not know).
const WATCHED: [&str; 4] = [
    "Runtime.consoleAPICalled",
    "Runtime.exceptionThrown",
    "Log.entryAdded",
    "Page.javascriptDialogOpening",
];

/// One headless Chromium with a fresh profile; killed (profile removed) on drop, or
/// closed gracefully by `close`.
pub struct Browser {
    inner: Option<chromiumoxide::Browser>,
    handler: tokio::task::JoinHandle<()>,
    unreadable: Arc<Mutex<Vec<Problem>>>,
    /// Removed once no process of this browser is left (one still writing would make
    /// the removal fail half-way).
    profile: Option<tempfile::TempDir>,
}

/// Where a problem was reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `console.error`, `console.warn`, a failed `console.assert`.
    Console,
    /// An uncaught exception or unhandled rejection.
    Exception,
    /// A browser message; its source: `network` (failed loads), `security` (CSP), ...
    Log(String),
    /// `alert`, `confirm`, `prompt` or `beforeunload`: its type.
    Dialog(String),
    /// A watched CDP event chromiumoxide could not read.
    Unreadable,
}

/// How bad; a warning is a problem too (a deprecated API, a report-only CSP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Warning,
    Error,
}

/// Something a person with the developer tools open would have seen go wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub origin: Origin,
    pub level: Level,
    pub text: String,
    /// The document or resource it concerns, when the browser says.
    pub url: Option<String>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let origin = match &self.origin {
            Origin::Console => "console".to_owned(),
            Origin::Exception => "exception".to_owned(),
            Origin::Log(source) => format!("log/{source}"),
            Origin::Dialog(kind) => format!("dialog/{kind}"),
            Origin::Unreadable => "unreadable event".to_owned(),
        };
        write!(f, "{:?} {origin}: {}", self.level, self.text)?;
        match &self.url {
            Some(url) if !url.is_empty() => write!(f, " ({url})"),
            _ => Ok(()),
        }
    }
}

/// A page's size for `screenshot`: the viewport, and whether to capture the whole page.
#[derive(Debug, Clone, Copy)]
pub struct Shot {
    pub width: u32,
    pub height: u32,
    pub full_page: bool,
}

impl Shot {
    pub const DESKTOP: Shot = Shot {
        width: 1280,
        height: 800,
        full_page: true,
    };
    pub const PHONE: Shot = Shot {
        width: 390,
        height: 844,
        full_page: true,
    };
}

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

impl Browser {
    /// A headless Chromium, or `None` (with a message) when there is none outside CI.
    ///
    /// # Panics
    /// When Chromium is missing in CI (`CI=true`), or present but fails to start.
    pub async fn start() -> Option<Browser> {
        let path = std::env::var_os("CHROMIUM")
            .filter(|p| !p.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_CHROMIUM), PathBuf::from);
        if !path.exists() {
            let why = format!(
                "no Chromium at {}: install the Debian package `chromium` or set CHROMIUM",
                path.display()
            );
            assert!(!in_ci(), "{why} (CI must run the browser tests)");
            eprintln!("skipped: {why}");
            return None;
        }
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        // Chromium's own temporary files (its singleton socket, which a killed browser
        // leaves behind) go in the profile, removed with it.
        let tmp = profile.path().join("tmp");
        std::fs::create_dir(&tmp).expect("a temporary directory for Chromium");
        let config = BrowserConfig::builder()
            .chrome_executable(&path)
            .no_sandbox()
            .args(EXTRA_ARGS)
            .user_data_dir(profile.path())
            .env("TMPDIR", tmp.to_string_lossy())
            .window_size(WINDOW.0, WINDOW.1)
            .viewport(None)
            .launch_timeout(LAUNCH_TIMEOUT)
            .request_timeout(COMMAND_TIMEOUT)
            .surface_invalid_messages()
            .build()
            .unwrap_or_else(|e| panic!("cannot configure Chromium: {e}"));
        let (inner, mut handler) = chromiumoxide::Browser::launch(config)
            .await
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let unreadable = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&unreadable);
        let handler = tokio::spawn(async move {
            while let Some(item) = handler.next().await {
                if let Err(CdpError::InvalidMessage(raw, err)) = item
                    && WATCHED.contains(&method_of(&raw).as_str())
                {
                    lock(&sink).push(Problem {
                        origin: Origin::Unreadable,
                        level: Level::Error,
                        text: format!("{err}: {}", excerpt(&raw)),
                        url: None,
                    });
                }
            }
        });
        Some(Browser {
            inner: Some(inner),
            handler,
            unreadable,
            profile: Some(profile),
        })
    }

    fn inner(&self) -> &chromiumoxide::Browser {
        self.inner.as_ref().expect("the browser is open")
    }

    /// Opens `url` in a fresh tab and waits for its `load` and a short settle.
    ///
    /// # Panics
    /// When the page cannot be reached or does not load in time.
    pub async fn visit(&self, url: &str) -> Visit {
        let page = self
            .inner()
            .new_page("about:blank")
            .await
            .expect("a new tab");
        tab::open(page, Arc::clone(&self.unreadable), url).await
    }

    /// Closes Chromium (all its processes) and removes its profile.
    pub async fn close(mut self) {
        if let Some(mut inner) = self.inner.take() {
            let closed = tokio::time::timeout(COMMAND_TIMEOUT, async {
                inner.close().await.ok()?;
                inner.wait().await.ok()
            })
            .await;
            if !matches!(closed, Ok(Some(_))) {
                let _ = inner.kill().await;
            }
        }
        self.handler.abort();
    }
}

impl Drop for Browser {
    /// Kills Chromium, waits (briefly) for its processes, and removes the profile.
    fn drop(&mut self) {
        self.handler.abort();
        if let Some(mut inner) = self.inner.take()
            && let Some(child) = inner.get_mut_child()
        {
            let _ = child.as_mut_inner().start_kill();
        }
        let Some(profile) = self.profile.take() else {
            return;
        };
        // Chromium's zygote, renderers and services outlive the browser process by a
        // few milliseconds; each names the profile on its command line.
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline && processes_using(profile.path()) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let path = profile.keep();
        while std::fs::remove_dir_all(&path).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Whether a process names `dir` on its command line (Linux: `/proc`).
fn processes_using(dir: &Path) -> bool {
    let needle = dir.as_os_str().as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        std::fs::read(entry.path().join("cmdline"))
            .is_ok_and(|cmdline| cmdline.windows(needle.len()).any(|w| w == needle))
    })
}

/// The `method` of a raw CDP message, empty when it has none.
fn method_of(raw: &str) -> String {
    let message: serde_json::Value = serde_json::from_str(raw).unwrap_or_default();
    message["method"].as_str().unwrap_or_default().to_owned()
}

fn excerpt(raw: &str) -> &str {
    raw.char_indices().nth(300).map_or(raw, |(i, _)| &raw[..i])
}

/// A lock even after a panic elsewhere (the data are lists that stay consistent).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
