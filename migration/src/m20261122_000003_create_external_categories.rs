//! `external_categories`: local category <-> B2B category id.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ExternalCategories {
    Table,
    Id,
    CategoryId,
    ExternalId,
    ExternalParentId,
    LastSyncedAt,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExternalCategories::Table)
                    .col(pk_auto(ExternalCategories::Id))
                    .col(integer_uniq(ExternalCategories::CategoryId))
                    .col(big_integer_uniq(ExternalCategories::ExternalId))
                    .col(big_integer_null(ExternalCategories::ExternalParentId))
                    .col(timestamp_with_time_zone(ExternalCategories::LastSyncedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_external_categories_category")
                            .from(ExternalCategories::Table, ExternalCategories::CategoryId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ExternalCategories::Table).to_owned())
            .await
    }
}
