//! The pure plan step: what each item of a batch needs (nothing, a write, a recorded
//! error), decided from the stored mappings without touching the database.

use entity::external_product::{self, SyncStatus};
use sea_orm::FromQueryResult;
use sha2::{Digest, Sha256};

use super::State;
use crate::b2b::parse::{CategoryRef, ProductRecord, RawItem};

/// What to do with an item's category.
pub(super) enum CategoryPlan {
    None,
    Known(i32),
    Create { external_id: i64, name: String },
    Unknown(i64),
}

impl CategoryPlan {
    pub(super) fn of(state: &State, r: &Option<CategoryRef>) -> CategoryPlan {
        match r {
            None => CategoryPlan::None,
            Some(r) => match (state.categories.get(&r.id()), r) {
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
#[derive(Debug, Clone, FromQueryResult)]
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
