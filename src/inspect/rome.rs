//! ROME codes found by their words: the codes whose label (`rome_libelle`) or one of
//! whose job titles (`appellation_libelle`) holds every word of a text, accents and case
//! ignored (`rome search`, `GET /api/rome/search`), and the one code a label names
//! (`rome show LABEL`).
//!
//! The candidates are the distinct (code, label, job title) triples of the offers whose
//! folded `search_text` holds every word (one `LIKE` per word, as the offers search; it
//! holds the label and the titles folded, so no code is missed), kept when the label
//! or the title, folded, holds them all: a few thousand triples at most, whatever the
//! number of offers. Their offers are then counted in one GROUP BY, paged by the
//! database ([`super::offers::rome_codes`]).

use std::collections::BTreeMap;

use entity::job_offer;
use entity::prelude::*;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::offers::{self, MAX_LIMIT, OfferFilter, RomeCount};
use super::{Result, contains_pattern, matches_words, search_words};
use crate::text::fold;

/// The ROME codes whose label or a job title holds every word of `text`, each with
/// whether its label is `text` itself (accents, case and punctuation aside); none when
/// `text` holds no word.
async fn candidates(db: &DatabaseConnection, text: &str) -> Result<BTreeMap<String, bool>> {
    let words = search_words(text);
    if words.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut query = JobOffer::find()
        .select_only()
        .column(job_offer::Column::RomeCode)
        .column(job_offer::Column::RomeLibelle)
        .column(job_offer::Column::AppellationLibelle)
        .filter(job_offer::Column::RomeCode.is_not_null())
        .distinct();
    for word in &words {
        query = query.filter(job_offer::Column::SearchText.like(contains_pattern(word)));
    }
    let rows: Vec<(String, Option<String>, Option<String>)> = query.into_tuple().all(db).await?;
    let whole = fold(text);
    let mut found = BTreeMap::new();
    for (code, label, title) in rows {
        let label = label.as_deref().map(fold);
        let holds = |t: &Option<String>| t.as_deref().is_some_and(|t| matches_words(t, &words));
        if holds(&label) || holds(&title.as_deref().map(fold)) {
            let exact = found.entry(code).or_insert(false);
            *exact |= label.as_deref() == Some(whole.as_str());
        }
    }
    Ok(found)
}

/// The ROME codes whose label or a job title holds every word of `text` (accents and
/// case ignored), in code order; none when `text` holds no word.
pub async fn codes_matching(db: &DatabaseConnection, text: &str) -> Result<Vec<String>> {
    Ok(candidates(db, text).await?.into_keys().collect())
}

/// `codes` with their label and stored offers, most offers first (then by code),
/// `limit` of them (at most [`MAX_LIMIT`]) from `offset`: one GROUP BY.
pub async fn counts(
    db: &DatabaseConnection,
    codes: &[String],
    limit: u64,
    offset: u64,
) -> Result<Vec<RomeCount>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let filter = OfferFilter {
        rome_codes: codes.to_vec(),
        limit,
        offset,
        ..OfferFilter::default()
    };
    offers::rome_codes(db, &filter).await
}

/// The ROME code a label names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    One(String),
    /// Codes it could be, most offers first (at most [`MAX_LIMIT`]).
    Several(Vec<RomeCount>),
    None,
}

/// The code `label` names: the one whose label is `label` (accents, case and
/// punctuation aside), else the only one whose label or a job title holds every word
/// of it.
pub async fn named(db: &DatabaseConnection, label: &str) -> Result<Named> {
    let found = candidates(db, label).await?;
    let exact: Vec<String> = found
        .iter()
        .filter(|(_, exact)| **exact)
        .map(|(code, _)| code.clone())
        .collect();
    let codes = if exact.is_empty() {
        found.into_keys().collect()
    } else {
        exact
    };
    Ok(match codes.as_slice() {
        [] => Named::None,
        [one] => Named::One(one.clone()),
        _ => Named::Several(counts(db, &codes, MAX_LIMIT, 0).await?),
    })
}
