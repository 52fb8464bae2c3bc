//! `/runs`, `/runs/{id}` and `/api/runs/{id}`: the runs the database holds, newest
//! first, paged and filtered; one run's figures and its recorded errors and warnings,
//! upstream text escaped.

use entity::prelude::*;
use entity::{external_product, sync_error, sync_run};
use sagasync::console::layout::count;
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value;

use super::{Console, PROBE_SCRIPT, fill_hostile};
use crate::helpers::TestDb;
use crate::on_every_backend;

/// The values of attribute `name` in `body`, in order (`data-run="12"` gives `12`).
pub fn attr_values(body: &str, name: &str) -> Vec<String> {
    let needle = format!("{name}=\"");
    body.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &body[at + needle.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

/// The run ids a runs page lists, in order.
fn listed(body: &str) -> Vec<i32> {
    attr_values(body, "data-run")
        .iter()
        .map(|v| v.parse().expect("a run id"))
        .collect()
}

/// Every run, newest first.
async fn all_runs(conn: &sea_orm::DatabaseConnection) -> Vec<sync_run::Model> {
    SyncRun::find()
        .order_by_desc(sync_run::Column::Id)
        .all(conn)
        .await
        .expect("the runs")
}

async fn the_runs_list_is_paged_and_filtered(db: TestDb) {
    fill_hostile(&db).await;
    let conn = db.open().await;
    let console = Console::start(&db).await;
    let runs = all_runs(&conn).await;
    let ids: Vec<i32> = runs.iter().map(|r| r.id).collect();
    assert!(ids.len() >= 5, "the demo ran five syncs");

    // Every run, newest first, each linked, with the total.
    let page = console.page("/runs").await;
    assert_eq!(listed(&page), ids);
    assert!(page.contains(&format!("{} runs match", count(ids.len() as u64))));
    for id in &ids {
        assert!(page.contains(&format!(r#"href="/runs/{id}""#)), "{id}");
    }

    // Pages of two: the first, then the last, whose pager stops.
    let first = console.page("/runs?limit=2").await;
    assert_eq!(listed(&first), ids[..2]);
    assert!(first.contains(&format!("1–2 of {}", ids.len())), "{first}");
    assert!(
        first.contains(r#"href="/runs?limit=2&amp;offset=2""#),
        "{first}"
    );
    let last_offset = (ids.len() - 1) / 2 * 2;
    let last = console
        .page(&format!("/runs?limit=2&offset={last_offset}"))
        .await;
    assert_eq!(listed(&last), ids[last_offset..]);
    assert!(!last.contains("Next →"), "{last}");
    assert!(last.contains("← Previous"), "{last}");

    // Each filter selects the runs the database says.
    let of = |keep: &dyn Fn(&sync_run::Model) -> bool| -> Vec<i32> {
        runs.iter().filter(|r| keep(r)).map(|r| r.id).collect()
    };
    let cerema = console.page("/runs?source=cerema").await;
    assert_eq!(listed(&cerema), of(&|r| r.source == Source::Cerema));
    assert_eq!(listed(&cerema).len(), 2, "structures and users");
    let b2b_ok = console.page("/runs?source=b2b&status=succeeded").await;
    assert_eq!(
        listed(&b2b_ok),
        of(&|r| r.source == Source::B2b && r.status == RunStatus::Succeeded)
    );
    let users = console.page("/runs?kind=users").await;
    assert_eq!(listed(&users), of(&|r| r.kind == "users"));
    assert!(
        users.contains(r#"<option value="users" selected>"#),
        "{users}"
    );
    let failed = console.page("/runs?status=failed").await;
    assert_eq!(
        listed(&failed),
        of(&|r| r.status.to_value() == "failed"),
        "the demo's runs all succeeded"
    );
    assert!(failed.contains("No run matches these filters."), "{failed}");

    // A bad parameter is a 400 page naming it.
    console
        .error_page("/runs?status=bogus", 400, "`status` must be one of")
        .await;
    console
        .error_page("/runs?status=bogus", 400, "&quot;bogus&quot;")
        .await;
    console
        .error_page("/runs?source=ftp", 400, "`source`")
        .await;
    console.error_page("/runs?limit=0", 400, "`limit`").await;
    console.error_page("/runs?offset=-1", 400, "`offset`").await;
    console
        .error_page("/runs?sort=id", 400, "unknown parameter `sort`")
        .await;

    // The API's list is untouched.
    let api = console.json("/api/runs?limit=2").await;
    assert_eq!(api["items"][0]["run_id"], ids[0]);
    assert_eq!(api["next_offset"], 2);
    console.shutdown().await;
}

/// Records `n` more issues for `run_id` (one in twelve a warning), each with a payload
/// holding the probe.
async fn record_errors(conn: &sea_orm::DatabaseConnection, run_id: i32, n: usize) {
    let rows = (0..n).map(|i| sync_error::ActiveModel {
        run_id: Set(run_id),
        external_id: Set(Some(format!("extra-{i}"))),
        message: Set(if i % 12 == 0 {
            format!("warning: extra reservation {i}")
        } else {
            format!("extra failure {i}")
        }),
        payload: Set(Some(format!(r#"{{"title": "{PROBE_SCRIPT}"}}"#))),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    });
    SyncError::insert_many(rows)
        .exec(conn)
        .await
        .expect("the extra errors");
}

/// How many of `run_id`'s recorded issues are warnings, and how many in all.
async fn issue_counts(conn: &sea_orm::DatabaseConnection, run_id: i32) -> (u64, u64) {
    let all = SyncError::find()
        .filter(sync_error::Column::RunId.eq(run_id))
        .all(conn)
        .await
        .expect("the errors");
    let warnings = all
        .iter()
        .filter(|e| e.message.starts_with("warning: "))
        .count();
    (warnings as u64, all.len() as u64)
}

async fn a_run_page_shows_its_figures_and_its_errors_escaped(db: TestDb) {
    fill_hostile(&db).await;
    let conn = db.open().await;
    // The planted probe is the last error recorded; its run gets 60 more.
    let planted = SyncError::find()
        .order_by_desc(sync_error::Column::Id)
        .one(&conn)
        .await
        .expect("a query")
        .expect("the demo records warnings");
    let run = SyncRun::find_by_id(planted.run_id)
        .one(&conn)
        .await
        .expect("a query")
        .expect("its run");
    record_errors(&conn, run.id, 60).await;
    let (warnings, all) = issue_counts(&conn, run.id).await;
    assert_eq!((run.source, run.kind.as_str()), (Source::B2b, "products"));
    let console = Console::start(&db).await;
    let path = format!("/runs/{}", run.id);

    let page = console.page(&path).await;
    for (what, n) in [
        ("items read", run.total),
        ("created", run.created),
        ("updated", run.updated),
        ("unchanged", run.unchanged),
        ("missing", run.missing),
        ("errors", run.errors),
        ("warnings", warnings as i64),
    ] {
        let card = format!(r#"data-figure="{what}">{}<"#, count(n));
        assert!(page.contains(&card), "{card} in {page}");
    }
    assert!(page.contains(&format!(">{}</span>", run.status.to_value())));
    // The planted message, escaped, and a payload folded away, escaped too.
    assert!(page.contains("&quot;&gt;&lt;img src=x onerror="), "{page}");
    assert!(page.contains(r#"<details class="payload">"#), "{page}");
    assert!(page.contains("&lt;script&gt;alert("), "{page}");
    // The options, as a list.
    if let Value::Object(options) = &run.options {
        for key in options.keys() {
            assert!(page.contains(&format!(">{key}</dt>")), "{key}");
        }
    }
    // The first page of 50 issues of all, with the choice of errors or warnings.
    assert_eq!(attr_values(&page, "data-issue").len(), 50);
    assert!(page.contains(&format!("1–50 of {}", count(all))), "{page}");
    for (label, n) in [
        ("all", all),
        ("errors", all - warnings),
        ("warnings", warnings),
    ] {
        let tab = format!(r#"{label} <span class="count">{}</span>"#, count(n));
        assert!(page.contains(&tab), "{tab} in {page}");
    }
    // A B2B product's issue links to the product stored for it.
    let external: i64 = planted
        .external_id
        .as_deref()
        .and_then(|e| e.parse().ok())
        .expect("a B2B id");
    let link = ExternalProduct::find()
        .filter(external_product::Column::ExternalId.eq(external))
        .one(&conn)
        .await
        .expect("a query")
        .expect("the product was kept");
    let href = format!(r#"href="/products/{}">{external}<"#, link.product_id);
    assert!(page.contains(&href), "{href} in {page}");

    // Only the warnings; only the errors, second page.
    let only = console.page(&format!("{path}?show=warnings")).await;
    assert_eq!(attr_values(&only, "data-issue").len() as u64, warnings);
    assert!(!only.contains(r#"class="badge bad">error<"#), "{only}");
    let errors = console.page(&format!("{path}?show=errors&offset=50")).await;
    assert_eq!(
        attr_values(&errors, "data-issue").len() as u64,
        all - warnings - 50
    );
    assert!(
        !errors.contains(r#"class="badge warn">warning<"#),
        "{errors}"
    );

    // Unknown and malformed ids, bad parameters.
    console
        .error_page("/runs/999999", 404, "There is no run #999999")
        .await;
    console
        .error_page("/runs/abc", 400, "&quot;abc&quot;")
        .await;
    console
        .error_page(&format!("{path}?show=nope"), 400, "`show`")
        .await;

    // The API answers as `runs show`, its item errors paged.
    let shown = crate::inspect::json(&db, &["runs", "show", &run.id.to_string()]);
    let api = console.json(&format!("/api/runs/{}?limit=5", run.id)).await;
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    assert_eq!(keys(&api), keys(&shown));
    assert_eq!(api["errors_recorded"], all);
    assert_eq!(api["total"], run.total);
    assert_eq!(
        api["item_errors"].as_array().map(Vec::as_slice),
        shown["item_errors"].as_array().map(|e| &e[..5])
    );
    let rest = console
        .json(&format!("/api/runs/{}?limit=100&offset=60", run.id))
        .await;
    assert_eq!(
        rest["item_errors"].as_array().map(Vec::len) as Option<usize>,
        Some(usize::try_from(all - 60).expect("a length"))
    );
    let warned = console
        .json(&format!("/api/runs/{}?show=warnings", run.id))
        .await;
    assert_eq!(
        warned["item_errors"].as_array().map(Vec::len),
        Some(warnings as usize)
    );
    for (path, status) in [("/api/runs/999999", 404), ("/api/runs/abc", 400)] {
        let a = console.get(path).await;
        assert_eq!(a.status, status, "{path}: {}", a.body);
        let v: Value = serde_json::from_str(&a.body).expect("a JSON error");
        assert_eq!(v["status"], status);
    }
    console.shutdown().await;
}

on_every_backend!(
    the_runs_list_is_paged_and_filtered,
    a_run_page_shows_its_figures_and_its_errors_escaped
);
