//! `sagasync check`: whether the setup works, one line per check (the database, the
//! encryption key, the B2B key and API, Cerema, France Travail, the archive), each
//! `ok`, `failed` with the error a sync would print, `not configured` with what to set,
//! or `skipped` when a check it needs failed. Nothing is written but the archive's
//! probe, deleted at once; a SQLite file that does not exist is not created.
//!
//! Exit code: 1 when a check failed, else 0 (nothing configured is not a failure).

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use sea_orm::DatabaseConnection;
use serde::Serialize;

use super::cerema::CeremaConnArgs;
use super::france_travail::FtConnArgs;
use super::sync::{ProductsEndpointArgs, b2b_settings};
use super::{Context, one_line};
use crate::archive::{self, ArchiveTarget, S3Settings};
use crate::b2b::B2bClient;
use crate::cerema::{CeremaAuth, CeremaClient, CeremaKind};
use crate::crypto::{Cipher, CryptoError, GENERATE_HINT};
use crate::db::{backend_name, redact_url, schema_status, sqlite_file};
use crate::france_travail::{DEFAULT_RATE, FtClient};
use crate::keys::{self, ActiveKey, FALLBACK_KEY_VAR, KeyError};

/// Retries of a check's request at most, whatever the syncs' settings: a check
/// answers in seconds (the configured timeouts still apply to each request).
const CHECK_MAX_RETRIES: u32 = 1;
/// Width of the human output.
const LINE_WIDTH: usize = 80;
/// Width of the check's name, then of its status, in the human output.
const NAME_WIDTH: usize = 16;
const STATUS_WIDTH: usize = 16;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub products: ProductsEndpointArgs,
    #[command(flatten)]
    pub cerema: CeremaConnArgs,
    #[command(flatten)]
    pub ft: FtConnArgs,
    /// Archive to probe: a directory or s3://bucket/prefix, as `france-travail collect
    /// --archive` takes it (without it: s3://data_lake_bucket when that is set)
    #[arg(long)]
    pub archive: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// The same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// One line per check (its detail wrapped), 80 columns
    Table,
    /// A JSON array of {check, status, detail}
    Json,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    /// Its settings are absent: the detail says which to set.
    NotConfigured,
    /// Not run: a check it needs failed (that one says why).
    Skipped,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::NotConfigured => "not configured",
            Status::Skipped => "skipped",
        }
    }
}

/// One check's outcome: its JSON object and its line.
#[derive(Debug, Clone, Serialize)]
pub struct CheckLine {
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
}

fn line(check: &'static str, status: Status, detail: impl Into<String>) -> CheckLine {
    CheckLine {
        check,
        status,
        detail: detail.into(),
    }
}

pub async fn run(args: CheckArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let (mut lines, cerema, ft, archive) = tokio::join!(
        catalog_checks(ctx, &args.products.endpoint),
        cerema_check(&args.cerema, ctx),
        ft_check(&args.ft, ctx),
        archive_check(args.archive.as_deref()),
    );
    lines.extend([cerema, ft, archive]);
    if args.json || args.format == CheckFormat::Json {
        println!("{}", serde_json::to_string_pretty(&lines)?);
    } else {
        for l in &lines {
            println!("{}", render_line(l));
        }
    }
    let failed = lines.iter().any(|l| l.status == Status::Failed);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The checks that follow one another: the database, then the keys it stores, then
/// the B2B API with the active key.
async fn catalog_checks(ctx: &Context, endpoint: &str) -> Vec<CheckLine> {
    let (database, db) = database_check(ctx).await;
    let cipher = ctx.cipher();
    let encryption = encryption_check(&cipher, db.as_ref()).await;
    let (key_line, key) = key_check(ctx, &cipher, db.as_ref()).await;
    let api = api_check(ctx, endpoint, &key_line, key).await;
    vec![database, encryption, key_line, api]
}

/// Reachable and migrated; the connection when it is (the key checks use it).
async fn database_check(ctx: &Context) -> (CheckLine, Option<DatabaseConnection>) {
    const NAME: &str = "database";
    let url = &ctx.global.database_url;
    let file = sqlite_file(url);
    if let Some(file) = file.as_ref().filter(|f| !f.exists()) {
        let detail = format!(
            "no database at {}: `sagasync migrate up` creates it, as does any sync",
            file.display()
        );
        return (line(NAME, Status::Failed, detail), None);
    }
    let db = match ctx.connect_single_db().await {
        Ok(db) => db,
        Err(e) => {
            let detail = one_line(&crate::db::explain(e));
            return (line(NAME, Status::Failed, detail), None);
        }
    };
    let place = match &file {
        Some(file) => file.display().to_string(),
        None => redact_url(url),
    };
    let backend = backend_name(db.get_database_backend());
    match schema_status(&db).await {
        Ok(s) if s.pending.is_empty() => {
            let detail = format!("{backend} {place}: up to date ({} migrations)", s.applied);
            (line(NAME, Status::Ok, detail), Some(db))
        }
        Ok(s) => {
            let detail = format!(
                "{backend} {place}: {} migration(s) pending, from {}: `sagasync migrate up` \
                 applies them (any other command too)",
                s.pending.len(),
                s.pending.first().map_or("", String::as_str)
            );
            (line(NAME, Status::Failed, detail), None)
        }
        Err(e) => {
            let detail = format!("{backend} {place}: cannot read its migrations: {e}");
            (line(NAME, Status::Failed, detail), None)
        }
    }
}

/// `INVENTORY_ENCRYPTION_KEY` is a Fernet key, and it decrypts every stored key.
async fn encryption_check(
    cipher: &Result<Cipher, CryptoError>,
    db: Option<&DatabaseConnection>,
) -> CheckLine {
    const NAME: &str = "encryption_key";
    let audit = match db {
        Some(db) => match keys::audit(db, cipher.as_ref().ok()).await {
            Ok(audit) => Some(audit),
            Err(e) => {
                return line(NAME, Status::Failed, format!("cannot read api_keys: {e}"));
            }
        },
        None => None,
    };
    let stored = audit.as_ref().map_or(0, |a| a.stored);
    match (cipher, audit) {
        (Err(e @ CryptoError::MissingKey(_)), _) if stored > 0 => line(
            NAME,
            Status::Failed,
            format!("{e}; {stored} stored API key(s) need it"),
        ),
        (Err(CryptoError::MissingKey(var)), _) => line(
            NAME,
            Status::NotConfigured,
            format!("set {var} to store API keys ({GENERATE_HINT})"),
        ),
        (Err(e), _) => line(NAME, Status::Failed, e.to_string()),
        (Ok(_), None) => line(
            NAME,
            Status::Ok,
            "a valid Fernet key (stored keys not checked: no database)",
        ),
        (Ok(_), Some(a)) if a.undecryptable.is_empty() => {
            let detail = match a.stored {
                0 => "a valid Fernet key; no API key stored yet".to_owned(),
                1 => "a valid Fernet key; decrypts the stored API key".to_owned(),
                n => format!("a valid Fernet key; decrypts all {n} stored API keys"),
            };
            line(NAME, Status::Ok, detail)
        }
        (Ok(_), Some(a)) => {
            let names: Vec<String> = a
                .undecryptable
                .iter()
                .map(|(id, name)| format!("key {id} \"{name}\""))
                .collect();
            let detail = format!(
                "{} of the {} stored API keys cannot be decrypted with it ({}): they were \
                 encrypted with another key",
                a.undecryptable.len(),
                a.stored,
                names.join(", ")
            );
            line(NAME, Status::Failed, detail)
        }
    }
}

/// The key the B2B sync would send: the active stored key decrypts, or `B2B_API_KEY`.
async fn key_check(
    ctx: &Context,
    cipher: &Result<Cipher, CryptoError>,
    db: Option<&DatabaseConnection>,
) -> (CheckLine, Option<ActiveKey>) {
    const NAME: &str = "b2b_key";
    let Some(db) = db else {
        let detail = "needs the database (see `database`)";
        return (line(NAME, Status::Skipped, detail), None);
    };
    let fallback = ctx.global.b2b_api_key.as_ref();
    match keys::resolve_active(db, cipher.as_ref(), fallback).await {
        Ok(key) => {
            let detail = match key.id {
                Some(_) => format!("{} is active and decrypts", key.label()),
                None => format!("no stored key is active: {FALLBACK_KEY_VAR} is used"),
            };
            (line(NAME, Status::Ok, detail), Some(key))
        }
        Err(KeyError::NoActiveKey) => {
            let detail = format!(
                "add a key with `sagasync keys add --name NAME --activate`, or set \
                 {FALLBACK_KEY_VAR}"
            );
            (line(NAME, Status::NotConfigured, detail), None)
        }
        Err(e) => (line(NAME, Status::Failed, e.to_string()), None),
    }
}

/// Page 1 of the products listing, one product long, asked with the active key.
async fn api_check(
    ctx: &Context,
    endpoint: &str,
    key_line: &CheckLine,
    key: Option<ActiveKey>,
) -> CheckLine {
    const NAME: &str = "b2b_api";
    let Some(key) = key else {
        return match key_line.status {
            Status::NotConfigured => line(
                NAME,
                Status::NotConfigured,
                "needs an API key (see `b2b_key`)",
            ),
            _ => line(
                NAME,
                Status::Skipped,
                "needs a working API key (see `b2b_key`)",
            ),
        };
    };
    let mut settings = b2b_settings(ctx);
    settings.max_retries = settings.max_retries.min(CHECK_MAX_RETRIES);
    let client = match B2bClient::new(&settings, key) {
        Ok(client) => client.with_http_options(ctx.global.http_options()),
        Err(e) => return line(NAME, Status::Failed, one_line(&e.into())),
    };
    let base = settings.base_url.trim_end_matches('/');
    match client.probe(endpoint).await {
        Ok(Some(count)) => line(
            NAME,
            Status::Ok,
            format!("{base} answered ({count} products)"),
        ),
        Ok(None) => line(NAME, Status::Ok, format!("{base} answered")),
        Err(e) => line(NAME, Status::Failed, one_line(&e.into())),
    }
}

/// Page 1 of the structures, after a login when a username and password are given.
async fn cerema_check(conn: &CeremaConnArgs, ctx: &Context) -> CheckLine {
    const NAME: &str = "cerema";
    if !conn.is_configured() {
        let detail = "set CEREMA_API_TOKEN, or CEREMA_USERNAME and CEREMA_PASSWORD";
        return line(NAME, Status::NotConfigured, detail);
    }
    let mut settings = match conn.settings() {
        Ok(settings) => settings,
        Err(e) => return line(NAME, Status::Failed, one_line(&e)),
    };
    settings.max_retries = settings.max_retries.min(CHECK_MAX_RETRIES);
    let how = match &settings.auth {
        CeremaAuth::Token(_) => "token accepted".to_owned(),
        CeremaAuth::Credentials { username, .. } => format!("logged in as {username}"),
    };
    let asked = async {
        let client = CeremaClient::new(&settings)?.with_http_options(ctx.global.http_options());
        let url = client.first_page(CeremaKind::Structures)?;
        client.page(&url).await
    };
    match asked.await {
        Ok(page) => {
            let of = page.count.map_or_else(String::new, |n| format!("{n} "));
            line(
                NAME,
                Status::Ok,
                format!("{how}; read page 1 of {of}structures"),
            )
        }
        Err(e) => line(NAME, Status::Failed, one_line(&e.into())),
    }
}

/// A token for the client credentials (nothing else is asked).
async fn ft_check(conn: &FtConnArgs, ctx: &Context) -> CheckLine {
    const NAME: &str = "france_travail";
    if !conn.is_configured() {
        let detail = "set FRANCE_TRAVAIL_CLIENT_ID and FRANCE_TRAVAIL_CLIENT_SECRET";
        return line(NAME, Status::NotConfigured, detail);
    }
    let mut settings = match conn.settings(DEFAULT_RATE) {
        Ok(settings) => settings,
        Err(e) => return line(NAME, Status::Failed, one_line(&e)),
    };
    settings.max_retries = settings.max_retries.min(CHECK_MAX_RETRIES);
    let host = url::Url::parse(&settings.auth_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let asked = async {
        let client = FtClient::new(settings)?.with_http_options(ctx.global.http_options());
        client.authenticate().await
    };
    match asked.await {
        Ok(()) => line(NAME, Status::Ok, format!("{host} granted a token")),
        Err(e) => line(NAME, Status::Failed, one_line(&e.into())),
    }
}

/// A probe written to the archive, then deleted.
async fn archive_check(target: Option<&str>) -> CheckLine {
    const NAME: &str = "archive";
    let s3 = S3Settings::from_env();
    let target = match (target, s3.default_bucket.as_deref()) {
        (Some(target), _) => target,
        (None, Some(_)) => "s3://",
        (None, None) => {
            let detail = "pass --archive DIR or --archive s3://BUCKET/PREFIX (or set \
                          data_lake_bucket)";
            return line(NAME, Status::NotConfigured, detail);
        }
    };
    let probed = async {
        let target =
            ArchiveTarget::parse_with_default_bucket(target, s3.default_bucket.as_deref())?;
        archive::probe(target, &s3).await
    };
    match probed.await {
        Ok(detail) => line(NAME, Status::Ok, detail),
        Err(e) => line(NAME, Status::Failed, one_line(&e.into())),
    }
}

/// `name  status  detail`, the detail wrapped under itself to fit [`LINE_WIDTH`].
fn render_line(l: &CheckLine) -> String {
    let indent = NAME_WIDTH + STATUS_WIDTH;
    let mut out = format!(
        "{:<NAME_WIDTH$}{:<STATUS_WIDTH$}",
        l.check,
        l.status.label()
    );
    for (i, part) in wrap(&l.detail, LINE_WIDTH - indent).iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(part);
    }
    out.trim_end().to_owned()
}

/// `text` in lines of at most `width` characters, broken at spaces (a longer word,
/// such as a URL, is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        let used = current.chars().count();
        if used > 0 && used + 1 + word.len() <= width {
            current.push(' ');
            current.extend(&word);
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut current));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        current.extend(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, width: usize, expected: &[&str]) {
        assert_eq!(wrap(text, width), expected, "{text:?} in {width}");
    }

    #[test]
    fn details_wrap_at_spaces_and_cut_long_words() {
        check("", 10, &[""]);
        check("ok", 10, &["ok"]);
        check("one two three", 7, &["one two", "three"]);
        check("a  b\nc", 10, &["a b c"]);
        check("abcdefghijkl", 5, &["abcde", "fghij", "kl"]);
        check("x abcdefghijkl", 5, &["x", "abcde", "fghij", "kl"]);
        check("clé principale", 3, &["clé", "pri", "nci", "pal", "e"]);
    }

    #[test]
    fn lines_fit_80_columns() {
        let long = CheckLine {
            check: "france_travail",
            status: Status::NotConfigured,
            detail: "France Travail refused the client credentials: invalid_client; check \
                     FRANCE_TRAVAIL_CLIENT_ID and FRANCE_TRAVAIL_CLIENT_SECRET \
                     http://127.0.0.1:45678/connexion/oauth2/access_token?realm=/partenaire"
                .to_owned(),
        };
        let text = render_line(&long);
        assert!(text.starts_with("france_travail  not configured  France Travail"));
        for l in text.lines() {
            assert!(l.chars().count() <= LINE_WIDTH, "{l:?}");
        }
        assert!(text.lines().count() > 2);
    }
}
