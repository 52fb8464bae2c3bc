//! `api_keys`: upstream API keys, stored Fernet-encrypted.
//!
//! Invariant: `key_encrypted` only ever holds standard base64 of a Fernet token (or,
//! for rows written by older tools, a bare token); never a plaintext key. The database
//! itself refuses a second row with `is_active = true` (see the migration).

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    #[serde(skip)]
    #[sea_orm(column_type = "Text")]
    pub key_encrypted: String,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

/// Debug leaves the ciphertext out: it is no secret without the encryption key, but
/// logs have no use for it either.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("is_active", &self.is_active)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::external_product::Entity")]
    ExternalProduct,
}

impl Related<super::external_product::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ExternalProduct.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
