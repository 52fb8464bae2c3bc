//! `sync_runs`: one row per run of a sync command, with its options and figures.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// The upstream a run reads from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum Source {
    #[sea_orm(string_value = "b2b")]
    B2b,
    #[sea_orm(string_value = "cerema")]
    Cerema,
    #[sea_orm(string_value = "france_travail")]
    FranceTravail,
}

/// How a run ended (or that it has not yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "interrupted")]
    Interrupted,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "sync_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub source: Source,
    /// What was synced: `categories`, `products`, `users`, ...
    pub kind: String,
    /// The flags the run was started with, as a JSON object.
    pub options: Json,
    pub status: RunStatus,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub total: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub missing: i64,
    pub errors: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub message: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::sync_error::Entity")]
    SyncError,
}

impl Related<super::sync_error::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SyncError.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
