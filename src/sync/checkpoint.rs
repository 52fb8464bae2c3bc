//! Checkpoints: where an unfinished sync stands, written inside the transaction of the
//! page it follows (so position and rows can never disagree), cleared when a run
//! completes.

use chrono::Utc;
use entity::prelude::*;
use entity::sync_checkpoint;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use serde_json::Value;

/// The checkpoint of `name` (`{source}:{kind}`), if a run left one.
pub async fn load(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<sync_checkpoint::Model>, DbErr> {
    SyncCheckpoint::find_by_id(name.to_owned()).one(db).await
}

/// Writes (or replaces) the checkpoint of `name`.
pub async fn save(
    db: &impl ConnectionTrait,
    name: &str,
    run_id: i32,
    position: Value,
    done: u64,
) -> Result<(), DbErr> {
    let row = sync_checkpoint::ActiveModel {
        name: Set(name.to_owned()),
        run_id: Set(run_id),
        position: Set(position),
        done: Set(i64::try_from(done).unwrap_or(i64::MAX)),
        updated_at: Set(Utc::now()),
    };
    SyncCheckpoint::insert(row)
        .on_conflict(
            OnConflict::column(sync_checkpoint::Column::Name)
                .update_columns([
                    sync_checkpoint::Column::RunId,
                    sync_checkpoint::Column::Position,
                    sync_checkpoint::Column::Done,
                    sync_checkpoint::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Removes the checkpoint of `name`; true when there was one.
pub async fn clear(db: &impl ConnectionTrait, name: &str) -> Result<bool, DbErr> {
    let result = SyncCheckpoint::delete_by_id(name.to_owned())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}
