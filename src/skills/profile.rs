//! What the stored offers say about one job (ROME code): its label, how many offers,
//! the skills they ask for and how often, the contract mix, the salaries seen, a few
//! sample offers. Read with a handful of grouped queries, whatever the table's size.

use std::collections::BTreeMap;

use entity::prelude::*;
use entity::{job_offer, job_offer_skill};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

use super::matching::RequiredSkill;
use crate::text::fold;

/// Sample offers shown.
const SAMPLES: u64 = 5;
/// Salary labels shown.
const SALARIES: usize = 8;

/// A count of offers by some value (contract type, salary label).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub value: String,
    pub offers: u64,
    /// `offers` as a share of the job's offers (0..1), as a skill's `frequency`.
    pub frequency: f64,
}

/// One sample offer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    pub id: String,
    pub intitule: Option<String>,
    pub lieu_libelle: Option<String>,
    pub type_contrat: Option<String>,
}

/// The job as the stored offers describe it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RomeProfile {
    pub rome_code: String,
    pub rome_libelle: Option<String>,
    pub offers: u64,
    /// Most requested first; skills spelled alike (case, accents) are one.
    pub skills: Vec<RequiredSkill>,
    pub contracts: Vec<Share>,
    pub salaries: Vec<Share>,
    pub samples: Vec<Sample>,
}

fn share(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        (n as f64 / of as f64 * 1000.0).round() / 1000.0
    }
}

/// Counts of offers of `code` by the values of `col` (most frequent first).
async fn counts_by(
    db: &DatabaseConnection,
    code: &str,
    col: job_offer::Column,
) -> Result<Vec<(String, u64)>, DbErr> {
    let rows: Vec<(Option<String>, i64)> = JobOffer::find()
        .select_only()
        .column(col)
        .column_as(
            Expr::from(Func::count(Expr::col(job_offer::Column::Id))),
            "n",
        )
        .filter(job_offer::Column::RomeCode.eq(code))
        .group_by(col)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts: Vec<(String, u64)> = rows
        .into_iter()
        .filter_map(|(v, n)| Some((v?, u64::try_from(n).ok()?)))
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(counts)
}

/// The skills the offers of `code` ask for, with the share of offers asking each.
async fn skills(
    db: &DatabaseConnection,
    code: &str,
    offers: u64,
) -> Result<Vec<RequiredSkill>, DbErr> {
    let rows: Vec<(String, i64)> = JobOfferSkill::find()
        .select_only()
        .column(job_offer_skill::Column::Libelle)
        .column_as(
            Expr::from(Func::count_distinct(Expr::col((
                job_offer_skill::Entity,
                job_offer_skill::Column::OfferId,
            )))),
            "n",
        )
        .inner_join(JobOffer)
        .filter(job_offer::Column::RomeCode.eq(code))
        .group_by(job_offer_skill::Column::Libelle)
        .into_tuple()
        .all(db)
        .await?;
    Ok(merge_skills(rows, offers))
}

/// The skills of a job from `(label, offers asking it)` rows: spellings that fold alike
/// are one skill, shown as its most frequent spelling; most requested first. The one
/// rule `rome show`, `match-skills` and `recommend` share.
pub(crate) fn merge_skills(mut rows: Vec<(String, i64)>, offers: u64) -> Vec<RequiredSkill> {
    // Whatever order the database gave them in, the same spelling wins.
    rows.sort();
    let mut merged: BTreeMap<String, (String, u64, u64)> = BTreeMap::new();
    for (libelle, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        let e = merged
            .entry(fold(&libelle))
            .or_insert_with(|| (libelle.clone(), 0, 0));
        e.1 += n;
        if n > e.2 {
            e.0 = libelle;
            e.2 = n;
        }
    }
    let mut list: Vec<RequiredSkill> = merged
        .into_values()
        .map(|(libelle, n, _)| {
            let n = n.min(offers);
            RequiredSkill {
                libelle,
                offers: n,
                frequency: share(n, offers),
            }
        })
        .collect();
    list.sort_by(|a, b| {
        b.offers
            .cmp(&a.offers)
            .then_with(|| a.libelle.cmp(&b.libelle))
    });
    list
}

/// The profile of `code` (trimmed, upper-cased), or `None` when no stored offer has it.
pub async fn rome_profile(
    db: &DatabaseConnection,
    code: &str,
) -> Result<Option<RomeProfile>, DbErr> {
    let code = code.trim().to_uppercase();
    let offers = JobOffer::find()
        .filter(job_offer::Column::RomeCode.eq(code.as_str()))
        .count(db)
        .await?;
    if offers == 0 {
        return Ok(None);
    }
    let label = counts_by(db, &code, job_offer::Column::RomeLibelle)
        .await?
        .into_iter()
        .next()
        .map(|(l, _)| l);
    let to_shares = |v: Vec<(String, u64)>| -> Vec<Share> {
        v.into_iter()
            .map(|(value, n)| Share {
                value,
                offers: n,
                frequency: share(n, offers),
            })
            .collect()
    };
    let contracts = to_shares(counts_by(db, &code, job_offer::Column::TypeContrat).await?);
    let mut salaries = to_shares(counts_by(db, &code, job_offer::Column::SalaireLibelle).await?);
    salaries.truncate(SALARIES);
    let samples = JobOffer::find()
        .filter(job_offer::Column::RomeCode.eq(code.as_str()))
        .order_by_desc(job_offer::Column::DateCreation)
        .order_by_asc(job_offer::Column::Id)
        .limit(SAMPLES)
        .all(db)
        .await?
        .into_iter()
        .map(|o| Sample {
            id: o.id,
            intitule: o.intitule,
            lieu_libelle: o.lieu_libelle,
            type_contrat: o.type_contrat,
        })
        .collect();
    Ok(Some(RomeProfile {
        skills: skills(db, &code, offers).await?,
        rome_code: code,
        rome_libelle: label,
        offers,
        contracts,
        salaries,
        samples,
    }))
}
