//! `offers search|show`: stored France Travail offers, newest `date_creation` first.
//!
//! Text search looks in `job_offers.search_text`, already folded (`text::fold`): the
//! query is folded the same way and every word must occur (`LIKE '%word%'` for each),
//! which behaves the same on every backend, accents and case ignored.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{job_offer, job_offer_skill};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde::{Deserialize, Serialize};

use super::{Result, contains_pattern, search_words};
use crate::france_travail::query::DEPARTEMENTS;

/// The most offers one search returns.
pub const MAX_LIMIT: u64 = 1_000;

/// Which offers to find.
#[derive(Debug, Clone, Default)]
pub struct OfferFilter {
    /// Words that must all occur in the title, ROME label, company or description.
    pub q: Option<String>,
    /// INSEE codes, any of them (Paris: 75056 and 75101..=75120).
    pub commune: Vec<String>,
    pub departement: Option<String>,
    pub rome: Option<String>,
    /// ROME codes, any of them (none: any code); `rome` still applies.
    pub rome_codes: Vec<String>,
    /// Contract type code (`CDI`, `CDD`, `MIS`...).
    pub contract: Option<String>,
    /// At most `MAX_LIMIT`.
    pub limit: u64,
    pub offset: u64,
}

/// One offer as `offers search` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, FromQueryResult)]
pub struct OfferRow {
    pub id: String,
    pub intitule: Option<String>,
    pub rome_code: Option<String>,
    pub type_contrat: Option<String>,
    pub lieu_libelle: Option<String>,
    pub commune: Option<String>,
    pub departement: Option<String>,
    pub entreprise_nom: Option<String>,
    pub salaire_libelle: Option<String>,
    pub date_creation: Option<Instant>,
}

/// One offer with its skills.
#[derive(Debug, Clone, Serialize)]
pub struct OfferDetail {
    pub id: String,
    pub intitule: Option<String>,
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
    /// NAF division code of the employer's sector.
    pub secteur_activite: Option<String>,
    pub secteur_activite_libelle: Option<String>,
    pub origine_url: Option<String>,
    pub date_creation: Option<Instant>,
    pub date_actualisation: Option<Instant>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub description: Option<String>,
    pub skills: Vec<SkillRow>,
}

/// A skill an offer asks for.
#[derive(Debug, Clone, Serialize)]
pub struct SkillRow {
    pub code: Option<String>,
    pub libelle: String,
    /// `E` (required) or `S` (desired).
    pub exigence: Option<String>,
}

/// Offers matching `filter`, newest `date_creation` first (undated ones last), then by id.
pub async fn search(db: &DatabaseConnection, filter: &OfferFilter) -> Result<Vec<OfferRow>> {
    let rows = offer_query(filter)
        .select_only()
        .columns([
            job_offer::Column::Id,
            job_offer::Column::Intitule,
            job_offer::Column::RomeCode,
            job_offer::Column::TypeContrat,
            job_offer::Column::LieuLibelle,
            job_offer::Column::Commune,
            job_offer::Column::Departement,
            job_offer::Column::EntrepriseNom,
            job_offer::Column::SalaireLibelle,
            job_offer::Column::DateCreation,
        ])
        .order_by_asc(Expr::col(job_offer::Column::DateCreation).is_null())
        .order_by_desc(job_offer::Column::DateCreation)
        .order_by_asc(job_offer::Column::Id)
        .limit(Ord::min(filter.limit, MAX_LIMIT))
        .offset(filter.offset)
        .into_model()
        .all(db)
        .await?;
    Ok(rows)
}

/// How many offers `filter` selects, whatever its limit and offset.
pub async fn count(db: &DatabaseConnection, filter: &OfferFilter) -> Result<u64> {
    Ok(offer_query(filter).count(db).await?)
}

/// The offers `filter` selects, without columns, order, limit or offset.
fn offer_query(filter: &OfferFilter) -> Select<JobOffer> {
    let mut q = JobOffer::find();
    for word in filter.q.as_deref().map(search_words).unwrap_or_default() {
        q = q.filter(job_offer::Column::SearchText.like(contains_pattern(&word)));
    }
    if !filter.commune.is_empty() {
        q = q.filter(job_offer::Column::Commune.is_in(filter.commune.iter().map(String::as_str)));
    }
    if let Some(d) = &filter.departement {
        q = q.filter(job_offer::Column::Departement.eq(d.as_str()));
    }
    if let Some(r) = &filter.rome {
        q = q.filter(job_offer::Column::RomeCode.eq(r.to_uppercase()));
    }
    if !filter.rome_codes.is_empty() {
        let codes = filter.rome_codes.iter().map(String::as_str);
        q = q.filter(job_offer::Column::RomeCode.is_in(codes));
    }
    if let Some(c) = &filter.contract {
        q = q.filter(job_offer::Column::TypeContrat.eq(c.to_uppercase()));
    }
    q
}

/// What the offers of a filter can be counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    Departement,
    /// Contract type code (`CDI`, `CDD`...).
    Contract,
}

/// Offers sharing one value of a facet; `value` is null for offers without one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueCount {
    pub value: Option<String>,
    pub offers: u64,
}

/// Offers of one ROME code, with its label (the greatest of its spellings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RomeCount {
    pub rome_code: Option<String>,
    pub rome_libelle: Option<String>,
    pub offers: u64,
}

/// Offers created on one UTC day (`2026-12-03`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCount {
    pub day: String,
    pub offers: u64,
}

fn offers_counted() -> Expr {
    Expr::from(Func::count(Expr::col((
        job_offer::Entity,
        job_offer::Column::Id,
    ))))
}

/// The offers `filter` selects, counted by `facet` in one GROUP BY, most offers first
/// (then by value); `limit` and `offset` are ignored.
pub async fn counts_by(
    db: &DatabaseConnection,
    filter: &OfferFilter,
    facet: Facet,
) -> Result<Vec<ValueCount>> {
    let col = match facet {
        Facet::Departement => job_offer::Column::Departement,
        Facet::Contract => job_offer::Column::TypeContrat,
    };
    let rows: Vec<(Option<String>, i64)> = offer_query(filter)
        .select_only()
        .column(col)
        .column_as(offers_counted(), "n")
        .group_by(col)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts: Vec<ValueCount> = rows
        .into_iter()
        .map(|(value, n)| ValueCount {
            value,
            offers: u64::try_from(n).unwrap_or(0),
        })
        .collect();
    counts.sort_by(|a, b| b.offers.cmp(&a.offers).then_with(|| a.value.cmp(&b.value)));
    Ok(counts)
}

/// The ROME codes of the offers `filter` selects, most offers first (then by code),
/// `filter.limit` of them from `filter.offset` (the ordering is done by the database).
pub async fn rome_codes(db: &DatabaseConnection, filter: &OfferFilter) -> Result<Vec<RomeCount>> {
    let rows: Vec<(Option<String>, Option<String>, i64)> = offer_query(filter)
        .select_only()
        .column(job_offer::Column::RomeCode)
        .column_as(
            Expr::from(Func::max(Expr::col(job_offer::Column::RomeLibelle))),
            "rome_libelle",
        )
        .column_as(offers_counted(), "n")
        .group_by(job_offer::Column::RomeCode)
        .order_by_desc(offers_counted())
        .order_by_asc(job_offer::Column::RomeCode)
        .limit(Ord::min(filter.limit, MAX_LIMIT))
        .offset(filter.offset)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(rome_code, rome_libelle, n)| RomeCount {
            rome_code,
            rome_libelle,
            offers: u64::try_from(n).unwrap_or(0),
        })
        .collect())
}

/// How many distinct ROME codes the offers `filter` selects have (offers without one
/// not counted).
pub async fn rome_code_count(db: &DatabaseConnection, filter: &OfferFilter) -> Result<u64> {
    let n: Option<i64> = offer_query(filter)
        .select_only()
        .column_as(
            Expr::from(Func::count_distinct(Expr::col(job_offer::Column::RomeCode))),
            "n",
        )
        .into_tuple()
        .one(db)
        .await?;
    Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}

/// The offers `filter` selects, counted by UTC day of `date_creation` in one GROUP BY,
/// oldest first; undated offers are left out (`total - sum` of them).
pub async fn per_day(db: &DatabaseConnection, filter: &OfferFilter) -> Result<Vec<DayCount>> {
    // The day as `YYYY-MM-DD` text on each backend (SQLite stores instants as text).
    let day = match db.get_database_backend() {
        DbBackend::Postgres => "to_char(date_creation AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        DbBackend::MySql => "DATE_FORMAT(date_creation, '%Y-%m-%d')",
        _ => "substr(date_creation, 1, 10)",
    };
    let rows: Vec<(Option<String>, i64)> = offer_query(filter)
        .select_only()
        .column_as(Expr::cust(day), "day")
        .column_as(offers_counted(), "n")
        .filter(job_offer::Column::DateCreation.is_not_null())
        .group_by(Expr::cust(day))
        .into_tuple()
        .all(db)
        .await?;
    let mut days: Vec<DayCount> = rows
        .into_iter()
        .filter_map(|(day, n)| {
            Some(DayCount {
                day: day?,
                offers: u64::try_from(n).ok()?,
            })
        })
        .collect();
    days.sort_by(|a, b| a.day.cmp(&b.day));
    Ok(days)
}

/// An INSEE commune code: 5 characters, digits, Corsica's `2A`/`2B` in front (`75056`,
/// `2A004`). Read as bytes: any text may come in.
pub fn is_commune_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && (b[..2].iter().all(u8::is_ascii_digit)
            || b[..2].eq_ignore_ascii_case(b"2A")
            || b[..2].eq_ignore_ascii_case(b"2B"))
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// One of the départements France Travail knows (`75`, `974`, `2A`).
pub fn is_departement_code(s: &str) -> bool {
    DEPARTEMENTS.iter().any(|d| d.eq_ignore_ascii_case(s))
}

/// The INSEE codes of the stored offers whose place (`lieu_libelle`, such as
/// `69 - Lyon 3e Arrondissement`) holds every word of `name`, accents and case ignored.
/// Reads the distinct (commune, place) pairs, a few thousand at most.
pub async fn communes_named(db: &DatabaseConnection, name: &str) -> Result<Vec<String>> {
    let words = search_words(name);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let pairs: Vec<(Option<String>, Option<String>)> = JobOffer::find()
        .select_only()
        .column(job_offer::Column::Commune)
        .column(job_offer::Column::LieuLibelle)
        .filter(job_offer::Column::Commune.is_not_null())
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut communes: Vec<String> = pairs
        .into_iter()
        .filter_map(|(commune, place)| {
            let place = crate::text::fold(place.as_deref()?);
            super::matches_words(&place, &words).then_some(commune?)
        })
        .collect();
    communes.sort();
    communes.dedup();
    Ok(communes)
}

/// One offer with its skills (in the order the offer lists them), or `None`.
pub async fn get(db: &DatabaseConnection, id: &str) -> Result<Option<OfferDetail>> {
    let Some(o) = JobOffer::find_by_id(id.to_owned()).one(db).await? else {
        return Ok(None);
    };
    let skills = JobOfferSkill::find()
        .filter(job_offer_skill::Column::OfferId.eq(id))
        .order_by_asc(job_offer_skill::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| SkillRow {
            code: s.code,
            libelle: s.libelle,
            exigence: s.exigence,
        })
        .collect();
    Ok(Some(OfferDetail {
        id: o.id,
        intitule: o.intitule,
        rome_code: o.rome_code,
        rome_libelle: o.rome_libelle,
        appellation_libelle: o.appellation_libelle,
        type_contrat: o.type_contrat,
        type_contrat_libelle: o.type_contrat_libelle,
        nature_contrat: o.nature_contrat,
        experience_exige: o.experience_exige,
        experience_libelle: o.experience_libelle,
        lieu_libelle: o.lieu_libelle,
        commune: o.commune,
        code_postal: o.code_postal,
        departement: o.departement,
        latitude: o.latitude,
        longitude: o.longitude,
        entreprise_nom: o.entreprise_nom,
        salaire_libelle: o.salaire_libelle,
        duree_travail_libelle: o.duree_travail_libelle,
        alternance: o.alternance,
        nombre_postes: o.nombre_postes,
        qualification_code: o.qualification_code,
        secteur_activite: o.secteur_activite,
        secteur_activite_libelle: o.secteur_activite_libelle,
        origine_url: o.origine_url,
        date_creation: o.date_creation,
        date_actualisation: o.date_actualisation,
        first_seen_at: o.first_seen_at,
        last_seen_at: o.last_seen_at,
        description: o.description,
        skills,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_told_apart() {
        for c in ["75056", "2A004", "2b033", "97411"] {
            assert!(is_commune_code(c), "{c}");
        }
        for c in [
            "paris", "Lyon", "7505", "750560", "2C004", "75 05", "aé12", "é1234",
        ] {
            assert!(!is_commune_code(c), "{c}");
        }
        for d in ["75", "974", "2A", "2b"] {
            assert!(is_departement_code(d), "{d}");
        }
        for d in ["7", "9741", "Pau", "2C", "é1", "999", "20"] {
            assert!(!is_departement_code(d), "{d}");
        }
    }
}
