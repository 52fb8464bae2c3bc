//! France Travail offers JSON read into clean records: the search body, an offer's
//! details, each offer and its skills. Pure functions; only this module knows the JSON. Every field of an
//! offer is optional upstream; only the id is required.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// A skill an offer asks for (`competences[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillRecord {
    pub code: Option<String>,
    pub libelle: String,
    /// `E` required, `S` desired.
    pub exigence: Option<String>,
}

/// An offer, cleaned.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferRecord {
    pub id: String,
    pub intitule: Option<String>,
    pub description: Option<String>,
    pub rome_code: Option<String>,
    pub rome_libelle: Option<String>,
    pub appellation_libelle: Option<String>,
    pub type_contrat: Option<String>,
    pub type_contrat_libelle: Option<String>,
    pub nature_contrat: Option<String>,
    pub experience_exige: Option<String>,
    pub experience_libelle: Option<String>,
    pub lieu_libelle: Option<String>,
    pub commune: Option<String>,
    pub code_postal: Option<String>,
    pub departement: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub entreprise_nom: Option<String>,
    pub salaire_libelle: Option<String>,
    pub duree_travail_libelle: Option<String>,
    pub alternance: Option<bool>,
    pub nombre_postes: Option<i32>,
    pub qualification_code: Option<String>,
    pub secteur_activite: Option<String>,
    pub secteur_activite_libelle: Option<String>,
    pub origine_url: Option<String>,
    pub date_creation: Option<DateTime<Utc>>,
    pub date_actualisation: Option<DateTime<Utc>>,
    pub skills: Vec<SkillRecord>,
}

/// The offers of a search answer (`{"resultats": [...]}`).
pub fn offers(body: Value) -> Result<Vec<Value>, String> {
    match body {
        Value::Object(mut map) => match map.remove("resultats") {
            Some(Value::Array(items)) => Ok(items),
            Some(Value::Null) | None => Ok(Vec::new()),
            Some(_) => Err("`resultats` is not a list".to_owned()),
        },
        _ => Err("the answer is not an object".to_owned()),
    }
}

/// An offer's details (`offres/{id}`): the offer object, which must be the one asked for
/// (an answer about another offer, or a list, is not it).
pub fn detail(body: Value, id: &str) -> Result<Value, String> {
    let found = match body.get("id") {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ if body.is_object() => return Err("the answer holds no offer `id`".to_owned()),
        _ => return Err("the answer is not an offer (a JSON object)".to_owned()),
    };
    if found != id {
        return Err(format!("the answer is offer {found:?}, not {id:?}"));
    }
    Ok(body)
}

/// Longest value a code column (`rome_code`, `commune`, ...) takes.
const MAX_CODE_CHARS: usize = 16;

fn text(map: &Map<String, Value>, name: &str) -> Option<String> {
    match map.get(name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A code: short text, or nothing (a longer one is not a code).
fn code(map: &Map<String, Value>, name: &str, warnings: &mut Vec<String>) -> Option<String> {
    let v = text(map, name)?;
    if v.chars().count() > MAX_CODE_CHARS {
        warnings.push(format!(
            "`{name}` is longer than {MAX_CODE_CHARS} characters: left empty"
        ));
        return None;
    }
    Some(v)
}

fn object<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Map<String, Value>> {
    map.get(name)?.as_object()
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().replace(',', ".").parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

fn date(map: &Map<String, Value>, name: &str, warnings: &mut Vec<String>) -> Option<DateTime<Utc>> {
    let s = text(map, name)?;
    let parsed = crate::time::instant(&s);
    if parsed.is_none() {
        warnings.push(format!("`{name}` {s:?} is not a date: left empty"));
    }
    parsed
}

/// The département of a place: `75 - Paris 11e` gives 75; else from the commune's
/// INSEE code (3 digits overseas), else from the postcode.
fn departement(
    libelle: Option<&str>,
    commune: Option<&str>,
    postcode: Option<&str>,
) -> Option<String> {
    if let Some((head, _)) = libelle.and_then(|l| l.split_once(" - ")) {
        let head = head.trim();
        if (2..=3).contains(&head.len()) && head.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Some(head.to_uppercase());
        }
    }
    let code = commune.or(postcode)?.trim();
    if code.len() != 5 {
        return None;
    }
    let n = if code.starts_with("97") { 3 } else { 2 };
    code.get(..n).map(str::to_uppercase)
}

/// Reads an offer. Refused (with the reason) without an id; fields that cannot be read
/// are left empty, with the warnings returned.
pub fn offer(raw: &Value) -> Result<(OfferRecord, Vec<String>), String> {
    let map = raw.as_object().ok_or("the offer is not an object")?;
    let id = match map.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) if !other.is_null() => return Err(format!("`id` {other} is not an offer id")),
        _ => return Err("no `id` in the offer".to_owned()),
    };
    if id.chars().count() > 32 {
        return Err(format!("`id` {id:?} is longer than 32 characters"));
    }
    let mut warnings = Vec::new();
    let empty = Map::new();
    let place = object(map, "lieuTravail").unwrap_or(&empty);
    let company = object(map, "entreprise").unwrap_or(&empty);
    let salary = object(map, "salaire").unwrap_or(&empty);
    let origin = object(map, "origineOffre").unwrap_or(&empty);
    let lieu_libelle = text(place, "libelle");
    let commune = code(place, "commune", &mut warnings);
    let code_postal = code(place, "codePostal", &mut warnings);
    let skills = map
        .get("competences")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_object)
                .filter_map(|c| {
                    Some(SkillRecord {
                        libelle: text(c, "libelle")?,
                        code: text(c, "code").filter(|s| s.chars().count() <= 32),
                        exigence: text(c, "exigence").filter(|s| s.chars().count() <= 8),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let record = OfferRecord {
        intitule: text(map, "intitule"),
        description: text(map, "description"),
        rome_code: code(map, "romeCode", &mut warnings),
        rome_libelle: text(map, "romeLibelle"),
        appellation_libelle: text(map, "appellationlibelle"),
        type_contrat: code(map, "typeContrat", &mut warnings),
        type_contrat_libelle: text(map, "typeContratLibelle"),
        nature_contrat: text(map, "natureContrat"),
        experience_exige: text(map, "experienceExige").filter(|s| s.chars().count() <= 8),
        experience_libelle: text(map, "experienceLibelle"),
        departement: departement(
            lieu_libelle.as_deref(),
            commune.as_deref(),
            code_postal.as_deref(),
        ),
        lieu_libelle,
        commune,
        code_postal,
        latitude: number(place.get("latitude")),
        longitude: number(place.get("longitude")),
        entreprise_nom: text(company, "nom"),
        salaire_libelle: text(salary, "libelle"),
        duree_travail_libelle: text(map, "dureeTravailLibelle"),
        alternance: map.get("alternance").and_then(Value::as_bool),
        nombre_postes: map
            .get("nombrePostes")
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok()),
        qualification_code: code(map, "qualificationCode", &mut warnings),
        secteur_activite: code(map, "secteurActivite", &mut warnings),
        secteur_activite_libelle: text(map, "secteurActiviteLibelle"),
        origine_url: text(origin, "urlOrigine"),
        date_creation: date(map, "dateCreation", &mut warnings),
        date_actualisation: date(map, "dateActualisation", &mut warnings),
        skills,
        id,
    };
    Ok((record, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_offer_is_read_with_its_place_and_skills() {
        let raw = json!({
            "id": "171XKPT",
            "intitule": "Cuisinier / Cuisinière",
            "dateCreation": "2026-11-20T10:15:32.000Z",
            "lieuTravail": {"libelle": "75 - Paris 11e Arrondissement", "latitude": 48.85, "longitude": 2.37,
                            "codePostal": "75011", "commune": "75111"},
            "romeCode": "G1602",
            "entreprise": {"nom": "Le Bistrot"},
            "typeContrat": "CDI",
            "competences": [
                {"code": "124062", "libelle": "Préparer les produits culinaires", "exigence": "E"},
                {"libelle": "Respecter les règles d'hygiène"},
                {"code": "1"}
            ],
            "salaire": {"libelle": "Mensuel de 1900 Euros"},
            "nombrePostes": 2,
            "alternance": false,
            "origineOffre": {"origine": "1", "urlOrigine": "https://candidat.francetravail.fr/offres/recherche/detail/171XKPT"}
        });
        let (o, warnings) = offer(&raw).expect("valid");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(o.id, "171XKPT");
        assert_eq!(o.departement.as_deref(), Some("75"));
        assert_eq!(o.commune.as_deref(), Some("75111"));
        assert_eq!(o.latitude, Some(48.85));
        assert_eq!(o.entreprise_nom.as_deref(), Some("Le Bistrot"));
        assert_eq!(o.skills.len(), 2);
        assert_eq!(o.skills[0].exigence.as_deref(), Some("E"));
        assert_eq!(o.nombre_postes, Some(2));
        assert_eq!(
            o.date_creation.map(|d| d.to_rfc3339()),
            Some("2026-11-20T10:15:32+00:00".to_owned())
        );
    }

    #[test]
    fn departements_come_from_the_label_the_commune_or_the_postcode() {
        let check = |l: Option<&str>, c: Option<&str>, p: Option<&str>, expected: Option<&str>| {
            assert_eq!(
                departement(l, c, p).as_deref(),
                expected,
                "{l:?} {c:?} {p:?}"
            );
        };
        check(
            Some("75 - Paris 11e Arrondissement"),
            None,
            None,
            Some("75"),
        );
        check(Some("2A - Ajaccio"), None, None, Some("2A"));
        check(Some("971 - Pointe-à-Pitre"), None, None, Some("971"));
        check(Some("France"), Some("69123"), None, Some("69"));
        check(None, Some("97411"), None, Some("974"));
        check(None, None, Some("33000"), Some("33"));
        check(Some("Île-de-France"), None, None, None);
    }

    #[test]
    fn an_offer_without_id_is_refused_and_odd_fields_left_empty() {
        assert_eq!(
            offer(&json!({"intitule": "x"})).map(|_| ()),
            Err("no `id` in the offer".into())
        );
        assert!(offer(&json!({"id": ["x"]})).is_err());
        assert!(offer(&json!("x")).is_err());
        let (o, w) = offer(&json!({"id": 12, "dateCreation": "hier", "romeCode": "X".repeat(40)}))
            .expect("kept");
        assert_eq!(o.id, "12");
        assert_eq!((o.date_creation, o.rome_code), (None, None));
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn a_detail_is_the_offer_asked_for() {
        let check = |body: Value, expected: Result<(), &str>| {
            assert_eq!(
                detail(body.clone(), "171XKPT").map(|_| ()),
                expected.map_err(str::to_owned),
                "{body}"
            );
        };
        check(json!({"id": "171XKPT", "intitule": "x"}), Ok(()));
        check(json!({"id": " 171XKPT "}), Ok(()));
        check(
            json!({"id": "999ZZZZ"}),
            Err("the answer is offer \"999ZZZZ\", not \"171XKPT\""),
        );
        check(
            json!({"intitule": "x"}),
            Err("the answer holds no offer `id`"),
        );
        check(
            json!([{"id": "171XKPT"}]),
            Err("the answer is not an offer (a JSON object)"),
        );
        check(
            json!({"resultats": [{"id": "171XKPT"}]}),
            Err("the answer holds no offer `id`"),
        );
    }

    #[test]
    fn search_bodies_give_their_offers() {
        assert_eq!(
            offers(json!({"resultats": [{"id": "A"}], "filtresPossibles": []})).map(|v| v.len()),
            Ok(1)
        );
        assert_eq!(
            offers(json!({"filtresPossibles": []})).map(|v| v.len()),
            Ok(0)
        );
        assert!(offers(json!({"resultats": {}})).is_err());
        assert!(offers(json!([])).is_err());
    }
}
