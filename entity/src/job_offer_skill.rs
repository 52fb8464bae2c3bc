//! `job_offer_skills`: a skill a job offer asks for (`competences` upstream); the rows
//! of an offer are replaced whenever the offer is.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "job_offer_skills")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub offer_id: String,
    pub code: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub libelle: String,
    /// `E` (required) or `S` (desired).
    pub exigence: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::job_offer::Entity",
        from = "Column::OfferId",
        to = "super::job_offer::Column::Id",
        on_delete = "Cascade"
    )]
    Offer,
}

impl Related<super::job_offer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Offer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
