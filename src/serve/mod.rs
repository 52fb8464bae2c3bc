//! `sagasync serve`: a read-only JSON API over the database, with the routes of the
//! original France Travail app (search, job details, skills matching, Paris offers) and
//! paginated views of runs, products and categories; and the web console
//! (`crate::console`), its HTML pages, beside it.
//!
//! Invariant: no route writes to the database, except the accounts routes
//! (`accounts`), merged only when `serve --accounts` asks for them. Errors are JSON `{"error": ...}` with the
//! right status (400 naming the bad parameter, 404, 405, 413).

pub mod accounts;
pub(crate) mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use serde_json::json;

/// Largest request body (`POST /api/match_skills`); larger is 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// `max_results` / `limit` when none is given.
pub const DEFAULT_RESULTS: u64 = 20;
/// `max_results` / `limit` at most.
pub const MAX_RESULTS: u64 = 100;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
}

/// An error answer: status and message.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    pub fn bad(msg: impl Into<String>) -> Self {
        ApiError(StatusCode::BAD_REQUEST, msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        ApiError(StatusCode::NOT_FOUND, msg.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(json!({ "error": self.1, "status": self.0.as_u16() })),
        )
            .into_response()
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        tracing::error!("database error: {e}");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "database error (see the server's log)".to_owned(),
        )
    }
}

impl From<crate::inspect::InspectError> for ApiError {
    fn from(e: crate::inspect::InspectError) -> Self {
        match e {
            crate::inspect::InspectError::NotFound { .. } => ApiError::not_found(e.to_string()),
            crate::inspect::InspectError::Db(e) => e.into(),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!("{e:#}");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error (see the server's log)".to_owned(),
        )
    }
}

/// What `serve` answers besides the read-only API and the console.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServeOptions {
    /// The accounts API (`--accounts`); `None` keeps the server read-only.
    pub accounts: Option<accounts::AccountsOptions>,
}

/// The API's routes over `db`: read-only.
pub fn router(db: DatabaseConnection) -> Router {
    router_with(db, ServeOptions::default())
}

/// The API's routes over `db`, with the accounts routes when `options` asks for them.
pub fn router_with(db: DatabaseConnection, options: ServeOptions) -> Router {
    let mut api = Router::new();
    if let Some(accounts) = options.accounts {
        api = api.merge(accounts::routes(db.clone(), accounts));
    }
    let state = Arc::new(AppState { db });
    api.route("/api/health", get(routes::health))
        .route("/api/search_jobs", get(routes::search_jobs))
        .route("/api/job_details/{rome_code}", get(routes::job_details))
        .route("/api/rome/search", get(routes::rome_search))
        .route("/api/match_skills", post(routes::match_skills))
        .route("/api/paris_jobs/{q}", get(routes::paris_jobs))
        .route("/api/runs", get(routes::runs))
        .route("/api/products", get(routes::products))
        .route("/api/categories", get(routes::categories))
        .merge(crate::console::routes())
        .fallback(crate::console::not_found)
        .method_not_allowed_fallback(|| async {
            ApiError(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed: this API is read-only (POST only on /api/match_skills)"
                    .to_owned(),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(
            crate::console::security_headers,
        ))
        .with_state(state)
}

/// Serves on `listener` until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    db: DatabaseConnection,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(db, listener, ServeOptions::default(), shutdown).await
}

/// [`serve`] with `options`; handlers see the TCP peer's address (`ConnectInfo`).
pub async fn serve_with(
    db: DatabaseConnection,
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router_with(db, options).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Whether `addr` is loopback (what `serve` binds unless told otherwise).
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}
