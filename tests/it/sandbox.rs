//! The sandbox, tested like a product: its contract with UPSTREAM.md, determinism for
//! a seed, each fault mode, and a sync through faults.

use std::time::{Duration, Instant};

use sagasync::sandbox::{Faults, Sandbox, SandboxConfig};
use sagasync::sync::products::{ProductSyncOptions, sync_products};
use sagasync::sync::{Interrupt, no_observer};
use serde_json::Value;

use crate::helpers::{Backend, run_on};

const KEY: &str = "b2c_1_sandbox_test";

async fn start(faults: Faults, products: usize) -> Sandbox {
    let config = SandboxConfig {
        seed: 7,
        categories: 40,
        products,
        api_key: KEY.into(),
        faults,
        ..SandboxConfig::default()
    };
    Sandbox::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("the sandbox starts")
}

async fn get(url: &str, key: Option<&str>) -> reqwest::Response {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut req = reqwest::Client::new()
        .get(url)
        .timeout(Duration::from_secs(10));
    if let Some(k) = key {
        req = req.header("X-API-Key", k);
    }
    req.send().await.expect("an answer")
}

async fn json(url: &str) -> Value {
    let r = get(url, Some(KEY)).await;
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.expect("JSON")
}

#[tokio::test]
async fn the_b2b_api_follows_the_upstream_contract() {
    let sb = start(Faults::default(), 250).await;
    let base = sb.b2b_url();

    let cats = json(&format!("{base}/b2c/categories/")).await;
    assert_eq!(cats.as_array().map(Vec::len), Some(40), "a bare list");
    assert!(
        cats.as_array()
            .into_iter()
            .flatten()
            .any(|c| c.get("parent").is_some())
    );
    assert!(
        cats.as_array()
            .into_iter()
            .flatten()
            .any(|c| c.get("parent_id").is_some_and(|p| p.is_i64()))
    );

    let first = json(&format!("{base}/b2c/products/?page=1&page_size=100")).await;
    assert_eq!(first["count"], 250);
    assert_eq!(first["results"].as_array().map(Vec::len), Some(100));
    assert_eq!(first["previous"], Value::Null);
    let next = first["next"].as_str().expect("an absolute next").to_owned();
    assert!(next.starts_with(&base) && next.contains("page=2"), "{next}");
    let last = json(&format!("{base}/b2c/products/?page=3&page_size=100")).await;
    assert_eq!(
        (last["results"].as_array().map(Vec::len), &last["next"]),
        (Some(50), &Value::Null)
    );
    let default = json(&format!("{base}/b2c/products/")).await;
    assert_eq!(
        default["results"].as_array().map(Vec::len),
        Some(20),
        "DRF's default page size"
    );

    let site = json(&format!(
        "{base}/b2c/products/?page=1&page_size=1000&site_id=2"
    ))
    .await;
    let n = site["count"].as_u64().expect("count");
    assert!((80..=100).contains(&n), "{n}");
    assert!(site["results"].as_array().into_iter().flatten().all(|p| {
        p["site_ids"]
            .as_array()
            .is_some_and(|s| s.contains(&Value::from(2)))
    }));

    let id = first["results"][0]["id"].as_i64().expect("id");
    let detail = json(&format!("{base}/b2c/products/{id}/")).await;
    assert_eq!(detail["id"], id);
    assert!(
        detail.get("description_text").is_some(),
        "the detail is richer"
    );

    assert_eq!(
        get(
            &format!("{base}/b2c/products/?page=9&page_size=100"),
            Some(KEY)
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        get(&format!("{base}/b2c/products/"), None).await.status(),
        403
    );
    assert_eq!(
        get(&format!("{base}/b2c/products/"), Some("b2c_1_wrong"))
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn the_same_seed_serves_the_same_bytes() {
    let (a, b) = (
        start(Faults::default(), 50).await,
        start(Faults::default(), 50).await,
    );
    let path = "/b2c/products/?page=1&page_size=50";
    assert_eq!(
        json(&format!("{}{path}", a.b2b_url())).await["results"],
        json(&format!("{}{path}", b.b2b_url())).await["results"]
    );
    assert_eq!(
        json(&format!("{}/b2c/categories/", a.b2b_url())).await,
        json(&format!("{}/b2c/categories/", b.b2b_url())).await
    );
}

#[tokio::test]
async fn mutate_changes_about_the_share_asked() {
    let sb = start(Faults::default(), 1000).await;
    let url = format!("{}/b2c/products/?page=1&page_size=1000", sb.b2b_url());
    let before = json(&url).await["results"].clone();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let r = reqwest::Client::new()
        .post(format!("http://{}/sandbox/mutate?share=0.2", sb.addr))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let after = json(&url).await["results"].clone();
    let changed = (0..1000).filter(|i| before[i] != after[i]).count();
    assert!((150..250).contains(&changed), "{changed}");
}

#[tokio::test]
async fn each_fault_mode_answers_as_configured() {
    let check = |faults: Faults| async move {
        let sb = start(faults, 10).await;
        let started = Instant::now();
        let r = get(
            &format!("{}/b2c/products/?page=1&page_size=10", sb.b2b_url()),
            Some(KEY),
        )
        .await;
        let status = r.status().as_u16();
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let kind = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = r.text().await.unwrap_or_default();
        (status, retry_after, kind, body, started.elapsed())
    };
    let (status, ..) = check(Faults {
        server_error: 1.0,
        ..Faults::default()
    })
    .await;
    assert!(status == 502 || status == 503, "{status}");
    let (status, retry, ..) = check(Faults {
        rate_limit: 1.0,
        retry_after_secs: 3,
        ..Faults::default()
    })
    .await;
    assert_eq!((status, retry.as_deref()), (429, Some("3")));
    let (status, .., took) = check(Faults {
        slow: 1.0,
        slow_ms: 600,
        ..Faults::default()
    })
    .await;
    assert!(
        status == 200 && took >= Duration::from_millis(600),
        "{took:?}"
    );
    let (status, _, _, body, _) = check(Faults {
        truncated: 1.0,
        ..Faults::default()
    })
    .await;
    assert_eq!(status, 200);
    assert!(
        serde_json::from_str::<Value>(&body).is_err(),
        "the body is cut short"
    );
    let (status, _, kind, body, _) = check(Faults {
        html: 1.0,
        ..Faults::default()
    })
    .await;
    assert!(
        status == 200 && kind.starts_with("text/html") && body.contains("<html>"),
        "{kind}"
    );
}

#[tokio::test]
async fn a_sync_through_transient_faults_gets_every_product() {
    run_on(Backend::Sqlite, |db| async move {
        let conn = db.open().await;
        let faults = Faults {
            server_error: 0.2,
            rate_limit: 0.1,
            retry_after_secs: 0,
            ..Faults::default()
        };
        let sb = start(faults, 500).await;
        let key = sagasync::keys::ActiveKey {
            id: None,
            name: "sandbox".into(),
            secret: sagasync::secret::Secret::new(KEY),
        };
        let settings = sagasync::b2b::B2bSettings {
            base_url: sb.b2b_url(),
            timeout: Duration::from_secs(5),
            max_retries: 8,
        };
        let client = sagasync::b2b::B2bClient::new(&settings, key).expect("client");
        let opts = ProductSyncOptions {
            page_size: 50,
            ..ProductSyncOptions::default()
        };

        let report = sync_products(&conn, &client, &opts, no_observer(), &Interrupt::new())
            .await
            .expect("completes");

        assert_eq!(report.stats.total, 500);
        assert_eq!(report.stats.created + report.stats.errors, 500);
        assert!(
            sb.requests() > 10,
            "faults forced retries: {} requests",
            sb.requests()
        );
    })
    .await;
}
