//! The B2B inventory's JSON, read into clean records: field aliases, numbers in their
//! many spellings, the list shapes. Pure functions; only this module knows the JSON.

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};
use std::str::FromStr;

/// Longest product title the `products` table takes.
const MAX_TITLE_CHARS: usize = 500;
/// Largest amount a money column (NUMERIC(16, 2)) holds.
const MAX_AMOUNT: Decimal = Decimal::from_parts(0x6FC1_0000 - 1, 0x0023_86F2, 0, false, 2);

/// Why one upstream record cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(pub String);

fn err(msg: impl Into<String>) -> RecordError {
    RecordError(msg.into())
}

/// A category as the inventory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRecord {
    pub external_id: i64,
    pub name: String,
    pub description: String,
    pub parent_external_id: Option<i64>,
    pub position: i32,
    pub rayon_type: Option<String>,
    pub image_url: Option<String>,
}

/// How a product names its category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CategoryRef {
    /// A bare id (`category_id: 7`, `category: 7`).
    Id(i64),
    /// An object that may carry enough to create the category when unknown.
    Object { id: i64, name: Option<String> },
}

impl CategoryRef {
    pub fn id(&self) -> i64 {
        match self {
            CategoryRef::Id(id) | CategoryRef::Object { id, .. } => *id,
        }
    }
}

/// A product as the inventory describes it, cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRecord {
    pub external_id: i64,
    pub title: String,
    pub description: String,
    pub price: Decimal,
    pub discount_price: Option<Decimal>,
    /// Units in stock: negative upstream values become 0, fractions are cut.
    pub stock: i32,
    pub sku: Option<String>,
    pub category: Option<CategoryRef>,
    pub is_available: bool,
    pub brand: Option<String>,
    pub image_urls: Vec<String>,
}

/// One page of the products listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductPage {
    pub items: Vec<Value>,
    pub next: Option<String>,
    pub count: Option<u64>,
}

/// The items of a listing: a bare JSON array, or an object holding the array under
/// one of `keys`.
pub fn list_items(body: Value, keys: &[&str]) -> Result<Vec<Value>, String> {
    match body {
        Value::Array(items) => Ok(items),
        Value::Object(mut map) => {
            for key in keys {
                match map.remove(*key) {
                    Some(Value::Array(items)) => return Ok(items),
                    Some(Value::Null) | None => continue,
                    Some(other) => {
                        return Err(format!("`{key}` is {}, not a list", kind(&other)));
                    }
                }
            }
            Err(format!(
                "an object without {}",
                keys.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))
        }
        other => Err(format!("{}, not a list or an object", kind(&other))),
    }
}

/// A page of products: DRF `{count, next, results}` (or `products`), or a bare list
/// (then the only page).
pub fn product_page(body: Value) -> Result<ProductPage, String> {
    let (next, count) = match &body {
        Value::Object(map) => (
            map.get("next").and_then(Value::as_str).map(str::to_owned),
            map.get("count").and_then(Value::as_u64),
        ),
        _ => (None, None),
    };
    let items = list_items(body, &["results", "products"])?;
    Ok(ProductPage { items, next, count })
}

/// Categories, with nested `children` flattened (a child gets its parent's id when it
/// names none).
pub fn flatten_categories(items: Vec<Value>) -> Vec<Value> {
    let mut out = Vec::with_capacity(items.len());
    let mut stack: Vec<(Value, Option<Value>)> =
        items.into_iter().rev().map(|v| (v, None)).collect();
    while let Some((mut item, parent)) = stack.pop() {
        let children = match &mut item {
            Value::Object(map) => {
                if let Some(parent) = parent
                    && !map.contains_key("parent_id")
                    && !map.contains_key("parent")
                {
                    map.insert("parent_id".to_owned(), parent);
                }
                match map.remove("children") {
                    Some(Value::Array(children)) => children,
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        let id = item.get("id").cloned();
        out.push(item);
        for child in children.into_iter().rev() {
            stack.push((child, id.clone()));
        }
    }
    out
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The first of `keys` present with a non-null value.
fn first<'a>(map: &'a Map<String, Value>, keys: &[&str]) -> Option<(&'a str, &'a Value)> {
    keys.iter().find_map(|k| {
        map.get_key_value(*k)
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.as_str(), v))
    })
}

/// An id: an integer, or a string of digits.
pub fn parse_id(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The upstream id of a record, when it has a usable one.
pub fn external_id(item: &Value) -> Option<i64> {
    item.get("id").and_then(parse_id)
}

/// A decimal in any spelling the inventory uses: `12500`, `"100000.00"`, `"12.000"`,
/// `"1.234,56"`, `"1,234.56"`, `"12,5"`, `"1 234,56"`.
pub fn parse_decimal(v: &Value) -> Result<Decimal, String> {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .map_err(|_| format!("{n} is not a usable number")),
        Value::String(s) => parse_decimal_str(s),
        other => Err(format!("{} is not a number", kind(other))),
    }
}

fn parse_decimal_str(raw: &str) -> Result<Decimal, String> {
    let s: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    let bad = || format!("{raw:?} is not a number");
    if s.is_empty() {
        return Err(bad());
    }
    let (dots, commas) = (s.matches('.').count(), s.matches(',').count());
    let normalized = match (dots, commas) {
        (_, 0) if dots > 1 => s.replace('.', ""),
        (0, _) if commas > 1 => s.replace(',', ""),
        (0, 1) => s.replace(',', "."),
        (_, 0) => s,
        _ => {
            // Both: the last one is the decimal separator.
            let (last_dot, last_comma) = (s.rfind('.'), s.rfind(','));
            if last_comma > last_dot {
                s.replace('.', "").replace(',', ".")
            } else {
                s.replace(',', "")
            }
        }
    };
    Decimal::from_str(&normalized).map_err(|_| bad())
}

fn parse_amount(field: &str, v: &Value) -> Result<Decimal, RecordError> {
    let d = parse_decimal(v).map_err(|e| err(format!("invalid {field}: {e}")))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(err(format!("invalid {field}: {d} is negative")));
    }
    let d = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    if d > MAX_AMOUNT {
        return Err(err(format!("invalid {field}: {d} is too large")));
    }
    Ok(d)
}

fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "oui" | "y" => Some(true),
            "false" | "0" | "no" | "non" | "n" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Text from a string, a number, or an object's `name` / `url`.
fn text(v: &Value, object_keys: &[&str]) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Object(map) => return first(map, object_keys).and_then(|(_, v)| text(v, &[])),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn as_object(item: &Value) -> Result<&Map<String, Value>, RecordError> {
    item.as_object()
        .ok_or_else(|| err(format!("the record is {}, not an object", kind(item))))
}

fn required_id(map: &Map<String, Value>) -> Result<i64, RecordError> {
    match map.get("id") {
        None | Some(Value::Null) => Err(err("no `id`")),
        Some(v) => parse_id(v).ok_or_else(|| err(format!("invalid `id` {v}"))),
    }
}

/// A parent reference: an id, or an object `{id}`.
fn parent_ref(v: &Value) -> Option<i64> {
    match v {
        Value::Object(map) => map.get("id").and_then(parse_id),
        other => parse_id(other),
    }
}

pub fn parse_category(item: &Value) -> Result<CategoryRecord, RecordError> {
    let map = as_object(item)?;
    let external_id = required_id(map)?;
    let name = first(map, &["name"])
        .and_then(|(_, v)| text(v, &[]))
        .ok_or_else(|| err("no `name`"))?;
    let parent_external_id = match first(map, &["parent_id", "parent"]) {
        None => None,
        Some((key, v)) => Some(parent_ref(v).ok_or_else(|| err(format!("invalid `{key}` {v}")))?),
    };
    let position = match first(map, &["order", "position"]) {
        None => 0,
        Some((_, v)) => parse_id(v)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| err(format!("invalid `order` {v}")))?,
    };
    Ok(CategoryRecord {
        external_id,
        name: truncate(&name, 255),
        description: first(map, &["description"])
            .and_then(|(_, v)| text(v, &[]))
            .unwrap_or_default(),
        parent_external_id,
        position,
        rayon_type: first(map, &["rayon_type"])
            .and_then(|(_, v)| text(v, &[]))
            .map(|s| truncate(&s, 64)),
        image_url: first(map, &["image_url", "image"]).and_then(|(_, v)| text(v, &["url"])),
    })
}

fn category_ref(map: &Map<String, Value>) -> Result<Option<CategoryRef>, RecordError> {
    match first(map, &["category", "category_id"]) {
        None => Ok(None),
        Some((_, Value::Object(cat))) => {
            let id = required_id(cat).map_err(|e| err(format!("category: {e}")))?;
            let name = first(cat, &["name"]).and_then(|(_, v)| text(v, &[]));
            Ok(Some(CategoryRef::Object { id, name }))
        }
        Some((key, v)) => parse_id(v)
            .map(|id| Some(CategoryRef::Id(id)))
            .ok_or_else(|| err(format!("invalid `{key}` {v}"))),
    }
}

fn image_urls(map: &Map<String, Value>) -> Vec<String> {
    let mut urls: Vec<String> = match first(map, &["images", "image_urls", "gallery"]) {
        Some((_, Value::Array(list))) => list
            .iter()
            .filter_map(|v| text(v, &["url", "image", "image_url"]))
            .collect(),
        _ => Vec::new(),
    };
    if urls.is_empty()
        && let Some((_, v)) = first(map, &["image_url", "image", "main_image", "photo"])
        && let Some(url) = text(v, &["url", "image"])
    {
        urls.push(url);
    }
    urls.dedup();
    urls
}

fn stock(map: &Map<String, Value>) -> Result<i32, RecordError> {
    let Some((key, v)) = first(map, &["quantity", "stock", "available_quantity"]) else {
        return Ok(0);
    };
    let d = parse_decimal(v).map_err(|e| err(format!("invalid `{key}`: {e}")))?;
    let units = d.trunc().max(Decimal::ZERO);
    Ok(i32::try_from(units).unwrap_or(i32::MAX))
}

pub fn parse_product(item: &Value) -> Result<ProductRecord, RecordError> {
    let map = as_object(item)?;
    let external_id = required_id(map)?;
    let title = first(map, &["name", "title"])
        .and_then(|(_, v)| text(v, &[]))
        .ok_or_else(|| err("no name (`name` or `title`)"))?;
    let price = match first(map, &["selling_price", "price", "unit_price"]) {
        Some((key, v)) => parse_amount(key, v)?,
        None => return Err(err("no price (`selling_price`, `price` or `unit_price`)")),
    };
    let discount_price = match first(map, &["discount_price", "promotional_price", "sale_price"]) {
        Some((key, v)) => Some(parse_amount(key, v)?),
        None => None,
    };
    let is_available = match first(
        map,
        &["is_available_b2c", "is_available", "is_active", "available"],
    ) {
        Some((key, v)) => parse_bool(v).ok_or_else(|| err(format!("invalid `{key}` {v}")))?,
        None => true,
    };
    Ok(ProductRecord {
        external_id,
        title: truncate(&title, MAX_TITLE_CHARS),
        description: first(map, &["description", "description_text"])
            .and_then(|(_, v)| text(v, &[]))
            .unwrap_or_default(),
        price,
        discount_price,
        stock: stock(map)?,
        sku: first(map, &["cug", "sku", "code"])
            .and_then(|(_, v)| text(v, &[]))
            .map(|s| truncate(&s, 255)),
        category: category_ref(map)?,
        is_available,
        brand: first(map, &["brand", "manufacturer", "brand_name"])
            .and_then(|(_, v)| text(v, &["name"]))
            .map(|s| truncate(&s, 255)),
        image_urls: image_urls(map),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_decimal(input: Value, expected: Option<&str>) {
        let got = parse_decimal(&input).ok().map(|d| d.to_string());
        assert_eq!(got.as_deref(), expected, "input {input}");
    }

    #[test]
    fn numbers_in_every_spelling() {
        check_decimal(json!(12500), Some("12500"));
        check_decimal(json!(12.5), Some("12.5"));
        check_decimal(json!("100000.00"), Some("100000.00"));
        check_decimal(json!("12.000"), Some("12.000"));
        check_decimal(json!("1.234,56"), Some("1234.56"));
        check_decimal(json!("1,234.56"), Some("1234.56"));
        check_decimal(json!("12,5"), Some("12.5"));
        check_decimal(json!("1 234,56"), Some("1234.56"));
        check_decimal(json!("1.234.567"), Some("1234567"));
        check_decimal(json!("-3.5"), Some("-3.5"));
        check_decimal(json!("abc"), None);
        check_decimal(json!(""), None);
        check_decimal(json!(null), None);
        check_decimal(json!([1]), None);
    }

    fn check_product(input: Value, expected: Result<ProductRecord, &str>) {
        let got = parse_product(&input).map_err(|e| e.0);
        match expected {
            Ok(p) => assert_eq!(got, Ok(p), "input {input}"),
            Err(fragment) => {
                let e = got.expect_err("an error");
                assert!(
                    e.contains(fragment),
                    "input {input}: {e:?} lacks {fragment:?}"
                );
            }
        }
    }

    fn product(id: i64, title: &str, price: &str) -> ProductRecord {
        ProductRecord {
            external_id: id,
            title: title.to_owned(),
            description: String::new(),
            price: Decimal::from_str(price).expect("decimal"),
            discount_price: None,
            stock: 0,
            sku: None,
            category: None,
            is_available: true,
            brand: None,
            image_urls: Vec::new(),
        }
    }

    #[test]
    fn products_with_aliases() {
        check_product(
            json!({"id": 1, "name": "Riz", "selling_price": "12500.00"}),
            Ok(product(1, "Riz", "12500.00")),
        );
        check_product(
            json!({"id": "2", "title": "Huile", "price": "1.234,56", "stock": -4, "sku": 77,
                   "category_id": 9, "is_active": "false", "brand": {"id": 3, "name": "Dinor"},
                   "discount_price": 1000, "description_text": "1 L", "image": {"url": "http://i/1.jpg"}}),
            Ok(ProductRecord {
                stock: 0,
                sku: Some("77".into()),
                category: Some(CategoryRef::Id(9)),
                is_available: false,
                brand: Some("Dinor".into()),
                discount_price: Some(Decimal::from(1000)),
                description: "1 L".into(),
                image_urls: vec!["http://i/1.jpg".into()],
                ..product(2, "Huile", "1234.56")
            }),
        );
        check_product(
            json!({"id": 3, "name": "Sucre", "unit_price": 500, "quantity": "12.750", "cug": "SUC-1",
                   "category": {"id": 4, "name": "Épicerie"}, "is_available_b2c": true, "is_active": false,
                   "images": ["a.jpg", {"url": "b.jpg"}]}),
            Ok(ProductRecord {
                stock: 12,
                sku: Some("SUC-1".into()),
                category: Some(CategoryRef::Object {
                    id: 4,
                    name: Some("Épicerie".into()),
                }),
                image_urls: vec!["a.jpg".into(), "b.jpg".into()],
                ..product(3, "Sucre", "500")
            }),
        );
    }

    #[test]
    fn bad_products_say_what_is_wrong() {
        check_product(json!({"name": "x", "price": 1}), Err("no `id`"));
        check_product(
            json!({"id": "12a", "name": "x", "price": 1}),
            Err("invalid `id`"),
        );
        check_product(json!({"id": 1, "price": 1}), Err("no name"));
        check_product(json!({"id": 1, "name": "x"}), Err("no price"));
        check_product(
            json!({"id": 1, "name": "x", "price": "gratuit"}),
            Err("invalid price"),
        );
        check_product(json!({"id": 1, "name": "x", "price": -5}), Err("negative"));
        check_product(
            json!({"id": 1, "name": "x", "price": "1e30"}),
            Err("invalid price"),
        );
        check_product(
            json!({"id": 1, "name": "x", "price": 1, "quantity": "beaucoup"}),
            Err("invalid `quantity`"),
        );
        check_product(json!([1, 2]), Err("not an object"));
    }

    #[test]
    fn categories_with_parents_in_every_shape() {
        let cat = |v: Value| {
            parse_category(&v)
                .map(|c| c.parent_external_id)
                .map_err(|e| e.0)
        };
        assert_eq!(cat(json!({"id": 1, "name": "A"})), Ok(None));
        assert_eq!(
            cat(json!({"id": 2, "name": "B", "parent_id": 1})),
            Ok(Some(1))
        );
        assert_eq!(cat(json!({"id": 3, "name": "C", "parent": 1})), Ok(Some(1)));
        assert_eq!(
            cat(json!({"id": 4, "name": "D", "parent": {"id": 2}})),
            Ok(Some(2))
        );
        assert_eq!(cat(json!({"id": 5, "name": "E", "parent": null})), Ok(None));
        assert!(cat(json!({"id": 6})).is_err());
        let full = parse_category(
            &json!({"id": 7, "name": " Fruits ", "order": "3", "rayon_type": "frais",
                                          "image": {"url": "u"}, "description": "d"}),
        )
        .expect("parses");
        assert_eq!(
            (full.name.as_str(), full.position, full.image_url.as_deref()),
            ("Fruits", 3, Some("u"))
        );
    }

    #[test]
    fn listings_in_every_shape() {
        assert_eq!(
            list_items(json!([1, 2]), &["results"]),
            Ok(vec![json!(1), json!(2)])
        );
        assert_eq!(
            list_items(json!({"results": [1]}), &["results", "categories"]),
            Ok(vec![json!(1)])
        );
        assert_eq!(
            list_items(json!({"categories": [1]}), &["results", "categories"]),
            Ok(vec![json!(1)])
        );
        assert!(list_items(json!({"detail": "x"}), &["results"]).is_err());
        assert!(list_items(json!("x"), &["results"]).is_err());
        let page = product_page(json!({"count": 3, "next": "http://h/p?page=2", "products": [1]}))
            .expect("page");
        assert_eq!(
            (page.count, page.next.as_deref(), page.items.len()),
            (Some(3), Some("http://h/p?page=2"), 1)
        );
    }

    #[test]
    fn nested_children_are_flattened_with_their_parent() {
        let flat = flatten_categories(vec![json!({"id": 1, "name": "A", "children": [
            {"id": 2, "name": "B", "children": [{"id": 3, "name": "C"}]}]})]);
        let parents: Vec<Option<i64>> = flat
            .iter()
            .map(|c| parse_category(c).expect("parses").parent_external_id)
            .collect();
        assert_eq!(parents, [None, Some(1), Some(2)]);
    }
}
