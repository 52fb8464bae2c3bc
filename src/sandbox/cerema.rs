//! The sandbox's Cerema Portail DF: the token exchange, and users and structures in DRF
//! pages of 100 whose `next` links come back as `http://` with the `#` / `%23` quirk,
//! behind a Bearer check. Records are computed from the seed and their index, so they
//! need no memory, and a mutation changes a share of them.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration as Days, NaiveDate};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::data::mix;
use super::{Shared, detail};

/// Users served by default, as many as the real Portail DF holds.
pub const DEFAULT_USERS: usize = 13_064;
/// Structures served by default.
pub const DEFAULT_STRUCTURES: usize = 1_000;
/// Records per page, as the real API sends them.
pub const PAGE_SIZE: usize = 100;
/// First id of the structures users point to that do not exist.
const UNKNOWN_STRUCTURE_ID: i64 = 900_000;

/// Who the sandbox's Cerema part lets in, and how much it serves.
#[derive(Debug, Clone)]
pub struct CeremaConfig {
    pub users: usize,
    pub structures: usize,
    /// Accepted as `Authorization: Bearer <token>`, and returned by `/api/token/`.
    pub token: String,
    pub username: String,
    pub password: String,
}

impl Default for CeremaConfig {
    fn default() -> Self {
        CeremaConfig {
            users: DEFAULT_USERS,
            structures: DEFAULT_STRUCTURES,
            token: "cerema_sandbox_token".to_owned(),
            username: "sandbox".to_owned(),
            password: "sandbox".to_owned(),
        }
    }
}

const TYPES: &[(&str, &str)] = &[
    ("Commune", "Commune de"),
    ("EPCI", "Communauté de communes de"),
    ("DDT(M)", "DDT de"),
    ("Département", "Conseil départemental de"),
    ("EPF", "Établissement public foncier de"),
    ("Bureau d'études", "Bureau d'études Urba"),
    ("Agence d'urbanisme", "Agence d'urbanisme de"),
];
const PLACES: &[(&str, &str, &str)] = &[
    ("01", "Auvergne-Rhône-Alpes", "Bourg-en-Bresse"),
    ("13", "Provence-Alpes-Côte d'Azur", "Aix-en-Provence"),
    ("2A", "Corse", "Ajaccio"),
    ("29", "Bretagne", "Quimper"),
    ("33", "Nouvelle-Aquitaine", "Mérignac"),
    ("44", "Pays de la Loire", "Saint-Nazaire"),
    ("59", "Hauts-de-France", "Villeneuve-d'Ascq"),
    ("67", "Grand Est", "Sélestat"),
    ("69", "Auvergne-Rhône-Alpes", "Villeurbanne"),
    ("75", "Île-de-France", "Paris"),
    ("971", "Guadeloupe", "Pointe-à-Pitre"),
];
const NAF: &[&str] = &["84.11Z", "84.13Z", "71.12B", "68.31Z", "84.12Z"];
const FORMJUR: &[&str] = &["7210", "7346", "7220", "7312", "5710", "7389"];
const ACCESS: &[&str] = &["lovac", "df_ano", "df_non_ano"];
const FIRST_NAMES: &[&str] = &[
    "Marie", "Jean", "Camille", "Léa", "Hugo", "Chloé", "Éric", "Zoé", "Noël", "Anaïs",
];
const LAST_NAMES: &[&str] = &[
    "Dupont", "Lefèvre", "Martin", "Bernard", "Moreau", "Girard", "Roux", "Fournier",
];
const DOMAINS: &[&str] = &[
    "ddt-01.gouv.fr",
    "mairie.fr",
    "cerema.fr",
    "agglo.fr",
    "epf.fr",
];

fn pick<T>(list: &[T], r: u64) -> &T {
    &list[(r % list.len() as u64) as usize]
}

/// An ASCII, lower-case e-mail part.
fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'É' => 'e',
            'ë' => 'e',
            'ï' => 'i',
            'ô' => 'o',
            c => c.to_ascii_lowercase(),
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// A datetime as Django REST framework writes it: local French time with its offset
/// (`+02:00` in summer, `+01:00` in winter), microseconds on some.
fn french_datetime(r: u64, first_year: i32, span_days: i64) -> String {
    let start = NaiveDate::from_ymd_opt(first_year, 1, 1).unwrap_or_default();
    let day = start + Days::days((r % span_days as u64) as i64);
    let secs = (r >> 20) % 86_400;
    let time = day
        .and_hms_opt(
            (secs / 3600) as u32,
            ((secs / 60) % 60) as u32,
            (secs % 60) as u32,
        )
        .unwrap_or_default();
    let summer = (4..=10).contains(&chrono::Datelike::month(&day));
    let offset = if summer { "+02:00" } else { "+01:00" };
    if r.is_multiple_of(3) {
        format!(
            "{}.{:06}{offset}",
            time.format("%Y-%m-%dT%H:%M:%S"),
            (r >> 40) % 1_000_000
        )
    } else {
        format!("{}{offset}", time.format("%Y-%m-%dT%H:%M:%S"))
    }
}

/// The Portail DF's users and structures for a seed.
#[derive(Debug)]
pub struct CeremaData {
    seed: u64,
    pub users: usize,
    pub structures: usize,
    /// Per-mille share of records each mutation changed, in order.
    mutations: Vec<u32>,
}

impl CeremaData {
    pub fn new(seed: u64, users: usize, structures: usize) -> CeremaData {
        CeremaData {
            seed,
            users,
            structures,
            mutations: Vec::new(),
        }
    }

    /// Changes `share` (0..1) of the users and structures.
    pub fn mutate(&mut self, share: f64) {
        self.mutations
            .push((share.clamp(0.0, 1.0) * 1000.0).round() as u32);
    }

    /// How many mutations changed record `i` of `salt`'s listing.
    fn version(&self, salt: u64, i: usize) -> u64 {
        self.mutations
            .iter()
            .enumerate()
            .filter(|(k, per_mille)| {
                mix(self.seed, i as u64, salt + *k as u64 * 7919) % 1000 < u64::from(**per_mille)
            })
            .count() as u64
    }

    /// Structure `i` (0-based); its id is `i + 1`.
    pub fn structure(&self, i: usize) -> Value {
        let r = |salt: u64| mix(self.seed, i as u64, 500 + salt);
        let id = i as i64 + 1;
        let (kind, prefix) = pick(TYPES, r(1));
        let (dep, region, city) = pick(PLACES, r(2));
        let version = self.version(900, i);
        let mut m = Map::new();
        // One in ten says `id_structure`, as older exports do.
        let id_key = if r(3) % 10 == 0 { "id_structure" } else { "id" };
        m.insert(id_key.into(), json!(id));
        let name = if *kind == "Bureau d'études" {
            format!("{prefix} {}", r(4) % 900 + 100)
        } else {
            format!("{prefix} {city}")
        };
        m.insert("raison_sociale".into(), json!(name));
        m.insert("type".into(), json!(kind));
        m.insert(
            "siret".into(),
            json!(format!("{:014}", r(5) % 100_000_000_000_000)),
        );
        m.insert("naf".into(), json!(pick(NAF, r(6))));
        m.insert("formjur".into(), json!(pick(FORMJUR, r(7))));
        m.insert("departement".into(), json!(dep));
        m.insert("region".into(), json!(region));
        m.insert("niveau_acces".into(), json!(pick(ACCESS, r(8))));
        let access = |salt: u64| {
            let v = r(salt);
            if v % 5 < 3 {
                // Some in the past (expired), some in the future (active).
                json!(french_datetime(
                    v.wrapping_add(version * 86_400),
                    2022,
                    3 * 365
                ))
            } else {
                Value::Null
            }
        };
        m.insert("acces_lovac".into(), access(9));
        m.insert("acces_df_ano".into(), access(10));
        m.insert("acces_df_non_ano".into(), access(11));
        Value::Object(m)
    }

    /// User `i` (0-based); its id is `i + 1`.
    pub fn user(&self, i: usize) -> Value {
        let r = |salt: u64| mix(self.seed, i as u64, 700 + salt);
        let id = i as i64 + 1;
        let version = self.version(901, i);
        let first = pick(FIRST_NAMES, r(1));
        let last = pick(LAST_NAMES, r(2));
        let mut m = Map::new();
        // One in twenty ids comes as a string of digits.
        let id_value = if r(3) % 20 == 0 {
            json!(id.to_string())
        } else {
            json!(id)
        };
        m.insert("id_user".into(), id_value);
        m.insert(
            "email".into(),
            json!(format!(
                "{}.{}{}@{}",
                ascii(first),
                ascii(last),
                id,
                pick(DOMAINS, r(4))
            )),
        );
        let structures = self.structures.max(1) as u64;
        let structure_id = (r(5) % structures) as i64 + 1;
        let structure = match r(6) % 100 {
            0 => Value::Null,
            1 | 2 => json!(UNKNOWN_STRUCTURE_ID + (r(7) % 1000) as i64),
            3..=7 => {
                json!({ "id": structure_id, "raison_sociale": format!("Structure {structure_id}") })
            }
            _ => json!(structure_id),
        };
        m.insert("structure".into(), structure);
        m.insert("gestionnaire".into(), json!(r(8) % 100 < 15));
        m.insert("exterieur".into(), json!(r(9) % 100 < 10));
        let cgu = if r(10) % 10 == 0 {
            Value::Null
        } else {
            json!(french_datetime(r(11), 2021, 4 * 365))
        };
        m.insert("cgu_valide".into(), cgu);
        m.insert(
            "date_rattachement".into(),
            json!(french_datetime(r(12), 2019, 6 * 365)),
        );
        let expiration = if r(13) % 10 < 4 {
            json!(french_datetime(
                r(14).wrapping_add(version * 86_400),
                2024,
                4 * 365
            ))
        } else {
            Value::Null
        };
        m.insert("date_expiration".into(), expiration);
        let groupe = if r(15) % 10 < 7 {
            json!((r(16) + version) % 20 + 1)
        } else {
            Value::Null
        };
        m.insert("groupe".into(), groupe);
        Value::Object(m)
    }
}

/// The Cerema routes, relative to the server's root.
pub(super) fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let listings = Router::new()
        .route("/api/utilisateurs/", get(users))
        .route("/api/structures/", get(structures))
        .layer(middleware::from_fn_with_state(shared.clone(), bearer));
    Router::new()
        .route("/api/token/", post(token))
        .merge(listings)
        .layer(middleware::from_fn_with_state(shared, super::faults))
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
        .map(str::trim);
    match given {
        None => detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        ),
        Some(v) if v.strip_prefix("Bearer ") == Some(s.config.cerema.token.as_str()) => {
            next.run(req).await
        }
        Some(_) => detail(
            StatusCode::UNAUTHORIZED,
            "Given token not valid for any token type",
        ),
    }
}

#[derive(Debug, Deserialize)]
struct Login {
    username: Option<String>,
    password: Option<String>,
}

async fn token(State(s): State<Arc<Shared>>, body: Option<Json<Login>>) -> Response {
    let Some(Json(login)) = body else {
        return detail(
            StatusCode::BAD_REQUEST,
            "username and password are required.",
        );
    };
    let c = &s.config.cerema;
    if login.username.as_deref() == Some(c.username.as_str())
        && login.password.as_deref() == Some(c.password.as_str())
    {
        Json(json!({ "access": c.token, "refresh": format!("refresh-{}", c.token) }))
            .into_response()
    } else {
        detail(
            StatusCode::UNAUTHORIZED,
            "No active account found with the given credentials",
        )
    }
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<String>,
}

async fn users(State(s): State<Arc<Shared>>, Query(q): Query<PageQuery>) -> Response {
    super::latency(&s).await;
    let data = s.cerema.read().await;
    listing(&s, "utilisateurs", data.users, q, |i| data.user(i))
}

async fn structures(State(s): State<Arc<Shared>>, Query(q): Query<PageQuery>) -> Response {
    super::latency(&s).await;
    let data = s.cerema.read().await;
    listing(&s, "structures", data.structures, q, |i| data.structure(i))
}

/// One DRF page; `next`/`previous` as the real API writes them: `http://`, with `#`
/// (odd pages) or `%23` (even pages) stuck at the end.
fn listing(
    s: &Shared,
    path: &str,
    count: usize,
    q: PageQuery,
    record: impl Fn(usize) -> Value,
) -> Response {
    let page: usize = match q.page.as_deref().map(str::parse).unwrap_or(Ok(1)) {
        Ok(p) if p >= 1 => p,
        _ => return detail(StatusCode::NOT_FOUND, "Page non valide."),
    };
    let start = (page - 1) * PAGE_SIZE;
    if start >= count && page > 1 {
        return detail(StatusCode::NOT_FOUND, "Page non valide.");
    }
    let end = (start + PAGE_SIZE).min(count);
    let results: Vec<Value> = (start..end).map(record).collect();
    let link = |p: usize| {
        let quirk = if p % 2 == 1 { "#" } else { "%23" };
        let host = s
            .origin
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        format!("http://{host}/api/{path}/?page={p}{quirk}")
    };
    let next = (end < count).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    Json(json!({ "count": count, "next": next, "previous": previous, "results": results }))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cerema::parse;

    #[test]
    fn every_generated_record_reads_without_warnings() {
        let data = CeremaData::new(7, 2_000, 300);
        for i in 0..data.structures {
            let read = parse::structure(&data.structure(i)).expect("structure");
            assert_eq!(read.warnings, Vec::<String>::new());
            assert_eq!(read.record.id, i as i64 + 1);
        }
        for i in 0..data.users {
            let read = parse::user(&data.user(i)).expect("user");
            assert_eq!(read.warnings, Vec::<String>::new());
            assert_eq!(read.record.id_user, i as i64 + 1);
        }
    }

    #[test]
    fn a_mutation_changes_about_its_share() {
        let mut data = CeremaData::new(7, 2_000, 100);
        let before: Vec<Value> = (0..data.users).map(|i| data.user(i)).collect();
        data.mutate(0.1);
        let changed = (0..data.users)
            .filter(|&i| data.user(i) != before[i])
            .count();
        // Users without an expiry date or a group cannot show a change.
        assert!((80..=220).contains(&changed), "{changed} users changed");
    }
}
