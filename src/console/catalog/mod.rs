//! Console pages of the catalog: `/categories` (the tree with product counts, folded
//! by `<details>`), `/products` (search and filters, paged) and `/products/{id}` (one
//! product, its mapping, its last run and last recorded error); their JSON under
//! `/api/categories/tree`, `/api/products` (in `serve`), `/api/products/{id}` and
//! `/api/products/{id}/errors`.

mod list;
mod product;
mod tree;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use entity::prelude::Money;

use super::layout;
use crate::serve::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/categories", get(tree::page))
        .route("/api/categories/tree", get(tree::json))
        .route("/products", get(list::page))
        .route("/products/{id}", get(product::page))
        .route("/api/products/{id}", get(product::json))
        .route("/api/products/{id}/errors", get(product::errors_json))
}

type Params = Query<HashMap<String, String>>;

fn products_of(slug: &str) -> String {
    format!(
        "/products{}",
        layout::query(&[("category", slug.to_owned())])
    )
}

fn product_href(id: i32) -> String {
    format!("/products/{id}")
}

/// A price with thousands separators: `1,234.50`. (Belongs in `layout`.)
fn money(m: &Money) -> String {
    crate::commands::table::thousands(&format!("{:.2}", m.amount()))
}

/// `yes` / `no`.
fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn prices_have_two_decimals_and_separators() {
        let m = |s: &str| Money::from(rust_decimal::Decimal::from_str(s).expect("a decimal"));
        assert_eq!(money(&m("11269")), "11,269.00");
        assert_eq!(money(&m("1234567.5")), "1,234,567.50");
        assert_eq!(money(&m("0.99")), "0.99");
    }
}
