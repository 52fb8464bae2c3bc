//! Skills computed from the stored France Travail offers: a job's profile (`rome show`),
//! how well a person's skills match it (`match-skills`), and the jobs they match best
//! (`recommend`).

pub mod matching;
pub mod profile;
pub mod recommend;

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

/// A ROME code (a letter and 4 digits, e.g. `G1602`), trimmed and upper-cased; `None`
/// when `s` is not one.
pub fn rome_code(s: &str) -> Option<String> {
    let code = s.trim().to_uppercase();
    let ok = code.len() == 5
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code[1..].chars().all(|c| c.is_ascii_digit());
    ok.then_some(code)
}

/// Splits `"accueil, service; hygiène"` into skills (commas, semicolons, new lines).
pub fn split_skills(s: &str) -> Vec<String> {
    s.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skill_lists_are_split_on_commas_semicolons_and_lines() {
        assert_eq!(
            split_skills("accueil, service;  hygiène ,,"),
            ["accueil", "service", "hygiène"]
        );
        assert!(split_skills(" , ").is_empty());
    }
}
