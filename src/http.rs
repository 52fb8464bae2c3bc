//! HTTP plumbing shared by every upstream client: the one reqwest client and its
//! redirect policy ([`Transport`] with its retries, timeout and body cap), typed fetch
//! errors, bodies read under a size cap, retries with exponential backoff and jitter
//! that honour `Retry-After`, the one rule for a token answered 401 (renewed, the
//! request sent again once), where `next` links may lead ([`Links`]), and what lets a
//! listing be fetched ahead of its `next` links: its page numbers ([`PageNumbers`]) and
//! how many pages may be asked at once ([`Window`]).

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, SystemTime};

use backon::{ExponentialBuilder, Retryable};
use bytes::{Bytes, BytesMut};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

mod listing;
pub use listing::{AbortOnDrop, Ahead, Pace, PageNumbers, Window, untrusted_page};

/// First pause before a retry; doubled at each attempt, with jitter.
pub const RETRY_MIN_DELAY: Duration = Duration::from_millis(500);
/// Longest pause between two attempts, `Retry-After` included.
pub const RETRY_MAX_DELAY: Duration = Duration::from_secs(120);
/// Redirects followed in one chain, all on the origin of its first URL.
pub const MAX_REDIRECTS: usize = 5;
/// Largest answer read by default (`SAGASYNC_MAX_RESPONSE_MB`), in MiB.
pub const DEFAULT_MAX_RESPONSE_MB: u64 = 64;
/// How every client introduces itself.
pub const USER_AGENT: &str = concat!("sagasync/", env!("CARGO_PKG_VERSION"));
const MIB: u64 = 1024 * 1024;
/// How much of a non-2xx body is read (for its excerpt); the rest is left unread.
const ERROR_BODY_BYTES: u64 = 64 * 1024;
/// Most memory reserved up front from a `Content-Length`; past it, the buffer grows.
const PREALLOCATE_BYTES: u64 = 4 * MIB;
/// How much of a response body an error message quotes.
const EXCERPT_CHARS: usize = 160;

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    pub fn new(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            min_delay: RETRY_MIN_DELAY,
            max_delay: RETRY_MAX_DELAY,
        }
    }
}

/// What every client takes besides its own settings: the body cap and the pauses
/// between retries. Given to a client by its `with_http_options`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOptions {
    /// Largest body read from one answer, in bytes.
    pub max_response_bytes: u64,
    pub retry_min_delay: Duration,
    pub retry_max_delay: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions::max_response_mb(DEFAULT_MAX_RESPONSE_MB)
    }
}

impl HttpOptions {
    /// The defaults, with answers capped at `mb` MiB.
    pub fn max_response_mb(mb: u64) -> Self {
        HttpOptions {
            max_response_bytes: mb.saturating_mul(MIB),
            retry_min_delay: RETRY_MIN_DELAY,
            retry_max_delay: RETRY_MAX_DELAY,
        }
    }

    /// `max_retries` retries, paced by these delays.
    pub fn retry_policy(&self, max_retries: u32) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            min_delay: self.retry_min_delay,
            max_delay: self.retry_max_delay,
        }
    }
}

/// Why one request failed. Retryable: timeouts, connection errors, 5xx and 429, and a
/// 200 whose body is not what was expected (a maintenance page, a cut answer). Never
/// retried: a redirect refused, an answer over the size cap, other statuses.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: no answer within the timeout ({}s)", timeout.as_secs_f64())]
    Timeout { url: String, timeout: Duration },
    #[error("{url}: cannot connect: {reason}")]
    Connection { url: String, reason: String },
    #[error("{url}: HTTP {status}: {excerpt}")]
    Status {
        url: String,
        status: u16,
        excerpt: String,
        retry_after: Option<Duration>,
    },
    #[error("{url}: the answer is not the JSON expected ({reason}); it starts with {excerpt:?}")]
    Undecodable {
        url: String,
        reason: String,
        excerpt: String,
    },
    /// JSON, but not of the shape expected (said by the upstream's parse module).
    #[error("unexpected answer from {url}: {reason}")]
    Shape { url: String, reason: String },
    #[error(
        "{url}: redirected to {target}, another origin: not followed (credentials are only sent to {origin})"
    )]
    ForeignRedirect {
        url: String,
        target: String,
        origin: String,
    },
    #[error("{url}: redirected to {target}, already visited: a redirect loop, not followed")]
    RedirectLoop { url: String, target: String },
    #[error("{url}: more than {limit} redirects (the last to {target}): not followed")]
    TooManyRedirects {
        url: String,
        target: String,
        limit: usize,
    },
    #[error(
        "{url}: the answer is larger than {} (SAGASYNC_MAX_RESPONSE_MB): stopped reading",
        size(*limit)
    )]
    TooLarge { url: String, limit: u64 },
}

impl FetchError {
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Timeout { .. }
            | FetchError::Connection { .. }
            | FetchError::Undecodable { .. }
            | FetchError::Shape { .. } => true,
            FetchError::Status { status, .. } => *status >= 500 || *status == 429,
            FetchError::ForeignRedirect { .. }
            | FetchError::RedirectLoop { .. }
            | FetchError::TooManyRedirects { .. }
            | FetchError::TooLarge { .. } => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A body of the wrong shape: `reason` comes from the upstream's parse module.
    pub fn shape(url: &str, reason: String) -> FetchError {
        FetchError::Shape {
            url: url.to_owned(),
            reason,
        }
    }

    /// The upstream says it is overloaded (429, 5xx): a listing fetched ahead slows down.
    pub fn is_busy(&self) -> bool {
        self.status().is_some_and(|s| s == 429 || s >= 500)
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// `bytes` as people read a cap: whole MiB when it is some, else bytes.
fn size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Why a redirect was not followed: the source of reqwest's error, read back by
/// [`transport_error`].
#[derive(Debug, thiserror::Error)]
enum RedirectRefusal {
    #[error("redirected to {target}, another origin than {origin}")]
    Foreign { target: String, origin: String },
    #[error("redirected to {target} again")]
    Loop { target: String },
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooMany { target: String },
}

/// Whether a redirect to `next` is followed, `chain` holding the URLs of the request so
/// far, its first URL first: only on that URL's origin (scheme, host and port), never
/// back to a URL of the chain, at most [`MAX_REDIRECTS`] times.
fn judge_redirect(next: &Url, chain: &[Url]) -> Result<(), RedirectRefusal> {
    let target = || next.to_string();
    if let Some(first) = chain.first()
        && next.origin() != first.origin()
    {
        return Err(RedirectRefusal::Foreign {
            target: target(),
            origin: first.origin().ascii_serialization(),
        });
    }
    if chain.contains(next) {
        return Err(RedirectRefusal::Loop { target: target() });
    }
    if chain.len() > MAX_REDIRECTS {
        return Err(RedirectRefusal::TooMany { target: target() });
    }
    Ok(())
}

/// The reqwest client every upstream client uses (rustls with the ring provider), with
/// the one redirect policy: a redirect that leaves the origin of the request's URL is
/// an error, so no credential (`X-API-Key`, `Authorization`, a form body) ever leaves.
pub fn client() -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        match judge_redirect(attempt.url(), attempt.previous()) {
            Ok(()) => attempt.follow(),
            Err(refusal) => attempt.error(refusal),
        }
    });
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(policy)
        .build()
        .map_err(|e| e.to_string())
}

/// What every upstream client sends its requests with: the one reqwest client, the
/// retry policy, the timeout and the body cap.
#[derive(Debug, Clone)]
pub struct Transport {
    pub http: reqwest::Client,
    pub policy: RetryPolicy,
    pub timeout: Duration,
    pub max_response_bytes: u64,
}

impl Transport {
    /// With the default [`HttpOptions`]; the error says why no client could be built.
    pub fn new(timeout: Duration, max_retries: u32) -> Result<Transport, String> {
        let options = HttpOptions::default();
        Ok(Transport {
            http: client()?,
            policy: options.retry_policy(max_retries),
            timeout,
            max_response_bytes: options.max_response_bytes,
        })
    }

    /// Another body cap and other pauses between retries.
    pub fn set_options(&mut self, options: HttpOptions) {
        self.policy = options.retry_policy(self.policy.max_retries);
        self.max_response_bytes = options.max_response_bytes;
    }

    /// Sends one request under this timeout and body cap (see [`send_bytes`]).
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Bytes), FetchError> {
        send_bytes(request, url, self.timeout, self.max_response_bytes).await
    }

    /// Runs `attempt` under this retry policy (see [`with_retries`]).
    pub async fn retry<T, F, Fut>(&self, attempt: F) -> Result<T, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, FetchError>>,
    {
        with_retries(&self.policy, attempt).await
    }
}

/// A `next` link that leaves the configured origin: never followed, the credential
/// goes nowhere else.
#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to follow `next` to {url}: it is not on {base} (the {credential} is only ever sent to {setting})"
)]
pub struct ForeignLink {
    pub url: String,
    pub base: String,
    /// What would have been sent (`API key`, `token`).
    pub credential: &'static str,
    /// The setting that names the one place it goes (`B2B_API_URL`).
    pub setting: &'static str,
}

/// A listing that links back to a page already fetched.
#[derive(Debug, thiserror::Error)]
#[error("the API sent the page {url} twice: stopping instead of looping forever")]
pub struct LinkLoop {
    pub url: String,
}

/// Where the pages of a listing may lead: the origin of the configured base URL, and
/// never back to a page already fetched (32 bytes kept a page, whatever its URL).
#[derive(Debug, Clone)]
pub struct Links {
    base: Url,
    credential: &'static str,
    setting: &'static str,
    fetched: HashSet<[u8; 32]>,
}

fn url_digest(url: &Url) -> [u8; 32] {
    Sha256::digest(url.as_str()).into()
}

impl Links {
    pub fn new(base: &Url, credential: &'static str, setting: &'static str) -> Links {
        Links {
            base: base.clone(),
            credential,
            setting,
            fetched: HashSet::new(),
        }
    }

    /// Whether `url` is on the base's origin.
    pub fn check(&self, url: &Url) -> Result<(), ForeignLink> {
        if url.origin() == self.base.origin() {
            return Ok(());
        }
        Err(ForeignLink {
            url: url.to_string(),
            base: self.base.origin().ascii_serialization(),
            credential: self.credential,
            setting: self.setting,
        })
    }

    /// Records a page about to be fetched; an error when it was already.
    pub fn fetching(&mut self, url: &Url) -> Result<(), LinkLoop> {
        if self.fetched.insert(url_digest(url)) {
            return Ok(());
        }
        Err(LinkLoop {
            url: url.to_string(),
        })
    }

    /// Checks a page's `next` (resolved): on the origin, and not a page fetched before.
    pub fn next(&self, next: &Url) -> Result<(), LinkError> {
        self.check(next)?;
        if self.fetched.contains(&url_digest(next)) {
            return Err(LinkLoop {
                url: next.to_string(),
            }
            .into());
        }
        Ok(())
    }
}

/// Why a `next` link is not followed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Foreign(#[from] ForeignLink),
    #[error(transparent)]
    Loop(#[from] LinkLoop),
}

/// The first characters of a body, on one line, for error messages.
pub fn excerpt(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= EXCERPT_CHARS {
        return one_line;
    }
    let cut: String = one_line.chars().take(EXCERPT_CHARS).collect();
    format!("{cut}…")
}

/// Reads `Retry-After`: seconds, or an HTTP date (a date in the past means now).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

fn transport_error(url: &str, timeout: Duration, e: &reqwest::Error) -> FetchError {
    if let Some(refusal) = cause::<RedirectRefusal>(e) {
        let url = url.to_owned();
        return match refusal {
            RedirectRefusal::Foreign { target, origin } => FetchError::ForeignRedirect {
                url,
                target: target.clone(),
                origin: origin.clone(),
            },
            RedirectRefusal::Loop { target } => FetchError::RedirectLoop {
                url,
                target: target.clone(),
            },
            RedirectRefusal::TooMany { target } => FetchError::TooManyRedirects {
                url,
                target: target.clone(),
                limit: MAX_REDIRECTS,
            },
        };
    }
    if e.is_timeout() {
        FetchError::Timeout {
            url: url.to_owned(),
            timeout,
        }
    } else {
        // The innermost cause says what went wrong ("Connection refused").
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            reason = s.to_string();
            source = s.source();
        }
        FetchError::Connection {
            url: url.to_owned(),
            reason,
        }
    }
}

/// The first error of type `T` in the chain of `e` (reqwest wraps the policy's error
/// once or twice).
fn cause<'e, T: std::error::Error + 'static>(
    e: &'e (dyn std::error::Error + 'static),
) -> Option<&'e T> {
    let mut current = Some(e);
    while let Some(c) = current {
        if let Some(found) = c.downcast_ref::<T>() {
            return Some(found);
        }
        current = c.source();
    }
    None
}

/// What was read of a body: all of it, or its first `limit` bytes.
enum Read {
    Whole(Bytes),
    Cut(Bytes),
}

/// Reads the body chunk by chunk, stopping past `limit` bytes: memory stays under
/// `limit`, whatever the server sends.
async fn read_at_most(
    response: &mut reqwest::Response,
    limit: u64,
) -> Result<Read, reqwest::Error> {
    let expected = response.content_length().unwrap_or(0).min(limit);
    let mut body = BytesMut::with_capacity(expected.min(PREALLOCATE_BYTES) as usize);
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len() as u64);
        if chunk.len() as u64 > room {
            body.extend_from_slice(&chunk[..room as usize]);
            return Ok(Read::Cut(body.freeze()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Read::Whole(body.freeze()))
}

/// The body of a 2xx answer, refused at once when `Content-Length` says it is over
/// `limit`, and as soon as it passes `limit` otherwise.
async fn read_body(
    response: &mut reqwest::Response,
    url: &str,
    timeout: Duration,
    limit: u64,
) -> Result<Bytes, FetchError> {
    let too_large = || FetchError::TooLarge {
        url: url.to_owned(),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    match read_at_most(response, limit)
        .await
        .map_err(|e| transport_error(url, timeout, &e))?
    {
        Read::Whole(body) => Ok(body),
        Read::Cut(_) => Err(too_large()),
    }
}

/// Sends one request and returns the body of a 2xx answer as bytes, read under
/// `max_bytes` ([`FetchError::TooLarge`] past it). Non-2xx answers become
/// [`FetchError::Status`] with an excerpt of the body; a redirect is only followed on
/// the request's origin (see [`client`]).
pub async fn send_bytes(
    request: reqwest::RequestBuilder,
    url: &str,
    timeout: Duration,
    max_bytes: u64,
) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Bytes), FetchError> {
    let mut response = request
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| transport_error(url, timeout, &e))?;
    let status = response.status();
    let headers = response.headers().clone();
    if status.is_success() {
        let body = read_body(&mut response, url, timeout, max_bytes).await?;
        return Ok((status, headers, body));
    }
    // Only the start matters for the excerpt: the rest is not read.
    let (Read::Whole(start) | Read::Cut(start)) =
        read_at_most(&mut response, ERROR_BODY_BYTES.min(max_bytes))
            .await
            .map_err(|e| transport_error(url, timeout, &e))?;
    let retry_after = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    Err(FetchError::Status {
        url: url.to_owned(),
        status: status.as_u16(),
        excerpt: excerpt(&String::from_utf8_lossy(&start)),
        retry_after,
    })
}

/// Decodes a JSON body; one that is not JSON (an HTML error page, a truncated document)
/// is [`FetchError::Undecodable`] (retried), never "empty".
pub fn decode_json(url: &str, body: &[u8]) -> Result<Value, FetchError> {
    serde_json::from_slice(body).map_err(|e| FetchError::Undecodable {
        url: url.to_owned(),
        reason: e.to_string(),
        excerpt: excerpt(&String::from_utf8_lossy(body)),
    })
}

/// Runs `attempt` until it succeeds, fails for good, or `policy.max_retries` retries
/// are spent. The pause is exponential with jitter, or what `Retry-After` asked for.
pub async fn with_retries<T, F, Fut>(policy: &RetryPolicy, attempt: F) -> Result<T, FetchError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, FetchError>>,
{
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.max_retries as usize)
        .with_jitter();
    let max_delay = policy.max_delay;
    attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(FetchError::is_retryable)
        .adjust(move |e, planned| planned.map(|d| e.retry_after().map_or(d, |r| r.min(max_delay))))
        .notify(|e, pause| tracing::warn!("{e}; retrying in {:.1}s", pause.as_secs_f64()))
        .await
}

/// The one rule for an expired token: `attempt(renew)` authorizes (renewing the
/// token when `renew`) and sends the request; when the first attempt is answered 401
/// and the credentials are `renewable`, it runs again once with `renew == true`, and
/// its answer stands, 401 or not. `attempt` gives `Err(e)` when it could not authorize
/// (returned as is) and `Ok(result)` for the request's outcome.
pub async fn with_reauth<T, E, F, Fut>(
    renewable: bool,
    mut attempt: F,
) -> Result<Result<T, FetchError>, E>
where
    F: FnMut(bool) -> Fut,
    Fut: Future<Output = Result<Result<T, FetchError>, E>>,
{
    let result = attempt(false).await?;
    if renewable && matches!(result, Err(FetchError::Status { status: 401, .. })) {
        return attempt(true).await;
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let check = |v: &str, expected: Option<u64>| {
            assert_eq!(
                parse_retry_after(v, now),
                expected.map(Duration::from_secs),
                "{v:?}"
            );
        };
        check("7", Some(7));
        check(" 0 ", Some(0));
        check("Wed, 21 Oct 2015 07:28:10 GMT", Some(10));
        check("Wed, 21 Oct 2015 07:27:00 GMT", Some(0));
        check("soon", None);
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(
            excerpt("<html>\n  <body>oops</body>\n</html>"),
            "<html> <body>oops</body> </html>"
        );
        let long = "x".repeat(1000);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let status = |s: u16| FetchError::Status {
            url: String::new(),
            status: s,
            excerpt: String::new(),
            retry_after: None,
        };
        assert!(status(500).is_retryable());
        assert!(status(503).is_retryable());
        assert!(status(429).is_retryable());
        assert!(!status(404).is_retryable());
        assert!(!status(403).is_retryable());
        assert!(!status(400).is_retryable());
        let url = String::new;
        let undecodable = FetchError::Undecodable {
            url: url(),
            reason: String::new(),
            excerpt: String::new(),
        };
        assert!(undecodable.is_retryable(), "a maintenance page passes");
        assert!(FetchError::shape("u", String::new()).is_retryable());
        for fatal in [
            FetchError::ForeignRedirect {
                url: url(),
                target: url(),
                origin: url(),
            },
            FetchError::RedirectLoop {
                url: url(),
                target: url(),
            },
            FetchError::TooManyRedirects {
                url: url(),
                target: url(),
                limit: MAX_REDIRECTS,
            },
            FetchError::TooLarge {
                url: url(),
                limit: MIB,
            },
        ] {
            assert!(!fatal.is_retryable(), "{fatal}");
        }
    }

    #[test]
    fn redirects_stay_on_the_first_origin_without_loops() {
        let url = |s: &str| Url::parse(s).expect("test URL");
        let first = url("https://api.example/v1/items/");
        let check = |next: &str, chain: &[Url], expected: &str| {
            let got = match judge_redirect(&url(next), chain) {
                Ok(()) => "follow",
                Err(RedirectRefusal::Foreign { .. }) => "foreign",
                Err(RedirectRefusal::Loop { .. }) => "loop",
                Err(RedirectRefusal::TooMany { .. }) => "too many",
            };
            assert_eq!(got, expected, "{next} after {chain:?}");
        };
        let one = std::slice::from_ref(&first);
        check("https://api.example/v1/items/?page=1", one, "follow");
        check("https://api.example:443/v2/items/", one, "follow");
        check("https://api.example:8443/v1/items/", one, "foreign");
        check("http://api.example/v1/items/", one, "foreign");
        check("https://evil.example/v1/items/", one, "foreign");
        check("https://sub.api.example/v1/items/", one, "foreign");
        check("https://api.example/v1/items/", one, "loop");
        let hop = url("https://api.example/v2/items/");
        check(
            "https://api.example/v1/items/",
            &[first.clone(), hop.clone()],
            "loop",
        );
        // The first URL decides, not the last hop.
        check(
            "https://api.example/v3/items/",
            &[first.clone(), url("https://other.example/")],
            "follow",
        );
        let chain = |n: usize| -> Vec<Url> {
            (0..n)
                .map(|i| url(&format!("https://api.example/hop/{i}")))
                .collect()
        };
        check("https://api.example/last", &chain(MAX_REDIRECTS), "follow");
        check(
            "https://api.example/last",
            &chain(MAX_REDIRECTS + 1),
            "too many",
        );
    }

    #[test]
    fn caps_are_shown_in_mib_when_whole() {
        assert_eq!(size(64 * MIB), "64 MiB");
        assert_eq!(size(1000), "1000 bytes");
        let e = FetchError::TooLarge {
            url: "http://x/y".into(),
            limit: 64 * MIB,
        };
        assert_eq!(
            e.to_string(),
            "http://x/y: the answer is larger than 64 MiB (SAGASYNC_MAX_RESPONSE_MB): stopped reading"
        );
    }

    /// A request's outcome for an answer of `status`.
    fn answer(status: u16) -> Result<(), FetchError> {
        match status {
            200 => Ok(()),
            _ => Err(FetchError::Status {
                url: "http://x/".to_owned(),
                status,
                excerpt: String::new(),
                retry_after: None,
            }),
        }
    }

    #[tokio::test]
    async fn a_401_renews_once_and_only_when_the_token_can_be_renewed() {
        // Each case: renewable, the answers in order, the `renew` of each attempt made.
        let cases: [(bool, &[u16], &[bool]); 5] = [
            (true, &[200], &[false]),
            (true, &[401, 200], &[false, true]),
            (true, &[401, 401], &[false, true]),
            (false, &[401], &[false]),
            (true, &[403], &[false]),
        ];
        for (renewable, answers, expected) in cases {
            let mut made = Vec::new();
            let result = with_reauth(renewable, |renew| {
                let status = answers[made.len()];
                made.push(renew);
                async move { Ok::<_, ()>(answer(status)) }
            })
            .await
            .expect("authorized");
            assert_eq!(made, expected, "{renewable} {answers:?}");
            assert_eq!(result.is_ok(), answers.last() == Some(&200));
        }
    }

    #[tokio::test]
    async fn a_failed_renewal_is_returned_as_is() {
        let result = with_reauth(true, |renew| async move {
            if renew {
                Err("login refused")
            } else {
                Ok(answer(401))
            }
        })
        .await;
        assert_eq!(result.err(), Some("login refused"));
    }
}
