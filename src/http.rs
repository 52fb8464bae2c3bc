//! HTTP plumbing shared by every upstream client: typed fetch errors, one JSON GET, and
//! retries with exponential backoff and jitter that honour `Retry-After`.

use std::future::Future;
use std::time::{Duration, SystemTime};

use backon::{ExponentialBuilder, Retryable};
use serde_json::Value;

/// First pause before a retry; doubled at each attempt, with jitter.
pub const RETRY_MIN_DELAY: Duration = Duration::from_millis(500);
/// Longest pause between two attempts, `Retry-After` included.
pub const RETRY_MAX_DELAY: Duration = Duration::from_secs(120);
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

/// Why one request failed. Retryable: timeouts, connection errors, 5xx and 429.
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
}

impl FetchError {
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Timeout { .. } | FetchError::Connection { .. } => true,
            FetchError::Status { status, .. } => *status >= 500 || *status == 429,
            FetchError::Undecodable { .. } => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
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

/// Sends one request and returns the body of a 2xx answer as bytes. Non-2xx answers
/// become [`FetchError::Status`] with an excerpt of the body.
pub async fn send_bytes(
    request: reqwest::RequestBuilder,
    url: &str,
    timeout: Duration,
) -> Result<
    (
        reqwest::StatusCode,
        reqwest::header::HeaderMap,
        bytes::Bytes,
    ),
    FetchError,
> {
    let response = request
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| transport_error(url, timeout, &e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| transport_error(url, timeout, &e))?;
    if !status.is_success() {
        let retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        return Err(FetchError::Status {
            url: url.to_owned(),
            status: status.as_u16(),
            excerpt: excerpt(&String::from_utf8_lossy(&body)),
            retry_after,
        });
    }
    Ok((status, headers, body))
}

/// Decodes a JSON body; one that is not JSON (an HTML error page, a truncated document)
/// is [`FetchError::Undecodable`], never "empty".
pub fn decode_json(url: &str, body: &[u8]) -> Result<Value, FetchError> {
    serde_json::from_slice(body).map_err(|e| FetchError::Undecodable {
        url: url.to_owned(),
        reason: e.to_string(),
        excerpt: excerpt(&String::from_utf8_lossy(body)),
    })
}

/// Sends one request and decodes a JSON body (see [`send_bytes`] and [`decode_json`]).
pub async fn send_json(
    request: reqwest::RequestBuilder,
    url: &str,
    timeout: Duration,
) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Value), FetchError> {
    let (status, headers, body) = send_bytes(request, url, timeout).await?;
    let value = decode_json(url, &body)?;
    Ok((status, headers, value))
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
    }
}
