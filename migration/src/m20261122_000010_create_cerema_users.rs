//! `cerema_users`: the users of the Cerema Portail DF. No foreign key to
//! `cerema_structures`: a user whose structure is unknown (not synced yet, or gone) is
//! still stored.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{index, instant};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CeremaUsers {
    Table,
    IdUser,
    Email,
    StructureId,
    Gestionnaire,
    Exterieur,
    CguValide,
    DateRattachement,
    DateExpiration,
    Groupe,
    Raw,
    ContentHash,
    FirstSeenAt,
    LastSyncedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(CeremaUsers::Table)
                    .col(big_integer(CeremaUsers::IdUser).primary_key())
                    .col(text_null(CeremaUsers::Email))
                    .col(big_integer_null(CeremaUsers::StructureId))
                    .col(boolean_null(CeremaUsers::Gestionnaire))
                    .col(boolean_null(CeremaUsers::Exterieur))
                    .col(instant(backend, CeremaUsers::CguValide).null())
                    .col(instant(backend, CeremaUsers::DateRattachement).null())
                    .col(instant(backend, CeremaUsers::DateExpiration).null())
                    .col(big_integer_null(CeremaUsers::Groupe))
                    .col(json(CeremaUsers::Raw))
                    .col(string_len(CeremaUsers::ContentHash, 64))
                    .col(instant(backend, CeremaUsers::FirstSeenAt).not_null())
                    .col(instant(backend, CeremaUsers::LastSyncedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_cerema_users_structure_id",
                CeremaUsers::Table,
                &["structure_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CeremaUsers::Table).to_owned())
            .await
    }
}
