//! The web console of `sagasync serve`: read-only HTML pages over what the database
//! holds, beside the JSON API (every page's figures are also under `/api/*`).
//!
//! Pages are rendered on the server with maud (templates compiled into the binary,
//! values escaped by construction), styled by one stylesheet compiled in too, with
//! charts as SVG drawn here (`chart`): no script at all, nothing fetched from another
//! host, so the console works offline and its Content-Security-Policy can forbid every
//! script and inline style (`security_headers`, applied to every answer of `serve`).
//!
//! Invariants: no page writes (forms are GET); upstream text is only ever spliced with
//! maud's escaping `(...)`; a bad parameter is a 400 page naming it, an unknown id a
//! 404 page.

mod catalog;
mod cerema;
pub mod chart;
mod jobs;
pub mod layout;
mod offers;
mod overview;
mod runs;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

use crate::serve::{ApiError, AppState};
use layout::Nav;

/// What every answer of `serve` is sent with: scripts, inline styles, frames, plugins
/// and other origins forbidden.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The console's pages and assets.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/assets/console.css", get(css))
        .route("/assets/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .merge(overview::routes())
        .merge(runs::routes())
        .merge(catalog::routes())
        .merge(offers::routes())
        .merge(jobs::routes())
        .merge(cerema::routes())
}

/// Adds the security headers to an answer (the API's too).
pub async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    res
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        layout::CSS,
    )
}

async fn icon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        layout::ICON,
    )
}

/// An error answered as a page: its status and one sentence saying what was wrong.
#[derive(Debug)]
pub struct PageError(pub StatusCode, pub String);

/// What a page handler returns.
pub type PageResult = Result<Markup, PageError>;

impl PageError {
    pub fn not_found(msg: impl Into<String>) -> Self {
        PageError(StatusCode::NOT_FOUND, msg.into())
    }

    pub fn bad(msg: impl Into<String>) -> Self {
        PageError(StatusCode::BAD_REQUEST, msg.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let PageError(status, message) = self;
        let title = status.canonical_reason().unwrap_or("Error");
        let body = html! {
            h1 { (status.as_u16()) " " (title) }
            div.error-box role="alert" { p { (message) } }
            p { a href="/" { "Back to the overview" } }
        };
        (status, layout::page(title, Nav::None, body)).into_response()
    }
}

/// The API's errors (a bad parameter, a database error) keep their status and message.
impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e.0, e.1)
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::from(e).into()
    }
}

impl From<crate::inspect::InspectError> for PageError {
    fn from(e: crate::inspect::InspectError) -> Self {
        ApiError::from(e).into()
    }
}

/// What `serve` answers for a path it does not know: a page for a person, JSON under
/// `/api/`.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") || uri.path() == "/api" {
        ApiError::not_found("no such route").into_response()
    } else {
        PageError::not_found(format!("There is no page at {}.", uri.path())).into_response()
    }
}
