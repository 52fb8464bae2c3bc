//! `sync_checkpoints`: where an unfinished sync stands (its next page, its counts), so
//! the next run of the same command continues from there.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncCheckpoints {
    Table,
    Name,
    RunId,
    Position,
    Done,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncCheckpoints::Table)
                    .col(string_len(SyncCheckpoints::Name, 64).primary_key())
                    .col(integer(SyncCheckpoints::RunId))
                    .col(json(SyncCheckpoints::Position))
                    .col(big_integer(SyncCheckpoints::Done).default(0))
                    .col(timestamp_with_time_zone(SyncCheckpoints::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncCheckpoints::Table).to_owned())
            .await
    }
}
