//! Text helpers shared by search and matching: folding for accent- and case-insensitive
//! comparison.

/// Lower case, accents removed, every run of non-alphanumerics one space, trimmed:
/// `Développeur / Développeuse` gives `developpeur developpeuse`.
pub fn fold(s: &str) -> String {
    let ascii = deunicode::deunicode(s).to_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The text a search looks in: the parts folded, joined by spaces.
pub fn search_text<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let folded: Vec<String> = parts
        .into_iter()
        .flatten()
        .map(fold)
        .filter(|s| !s.is_empty())
        .collect();
    folded.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_and_punctuation() {
        let check = |s: &str, expected: &str| assert_eq!(fold(s), expected, "{s:?}");
        check("Développeur / Développeuse", "developpeur developpeuse");
        check("  HYGIÈNE, sécurité ", "hygiene securite");
        check("Aide-soignant(e)", "aide soignant e");
        check("Œuvre", "oeuvre");
        check("", "");
        assert_eq!(
            search_text([Some("Cuisinier"), None, Some("Hôtellerie")]),
            "cuisinier hotellerie"
        );
    }
}
