//! `cerema users list` and `cerema structures list`: the stored Portail DF records, by
//! id, with the structure's name on each user and the user count on each structure.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{cerema_structure, cerema_user};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationDef, Select,
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

/// The structures `filter` (and `structure_type`) selects, without order, limit or
/// offset.
fn structure_query(
    filter: &StructureFilter,
    structure_type: Option<&str>,
) -> Select<CeremaStructure> {
    let mut q = CeremaStructure::find();
    if let Some(d) = &filter.departement {
        q = q.filter(cerema_structure::Column::Departement.eq(d.as_str()));
    }
    if let Some(t) = structure_type {
        q = q.filter(cerema_structure::Column::StructureType.eq(t));
    }
    q
}

/// How many structures `filter` selects, whatever its limit and offset.
pub async fn count_structures(db: &DatabaseConnection, filter: &StructureFilter) -> Result<u64> {
    count_structures_of_type(db, filter, None).await
}

pub async fn structures(
    db: &DatabaseConnection,
    filter: &StructureFilter,
) -> Result<Vec<StructureRow>> {
    structures_of_type(db, filter, None).await
}

/// `count_structures`, and only the structures of `structure_type` when it is given.
pub async fn count_structures_of_type(
    db: &DatabaseConnection,
    filter: &StructureFilter,
    structure_type: Option<&str>,
) -> Result<u64> {
    Ok(structure_query(filter, structure_type).count(db).await?)
}

/// `structures`, and only the structures of `structure_type` when it is given.
pub async fn structures_of_type(
    db: &DatabaseConnection,
    filter: &StructureFilter,
    structure_type: Option<&str>,
) -> Result<Vec<StructureRow>> {
    let page = structure_query(filter, structure_type)
        .order_by_asc(cerema_structure::Column::Id)
        .limit(filter.limit)
        .offset(filter.offset)
        .all(db)
        .await?;
    let counts = user_counts(db, page.iter().map(|s| s.id)).await?;
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

/// Stored users per structure, for the structures `ids` names (those without users
/// are left out).
async fn user_counts(
    db: &DatabaseConnection,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, u64>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(CeremaUser::find()
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
        .collect())
}

/// One structure with every stored field (`raw` aside) and its user count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StructureDetail {
    pub id: i64,
    pub raison_sociale: Option<String>,
    #[serde(rename = "type")]
    pub structure_type: Option<String>,
    pub siret: Option<String>,
    pub naf: Option<String>,
    pub formjur: Option<String>,
    pub departement: Option<String>,
    pub region: Option<String>,
    pub niveau_acces: Option<String>,
    pub acces_lovac: Option<Instant>,
    pub acces_df_ano: Option<Instant>,
    pub acces_df_non_ano: Option<Instant>,
    /// Stored users attached to it.
    pub users: u64,
    pub first_seen_at: DateTime<Utc>,
    pub last_synced_at: DateTime<Utc>,
}

/// Structure `id`, or `None` when it is not stored.
pub async fn structure(db: &DatabaseConnection, id: i64) -> Result<Option<StructureDetail>> {
    let Some(s) = CeremaStructure::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let users = count_users(
        db,
        &UserFilter {
            structure: Some(id),
            ..UserFilter::default()
        },
    )
    .await?;
    Ok(Some(StructureDetail {
        id: s.id,
        raison_sociale: s.raison_sociale,
        structure_type: s.structure_type,
        siret: s.siret,
        naf: s.naf,
        formjur: s.formjur,
        departement: s.departement,
        region: s.region,
        niveau_acces: s.niveau_acces,
        acces_lovac: s.acces_lovac,
        acces_df_ano: s.acces_df_ano,
        acces_df_non_ano: s.acces_df_non_ano,
        users,
        first_seen_at: s.first_seen_at,
        last_synced_at: s.last_synced_at,
    }))
}

/// Which of the upstream ids in `ids` are stored structures (ids that are not numbers
/// are left out): a run's item errors link to their structures through it.
pub async fn stored_structures<'a>(
    db: &DatabaseConnection,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, i64>> {
    let asked = super::numeric_ids(ids);
    if asked.is_empty() {
        return Ok(HashMap::new());
    }
    let stored: HashSet<i64> = CeremaStructure::find()
        .select_only()
        .column(cerema_structure::Column::Id)
        .filter(cerema_structure::Column::Id.is_in(asked.iter().map(|(_, id)| *id)))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(asked
        .into_iter()
        .filter(|(_, id)| stored.contains(id))
        .map(|(s, id)| (s.to_owned(), id))
        .collect())
}

/// Structures, and the users attached to them, per département and per type.
#[derive(Debug, Clone, Serialize)]
pub struct Breakdown {
    pub structures: u64,
    pub users: u64,
    /// Users whose structure is not stored (or who have none): in no group below.
    pub users_without_structure: u64,
    /// By département code, structures without one last.
    pub departements: Vec<DepartementCount>,
    /// Most structures first.
    pub types: Vec<TypeCount>,
}

/// The structures of one département, and their users.
#[derive(Debug, Clone, Serialize)]
pub struct DepartementCount {
    /// The code (`13`, `2A`, `971`); null for the structures without one.
    pub departement: Option<String>,
    pub structures: u64,
    pub users: u64,
}

/// The structures of one type, and their users.
#[derive(Debug, Clone, Serialize)]
pub struct TypeCount {
    /// The type; null for the structures without one.
    #[serde(rename = "type")]
    pub structure_type: Option<String>,
    pub structures: u64,
    pub users: u64,
}

/// What `/cerema` charts: a few grouped queries, whatever the number of rows.
pub async fn breakdown(db: &DatabaseConnection) -> Result<Breakdown> {
    let structures = CeremaStructure::find().count(db).await?;
    let users = CeremaUser::find().count(db).await?;
    let mut departements: Vec<DepartementCount> =
        grouped(db, cerema_structure::Column::Departement)
            .await?
            .into_iter()
            .map(|(departement, structures, users)| DepartementCount {
                departement,
                structures,
                users,
            })
            .collect();
    departements.sort_by(|a, b| match (&a.departement, &b.departement) {
        (Some(a), Some(b)) => a.cmp(b),
        (a, b) => b.is_some().cmp(&a.is_some()),
    });
    let mut types: Vec<TypeCount> = grouped(db, cerema_structure::Column::StructureType)
        .await?
        .into_iter()
        .map(|(structure_type, structures, users)| TypeCount {
            structure_type,
            structures,
            users,
        })
        .collect();
    types.sort_by(|a, b| {
        b.structures
            .cmp(&a.structures)
            .then_with(|| a.structure_type.cmp(&b.structure_type))
    });
    let attached: u64 = departements.iter().map(|d| d.users).sum();
    Ok(Breakdown {
        structures,
        users,
        users_without_structure: users.saturating_sub(attached),
        departements,
        types,
    })
}

/// Per value of `column`: its structures, and the users attached to them.
async fn grouped(
    db: &DatabaseConnection,
    column: cerema_structure::Column,
) -> Result<Vec<(Option<String>, u64, u64)>> {
    let structures: Vec<(Option<String>, i64)> = CeremaStructure::find()
        .select_only()
        .column(column)
        .column_as(cerema_structure::Column::Id.count(), "n")
        .group_by(column)
        .into_tuple()
        .all(db)
        .await?;
    let users: HashMap<Option<String>, i64> = CeremaUser::find()
        .select_only()
        .column(column)
        .column_as(cerema_user::Column::IdUser.count(), "n")
        .join(JoinType::InnerJoin, user_structure())
        .group_by(column)
        .into_tuple::<(Option<String>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(structures
        .into_iter()
        .map(|(value, s)| {
            let u = users.get(&value).copied().unwrap_or(0);
            (value, n(s), n(u))
        })
        .collect())
}

/// A user's structure (not a foreign key: a user's structure may not be stored).
fn user_structure() -> RelationDef {
    CeremaUser::belongs_to(CeremaStructure)
        .from(cerema_user::Column::StructureId)
        .to(cerema_structure::Column::Id)
        .into()
}
