//! `cerema_structures`: one structure of the Cerema Portail DF, keyed by its upstream id,
//! with the record as received in `raw`.

use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::instant::Instant;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "cerema_structures")]
pub struct Model {
    /// The upstream `id` (or `id_structure`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    #[sea_orm(column_type = "Text", nullable)]
    pub raison_sociale: Option<String>,
    #[sea_orm(column_name = "type")]
    pub structure_type: Option<String>,
    pub siret: Option<String>,
    pub naf: Option<String>,
    pub formjur: Option<String>,
    pub departement: Option<String>,
    pub region: Option<String>,
    pub niveau_acces: Option<String>,
    /// Instants, stored in UTC; the offset as received stays in `raw`.
    pub acces_lovac: Option<Instant>,
    pub acces_df_ano: Option<Instant>,
    pub acces_df_non_ano: Option<Instant>,
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
