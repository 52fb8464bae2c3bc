//! `sync_locks`: which run holds the right to sync one kind of data, and since when it
//! last showed it is alive.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "sync_locks")]
pub struct Model {
    /// `{source}:{kind}`, e.g. `b2b:products`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub run_id: i32,
    /// `host:pid` of the process holding the lock.
    pub holder: String,
    pub acquired_at: DateTimeUtc,
    /// Refreshed while the run is alive; an old heartbeat means the lock is stale.
    pub heartbeat_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
