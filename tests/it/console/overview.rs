//! `/` and `/api/overview`: the figures shown are the database's.

use entity::prelude::*;
use sea_orm::{EntityTrait, PaginatorTrait};

use super::{Console, fill_hostile};
use crate::helpers::TestDb;
use crate::on_every_backend;

async fn the_overview_shows_what_the_database_holds(db: TestDb) {
    fill_hostile(&db).await;
    let conn = db.open().await;
    let console = Console::start(&db).await;

    let page = console.page("/").await;
    let products = Product::find().count(&conn).await.expect("a count");
    let offers = JobOffer::find().count(&conn).await.expect("a count");
    let users = CeremaUser::find().count(&conn).await.expect("a count");
    for (table, n) in [
        ("products", products),
        ("job_offers", offers),
        ("cerema_users", users),
    ] {
        let shown = format!(
            r#"data-table="{table}">{}<"#,
            sagasync::console::layout::count(n)
        );
        assert!(page.contains(&shown), "{table}: {shown} in {page}");
    }
    // Every source's last run, linked.
    let runs = SyncRun::find().count(&conn).await.expect("a count");
    assert!(runs >= 5, "the demo ran five syncs");
    for kind in ["categories", "products", "structures", "users", "offers"] {
        assert!(page.contains(&format!(">{kind}</a>")), "{kind}: {page}");
    }
    // The planted error message is shown, escaped.
    assert!(page.contains("&quot;&gt;&lt;img src=x"), "{page}");

    let json = console.json("/api/overview").await;
    let rows = |t: &str| {
        json["tables"]
            .as_array()
            .and_then(|ts| ts.iter().find(|x| x["table"] == t))
            .and_then(|x| x["rows"].as_u64())
    };
    assert_eq!(rows("products"), Some(products));
    assert_eq!(rows("job_offers"), Some(offers));
    assert_eq!(json["last_runs"].as_array().map(Vec::len), Some(5));
    assert!(json["recent_errors"][0]["message"].is_string(), "{json}");

    console
        .error_page("/no/such/page", 404, "There is no page at /no/such/page")
        .await;
    let api = console.get("/api/no_such_route").await;
    assert_eq!(api.status, 404);
    assert!(api.body.contains("no such route"), "{}", api.body);
    console.shutdown().await;
}

on_every_backend!(the_overview_shows_what_the_database_holds);
