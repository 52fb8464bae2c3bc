//! `api_keys`, with the database-enforced rule of at most one active key.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    KeyEncrypted,
    IsActive,
    CreatedAt,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(pk_auto(ApiKeys::Id))
                    .col(string(ApiKeys::Name))
                    .col(text(ApiKeys::KeyEncrypted))
                    .col(boolean(ApiKeys::IsActive).default(false))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .to_owned(),
            )
            .await?;
        // At most one active key, even under concurrent writers: a partial unique index
        // where the backend has them, a unique index over a generated column that is
        // NULL for inactive rows on MySQL/MariaDB (unique indexes allow many NULLs).
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::MySql => {
                db.execute_unprepared(
                    "ALTER TABLE api_keys ADD COLUMN active_marker TINYINT \
                     AS (IF(is_active, 1, NULL)) VIRTUAL",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE UNIQUE INDEX uq_api_keys_one_active ON api_keys (active_marker)",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE UNIQUE INDEX uq_api_keys_one_active ON api_keys (is_active) \
                     WHERE is_active",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}
