//! Raw archive: keeps each fetched page's raw JSON, byte for byte, in a local directory
//! or in S3-compatible object storage (AWS, MinIO, any path-style endpoint).
//!
//! Invariant: a page that cannot be archived is an [`ArchiveError`], never a silent skip.
//! Invariant: credentials never reach `Debug`, logs or error text; S3 error bodies are
//! scrubbed of them before they are quoted.

use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use object_store::ObjectStoreExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};

use crate::secret::Secret;

/// Region used when neither the settings nor `AWS_REGION`/`AWS_DEFAULT_REGION` name one.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Shortest credential scrubbed from error text (AWS key ids are 20 characters).
const MIN_SCRUBBED_LEN: usize = 4;
/// What a file name says when the search had no keywords.
const NO_KEYWORDS: &str = "all";
/// What [`probe`] writes, then deletes.
const PROBE_BODY: &[u8] = b"{\"sagasync\": \"check\"}\n";

/// Why the archive could not be opened or written. All are permanent for the page at
/// hand: the S3 client has already retried transient failures.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("invalid archive target {target:?}: {reason}")]
    InvalidTarget {
        target: String,
        reason: &'static str,
    },
    #[error("invalid archive file name {name:?}: it must be one plain file name")]
    InvalidName { name: String },
    #[error("cannot create archive directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot configure s3://{bucket}: {reason}")]
    S3Config { bucket: String, reason: String },
    #[error("cannot write {url}: {reason}")]
    S3Write { url: String, reason: String },
    #[error("cannot delete {}: {source}", path.display())]
    DeleteFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot delete {url}: {reason}")]
    S3Delete { url: String, reason: String },
}

/// Where raw pages go: `s3://bucket/prefix` or a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveTarget {
    Dir(PathBuf),
    /// `prefix` has no leading, trailing or doubled `/` when it comes from [`Self::parse`].
    S3 {
        bucket: String,
        prefix: String,
    },
}

impl ArchiveTarget {
    /// `s3://bucket[/prefix...]` is S3; anything else is a directory path.
    pub fn parse(target: &str) -> Result<ArchiveTarget, ArchiveError> {
        Self::parse_with_default_bucket(target, None)
    }

    /// Like [`Self::parse`], but the bare `s3` or `s3://` means `default_bucket` (the
    /// collectors' `data_lake_bucket`) when there is one. Without one, `s3://` is an
    /// error and a bare `s3` is a directory of that name.
    pub fn parse_with_default_bucket(
        target: &str,
        default_bucket: Option<&str>,
    ) -> Result<ArchiveTarget, ArchiveError> {
        let bare = target == "s3" || target == "s3://";
        let rest = match default_bucket.filter(|b| !b.is_empty()) {
            Some(bucket) if bare => Some(bucket),
            _ => target.strip_prefix("s3://"),
        };
        let Some(rest) = rest else {
            if target.trim().is_empty() {
                return Err(invalid_target(
                    target,
                    "empty: give a directory or s3://BUCKET/PREFIX",
                ));
            }
            return Ok(ArchiveTarget::Dir(PathBuf::from(target)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            let reason =
                "no bucket: write s3://BUCKET/PREFIX (or set data_lake_bucket, then s3://)";
            return Err(invalid_target(target, reason));
        }
        let (bucket, prefix) = (bucket.to_owned(), normalize_prefix(prefix));
        Ok(ArchiveTarget::S3 { bucket, prefix })
    }
}

fn invalid_target(target: &str, reason: &'static str) -> ArchiveError {
    let target = target.to_owned();
    ArchiveError::InvalidTarget { target, reason }
}

/// `a//b/` -> `a/b`: S3 keys built from it never hold an empty segment.
fn normalize_prefix(prefix: &str) -> String {
    prefix
        .split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// How to reach S3: filled by [`S3Settings::from_env`] or by the command layer's flags.
/// `None` everywhere means the AWS defaults (region [`DEFAULT_REGION`], credentials
/// from the instance or container metadata service).
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub access_key_id: Option<Secret>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    pub region: Option<String>,
    /// A custom endpoint (MinIO, a local server): path-style, plain http allowed.
    pub endpoint: Option<String>,
    /// The bucket a bare `s3://` target means (`data_lake_bucket`).
    pub default_bucket: Option<String>,
}

impl S3Settings {
    /// Reads `AWS_ACCESS_KEY_ID` (or `KEY_ACCESS`), `AWS_SECRET_ACCESS_KEY` (or
    /// `KEY_SECRET`), `AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`),
    /// `AWS_ENDPOINT_URL` and `data_lake_bucket`. Empty values count as unset.
    pub fn from_env() -> S3Settings {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Self::from_env`] over any source of variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> S3Settings {
        let first = |names: &[&str]| {
            names
                .iter()
                .filter_map(|name| lookup(name))
                .map(|v| v.trim().to_owned())
                .find(|v| !v.is_empty())
        };
        S3Settings {
            access_key_id: first(&["AWS_ACCESS_KEY_ID", "KEY_ACCESS"]).map(Secret::new),
            secret_access_key: first(&["AWS_SECRET_ACCESS_KEY", "KEY_SECRET"]).map(Secret::new),
            session_token: first(&["AWS_SESSION_TOKEN"]).map(Secret::new),
            region: first(&["AWS_REGION", "AWS_DEFAULT_REGION"]),
            endpoint: first(&["AWS_ENDPOINT_URL"]),
            default_bucket: first(&["data_lake_bucket"]),
        }
    }

    fn secrets(&self) -> Vec<Secret> {
        let all = [
            &self.access_key_id,
            &self.secret_access_key,
            &self.session_token,
        ];
        all.into_iter().flatten().cloned().collect()
    }
}

/// An opened archive: a directory that exists, or an S3 client for one bucket.
pub struct Archive {
    inner: Inner,
}

enum Inner {
    Dir(PathBuf),
    S3(S3Archive),
}

struct S3Archive {
    store: AmazonS3,
    bucket: String,
    /// Normalized: no leading, trailing or doubled `/`.
    prefix: String,
    /// What to scrub from error text.
    secrets: Vec<Secret>,
}

impl fmt::Debug for Archive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Archive").field(&self.describe()).finish()
    }
}

impl Archive {
    /// Creates the directory (and its parents), or builds the S3 client. Nothing is
    /// sent to S3 here: a missing bucket or a refused key shows at the first `put`.
    pub fn open(target: ArchiveTarget, settings: &S3Settings) -> Result<Archive, ArchiveError> {
        let inner = match target {
            ArchiveTarget::Dir(path) => match std::fs::create_dir_all(&path) {
                Ok(()) => Inner::Dir(path),
                Err(source) => return Err(ArchiveError::CreateDir { path, source }),
            },
            ArchiveTarget::S3 { bucket, prefix } => Inner::S3(S3Archive {
                store: s3_store(&bucket, settings)?,
                prefix: normalize_prefix(&prefix),
                bucket,
                secrets: settings.secrets(),
            }),
        };
        Ok(Archive { inner })
    }

    /// "directory /x/y" or "s3://bucket/prefix", for logs and summaries.
    pub fn describe(&self) -> String {
        match &self.inner {
            Inner::Dir(path) => format!("directory {}", path.display()),
            Inner::S3(s3) if s3.prefix.is_empty() => format!("s3://{}", s3.bucket),
            Inner::S3(s3) => format!("s3://{}/{}", s3.bucket, s3.prefix),
        }
    }

    /// Stores one page under `name` (a plain file name) and says where it went: a file
    /// path, or `s3://bucket/key`. A file is written atomically (temp file, then rename),
    /// so a reader never sees half a page.
    #[tracing::instrument(skip_all, fields(name, archive = %self.describe()), err)]
    pub async fn put(&self, name: &str, bytes: impl Into<Bytes>) -> Result<String, ArchiveError> {
        let invalid_name = || ArchiveError::InvalidName {
            name: name.to_owned(),
        };
        let bad_name = matches!(name, "" | "." | "..")
            || name.contains(['/', '\\'])
            || name.chars().any(char::is_control);
        if bad_name {
            return Err(invalid_name());
        }
        let s3 = match &self.inner {
            Inner::Dir(dir) => return write_atomically(dir.join(name), bytes.into()).await,
            Inner::S3(s3) => s3,
        };
        let key = object_key(&s3.prefix, name);
        let location = object_store::path::Path::parse(&key).map_err(|_| invalid_name())?;
        let url = format!("s3://{}/{key}", s3.bucket);
        match s3.store.put(&location, bytes.into().into()).await {
            Ok(_) => Ok(url),
            Err(e) => Err(ArchiveError::S3Write {
                reason: s3_reason(&e, &s3.secrets),
                url,
            }),
        }
    }
}

impl Archive {
    /// Deletes what [`Archive::put`] stored under `name`.
    pub async fn delete(&self, name: &str) -> Result<(), ArchiveError> {
        let s3 = match &self.inner {
            Inner::Dir(dir) => {
                let path = dir.join(name);
                return match tokio::fs::remove_file(&path).await {
                    Ok(()) => Ok(()),
                    Err(source) => Err(ArchiveError::DeleteFile { path, source }),
                };
            }
            Inner::S3(s3) => s3,
        };
        let key = object_key(&s3.prefix, name);
        let invalid_name = || ArchiveError::InvalidName {
            name: name.to_owned(),
        };
        let location = object_store::path::Path::parse(&key).map_err(|_| invalid_name())?;
        match s3.store.delete(&location).await {
            Ok(()) => Ok(()),
            Err(e) => Err(ArchiveError::S3Delete {
                url: format!("s3://{}/{key}", s3.bucket),
                reason: s3_reason(&e, &s3.secrets),
            }),
        }
    }
}

/// Shows that pages can be archived at `target`, and says so: a small probe object
/// written as a page is (so with the same credentials and permissions), then deleted.
/// A directory that does not exist yet is not created: its nearest existing parent
/// must take a file (the collect would create the directory there).
pub async fn probe(target: ArchiveTarget, settings: &S3Settings) -> Result<String, ArchiveError> {
    if let ArchiveTarget::Dir(path) = &target
        && !path.exists()
    {
        return probe_parent(path).await;
    }
    let archive = Archive::open(target, settings)?;
    let name = format!(
        ".sagasync-check-{}-{}.json",
        std::process::id(),
        Utc::now().timestamp_micros()
    );
    archive.put(&name, PROBE_BODY).await?;
    archive.delete(&name).await?;
    Ok(format!(
        "wrote and deleted a probe in {}",
        archive.describe()
    ))
}

/// [`probe`] of a directory that does not exist: a temporary file in its nearest
/// existing ancestor, removed at once.
async fn probe_parent(path: &Path) -> Result<String, ArchiveError> {
    let parent = path
        .ancestors()
        .skip(1)
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .find(|p| p.exists())
        .unwrap_or(Path::new("."))
        .to_owned();
    let dir = parent.clone();
    let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut temp = tempfile::Builder::new()
            .prefix(".sagasync-check-")
            .tempfile_in(&dir)?;
        std::io::Write::write_all(&mut temp, PROBE_BODY)?;
        temp.close()
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    match written {
        Ok(()) => Ok(format!(
            "{} does not exist yet: the collect creates it ({} is writable)",
            path.display(),
            parent.display()
        )),
        Err(source) => Err(ArchiveError::CreateDir {
            path: path.to_owned(),
            source,
        }),
    }
}

/// `prefix/name`, with no empty segment whatever the prefix's slashes.
fn object_key(prefix: &str, name: &str) -> String {
    match normalize_prefix(prefix).as_str() {
        "" => name.to_owned(),
        prefix => format!("{prefix}/{name}"),
    }
}

async fn write_atomically(path: PathBuf, bytes: Bytes) -> Result<String, ArchiveError> {
    let target = path.clone();
    let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(dir)?;
        std::io::Write::write_all(&mut temp, &bytes)?;
        temp.as_file().sync_all()?;
        temp.persist(&target).map(drop).map_err(|e| e.error)
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    match written {
        Ok(()) => Ok(path.display().to_string()),
        Err(source) => Err(ArchiveError::WriteFile { path, source }),
    }
}

fn s3_store(bucket: &str, settings: &S3Settings) -> Result<AmazonS3, ArchiveError> {
    let config_error = |reason: String| ArchiveError::S3Config {
        bucket: bucket.to_owned(),
        reason,
    };
    let half_pair = match (&settings.access_key_id, &settings.secret_access_key) {
        (Some(_), None) => Some("an access key id but no secret key: set AWS_SECRET_ACCESS_KEY"),
        (None, Some(_)) => Some("a secret key but no access key id: set AWS_ACCESS_KEY_ID"),
        _ => None,
    };
    if let Some(reason) = half_pair {
        return Err(config_error(reason.to_owned()));
    }
    // object_store's reqwest uses rustls without a provider, like the rest of the crate.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let region = settings.region.as_deref().unwrap_or(DEFAULT_REGION);
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(region)
        .with_virtual_hosted_style_request(false);
    if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
        builder = builder
            .with_access_key_id(id.expose())
            .with_secret_access_key(secret.expose());
        if let Some(token) = &settings.session_token {
            builder = builder.with_token(token.expose());
        }
    }
    if let Some(endpoint) = &settings.endpoint {
        builder = builder
            .with_endpoint(endpoint.trim_end_matches('/'))
            .with_allow_http(endpoint.starts_with("http://"));
    }
    builder
        .build()
        .map_err(|e| config_error(scrub(&e.to_string(), &settings.secrets())))
}

/// One readable line from an S3 failure: the service's `<Code>` and `<Message>` when it
/// sent them, with a hint at what to check, and never a credential.
fn s3_reason(error: &object_store::Error, secrets: &[Secret]) -> String {
    use object_store::Error::{NotFound, PermissionDenied, Unauthenticated};
    let text = error.to_string();
    let code = xml_field(&text, "Code");
    let check_keys = "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's permissions";
    let hint = match (code, error) {
        (Some("NoSuchBucket"), _) | (_, NotFound { .. }) => Some("create the bucket first"),
        (Some("InvalidAccessKeyId" | "SignatureDoesNotMatch" | "AccessDenied"), _) => {
            Some(check_keys)
        }
        (_, PermissionDenied { .. } | Unauthenticated { .. }) => Some(check_keys),
        _ => None,
    };
    let reason = match (code, xml_field(&text, "Message"), innermost_cause(error)) {
        (Some(code), Some(message), _) => format!("{code}: {message}"),
        (Some(code), None, _) => code.to_owned(),
        (None, _, Some(cause)) => format!("{cause}; {}", crate::http::excerpt(&text)),
        (None, _, None) => crate::http::excerpt(&text),
    };
    match hint {
        Some(hint) => scrub(&format!("{reason} ({hint})"), secrets),
        None => scrub(&reason, secrets),
    }
}

/// The deepest source of an error ("Connection refused (os error 111)"), if it has one.
fn innermost_cause(error: &object_store::Error) -> Option<String> {
    let mut cause = std::error::Error::source(error)?;
    while let Some(deeper) = cause.source() {
        cause = deeper;
    }
    Some(cause.to_string())
}

/// The text of the first `<tag>...</tag>` in an S3 error body.
fn xml_field<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&format!("</{tag}>"))?;
    Some(text[start..start + len].trim()).filter(|s| !s.is_empty())
}

/// Replaces each credential in `text` with `***`. Values shorter than
/// [`MIN_SCRUBBED_LEN`] are no real credential and would only mangle the text.
fn scrub(text: &str, secrets: &[Secret]) -> String {
    secrets
        .iter()
        .filter(|s| s.expose().len() >= MIN_SCRUBBED_LEN)
        .fold(text.to_owned(), |acc, s| acc.replace(s.expose(), "***"))
}

/// `france_travail_{keywords}_{YYYYMMDD_HHMMSS}_p{page}.json`, the collectors' name for
/// a raw search page. Keywords are folded to ASCII and lowercased; each run of anything
/// outside `[a-z0-9_-]` becomes one `_`; no keywords is `all`.
pub fn page_file_name(keywords: &str, at: DateTime<Utc>, page: u32) -> String {
    format!(
        "france_travail_{}_{}_p{page}.json",
        file_safe(keywords),
        at.format("%Y%m%d_%H%M%S")
    )
}

fn file_safe(keywords: &str) -> String {
    let folded = deunicode::deunicode(keywords.trim()).to_lowercase();
    let mut safe = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            safe.push(c);
        } else if !safe.ends_with('_') {
            safe.push('_');
        }
    }
    match safe.trim_matches('_') {
        "" => NO_KEYWORDS.to_owned(),
        safe => safe.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn page_file_names() {
        let at = Utc
            .with_ymd_and_hms(2025, 3, 7, 9, 5, 2)
            .single()
            .expect("a valid date");
        let check = |keywords: &str, page: u32, expected: &str| {
            let expected = format!("france_travail_{expected}_20250307_090502_p{page}.json");
            assert_eq!(page_file_name(keywords, at, page), expected, "{keywords:?}");
        };
        check("python", 1, "python");
        check("développeur web", 2, "developpeur_web");
        check("Data Engineer", 3, "data_engineer");
        check("front-end", 1, "front-end");
        check("c++ / c#", 1, "c_c");
        check("ingénieur_IA", 10, "ingenieur_ia");
        check("../../etc", 1, "etc");
        check("œuvre", 1, "oeuvre");
        check("", 1, "all");
        check("  ", 1, "all");
    }

    #[test]
    fn targets() {
        let check = |input: &str, default_bucket: Option<&str>, expected: &str| {
            let got = match ArchiveTarget::parse_with_default_bucket(input, default_bucket) {
                Ok(ArchiveTarget::Dir(path)) => format!("dir {}", path.display()),
                Ok(ArchiveTarget::S3 { bucket, prefix }) => format!("s3 {bucket} [{prefix}]"),
                Err(e) => format!("error {e}"),
            };
            match expected.strip_prefix("error ") {
                Some(needle) => assert!(got.contains(needle), "{input:?}: {got}"),
                None => assert_eq!(got, expected, "{input:?}"),
            }
        };
        check("s3://lake", None, "s3 lake []");
        check("s3://lake/", None, "s3 lake []");
        check(
            "s3://lake/raw/france_travail",
            None,
            "s3 lake [raw/france_travail]",
        );
        check("s3://lake/raw//ft/", None, "s3 lake [raw/ft]");
        check("s3://other/p", Some("lake"), "s3 other [p]");
        check("s3://", Some("lake"), "s3 lake []");
        check("s3", Some("lake"), "s3 lake []");
        check("s3", None, "dir s3");
        check("/var/lib/raw", None, "dir /var/lib/raw");
        check("raw/pages", Some("lake"), "dir raw/pages");
        check("s3://", None, "error no bucket: write s3://BUCKET/PREFIX");
        check("s3://", Some(""), "error no bucket");
        check("s3:///raw", None, "error no bucket");
        check("s3:///raw", Some("lake"), "error no bucket");
        check("", None, "error empty");
        assert!(ArchiveTarget::parse("s3://").is_err());
    }

    #[test]
    fn object_keys_have_no_empty_segment() {
        assert_eq!(object_key("", "a.json"), "a.json");
        assert_eq!(object_key("raw/", "a.json"), "raw/a.json");
        assert_eq!(object_key("/raw//ft/", "a.json"), "raw/ft/a.json");
    }

    #[test]
    fn s3_error_bodies_read_as_code_and_lose_their_credentials() {
        let body = "PUT http://h/b/k: 403 Forbidden: <?xml version=\"1.0\"?><Error>\
            <Code>InvalidAccessKeyId</Code><Message>no key AKIDSECRET</Message></Error>";
        assert_eq!(xml_field(body, "Code"), Some("InvalidAccessKeyId"));
        assert_eq!(xml_field(body, "Message"), Some("no key AKIDSECRET"));
        let scrubbed = scrub(body, &[Secret::new("AKIDSECRET")]);
        assert!(!scrubbed.contains("AKIDSECRET") && scrubbed.contains("no key ***"));
    }
}
