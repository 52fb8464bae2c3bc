//! `sync_runs`: one row per run of a sync command.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
    Source,
    Kind,
    Options,
    Status,
    StartedAt,
    FinishedAt,
    Total,
    Created,
    Updated,
    Unchanged,
    Missing,
    Errors,
    Message,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SyncRuns::Table)
                    .col(pk_auto(SyncRuns::Id))
                    .col(string_len(SyncRuns::Source, 32))
                    .col(string_len(SyncRuns::Kind, 32))
                    .col(json(SyncRuns::Options))
                    .col(string_len(SyncRuns::Status, 16))
                    .col(timestamp_with_time_zone(SyncRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(SyncRuns::FinishedAt))
                    .col(big_integer(SyncRuns::Total).default(0))
                    .col(big_integer(SyncRuns::Created).default(0))
                    .col(big_integer(SyncRuns::Updated).default(0))
                    .col(big_integer(SyncRuns::Unchanged).default(0))
                    .col(big_integer(SyncRuns::Missing).default(0))
                    .col(big_integer(SyncRuns::Errors).default(0))
                    .col(text_null(SyncRuns::Message))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_sync_runs_source_kind",
                SyncRuns::Table,
                &["source", "kind", "started_at"],
            ))
            .await?;
        manager
            .create_index(index("idx_sync_runs_status", SyncRuns::Table, &["status"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SyncRuns::Table).to_owned())
            .await
    }
}
