//! The web console of `sagasync serve`, over HTTP: every page answers HTML with the
//! security headers, shows what the database holds, and renders upstream text (the
//! XSS probes `fill_hostile` plants) as text. The same pages are loaded in headless
//! Chromium by `browser_pages`.

mod browser_pages;
mod catalog;
mod cerema;
mod jobs;
mod offers;
mod overview;
mod runs;

use std::time::Duration;

use entity::prelude::*;
use entity::{category, cerema_structure, job_offer, product, sync_error};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;

use crate::helpers::TestDb;

/// A title that runs a script if the page does not escape it.
pub const PROBE_SCRIPT: &str = "<script>alert('xss-text')</script>Probe title";
/// A value that breaks out of an attribute if the page does not escape it.
pub const PROBE_ATTR: &str = "\"><img src=x onerror=alert('xss-attr')>Probe attr";

/// Fills `db` from the sandbox (`inspect::fill`), then plants the XSS probes in text
/// that came from upstream: the first product's title and brand, the first category's
/// name, the first offer's title, company and commune label, the first Cerema
/// structure's name, and the first item error's message.
pub async fn fill_hostile(db: &TestDb) {
    crate::inspect::fill(db);
    let conn = db.open().await;
    let first_product: i32 = Product::find()
        .select_only()
        .column(product::Column::Id)
        .order_by_asc(product::Column::Id)
        .into_tuple()
        .one(&conn)
        .await
        .expect("a query")
        .expect("a product");
    Product::update_many()
        .col_expr(product::Column::Title, PROBE_SCRIPT.into())
        .col_expr(product::Column::Brand, PROBE_ATTR.into())
        .filter(product::Column::Id.eq(first_product))
        .exec(&conn)
        .await
        .expect("the product probe");
    let first_category: i32 = Category::find()
        .select_only()
        .column(category::Column::Id)
        .order_by_asc(category::Column::Id)
        .into_tuple()
        .one(&conn)
        .await
        .expect("a query")
        .expect("a category");
    Category::update_many()
        .col_expr(category::Column::Name, PROBE_SCRIPT.into())
        .filter(category::Column::Id.eq(first_category))
        .exec(&conn)
        .await
        .expect("the category probe");
    let first_offer: String = JobOffer::find()
        .select_only()
        .column(job_offer::Column::Id)
        .order_by_asc(job_offer::Column::Id)
        .into_tuple()
        .one(&conn)
        .await
        .expect("a query")
        .expect("an offer");
    JobOffer::update_many()
        .col_expr(job_offer::Column::Intitule, PROBE_SCRIPT.into())
        .col_expr(job_offer::Column::EntrepriseNom, PROBE_ATTR.into())
        .col_expr(job_offer::Column::LieuLibelle, PROBE_ATTR.into())
        .filter(job_offer::Column::Id.eq(first_offer))
        .exec(&conn)
        .await
        .expect("the offer probe");
    let first_structure: i64 = CeremaStructure::find()
        .select_only()
        .column(cerema_structure::Column::Id)
        .order_by_asc(cerema_structure::Column::Id)
        .into_tuple()
        .one(&conn)
        .await
        .expect("a query")
        .expect("a structure");
    CeremaStructure::update_many()
        .col_expr(cerema_structure::Column::RaisonSociale, PROBE_SCRIPT.into())
        .filter(cerema_structure::Column::Id.eq(first_structure))
        .exec(&conn)
        .await
        .expect("the structure probe");
    if let Some(e) = SyncError::find()
        .order_by_desc(sync_error::Column::Id)
        .one(&conn)
        .await
        .expect("a query")
    {
        SyncError::update_many()
            .col_expr(sync_error::Column::Message, PROBE_ATTR.into())
            .filter(sync_error::Column::Id.eq(e.id))
            .exec(&conn)
            .await
            .expect("the error probe");
    }
}

/// What a page answered.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

/// `serve` (API and console) on a random loopback port, stopped gracefully by
/// `shutdown`.
pub struct Console {
    pub base: String,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Console {
    pub async fn start(db: &TestDb) -> Console {
        Console::start_with(db, sagasync::serve::ServeOptions::default()).await
    }

    /// `serve` with `options` (the accounts API: `serve --accounts`).
    pub async fn start_with(db: &TestDb, options: sagasync::serve::ServeOptions) -> Console {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let conn = db.open().await;
        let task = tokio::spawn(sagasync::serve::serve_with(
            conn,
            listener,
            options,
            async {
                let _ = stopped.await;
            },
        ));
        Console {
            base,
            http: sagasync::http::client().expect("an HTTP client"),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// `GET path`, whatever the answer.
    pub async fn get(&self, path: &str) -> Answer {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("the server answers");
        Answer {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.text().await.expect("a body"),
        }
    }

    /// `GET path`, which must be a 200 HTML page sent with the security headers and
    /// with the probes escaped; its body.
    pub async fn page(&self, path: &str) -> String {
        let a = self.get(path).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_html(path, &a);
        a.body
    }

    /// `GET path`, which must be an HTML page of `status` whose body says `says`.
    pub async fn error_page(&self, path: &str, status: u16, says: &str) {
        let a = self.get(path).await;
        assert_eq!(a.status, status, "{path}: {}", a.body);
        assert_html(path, &a);
        assert!(
            a.body.contains(says),
            "{path} should say {says:?}: {}",
            a.body
        );
    }

    /// `GET path`, which must be a 200 JSON answer.
    pub async fn json(&self, path: &str) -> Value {
        let a = self.get(path).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        serde_json::from_str(&a.body)
            .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {}", a.body))
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("running");
        let done = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the server stops when told")
            .expect("the server task");
        done.expect("a clean stop");
    }
}

/// An HTML answer with the console's headers, in which no probe survives unescaped.
#[track_caller]
pub fn assert_html(path: &str, a: &Answer) {
    let header = |name: &str| {
        a.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        header("content-type").starts_with("text/html"),
        "{path}: {}",
        header("content-type")
    );
    let csp = header("content-security-policy");
    assert!(csp.contains("default-src 'none'"), "{path}: CSP {csp:?}");
    assert!(!csp.contains("unsafe-inline"), "{path}: CSP {csp:?}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    assert_eq!(header("x-frame-options"), "DENY", "{path}");
    assert_no_probe(path, &a.body);
}

/// No probe left as markup: `<script>alert`, `<img src=x` or `onerror=` outside an
/// attribute value.
#[track_caller]
pub fn assert_no_probe(path: &str, body: &str) {
    assert!(
        !body.contains("<script"),
        "{path}: a script element: {body}"
    );
    assert!(
        !body.contains("<img src=x"),
        "{path}: an injected element: {body}"
    );
    assert!(
        !body.contains("\"><img"),
        "{path}: an attribute broken out of: {body}"
    );
}
