//! The Cerema Portail DF's JSON, read into clean records: DRF pages, users and
//! structures. Pure functions; only this module knows the JSON.
//!
//! A record without a readable id is refused; any other field that cannot be read is
//! left empty with a warning (the record as received is kept whole anyway).

use chrono::{DateTime, Utc};

use crate::text::json_kind as kind;
use crate::time::instant;
use serde_json::{Map, Value};

/// Longest text the short columns (`type`, `siret`, `departement`, ...) take.
pub const MAX_SHORT_CHARS: usize = 255;

/// One page of a DRF listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The listing's total, when the API gives it.
    pub count: Option<u64>,
    /// The raw `next` link (quirks and all); `None` on the last page.
    pub next: Option<String>,
    pub results: Vec<Value>,
}

/// Reads a page: `{count, next, results}`, or a bare list (a single page).
pub fn page(body: Value) -> Result<Page, String> {
    match body {
        Value::Array(results) => Ok(Page {
            count: None,
            next: None,
            results,
        }),
        Value::Object(mut map) => {
            let results = match map.remove("results") {
                Some(Value::Array(items)) => items,
                Some(other) => return Err(format!("`results` is {}, not a list", kind(&other))),
                None => return Err("no `results` in the page".to_owned()),
            };
            let next = match map.remove("next") {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
                Some(Value::String(_)) | Some(Value::Null) | None => None,
                Some(other) => return Err(format!("`next` is {}, not a link", kind(&other))),
            };
            Ok(Page {
                count: map.get("count").and_then(Value::as_u64),
                next,
                results,
            })
        }
        other => Err(format!("the page is {}, not an object", kind(&other))),
    }
}

/// Why a record was refused: the id it had (if any could be read) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub id: Option<String>,
    pub reason: String,
}

/// A record read, with what could not be read in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Read<T> {
    pub record: T,
    pub warnings: Vec<String>,
}

/// A user of the Portail DF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id_user: i64,
    pub email: Option<String>,
    pub structure_id: Option<i64>,
    pub gestionnaire: Option<bool>,
    pub exterieur: Option<bool>,
    pub cgu_valide: Option<DateTime<Utc>>,
    pub date_rattachement: Option<DateTime<Utc>>,
    pub date_expiration: Option<DateTime<Utc>>,
    pub groupe: Option<i64>,
}

/// A structure of the Portail DF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureRecord {
    pub id: i64,
    pub raison_sociale: Option<String>,
    pub structure_type: Option<String>,
    pub siret: Option<String>,
    pub naf: Option<String>,
    pub formjur: Option<String>,
    pub departement: Option<String>,
    pub region: Option<String>,
    pub niveau_acces: Option<String>,
    pub acces_lovac: Option<DateTime<Utc>>,
    pub acces_df_ano: Option<DateTime<Utc>>,
    pub acces_df_non_ano: Option<DateTime<Utc>>,
}

/// The first of `names` present and not null.
fn field<'a>(
    map: &'a Map<String, Value>,
    names: &[&'static str],
) -> Option<(&'static str, &'a Value)> {
    names
        .iter()
        .find_map(|n| map.get(*n).filter(|v| !v.is_null()).map(|v| (*n, v)))
}

/// An integer id: a JSON integer, or a string of digits.
pub fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => {
            let s = s.trim();
            let digits = s.strip_prefix('-').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        }
        _ => None,
    }
}

/// How a value is shown in a message: strings quoted, the rest as JSON.
fn shown(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

fn read_id(map: &Map<String, Value>, names: &[&'static str]) -> Result<i64, Refused> {
    let Some((name, v)) = field(map, names) else {
        return Err(Refused {
            id: None,
            reason: format!("no `{}` in the record", names.join("` or `")),
        });
    };
    integer(v).ok_or_else(|| Refused {
        id: Some(match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
        reason: format!("`{name}` {} is not an integer", shown(v)),
    })
}

/// Collects the warnings of one record while its fields are read.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    warnings: Vec<String>,
}

impl<'a> Fields<'a> {
    fn warn(&mut self, name: &str, v: &Value, what: &str) {
        self.warnings
            .push(format!("`{name}` {} is not {what}: left empty", shown(v)));
    }

    fn text(&mut self, name: &'static str, max_chars: Option<usize>) -> Option<String> {
        let v = self.map.get(name)?;
        let s = match v {
            Value::Null => return None,
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                self.warn(name, other, "text");
                return None;
            }
        };
        if let Some(max) = max_chars
            && s.chars().count() > max
        {
            self.warnings.push(format!(
                "`{name}` is longer than {max} characters: left empty"
            ));
            return None;
        }
        Some(s)
    }

    fn boolean(&mut self, name: &'static str) -> Option<bool> {
        let v = self.map.get(name)?;
        let b = match v {
            Value::Null => return None,
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.as_i64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            },
            Value::String(s) => match s.trim().to_lowercase().as_str() {
                "true" | "1" | "oui" | "yes" => Some(true),
                "false" | "0" | "non" | "no" => Some(false),
                _ => None,
            },
            _ => None,
        };
        if b.is_none() {
            self.warn(name, v, "a boolean");
        }
        b
    }

    /// A reference to another record: an id, a string of digits, or an object with
    /// one of `id_names`.
    fn reference(&mut self, name: &'static str, id_names: &[&'static str]) -> Option<i64> {
        let v = self.map.get(name)?;
        let n = match v {
            Value::Null => return None,
            Value::Object(obj) => field(obj, id_names).and_then(|(_, id)| integer(id)),
            other => integer(other),
        };
        if n.is_none() {
            self.warn(name, v, "a reference to a record");
        }
        n
    }

    fn instant(&mut self, name: &'static str) -> Option<DateTime<Utc>> {
        let v = self.map.get(name)?;
        let t = match v {
            Value::Null => return None,
            Value::String(s) if s.trim().is_empty() => return None,
            Value::String(s) => instant(s),
            _ => None,
        };
        if t.is_none() {
            self.warn(name, v, "a date");
        }
        t
    }
}

fn object(raw: &Value) -> Result<&Map<String, Value>, Refused> {
    raw.as_object().ok_or_else(|| Refused {
        id: None,
        reason: format!("the record is {}, not an object", kind(raw)),
    })
}

/// Reads a user; refused without a readable `id_user`.
pub fn user(raw: &Value) -> Result<Read<UserRecord>, Refused> {
    let map = object(raw)?;
    let id_user = read_id(map, &["id_user", "id"])?;
    let mut f = Fields {
        map,
        warnings: Vec::new(),
    };
    let record = UserRecord {
        id_user,
        email: f.text("email", None),
        structure_id: f.reference("structure", &["id", "id_structure"]),
        gestionnaire: f.boolean("gestionnaire"),
        exterieur: f.boolean("exterieur"),
        cgu_valide: f.instant("cgu_valide"),
        date_rattachement: f.instant("date_rattachement"),
        date_expiration: f.instant("date_expiration"),
        groupe: f.reference("groupe", &["id", "id_groupe"]),
    };
    Ok(Read {
        record,
        warnings: f.warnings,
    })
}

/// Reads a structure; refused without a readable `id` (or `id_structure`).
pub fn structure(raw: &Value) -> Result<Read<StructureRecord>, Refused> {
    let map = object(raw)?;
    let id = read_id(map, &["id", "id_structure"])?;
    let mut f = Fields {
        map,
        warnings: Vec::new(),
    };
    let short = Some(MAX_SHORT_CHARS);
    let record = StructureRecord {
        id,
        raison_sociale: f.text("raison_sociale", None),
        structure_type: f.text("type", short),
        siret: f.text("siret", short),
        naf: f.text("naf", short),
        formjur: f.text("formjur", short),
        departement: f.text("departement", short),
        region: f.text("region", short),
        niveau_acces: f.text("niveau_acces", short),
        acces_lovac: f.instant("acces_lovac"),
        acces_df_ano: f.instant("acces_df_ano"),
        acces_df_non_ano: f.instant("acces_df_non_ano"),
    };
    Ok(Read {
        record,
        warnings: f.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::utc;
    use serde_json::json;

    #[test]
    fn ids_are_integers_or_strings_of_digits() {
        let check = |v: Value, expected: Result<i64, &str>| {
            let got = user(&json!({ "id_user": v.clone(), "email": "a@b.fr" }))
                .map(|r| r.record.id_user)
                .map_err(|e| e.reason);
            assert_eq!(got, expected.map_err(str::to_owned), "{v}");
        };
        check(json!(12), Ok(12));
        check(json!("12"), Ok(12));
        check(json!(" 12 "), Ok(12));
        check(json!("12a"), Err("`id_user` \"12a\" is not an integer"));
        check(json!(1.5), Err("`id_user` 1.5 is not an integer"));
        check(json!(""), Err("`id_user` \"\" is not an integer"));
        check(
            json!({"id": 3}),
            Err("`id_user` {\"id\":3} is not an integer"),
        );
        let missing = user(&json!({"email": "a@b.fr"})).expect_err("no id");
        assert_eq!(missing.reason, "no `id_user` or `id` in the record");
        assert_eq!(missing.id, None);
        let bad = user(&json!({"id_user": "12a"})).expect_err("bad id");
        assert_eq!(bad.id.as_deref(), Some("12a"));
        assert!(user(&json!([1, 2])).is_err());
    }

    #[test]
    fn a_user_is_read_with_every_field() {
        let raw = json!({
            "id_user": 7,
            "email": "marie.dupont@ddt-01.gouv.fr",
            "structure": {"id": 31, "raison_sociale": "DDT de l'Ain"},
            "gestionnaire": true,
            "exterieur": "false",
            "cgu_valide": "2023-06-01T10:00:00+02:00",
            "date_rattachement": "2023-05-30T09:15:00+02:00",
            "date_expiration": null,
            "groupe": "4"
        });
        let read = user(&raw).expect("valid user");
        assert_eq!(read.warnings, Vec::<String>::new());
        let u = read.record;
        assert_eq!(u.id_user, 7);
        assert_eq!(u.email.as_deref(), Some("marie.dupont@ddt-01.gouv.fr"));
        assert_eq!(u.structure_id, Some(31));
        assert_eq!(u.gestionnaire, Some(true));
        assert_eq!(u.exterieur, Some(false));
        assert_eq!(u.cgu_valide, Some(utc(2023, 6, 1, 8, 0, 0)));
        assert_eq!(u.date_rattachement, Some(utc(2023, 5, 30, 7, 15, 0)));
        assert_eq!(u.date_expiration, None);
        assert_eq!(u.groupe, Some(4));
    }

    #[test]
    fn unreadable_fields_are_left_empty_with_a_warning() {
        let raw = json!({
            "id_user": 8,
            "structure": "DDT",
            "gestionnaire": "peut-être",
            "date_expiration": "bientôt",
            "groupe": [1]
        });
        let read = user(&raw).expect("kept");
        assert_eq!(read.record.structure_id, None);
        assert_eq!(read.record.gestionnaire, None);
        assert_eq!(read.record.date_expiration, None);
        assert_eq!(read.record.groupe, None);
        assert_eq!(
            read.warnings,
            vec![
                "`structure` \"DDT\" is not a reference to a record: left empty",
                "`gestionnaire` \"peut-être\" is not a boolean: left empty",
                "`date_expiration` \"bientôt\" is not a date: left empty",
                "`groupe` [1] is not a reference to a record: left empty",
            ]
        );
    }

    #[test]
    fn structures_take_id_or_id_structure() {
        let a = structure(&json!({"id": 5, "raison_sociale": "Commune de Bourg"})).expect("id");
        assert_eq!(a.record.id, 5);
        let b = structure(&json!({"id_structure": "6", "siret": 21010053200017_i64}))
            .expect("id_structure");
        assert_eq!(b.record.id, 6);
        assert_eq!(b.record.siret.as_deref(), Some("21010053200017"));
        let long = "x".repeat(MAX_SHORT_CHARS + 1);
        let c =
            structure(&json!({"id": 7, "naf": long, "acces_lovac": "2030-01-01T00:00:00+01:00"}))
                .expect("kept");
        assert_eq!(c.record.naf, None);
        assert_eq!(c.record.acces_lovac, Some(utc(2029, 12, 31, 23, 0, 0)));
        assert_eq!(c.warnings.len(), 1);
        assert!(structure(&json!({"raison_sociale": "sans id"})).is_err());
    }

    #[test]
    fn pages_are_drf_objects_or_bare_lists() {
        let p = page(json!({"count": 250, "next": "http://x/api/structures/?page=2#", "results": [{"id": 1}]}))
            .expect("page");
        assert_eq!(p.count, Some(250));
        assert_eq!(p.next.as_deref(), Some("http://x/api/structures/?page=2#"));
        assert_eq!(p.results.len(), 1);
        let last =
            page(json!({"count": 1, "next": null, "previous": null, "results": []})).expect("last");
        assert_eq!(last.next, None);
        let bare = page(json!([{"id": 1}, {"id": 2}])).expect("bare list");
        assert_eq!(bare.results.len(), 2);
        assert!(page(json!({"detail": "Not found."})).is_err());
        assert!(page(json!({"results": {"id": 1}})).is_err());
        assert!(page(json!("oops")).is_err());
    }
}
