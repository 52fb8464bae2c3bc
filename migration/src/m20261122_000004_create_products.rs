//! `products`: the shop's products; money columns exact, stock never negative.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{index, money};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Title,
    Slug,
    Description,
    Price,
    DiscountPrice,
    CategoryId,
    Brand,
    Sku,
    Stock,
    IsAvailable,
    ImageUrls,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(pk_auto(Products::Id))
                    .col(string_len(Products::Title, 500))
                    .col(string_uniq(Products::Slug))
                    .col(text(Products::Description))
                    .col(money(backend, Products::Price).not_null())
                    .col(money(backend, Products::DiscountPrice).null())
                    .col(integer_null(Products::CategoryId))
                    .col(string_null(Products::Brand))
                    .col(string_null(Products::Sku).unique_key())
                    .col(
                        integer(Products::Stock)
                            .default(0)
                            .check(Expr::col(Products::Stock).gte(0)),
                    )
                    .col(boolean(Products::IsAvailable).default(true))
                    .col(json(Products::ImageUrls))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .col(timestamp_with_time_zone(Products::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_products_category")
                            .from(Products::Table, Products::CategoryId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_products_category_id",
                Products::Table,
                &["category_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Products::Table).to_owned())
            .await
    }
}
