//! `/cerema`, `/cerema/structures`, `/cerema/structures/{id}` and their JSON: the
//! counts per département and per type are the database's, a structure lists its
//! users, the planted `raison_sociale` is escaped.

use std::collections::{BTreeMap, HashMap};

use entity::prelude::*;
use entity::{cerema_structure, cerema_user};
use sagasync::console::layout::count;
use sea_orm::{ColumnTrait, EntityTrait, QueryOrder, QuerySelect};
use serde_json::Value;

use super::runs::attr_values;
use super::{Console, fill_hostile};
use crate::helpers::TestDb;
use crate::on_every_backend;

/// The ids a page lists under attribute `name`, in order.
fn ids(body: &str, name: &str) -> Vec<i64> {
    attr_values(body, name)
        .iter()
        .map(|v| v.parse().expect("an id"))
        .collect()
}

/// The markup of the table row marked `attr="value"`.
fn row<'a>(body: &'a str, attr: &str, value: &str) -> &'a str {
    let start = body
        .find(&format!(r#"{attr}="{value}""#))
        .unwrap_or_else(|| panic!("no row {attr}={value}: {body}"));
    let end = body[start..].find("</tr>").expect("the row's end");
    &body[start..start + end]
}

/// `COUNT(*)` of structures per value of `column`, by the database's `GROUP BY`.
async fn group_by(
    conn: &sea_orm::DatabaseConnection,
    column: cerema_structure::Column,
) -> BTreeMap<Option<String>, u64> {
    CeremaStructure::find()
        .select_only()
        .column(column)
        .column_as(cerema_structure::Column::Id.count(), "n")
        .group_by(column)
        .into_tuple::<(Option<String>, i64)>()
        .all(conn)
        .await
        .expect("the grouped counts")
        .into_iter()
        .map(|(k, n)| (k, n as u64))
        .collect()
}

/// Each JSON group's `(key, structures, users)`, keyed by `key`.
fn groups(v: &Value, key: &str) -> BTreeMap<Option<String>, (u64, u64)> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|g| {
            let k = g[key].as_str().map(str::to_owned);
            let n = |f: &str| g[f].as_u64().expect("a count");
            (k, (n("structures"), n("users")))
        })
        .collect()
}

async fn cerema_counts_per_departement_are_the_databases(db: TestDb) {
    fill_hostile(&db).await;
    let conn = db.open().await;
    let console = Console::start(&db).await;
    let per_dep = group_by(&conn, cerema_structure::Column::Departement).await;
    let per_type = group_by(&conn, cerema_structure::Column::StructureType).await;
    let structures = CeremaStructure::find()
        .all(&conn)
        .await
        .expect("structures");
    let users = CeremaUser::find().all(&conn).await.expect("users");
    // Users per département and type, counted here from the rows.
    let of: HashMap<i64, &cerema_structure::Model> = structures.iter().map(|s| (s.id, s)).collect();
    let mut users_per_dep: HashMap<Option<String>, u64> = HashMap::new();
    let mut users_per_type: HashMap<Option<String>, u64> = HashMap::new();
    let mut without = 0;
    for u in &users {
        match u.structure_id.and_then(|s| of.get(&s)) {
            Some(s) => {
                *users_per_dep.entry(s.departement.clone()).or_default() += 1;
                *users_per_type.entry(s.structure_type.clone()).or_default() += 1;
            }
            None => without += 1,
        }
    }

    let api = console.json("/api/cerema").await;
    assert_eq!(api["structures"], structures.len());
    assert_eq!(api["users"], users.len());
    assert_eq!(api["users_without_structure"], without);
    let expected = |counts: &BTreeMap<Option<String>, u64>, users: &HashMap<_, u64>| {
        counts
            .iter()
            .map(|(k, n)| (k.clone(), (*n, users.get(k).copied().unwrap_or(0))))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        groups(&api["departements"], "departement"),
        expected(&per_dep, &users_per_dep)
    );
    assert_eq!(
        groups(&api["types"], "type"),
        expected(&per_type, &users_per_type)
    );

    // The page: each département's row and bar, linked to its structures.
    let page = console.page("/cerema").await;
    for (dep, n) in &per_dep {
        let dep = dep.as_deref().expect("the sandbox gives every département");
        let r = row(&page, "data-departement", dep);
        let users = users_per_dep.get(&Some(dep.to_owned())).copied();
        assert!(r.contains(&format!(">{}<", count(*n))), "{dep}: {r}");
        assert!(
            r.contains(&format!(">{}<", count(users.unwrap_or(0)))),
            "{dep}: {r}"
        );
        let link = format!(r#"href="/cerema/structures?departement={dep}""#);
        assert!(page.contains(&link), "{link}");
    }
    assert!(page.contains("<svg"), "the bars");

    // The list filtered by a département: the database's structures, each with its
    // user count; the probe in the first one's name escaped.
    let (dep, n) = per_dep.iter().next().expect("a département");
    let dep = dep.as_deref().expect("a code");
    let list = console
        .page(&format!("/cerema/structures?departement={dep}"))
        .await;
    let mut expected_ids: Vec<i64> = structures
        .iter()
        .filter(|s| s.departement.as_deref() == Some(dep))
        .map(|s| s.id)
        .collect();
    expected_ids.sort_unstable();
    assert_eq!(ids(&list, "data-structure"), expected_ids);
    assert!(list.contains(&format!("{} structures match", count(*n))));
    for id in &expected_ids {
        let n = users.iter().filter(|u| u.structure_id == Some(*id)).count();
        let r = row(&list, "data-structure", &id.to_string());
        assert!(r.contains(&format!(r#"data-users="{n}""#)), "{id}: {r}");
    }
    let all = console.page("/cerema/structures").await;
    assert!(all.contains("&lt;script&gt;alert("), "{all}");

    // By type, a name with an apostrophe and an accent in the query.
    let (kind, n) = per_type.iter().next().expect("a type");
    let kind = kind.as_deref().expect("a type");
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("type", kind)
        .finish();
    let typed = console
        .page(&format!("/cerema/structures?{query}&limit=2"))
        .await;
    let shown = ids(&typed, "data-structure");
    assert_eq!(shown.len() as u64, (*n).min(2));
    assert!(typed.contains(&format!(" of {}", count(*n))), "{typed}");
    for id in shown {
        assert_eq!(of[&id].structure_type.as_deref(), Some(kind));
    }
    let api_list = console
        .json(&format!("/api/cerema/structures?{query}"))
        .await;
    assert_eq!(
        api_list["items"].as_array().map(Vec::len),
        Some(*n as usize)
    );

    console
        .error_page("/cerema/structures?limit=x", 400, "`limit`")
        .await;
    console
        .error_page(
            "/cerema?departement=13",
            400,
            "unknown parameter `departement`",
        )
        .await;
    console.shutdown().await;
}

async fn a_structure_page_lists_its_users(db: TestDb) {
    fill_hostile(&db).await;
    let conn = db.open().await;
    let console = Console::start(&db).await;
    // The structure with the most users.
    let users = CeremaUser::find()
        .order_by_asc(cerema_user::Column::IdUser)
        .all(&conn)
        .await
        .expect("users");
    let mut per: BTreeMap<i64, Vec<&cerema_user::Model>> = BTreeMap::new();
    for u in &users {
        if let Some(s) = u.structure_id {
            per.entry(s).or_default().push(u);
        }
    }
    let stored: Vec<i64> = CeremaStructure::find()
        .select_only()
        .column(cerema_structure::Column::Id)
        .into_tuple()
        .all(&conn)
        .await
        .expect("the structures' ids");
    let busiest = per
        .iter()
        .filter(|(id, _)| stored.contains(id))
        .max_by_key(|(id, of)| (of.len(), std::cmp::Reverse(**id)))
        .map(|(id, of)| (*id, of.len()));
    let (id, n) = busiest.expect("a structure with users");
    let theirs: Vec<i64> = per[&id].iter().map(|u| u.id_user).collect();

    let page = console.page(&format!("/cerema/structures/{id}")).await;
    assert_eq!(ids(&page, "data-user"), theirs);
    assert!(page.contains(&format!("1–{n} of {n}")), "{page}");
    for u in &per[&id] {
        if let Some(email) = &u.email {
            assert!(page.contains(email.as_str()), "{email}");
        }
    }
    // Only the managers.
    let managers: Vec<i64> = per[&id]
        .iter()
        .filter(|u| u.gestionnaire == Some(true))
        .map(|u| u.id_user)
        .collect();
    let only = console
        .page(&format!("/cerema/structures/{id}?gestionnaire=true"))
        .await;
    assert_eq!(ids(&only, "data-user"), managers);
    // A page of two, and the next.
    let two = console
        .page(&format!("/cerema/structures/{id}?limit=2"))
        .await;
    assert_eq!(ids(&two, "data-user"), theirs[..2]);
    assert!(
        two.contains(&format!(
            r#"href="/cerema/structures/{id}?limit=2&amp;offset=2""#
        )),
        "{two}"
    );

    // The JSON: the structure and a page of its users.
    let api = console
        .json(&format!("/api/cerema/structures/{id}?limit=2&offset=1"))
        .await;
    assert_eq!(api["structure"]["id"], id);
    assert_eq!(api["structure"]["users"], n);
    let listed: Vec<i64> = api["users"]["items"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["id"].as_i64().expect("an id"))
        .collect();
    assert_eq!(listed, theirs[1..3]);
    assert_eq!(api["users"]["next_offset"], 3);

    // The planted name, escaped, as the page's title.
    let first: i64 = CeremaStructure::find()
        .select_only()
        .column(cerema_structure::Column::Id)
        .order_by_asc(cerema_structure::Column::Id)
        .into_tuple()
        .one(&conn)
        .await
        .expect("a query")
        .expect("a structure");
    let probe = console.page(&format!("/cerema/structures/{first}")).await;
    assert!(
        probe
            .contains("<h1>&lt;script&gt;alert(&#39;xss-text&#39;)&lt;/script&gt;Probe title</h1>")
            || probe.contains("<h1>&lt;script&gt;alert('xss-text')&lt;/script&gt;Probe title</h1>"),
        "{probe}"
    );

    console
        .error_page(
            "/cerema/structures/999999",
            404,
            "no stored Cerema structure 999999",
        )
        .await;
    console
        .error_page("/cerema/structures/abc", 400, "&quot;abc&quot;")
        .await;
    console
        .error_page(
            &format!("/cerema/structures/{id}?gestionnaire=maybe"),
            400,
            "`gestionnaire`",
        )
        .await;
    for (path, status) in [
        ("/api/cerema/structures/999999", 404),
        ("/api/cerema/structures/x", 400),
    ] {
        assert_eq!(console.get(path).await.status, status, "{path}");
    }
    console.shutdown().await;
}

on_every_backend!(
    cerema_counts_per_departement_are_the_databases,
    a_structure_page_lists_its_users
);
