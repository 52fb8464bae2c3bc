//! `accounts`: a job seeker's account (the profile's person).
//!
//! Invariant: `email_key` is `email` lower-cased, unique (the database refuses a second
//! account whose email differs only by case); `password_hash` is an Argon2id PHC
//! string or empty (no password set: no login), never a password, and never leaves
//! through `Serialize` or `Debug`.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::instant::Instant;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub email: String,
    #[serde(skip)]
    pub email_key: String,
    pub name: String,
    pub phone: Option<String>,
    #[serde(skip)]
    #[sea_orm(column_type = "Text")]
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: Instant,
    pub updated_at: Instant,
}

/// Debug leaves the password hash out.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::account_token::Entity")]
    Token,
    #[sea_orm(has_many = "super::profile_skill::Entity")]
    Skill,
    #[sea_orm(has_many = "super::profile_experience::Entity")]
    Experience,
    #[sea_orm(has_many = "super::profile_education::Entity")]
    Education,
}

impl ActiveModelBehavior for ActiveModel {}
