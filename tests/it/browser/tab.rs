//! A tab and the documents loaded in it: navigation (subscribed before it starts, so
//! nothing of the load is missed), the problem streams drained into one list, and the
//! helpers a test reads and drives a page with.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::log::{EventEntryAdded, LogEntryLevel};
use chromiumoxide::cdp::browser_protocol::network::{EventResponseReceived, ResourceType};
use chromiumoxide::cdp::browser_protocol::page::{
    CaptureScreenshotFormat, DialogType, EventJavascriptDialogOpening, EventLoadEventFired,
    HandleJavaScriptDialogParams,
};
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EvaluateParams, EventConsoleApiCalled, EventExceptionThrown, RemoteObject,
};
use chromiumoxide::error::CdpError;
use chromiumoxide::listeners::EventStream;
use chromiumoxide::page::ScreenshotParams;
use futures::{FutureExt, StreamExt};
use serde::de::DeserializeOwned;

use super::{COMMAND_TIMEOUT, Level, Origin, Problem, Shot, lock};

/// How long after `load` late problems (timers, late logs) are still collected.
const SETTLE: Duration = Duration::from_millis(50);
/// What `Page.navigate` says of an HTTP error status sent without a body.
const EMPTY_ERROR_PAGE: &str = "net::ERR_HTTP_RESPONSE_CODE_FAILURE";
/// How the `Log` domain reports a document or resource sent with an error status.
const DOCUMENT_STATUS: &str = "Failed to load resource: the server responded with a status of";

/// A document loaded in a tab: what the navigation gave, and the tab to go on with.
pub struct Visit {
    /// The HTTP status of the main document (after redirects).
    pub status: u16,
    /// `location.href` once loaded (the URL asked, when the status came without a body
    /// and Chromium shows its own error page).
    pub url: String,
    /// `document.title`.
    pub title: String,
    tab: Arc<Tab>,
}

/// A tab with its problem listeners (subscribed before it navigates anywhere).
struct Tab {
    page: Page,
    streams: Mutex<Streams>,
    problems: Arc<Mutex<Vec<Problem>>>,
    unreadable: Arc<Mutex<Vec<Problem>>>,
    /// Documents loaded with an error status: the log entry saying so is not a problem,
    /// since `Visit::status` reports it.
    documents: Mutex<Vec<String>>,
    dialogs: tokio::task::JoinHandle<()>,
}

struct Streams {
    console: EventStream<EventConsoleApiCalled>,
    exceptions: EventStream<EventExceptionThrown>,
    log: EventStream<EventEntryAdded>,
}

/// Opens `url` in `page` (a fresh tab), and waits for its `load` and a short settle.
pub(super) async fn open(page: Page, unreadable: Arc<Mutex<Vec<Problem>>>, url: &str) -> Visit {
    let tab = Arc::new(Tab::watch(page, unreadable).await);
    let what = format!("visit {url}");
    let page = tab.page.clone();
    let url = url.to_owned();
    navigate(tab, &what, async move {
        match page.goto(url).await {
            Ok(_) => Ok(()),
            // An error status with an empty body: Chromium shows its own error page.
            Err(CdpError::ChromeMessage(e)) if e == EMPTY_ERROR_PAGE => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
}

impl Tab {
    /// Subscribes to every source of problems, and dismisses dialogs as they open.
    async fn watch(page: Page, unreadable: Arc<Mutex<Vec<Problem>>>) -> Tab {
        let streams = Streams {
            console: page.event_listener().await.expect("console events"),
            exceptions: page.event_listener().await.expect("exception events"),
            log: page.event_listener().await.expect("log events"),
        };
        // chromiumoxide enables Log on each tab, but the failed loads and CSP violations
        // are only there if it is: say so rather than rely on it.
        page.enable_log().await.expect("the Log domain");
        let problems = Arc::new(Mutex::new(Vec::new()));
        let mut opened = page
            .event_listener::<EventJavascriptDialogOpening>()
            .await
            .expect("dialog events");
        let sink = Arc::clone(&problems);
        let dismisser = page.clone();
        let dialogs = tokio::spawn(async move {
            while let Some(dialog) = opened.next().await {
                lock(&sink).push(Problem {
                    origin: Origin::Dialog(dialog.r#type.as_ref().to_owned()),
                    level: Level::Error,
                    text: dialog.message.clone(),
                    url: Some(dialog.url.clone()),
                });
                // Leaving a page is allowed; anything else is refused.
                let accept = dialog.r#type == DialogType::Beforeunload;
                let _ = dismisser
                    .execute(HandleJavaScriptDialogParams::new(accept))
                    .await;
            }
        });
        Tab {
            page,
            streams: Mutex::new(streams),
            problems,
            unreadable,
            documents: Mutex::new(Vec::new()),
            dialogs,
        }
    }

    /// Moves the problems already received into the tab's list.
    fn drain(&self) {
        let mut streams = lock(&self.streams);
        let mut found = Vec::new();
        while let Some(Some(ev)) = streams.console.next().now_or_never() {
            let level = match ev.r#type {
                ConsoleApiCalledType::Error | ConsoleApiCalledType::Assert => Level::Error,
                ConsoleApiCalledType::Warning => Level::Warning,
                _ => continue,
            };
            let text: Vec<String> = ev.args.iter().map(describe).collect();
            let url = ev
                .stack_trace
                .as_ref()
                .and_then(|s| s.call_frames.first())
                .map(|f| f.url.clone());
            found.push(Problem {
                origin: Origin::Console,
                level,
                text: text.join(" "),
                url,
            });
        }
        while let Some(Some(ev)) = streams.exceptions.next().now_or_never() {
            let details = &ev.exception_details;
            let text = match details
                .exception
                .as_ref()
                .and_then(|e| e.description.clone())
            {
                Some(description) => format!("{} {description}", details.text),
                None => details.text.clone(),
            };
            found.push(Problem {
                origin: Origin::Exception,
                level: Level::Error,
                text,
                url: details.url.clone(),
            });
        }
        let documents = lock(&self.documents);
        while let Some(Some(ev)) = streams.log.next().now_or_never() {
            let own_status = ev.entry.text.starts_with(DOCUMENT_STATUS)
                && ev.entry.url.as_ref().is_some_and(|u| documents.contains(u));
            if own_status {
                continue;
            }
            let level = match ev.entry.level {
                LogEntryLevel::Error => Level::Error,
                LogEntryLevel::Warning => Level::Warning,
                _ => continue,
            };
            found.push(Problem {
                origin: Origin::Log(ev.entry.source.as_ref().to_owned()),
                level,
                text: ev.entry.text.clone(),
                url: ev.entry.url.clone(),
            });
        }
        drop(documents);
        lock(&self.problems).extend(found);
    }

    async fn eval<T: DeserializeOwned>(&self, js: &str) -> T {
        let params = EvaluateParams::builder()
            .expression(js)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .expect("an expression");
        let result = self
            .page
            .evaluate_expression(params)
            .await
            .unwrap_or_else(|e| panic!("evaluating `{js}` failed: {e}"));
        let value = result.value().cloned().unwrap_or_default();
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("`{js}` gave {value}, which does not fit: {e}"))
    }
}

impl Drop for Tab {
    fn drop(&mut self) {
        self.dialogs.abort();
        let page = self.page.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = page.close().await;
            });
        }
    }
}

/// Runs `trigger` (a navigation, a click, a submit) and waits for the tab's next `load`.
async fn navigate(
    tab: Arc<Tab>,
    what: &str,
    trigger: impl Future<Output = Result<(), String>>,
) -> Visit {
    let page = &tab.page;
    // Subscribed before the trigger, so the events of this load cannot be missed.
    let mut loads = page
        .event_listener::<EventLoadEventFired>()
        .await
        .expect("load events");
    let mut responses = page
        .event_listener::<EventResponseReceived>()
        .await
        .expect("network events");
    if let Err(e) = trigger.await {
        panic!("{what}: {e}");
    }
    if tokio::time::timeout(COMMAND_TIMEOUT, loads.next())
        .await
        .is_err()
    {
        panic!("{what}: no page loaded within {COMMAND_TIMEOUT:?}");
    }
    tokio::time::sleep(SETTLE).await;
    let frame = page.mainframe().await.ok().flatten();
    let mut document = None;
    while let Some(Some(r)) = responses.next().now_or_never() {
        if r.r#type == ResourceType::Document && (frame.is_none() || r.frame_id == frame) {
            document = Some((r.response.status, r.response.url.clone()));
        }
    }
    let (status, sent) =
        document.unwrap_or_else(|| panic!("{what}: no HTTP response for the document"));
    let status = u16::try_from(status).expect("an HTTP status");
    let (mut url, title): (String, String) = tab.eval("[location.href, document.title]").await;
    if status >= 400 {
        let mut documents = lock(&tab.documents);
        documents.push(sent.clone());
        if url.starts_with("chrome-error:") {
            // Chromium's own error page (the status came without a body).
            documents.push(url);
            url = sent;
        } else {
            documents.push(url.clone());
        }
    }
    Visit {
        status,
        url,
        title,
        tab,
    }
}

impl Visit {
    /// The value of the expression `js` (promises awaited), read as `T` (`()` and
    /// `Option` take `undefined`). Runs whatever the page's CSP says.
    pub async fn eval<T: DeserializeOwned>(&self, js: &str) -> T {
        self.tab.eval(js).await
    }

    /// The `innerText` of the first element `selector` matches.
    ///
    /// # Panics
    /// When none does.
    pub async fn text(&self, selector: &str) -> String {
        let found: Option<String> = self
            .eval(&format!(
                "document.querySelector({})?.innerText ?? null",
                js_string(selector)
            ))
            .await;
        found.unwrap_or_else(|| panic!("no element matches `{selector}` on {}", self.url))
    }

    /// The `innerText` of every element `selector` matches, in document order.
    pub async fn texts(&self, selector: &str) -> Vec<String> {
        self.eval(&format!(
            "Array.from(document.querySelectorAll({}), e => e.innerText)",
            js_string(selector)
        ))
        .await
    }

    /// How many elements `selector` matches.
    pub async fn count(&self, selector: &str) -> usize {
        self.eval(&format!(
            "document.querySelectorAll({}).length",
            js_string(selector)
        ))
        .await
    }

    /// Sets the value of the field `selector` matches, as typing would (`input` and
    /// `change` events fired).
    pub async fn fill(&self, selector: &str, value: &str) {
        let found: bool = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({}); if (!e) return false; \
                 e.value = {}; e.dispatchEvent(new Event('input', {{bubbles: true}})); \
                 e.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()",
                js_string(selector),
                js_string(value)
            ))
            .await;
        assert!(found, "no field matches `{selector}` on {}", self.url);
    }

    /// Clicks (real mouse events) the element `selector` matches, and waits for the
    /// page it leads to. The tab's problems carry over.
    pub async fn click(&self, selector: &str) -> Visit {
        let page = self.tab.page.clone();
        let selector = selector.to_owned();
        let what = format!("click `{selector}` on {}", self.url);
        navigate(Arc::clone(&self.tab), &what, async move {
            let element = page
                .find_element(selector)
                .await
                .map_err(|e| e.to_string())?;
            element.click().await.map(drop).map_err(|e| e.to_string())
        })
        .await
    }

    /// Submits the form `selector` matches (`requestSubmit`: validation and `submit`
    /// handlers run), or clicks the submit button it matches, and waits for the result.
    pub async fn submit(&self, selector: &str) -> Visit {
        let js = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return false; \
             if (e instanceof HTMLFormElement) e.requestSubmit(); else e.click(); \
             return true; }})()",
            js_string(selector)
        );
        let tab = Arc::clone(&self.tab);
        let what = format!("submit `{selector}` on {}", self.url);
        navigate(Arc::clone(&self.tab), &what, async move {
            let found: bool = tab.eval(&js).await;
            found
                .then_some(())
                .ok_or_else(|| "no such element".to_owned())
        })
        .await
    }

    /// Saves a PNG of the page at `shot`'s viewport (the whole page when `full_page`),
    /// and returns its bytes.
    pub async fn screenshot(&self, path: impl AsRef<Path>, shot: Shot) -> Vec<u8> {
        let page = &self.tab.page;
        page.execute(SetDeviceMetricsOverrideParams::new(
            i64::from(shot.width),
            i64::from(shot.height),
            1.0,
            false,
        ))
        .await
        .expect("set the viewport");
        let params = ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .full_page(shot.full_page)
            .build();
        let path = path.as_ref();
        page.save_screenshot(params, path)
            .await
            .unwrap_or_else(|e| panic!("cannot save a screenshot to {}: {e}", path.display()))
    }

    /// Every problem the tab had so far, oldest first (late ones collected first).
    pub async fn problems(&self) -> Vec<Problem> {
        // A round trip: the events sent before its answer are then in the streams.
        let _: () = self.tab.eval("undefined").await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        self.tab.drain();
        let mut all = lock(&self.tab.problems).clone();
        all.extend(lock(&self.tab.unreadable).iter().cloned());
        all
    }

    /// Panics listing every problem the tab had, if it had any.
    #[track_caller]
    pub fn assert_clean(&self) -> impl Future<Output = ()> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            let problems = self.problems().await;
            if !problems.is_empty() {
                let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
                panic!(
                    "{} had {} problem(s) (checked at {caller}):\n{}",
                    self.url,
                    problems.len(),
                    list.join("\n")
                );
            }
        }
    }

    /// The chromiumoxide page, for what this module does not offer.
    pub fn page(&self) -> &Page {
        &self.tab.page
    }
}

/// `s` as a JavaScript string literal.
fn js_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// A console argument as the console shows it.
fn describe(arg: &RemoteObject) -> String {
    match (&arg.value, &arg.description) {
        (Some(serde_json::Value::String(s)), _) => s.clone(),
        (Some(v), _) => v.to_string(),
        (None, Some(d)) => d.clone(),
        (None, None) => arg.r#type.as_ref().to_owned(),
    }
}
