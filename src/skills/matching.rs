//! Skills matching: how well a person's skills cover what the stored offers of one job
//! (ROME code) ask for. Pure, deterministic, and explained: every matched pair carries
//! its similarity, every missing skill its frequency.
//!
//! The formula (also in README):
//! - Skills are compared word by word after folding (case, accents), without French
//!   stop words, plurals reduced (`produits` = `produit`). Two words match with 1.0 when
//!   equal, 0.9 when they share their stem (one French suffix off: `préparation` /
//!   `préparer`, `dressage` / `dresser`, `cuisine` / `cuisinier`) or one starts the other
//!   (`accueil` / `accueillir`, at least 5 letters), 0.8 at one typo (one letter added, removed, changed, or two swapped;
//!   words of 5+ letters; 2 typos from 9 letters).
//! - similarity(user skill, required skill) = the mean, over the user skill's words, of
//!   its best word match in the required skill. A pair counts from [`MATCH_THRESHOLD`].
//! - match_score = Σ frequency(r) × best similarity(r) / Σ frequency(r), over the
//!   [`PROFILE_SIZE`] skills most requested for the job, where frequency(r) is the
//!   share of the job's offers that ask for r. 0 when nothing matches, 1 when every
//!   one of those skills is covered exactly.

use serde::Serialize;

use crate::text::fold;

/// The most requested skills the score weighs.
pub const PROFILE_SIZE: usize = 10;
/// Below this similarity, a pair is not a match.
pub const MATCH_THRESHOLD: f64 = 0.6;
/// How many missing skills the answer lists.
const MISSING_SHOWN: usize = 5;

const STOP_WORDS: &[&str] = &[
    "a", "au", "aux", "avec", "d", "dans", "de", "des", "du", "en", "et", "l", "la", "le", "les",
    "ou", "par", "pour", "sa", "se", "ses", "son", "sur", "un", "une",
];

/// A skill the offers of a job ask for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequiredSkill {
    pub libelle: String,
    /// Offers asking for it.
    pub offers: u64,
    /// `offers` as a share of the job's offers (0..1).
    pub frequency: f64,
}

/// One of the person's skills and the required skill it covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillMatch {
    pub skill: String,
    pub matches: String,
    pub similarity: f64,
    pub frequency: f64,
}

/// The answer of `match-skills` and `POST /api/match_skills`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchResult {
    pub rome_code: String,
    pub match_score: f64,
    pub matching_skills: Vec<SkillMatch>,
    pub missing_skills: Vec<RequiredSkill>,
    /// The person's skills that match none of the profile's (as given, trimmed, once
    /// each): none is dropped from the answer.
    pub unmatched_skills: Vec<String>,
    pub recommendations: Vec<String>,
}

/// The words of a skill, folded, without stop words, plurals reduced.
pub fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(' ')
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(|w| {
            if w.len() > 3 && (w.ends_with('s') || w.ends_with('x')) {
                w[..w.len() - 1].to_owned()
            } else {
                w.to_owned()
            }
        })
        .collect()
}

/// Edit distance with transpositions (optimal string alignment): `hygeine` is one
/// edit from `hygiene`. Returns `max + 1` as soon as it is known to exceed `max`.
fn distance(a: &str, b: &str, max: usize) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        d[i * width] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return max + 1;
        }
    }
    d[a.len() * width + b.len()]
}

/// French suffixes a stem loses (`préparation`, `préparer` → `prepar`), longest first.
const SUFFIXES: &[&str] = &[
    "issement", "ements", "ement", "ations", "ation", "atrice", "ateur", "euses", "euse", "ieres",
    "iere", "iers", "ier", "eurs", "eur", "ages", "age", "ants", "ant", "ives", "ive", "er", "ir",
    "ee", "e",
];

/// The stem of a folded word: one suffix off, keeping at least 4 letters.
pub fn stem(w: &str) -> &str {
    SUFFIXES
        .iter()
        .find_map(|s| w.strip_suffix(s).filter(|rest| rest.len() >= 4))
        .unwrap_or(w)
}

/// How well two words match (see the module doc).
pub fn word_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    if stem(a) == stem(b) {
        return 0.9;
    }
    let shorter = a.len().min(b.len());
    if shorter >= 5 && (a.starts_with(b) || b.starts_with(a)) {
        return 0.9;
    }
    let allowed = match shorter {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    };
    if allowed > 0 && distance(a, b, allowed) <= allowed {
        return 0.8;
    }
    0.0
}

/// How much of `user`'s words `required` holds (see the module doc).
pub fn similarity(user: &[String], required: &[String]) -> f64 {
    if user.is_empty() || required.is_empty() {
        return 0.0;
    }
    let total: f64 = user
        .iter()
        .map(|u| {
            required
                .iter()
                .map(|r| word_similarity(u, r))
                .fold(0.0, f64::max)
        })
        .sum();
    total / user.len() as f64
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn percent(f: f64) -> String {
    format!("{:.0}%", f * 100.0)
}

/// Scores `skills` against the required skills of `rome_code` (most requested first).
pub fn match_skills(rome_code: &str, required: &[RequiredSkill], skills: &[String]) -> MatchResult {
    let profile: Vec<&RequiredSkill> = required.iter().take(PROFILE_SIZE).collect();
    let user: Vec<(&String, Vec<String>)> = skills
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| (s, words(s)))
        .collect();
    let mut matching = Vec::new();
    let mut missing = Vec::new();
    let (mut covered, mut weight) = (0.0, 0.0);
    for r in &profile {
        let r_words = words(&r.libelle);
        let best = user
            .iter()
            .map(|(s, w)| (*s, similarity(w, &r_words)))
            .filter(|(_, sim)| *sim >= MATCH_THRESHOLD)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        weight += r.frequency;
        match best {
            Some((skill, sim)) => {
                covered += r.frequency * sim;
                matching.push(SkillMatch {
                    skill: skill.trim().to_owned(),
                    matches: r.libelle.clone(),
                    similarity: round(sim),
                    frequency: round(r.frequency),
                });
            }
            None => missing.push((*r).clone()),
        }
    }
    let score = if weight > 0.0 {
        round(covered / weight)
    } else {
        0.0
    };
    let mut recommendations = Vec::new();
    if user.is_empty() {
        recommendations.push("list your skills: none were given".to_owned());
    }
    for m in missing.iter().take(3) {
        recommendations.push(format!(
            "develop \"{}\": asked by {} of the offers",
            m.libelle,
            percent(m.frequency)
        ));
    }
    let mut unmatched_skills: Vec<String> = Vec::new();
    for (s, _) in &user {
        let s = s.trim();
        if !matching.iter().any(|m| m.skill == s) && !unmatched_skills.iter().any(|u| u == s) {
            unmatched_skills.push(s.to_owned());
        }
    }
    if let Some(unmatched) = unmatched_skills.first() {
        recommendations.push(format!(
            "\"{unmatched}\" matches none of the most requested skills: say it the way offers do"
        ));
    }
    if score >= 0.8 {
        recommendations.push(format!(
            "your skills cover most of what {rome_code} offers ask for: apply"
        ));
    }
    missing.truncate(MISSING_SHOWN);
    MatchResult {
        rome_code: rome_code.to_owned(),
        match_score: score,
        matching_skills: matching,
        missing_skills: missing,
        unmatched_skills,
        recommendations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required() -> Vec<RequiredSkill> {
        [
            ("Préparer les produits culinaires", 0.8),
            ("Respecter les règles d'hygiène et de sécurité", 0.6),
            ("Accueillir la clientèle", 0.4),
            ("Assurer le service en salle", 0.2),
        ]
        .into_iter()
        .map(|(l, f)| RequiredSkill {
            libelle: l.to_owned(),
            offers: (f * 10.0) as u64,
            frequency: f,
        })
        .collect()
    }

    fn score(skills: &[&str]) -> MatchResult {
        let skills: Vec<String> = skills.iter().map(|s| (*s).to_owned()).collect();
        match_skills("G1602", &required(), &skills)
    }

    #[test]
    fn words_are_folded_without_stop_words_and_plurals() {
        assert_eq!(
            words("Préparer les produits culinaires"),
            ["preparer", "produit", "culinaire"]
        );
        assert_eq!(words("Hygiène"), ["hygiene"]);
        assert_eq!(words("  "), Vec::<String>::new());
    }

    #[test]
    fn words_match_exactly_by_stem_or_with_a_typo() {
        let check = |a: &str, b: &str, expected: f64| {
            assert_eq!(word_similarity(a, b), expected, "{a} / {b}");
        };
        check("hygiene", "hygiene", 1.0);
        check("accueil", "accueillir", 0.9);
        check("hygeine", "hygiene", 0.8);
        check("culinaire", "culinaries", 0.8);
        check("preparation", "preparer", 0.9);
        check("dressage", "dresser", 0.9);
        check("cuisine", "cuisinier", 0.9);
        check("controler", "contrat", 0.0);
        check("sel", "salle", 0.0);
        check("cafe", "cave", 0.0);
        check("service", "securite", 0.0);
    }

    #[test]
    fn a_table_of_cases() {
        // (skills, expected score, matched required skills)
        let cases: &[(&[&str], f64, &[&str])] = &[
            (
                &["hygiène"],
                0.3,
                &["Respecter les règles d'hygiène et de sécurité"],
            ),
            (
                &["HYGIENE"],
                0.3,
                &["Respecter les règles d'hygiène et de sécurité"],
            ),
            (
                &["hygeine"],
                0.24,
                &["Respecter les règles d'hygiène et de sécurité"],
            ),
            (
                &["produit culinaire"],
                0.4,
                &["Préparer les produits culinaires"],
            ),
            (&["accueil"], 0.18, &["Accueillir la clientèle"]),
            (&["service"], 0.1, &["Assurer le service en salle"]),
            (&["informatique"], 0.0, &[]),
            (&[], 0.0, &[]),
            (
                &[
                    "préparer produits culinaires",
                    "hygiène sécurité",
                    "accueillir clientèle",
                    "service en salle",
                ],
                1.0,
                &[
                    "Préparer les produits culinaires",
                    "Respecter les règles d'hygiène et de sécurité",
                    "Accueillir la clientèle",
                    "Assurer le service en salle",
                ],
            ),
        ];
        for (skills, expected, matched) in cases {
            let r = score(skills);
            assert_eq!(r.match_score, *expected, "{skills:?}: {r:#?}");
            let got: Vec<&str> = r
                .matching_skills
                .iter()
                .map(|m| m.matches.as_str())
                .collect();
            assert_eq!(&got, matched, "{skills:?}");
            assert_eq!(
                r.matching_skills.len() + r.missing_skills.len(),
                4,
                "{skills:?}"
            );
        }
    }

    #[test]
    fn an_empty_list_scores_zero_and_says_so() {
        let r = score(&[]);
        assert_eq!(r.match_score, 0.0);
        assert_eq!(r.missing_skills.len(), 4);
        assert!(r.recommendations[0].contains("none were given"));
        assert!(r.recommendations[1].contains("Préparer les produits culinaires"));
    }

    #[test]
    fn no_required_skills_scores_zero() {
        let r = match_skills("X0000", &[], &["cuisine".to_owned()]);
        assert_eq!((r.match_score, r.missing_skills.len()), (0.0, 0));
    }
}
