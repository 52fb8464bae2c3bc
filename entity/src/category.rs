//! `categories`: the shop's own category tree (self-referencing `parent_id`).

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    #[sea_orm(unique)]
    pub slug: String,
    pub parent_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub image_url: Option<String>,
    /// Depth in the tree, 0 for a top-level category; recomputed from `parent_id`.
    pub level: i32,
    /// Sort order among siblings (`order` upstream; a reserved word in SQL).
    pub position: i32,
    pub rayon_type: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::ParentId",
        to = "Column::Id",
        on_delete = "SetNull"
    )]
    Parent,
    #[sea_orm(has_many = "super::product::Entity")]
    Product,
    #[sea_orm(has_one = "super::external_category::Entity")]
    ExternalCategory,
}

impl Related<super::product::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Product.def()
    }
}

impl Related<super::external_category::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ExternalCategory.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
