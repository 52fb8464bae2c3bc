//! `sync_errors`: the items a run could not apply, and why.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncErrors {
    Table,
    Id,
    RunId,
    ExternalId,
    Message,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncErrors::Table)
                    .col(pk_auto(SyncErrors::Id))
                    .col(integer(SyncErrors::RunId))
                    .col(string_len_null(SyncErrors::ExternalId, 128))
                    .col(text(SyncErrors::Message))
                    .col(text_null(SyncErrors::Payload))
                    .col(timestamp_with_time_zone(SyncErrors::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sync_errors_run")
                            .from(SyncErrors::Table, SyncErrors::RunId)
                            .to(SyncRuns::Table, SyncRuns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_sync_errors_run_id",
                SyncErrors::Table,
                &["run_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncErrors::Table).to_owned())
            .await
    }
}
