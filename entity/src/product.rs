//! `products`: the shop's own products. Prices are exact decimals, never floats.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::money::Money;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub title: String,
    #[sea_orm(unique)]
    pub slug: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "Decimal(Some((16, 2)))")]
    pub price: Money,
    #[sea_orm(column_type = "Decimal(Some((16, 2)))", nullable)]
    pub discount_price: Option<Money>,
    pub category_id: Option<i32>,
    pub brand: Option<String>,
    #[sea_orm(unique)]
    pub sku: Option<String>,
    /// Units in stock, never negative (a CHECK constraint backs this up).
    pub stock: i32,
    pub is_available: bool,
    /// A JSON array of image URLs.
    pub image_urls: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::category::Entity",
        from = "Column::CategoryId",
        to = "super::category::Column::Id",
        on_delete = "SetNull"
    )]
    Category,
    #[sea_orm(has_one = "super::external_product::Entity")]
    ExternalProduct,
}

impl Related<super::category::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Category.def()
    }
}

impl Related<super::external_product::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ExternalProduct.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
