//! The Cerema Portail DF client: Bearer token (given, or obtained with a username and
//! password), retries shared with every client (a page is fetched and parsed inside
//! them), and `next` links cleaned of their known quirks and followed (like redirects)
//! only on the configured host.

use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use url::Url;

use super::parse::{self, Page};
use crate::http::{
    Ahead, FetchError, ForeignLink, HttpOptions, LinkError, LinkLoop, Links, Transport,
    decode_json, untrusted_page, with_reauth,
};
use crate::secret::Secret;

/// The Portail DF, as the original scripts call it.
pub const DEFAULT_CEREMA_API_URL: &str = "https://portaildf.cerema.fr";
/// Where a username and password are exchanged for a token (v2, JWT).
const TOKEN_PATH: &str = "api/token/";
/// The legacy exchange (v1), tried when the v2 one does not exist.
const LEGACY_TOKEN_PATH: &str = "api/api-token-auth/";

/// What is synced from the Portail DF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CeremaKind {
    Users,
    Structures,
}

impl CeremaKind {
    /// The name runs, locks and messages use.
    pub fn name(self) -> &'static str {
        match self {
            CeremaKind::Users => "users",
            CeremaKind::Structures => "structures",
        }
    }

    /// The listing's path under the base URL.
    pub fn path(self) -> &'static str {
        match self {
            CeremaKind::Users => "api/utilisateurs/",
            CeremaKind::Structures => "api/structures/",
        }
    }
}

/// How the client proves who it is.
#[derive(Debug, Clone)]
pub enum CeremaAuth {
    /// `CEREMA_API_TOKEN`, sent as `Authorization: Bearer <token>`.
    Token(Secret),
    /// `CEREMA_USERNAME` + `CEREMA_PASSWORD`, exchanged for a token at `/api/token/`.
    Credentials { username: String, password: Secret },
}

/// Where and how to reach the Portail DF.
#[derive(Debug, Clone)]
pub struct CeremaSettings {
    pub base_url: String,
    pub auth: CeremaAuth,
    pub timeout: Duration,
    pub max_retries: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CeremaError {
    #[error(
        "Cerema token rejected (401): {excerpt}; check CEREMA_API_TOKEN (or CEREMA_USERNAME and CEREMA_PASSWORD)"
    )]
    TokenRejected { excerpt: String },
    #[error(
        "the Cerema API refused the username and password ({status}): {excerpt}; \
         check CEREMA_USERNAME and CEREMA_PASSWORD"
    )]
    LoginRefused { status: u16, excerpt: String },
    #[error("the Cerema API refused access ({status}): {excerpt}; does this account see {what}?")]
    Forbidden {
        status: u16,
        excerpt: String,
        what: String,
    },
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    ForeignNext(#[from] ForeignLink),
    #[error(transparent)]
    NextLoop(#[from] LinkLoop),
    #[error("invalid CEREMA_API_URL {url:?}: {reason}")]
    BadBaseUrl { url: String, reason: String },
    #[error("unexpected answer from {url}: {reason}")]
    Shape { url: String, reason: String },
}

/// A client bound to one base URL and one identity. Its clones share the token.
#[derive(Clone)]
pub struct CeremaClient {
    transport: Transport,
    base: Url,
    auth: CeremaAuth,
    /// The `Authorization` value in use (obtained at the first request when logging in).
    header: Arc<Mutex<Option<HeaderValue>>>,
}

impl std::fmt::Debug for CeremaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CeremaClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Cleans a `next` link of the Portail DF's quirks: `#` and `%23` removed, `http://`
/// upgraded to `https://` when the base is https. Relative links are read against
/// `current`. The result must be on the base's origin.
pub fn clean_next(base: &Url, current: &Url, next: &str) -> Result<Url, CeremaError> {
    let cleaned = next
        .trim()
        .replace("%23", "")
        .replace("%2523", "")
        .replace('#', "");
    let mut url = current.join(&cleaned).map_err(|e| CeremaError::Shape {
        url: current.to_string(),
        reason: format!("invalid `next` {next:?}: {e}"),
    })?;
    if base.scheme() == "https" && url.scheme() == "http" {
        let port = url.port();
        // A default port (`:80`) goes with the scheme; an explicit other one stays.
        let _ = url.set_scheme("https");
        if port == Some(80) {
            let _ = url.set_port(None);
        }
    }
    links(base).check(&url)?;
    Ok(url)
}

/// Where the token may go: the base's origin.
fn links(base: &Url) -> Links {
    Links::new(base, "token", "CEREMA_API_URL")
}

impl From<LinkError> for CeremaError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Foreign(e) => CeremaError::ForeignNext(e),
            LinkError::Loop(e) => CeremaError::NextLoop(e),
        }
    }
}

fn header_value(scheme: &str, token: &str) -> Result<HeaderValue, CeremaError> {
    let mut value = HeaderValue::from_str(&format!("{scheme} {}", token.trim())).map_err(|_| {
        CeremaError::TokenRejected {
            excerpt: "the token holds characters an HTTP header cannot carry".to_owned(),
        }
    })?;
    value.set_sensitive(true);
    Ok(value)
}

impl CeremaClient {
    pub fn new(settings: &CeremaSettings) -> Result<Self, CeremaError> {
        let bad = |reason: String| CeremaError::BadBaseUrl {
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
        base.set_query(None);
        base.set_fragment(None);
        let transport = Transport::new(settings.timeout, settings.max_retries).map_err(bad)?;
        let header = match &settings.auth {
            CeremaAuth::Token(token) => Some(header_value("Bearer", token.expose())?),
            CeremaAuth::Credentials { .. } => None,
        };
        Ok(CeremaClient {
            transport,
            base,
            auth: settings.auth.clone(),
            header: Arc::new(Mutex::new(header)),
        })
    }

    /// The same client with another body cap and other pauses between retries.
    pub fn with_http_options(mut self, options: HttpOptions) -> Self {
        self.transport.set_options(options);
        self
    }

    /// The base URL, with a trailing slash.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The first page of a listing.
    pub fn first_page(&self, kind: CeremaKind) -> Result<Url, CeremaError> {
        self.base
            .join(kind.path())
            .map_err(|e| CeremaError::BadBaseUrl {
                url: self.base.to_string(),
                reason: e.to_string(),
            })
    }

    /// The pages of a listing, from its first, one at a time until
    /// [`CeremaPages::concurrency`] says otherwise.
    pub fn pages(&self, kind: CeremaKind) -> Result<CeremaPages, CeremaError> {
        Ok(CeremaPages::new(self.clone(), self.first_page(kind)?, 1))
    }

    /// The pages of a listing from `next` (a link an earlier page gave, cleaned and
    /// checked like any `next`), numbered from `number`: where a saved position resumes.
    pub fn pages_from(
        &self,
        kind: CeremaKind,
        next: &str,
        number: u32,
    ) -> Result<CeremaPages, CeremaError> {
        let url = clean_next(&self.base, &self.first_page(kind)?, next)?;
        Ok(CeremaPages::new(self.clone(), url, number))
    }

    /// POSTs `body` to `{base}/{path}`, with retries.
    async fn post(&self, path: &str, body: &Value) -> Result<Value, FetchError> {
        let url = match self.base.join(path) {
            Ok(u) => u.to_string(),
            Err(e) => {
                return Err(FetchError::Connection {
                    url: format!("{}{path}", self.base),
                    reason: e.to_string(),
                });
            }
        };
        let transport = &self.transport;
        transport
            .retry(|| {
                let request = transport.http.post(&url).json(body);
                let url = url.as_str();
                async move {
                    let (_, _, body) = transport.send(request, url).await?;
                    decode_json(url, &body)
                }
            })
            .await
    }

    /// Exchanges the username and password for a token (v2, then the legacy v1).
    async fn login(&self, username: &str, password: &Secret) -> Result<HeaderValue, CeremaError> {
        let body = json!({ "username": username, "password": password.expose() });
        let refused = |e: FetchError| match e {
            FetchError::Status {
                status: status @ (400 | 401 | 403),
                excerpt,
                ..
            } => CeremaError::LoginRefused { status, excerpt },
            other => CeremaError::Fetch(other),
        };
        let token = |v: &Value, field: &str, path: &str| {
            v.get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| CeremaError::Shape {
                    url: format!("{}{path}", self.base),
                    reason: format!("no `{field}` in the answer"),
                })
        };
        match self.post(TOKEN_PATH, &body).await {
            Ok(v) => header_value("Bearer", &token(&v, "access", TOKEN_PATH)?),
            Err(FetchError::Status { status: 404, .. }) => {
                let v = self.post(LEGACY_TOKEN_PATH, &body).await.map_err(refused)?;
                header_value("Token", &token(&v, "token", LEGACY_TOKEN_PATH)?)
            }
            Err(e) => Err(refused(e)),
        }
    }

    /// The `Authorization` header, logging in first when needed, or again when the
    /// header held is `stale` (a request sent with it was answered 401). Pages asked at
    /// once that all meet an expired token log in once: the others find a new header.
    async fn authorization(&self, stale: Option<&HeaderValue>) -> Result<HeaderValue, CeremaError> {
        let mut header = self.header.lock().await;
        if let Some(h) = header.as_ref().filter(|h| Some(*h) != stale) {
            return Ok(h.clone());
        }
        let value = match &self.auth {
            CeremaAuth::Token(token) => header_value("Bearer", token.expose())?,
            CeremaAuth::Credentials { username, password } => {
                self.login(username, password).await?
            }
        };
        *header = Some(value.clone());
        Ok(value)
    }

    /// One page, fetched and parsed inside the retries: a 200 that is not a page (an
    /// HTML maintenance page, a cut answer, JSON of another shape) is fetched again.
    async fn get_once(
        &self,
        url: &Url,
        auth: HeaderValue,
        how: &Asking<'_>,
    ) -> Result<Page, FetchError> {
        let shown = url.as_str();
        let transport = &self.transport;
        transport
            .retry(|| {
                let request = transport
                    .http
                    .get(url.clone())
                    .header(AUTHORIZATION, auth.clone())
                    .header(ACCEPT, "application/json");
                async move {
                    if let Some(spacing) = how.spacing {
                        spacing.until_ready().await;
                    }
                    let sent = transport.send(request, shown).await;
                    if sent.as_ref().err().is_some_and(FetchError::is_busy) {
                        (how.busy)();
                    }
                    let (_, _, body) = sent?;
                    parse::page(decode_json(shown, &body)?)
                        .map_err(|reason| FetchError::shape(shown, reason))
                }
            })
            .await
    }

    /// GETs one page of a listing (on the base's origin), with retries. With a username
    /// and password, a 401 logs in again once.
    pub async fn page(&self, url: &Url) -> Result<Page, CeremaError> {
        let how = Asking {
            spacing: None,
            busy: &|| {},
        };
        self.page_asked(url, &how).await
    }

    /// [`CeremaClient::page`], each request (retries too) sent after `how.spacing` lets
    /// it, and `how.busy` called at each answer that says the API is overloaded.
    async fn page_asked(&self, url: &Url, how: &Asking<'_>) -> Result<Page, CeremaError> {
        links(&self.base).check(url)?;
        let renewable = matches!(self.auth, CeremaAuth::Credentials { .. });
        let first = self.authorization(None).await?;
        let first = &first;
        let result = with_reauth(renewable, |renew| async move {
            let auth = if renew {
                tracing::info!("the Cerema token expired: logging in again");
                self.authorization(Some(first)).await?
            } else {
                first.clone()
            };
            Ok::<_, CeremaError>(self.get_once(url, auth, how).await)
        })
        .await?;
        result.map_err(|e| match e {
            FetchError::Status {
                status: 401,
                excerpt,
                ..
            } => CeremaError::TokenRejected { excerpt },
            FetchError::Status {
                status: 403,
                excerpt,
                ..
            } => CeremaError::Forbidden {
                status: 403,
                excerpt,
                what: url.path().to_owned(),
            },
            FetchError::Shape { url, reason } => CeremaError::Shape { url, reason },
            other => CeremaError::Fetch(other),
        })
    }
}

/// How a page is asked: after the spacing between requests lets it, telling `busy`
/// of each answer that says the API is overloaded.
struct Asking<'a> {
    spacing: Option<&'a DefaultDirectRateLimiter>,
    busy: &'a (dyn Fn() + Send + Sync),
}

/// A cursor over the pages of a listing: `next` cleaned of its quirks, followed only on
/// the base's origin, and never to a page already fetched. It may ask pages ahead of
/// their `next` links ([`Ahead`]) and still gives them in listing order.
pub struct CeremaPages {
    client: CeremaClient,
    next: Option<Url>,
    /// The origin pages must be on, and the pages fetched.
    links: Links,
    /// The number of the next page.
    number: u32,
    /// Items received by the pages before the next one.
    received: u64,
    /// The least time between the starts of two requests, shared by the pages asked.
    spacing: Option<Arc<DefaultDirectRateLimiter>>,
    /// Pages the cursor may ask ahead in all (`--max-pages`).
    most: Option<u64>,
    ahead: Ahead<Page, CeremaError>,
}

impl std::fmt::Debug for CeremaPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CeremaPages")
            .field("next", &self.next.as_ref().map(Url::as_str))
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

/// One page of a listing.
#[derive(Debug)]
pub struct NumberedPage {
    pub number: u32,
    pub page: Page,
    /// The next page's URL (`next` cleaned and checked), `None` on the last page.
    pub next_url: Option<String>,
}

impl CeremaPages {
    fn new(client: CeremaClient, url: Url, number: u32) -> CeremaPages {
        CeremaPages {
            links: links(&client.base),
            client,
            next: Some(url),
            number,
            received: 0,
            spacing: None,
            most: None,
            ahead: Ahead::new(1),
        }
    }

    /// The same cursor, `received` items already read before its first page (a resumed
    /// listing): what tells how many pages `count` leaves.
    pub fn after_received(mut self, received: u64) -> Self {
        self.received = received;
        self
    }

    /// The same cursor asking up to `pages` pages at once (1: one after the other).
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.ahead = Ahead::new(pages);
        self
    }

    /// The same cursor leaving at least `gap` between the starts of two requests,
    /// whichever page they ask (zero: no spacing).
    pub fn spaced(mut self, gap: Duration) -> Self {
        self.spacing = Quota::with_period(gap).map(|q| Arc::new(RateLimiter::direct(q)));
        self
    }

    /// The same cursor giving at most `pages` pages: it asks none past them.
    pub fn at_most(mut self, pages: u32) -> Self {
        self.most = Some(u64::from(pages));
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

    /// The next page, `None` after the last one (and after an error).
    pub async fn next_page(&mut self) -> Option<Result<NumberedPage, CeremaError>> {
        let url = self.next.take()?;
        let page = self.fetch(url.clone()).await;
        match &page {
            Ok(page) => {
                let items = page.page.results.len() as u64;
                let (next, count) = (self.next.as_ref(), page.page.count);
                // Pages past `--max-pages` are not asked: the count is cut to them.
                let count = match (count, self.most) {
                    (Some(c), Some(most)) => Some(
                        c.min(
                            self.received
                                .saturating_add(most.saturating_sub(1).saturating_mul(items)),
                        ),
                    ),
                    (count, _) => count,
                };
                self.ahead.plan(&url, next, count, items, self.received);
                let (client, spacing) = (&self.client, &self.spacing);
                self.ahead.fill(&self.links, |url, pace| {
                    let (client, spacing) = (client.clone(), spacing.clone());
                    async move {
                        let busy = move || pace.busy();
                        let how = Asking {
                            spacing: spacing.as_deref(),
                            busy: &busy,
                        };
                        client.page_asked(&url, &how).await
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

    async fn fetch(&mut self, url: Url) -> Result<NumberedPage, CeremaError> {
        self.links.fetching(&url)?;
        let how = Asking {
            spacing: self.spacing.as_deref(),
            busy: &|| {},
        };
        let direct = self.client.page_asked(&url, &how);
        let stopped = |reason| CeremaError::Shape {
            url: url.to_string(),
            reason,
        };
        let page = self.ahead.take_or(&url, direct, stopped).await?;
        if let Some(next) = page.next.as_deref() {
            let next = clean_next(&self.client.base, &url, next)?;
            self.links.next(&next)?;
            self.next = Some(next);
        }
        let number = self.number;
        let items = page.results.len() as u64;
        let has_next = self.next.is_some();
        if let Some(reason) = untrusted_page(
            number,
            items,
            page.count,
            self.received,
            has_next,
            "records",
        ) {
            self.next = None;
            return Err(CeremaError::Shape {
                url: url.to_string(),
                reason,
            });
        }
        self.number += 1;
        self.received += items;
        Ok(NumberedPage {
            number,
            page,
            next_url: self.next.as_ref().map(Url::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn next_links_lose_their_quirks() {
        let base = url("https://portaildf.cerema.fr/");
        let current = url("https://portaildf.cerema.fr/api/utilisateurs/?page=1");
        let check = |next: &str, expected: Result<&str, ()>| {
            let got = clean_next(&base, &current, next)
                .map(|u| u.to_string())
                .map_err(|_| ());
            assert_eq!(got, expected.map(str::to_owned), "{next:?}");
        };
        let page2 = "https://portaildf.cerema.fr/api/utilisateurs/?page=2";
        check(
            "http://portaildf.cerema.fr/api/utilisateurs/?page=2",
            Ok(page2),
        );
        check(
            "http://portaildf.cerema.fr/api/utilisateurs/?page=2#",
            Ok(page2),
        );
        check(
            "http://portaildf.cerema.fr/api/utilisateurs/?page=2%23",
            Ok(page2),
        );
        check(
            "http://portaildf.cerema.fr:80/api/utilisateurs/?page=2",
            Ok(page2),
        );
        check(
            "https://portaildf.cerema.fr/api/utilisateurs/?page=%232",
            Ok(page2),
        );
        check("/api/utilisateurs/?page=2#", Ok(page2));
        check("https://evil.example/api/utilisateurs/?page=2", Err(()));
        check(
            "http://portaildf.cerema.fr:8080/api/utilisateurs/?page=2",
            Err(()),
        );
        check(
            "ftp://portaildf.cerema.fr/api/utilisateurs/?page=2",
            Err(()),
        );
    }

    #[test]
    fn an_http_base_is_not_upgraded() {
        let base = url("http://127.0.0.1:8000/");
        let current = url("http://127.0.0.1:8000/api/structures/");
        let next = clean_next(
            &base,
            &current,
            "http://127.0.0.1:8000/api/structures/?page=2%23",
        )
        .expect("same origin");
        assert_eq!(
            next.as_str(),
            "http://127.0.0.1:8000/api/structures/?page=2"
        );
        assert!(
            clean_next(
                &base,
                &current,
                "http://127.0.0.1:9000/api/structures/?page=2"
            )
            .is_err()
        );
    }
}
