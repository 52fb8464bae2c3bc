//! `external_products`: local product <-> B2B product id, with its sync state.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ExternalProducts {
    Table,
    Id,
    ProductId,
    ExternalId,
    ExternalSku,
    ExternalCategoryId,
    ApiKeyId,
    ApiKeyName,
    SyncStatus,
    SyncError,
    ContentHash,
    LastSeenRunId,
    LastSyncedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExternalProducts::Table)
                    .col(pk_auto(ExternalProducts::Id))
                    .col(integer_uniq(ExternalProducts::ProductId))
                    .col(big_integer_uniq(ExternalProducts::ExternalId))
                    .col(string_null(ExternalProducts::ExternalSku))
                    .col(big_integer_null(ExternalProducts::ExternalCategoryId))
                    .col(integer_null(ExternalProducts::ApiKeyId))
                    .col(string_null(ExternalProducts::ApiKeyName))
                    .col(string_len(ExternalProducts::SyncStatus, 16).default("pending"))
                    .col(text_null(ExternalProducts::SyncError))
                    .col(string_len_null(ExternalProducts::ContentHash, 64))
                    .col(integer_null(ExternalProducts::LastSeenRunId))
                    .col(timestamp_with_time_zone(ExternalProducts::LastSyncedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_external_products_product")
                            .from(ExternalProducts::Table, ExternalProducts::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_external_products_api_key")
                            .from(ExternalProducts::Table, ExternalProducts::ApiKeyId)
                            .to(ApiKeys::Table, ApiKeys::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_external_products_sync_status",
                ExternalProducts::Table,
                &["sync_status"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_external_products_api_key_id",
                ExternalProducts::Table,
                &["api_key_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ExternalProducts::Table).to_owned())
            .await
    }
}
