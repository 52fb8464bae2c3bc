//! Skills computed from the stored France Travail offers: a job's profile (`rome show`)
//! and how well a person's skills match it (`match-skills`).

pub mod matching;
pub mod profile;

pub use matching::{MatchResult, RequiredSkill, SkillMatch, match_skills};
pub use profile::{RomeProfile, rome_profile};

use sea_orm::DatabaseConnection;

/// Why skills cannot be matched.
#[derive(Debug, thiserror::Error)]
pub enum SkillsError {
    #[error(
        "no stored offer has ROME code {0}: collect offers first (`sagasync france-travail collect --rome {0}`)"
    )]
    UnknownRome(String),
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// Matches `skills` against the stored offers of `rome_code`.
pub async fn match_stored(
    db: &DatabaseConnection,
    rome_code: &str,
    skills: &[String],
) -> Result<MatchResult, SkillsError> {
    let profile = rome_profile(db, rome_code)
        .await?
        .ok_or_else(|| SkillsError::UnknownRome(rome_code.trim().to_uppercase()))?;
    Ok(match_skills(&profile.rome_code, &profile.skills, skills))
}
