//! Indexes behind the web console's lists: offers filtered (and counted) by contract
//! type, and a product's recorded errors looked up by its upstream id.

use sea_orm_migration::prelude::*;

use crate::common::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobOffers {
    Table,
}

#[derive(DeriveIden)]
enum SyncErrors {
    Table,
}

const OFFERS_TYPE_CONTRAT: &str = "idx_job_offers_type_contrat";
const ERRORS_EXTERNAL_ID: &str = "idx_sync_errors_external_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                OFFERS_TYPE_CONTRAT,
                JobOffers::Table,
                &["type_contrat"],
            ))
            .await?;
        manager
            .create_index(index(
                ERRORS_EXTERNAL_ID,
                SyncErrors::Table,
                &["external_id", "run_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(ERRORS_EXTERNAL_ID)
                    .table(SyncErrors::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(OFFERS_TYPE_CONTRAT)
                    .table(JobOffers::Table)
                    .to_owned(),
            )
            .await
    }
}
