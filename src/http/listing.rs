//! What lets a listing be fetched ahead of its `next` links: the page numbers its links
//! show ([`PageNumbers`]), how many pages may be asked at once ([`Window`]), and the
//! pages asked ahead themselves ([`Ahead`]), which every DRF listing's cursor uses.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use url::Url;

use super::Links;

/// The pages of a listing numbered by a `page` query parameter (Django REST
/// framework's `PageNumberPagination`): once a page's `next` is that page's URL with
/// `page` one higher and nothing else changed, the URL of every later page is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageNumbers {
    /// The `next` link the pattern was read from; its other parameters stay as written.
    template: Url,
}

/// The raw `page=N` segment of a query, when there is exactly one.
fn page_segment(query: &str) -> Option<(usize, u64)> {
    let mut found = None;
    for (i, segment) in query.split('&').enumerate() {
        let (key, value) = segment.split_once('=').unwrap_or((segment, ""));
        if key == "page" {
            if found.is_some() {
                return None;
            }
            found = Some((i, value.parse::<u64>().ok()?));
        }
    }
    found
}

/// Whether a URL's query names `page` at all.
fn has_page(url: &Url) -> bool {
    url.query_pairs().any(|(k, _)| k == "page")
}

/// A query's parameters other than `page`, decoded and sorted: equal for two pages of
/// one listing, whatever order the server writes them in.
fn other_parameters(url: &Url) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    pairs
}

impl PageNumbers {
    /// The numbering of a listing when `next` (resolved, the link a page at `url` gave)
    /// is `url` with its `page` one higher and nothing else changed; with the number
    /// of `next`. `None` for any other link (a cursor, an offset, another path).
    pub fn from_link(url: &Url, next: &Url) -> Option<(PageNumbers, u64)> {
        let up_to_path = |u: &Url| u[..url::Position::AfterPath].to_owned();
        if up_to_path(url) != up_to_path(next)
            || url.fragment().is_some()
            || next.fragment().is_some()
        {
            return None;
        }
        // A listing's first page is often asked without a `page` (DRF's own links
        // to it drop the parameter): it is page 1.
        let current = match url.query().map(page_segment) {
            Some(Some((_, n))) => n,
            Some(None) if !has_page(url) => 1,
            None => 1,
            Some(None) => return None,
        };
        let (_, number) = page_segment(next.query()?)?;
        if current.checked_add(1) != Some(number) || other_parameters(url) != other_parameters(next)
        {
            return None;
        }
        let numbers = PageNumbers {
            template: next.clone(),
        };
        Some((numbers, number))
    }

    /// The URL of page `number`: the template's query with only its `page` rewritten.
    pub fn url(&self, number: u64) -> Url {
        let mut url = self.template.clone();
        let query = url.query().unwrap_or_default();
        let rewritten: Vec<String> = query
            .split('&')
            .map(|segment| match segment.split_once('=') {
                Some(("page", _)) => format!("page={number}"),
                _ => segment.to_owned(),
            })
            .collect();
        url.set_query(Some(&rewritten.join("&")));
        url
    }
}

/// How many pages of one listing may be asked at once: at most `max`, halved when the
/// upstream answers 429 or 5xx (once per round: the answers of requests sent before a
/// cut do not cut again), and one more after a window's worth of pages came back
/// without one, up to `max` again. Shared by the requests of a listing.
#[derive(Debug)]
pub struct Window {
    max: usize,
    size: usize,
    /// Requests launched so far; each is numbered by the count before it.
    launched: u64,
    /// Requests numbered below this were sent before the last cut.
    cut_before: u64,
    /// Pages received without a busy answer since the size last changed.
    calm: usize,
    cuts: u32,
}

impl Window {
    pub fn new(max: usize) -> Window {
        let max = max.max(1);
        Window {
            max,
            size: max,
            launched: 0,
            cut_before: 0,
            calm: 0,
            cuts: 0,
        }
    }

    /// Pages that may be asked at once now.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many times the window was halved.
    pub fn cuts(&self) -> u32 {
        self.cuts
    }

    /// A request is sent: its number, for [`Window::busy`] and [`Window::done`].
    pub fn launch(&mut self) -> u64 {
        self.launched += 1;
        self.launched - 1
    }

    /// Request `request` was answered 429 or 5xx.
    pub fn busy(&mut self, request: u64) {
        if request < self.cut_before {
            return;
        }
        let size = (self.size / 2).max(1);
        tracing::info!(
            "the API is busy: {size} page(s) at a time (was {})",
            self.size
        );
        self.size = size;
        self.cut_before = self.launched;
        self.calm = 0;
        self.cuts += 1;
    }

    /// Request `request` brought its page.
    pub fn done(&mut self, request: u64) {
        if request < self.cut_before || self.size == self.max {
            return;
        }
        self.calm += 1;
        if self.calm >= self.size {
            self.size += 1;
            self.calm = 0;
        }
    }
}

/// Why a listing's page `number` (`items` items, `received` before it, the listing's
/// `count`, a `next` link or not; `noun` names the items), though it parsed, is refused: empty while the
/// listing says there is more (`count` not reached, or a `next` link), or past `count`
/// (an upstream that ignores `page` would be followed forever). An upstream fault,
/// never the end of the listing: the run stops and the next one continues from this
/// page. Every listing cursor applies it to each page it gives.
pub fn untrusted_page(
    number: u32,
    items: u64,
    count: Option<u64>,
    received: u64,
    has_next: bool,
    noun: &str,
) -> Option<String> {
    let reason = if items == 0 && count.is_some_and(|c| received < c) {
        format!(
            "page {number} is empty while `count` says {} {noun} and {received} were received",
            count.unwrap_or_default()
        )
    } else if items == 0 && has_next {
        format!("page {number} is empty but links to a next page")
    } else if let Some(c) = count.filter(|&c| received + items > c) {
        format!(
            "page {number} brings the listing to {} {noun} while its `count` says {c}",
            received + items
        )
    } else {
        return None;
    };
    Some(format!(
        "{reason}: stopping here, nothing marked missing (the next run continues from this page)"
    ))
}

fn lock(window: &Mutex<Window>) -> MutexGuard<'_, Window> {
    window.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The pages of a listing asked before their `next` link is read: once the cursor's
/// first page shows DRF page numbers ([`PageNumbers`]) and a `count`, the following
/// pages up to the last one `count` implies are asked, at most [`Window::size`] at a
/// time. Each is only used if the previous page's `next` turns out to be its URL; any
/// other `next` drops them all and the cursor follows `next` one page at a time from
/// there. `P` is a page as the cursor reads it, `E` its error.
#[derive(Debug)]
pub struct Ahead<P, E> {
    mode: Mode,
    /// Asked, in listing order: a page is taken from the front only.
    queue: VecDeque<Asked<P, E>>,
    window: Arc<Mutex<Window>>,
}

#[derive(Debug)]
enum Mode {
    /// The cursor's first page is not read yet.
    Undecided,
    /// Pages `launch..=last` are still to be asked.
    Numbered {
        numbers: PageNumbers,
        launch: u64,
        last: u64,
    },
    /// Follow `next`, one page at a time.
    Sequential,
}

/// A page asked ahead: its URL and the task fetching and reading it.
#[derive(Debug)]
struct Asked<P, E> {
    url: Url,
    task: AbortOnDrop<Result<P, E>>,
}

/// A task (a page's fetch, a listing's fetcher), stopped when it is no longer wanted.
#[derive(Debug)]
pub struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> AbortOnDrop<T> {
    /// `task`, stopped when the result is dropped.
    pub fn new(task: tokio::task::JoinHandle<T>) -> Self {
        AbortOnDrop(task)
    }

    /// The task's outcome; `Err` (why) when it was stopped. A panic in it goes on here.
    async fn outcome(mut self) -> Result<T, String> {
        match (&mut self.0).await {
            Ok(value) => Ok(value),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(format!("the page's fetch was stopped: {e}")),
        }
    }
}

/// What a page asked ahead tells the window: call [`Pace::busy`] at each answer that
/// says the upstream is overloaded (429, 5xx), retried or not.
#[derive(Debug, Clone)]
pub struct Pace {
    window: Arc<Mutex<Window>>,
    request: u64,
}

impl Pace {
    pub fn busy(&self) {
        lock(&self.window).busy(self.request);
    }
}

impl<P: Send + 'static, E: Send + 'static> Ahead<P, E> {
    /// Up to `max` pages at once; 1 (or 0) never asks ahead.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Ahead {
            mode: if max == 1 {
                Mode::Sequential
            } else {
                Mode::Undecided
            },
            queue: VecDeque::new(),
            window: Arc::new(Mutex::new(Window::new(max))),
        }
    }

    /// Pages asked at once now.
    pub fn window(&self) -> usize {
        lock(&self.window).size()
    }

    /// How many times busy answers halved the window.
    pub fn slowdowns(&self) -> u32 {
        lock(&self.window).cuts()
    }

    /// Drops every page asked (after an error: the cursor ends).
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// The page at `url`, when it was asked ahead; otherwise every page asked is
    /// dropped and, past the first page, the listing is followed one page at a time.
    fn take(&mut self, url: &Url) -> Option<AbortOnDrop<Result<P, E>>> {
        if self.queue.front().is_some_and(|a| a.url == *url) {
            return self.queue.pop_front().map(|a| a.task);
        }
        if matches!(self.mode, Mode::Numbered { .. }) {
            tracing::info!(
                "the listing's next page {url} is not the one its page numbers predicted: \
                 following `next` one page at a time"
            );
            self.mode = Mode::Sequential;
        }
        self.queue.clear();
        None
    }

    /// The page at `url`: the one asked ahead when it was (`stopped` names the error of
    /// a fetch that was stopped), else what `direct` fetches now.
    pub async fn take_or(
        &mut self,
        url: &Url,
        direct: impl Future<Output = Result<P, E>>,
        stopped: impl FnOnce(String) -> E,
    ) -> Result<P, E> {
        match self.take(url) {
            Some(asked) => asked
                .outcome()
                .await
                .unwrap_or_else(|why| Err(stopped(why))),
            None => direct.await,
        }
    }

    /// After the cursor's first page, at `url`, with `items` items, its `next` (resolved
    /// and checked) and its `count`, `received` items so far (its own included): plans the pages ahead
    /// when `next` shows page numbers and `count` says how many pages are left.
    pub fn plan(
        &mut self,
        url: &Url,
        next: Option<&Url>,
        count: Option<u64>,
        items: u64,
        received: u64,
    ) {
        if !matches!(self.mode, Mode::Undecided) {
            return;
        }
        self.mode = Mode::Sequential;
        let (Some(next), Some(count)) = (next, count) else {
            return;
        };
        let Some((numbers, launch)) = PageNumbers::from_link(url, next) else {
            tracing::debug!("`next` has no page number to predict: one page at a time");
            return;
        };
        if items == 0 {
            return;
        }
        let pages_left = count.saturating_sub(received).div_ceil(items);
        if pages_left > 0 {
            let last = launch.saturating_add(pages_left - 1);
            self.mode = Mode::Numbered {
                numbers,
                launch,
                last,
            };
        }
    }

    /// Asks pages ahead until the window is full or the last page is asked: `fetch(url,
    /// pace)` fetches and reads one page (only URLs `links` accepts), in a task of its own.
    pub fn fill<F, Fut>(&mut self, links: &Links, fetch: F)
    where
        F: Fn(Url, Pace) -> Fut,
        Fut: Future<Output = Result<P, E>> + Send + 'static,
    {
        let Mode::Numbered {
            numbers,
            launch,
            last,
        } = &mut self.mode
        else {
            return;
        };
        while *launch <= *last && self.queue.len() < lock(&self.window).size() {
            let url = numbers.url(*launch);
            if links.check(&url).is_err() {
                return;
            }
            *launch += 1;
            let pace = Pace {
                window: self.window.clone(),
                request: lock(&self.window).launch(),
            };
            let page = fetch(url.clone(), pace.clone());
            let task = tokio::spawn(async move {
                let page = page.await;
                if page.is_ok() {
                    lock(&pace.window).done(pace.request);
                }
                page
            });
            self.queue.push_back(Asked {
                url,
                task: AbortOnDrop(task),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_read_only_from_a_link_that_changes_the_page_alone() {
        let url = |s: &str| Url::parse(s).expect("test URL");
        let check = |current: &str, next: &str, expected: Option<(u64, &str)>| {
            let got = PageNumbers::from_link(&url(current), &url(next))
                .map(|(numbers, n)| (n, numbers.url(n + 1).to_string()));
            let expected = expected.map(|(n, u)| (n, u.to_owned()));
            assert_eq!(got, expected, "{current} -> {next}");
        };
        let a = "https://x.example/api/p/";
        check(
            &format!("{a}?page=1&page_size=100"),
            &format!("{a}?page=2&page_size=100"),
            Some((2, &format!("{a}?page=3&page_size=100"))),
        );
        // The server's order and spelling of the other parameters are kept.
        check(
            &format!("{a}?page=4&page_size=100&site_id=3"),
            &format!("{a}?site_id=3&page_size=100&page=5"),
            Some((5, &format!("{a}?site_id=3&page_size=100&page=6"))),
        );
        // A first page asked without `page` is page 1.
        check(a, &format!("{a}?page=2"), Some((2, &format!("{a}?page=3"))));
        check(
            &format!("{a}?page_size=100"),
            &format!("{a}?page=2&page_size=100"),
            Some((2, &format!("{a}?page=3&page_size=100"))),
        );
        check(
            &format!("{a}?page=1&q=caf%C3%A9"),
            &format!("{a}?page=2&q=caf%C3%A9"),
            Some((2, &format!("{a}?page=3&q=caf%C3%A9"))),
        );
        for (current, next) in [
            ("?page=1", "?page=3"),
            ("?page=2", "?page=2"),
            ("?page=1&page_size=100", "?page=2&page_size=50"),
            ("?page=1", "?page=2&site_id=1"),
            ("?page=1", "?cursor=cD0yMDIz"),
            ("?offset=0&limit=100", "?offset=100&limit=100"),
            ("?page=1", "?page=two"),
            ("?page=1&page=1", "?page=2&page=2"),
            ("", "?page=3"),
            ("?page_size=100", "?page=2&page_size=50"),
            ("?page=", "?page=2"),
        ] {
            check(&format!("{a}{current}"), &format!("{a}{next}"), None);
        }
        check(
            &format!("{a}?page=1"),
            "https://x.example/api/q/?page=2",
            None,
        );
        check(
            &format!("{a}?page=1"),
            "https://y.example/api/p/?page=2",
            None,
        );
        check(&format!("{a}?page=1"), &format!("{a}?page=2#top"), None);
    }

    #[test]
    fn the_window_halves_once_per_round_and_grows_back_slowly() {
        let mut w = Window::new(8);
        let sent: Vec<u64> = (0..8).map(|_| w.launch()).collect();
        // Four answers of the same round say busy: one cut.
        for &r in &sent[..4] {
            w.busy(r);
        }
        assert_eq!((w.size(), w.cuts()), (4, 1));
        // Pages of the round before the cut do not count as calm.
        for &r in &sent[4..] {
            w.done(r);
        }
        assert_eq!(w.size(), 4);
        // A request sent after the cut says busy: a second cut.
        let late = w.launch();
        w.busy(late);
        assert_eq!((w.size(), w.cuts()), (2, 2));
        w.busy(late);
        assert_eq!(w.size(), 2, "the same round cuts once");
        // One more after a window's worth of calm pages, never past the maximum.
        let mut grown = Vec::new();
        for _ in 0..40 {
            let r = w.launch();
            w.done(r);
            grown.push(w.size());
        }
        assert_eq!(&grown[..6], &[2, 3, 3, 3, 4, 4]);
        assert_eq!(grown.last(), Some(&8));
        let mut one = Window::new(1);
        let r = one.launch();
        one.busy(r);
        assert_eq!(one.size(), 1, "never below one");
        assert_eq!(Window::new(0).size(), 1);
    }
}
