//! `job_offers`: one France Travail job offer, keyed by its upstream id, with the offer
//! as received in `raw` (fields appear over time: the columns are the known ones).

use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::instant::Instant;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "job_offers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub intitule: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    pub rome_code: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub rome_libelle: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub appellation_libelle: Option<String>,
    pub type_contrat: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub type_contrat_libelle: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub nature_contrat: Option<String>,
    pub experience_exige: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub experience_libelle: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub lieu_libelle: Option<String>,
    /// INSEE code of the commune.
    pub commune: Option<String>,
    pub code_postal: Option<String>,
    pub departement: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub entreprise_nom: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub salaire_libelle: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub duree_travail_libelle: Option<String>,
    pub alternance: Option<bool>,
    pub nombre_postes: Option<i32>,
    pub qualification_code: Option<String>,
    pub secteur_activite: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub secteur_activite_libelle: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub origine_url: Option<String>,
    pub date_creation: Option<Instant>,
    pub date_actualisation: Option<Instant>,
    /// Title, ROME label, appellation, company and description, folded
    /// (`text::fold`): what text search looks in, on every backend.
    #[sea_orm(column_type = "Text")]
    pub search_text: String,
    /// The offer exactly as the API sent it.
    pub raw: Json,
    /// Hash of `raw` as last written: an equal hash means "unchanged".
    pub content_hash: String,
    pub first_seen_at: DateTimeUtc,
    /// The last collect that saw the offer (changed or not).
    pub last_seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::job_offer_skill::Entity")]
    Skill,
}

impl Related<super::job_offer_skill::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Skill.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
