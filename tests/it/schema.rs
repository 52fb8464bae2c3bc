//! What the schema itself guarantees, whatever the code above it does.

use chrono::Utc;
use entity::prelude::*;
use entity::{api_key, category, product};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, Statement};
use std::str::FromStr;

use crate::helpers::{Backend, TestDb};
use crate::on_every_backend;

fn key_row(name: &str, active: bool) -> api_key::ActiveModel {
    api_key::ActiveModel {
        name: Set(name.to_owned()),
        key_encrypted: Set("x".to_owned()),
        is_active: Set(active),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

fn product_row(slug: &str, price: &str, stock: i32) -> product::ActiveModel {
    product::ActiveModel {
        title: Set(format!("Produit {slug}")),
        slug: Set(slug.to_owned()),
        description: Set(String::new()),
        price: Set(Money(Decimal::from_str(price).expect("a decimal"))),
        discount_price: Set(None),
        category_id: Set(None),
        brand: Set(None),
        sku: Set(None),
        stock: Set(stock),
        is_available: Set(true),
        image_urls: Set(serde_json::json!([])),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
}

async fn the_database_refuses_a_second_active_key(db: TestDb) {
    let conn = db.open().await;
    key_row("first", true)
        .insert(&conn)
        .await
        .expect("one active key");
    key_row("inactive", false)
        .insert(&conn)
        .await
        .expect("inactive keys are free");
    key_row("inactive too", false)
        .insert(&conn)
        .await
        .expect("inactive keys are free");

    let second = key_row("second", true).insert(&conn).await;

    let err = second.expect_err("a second active key must be refused");
    assert!(sagasync::db::is_unique_violation(&err), "{err}");
}

async fn money_is_stored_exactly(db: TestDb) {
    let conn = db.open().await;
    for (slug, price) in [("a", "12345678901234.56"), ("b", "0.10"), ("c", "1234.57")] {
        product_row(slug, price, 1)
            .insert(&conn)
            .await
            .expect("insert");
    }

    let rows = Product::find().all(&conn).await.expect("read");

    let prices: Vec<String> = rows.iter().map(|p| p.price.to_string()).collect();
    assert_eq!(prices, ["12345678901234.56", "0.10", "1234.57"]);
    if db.backend == Backend::Sqlite {
        let kind = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT typeof(price) FROM products LIMIT 1",
            ))
            .await
            .expect("typeof")
            .expect("a row")
            .try_get_by_index::<String>(0)
            .expect("a type name");
        assert_eq!(kind, "text", "SQLite must not store money as a float");
    }
}

async fn stock_can_never_be_negative(db: TestDb) {
    let conn = db.open().await;

    let err = product_row("neg", "1.00", -1).insert(&conn).await;

    assert!(
        err.is_err(),
        "a negative stock must be refused by the database"
    );
    assert!(Product::find().all(&conn).await.expect("read").is_empty());
}

async fn deleting_a_parent_category_keeps_its_children(db: TestDb) {
    let conn = db.open().await;
    let cat = |name: &str, parent: Option<i32>| category::ActiveModel {
        name: Set(name.to_owned()),
        slug: Set(name.to_lowercase()),
        parent_id: Set(parent),
        description: Set(String::new()),
        level: Set(i32::from(parent.is_some())),
        position: Set(0),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let parent = cat("Parent", None).insert(&conn).await.expect("parent");
    let child = cat("Child", Some(parent.id))
        .insert(&conn)
        .await
        .expect("child");

    Category::delete_by_id(parent.id)
        .exec(&conn)
        .await
        .expect("delete parent");

    let child = Category::find_by_id(child.id)
        .one(&conn)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(child.parent_id, None);
}

on_every_backend!(
    the_database_refuses_a_second_active_key,
    money_is_stored_exactly,
    stock_can_never_be_negative,
    deleting_a_parent_category_keeps_its_children,
);
