//! The pure plan step: what each item of a batch needs (nothing, a write, a recorded
//! error), decided from the stored mappings without touching the database.

use entity::external_product::{self, SyncStatus};
use sea_orm::FromQueryResult;
use sha2::{Digest, Sha256};

use std::collections::HashMap;

use super::{Entry, issue, shown_id};
use crate::b2b::parse::{CategoryRef, ProductRecord, RawItem};
use crate::sync::ItemIssue;

/// What to do with an item's category.
pub(super) enum CategoryPlan {
    None,
    Known(i32),
    Create { external_id: i64, name: String },
    Unknown(i64),
}

impl CategoryPlan {
    /// The plan for a category reference, given the category mapping (external id to
    /// local id).
    pub(super) fn of(categories: &HashMap<i64, i32>, r: &Option<CategoryRef>) -> CategoryPlan {
        match r {
            None => CategoryPlan::None,
            Some(r) => match (categories.get(&r.id()), r) {
                (Some(local), _) => CategoryPlan::Known(*local),
                (
                    None,
                    CategoryRef::Object {
                        id,
                        name: Some(name),
                    },
                ) => CategoryPlan::Create {
                    external_id: *id,
                    name: name.clone(),
                },
                (None, _) => CategoryPlan::Unknown(r.id()),
            },
        }
    }

    /// The local category a stored product must have to be unchanged; `Err` when it
    /// does not exist yet (the product is written, its category created).
    pub(super) fn local(&self) -> Result<Option<i32>, ()> {
        match self {
            CategoryPlan::Known(local) => Ok(Some(*local)),
            CategoryPlan::None | CategoryPlan::Unknown(_) => Ok(None),
            CategoryPlan::Create { .. } => Err(()),
        }
    }
}

/// A content hash in hex, on the stack.
pub(super) struct Hash([u8; 64]);

impl Hash {
    pub(super) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// What is stored and compared: the digest of the item's bytes as received (taken on
/// the fetch side). Whether the category resolves is compared on the row itself (see
/// [`CategoryPlan::local`]), so the hash never depends on the order pages came in. The
/// suffix keeps the hashes stored before that rule.
pub(super) fn content_hash(digest: &[u8; 32]) -> Hash {
    let mut h = Sha256::new();
    h.update(digest);
    h.update(b"|cat");
    let mut out = Hash([0; 64]);
    // 32 bytes always fit 64 hex digits.
    let _ = hex::encode_to_slice(h.finalize(), &mut out.0);
    out
}

/// What the sync needs of an existing link (the columns read for every item).
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub(super) struct Mapping {
    pub(super) id: i32,
    pub(super) product_id: i32,
    pub(super) external_id: i64,
    pub(super) content_hash: Option<String>,
    pub(super) sync_status: SyncStatus,
    /// The stored product's category.
    pub(super) category_id: Option<i32>,
}

impl Mapping {
    pub(super) fn of(m: external_product::Model, category_id: Option<i32>) -> Mapping {
        Mapping {
            id: m.id,
            product_id: m.product_id,
            external_id: m.external_id,
            content_hash: m.content_hash,
            sync_status: m.sync_status,
            category_id,
        }
    }
}

/// An item that must be written.
pub(super) struct Work {
    pub(super) record: ProductRecord,
    pub(super) slug: String,
    pub(super) plan: CategoryPlan,
    pub(super) hash: String,
    pub(super) external_id: Option<i64>,
    pub(super) raw: RawItem,
}

/// What a batch needs, decided without touching the database.
#[derive(Default)]
pub(super) struct Planned {
    /// Items read.
    pub(super) total: u64,
    /// Links of unchanged items (only marked seen).
    pub(super) unchanged: Vec<i32>,
    /// Links of stored products whose new record cannot be read, with the reason: they
    /// keep their row and get `sync_status = error`.
    pub(super) unreadable: Vec<(i32, String)>,
    /// Errors and warnings, in the order of the items.
    pub(super) issues: Vec<ItemIssue>,
    /// Items to write.
    pub(super) work: Vec<Work>,
}

/// Plans a batch: unreadable items are errors, unchanged ones (same content hash, synced,
/// same category) are only marked seen, the rest is work, with the warnings it carries.
pub(super) fn plan_batch(
    entries: Vec<Entry>,
    existing: &HashMap<i64, Mapping>,
    categories: &HashMap<i64, i32>,
) -> Planned {
    let mut out = Planned::default();
    for entry in entries {
        out.total += 1;
        let shown = shown_id(entry.external_id, &entry.raw);
        let record = match entry.record {
            Ok(r) => r,
            Err(e) => {
                if let Some(m) = entry.external_id.and_then(|id| existing.get(&id)) {
                    out.unreadable.push((m.id, e.clone()));
                }
                out.issues.push(issue(shown, e, &entry.raw));
                continue;
            }
        };
        let plan = CategoryPlan::of(categories, &record.category);
        let hash = content_hash(&entry.digest);
        if let Some(m) = existing.get(&record.external_id)
            && m.content_hash.as_deref() == Some(hash.as_str())
            && m.sync_status == SyncStatus::Synced
            && plan.local() == Ok(m.category_id)
        {
            out.unchanged.push(m.id);
            continue;
        }
        let warning = |error: String| ItemIssue {
            warning: true,
            ..issue(shown.clone(), error, &entry.raw)
        };
        if !record.warnings.is_empty() {
            out.issues.push(warning(record.warnings.join("; ")));
        }
        if let CategoryPlan::Unknown(cat) = plan {
            out.issues.push(warning(format!(
                "unknown category {cat}: the product is kept without a category"
            )));
        }
        out.work.push(Work {
            record,
            slug: entry.slug,
            plan,
            hash: hash.as_str().to_owned(),
            external_id: entry.external_id,
            raw: entry.raw,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn entry(v: Value) -> Entry {
        Entry::read(RawItem::from_value(&v))
    }

    fn item(id: i64, category: Value) -> Value {
        json!({"id": id, "name": format!("P{id}"), "price": "5", "category": category})
    }

    /// The link a previous run stored for `v`, with its product in `category_id`.
    fn stored(v: &Value, status: SyncStatus, category_id: Option<i32>) -> Mapping {
        let e = entry(v.clone());
        Mapping {
            id: 100 + e.external_id.unwrap_or_default() as i32,
            product_id: 1,
            external_id: e.external_id.unwrap_or_default(),
            content_hash: Some(content_hash(&e.digest).as_str().to_owned()),
            sync_status: status,
            category_id,
        }
    }

    /// (unchanged links, unreadable links, issues as `w:`/`e:` + text, work ids).
    fn check(items: &[Value], existing: &[Mapping], expected: (&[i32], &[i32], &[&str], &[i64])) {
        let existing: HashMap<i64, Mapping> = existing
            .iter()
            .map(|m| (m.external_id, m.clone()))
            .collect();
        let categories = HashMap::from([(7, 70)]);
        let planned = plan_batch(
            items.iter().cloned().map(entry).collect(),
            &existing,
            &categories,
        );
        let issues: Vec<String> = planned
            .issues
            .iter()
            .map(|i| format!("{}{}", if i.warning { "w:" } else { "e:" }, i.error))
            .collect();
        let unreadable: Vec<i32> = planned.unreadable.iter().map(|(id, _)| *id).collect();
        let work: Vec<i64> = planned.work.iter().map(|w| w.record.external_id).collect();
        assert_eq!(planned.total, items.len() as u64);
        assert_eq!(planned.unchanged, expected.0, "unchanged");
        assert_eq!(unreadable, expected.1, "unreadable");
        assert_eq!(issues.len(), expected.2.len(), "{issues:?}");
        for (got, want) in issues.iter().zip(expected.2) {
            assert!(
                got.starts_with(want),
                "{got:?} does not start with {want:?}"
            );
        }
        assert_eq!(work, expected.3, "work");
    }

    #[test]
    fn a_batch_is_planned_item_by_item() {
        let known = item(1, json!(7));
        let unknown = item(2, json!(9));
        let bad = json!({"id": 3, "name": "P3", "price": "1.2.3"});
        let fresh = item(4, json!({"id": 8, "name": "Huit"}));
        let big = json!({"id": 5, "name": "P5", "price": "5", "stock": 4_294_967_296_u64});

        // Nothing stored: all is work; the unknown category and the clamp are warnings,
        // the ambiguous price an error.
        check(
            &[
                known.clone(),
                unknown.clone(),
                bad.clone(),
                fresh.clone(),
                big,
            ],
            &[],
            (
                &[],
                &[],
                &["w:unknown category 9", "e:invalid price", "w:`stock`"],
                &[1, 2, 4, 5],
            ),
        );
        // Stored as received: unchanged, whether its category is known or not.
        check(
            &[known.clone(), unknown.clone()],
            &[
                stored(&known, SyncStatus::Synced, Some(70)),
                stored(&unknown, SyncStatus::Synced, None),
            ],
            (&[101, 102], &[], &[], &[]),
        );
        // The same bytes, but the stored row disagrees: written again.
        check(
            &[known.clone(), unknown.clone()],
            &[
                stored(&known, SyncStatus::Synced, None),
                stored(&unknown, SyncStatus::Error, None),
            ],
            (&[], &[], &["w:unknown category 9"], &[1, 2]),
        );
        // A stored product whose new record cannot be read is marked, not written.
        let stored_bad = Mapping {
            external_id: 3,
            id: 103,
            ..stored(&known, SyncStatus::Synced, None)
        };
        check(
            &[bad],
            &[stored_bad],
            (&[], &[103], &["e:invalid price"], &[]),
        );
        // A category to create is never unchanged: its local id does not exist yet.
        check(
            std::slice::from_ref(&fresh),
            &[stored(&fresh, SyncStatus::Synced, None)],
            (&[], &[], &[], &[4]),
        );
    }
}
