//! The B2B inventory API client: the active key in `X-API-Key`, retries (a page is
//! fetched and parsed inside them), typed errors, and `next` links (and redirects)
//! followed only on the configured origin.

use std::time::Duration;

use bytes::Bytes;

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use serde_json::Value;
use url::Url;

use super::pages::ProductPages;
use super::parse;
use crate::http::{
    FetchError, ForeignLink, HttpOptions, LinkError, LinkLoop, Links, Transport, decode_json,
};
use crate::secret::Secret;

/// The key the client sends in `X-API-Key`, with what names it. The key store's
/// `keys::ActiveKey` converts into it: the client does not know where keys are kept.
#[derive(Debug, Clone)]
pub struct Credential {
    /// How messages name the key (`key 3 "Clé principale"`); never the key itself.
    pub label: String,
    /// The key's name, recorded with the runs that use it.
    pub name: String,
    /// The stored key's id, for the sync to mark it used; `None` for a key that is not
    /// stored (the environment fallback, the sandbox's).
    pub stored_id: Option<i32>,
    pub secret: Secret,
}

/// Where and how to reach the B2B inventory.
#[derive(Debug, Clone)]
pub struct B2bSettings {
    pub base_url: String,
    pub timeout: Duration,
    pub max_retries: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum B2bError {
    /// 401/403: the key is wrong or revoked. Names the key, never shows it.
    #[error("the API rejected {key} ({status}): {excerpt}")]
    Rejected {
        key: String,
        status: u16,
        excerpt: String,
    },
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    ForeignNext(#[from] ForeignLink),
    #[error(transparent)]
    NextLoop(#[from] LinkLoop),
    #[error("invalid B2B_API_URL {url:?}: {reason}")]
    BadBaseUrl { url: String, reason: String },
    #[error("unexpected answer from {url}: {reason}")]
    Shape { url: String, reason: String },
}

/// A client bound to one base URL and one key. Cheap to clone.
#[derive(Clone)]
pub struct B2bClient {
    transport: Transport,
    base: Url,
    key: Credential,
}

impl std::fmt::Debug for B2bClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("B2bClient")
            .field("base", &self.base.as_str())
            .field("key", &self.key.label)
            .finish_non_exhaustive()
    }
}

impl B2bClient {
    pub fn new(settings: &B2bSettings, key: impl Into<Credential>) -> Result<Self, B2bError> {
        let bad = |reason: String| B2bError::BadBaseUrl {
            url: settings.base_url.clone(),
            reason,
        };
        let mut base = Url::parse(settings.base_url.trim()).map_err(|e| bad(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(bad("not an http(s) URL".to_owned()));
        }
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(B2bClient {
            transport: Transport::new(settings.timeout, settings.max_retries).map_err(bad)?,
            base,
            key: key.into(),
        })
    }

    /// The same client with another body cap and other pauses between retries.
    pub fn with_http_options(mut self, options: HttpOptions) -> Self {
        self.transport.set_options(options);
        self
    }

    /// Where this client's links may lead: its base's origin.
    fn links(&self) -> Links {
        Links::new(&self.base, "API key", "B2B_API_URL")
    }

    pub fn key(&self) -> &Credential {
        &self.key
    }

    /// `{base}/{endpoint}`.
    pub fn endpoint_url(&self, endpoint: &str) -> Result<Url, B2bError> {
        self.base
            .join(endpoint.trim_start_matches('/'))
            .map_err(|e| B2bError::BadBaseUrl {
                url: format!("{}{endpoint}", self.base),
                reason: e.to_string(),
            })
    }

    fn headers(&self) -> Result<HeaderMap, B2bError> {
        let mut headers = HeaderMap::new();
        let mut value =
            HeaderValue::from_str(self.key.secret.expose()).map_err(|_| B2bError::Rejected {
                key: self.key.label.clone(),
                status: 0,
                excerpt: "the key holds characters an HTTP header cannot carry".to_owned(),
            })?;
        value.set_sensitive(true);
        headers.insert("X-API-Key", value);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        Ok(headers)
    }

    /// GETs `url` (which must be on the base's origin) and decodes its JSON, with retries.
    pub async fn get(&self, url: &Url) -> Result<Value, B2bError> {
        let shown = url.as_str();
        self.get_parsed(url, |body| decode_json(shown, body)).await
    }

    /// GETs `url` (which must be on the base's origin), with retries: the body of a 2xx
    /// answer, not decoded.
    pub async fn get_bytes(&self, url: &Url) -> Result<Bytes, B2bError> {
        self.get_parsed(url, |body| Ok(body.clone())).await
    }

    /// GETs `url` (which must be on the base's origin) and reads its body with `read`,
    /// both inside the retries: a 200 that `read` refuses (an HTML maintenance page, a
    /// cut answer: [`FetchError::Undecodable`]; JSON of the wrong shape:
    /// [`FetchError::Shape`]) is fetched again like a 5xx. When the retries are spent,
    /// a wrong shape ends as [`B2bError::Shape`].
    pub async fn get_parsed<T>(
        &self,
        url: &Url,
        read: impl Fn(&Bytes) -> Result<T, FetchError>,
    ) -> Result<T, B2bError> {
        self.get_noting_busy(url, read, || {}).await
    }

    /// [`B2bClient::get_parsed`], calling `busy` at each answer that says the API is
    /// overloaded (429, 5xx), retried or not.
    pub(super) async fn get_noting_busy<T>(
        &self,
        url: &Url,
        read: impl Fn(&Bytes) -> Result<T, FetchError>,
        busy: impl Fn(),
    ) -> Result<T, B2bError> {
        self.links().check(url)?;
        let headers = self.headers()?;
        let shown = url.as_str();
        let (read, busy) = (&read, &busy);
        let transport = &self.transport;
        let result = transport
            .retry(|| {
                let request = transport.http.get(url.clone()).headers(headers.clone());
                async move {
                    let sent = transport.send(request, shown).await;
                    if sent.as_ref().err().is_some_and(FetchError::is_busy) {
                        busy();
                    }
                    let (_, _, body) = sent?;
                    read(&body)
                }
            })
            .await;
        result.map_err(|e| match e {
            FetchError::Status {
                status: status @ (401 | 403),
                excerpt,
                ..
            } => B2bError::Rejected {
                key: self.key.label.clone(),
                status,
                excerpt,
            },
            FetchError::Shape { url, reason } => B2bError::Shape { url, reason },
            other => B2bError::Fetch(other),
        })
    }

    /// Every category (bare list, `results` or `categories`; nested `children` flattened).
    pub async fn categories(&self, endpoint: &str) -> Result<Vec<Value>, B2bError> {
        let url = self.endpoint_url(endpoint)?;
        let shown = url.as_str();
        let items = self
            .get_parsed(&url, |body| {
                parse::list_items(decode_json(shown, body)?, &["results", "categories"])
                    .map_err(|reason| FetchError::shape(shown, reason))
            })
            .await?;
        Ok(parse::flatten_categories(items))
    }

    /// The URL of the products listing's first page.
    pub fn first_products_url(
        &self,
        endpoint: &str,
        page_size: u32,
        site_id: Option<i64>,
    ) -> Result<Url, B2bError> {
        let mut url = self.endpoint_url(endpoint)?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("page", "1")
                .append_pair("page_size", &page_size.to_string());
            if let Some(site) = site_id {
                q.append_pair("site_id", &site.to_string());
            }
        }
        Ok(url)
    }

    /// Page 1 of the products listing with one product in it: the smallest request
    /// that shows the API answers this key. The listing's `count`, when it gives one.
    pub async fn probe(&self, endpoint: &str) -> Result<Option<u64>, B2bError> {
        let url = self.first_products_url(endpoint, 1, None)?;
        let shown = url.as_str();
        let page = self
            .get_parsed(&url, |body| {
                parse::product_page(decode_json(shown, body)?)
                    .map_err(|reason| FetchError::shape(shown, reason))
            })
            .await?;
        Ok(page.count)
    }

    /// The pages of the products listing, from page 1, following `next`.
    pub fn product_pages(
        &self,
        endpoint: &str,
        page_size: u32,
        site_id: Option<i64>,
    ) -> Result<ProductPages, B2bError> {
        let url = self.first_products_url(endpoint, page_size, site_id)?;
        self.product_pages_from(url.as_str(), 0)
    }

    /// The pages of the products listing from `url` (a page a `next` link gave, on the
    /// base's origin), numbered after `before`: where a saved position resumes.
    pub fn product_pages_from(&self, url: &str, before: u32) -> Result<ProductPages, B2bError> {
        let url = Url::parse(url).map_err(|e| B2bError::Shape {
            url: url.to_owned(),
            reason: format!("not a URL: {e}"),
        })?;
        let links = self.links();
        links.check(&url)?;
        Ok(ProductPages::new(self.clone(), url, links, before))
    }
}

impl From<LinkError> for B2bError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Foreign(e) => B2bError::ForeignNext(e),
            LinkError::Loop(e) => B2bError::NextLoop(e),
        }
    }
}
