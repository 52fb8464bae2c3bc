//! The accounts API of `serve --accounts`: register, login (a bearer token), logout,
//! and each person's own profile under `/api/me` (account, skills, experiences,
//! education). Merged into the router only when `--accounts` is given; these are the
//! only routes that write, and only the profile tables, through `crate::profiles`.
//!
//! Invariant: every `/api/me` route reads the account from the bearer token alone and
//! passes its id to the store, whose queries filter by it: no route takes an account id.
//! Passwords are never logged nor answered; logins are throttled per account and per
//! TCP peer address (`ConnectInfo`, never a header a client can forge).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use entity::account;
use entity::prelude::{ProfileEducation, ProfileExperience, ProfileSkill};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::{ApiError, AppState, routes};
use crate::profiles::ProfileError;
use crate::profiles::auth;
use crate::profiles::store::{self, AccountInput, AccountView, Item};
use crate::profiles::throttle::{Throttle, ThrottleRules, account_key, address_key};
use crate::secret::Secret;
use crate::skills::recommend::{Near, RecommendError, RecommendOptions, profile_skills, recommend};

/// Largest request body of an accounts route; larger is 413.
pub const MAX_ACCOUNT_BODY_BYTES: usize = 16 * 1024;

/// What `--accounts` turns on, with its rules.
#[derive(Debug, Clone, Copy)]
pub struct AccountsOptions {
    pub throttle: ThrottleRules,
    pub token_ttl: Duration,
}

impl Default for AccountsOptions {
    fn default() -> Self {
        AccountsOptions {
            throttle: ThrottleRules::default(),
            token_ttl: auth::TOKEN_TTL,
        }
    }
}

struct AccountsState {
    db: DatabaseConnection,
    throttle: Throttle,
    token_ttl: Duration,
}

type St = State<Arc<AccountsState>>;
type Body = Result<Bytes, BytesRejection>;

/// The accounts routes, with their own state and body cap, to merge into the API's.
pub fn routes(db: DatabaseConnection, options: AccountsOptions) -> Router<Arc<AppState>> {
    let state = Arc::new(AccountsState {
        db,
        throttle: Throttle::new(options.throttle),
        token_ttl: options.token_ttl,
    });
    Router::new()
        .route("/api/register", post(register))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me).put(put_me))
        .route("/api/me/password", put(put_password))
        .route("/api/me/recommendations", get(recommendations))
        .merge(item_routes::<ProfileSkill>("/api/me/skills"))
        .merge(item_routes::<ProfileExperience>("/api/me/experiences"))
        .merge(item_routes::<ProfileEducation>("/api/me/education"))
        .layer(DefaultBodyLimit::max(MAX_ACCOUNT_BODY_BYTES))
        .with_state(state)
}

/// An answer that is not a success.
enum Fail {
    Api(ApiError),
    /// 401 with `WWW-Authenticate: Bearer`.
    Unauthorized(String),
    /// 429 with `Retry-After`.
    Locked(Duration),
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Fail::Api(e)
    }
}

impl From<sea_orm::DbErr> for Fail {
    fn from(e: sea_orm::DbErr) -> Self {
        Fail::Api(e.into())
    }
}

impl From<anyhow::Error> for Fail {
    fn from(e: anyhow::Error) -> Self {
        Fail::Api(e.into())
    }
}

impl From<ProfileError> for Fail {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::Invalid(m) => ApiError::bad(m).into(),
            ProfileError::EmailTaken(_) => ApiError(StatusCode::CONFLICT, e.to_string()).into(),
            ProfileError::NoAccount(_) => {
                Fail::Unauthorized("this account no longer exists".into())
            }
            ProfileError::NoItem(..) => ApiError::not_found(e.to_string()).into(),
            ProfileError::Db(e) => e.into(),
        }
    }
}

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        match self {
            Fail::Api(e) => e.into_response(),
            Fail::Unauthorized(msg) => {
                let mut r = ApiError(StatusCode::UNAUTHORIZED, msg).into_response();
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
                r
            }
            Fail::Locked(wait) => {
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let secs = secs.max(1);
                let mut r = ApiError(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("too many failed logins: try again in {secs} s"),
                )
                .into_response();
                if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
        }
    }
}

type Answer = Result<Response, Fail>;

/// The body, read as `T` (unknown fields refused), or a 400 saying what is wrong.
fn body<T: DeserializeOwned>(b: Body) -> Result<T, Fail> {
    let b = b.map_err(|r| ApiError(r.status(), r.body_text()))?;
    serde_json::from_slice(&b).map_err(|e| {
        ApiError::bad(format!("the body is not the JSON this route takes: {e}")).into()
    })
}

fn ok(status: StatusCode, v: impl serde::Serialize) -> Answer {
    Ok((status, Json(v)).into_response())
}

/// The account of the request's bearer token.
async fn caller(s: &AccountsState, headers: &HeaderMap) -> Result<account::Model, Fail> {
    let token = bearer(headers)?;
    auth::authenticate(&s.db, &token).await?.ok_or_else(|| {
        Fail::Unauthorized(
            "the token is unknown, expired or revoked: log in again (POST /api/login)".into(),
        )
    })
}

/// The token of `Authorization: Bearer TOKEN` (64 hex digits).
fn bearer(headers: &HeaderMap) -> Result<String, Fail> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            Fail::Unauthorized(
                "an `Authorization: Bearer TOKEN` header is required (POST /api/login gives a token)"
                    .into(),
            )
        })?;
    let token = value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| t.len() == 2 * auth::TOKEN_BYTES && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            Fail::Unauthorized("the Authorization header is not `Bearer TOKEN`".into())
        })?;
    Ok(token.to_ascii_lowercase())
}

/// A password given in a body; no `Debug`, so it cannot reach a log.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    email: String,
    name: String,
    #[serde(default)]
    phone: Option<String>,
    password: String,
}

async fn register(State(s): St, b: Body) -> Answer {
    let RegisterBody {
        email,
        name,
        phone,
        password,
    } = body(b)?;
    let input = AccountInput { email, name, phone };
    let password = Secret::new(password);
    store::email(&input.email)?;
    auth::check_password(&password, &input.email).map_err(ApiError::bad)?;
    if store::find_by_email(&s.db, &input.email).await?.is_some() {
        return Err(ProfileError::EmailTaken(input.email.trim().to_owned()).into());
    }
    let hash = hash_off_thread(password).await?;
    let account = store::add_account(&s.db, &input, Some(hash)).await?;
    ok(StatusCode::CREATED, AccountView::from(account))
}

async fn hash_off_thread(password: Secret) -> Result<String, Fail> {
    Ok(
        tokio::task::spawn_blocking(move || auth::hash_password(&password))
            .await
            .map_err(anyhow::Error::from)??,
    )
}

async fn verify_off_thread(password: Secret, stored: Option<String>) -> Result<bool, Fail> {
    Ok(
        tokio::task::spawn_blocking(move || auth::verify_password(&password, stored.as_deref()))
            .await
            .map_err(anyhow::Error::from)?,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
}

async fn login(State(s): St, ConnectInfo(peer): ConnectInfo<SocketAddr>, b: Body) -> Answer {
    let LoginBody { email, password } = body(b)?;
    let password = Secret::new(password);
    let (acc, addr) = (account_key(&email), address_key(peer.ip()));
    if let Err(wait) = s.throttle.check(&[&acc, &addr], std::time::Instant::now()) {
        return Err(Fail::Locked(wait));
    }
    let account = store::find_by_email(&s.db, &email).await?;
    let stored = account.as_ref().and_then(|a| a.password_hash.clone());
    let right = verify_off_thread(password, stored).await?;
    match account {
        Some(a) if right => {
            s.throttle.succeeded(&acc);
            if a.disabled {
                return Err(
                    ApiError(StatusCode::FORBIDDEN, "this account is disabled".into()).into(),
                );
            }
            auth::purge_expired(&s.db).await?;
            let login = auth::issue_token(&s.db, a.id, s.token_ttl).await?;
            ok(
                StatusCode::OK,
                json!({
                    "token": login.token.expose(),
                    "token_type": "Bearer",
                    "expires_at": login.expires_at,
                }),
            )
        }
        _ => {
            let delay = s.throttle.failed(&acc, &addr, std::time::Instant::now());
            tokio::time::sleep(delay).await;
            Err(Fail::Unauthorized("wrong email or password".into()))
        }
    }
}

async fn logout(State(s): St, headers: HeaderMap) -> Answer {
    let token = bearer(&headers)?;
    if !auth::revoke(&s.db, &token).await? {
        return Err(Fail::Unauthorized(
            "the token is unknown or already revoked".into(),
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn me(State(s): St, headers: HeaderMap) -> Answer {
    let a = caller(&s, &headers).await?;
    ok(StatusCode::OK, AccountView::from(a))
}

async fn put_me(State(s): St, headers: HeaderMap, b: Body) -> Answer {
    let a = caller(&s, &headers).await?;
    let input: AccountInput = body(b)?;
    let updated = store::update_account(&s.db, a.id, &input).await?;
    ok(StatusCode::OK, AccountView::from(updated))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// A new password: the current one is checked (and throttled as a login); every token
/// of the account, this one included, is revoked.
async fn put_password(
    State(s): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    b: Body,
) -> Answer {
    let a = caller(&s, &headers).await?;
    let PasswordBody {
        current_password,
        new_password,
    } = body(b)?;
    let (acc, addr) = (account_key(&a.email), address_key(peer.ip()));
    if let Err(wait) = s.throttle.check(&[&acc, &addr], std::time::Instant::now()) {
        return Err(Fail::Locked(wait));
    }
    let new_password = Secret::new(new_password);
    auth::check_password(&new_password, &a.email).map_err(ApiError::bad)?;
    if !verify_off_thread(Secret::new(current_password), a.password_hash.clone()).await? {
        let delay = s.throttle.failed(&acc, &addr, std::time::Instant::now());
        tokio::time::sleep(delay).await;
        return Err(ApiError::bad("`current_password` is wrong").into());
    }
    let hash = hash_off_thread(new_password).await?;
    store::set_password_hash(&s.db, a.id, hash).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// An item id from the path, or a 400.
fn item_id(raw: &str) -> Result<i32, Fail> {
    raw.parse::<i32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::bad(format!("the id must be a whole number from 1, not {raw:?}")).into()
    })
}

/// Kilometres around `commune` when `distance` is not given (as `recommend`).
const DEFAULT_DISTANCE_KM: f64 = 30.0;
/// Recommendations when `limit` is not given (as `recommend`).
const DEFAULT_RECOMMENDATIONS: u64 = 10;

/// The ROME codes the caller's skills (and work experiences) fit best, as `sagasync
/// recommend --profile` ranks them; `?commune=INSEE&distance=KM&limit=N`.
async fn recommendations(
    State(s): St,
    headers: HeaderMap,
    Query(p): Query<std::collections::HashMap<String, String>>,
) -> Answer {
    let a = caller(&s, &headers).await?;
    routes::known(&p, &["commune", "distance", "limit"])?;
    let limit = routes::count(&p, "limit", DEFAULT_RECOMMENDATIONS)?;
    let distance = match routes::text(&p, "distance") {
        None => DEFAULT_DISTANCE_KM,
        Some(d) => match d.parse::<f64>() {
            Ok(km) if km > 0.0 && km <= 20_000.0 => km,
            _ => {
                return Err(ApiError::bad(format!(
                    "`distance` must be a number of km above 0, up to 20,000, not {d:?}"
                ))
                .into());
            }
        },
    };
    let near = match (routes::text(&p, "commune"), p.contains_key("distance")) {
        (Some(c), _) => Some(Near {
            commune: c.to_uppercase(),
            distance_km: distance,
        }),
        (None, true) => return Err(ApiError::bad("`distance` needs a `commune`").into()),
        (None, false) => None,
    };
    let found = async {
        let (skills, experience_codes) = profile_skills(&s.db, &a).await?;
        let opts = RecommendOptions {
            skills,
            experience_codes,
            near,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        };
        recommend(&s.db, &opts).await
    };
    match found.await {
        Ok(found) => ok(StatusCode::OK, found),
        Err(RecommendError::Db(e)) => Err(e.into()),
        Err(RecommendError::EmptyProfile(_)) => Err(ApiError::bad(
            "your profile holds no skill: add some (POST /api/me/skills) first",
        )
        .into()),
        Err(e) => Err(ApiError::bad(e.to_string()).into()),
    }
}

/// `GET`/`POST path` and `PUT`/`DELETE path/{id}`: one kind of the caller's profile
/// items.
fn item_routes<I: Item>(path: &str) -> Router<Arc<AccountsState>> {
    Router::new()
        .route(path, get(list_items::<I>).post(add_item::<I>))
        .route(
            &format!("{path}/{{id}}"),
            put(update_item::<I>).delete(remove_item::<I>),
        )
}

async fn list_items<I: Item>(State(s): St, headers: HeaderMap) -> Answer {
    let a = caller(&s, &headers).await?;
    ok(StatusCode::OK, store::items::<I>(&s.db, a.id).await?)
}

async fn add_item<I: Item>(State(s): St, headers: HeaderMap, b: Body) -> Answer {
    let a = caller(&s, &headers).await?;
    let input: I::Input = body(b)?;
    ok(
        StatusCode::CREATED,
        store::add_item::<I>(&s.db, a.id, &input).await?,
    )
}

async fn update_item<I: Item>(
    State(s): St,
    Path(id): Path<String>,
    headers: HeaderMap,
    b: Body,
) -> Answer {
    let a = caller(&s, &headers).await?;
    let id = item_id(&id)?;
    let input: I::Input = body(b)?;
    ok(
        StatusCode::OK,
        store::update_item::<I>(&s.db, a.id, id, &input).await?,
    )
}

async fn remove_item<I: Item>(State(s): St, Path(id): Path<String>, headers: HeaderMap) -> Answer {
    let a = caller(&s, &headers).await?;
    store::remove_item::<I>(&s.db, a.id, item_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
