//! Text helpers: folding for accent- and case-insensitive comparison (search and
//! matching), the one rule for NUL characters in upstream text, and how messages name
//! the kind of a JSON value.

use serde_json::Value;

/// What a JSON value is, for messages (`` `results` is a string, not a list ``).
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The warning a record gets when NUL characters were removed from it.
pub const NUL_REMOVED: &str = "NUL characters removed from the record";

/// Removes the NUL characters of `s` (see [`strip_nul`]); true when there were any.
pub fn strip_nul_str(s: &mut String) -> bool {
    let any = s.contains('\0');
    if any {
        s.retain(|c| c != '\0');
    }
    any
}

/// Whether a string (or key) of `v` holds a NUL character.
pub fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Removes the NUL characters of every string (and key) of `v`: PostgreSQL refuses them
/// in text and JSON where the other backends store them, so every backend gets the same
/// rows. True when there were any (the caller records a warning).
pub fn strip_nul(v: &mut Value) -> bool {
    match v {
        Value::String(s) => strip_nul_str(s),
        Value::Array(items) => items.iter_mut().fold(false, |any, v| strip_nul(v) | any),
        Value::Object(map) => {
            let mut any = map.values_mut().fold(false, |any, v| strip_nul(v) | any);
            if map.keys().any(|k| k.contains('\0')) {
                // A cleaned key never replaces a field the record holds under that name.
                let (odd, clean): (Vec<_>, Vec<_>) = std::mem::take(map)
                    .into_iter()
                    .partition(|(k, _)| k.contains('\0'));
                map.extend(clean);
                for (k, v) in odd {
                    map.entry(k.replace('\0', "")).or_insert(v);
                }
                any = true;
            }
            any
        }
        _ => false,
    }
}

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
    fn nul_characters_are_removed_everywhere_in_a_record() {
        let mut v = serde_json::json!({"a": "x\0y", "b": [1, "\0"], "c\0": {"d": "e"}});
        assert!(has_nul(&v));
        assert!(strip_nul(&mut v));
        assert!(!has_nul(&v));
        assert_eq!(
            v,
            serde_json::json!({"a": "xy", "b": [1, ""], "c": {"d": "e"}})
        );
        assert!(!strip_nul(&mut v));
        let mut clash = serde_json::json!({"id\0": 5, "id": 7});
        assert!(strip_nul(&mut clash));
        assert_eq!(clash, serde_json::json!({"id": 7}));
    }

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
