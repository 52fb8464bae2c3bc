//! The France Travail client: OAuth2 client credentials (the token kept in memory,
//! renewed before it expires and once on a 401), searches by `range` window, a rate
//! limiter (governor) in front of every request, and the retries every client shares.

use std::time::{Duration, Instant};

use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_RANGE, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::sync::Mutex;
use url::Url;

use super::parse;
use super::query::{OfferQuery, PAGE_SIZE, content_range, page_range};
use crate::http::{FetchError, HttpOptions, Transport, decode_json, with_reauth};
use crate::secret::Secret;

/// The token endpoint, as the original collectors use it.
pub const DEFAULT_AUTH_URL: &str =
    "https://entreprise.francetravail.fr/connexion/oauth2/access_token?realm=/partenaire";
/// The offers API (v2).
pub const DEFAULT_API_URL: &str = "https://api.francetravail.io/partenaire/offresdemploi/v2";
/// The scope the offers API needs.
pub const DEFAULT_SCOPE: &str = "api_offresdemploiv2 o2dsoffre";
/// Requests per second the API allows an application.
pub const DEFAULT_RATE: f64 = 10.0;
/// A token is renewed when less than this is left of it.
const RENEW_BEFORE: Duration = Duration::from_secs(60);
/// Spacing margin over `1 / rate`, so network jitter cannot put `rate + 1` requests in
/// one second on the server's clock.
const RATE_MARGIN: f64 = 1.08;

/// Where and how to reach France Travail.
#[derive(Debug, Clone)]
pub struct FtSettings {
    pub auth_url: String,
    pub api_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub scope: String,
    pub timeout: Duration,
    pub max_retries: u32,
    /// Requests per second, at most.
    pub rate: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum FtError {
    #[error(
        "France Travail refused the client credentials: {error}; check FRANCE_TRAVAIL_CLIENT_ID and FRANCE_TRAVAIL_CLIENT_SECRET"
    )]
    Credentials { error: String },
    #[error("France Travail rejected the token twice (401): {excerpt}")]
    TokenRejected { excerpt: String },
    #[error("France Travail refused the request ({status}): {message}")]
    BadRequest { status: u16, message: String },
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("invalid {what} {url:?}: {reason}")]
    BadUrl {
        what: &'static str,
        url: String,
        reason: String,
    },
    #[error("unexpected answer from {url}: {reason}")]
    Shape { url: String, reason: String },
}

/// One page of a search.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// 200, 206, or 204 (nothing).
    pub status: u16,
    /// The query's total, from `Content-Range` (`None` when absent).
    pub total: Option<u64>,
    pub offers: Vec<Value>,
    /// The body as received (empty for 204), for the raw archive.
    pub raw: Bytes,
}

struct Token {
    header: HeaderValue,
    renew_at: Instant,
}

/// A client with its token and its limiter.
pub struct FtClient {
    transport: Transport,
    settings: FtSettings,
    search_url: Url,
    limiter: DefaultDirectRateLimiter,
    token: Mutex<Option<Token>>,
}

impl std::fmt::Debug for FtClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtClient")
            .field("api", &self.settings.api_url)
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

/// The `error` of an OAuth2 error body (`{"error": "invalid_client"}`), else the excerpt.
fn oauth_error(excerpt: &str) -> String {
    serde_json::from_str::<Value>(excerpt)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| excerpt.to_owned())
}

/// The token and its lifetime in seconds (1499 when the answer does not say) from the
/// token endpoint's answer.
fn read_token(url: &str, body: &[u8]) -> Result<(String, u64), FetchError> {
    let v = decode_json(url, body)?;
    let token = v
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| FetchError::shape(url, "no `access_token` in the answer".to_owned()))?;
    let expires_in = v.get("expires_in").and_then(Value::as_u64).unwrap_or(1499);
    Ok((token.to_owned(), expires_in))
}

/// The `message` of a France Travail error body, else the excerpt.
fn api_message(excerpt: &str) -> String {
    serde_json::from_str::<Value>(excerpt)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| excerpt.to_owned())
}

impl FtClient {
    pub fn new(settings: FtSettings) -> Result<Self, FtError> {
        let bad = |what: &'static str, url: &str, reason: String| FtError::BadUrl {
            what,
            url: url.to_owned(),
            reason,
        };
        Url::parse(&settings.auth_url)
            .map_err(|e| bad("FRANCE_TRAVAIL_AUTH_URL", &settings.auth_url, e.to_string()))?;
        let api = settings.api_url.trim_end_matches('/');
        let search_url = Url::parse(&format!("{api}/offres/search"))
            .map_err(|e| bad("FRANCE_TRAVAIL_API_URL", &settings.api_url, e.to_string()))?;
        if !settings.rate.is_finite() || settings.rate <= 0.0 {
            return Err(bad(
                "rate",
                &settings.rate.to_string(),
                "must be positive".into(),
            ));
        }
        let period = Duration::from_secs_f64(RATE_MARGIN / settings.rate);
        let quota = Quota::with_period(period)
            .ok_or_else(|| bad("rate", &settings.rate.to_string(), "is too high".to_owned()))?;
        let transport = Transport::new(settings.timeout, settings.max_retries)
            .map_err(|e| bad("FRANCE_TRAVAIL_API_URL", &settings.api_url, e))?;
        Ok(FtClient {
            transport,
            search_url,
            limiter: RateLimiter::direct(quota),
            token: Mutex::new(None),
            settings,
        })
    }

    /// The same client with another body cap and other pauses between retries.
    pub fn with_http_options(mut self, options: HttpOptions) -> Self {
        self.transport.set_options(options);
        self
    }

    /// Asks for a token (client credentials, form body). An answer that is not a token
    /// (an HTML page, a cut body, no `access_token`) is asked again, like a 5xx.
    async fn fetch_token(&self) -> Result<Token, FtError> {
        let s = &self.settings;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &s.client_id)
            .append_pair("client_secret", s.client_secret.expose())
            .append_pair("scope", &s.scope)
            .finish();
        let url = s.auth_url.as_str();
        let transport = &self.transport;
        let result = transport
            .retry(|| {
                let request = transport
                    .http
                    .post(url)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(ACCEPT, "application/json")
                    .body(body.clone());
                async move {
                    let (_, _, bytes) = transport.send(request, url).await?;
                    read_token(url, &bytes)
                }
            })
            .await;
        let (token, expires_in) = result.map_err(|e| match e {
            FetchError::Status {
                status: 400 | 401 | 403,
                excerpt,
                ..
            } => FtError::Credentials {
                error: oauth_error(&excerpt),
            },
            FetchError::Shape { url, reason } => FtError::Shape { url, reason },
            other => FtError::Fetch(other),
        })?;
        let lifetime = Duration::from_secs(expires_in);
        let mut header =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| FtError::Shape {
                url: url.to_owned(),
                reason: "the token holds characters an HTTP header cannot carry".to_owned(),
            })?;
        header.set_sensitive(true);
        Ok(Token {
            header,
            renew_at: Instant::now() + lifetime.saturating_sub(RENEW_BEFORE.min(lifetime / 2)),
        })
    }

    /// The current token, renewed when it is about to expire (or `force`d).
    async fn authorization(&self, force: bool) -> Result<HeaderValue, FtError> {
        let mut token = self.token.lock().await;
        if let Some(t) = token.as_ref()
            && !force
            && Instant::now() < t.renew_at
        {
            return Ok(t.header.clone());
        }
        tracing::debug!("asking France Travail for a token");
        let fresh = self.fetch_token().await?;
        let header = fresh.header.clone();
        *token = Some(fresh);
        Ok(header)
    }

    /// Gets a token now: bad credentials show before anything else happens.
    pub async fn authenticate(&self) -> Result<(), FtError> {
        self.authorization(false).await.map(|_| ())
    }

    /// `url` fetched and read by `read` inside the retries (behind the limiter): a 200
    /// that `read` refuses (an HTML maintenance page, a cut answer, JSON of another
    /// shape) is asked again, like a 5xx.
    async fn get<T>(
        &self,
        url: &Url,
        auth: &HeaderValue,
        read: Reader<'_, T>,
    ) -> Result<T, FetchError> {
        let shown = url.as_str();
        let transport = &self.transport;
        transport
            .retry(|| async move {
                self.limiter.until_ready().await;
                let request = transport
                    .http
                    .get(url.clone())
                    .header(AUTHORIZATION, auth.clone())
                    .header(ACCEPT, "application/json");
                let (status, headers, raw) = transport.send(request, shown).await?;
                read(shown, status, &headers, raw)
            })
            .await
    }

    /// `url` fetched with the token, renewed once when it is refused (401): the
    /// answer as `read` reads it, or why the request failed.
    async fn authorized<T>(
        &self,
        url: &Url,
        read: Reader<'_, T>,
    ) -> Result<Result<T, FetchError>, FtError> {
        with_reauth(true, |renew| async move {
            if renew {
                tracing::info!("France Travail rejected the token: asking for a new one");
            }
            let auth = self.authorization(renew).await?;
            Ok::<_, FtError>(self.get(url, &auth, read).await)
        })
        .await
    }

    /// One page of `query`: offers `start..=end` (zero-based).
    pub async fn search(
        &self,
        query: &OfferQuery,
        start: u32,
        end: u32,
    ) -> Result<SearchPage, FtError> {
        let mut url = self.search_url.clone();
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in query.params() {
                q.append_pair(k, &v);
            }
            q.append_pair("range", &format!("{start}-{end}"));
        }
        self.authorized(&url, &read_search_page)
            .await?
            .map_err(request_error)
    }

    /// The details of offer `id` (`offres/{id}`), as the API sends them; `None` when
    /// France Travail has no such offer (204 or 404). An answer that is not that offer
    /// (an HTML page, a cut body, another offer's JSON) is asked again, then refused.
    pub async fn offer(&self, id: &str) -> Result<Option<Value>, FtError> {
        let mut url = self.search_url.clone();
        url.path_segments_mut()
            .map_err(|()| FtError::BadUrl {
                what: "FRANCE_TRAVAIL_API_URL",
                url: self.settings.api_url.clone(),
                reason: "cannot be a base".to_owned(),
            })?
            .pop()
            .push(id);
        let read = |url: &str, status: StatusCode, _: &HeaderMap, raw: Bytes| {
            read_detail(url, status, raw, id)
        };
        match self.authorized(&url, &read).await? {
            Ok(offer) => Ok(offer),
            Err(FetchError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(request_error(e)),
        }
    }
}

/// How an answer is read: from its URL, status, headers and body.
type Reader<'a, T> =
    &'a (dyn Fn(&str, StatusCode, &HeaderMap, Bytes) -> Result<T, FetchError> + Sync);

/// A request's failure as the client reports it: a token refused twice, a request the
/// API refuses (with its message), a body of the wrong shape, or the transport's error.
fn request_error(e: FetchError) -> FtError {
    match e {
        FetchError::Status {
            status: 401,
            excerpt,
            ..
        } => FtError::TokenRejected { excerpt },
        FetchError::Status {
            status: status @ (400 | 404 | 416),
            excerpt,
            ..
        } => FtError::BadRequest {
            status,
            message: api_message(&excerpt),
        },
        FetchError::Shape { url, reason } => FtError::Shape { url, reason },
        other => FtError::Fetch(other),
    }
}

/// An offer's details from a 2xx answer: `None` for a 204 (the offer is gone); any
/// other empty body was cut short, retried like the other cut answers.
fn read_detail(
    url: &str,
    status: StatusCode,
    raw: Bytes,
    id: &str,
) -> Result<Option<Value>, FetchError> {
    if status == StatusCode::NO_CONTENT {
        return Ok(None);
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(FetchError::Undecodable {
            url: url.to_owned(),
            reason: format!("an empty body with status {}", status.as_u16()),
            excerpt: String::new(),
        });
    }
    let offer = parse::detail(decode_json(url, &raw)?, id)
        .map_err(|reason| FetchError::shape(url, reason))?;
    Ok(Some(offer))
}

impl FtClient {
    /// The first page of `query`.
    pub async fn first_page(&self, query: &OfferQuery) -> Result<SearchPage, FtError> {
        self.search(query, 0, PAGE_SIZE - 1).await
    }

    /// The pages of `query` that follow `first` (its first page), `max_pages` in all at
    /// the most.
    pub fn pages_after(
        &self,
        query: &OfferQuery,
        first: &SearchPage,
        max_pages: u32,
    ) -> OfferPages<'_> {
        let mut pages = OfferPages {
            client: self,
            query: query.clone(),
            total: first.total,
            max_pages,
            read: 0,
            ended: false,
        };
        pages.received(first);
        pages
    }
}

/// A cursor over the pages of a query that fits under the cap: `range` windows of
/// [`PAGE_SIZE`] offers, until a short or empty page, the `Content-Range` total, the
/// cap or `max_pages`. Without a total the query is read until a short page.
#[derive(Debug)]
pub struct OfferPages<'a> {
    client: &'a FtClient,
    query: OfferQuery,
    total: Option<u64>,
    max_pages: u32,
    /// Pages received.
    read: u32,
    ended: bool,
}

impl OfferPages<'_> {
    /// Whether a page follows the ones received.
    pub fn has_next(&self) -> bool {
        !self.ended
    }

    /// The next page; `None` after the last one.
    pub async fn next_page(&mut self) -> Option<Result<SearchPage, FtError>> {
        if self.ended {
            return None;
        }
        let (start, end) = page_range(self.read)?;
        let page = self.client.search(&self.query, start, end).await;
        match &page {
            Ok(p) => self.received(p),
            Err(_) => self.ended = true,
        }
        Some(page)
    }

    fn received(&mut self, page: &SearchPage) {
        let count = page.offers.len() as u64;
        self.read += 1;
        let read = u64::from(self.read) * u64::from(PAGE_SIZE);
        self.ended = count == 0
            || count < u64::from(PAGE_SIZE)
            || self.total.is_some_and(|t| read >= t)
            || self.read >= self.max_pages
            || page_range(self.read).is_none();
    }
}

/// A search page from a 2xx answer: the total from `Content-Range`, no offers for a 204
/// (or an empty body whose `Content-Range` says 0). Any other empty body was cut short:
/// retried like the other cut answers.
fn read_search_page(
    url: &str,
    status: StatusCode,
    headers: &HeaderMap,
    raw: Bytes,
) -> Result<SearchPage, FetchError> {
    let total = headers
        .get(CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(content_range)
        .map(|(_, _, total)| total);
    let blank = raw.iter().all(u8::is_ascii_whitespace);
    if blank && status != StatusCode::NO_CONTENT && total != Some(0) {
        return Err(FetchError::Undecodable {
            url: url.to_owned(),
            reason: format!("an empty body with status {}", status.as_u16()),
            excerpt: String::new(),
        });
    }
    if blank {
        return Ok(SearchPage {
            status: status.as_u16(),
            total: total.or(Some(0)),
            offers: Vec::new(),
            raw: Bytes::new(),
        });
    }
    let offers =
        parse::offers(decode_json(url, &raw)?).map_err(|reason| FetchError::shape(url, reason))?;
    Ok(SearchPage {
        status: status.as_u16(),
        total,
        offers,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_answer_without_a_token_is_a_retryable_error() {
        let url = "http://x/token";
        assert_eq!(
            read_token(url, br#"{"access_token": "t", "expires_in": 60}"#).expect("a token"),
            ("t".to_owned(), 60)
        );
        assert_eq!(
            read_token(url, br#"{"access_token": "t"}"#)
                .expect("a token")
                .1,
            1499
        );
        for body in [&b"<html>Maintenance</html>"[..], b"{\"access_tok", b"{}"] {
            let err = read_token(url, body).expect_err("not a token");
            assert!(err.is_retryable(), "{err}");
        }
    }

    #[test]
    fn a_search_page_cut_short_is_a_retryable_error() {
        let url = "http://x/search";
        let headers = HeaderMap::new();
        let read = |status: u16, body: &'static str| {
            let status = StatusCode::from_u16(status).expect("a status");
            read_search_page(url, status, &headers, Bytes::from(body))
        };
        let empty = read(204, "").expect("nothing");
        assert_eq!((empty.offers.len(), empty.total), (0, Some(0)));
        let page = read(206, r#"{"resultats": [{"id": "1"}]}"#).expect("a page");
        assert_eq!(page.offers.len(), 1);
        let err = read(200, r#"{"resultats": [{"id": "1"#).expect_err("cut");
        assert!(matches!(err, FetchError::Undecodable { .. }), "{err}");
        assert!(err.is_retryable());
        let err = read(200, "").expect_err("an empty 200 was cut");
        assert!(err.is_retryable(), "{err}");
    }
}
