//! `sync_checkpoints`: where an unfinished sync stands, written in the same transaction
//! as the page it follows, so a later run continues exactly there.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "sync_checkpoints")]
pub struct Model {
    /// `{source}:{kind}`, e.g. `cerema:users`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The run that wrote it last.
    pub run_id: i32,
    /// The source's own position (for Cerema: base URL, next page URL and number).
    pub position: Json,
    /// Items stored so far by the runs that led here.
    pub done: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
