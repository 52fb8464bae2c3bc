//! The job-seeker profiles: `accounts` (with their login tokens in `account_tokens`),
//! and each account's `profile_skills`, `profile_experiences` and `profile_education`.
//!
//! Emails are unique whatever their case on every backend: `email_key` holds the
//! lower-cased email under a unique index (no reliance on a collation). Token and
//! email keys compare byte for byte on MySQL/MariaDB (`utf8mb4_bin`).

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{index, instant};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Email,
    EmailKey,
    Name,
    Phone,
    PasswordHash,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    Id,
    AccountId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ProfileSkills {
    Table,
    Id,
    AccountId,
    Label,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProfileExperiences {
    Table,
    Id,
    AccountId,
    Title,
    Employer,
    RomeCode,
    StartDate,
    EndDate,
}

#[derive(DeriveIden)]
enum ProfileEducation {
    Table,
    Id,
    AccountId,
    Degree,
    School,
    StartDate,
    EndDate,
}

/// A text key compared byte for byte (binary collation on MySQL/MariaDB).
fn key_column(backend: DbBackend, col: impl IntoIden, len: u32) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    match backend {
        DbBackend::MySql => def.custom(Alias::new(format!(
            "VARCHAR({len}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))),
        _ => def.string_len(len),
    };
    def.not_null();
    def
}

/// The foreign key of a profile table to its account, rows going with the account.
fn owner(name: &str, table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Accounts::Table, Accounts::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(pk_auto(Accounts::Id))
                    .col(string_len(Accounts::Email, 254))
                    .col(key_column(backend, Accounts::EmailKey, 254))
                    .col(string_len(Accounts::Name, 200))
                    .col(string_len_null(Accounts::Phone, 32))
                    .col(text_null(Accounts::PasswordHash))
                    .col(boolean(Accounts::Disabled).default(false))
                    .col(instant(backend, Accounts::CreatedAt).not_null())
                    .col(instant(backend, Accounts::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("uq_accounts_email_key", Accounts::Table, &["email_key"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(pk_auto(AccountTokens::Id))
                    .col(integer(AccountTokens::AccountId))
                    .col(key_column(backend, AccountTokens::TokenHash, 64))
                    .col(instant(backend, AccountTokens::CreatedAt).not_null())
                    .col(instant(backend, AccountTokens::ExpiresAt).not_null())
                    .foreign_key(&mut owner(
                        "fk_account_tokens_account",
                        AccountTokens::Table,
                        AccountTokens::AccountId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_account_tokens_token_hash",
                    AccountTokens::Table,
                    &["token_hash"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_account_tokens_account_id",
                AccountTokens::Table,
                &["account_id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProfileSkills::Table)
                    .col(pk_auto(ProfileSkills::Id))
                    .col(integer(ProfileSkills::AccountId))
                    .col(string_len(ProfileSkills::Label, 200))
                    .col(instant(backend, ProfileSkills::CreatedAt).not_null())
                    .foreign_key(&mut owner(
                        "fk_profile_skills_account",
                        ProfileSkills::Table,
                        ProfileSkills::AccountId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProfileExperiences::Table)
                    .col(pk_auto(ProfileExperiences::Id))
                    .col(integer(ProfileExperiences::AccountId))
                    .col(string_len(ProfileExperiences::Title, 200))
                    .col(string_len_null(ProfileExperiences::Employer, 200))
                    .col(string_len_null(ProfileExperiences::RomeCode, 5))
                    .col(date(ProfileExperiences::StartDate))
                    .col(date_null(ProfileExperiences::EndDate))
                    .foreign_key(&mut owner(
                        "fk_profile_experiences_account",
                        ProfileExperiences::Table,
                        ProfileExperiences::AccountId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProfileEducation::Table)
                    .col(pk_auto(ProfileEducation::Id))
                    .col(integer(ProfileEducation::AccountId))
                    .col(string_len(ProfileEducation::Degree, 200))
                    .col(string_len_null(ProfileEducation::School, 200))
                    .col(date_null(ProfileEducation::StartDate))
                    .col(date_null(ProfileEducation::EndDate))
                    .foreign_key(&mut owner(
                        "fk_profile_education_account",
                        ProfileEducation::Table,
                        ProfileEducation::AccountId,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, table) in [
            ("idx_profile_skills_account_id", "profile_skills"),
            ("idx_profile_experiences_account_id", "profile_experiences"),
            ("idx_profile_education_account_id", "profile_education"),
        ] {
            manager
                .create_index(index(name, Alias::new(table), &["account_id"]))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "profile_education",
            "profile_experiences",
            "profile_skills",
            "account_tokens",
            "accounts",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
