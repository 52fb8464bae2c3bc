//! `job_offers`: France Travail job offers, keyed by their upstream id, and
//! `job_offer_skills`, the skills each offer asks for (replaced with the offer).

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{index, instant};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobOffers {
    Table,
    Id,
    Intitule,
    Description,
    RomeCode,
    RomeLibelle,
    AppellationLibelle,
    TypeContrat,
    TypeContratLibelle,
    NatureContrat,
    ExperienceExige,
    ExperienceLibelle,
    LieuLibelle,
    Commune,
    CodePostal,
    Departement,
    Latitude,
    Longitude,
    EntrepriseNom,
    SalaireLibelle,
    DureeTravailLibelle,
    Alternance,
    NombrePostes,
    QualificationCode,
    SecteurActivite,
    SecteurActiviteLibelle,
    OrigineUrl,
    DateCreation,
    DateActualisation,
    SearchText,
    Raw,
    ContentHash,
    FirstSeenAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum JobOfferSkills {
    Table,
    Id,
    OfferId,
    Code,
    Libelle,
    Exigence,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(JobOffers::Table)
                    .col(string_len(JobOffers::Id, 32).primary_key())
                    .col(text_null(JobOffers::Intitule))
                    .col(text_null(JobOffers::Description))
                    .col(string_len_null(JobOffers::RomeCode, 16))
                    .col(text_null(JobOffers::RomeLibelle))
                    .col(text_null(JobOffers::AppellationLibelle))
                    .col(string_len_null(JobOffers::TypeContrat, 16))
                    .col(text_null(JobOffers::TypeContratLibelle))
                    .col(text_null(JobOffers::NatureContrat))
                    .col(string_len_null(JobOffers::ExperienceExige, 8))
                    .col(text_null(JobOffers::ExperienceLibelle))
                    .col(text_null(JobOffers::LieuLibelle))
                    .col(string_len_null(JobOffers::Commune, 16))
                    .col(string_len_null(JobOffers::CodePostal, 16))
                    .col(string_len_null(JobOffers::Departement, 8))
                    .col(double_null(JobOffers::Latitude))
                    .col(double_null(JobOffers::Longitude))
                    .col(text_null(JobOffers::EntrepriseNom))
                    .col(text_null(JobOffers::SalaireLibelle))
                    .col(text_null(JobOffers::DureeTravailLibelle))
                    .col(boolean_null(JobOffers::Alternance))
                    .col(integer_null(JobOffers::NombrePostes))
                    .col(string_len_null(JobOffers::QualificationCode, 16))
                    .col(string_len_null(JobOffers::SecteurActivite, 16))
                    .col(text_null(JobOffers::SecteurActiviteLibelle))
                    .col(text_null(JobOffers::OrigineUrl))
                    .col(instant(backend, JobOffers::DateCreation).null())
                    .col(instant(backend, JobOffers::DateActualisation).null())
                    .col(text(JobOffers::SearchText))
                    .col(json(JobOffers::Raw))
                    .col(string_len(JobOffers::ContentHash, 64))
                    .col(instant(backend, JobOffers::FirstSeenAt).not_null())
                    .col(instant(backend, JobOffers::LastSeenAt).not_null())
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_job_offers_rome_code", "rome_code"),
            ("idx_job_offers_departement", "departement"),
            ("idx_job_offers_commune", "commune"),
            ("idx_job_offers_date_creation", "date_creation"),
        ] {
            manager
                .create_index(index(name, JobOffers::Table, &[col]))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(JobOfferSkills::Table)
                    .col(pk_auto(JobOfferSkills::Id))
                    .col(string_len(JobOfferSkills::OfferId, 32))
                    .col(string_len_null(JobOfferSkills::Code, 32))
                    .col(text(JobOfferSkills::Libelle))
                    .col(string_len_null(JobOfferSkills::Exigence, 8))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_job_offer_skills_offer")
                            .from(JobOfferSkills::Table, JobOfferSkills::OfferId)
                            .to(JobOffers::Table, JobOffers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_job_offer_skills_offer_id",
                JobOfferSkills::Table,
                &["offer_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JobOfferSkills::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(JobOffers::Table).to_owned())
            .await
    }
}
