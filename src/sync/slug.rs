//! Slugs: `slugify(name)`, with `-{external_id}` appended when it is taken.

use entity::category;
use entity::prelude::Category;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// Longest slug we make (the column takes 255; room is left for the suffix).
const MAX_SLUG_CHARS: usize = 200;

/// The slug of a name: ASCII, lowercase, dashes; `item` when nothing is left.
pub fn slugify(name: &str) -> String {
    let s = slug::slugify(name);
    let s: String = s.chars().take(MAX_SLUG_CHARS).collect();
    let s = s.trim_end_matches('-').to_owned();
    if s.is_empty() { "item".to_owned() } else { s }
}

/// The slug to use when `base` is taken.
pub fn with_suffix(base: &str, external_id: i64) -> String {
    format!("{base}-{external_id}")
}

/// The slug for a new category: `slugify(name)`, or with `-{external_id}` when taken.
pub async fn free_category_slug(
    db: &impl ConnectionTrait,
    name: &str,
    external_id: i64,
) -> Result<String, DbErr> {
    let base = slugify(name);
    let taken = Category::find()
        .filter(category::Column::Slug.eq(base.as_str()))
        .one(db)
        .await?
        .is_some();
    Ok(if taken {
        with_suffix(&base, external_id)
    } else {
        base
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_and_never_empty() {
        assert_eq!(slugify("Épicerie & Boissons"), "epicerie-boissons");
        assert_eq!(slugify("  Riz brisé 25 kg "), "riz-brise-25-kg");
        assert_eq!(slugify("!!!"), "item");
        assert_eq!(slugify(&"a".repeat(300)).len(), MAX_SLUG_CHARS);
        assert_eq!(with_suffix("riz", 42), "riz-42");
    }
}
