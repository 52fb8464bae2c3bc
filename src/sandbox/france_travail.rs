//! The sandbox's France Travail "Offres d'emploi v2": the OAuth2 client-credentials token
//! exchange, the offers search with its `range` rules (150 a call, nothing past index
//! 3149) and its filters, the offer detail, and a sliding one-second rate limit, over
//! offers computed once from the seed (see `ft_data.rs`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::RwLock;

use super::data::mix;
pub use super::ft_data::DEFAULT_OFFERS;
use super::ft_data::{
    self, COMMUNES, CONTRACTS, Commune, DEPARTEMENTS, FtData, NATURES, Offer, ROMES, fold,
};
use super::{Sandbox, Shared};

/// The token endpoint's path (the real one wants `?realm=/partenaire`).
pub const AUTH_PATH: &str = "/connexion/oauth2/access_token";
/// Where the offers API lives.
pub const API_PREFIX: &str = "/partenaire/offresdemploi/v2";
/// Requests a second the two GET routes take by default.
pub const DEFAULT_RATE_LIMIT: u32 = 10;
/// Lifetime of a token, seconds (`expires_in`).
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 1499;
/// The scope granted when the request names none.
pub const DEFAULT_SCOPE: &str = "api_offresdemploiv2 o2dsoffre";
/// Offers one call can ask for.
pub const MAX_COUNT: usize = 150;
/// Highest first index of a `range`.
pub const MAX_START: usize = 3000;
/// Highest last index of a `range`.
pub const MAX_END: usize = 3149;
/// Values `publieeDepuis` accepts.
pub const SINCE_DAYS: [i64; 5] = [1, 3, 7, 14, 31];
const MAX_TOKENS: usize = 10_000;
const MAX_SEARCH_TIMES: usize = 100_000;

/// Who the France Travail part lets in, how fast, and how much it serves.
#[derive(Debug, Clone)]
pub struct FranceTravailConfig {
    pub offers: usize,
    pub client_id: String,
    pub client_secret: String,
    /// Requests per sliding second on the search and detail routes; 0: no limit.
    pub rate_limit: u32,
    pub token_ttl_secs: u64,
    /// Creation dates lie in the 90 days before this; `None`: the start time floored to
    /// the hour. Set it for data identical across runs.
    pub anchor: Option<DateTime<Utc>>,
}

impl Default for FranceTravailConfig {
    fn default() -> Self {
        FranceTravailConfig {
            offers: DEFAULT_OFFERS,
            client_id: "sandbox-client".to_owned(),
            client_secret: "sandbox-secret".to_owned(),
            rate_limit: DEFAULT_RATE_LIMIT,
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            anchor: None,
        }
    }
}

/// The part's state in the sandbox's `Shared`.
pub(super) struct FtState {
    data: RwLock<FtData>,
    /// Token → expiry.
    tokens: Mutex<HashMap<String, Instant>>,
    /// Arrivals admitted in the last second (at most `rate_limit`).
    admitted: Mutex<VecDeque<Instant>>,
    /// Arrivals of every search request (the latest [`MAX_SEARCH_TIMES`]).
    searches: Mutex<VecDeque<Instant>>,
    issued: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FtState {
    pub(super) fn new(seed: u64, config: &FranceTravailConfig) -> FtState {
        let anchor = config.anchor.unwrap_or_else(|| {
            let now = Utc::now().timestamp();
            DateTime::from_timestamp(now - now.rem_euclid(3600), 0).unwrap_or_default()
        });
        FtState {
            data: RwLock::new(FtData::new(seed, config.offers, anchor)),
            tokens: Mutex::new(HashMap::new()),
            admitted: Mutex::new(VecDeque::new()),
            searches: Mutex::new(VecDeque::new()),
            issued: AtomicU64::new(0),
        }
    }

    pub(super) async fn mutate(&self, share: f64) {
        self.data.write().await.mutate(share);
    }

    fn issue(&self, seed: u64, ttl: Duration) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let token: String = (0..27)
            .map(|k| char::from(ALPHABET[(mix(seed ^ nanos, n, k) % 62) as usize]))
            .collect();
        let now = Instant::now();
        let mut tokens = lock(&self.tokens);
        tokens.retain(|_, expiry| *expiry > now);
        while tokens.len() >= MAX_TOKENS {
            let oldest = tokens
                .iter()
                .min_by_key(|(_, e)| **e)
                .map(|(t, _)| t.clone());
            match oldest {
                Some(t) => tokens.remove(&t),
                None => break,
            };
        }
        tokens.insert(token.clone(), now + ttl);
        token
    }

    /// Admits a request unless `limit` were admitted in the last second.
    fn admit(&self, limit: u32) -> bool {
        let mut q = lock(&self.admitted);
        let now = Instant::now();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            q.pop_front();
        }
        if q.len() >= limit as usize {
            return false;
        }
        q.push_back(now);
        true
    }
}

/// The France Travail side of a running sandbox.
impl Sandbox {
    /// The token endpoint (`FRANCE_TRAVAIL_AUTH_URL`), with `?realm=/partenaire`.
    pub fn ft_auth_url(&self) -> String {
        format!("{}{AUTH_PATH}?realm=/partenaire", self.shared.origin)
    }

    /// The offers API's base (`FRANCE_TRAVAIL_API_URL`); `/offres/search` follows.
    pub fn ft_api_url(&self) -> String {
        format!("{}{API_PREFIX}", self.shared.origin)
    }

    pub fn ft_client_id(&self) -> String {
        self.shared.config.france_travail.client_id.clone()
    }

    pub fn ft_client_secret(&self) -> String {
        self.shared.config.france_travail.client_secret.clone()
    }

    /// What a client needs to reach this sandbox: its URLs and credentials, the
    /// client's default scope and rate, 3 retries and `timeout`.
    pub fn ft_settings(&self, timeout: Duration) -> crate::france_travail::FtSettings {
        crate::france_travail::FtSettings {
            auth_url: self.ft_auth_url(),
            api_url: self.ft_api_url(),
            client_id: self.ft_client_id(),
            client_secret: crate::secret::Secret::new(self.ft_client_secret()),
            scope: crate::france_travail::DEFAULT_SCOPE.to_owned(),
            timeout,
            max_retries: 3,
            rate: crate::france_travail::DEFAULT_RATE,
        }
    }

    /// When each `offres/search` request arrived (401s and 429s included), oldest first.
    pub fn ft_search_times(&self) -> Vec<Instant> {
        lock(&self.shared.ft.searches).iter().copied().collect()
    }

    /// Expires every token issued so far: the next call with one gets a 401.
    pub fn ft_expire_tokens(&self) {
        let now = Instant::now();
        for expiry in lock(&self.shared.ft.tokens).values_mut() {
            *expiry = now;
        }
    }

    /// The ids of every offer a search with `query` (e.g. `departement=75&typeContrat=CDI`,
    /// or `""` for all) matches, in the API's order, ignoring `range` and its cap.
    pub async fn ft_offer_ids(&self, query: &str) -> Result<Vec<String>, String> {
        let filter = Filter::parse(&params(query), Utc::now().timestamp()).map_err(|e| e.0)?;
        let data = self.shared.ft.data.read().await;
        Ok(filter
            .select(&data)
            .iter()
            .map(|o| o.id().to_owned())
            .collect())
    }

    /// The instant creation dates are counted back from (90 days of offers before it).
    pub async fn ft_anchor(&self) -> DateTime<Utc> {
        self.shared.ft.data.read().await.anchor()
    }
}

/// The France Travail routes, relative to the server's root.
pub(super) fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let api = Router::new()
        .route(&format!("{API_PREFIX}/offres/search"), get(search))
        .route(&format!("{API_PREFIX}/offres/{{id}}"), get(offer))
        .layer(middleware::from_fn_with_state(shared.clone(), bearer))
        .layer(middleware::from_fn_with_state(shared.clone(), rate_limit));
    Router::new()
        .route(AUTH_PATH, post(token))
        .merge(api)
        .layer(middleware::from_fn_with_state(shared, super::faults))
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({ "error": error, "error_description": description });
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// A refused parameter: the message of the 400.
#[derive(Debug, PartialEq)]
pub struct Invalid(pub String);

fn invalid(text: impl Into<String>) -> Invalid {
    Invalid(text.into())
}

fn bad_request(e: Invalid) -> Response {
    let body = json!({ "codeHttp": 400, "message": e.0, "codeErreur": "PARAMETRE_INVALIDE" });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Reads `range=p-d` (zero-based, both inclusive) under the API's rules.
pub fn parse_range(v: &str) -> Result<(usize, usize), Invalid> {
    let parsed = v
        .split_once('-')
        .map(|(a, b)| (a.trim().parse::<usize>(), b.trim().parse::<usize>()));
    let Some((Ok(p), Ok(d))) = parsed else {
        return Err(invalid(format!(
            "Le paramètre range « {v} » est invalide : il doit être de la forme p-d (par exemple 0-149)."
        )));
    };
    if d < p {
        return Err(invalid(
            "La position de début doit être inférieure ou égale à la position de fin.",
        ));
    }
    if d > MAX_END {
        return Err(invalid(format!(
            "La position de fin doit être inférieure ou égale à {MAX_END}."
        )));
    }
    if p > MAX_START {
        return Err(invalid(format!(
            "La position de début doit être inférieure ou égale à {MAX_START}."
        )));
    }
    if d - p + 1 > MAX_COUNT {
        return Err(invalid(format!(
            "Le nombre d'éléments demandés doit être inférieur ou égal à {MAX_COUNT}."
        )));
    }
    Ok((p, d))
}

type Params = HashMap<String, String>;

fn params(query: &str) -> Params {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// A comma list parameter; absent when missing or empty.
fn list<'a>(p: &'a Params, key: &str) -> Option<Vec<&'a str>> {
    let items: Vec<&str> = p
        .get(key)?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    (!items.is_empty()).then_some(items)
}

fn one<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// `yyyy-MM-ddTHH:mm:ssZ` as Unix seconds.
fn api_date(p: &Params, key: &str) -> Result<Option<i64>, Invalid> {
    let Some(v) = one(p, key) else {
        return Ok(None);
    };
    NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%SZ")
        .map(|t| Some(t.and_utc().timestamp()))
        .map_err(|_| {
            invalid(format!(
                "Le paramètre {key} « {v} » doit être au format yyyy-MM-ddTHH:mm:ssZ."
            ))
        })
}

fn km_between(a: &Commune, b: &Commune) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let (dlat, dlon) = (la2 - la1, (b.lon - a.lon).to_radians());
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Whether an offer in `c` answers a search on commune `code` within `km`.
fn near(code: &str, c: &Commune, km: u32) -> bool {
    if c.insee == code || (code == "75056" && c.dep == "75") {
        return true;
    }
    km > 0
        && COMMUNES
            .iter()
            .find(|x| x.insee == code)
            .is_some_and(|x| km_between(x, c) <= f64::from(km))
}

/// A search's filters, as masks over the tables where it can.
struct Filter {
    places: Vec<bool>,
    romes: Vec<bool>,
    contracts: Vec<bool>,
    /// `experience`: 1 (beginners), 2 (1 to 3 years), 3 (more).
    experience: Option<u8>,
    /// `natureContrat`: the label of the nature asked.
    nature: Option<&'static str>,
    /// `tempsPlein`: offers saying they are full time (or part time).
    full_time: Option<bool>,
    /// `entrepriseAdaptee`: true keeps the offers of adapted companies, false the others.
    adapted: Option<bool>,
    /// `salaireMin` + `periodeSalaire`, in euros a month: offers whose pay can reach it.
    min_monthly: Option<f64>,
    created: (i64, i64),
    keywords: Vec<String>,
}

/// `true` or `false`, as the API reads a boolean parameter.
fn boolean(p: &Params, key: &str) -> Result<Option<bool>, Invalid> {
    match one(p, key) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(v) => Err(invalid(format!(
            "Le paramètre {key} « {v} » est invalide : true ou false."
        ))),
    }
}

/// `salaireMin` with `periodeSalaire` (each needs the other), as euros a month.
fn min_salary(p: &Params) -> Result<Option<f64>, Invalid> {
    let (amount, period) = match (one(p, "salaireMin"), one(p, "periodeSalaire")) {
        (None, None) => return Ok(None),
        (Some(a), Some(period)) => (a, period),
        _ => {
            return Err(invalid(
                "salaireMin et periodeSalaire doivent être renseignés ensemble.",
            ));
        }
    };
    let Ok(amount) = amount.parse::<u32>() else {
        return Err(invalid(format!(
            "Le salaire minimum « {amount} » doit être un nombre entier d'euros."
        )));
    };
    let amount = f64::from(amount);
    Ok(Some(match period {
        "M" => amount,
        "A" => amount / 12.0,
        "H" => amount * ft_data::HOURS_A_MONTH,
        // No offer here is paid per engagement (cachet): none reaches it.
        "C" => f64::INFINITY,
        _ => {
            return Err(invalid(format!(
                "La période de salaire « {period} » est invalide : M, A, H ou C."
            )));
        }
    }))
}

impl Filter {
    fn parse(p: &Params, now: i64) -> Result<Filter, Invalid> {
        let mut places = vec![true; COMMUNES.len()];
        if let Some(codes) = list(p, "commune") {
            let km = match one(p, "distance").map(str::parse::<u32>) {
                None => 0,
                Some(Ok(km)) => km,
                Some(Err(_)) => {
                    return Err(invalid(
                        "La distance doit être un nombre entier de kilomètres.",
                    ));
                }
            };
            for (ok, c) in places.iter_mut().zip(COMMUNES) {
                *ok &= codes.iter().any(|code| near(code, c, km));
            }
        }
        if let Some(deps) = list(p, "departement") {
            for (ok, c) in places.iter_mut().zip(COMMUNES) {
                *ok &= deps.contains(&c.dep);
            }
        }
        if let Some(region) = one(p, "region") {
            for (ok, c) in places.iter_mut().zip(COMMUNES) {
                *ok &= DEPARTEMENTS
                    .iter()
                    .any(|d| d.code == c.dep && d.region == region);
            }
        }
        let mut romes = vec![true; ROMES.len()];
        if let Some(codes) = list(p, "codeROME") {
            for (ok, r) in romes.iter_mut().zip(ROMES) {
                *ok &= codes.iter().any(|c| c.eq_ignore_ascii_case(r.code));
            }
        }
        if let Some(sectors) = list(p, "secteurActivite") {
            for (ok, r) in romes.iter_mut().zip(ROMES) {
                *ok &= sectors.contains(&r.naf_division());
            }
        }
        match one(p, "qualification") {
            None => {}
            Some(q @ ("0" | "9")) => {
                for (ok, r) in romes.iter_mut().zip(ROMES) {
                    *ok &= (r.qualification == "9") == (q == "9");
                }
            }
            Some(q) => {
                return Err(invalid(format!(
                    "La qualification « {q} » est invalide : 0 (non cadre) ou 9 (cadre)."
                )));
            }
        }
        let contracts = match list(p, "typeContrat") {
            None => vec![true; CONTRACTS.len()],
            Some(codes) => CONTRACTS.iter().map(|c| codes.contains(&c.0)).collect(),
        };
        let experience = match one(p, "experience") {
            None => None,
            Some(e @ ("1" | "2" | "3")) => e.parse().ok(),
            Some(e) => {
                return Err(invalid(format!(
                    "L'expérience « {e} » est invalide : 1, 2 ou 3."
                )));
            }
        };
        let nature = match one(p, "natureContrat") {
            None => None,
            Some(code) => match NATURES.iter().find(|(c, _)| *c == code) {
                Some((_, label)) => Some(*label),
                None => {
                    return Err(invalid(format!(
                        "La nature de contrat « {code} » est inconnue."
                    )));
                }
            },
        };
        let (full_time, adapted) = (boolean(p, "tempsPlein")?, boolean(p, "entrepriseAdaptee")?);
        let min_monthly = min_salary(p)?;
        let mut created = (i64::MIN, i64::MAX);
        if let Some(v) = one(p, "publieeDepuis") {
            match v.parse::<i64>() {
                Ok(days) if SINCE_DAYS.contains(&days) => created.0 = now - days * 86_400,
                _ => {
                    return Err(invalid(format!(
                        "La valeur « {v} » de publieeDepuis est invalide : 1, 3, 7, 14 ou 31."
                    )));
                }
            }
        }
        match (
            api_date(p, "minCreationDate")?,
            api_date(p, "maxCreationDate")?,
        ) {
            (None, None) => {}
            (Some(min), Some(max)) if min <= max => created = (created.0.max(min), max),
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "minCreationDate doit être antérieure ou égale à maxCreationDate.",
                ));
            }
            _ => {
                return Err(invalid(
                    "minCreationDate et maxCreationDate doivent être renseignées ensemble.",
                ));
            }
        }
        match one(p, "sort") {
            None | Some("0" | "1" | "2") => {}
            Some(s) => return Err(invalid(format!("Le tri « {s} » est invalide : 0, 1 ou 2."))),
        }
        let keywords = list(p, "motsCles")
            .unwrap_or_default()
            .into_iter()
            .map(fold)
            .collect();
        Ok(Filter {
            places,
            romes,
            contracts,
            experience,
            nature,
            full_time,
            adapted,
            min_monthly,
            created,
            keywords,
        })
    }

    /// Whether the offer's contract nature, working time, company and pay are the ones
    /// asked (an offer that does not say is kept only when nothing is asked of it).
    fn keeps_the_terms_of(&self, data: &FtData, o: &Offer) -> bool {
        self.nature
            .is_none_or(|n| data.nature(o).is_some_and(|(_, label)| label == n))
            && self
                .full_time
                .is_none_or(|f| data.work_time(o).is_some_and(|(_, full)| full == f))
            && self
                .adapted
                .is_none_or(|a| data.adapted(o).unwrap_or(false) == a)
            && self
                .min_monthly
                .is_none_or(|min| data.pay(o).is_some_and(|pay| pay.monthly_top() >= min))
    }

    /// The offers that match, in the API's order.
    fn select<'a>(&self, data: &'a FtData) -> Vec<&'a Offer> {
        let keep = |(i, o): &(usize, &Offer)| {
            self.places[o.commune as usize]
                && self.romes[o.rome as usize]
                && self.contracts[o.contract as usize]
                && (self.created.0..=self.created.1).contains(&o.created)
                && self.experience.is_none_or(|e| e == o.experience_level())
                && self.keeps_the_terms_of(data, o)
                && (self.keywords.is_empty() || {
                    let text = data.folded_text(*i);
                    self.keywords.iter().all(|k| text.contains(k.as_str()))
                })
        };
        data.offers()
            .iter()
            .enumerate()
            .filter(keep)
            .map(|(_, o)| o)
            .collect()
    }
}

async fn rate_limit(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if req.uri().path().ends_with("/offres/search") {
        let mut times = lock(&s.ft.searches);
        if times.len() >= MAX_SEARCH_TIMES {
            times.pop_front();
        }
        times.push_back(Instant::now());
    }
    let limit = s.config.france_travail.rate_limit;
    if limit > 0 && !s.ft.admit(limit) {
        let text =
            format!("Limite de {limit} appels par seconde dépassée : réessayez dans une seconde.");
        let mut r = message(StatusCode::TOO_MANY_REQUESTS, &text);
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    }
    next.run(req).await
}

async fn bearer(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Bearer "))
        .map(str::trim);
    let expiry = given.and_then(|t| lock(&s.ft.tokens).get(t).copied());
    let refusal = match (given, expiry) {
        (None, _) => "Jeton d'accès absent : Authorization: Bearer <token> attendu.",
        (Some(_), None) => "Jeton d'accès invalide.",
        (Some(_), Some(e)) if e <= Instant::now() => "Jeton d'accès expiré.",
        _ => return next.run(req).await,
    };
    let mut r = message(StatusCode::UNAUTHORIZED, refusal);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    r
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let form: Params = url::form_urlencoded::parse(&body).into_owned().collect();
    match form.get("grant_type").map(String::as_str) {
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing grant_type parameter value",
            );
        }
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only client_credentials is supported",
            );
        }
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|b| b.split_once(':').map(|(i, s)| (i.to_owned(), s.to_owned())));
    let (id, secret) = match (form.get("client_id"), form.get("client_secret"), basic) {
        (Some(i), Some(s), _) => (i.clone(), s.clone()),
        (_, _, Some(pair)) => pair,
        _ => (String::new(), String::new()),
    };
    let c = &s.config.france_travail;
    if id != c.client_id || secret != c.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let scope = form
        .get("scope")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .unwrap_or(DEFAULT_SCOPE);
    let token =
        s.ft.issue(s.config.seed, Duration::from_secs(c.token_ttl_secs));
    let body = json!({ "scope": scope, "expires_in": c.token_ttl_secs, "token_type": "Bearer", "access_token": token });
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

async fn search(State(s): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let p = params(query.as_deref().unwrap_or_default());
    let (first, last) = match one(&p, "range").map(parse_range) {
        None => (0, MAX_COUNT - 1),
        Some(Ok(r)) => r,
        Some(Err(e)) => return bad_request(e),
    };
    let filter = match Filter::parse(&p, Utc::now().timestamp()) {
        Ok(f) => f,
        Err(e) => return bad_request(e),
    };
    let data = s.ft.data.read().await;
    let matches = filter.select(&data);
    let total = matches.len();
    if first >= total {
        return StatusCode::NO_CONTENT.into_response();
    }
    let last = last.min(total - 1);
    let results: Vec<Value> = matches[first..=last].iter().map(|o| data.json(o)).collect();
    let status = if first == 0 && last == total - 1 {
        StatusCode::OK
    } else {
        StatusCode::PARTIAL_CONTENT
    };
    let body =
        json!({ "resultats": results, "filtresPossibles": ft_data::possible_filters(&matches) });
    let headers = [
        (
            header::CONTENT_RANGE,
            format!("offres {first}-{last}/{total}"),
        ),
        (
            HeaderName::from_static("accept-range"),
            format!("offres {MAX_COUNT}"),
        ),
    ];
    (status, headers, Json(body)).into_response()
}

async fn offer(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let data = s.ft.data.read().await;
    match data.get(id.trim()) {
        Some(o) => Json(data.json(o)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_the_api_rules() {
        assert_eq!(parse_range("0-149"), Ok((0, 149)));
        assert_eq!(parse_range(" 150 - 299 "), Ok((150, 299)));
        assert_eq!(parse_range("3000-3149"), Ok((3000, 3149)));
        assert_eq!(parse_range("7-7"), Ok((7, 7)));
        let message = |v: &str| parse_range(v).err().map(|e| e.0).unwrap_or_default();
        assert!(
            message("0-150").contains("inférieur ou égal à 150"),
            "{}",
            message("0-150")
        );
        assert!(
            message("3001-3010").contains("position de début doit être inférieure ou égale à 3000")
        );
        assert!(
            message("3000-3150").contains("position de fin doit être inférieure ou égale à 3149")
        );
        assert!(message("10-5").contains("position de fin"));
        for garbage in [
            "",
            "abc",
            "5",
            "-5",
            "1-",
            "a-b",
            "1-2-3",
            "99999999999999999999999-1",
            "0x1-2",
        ] {
            assert!(
                message(garbage).contains("de la forme p-d"),
                "{garbage:?}: {}",
                message(garbage)
            );
        }
    }

    #[test]
    fn filters_refuse_what_the_api_refuses() {
        let parse = |q: &str| Filter::parse(&params(q), 1_800_000_000).map(|_| ());
        assert!(parse("").is_ok());
        assert!(
            parse("publieeDepuis=31&sort=1&distance=x").is_ok(),
            "distance without commune"
        );
        assert!(parse("publieeDepuis=5").is_err());
        assert!(parse("minCreationDate=2026-01-01T00:00:00Z").is_err());
        assert!(
            parse("minCreationDate=2026-01-01T00:00:00Z&maxCreationDate=2026-01-02T00:00:00Z")
                .is_ok()
        );
        assert!(
            parse("minCreationDate=2026-01-03T00:00:00Z&maxCreationDate=2026-01-02T00:00:00Z")
                .is_err()
        );
        assert!(parse("minCreationDate=2026-01-01&maxCreationDate=2026-01-02T00:00:00Z").is_err());
        assert!(parse("commune=75111&distance=-3").is_err());
        assert!(parse("sort=4").is_err());
        assert!(parse("experience=4").is_err());
        for bad in [
            "natureContrat=Z9",
            "tempsPlein=oui",
            "entrepriseAdaptee=1",
            "salaireMin=1800",
            "periodeSalaire=M",
            "salaireMin=beaucoup&periodeSalaire=M",
            "salaireMin=1800&periodeSalaire=S",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        for fine in [
            "natureContrat=FS",
            "tempsPlein=false",
            "entrepriseAdaptee=true",
            "salaireMin=1800&periodeSalaire=M",
            "salaireMin=12&periodeSalaire=H",
        ] {
            assert!(parse(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn paris_stands_for_its_arrondissements_and_distance_reaches_neighbours() {
        let by = |code: &str| COMMUNES.iter().find(|c| c.insee == code).expect(code);
        assert!(near("75056", by("75111"), 0));
        assert!(!near("75111", by("75112"), 0));
        assert!(near("75111", by("75112"), 5));
        assert!(!near("75111", by("13055"), 50));
        assert!(
            near("13055", by("13005"), 20),
            "Aubagne is 16 km from Marseille"
        );
    }
}
