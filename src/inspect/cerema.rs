//! `cerema users list` and `cerema structures list`: the stored Portail DF records, by
//! id, with the structure's name on each user and the user count on each structure.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{cerema_structure, cerema_user};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use serde::{Deserialize, Serialize};

use super::Result;

/// Which users to list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub structure: Option<i64>,
    /// Only the structure's managers (`Some(true)`) or only the others (`Some(false)`).
    pub gestionnaire: Option<bool>,
    pub limit: u64,
    pub offset: u64,
}

/// Which structures to list.
#[derive(Debug, Clone, Default)]
pub struct StructureFilter {
    pub departement: Option<String>,
    pub limit: u64,
    pub offset: u64,
}

/// One user as `cerema users list` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserRow {
    /// The user's `id_user` upstream.
    pub id: i64,
    pub email: Option<String>,
    pub structure_id: Option<i64>,
    /// The structure's `raison_sociale`, when the structure is stored.
    pub structure_name: Option<String>,
    pub gestionnaire: Option<bool>,
    pub exterieur: Option<bool>,
    pub groupe: Option<i64>,
    pub date_expiration: Option<Instant>,
    pub last_synced_at: DateTime<Utc>,
}

/// One structure as `cerema structures list` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StructureRow {
    pub id: i64,
    pub raison_sociale: Option<String>,
    #[serde(rename = "type")]
    pub structure_type: Option<String>,
    pub siret: Option<String>,
    pub departement: Option<String>,
    pub region: Option<String>,
    pub niveau_acces: Option<String>,
    /// Stored users attached to it.
    pub users: u64,
    pub last_synced_at: DateTime<Utc>,
}

/// The users `filter` selects, without order, limit or offset.
fn user_query(filter: &UserFilter) -> Select<CeremaUser> {
    let mut q = CeremaUser::find();
    if let Some(s) = filter.structure {
        q = q.filter(cerema_user::Column::StructureId.eq(s));
    }
    if let Some(g) = filter.gestionnaire {
        q = q.filter(cerema_user::Column::Gestionnaire.eq(g));
    }
    q
}

/// How many users `filter` selects, whatever its limit and offset.
pub async fn count_users(db: &DatabaseConnection, filter: &UserFilter) -> Result<u64> {
    Ok(user_query(filter).count(db).await?)
}

pub async fn users(db: &DatabaseConnection, filter: &UserFilter) -> Result<Vec<UserRow>> {
    let page = user_query(filter)
        .order_by_asc(cerema_user::Column::IdUser)
        .limit(filter.limit)
        .offset(filter.offset)
        .all(db)
        .await?;
    let ids: HashSet<i64> = page.iter().filter_map(|u| u.structure_id).collect();
    let names: HashMap<i64, Option<String>> = CeremaStructure::find()
        .select_only()
        .column(cerema_structure::Column::Id)
        .column(cerema_structure::Column::RaisonSociale)
        .filter(cerema_structure::Column::Id.is_in(ids))
        .into_tuple::<(i64, Option<String>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(page
        .into_iter()
        .map(|u| UserRow {
            structure_name: u
                .structure_id
                .and_then(|s| names.get(&s).cloned().flatten()),
            id: u.id_user,
            email: u.email,
            structure_id: u.structure_id,
            gestionnaire: u.gestionnaire,
            exterieur: u.exterieur,
            groupe: u.groupe,
            date_expiration: u.date_expiration,
            last_synced_at: u.last_synced_at,
        })
        .collect())
}

/// The structures `filter` selects, without order, limit or offset.
fn structure_query(filter: &StructureFilter) -> Select<CeremaStructure> {
    let mut q = CeremaStructure::find();
    if let Some(d) = &filter.departement {
        q = q.filter(cerema_structure::Column::Departement.eq(d.as_str()));
    }
    q
}

/// How many structures `filter` selects, whatever its limit and offset.
pub async fn count_structures(db: &DatabaseConnection, filter: &StructureFilter) -> Result<u64> {
    Ok(structure_query(filter).count(db).await?)
}

pub async fn structures(
    db: &DatabaseConnection,
    filter: &StructureFilter,
) -> Result<Vec<StructureRow>> {
    let page = structure_query(filter)
        .order_by_asc(cerema_structure::Column::Id)
        .limit(filter.limit)
        .offset(filter.offset)
        .all(db)
        .await?;
    let ids: Vec<i64> = page.iter().map(|s| s.id).collect();
    let counts: HashMap<i64, u64> = CeremaUser::find()
        .select_only()
        .column(cerema_user::Column::StructureId)
        .column_as(cerema_user::Column::IdUser.count(), "n")
        .filter(cerema_user::Column::StructureId.is_in(ids))
        .group_by(cerema_user::Column::StructureId)
        .into_tuple::<(Option<i64>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(s, n)| Some((s?, u64::try_from(n).unwrap_or(0))))
        .collect();
    Ok(page
        .into_iter()
        .map(|s| StructureRow {
            users: counts.get(&s.id).copied().unwrap_or(0),
            id: s.id,
            raison_sociale: s.raison_sociale,
            structure_type: s.structure_type,
            siret: s.siret,
            departement: s.departement,
            region: s.region,
            niveau_acces: s.niveau_acces,
            last_synced_at: s.last_synced_at,
        })
        .collect())
}
