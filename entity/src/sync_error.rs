//! `sync_errors`: one row per item a run could not apply, with the reason.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "sync_errors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub run_id: i32,
    /// The upstream id of the item, as text (ids are not numbers on every upstream).
    pub external_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    /// The first bytes of the item as received, to see what was wrong with it.
    #[sea_orm(column_type = "Text", nullable)]
    pub payload: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::sync_run::Entity",
        from = "Column::RunId",
        to = "super::sync_run::Column::Id",
        on_delete = "Cascade"
    )]
    SyncRun,
}

impl Related<super::sync_run::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SyncRun.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
