//! The products listing's cursor: pages in listing order, each checked (origin, loops,
//! `count`) before it is given; it may ask pages ahead of their `next` links, a few at
//! a time, and still gives them in listing order.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use url::Url;

use super::client::{B2bClient, B2bError};
use super::parse::{self, ProductPage};
use crate::http::{FetchError, Links, PageNumbers, Window, decode_json};

/// A cursor over the product pages. Owns its client, so it can run in a task of its own.
#[derive(Debug)]
pub struct ProductPages {
    client: B2bClient,
    next: Option<Url>,
    /// The origin pages must be on, and the pages fetched.
    links: Links,
    number: u32,
    /// Items received by the pages before the next one.
    received: u64,
    /// The pages asked ahead of `next`.
    ahead: Ahead,
}

/// The pages asked before their `next` link is read: once the cursor's first page
/// shows DRF page numbers ([`PageNumbers`]) and a `count`, the following pages up to
/// the last one `count` implies are asked, at most [`Window::size`] at a time. Each is
/// only used if the previous page's `next` turns out to be its URL; any other `next`
/// drops them all and the cursor follows `next` one page at a time from there.
#[derive(Debug)]
struct Ahead {
    mode: Mode,
    /// Asked, in listing order: a page is taken from the front only.
    queue: VecDeque<Asked>,
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
struct Asked {
    url: Url,
    task: AbortOnDrop,
}

/// A page's fetch, stopped when the page is no longer wanted.
#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<Result<ProductPage, B2bError>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn lock(window: &Mutex<Window>) -> std::sync::MutexGuard<'_, Window> {
    window.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Ahead {
    fn new(max: usize) -> Ahead {
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

    /// The page at `url`, when it was asked ahead; otherwise every page asked is
    /// dropped and, past the first page, the listing is followed one page at a time.
    fn take(&mut self, url: &Url) -> Option<AbortOnDrop> {
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

    /// After the cursor's first page (at `url`, `received` items so far with it):
    /// ask the pages ahead when its `next` shows page numbers and it gives a `count`.
    fn plan(&mut self, url: &Url, page: &NumberedPage, received: u64) {
        if !matches!(self.mode, Mode::Undecided) {
            return;
        }
        self.mode = Mode::Sequential;
        let items = page.page.items.len() as u64;
        let (Some(next), Some(count)) = (page.next_url.as_deref(), page.page.count) else {
            return;
        };
        let Some((numbers, launch)) = Url::parse(next)
            .ok()
            .and_then(|next| PageNumbers::from_link(url, &next))
        else {
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

    /// Asks pages ahead until the window is full or the last page is asked.
    fn fill(&mut self, client: &B2bClient, links: &Links) {
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
            let request = lock(&self.window).launch();
            let (client, window, asked) = (client.clone(), self.window.clone(), url.clone());
            let task = tokio::spawn(async move {
                let shown = asked.as_str();
                let busy = || lock(&window).busy(request);
                let page = client
                    .get_noting_busy(&asked, |body| read_product_page(shown, body), busy)
                    .await;
                if page.is_ok() {
                    lock(&window).done(request);
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

/// A products page from its body. Items stay raw slices of the body; a body the fast
/// reading cannot decide is decoded whole, which also names what is wrong with it.
fn read_product_page(url: &str, body: &Bytes) -> Result<ProductPage, FetchError> {
    match parse::product_page_bytes(body) {
        Some(page) => page,
        None => parse::product_page(decode_json(url, body)?),
    }
    .map_err(|reason| FetchError::shape(url, reason))
}

/// One page, numbered from 1.
#[derive(Debug)]
pub struct NumberedPage {
    pub number: u32,
    pub url: String,
    pub page: ProductPage,
    /// The next page's URL (`next` resolved and checked), `None` on the last page.
    pub next_url: Option<String>,
}

impl ProductPages {
    /// A cursor from `url` (checked on `links`' origin), numbered after `before`, one
    /// page at a time until [`ProductPages::concurrency`] says otherwise.
    pub(super) fn new(client: B2bClient, url: Url, links: Links, before: u32) -> ProductPages {
        ProductPages {
            client,
            next: Some(url),
            links,
            number: before,
            received: 0,
            ahead: Ahead::new(1),
        }
    }

    /// The same cursor, `received` items already read before its first page (a resumed
    /// pass): what the listing's `count` is checked against.
    pub fn after_received(mut self, received: u64) -> Self {
        self.received = received;
        self
    }

    /// The same cursor asking up to `pages` pages at once (1: one after the other).
    /// Pages still come out in listing order, each checked as when fetched alone; the
    /// cursor holds at most `pages` pages besides the one it gives.
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.ahead = Ahead::new(pages);
        self
    }

    /// Pages asked at once now (the window shrinks while the API says it is busy).
    pub fn window(&self) -> usize {
        lock(&self.ahead.window).size()
    }

    /// How many times the API's 429/5xx answers halved the window.
    pub fn slowdowns(&self) -> u32 {
        lock(&self.ahead.window).cuts()
    }

    /// The next page, `None` after the last one. After an error, `None` too.
    pub async fn next_page(&mut self) -> Option<Result<NumberedPage, B2bError>> {
        let url = self.next.take()?;
        let page = self.fetch(url.clone()).await;
        match &page {
            Ok(page) => {
                self.ahead.plan(&url, page, self.received);
                self.ahead.fill(&self.client, &self.links);
            }
            Err(_) => {
                self.next = None;
                self.ahead.queue.clear();
            }
        }
        Some(page)
    }

    async fn fetch(&mut self, url: Url) -> Result<NumberedPage, B2bError> {
        self.links.fetching(&url)?;
        let shown = url.as_str();
        let page = match self.ahead.take(&url) {
            Some(mut asked) => match (&mut asked.0).await {
                Ok(page) => page?,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => {
                    return Err(B2bError::Shape {
                        url: url.to_string(),
                        reason: format!("the page's fetch was stopped: {e}"),
                    });
                }
            },
            None => {
                self.client
                    .get_parsed(&url, |body| read_product_page(shown, body))
                    .await?
            }
        };
        if let Some(next) = page.next.as_deref() {
            let next = url.join(next).map_err(|e| B2bError::Shape {
                url: url.to_string(),
                reason: format!("invalid `next` {next:?}: {e}"),
            })?;
            self.links.next(&next)?;
            self.next = Some(next);
        }
        self.number += 1;
        let page = NumberedPage {
            number: self.number,
            url: url.to_string(),
            page,
            next_url: self.next.as_ref().map(Url::to_string),
        };
        if let Some(reason) = untrusted_page(&page, self.received) {
            self.next = None;
            return Err(B2bError::Shape {
                url: page.url,
                reason,
            });
        }
        self.received += page.page.items.len() as u64;
        Ok(page)
    }
}

/// Why a page the listing cannot go on from, though it parsed, is refused: empty while
/// the listing says there is more (`count` not reached, or a `next` link), or past
/// `count` (an upstream that ignores `page` would be followed forever). An upstream
/// fault, never the end of the listing: the run stops and the next one continues from
/// this page.
fn untrusted_page(page: &NumberedPage, received: u64) -> Option<String> {
    let items = page.page.items.len() as u64;
    let count = page.page.count;
    let reason = if items == 0 && count.is_some_and(|c| received < c) {
        format!(
            "page {} is empty while `count` says {} products and {received} were received",
            page.number,
            count.unwrap_or_default()
        )
    } else if items == 0 && page.next_url.is_some() {
        format!("page {} is empty but links to a next page", page.number)
    } else if let Some(c) = count.filter(|&c| received + items > c) {
        format!(
            "page {} brings the listing to {} products while its `count` says {c}",
            page.number,
            received + items
        )
    } else {
        return None;
    };
    Some(format!(
        "{reason}: stopping here, nothing marked missing (the next run continues from this page)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_is_not_a_products_page_is_a_retryable_error() {
        let read = |body: &'static str| read_product_page("http://x/p", &Bytes::from(body));
        let page = read(r#"{"count": 1, "next": null, "results": [{"id": 1}]}"#).expect("a page");
        assert_eq!(page.items.len(), 1);
        for (body, undecodable) in [
            ("<!DOCTYPE html><html><body>Maintenance</body></html>", true),
            (r#"{"count": 1, "next": null, "results": [{"id""#, true),
            (r#"{"count": 1, "next": null, "results": "none"}"#, false),
            ("42", false),
        ] {
            let err = read(body).expect_err(body);
            assert!(err.is_retryable(), "{err}");
            assert_eq!(
                matches!(err, FetchError::Undecodable { .. }),
                undecodable,
                "{err}"
            );
        }
    }
}
