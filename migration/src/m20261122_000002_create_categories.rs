//! `categories`: the shop's category tree.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    Name,
    Slug,
    ParentId,
    Description,
    ImageUrl,
    Level,
    Position,
    RayonType,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(pk_auto(Categories::Id))
                    .col(string(Categories::Name))
                    .col(string_uniq(Categories::Slug))
                    .col(integer_null(Categories::ParentId))
                    .col(text(Categories::Description))
                    .col(text_null(Categories::ImageUrl))
                    .col(integer(Categories::Level).default(0))
                    .col(integer(Categories::Position).default(0))
                    .col(string_len_null(Categories::RayonType, 64))
                    .col(timestamp_with_time_zone(Categories::CreatedAt))
                    .col(timestamp_with_time_zone(Categories::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_categories_parent")
                            .from(Categories::Table, Categories::ParentId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                crate::common::index(
                    "idx_categories_parent_id",
                    Categories::Table,
                    &["parent_id"],
                )
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Categories::Table).to_owned())
            .await
    }
}
