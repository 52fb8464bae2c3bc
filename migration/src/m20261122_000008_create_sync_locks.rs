//! `sync_locks`: one row per kind of sync in progress, so two never run at once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncLocks {
    Table,
    Name,
    RunId,
    Holder,
    AcquiredAt,
    HeartbeatAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncLocks::Table)
                    .col(string_len(SyncLocks::Name, 64).primary_key())
                    .col(integer(SyncLocks::RunId))
                    .col(string(SyncLocks::Holder))
                    .col(timestamp_with_time_zone(SyncLocks::AcquiredAt))
                    .col(timestamp_with_time_zone(SyncLocks::HeartbeatAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncLocks::Table).to_owned())
            .await
    }
}
