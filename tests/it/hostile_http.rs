//! Upstreams that misbehave: redirects to another origin or in circles, endless or
//! oversized answers, maintenance pages and cut answers with status 200, and settings
//! that cannot work. Everything stays on loopback.

mod body_cap;
mod not_json;
mod redirects;
mod settings;

use std::time::Duration;

use sagasync::b2b::B2bClient;
use sagasync::cerema::{CeremaAuth, CeremaClient, CeremaSettings};
use sagasync::france_travail::{FtClient, FtSettings};
use sagasync::http::HttpOptions;
use sagasync::secret::Secret;

/// The Cerema token the tests send.
const CEREMA_TOKEN: &str = "cerema-hostile-token";
/// The France Travail client secret the tests send.
const FT_SECRET: &str = "ft-hostile-s3cr3t";

/// Default caps, retries paced in milliseconds rather than seconds.
fn fast() -> HttpOptions {
    HttpOptions {
        retry_min_delay: Duration::from_millis(5),
        retry_max_delay: Duration::from_millis(20),
        ..HttpOptions::default()
    }
}

/// A B2B client for `base` with quick retries.
fn b2b(base: &str, max_retries: u32) -> B2bClient {
    crate::helpers::b2b_client(base, max_retries, 5000).with_http_options(fast())
}

/// A Cerema client for `base` with a Bearer token and quick retries.
fn cerema(base: &str, max_retries: u32) -> CeremaClient {
    CeremaClient::new(&CeremaSettings {
        base_url: base.to_owned(),
        auth: CeremaAuth::Token(Secret::new(CEREMA_TOKEN)),
        timeout: Duration::from_secs(5),
        max_retries,
    })
    .expect("a valid client")
    .with_http_options(fast())
}

/// A France Travail client whose token endpoint is `{base}/token` and whose API is
/// `{base}/v2`, with quick retries.
fn france_travail(base: &str, max_retries: u32) -> FtClient {
    FtClient::new(FtSettings {
        auth_url: format!("{base}/token?realm=/partenaire"),
        api_url: format!("{base}/v2"),
        client_id: "client".into(),
        client_secret: Secret::new(FT_SECRET),
        scope: "api_offresdemploiv2 o2dsoffre".into(),
        timeout: Duration::from_secs(5),
        max_retries,
        rate: 100.0,
    })
    .expect("a valid client")
    .with_http_options(fast())
}
