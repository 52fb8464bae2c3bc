//! `cerema_structures`: the structures of the Cerema Portail DF, keyed by their upstream id.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{index, instant};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CeremaStructures {
    Table,
    Id,
    RaisonSociale,
    Type,
    Siret,
    Naf,
    Formjur,
    Departement,
    Region,
    NiveauAcces,
    AccesLovac,
    AccesDfAno,
    AccesDfNonAno,
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
                    .table(CeremaStructures::Table)
                    .col(big_integer(CeremaStructures::Id).primary_key())
                    .col(text_null(CeremaStructures::RaisonSociale))
                    .col(string_len_null(CeremaStructures::Type, 255))
                    .col(string_len_null(CeremaStructures::Siret, 255))
                    .col(string_len_null(CeremaStructures::Naf, 255))
                    .col(string_len_null(CeremaStructures::Formjur, 255))
                    .col(string_len_null(CeremaStructures::Departement, 255))
                    .col(string_len_null(CeremaStructures::Region, 255))
                    .col(string_len_null(CeremaStructures::NiveauAcces, 255))
                    .col(instant(backend, CeremaStructures::AccesLovac).null())
                    .col(instant(backend, CeremaStructures::AccesDfAno).null())
                    .col(instant(backend, CeremaStructures::AccesDfNonAno).null())
                    .col(json(CeremaStructures::Raw))
                    .col(string_len(CeremaStructures::ContentHash, 64))
                    .col(instant(backend, CeremaStructures::FirstSeenAt).not_null())
                    .col(instant(backend, CeremaStructures::LastSyncedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_cerema_structures_departement",
                CeremaStructures::Table,
                &["departement"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CeremaStructures::Table).to_owned())
            .await
    }
}
