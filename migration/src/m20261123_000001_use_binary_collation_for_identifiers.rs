//! Identifiers compared byte for byte on MySQL/MariaDB too: their default collation
//! (`utf8mb4_general_ci`) finds `ABC` equal to `abc` and `é` to `e`, so two upstream
//! SKUs or slugs differing only so collided there, and not on SQLite or PostgreSQL.
//! The unique text identifiers get `utf8mb4_bin`; elsewhere this migration does nothing.
//! `down` gives them back the table's default collation, as they were created.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Slug,
    Sku,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Slug,
}

#[derive(DeriveIden)]
enum JobOffers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum JobOfferSkills {
    Table,
    OfferId,
}

#[derive(DeriveIden)]
enum SyncLocks {
    Table,
    Name,
}

#[derive(DeriveIden)]
enum SyncCheckpoints {
    Table,
    Name,
}

/// The foreign key from `job_offer_skills.offer_id` to `job_offers.id`: MySQL wants
/// both columns in the same collation, so it is dropped while they change.
const OFFER_FK: &str = "fk_job_offer_skills_offer";

/// One identifier column as it was created: table, column, `VARCHAR` length, nullable.
struct Identifier {
    table: DynIden,
    column: DynIden,
    len: u32,
    null: bool,
}

fn identifiers() -> Vec<Identifier> {
    let id = |table: DynIden, column: DynIden, len, null| Identifier {
        table,
        column,
        len,
        null,
    };
    vec![
        id(
            Products::Table.into_iden(),
            Products::Slug.into_iden(),
            255,
            false,
        ),
        id(
            Products::Table.into_iden(),
            Products::Sku.into_iden(),
            255,
            true,
        ),
        id(
            Categories::Table.into_iden(),
            Categories::Slug.into_iden(),
            255,
            false,
        ),
        id(
            JobOffers::Table.into_iden(),
            JobOffers::Id.into_iden(),
            32,
            false,
        ),
        id(
            JobOfferSkills::Table.into_iden(),
            JobOfferSkills::OfferId.into_iden(),
            32,
            false,
        ),
        id(
            SyncLocks::Table.into_iden(),
            SyncLocks::Name.into_iden(),
            64,
            false,
        ),
        id(
            SyncCheckpoints::Table.into_iden(),
            SyncCheckpoints::Name.into_iden(),
            64,
            false,
        ),
    ]
}

/// `ALTER TABLE ... MODIFY COLUMN` restating the column, in `utf8mb4_bin` when `binary`,
/// else in the table's default collation.
fn modify(ident: &Identifier, binary: bool) -> TableAlterStatement {
    let mut col = ColumnDef::new(ident.column.clone());
    if binary {
        col.custom(Alias::new(format!(
            "VARCHAR({}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
            ident.len
        )));
    } else {
        col.string_len(ident.len);
    }
    if ident.null {
        col.null();
    } else {
        col.not_null();
    }
    Table::alter()
        .table(ident.table.clone())
        .modify_column(col)
        .to_owned()
}

async fn set_collation(manager: &SchemaManager<'_>, binary: bool) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::MySql {
        return Ok(());
    }
    manager
        .drop_foreign_key(
            ForeignKey::drop()
                .name(OFFER_FK)
                .table(JobOfferSkills::Table)
                .to_owned(),
        )
        .await?;
    for ident in identifiers() {
        manager.alter_table(modify(&ident, binary)).await?;
    }
    manager
        .create_foreign_key(
            ForeignKey::create()
                .name(OFFER_FK)
                .from(JobOfferSkills::Table, JobOfferSkills::OfferId)
                .to(JobOffers::Table, JobOffers::Id)
                .on_delete(ForeignKeyAction::Cascade)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_collation(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_collation(manager, false).await
    }
}
