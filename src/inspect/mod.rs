//! Read-only views of what the database holds: the queries behind `db stats`, `runs`,
//! `categories`, `products`, `cerema users|structures list`, `offers` and `rome search`
//! (and the JSON API). Each returns serializable rows; nothing here prints.
//!
//! Lists take a `limit` and an `offset` (the API pages with them); the field names of
//! a row are its JSON keys and CSV headers.

pub mod catalog;
pub mod cerema;
pub mod db;
pub mod offers;
pub mod rome;
pub mod runs;

use sea_orm::DbErr;
use sea_orm::sea_query::LikeExpr;

/// Why a view could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// Something the caller named does not exist (an unknown category slug): a 404 for
    /// the API, exit 1 for the CLI.
    #[error("no {what} {key:?}")]
    NotFound { what: &'static str, key: String },
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub type Result<T> = std::result::Result<T, InspectError>;

/// The escape character of LIKE patterns: `!`, because a backslash means something
/// different in MySQL string literals than in the other two.
pub const LIKE_ESCAPE: char = '!';

/// `%word%`, with `%`, `_` and the escape character escaped: matches `word` anywhere,
/// literally, on every backend.
pub fn contains_pattern(word: &str) -> LikeExpr {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            p.push(LIKE_ESCAPE);
        }
        p.push(c);
    }
    p.push('%');
    LikeExpr::new(p).escape(LIKE_ESCAPE)
}

/// The folded words of a search (`Développeur  Java` gives `developpeur`, `java`): a
/// row matches when its folded text contains every one of them.
pub fn search_words(q: &str) -> Vec<String> {
    crate::text::fold(q)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The ids of `ids` that are whole numbers, each with its number (upstream ids are text
/// in `sync_errors`; the others are left out).
pub fn numeric_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<(&'a str, i64)> {
    ids.into_iter()
        .filter_map(|s| Some((s, s.trim().parse().ok()?)))
        .collect()
}

/// Whether the folded `text` contains every word.
pub fn matches_words(text: &str, words: &[String]) -> bool {
    words.iter().all(|w| text.contains(w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_folded_and_split() {
        assert_eq!(
            search_words(" Développeur  JAVA/ "),
            ["developpeur", "java"]
        );
        assert!(search_words(" %_ ").is_empty());
        let text = crate::text::fold("Développeur Java confirmé");
        assert!(matches_words(&text, &search_words("developpeur confirme")));
        assert!(!matches_words(&text, &search_words("developpeur python")));
    }
}
