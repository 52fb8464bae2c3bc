//! The sandbox: a local server that speaks the upstream APIs as UPSTREAM.md describes
//! them, with data computed from a seed and faults on demand. It serves the demo, the
//! benchmark, the tests and anyone without a real account.

pub mod cerema;
pub mod data;
pub mod france_travail;
pub mod ft_data;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{RwLock, oneshot};

use cerema::{CeremaConfig, CeremaData};
use data::{Catalog, SITES, mix};
use france_travail::{FranceTravailConfig, FtState};

/// Largest page the products listing serves (DRF's `max_page_size`).
pub const MAX_PAGE_SIZE: usize = 1000;
/// Page size when the request names none (DRF's default).
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// Where the B2B API lives on the sandbox.
pub const B2B_PREFIX: &str = "/api/v1";

/// Faults injected at random (deterministic for a seed), each a share of requests.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Answer 502 or 503.
    pub server_error: f64,
    /// Answer 429 with `Retry-After: retry_after_secs`.
    pub rate_limit: f64,
    pub retry_after_secs: u64,
    /// Answer after `slow_ms` (past the client's timeout, when set so).
    pub slow: f64,
    pub slow_ms: u64,
    /// Cut the JSON body in half, status 200.
    pub truncated: f64,
    /// An HTML error page with status 200.
    pub html: f64,
}

/// What the sandbox serves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub seed: u64,
    pub categories: usize,
    pub products: usize,
    /// The key the B2B part accepts in `X-API-Key`.
    pub api_key: String,
    /// The Cerema Portail DF part.
    pub cerema: CeremaConfig,
    /// The France Travail offers part.
    pub france_travail: FranceTravailConfig,
    pub faults: Faults,
    /// How long each page of the B2B listings (products, categories) and of the Cerema
    /// listings takes to answer: a distant API's round trip, for the benchmark and demos of concurrent fetching.
    pub latency: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 42,
            categories: 60,
            products: 2_000,
            api_key: "b2c_1_sandbox".to_owned(),
            cerema: CeremaConfig::default(),
            france_travail: FranceTravailConfig::default(),
            faults: Faults::default(),
            latency: Duration::ZERO,
        }
    }
}

struct Shared {
    catalog: RwLock<Catalog>,
    cerema: RwLock<CeremaData>,
    ft: FtState,
    config: SandboxConfig,
    /// `http://{addr}`.
    origin: String,
    base: String,
    requests: AtomicU64,
}

/// A running sandbox; stops when dropped or on [`Sandbox::stop`].
pub struct Sandbox {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Binds `bind` (port 0 picks a free one) and serves in the background.
    pub async fn start(bind: SocketAddr, config: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            catalog: RwLock::new(Catalog::new(
                config.seed,
                config.categories,
                config.products,
            )),
            cerema: RwLock::new(CeremaData::new(
                config.seed,
                config.cerema.users,
                config.cerema.structures,
            )),
            ft: FtState::new(config.seed, &config.france_travail),
            origin: format!("http://{addr}"),
            base: format!("http://{addr}{B2B_PREFIX}"),
            config,
            requests: AtomicU64::new(0),
        });
        let b2b = Router::new()
            .route("/b2c/categories/", get(categories))
            .route("/b2c/products/", get(products))
            .route("/b2c/products/{id}/", get(product))
            .route("/b2c/sites/", get(sites))
            .layer(middleware::from_fn_with_state(shared.clone(), faults))
            .layer(middleware::from_fn_with_state(shared.clone(), api_key));
        let app = Router::new()
            .nest(B2B_PREFIX, b2b)
            .merge(cerema::router(shared.clone()))
            .merge(france_travail::router(shared.clone()))
            .route("/sandbox/mutate", post(mutate))
            .with_state(shared.clone());
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = server.await {
                tracing::error!("sandbox server stopped: {e}");
            }
        });
        Ok(Sandbox {
            addr,
            shared,
            shutdown: Some(tx),
            task,
        })
    }

    /// Base URL of the B2B inventory API (`B2B_API_URL`).
    pub fn b2b_url(&self) -> String {
        self.shared.base.clone()
    }

    /// Base URL of the Cerema Portail DF (`CEREMA_API_URL`).
    pub fn cerema_url(&self) -> String {
        self.shared.origin.clone()
    }

    /// The token the Cerema part accepts (`CEREMA_API_TOKEN`).
    pub fn cerema_token(&self) -> String {
        self.shared.config.cerema.token.clone()
    }

    /// What a Cerema client needs to reach this sandbox: its URL and token, 3 retries
    /// and `timeout`.
    pub fn cerema_settings(&self, timeout: Duration) -> crate::cerema::CeremaSettings {
        crate::cerema::CeremaSettings {
            base_url: self.cerema_url(),
            auth: crate::cerema::CeremaAuth::Token(crate::secret::Secret::new(self.cerema_token())),
            timeout,
            max_retries: 3,
        }
    }

    /// Changes `share` of the products, the Cerema records and the France Travail
    /// offers, as `--mutate` / `POST /sandbox/mutate` do.
    pub async fn mutate(&self, share: f64) {
        self.shared.catalog.write().await.mutate(share);
        self.shared.cerema.write().await.mutate(share);
        self.shared.ft.mutate(share).await;
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stops serving and waits for the server to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn detail(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "detail": text }))).into_response()
}

async fn api_key(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    match headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        Some(k) if k == s.config.api_key => next.run(req).await,
        Some(_) => detail(StatusCode::FORBIDDEN, "Invalid API key."),
        None => detail(
            StatusCode::FORBIDDEN,
            "Authentication credentials were not provided.",
        ),
    }
}

async fn faults(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let n = s.requests.fetch_add(1, Ordering::Relaxed);
    let f = &s.config.faults;
    let roll = mix(s.config.seed, n, 4242) as f64 / u64::MAX as f64;
    let mut edge = f.server_error;
    if roll < edge {
        let status = if n % 2 == 0 {
            StatusCode::BAD_GATEWAY
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        return (status, "upstream unavailable").into_response();
    }
    edge += f.rate_limit;
    if roll < edge {
        let mut r = detail(StatusCode::TOO_MANY_REQUESTS, "Request was throttled.");
        if let Ok(v) = f.retry_after_secs.to_string().parse() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    edge += f.slow;
    if roll < edge {
        tokio::time::sleep(Duration::from_millis(f.slow_ms)).await;
        return next.run(req).await;
    }
    edge += f.truncated;
    if roll < edge {
        let response = next.run(req).await;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let half = bytes.slice(..bytes.len() / 2);
        return Response::from_parts(parts, axum::body::Body::from(half));
    }
    edge += f.html;
    if roll < edge {
        let page = "<!DOCTYPE html><html><head><title>Maintenance</title></head>\
                    <body><h1>Service temporairement indisponible</h1></body></html>";
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    }
    next.run(req).await
}

/// Waits the configured per-page latency (before any lock is taken: pages asked at
/// once wait together, as on a distant server).
async fn latency(s: &Shared) {
    if !s.config.latency.is_zero() {
        tokio::time::sleep(s.config.latency).await;
    }
}

async fn categories(State(s): State<Arc<Shared>>) -> Response {
    latency(&s).await;
    Json(Value::Array(s.catalog.read().await.categories.clone())).into_response()
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    page: Option<String>,
    page_size: Option<String>,
    site_id: Option<String>,
}

async fn products(State(s): State<Arc<Shared>>, Query(q): Query<ListQuery>) -> Response {
    latency(&s).await;
    let page: usize = match q.page.as_deref().map(str::parse).unwrap_or(Ok(1)) {
        Ok(p) if p >= 1 => p,
        _ => return detail(StatusCode::NOT_FOUND, "Invalid page."),
    };
    let size = q
        .page_size
        .as_deref()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .min(MAX_PAGE_SIZE);
    let site = match q.site_id.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(site)) => Some(site),
        Some(Err(_)) => return detail(StatusCode::BAD_REQUEST, "site_id must be an integer."),
    };
    let catalog = s.catalog.read().await;
    let count = catalog.len(site);
    let start = (page - 1) * size;
    if start >= count && page > 1 {
        return detail(StatusCode::NOT_FOUND, "Invalid page.");
    }
    let end = (start + size).min(count);
    let link = |p: usize| {
        let site = site.map(|s| format!("&site_id={s}")).unwrap_or_default();
        format!("{}/b2c/products/?page={p}&page_size={size}{site}", s.base)
    };
    let next = (end < count).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    // Written straight into the body, in the bytes serde_json would give.
    let head = json!({ "count": count, "next": next, "previous": previous }).to_string();
    let mut body = String::with_capacity(head.len() + 16 + (end - start) * 512);
    body.push_str(&head[..head.len() - 1]);
    body.push_str(",\"results\":[");
    for i in start..end {
        let mark = body.len();
        if !body.ends_with('[') {
            body.push(',');
        }
        if !catalog.write_product_at(site, i, &mut body) {
            body.truncate(mark);
        }
    }
    body.push_str("]}");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn product(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let catalog = s.catalog.read().await;
    match id
        .parse::<i64>()
        .ok()
        .and_then(|id| catalog.product_by_id(id))
    {
        Some(p) => Json(p).into_response(),
        None => detail(StatusCode::NOT_FOUND, "Not found."),
    }
}

async fn sites() -> Response {
    let sites: Vec<Value> = (1..=SITES)
        .map(|id| json!({"id": id, "name": format!("Magasin {id}")}))
        .collect();
    Json(json!({ "results": sites })).into_response()
}

#[derive(Debug, Deserialize)]
struct MutateQuery {
    share: Option<f64>,
}

async fn mutate(State(s): State<Arc<Shared>>, Query(q): Query<MutateQuery>) -> Response {
    let share = q.share.unwrap_or(0.1);
    if !(0.0..=1.0).contains(&share) {
        return detail(StatusCode::BAD_REQUEST, "share must be between 0 and 1.");
    }
    s.catalog.write().await.mutate(share);
    s.cerema.write().await.mutate(share);
    s.ft.mutate(share).await;
    Json(json!({ "mutated_share": share })).into_response()
}
