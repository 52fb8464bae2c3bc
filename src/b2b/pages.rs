//! The products listing's cursor: pages in listing order, each checked (origin, loops,
//! `count`) before it is given; it may ask pages ahead of their `next` links, a few at
//! a time, and still gives them in listing order.

use bytes::Bytes;
use url::Url;

use super::client::{B2bClient, B2bError};
use super::parse::{self, ProductPage};
use crate::http::{Ahead, FetchError, Links, decode_json, untrusted_page};

/// A cursor over the product pages. Owns its client, so it can run in a task of its own.
/// It may ask pages ahead of their `next` links ([`Ahead`]).
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
    ahead: Ahead<ProductPage, B2bError>,
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
        self.ahead.window()
    }

    /// How many times the API's 429/5xx answers halved the window.
    pub fn slowdowns(&self) -> u32 {
        self.ahead.slowdowns()
    }

    /// The next page, `None` after the last one. After an error, `None` too.
    pub async fn next_page(&mut self) -> Option<Result<NumberedPage, B2bError>> {
        let url = self.next.take()?;
        let page = self.fetch(url.clone()).await;
        match &page {
            Ok(page) => {
                let items = page.page.items.len() as u64;
                let next = self.next.as_ref();
                let count = page.page.count;
                self.ahead.plan(&url, next, count, items, self.received);
                let client = &self.client;
                self.ahead.fill(&self.links, |url, pace| {
                    let client = client.clone();
                    async move {
                        let shown = url.as_str();
                        let read = |body: &Bytes| read_product_page(shown, body);
                        client.get_noting_busy(&url, read, || pace.busy()).await
                    }
                });
            }
            Err(_) => {
                self.next = None;
                self.ahead.clear();
            }
        }
        Some(page)
    }

    async fn fetch(&mut self, url: Url) -> Result<NumberedPage, B2bError> {
        self.links.fetching(&url)?;
        let shown = url.as_str();
        let direct = self
            .client
            .get_parsed(&url, |body| read_product_page(shown, body));
        let stopped = |reason| B2bError::Shape {
            url: url.to_string(),
            reason,
        };
        let page = self.ahead.take_or(&url, direct, stopped).await?;
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
        let items = page.page.items.len() as u64;
        let has_next = page.next_url.is_some();
        if let Some(reason) = untrusted_page(
            page.number,
            items,
            page.page.count,
            self.received,
            has_next,
            "products",
        ) {
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
