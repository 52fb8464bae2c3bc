//! `external_products`: links one local product to its id in the B2B inventory, with
//! the state of its last sync.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// Where a linked product stands after the last sync that saw (or missed) it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum SyncStatus {
    #[sea_orm(string_value = "synced")]
    Synced,
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "error")]
    Error,
    /// Not seen upstream by the last complete run; the product is kept, unavailable.
    #[sea_orm(string_value = "missing")]
    Missing,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "external_products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub product_id: i32,
    #[sea_orm(unique)]
    pub external_id: i64,
    pub external_sku: Option<String>,
    pub external_category_id: Option<i64>,
    pub api_key_id: Option<i32>,
    pub api_key_name: Option<String>,
    pub sync_status: SyncStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub sync_error: Option<String>,
    /// Hash of the upstream item as last applied: an equal hash means "unchanged".
    pub content_hash: Option<String>,
    /// The last sync run that saw this product upstream; a complete run marks the
    /// products it did not see `missing`.
    pub last_seen_run_id: Option<i32>,
    pub last_synced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::product::Entity",
        from = "Column::ProductId",
        to = "super::product::Column::Id",
        on_delete = "Cascade"
    )]
    Product,
    #[sea_orm(
        belongs_to = "super::api_key::Entity",
        from = "Column::ApiKeyId",
        to = "super::api_key::Column::Id",
        on_delete = "SetNull"
    )]
    ApiKey,
}

impl Related<super::product::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Product.def()
    }
}

impl Related<super::api_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKey.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
