//! Recommendations (`sagasync recommend`): the ROME codes of the stored offers ranked by
//! how well a person's skills match what their offers ask for (the `match-skills`
//! score), each with its best offers, near a commune when one is given.
//!
//! Two grouped queries read every job's offer count, label and skills (no offer is
//! loaded); then a few rows per recommended code for its offers.

use std::collections::BTreeMap;

use entity::prelude::*;
use entity::{job_offer, job_offer_skill};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use super::MatchResult;
use super::matching::{RequiredSkill, SkillMatch, match_skills};
use super::profile::merge_skills;

/// Why nothing can be recommended.
#[derive(Debug, thiserror::Error)]
pub enum RecommendError {
    #[error(
        "no stored offer with a position is in commune {0}: give the INSEE code of a commune of the stored offers (`sagasync offers search`)"
    )]
    UnknownCommune(String),
    #[error("no skills given: list some, comma-separated (\"accueil, service\")")]
    NoSkills,
    /// The profile asked for holds no skill (its email).
    #[error("the profile of {0} holds no skill: add some first")]
    EmptyProfile(String),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// Offers shown per recommended code.
pub const OFFERS_SHOWN: u64 = 3;
/// Added to the score of a code one of the person's work experiences holds (only when
/// some skill matched; the score stays at most 1).
pub const EXPERIENCE_BONUS: f64 = 0.05;
/// Mean radius of the Earth, in km (haversine).
const EARTH_RADIUS_KM: f64 = 6371.0;
/// Km per degree of latitude (bounding box of the SQL prefilter, wider than needed).
const KM_PER_DEGREE: f64 = 111.0;

/// Where offers must be: within `distance_km` of the commune's position.
#[derive(Debug, Clone)]
pub struct Near {
    /// INSEE code of the commune.
    pub commune: String,
    pub distance_km: f64,
}

/// What to recommend for.
#[derive(Debug, Clone, Default)]
pub struct RecommendOptions {
    /// The person's skills (at least one).
    pub skills: Vec<String>,
    /// ROME codes of the person's work experiences (the bonus).
    pub experience_codes: Vec<String>,
    pub near: Option<Near>,
    /// Codes given at most.
    pub limit: usize,
}

/// One offer of a recommended code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfferSummary {
    pub id: String,
    pub intitule: Option<String>,
    /// INSEE code of its commune.
    pub commune: Option<String>,
    /// From the commune asked for, rounded to 0.1 km; absent without `--commune`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

/// One recommended job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub rome_code: String,
    pub rome_libelle: Option<String>,
    pub match_score: f64,
    pub matching_skills: Vec<SkillMatch>,
    pub missing_skills: Vec<RequiredSkill>,
    pub offers: Vec<OfferSummary>,
}

/// Great-circle distance in km between two (latitude, longitude) points in degrees.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The score with the experience bonus: `score + EXPERIENCE_BONUS` (at most 1) when the
/// person has worked in the job and some skill matched, else `score`.
pub fn with_bonus(score: f64, experienced: bool) -> f64 {
    if experienced && score > 0.0 {
        ((score + EXPERIENCE_BONUS).min(1.0) * 1000.0).round() / 1000.0
    } else {
        score
    }
}

/// Per ROME code: its stored offers and its label (the most frequent, as `rome show`).
async fn codes(db: &DatabaseConnection) -> Result<BTreeMap<String, (u64, Option<String>)>, DbErr> {
    let rows: Vec<(String, Option<String>, i64)> = JobOffer::find()
        .select_only()
        .column(job_offer::Column::RomeCode)
        .column(job_offer::Column::RomeLibelle)
        .column_as(
            Expr::from(Func::count(Expr::col(job_offer::Column::Id))),
            "n",
        )
        .filter(job_offer::Column::RomeCode.is_not_null())
        .group_by(job_offer::Column::RomeCode)
        .group_by(job_offer::Column::RomeLibelle)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: BTreeMap<String, (u64, Option<String>, u64)> = BTreeMap::new();
    for (code, label, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        let e = out.entry(code).or_insert((0, None, 0));
        e.0 += n;
        if let Some(label) = label {
            let better = n > e.2 || (n == e.2 && e.1.as_ref().is_none_or(|l| label < *l));
            if better {
                e.1 = Some(label);
                e.2 = n;
            }
        }
    }
    Ok(out.into_iter().map(|(c, (n, l, _))| (c, (n, l))).collect())
}

/// Per ROME code: `(skill label, offers asking it)`, grouped in SQL.
async fn skill_rows(
    db: &DatabaseConnection,
) -> Result<BTreeMap<String, Vec<(String, i64)>>, DbErr> {
    let rows: Vec<(String, String, i64)> = JobOfferSkill::find()
        .select_only()
        .column_as(
            Expr::col((JobOffer, job_offer::Column::RomeCode)),
            "rome_code",
        )
        .column(job_offer_skill::Column::Libelle)
        .column_as(
            Expr::from(Func::count_distinct(Expr::col((
                job_offer_skill::Entity,
                job_offer_skill::Column::OfferId,
            )))),
            "n",
        )
        .inner_join(JobOffer)
        .filter(job_offer::Column::RomeCode.is_not_null())
        .group_by(Expr::col((JobOffer, job_offer::Column::RomeCode)))
        .group_by(job_offer_skill::Column::Libelle)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for (code, libelle, n) in rows {
        out.entry(code).or_default().push((libelle, n));
    }
    Ok(out)
}

/// The position of `commune`: the mean of its stored offers' positions.
pub async fn commune_position(
    db: &DatabaseConnection,
    commune: &str,
) -> Result<(f64, f64), RecommendError> {
    let commune = commune.trim().to_uppercase();
    let row: Option<(Option<f64>, Option<f64>)> = JobOffer::find()
        .select_only()
        .column_as(
            Expr::from(Func::avg(Expr::col(job_offer::Column::Latitude))),
            "lat",
        )
        .column_as(
            Expr::from(Func::avg(Expr::col(job_offer::Column::Longitude))),
            "lon",
        )
        .filter(job_offer::Column::Commune.eq(commune.as_str()))
        .filter(job_offer::Column::Latitude.is_not_null())
        .filter(job_offer::Column::Longitude.is_not_null())
        .into_tuple()
        .one(db)
        .await?;
    match row {
        Some((Some(lat), Some(lon))) => Ok((lat, lon)),
        _ => Err(RecommendError::UnknownCommune(commune)),
    }
}

/// The best offers of `code`: the most recent, or the nearest within `near`.
async fn offers_of(
    db: &DatabaseConnection,
    code: &str,
    near: Option<(&Near, (f64, f64))>,
) -> Result<Vec<OfferSummary>, DbErr> {
    type Row = (
        String,
        Option<String>,
        Option<String>,
        Option<f64>,
        Option<f64>,
    );
    let query = JobOffer::find()
        .select_only()
        .column(job_offer::Column::Id)
        .column(job_offer::Column::Intitule)
        .column(job_offer::Column::Commune)
        .column(job_offer::Column::Latitude)
        .column(job_offer::Column::Longitude)
        .filter(job_offer::Column::RomeCode.eq(code));
    let Some((near, (lat, lon))) = near else {
        let rows: Vec<Row> = query
            .order_by_desc(job_offer::Column::DateCreation)
            .order_by_asc(job_offer::Column::Id)
            .limit(OFFERS_SHOWN)
            .into_tuple()
            .all(db)
            .await?;
        return Ok(rows
            .into_iter()
            .map(|(id, intitule, commune, _, _)| OfferSummary {
                id,
                intitule,
                commune,
                distance_km: None,
            })
            .collect());
    };
    // A box around the commune in SQL (wider than the circle), the circle in Rust.
    let dlat = near.distance_km / KM_PER_DEGREE + 0.01;
    let dlon = near.distance_km / (KM_PER_DEGREE * lat.to_radians().cos().max(0.01)) + 0.01;
    let rows: Vec<Row> = query
        .filter(job_offer::Column::Latitude.between(lat - dlat, lat + dlat))
        .filter(job_offer::Column::Longitude.between(lon - dlon, lon + dlon))
        .into_tuple()
        .all(db)
        .await?;
    let mut found: Vec<OfferSummary> = rows
        .into_iter()
        .filter_map(|(id, intitule, commune, a, b)| {
            let d = haversine_km((lat, lon), (a?, b?));
            (d <= near.distance_km).then(|| OfferSummary {
                id,
                intitule,
                commune,
                distance_km: Some((d * 10.0).round() / 10.0),
            })
        })
        .collect();
    found.sort_by(|a, b| {
        a.distance_km
            .unwrap_or(0.0)
            .total_cmp(&b.distance_km.unwrap_or(0.0))
            .then_with(|| a.id.cmp(&b.id))
    });
    found.truncate(OFFERS_SHOWN as usize);
    Ok(found)
}

/// The skills and the work experiences' ROME codes of an account's profile, as
/// `recommend` takes them (`recommend --profile` and `GET /api/me/recommendations`).
pub async fn profile_skills(
    db: &DatabaseConnection,
    account: &entity::account::Model,
) -> Result<(Vec<String>, Vec<String>), RecommendError> {
    let skills = crate::profiles::store::skills(db, account.id).await?;
    if skills.is_empty() {
        return Err(RecommendError::EmptyProfile(account.email.clone()));
    }
    let codes = crate::profiles::store::experiences(db, account.id)
        .await?
        .into_iter()
        .filter_map(|e| e.rome_code.as_deref().and_then(super::rome_code))
        .collect();
    Ok((skills.into_iter().map(|s| s.label).collect(), codes))
}

/// The ROME codes whose offers the skills match, best first (score, then code), at
/// most `limit`, each with its best offers. Codes nothing matches are left out.
pub async fn recommend(
    db: &DatabaseConnection,
    opts: &RecommendOptions,
) -> Result<Vec<Recommendation>, RecommendError> {
    if opts.skills.iter().all(|s| s.trim().is_empty()) {
        return Err(RecommendError::NoSkills);
    }
    // The commune first: an unknown one is an error whatever the skills match.
    let center = match &opts.near {
        Some(near) => Some((near, commune_position(db, &near.commune).await?)),
        None => None,
    };
    let codes = codes(db).await?;
    let mut skills = skill_rows(db).await?;
    let mut ranked: Vec<(MatchResult, Option<String>)> = Vec::new();
    for (code, (offers, label)) in codes {
        // A code whose offers ask no skill has no profile to match.
        let Some(rows) = skills.remove(&code) else {
            continue;
        };
        let required = merge_skills(rows, offers);
        let mut m = match_skills(&code, &required, &opts.skills);
        let experienced = opts.experience_codes.contains(&code);
        m.match_score = with_bonus(m.match_score, experienced);
        if m.match_score > 0.0 {
            ranked.push((m, label));
        }
    }
    ranked.sort_by(|a, b| {
        b.0.match_score
            .total_cmp(&a.0.match_score)
            .then_with(|| a.0.rome_code.cmp(&b.0.rome_code))
    });
    ranked.truncate(opts.limit);
    let mut out = Vec::with_capacity(ranked.len());
    for (m, label) in ranked {
        out.push(Recommendation {
            offers: offers_of(db, &m.rome_code, center).await?,
            rome_code: m.rome_code,
            rome_libelle: label,
            match_score: m.match_score,
            matching_skills: m.matching_skills,
            missing_skills: m.missing_skills,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_gives_known_distances() {
        let paris = (48.8566, 2.3522);
        let lyon = (45.764, 4.8357);
        let d = haversine_km(paris, lyon);
        assert!((d - 392.0).abs() < 3.0, "{d}");
        assert_eq!(haversine_km(paris, paris), 0.0);
    }

    #[test]
    fn the_experience_bonus_is_small_capped_and_needs_a_match() {
        assert_eq!(with_bonus(0.5, true), 0.55);
        assert_eq!(with_bonus(0.98, true), 1.0);
        assert_eq!(with_bonus(0.0, true), 0.0);
        assert_eq!(with_bonus(0.5, false), 0.5);
    }
}
