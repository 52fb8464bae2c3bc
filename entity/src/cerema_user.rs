//! `cerema_users`: one user of the Cerema Portail DF, keyed by `id_user`, with the record
//! as received in `raw`. `structure_id` is not a foreign key: a user whose structure is
//! unknown is still stored.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::instant::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "cerema_users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_user: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub email: Option<String>,
    pub structure_id: Option<i64>,
    pub gestionnaire: Option<bool>,
    pub exterieur: Option<bool>,
    /// Instants, stored in UTC; the offset as received stays in `raw`.
    pub cgu_valide: Option<Instant>,
    pub date_rattachement: Option<Instant>,
    pub date_expiration: Option<Instant>,
    pub groupe: Option<i64>,
    /// The record exactly as the API sent it (what `cerema export` writes back).
    pub raw: Json,
    /// Hash of `raw` as last written: an equal hash means "unchanged".
    pub content_hash: String,
    pub first_seen_at: DateTimeUtc,
    pub last_synced_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
