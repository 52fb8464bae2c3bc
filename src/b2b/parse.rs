//! The B2B inventory's JSON, read into clean records: field aliases, numbers in their
//! many spellings, the list shapes. Pure functions; only this module knows the JSON.
//! A product is read by [`parse_product`] (the reference, over a [`Value`]) or by the
//! typed reading of [`fast`]; the keys of its fields are one table both use.

use std::str::FromStr;

use crate::text::json_kind as kind;
use bytes::Bytes;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

mod fast;

use fast::ProductDto;

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
    /// What was changed to store the record (a value clamped, a text cut, NUL
    /// characters removed): recorded as warnings.
    pub warnings: Vec<String>,
}

/// One item of a listing as it came in: the bytes of one JSON value (valid UTF-8),
/// shared with the page's body, never copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawItem(Bytes);

impl RawItem {
    /// An item held as a [`Value`] (the pages read through the slow path), serialized.
    pub fn from_value(item: &Value) -> RawItem {
        RawItem(Bytes::from(item.to_string()))
    }

    /// The item's JSON bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The item's JSON text ("null" if the bytes were not UTF-8, which construction
    /// rules out).
    pub fn json(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("null")
    }

    /// The item as a [`Value`] (for messages and stored payloads: the rare path);
    /// `None` for bytes serde_json refuses (a number out of range).
    pub fn to_value(&self) -> Option<Value> {
        serde_json::from_slice(&self.0).ok()
    }
}

/// One page of the products listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductPage {
    pub items: Vec<RawItem>,
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
/// (then the only page). A page the listing cannot trust is an error, never a short
/// listing: a `next` that is not a link, a `count` that is not a number, an item that
/// is not an object.
pub fn product_page(body: Value) -> Result<ProductPage, String> {
    let (next, count) = match &body {
        Value::Object(map) => (page_next(map.get("next"))?, page_count(map.get("count"))?),
        _ => (None, None),
    };
    let items = list_items(body, &["results", "products"])?;
    if let Some((i, item)) = items.iter().enumerate().find(|(_, v)| !v.is_object()) {
        return Err(format!(
            "item {} of the page is {}, not a product object",
            i + 1,
            kind(item)
        ));
    }
    let items = items.iter().map(RawItem::from_value).collect();
    Ok(ProductPage { items, next, count })
}

/// `next`: a link, or null / absent on the last page.
fn page_next(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "`next` is {} ({other}), not a link or null",
            kind(other)
        )),
    }
}

/// `count`: a whole number (or its digits), or null / absent.
fn page_count(v: Option<&Value>) -> Result<Option<u64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
        Some(Value::String(s)) if s.trim().parse::<u64>().is_ok() => Ok(s.trim().parse().ok()),
        Some(other) => Err(format!("`count` is {other}, not a number of products")),
    }
}

/// The keys of a products page, each kept as raw JSON.
#[derive(Deserialize)]
struct PageDto<'a> {
    #[serde(borrow)]
    count: Option<&'a RawValue>,
    #[serde(borrow)]
    next: Option<&'a RawValue>,
    #[serde(borrow)]
    results: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    products: Option<Vec<&'a RawValue>>,
}

/// A page of products read straight from the body, its items left as raw JSON slices
/// of `body` (no copy, no [`Value`]), the body scanned once. `None` when this fast
/// reading cannot decide (not JSON, duplicate keys, a list key holding something else,
/// another top-level shape): then decode the body as a [`Value`] and use
/// [`product_page`], which says precisely what is wrong.
pub fn product_page_bytes(body: &Bytes) -> Option<Result<ProductPage, String>> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    let (list, next, count) = match first {
        b'[' => (
            serde_json::from_slice::<Vec<&RawValue>>(body).ok()?,
            None,
            None,
        ),
        b'{' => {
            let page: PageDto = serde_json::from_slice(body).ok()?;
            let Some(items) = page.results.or(page.products) else {
                return Some(Err("an object without `results` or `products`".to_owned()));
            };
            // Anything but a link (or null) and a whole number (or null) goes to the
            // reference reading, which says what is wrong.
            let next = match page.next.map(RawValue::get) {
                None | Some("null") => None,
                Some(raw) => {
                    Some(serde_json::from_str::<String>(raw).ok()?).filter(|s| !s.trim().is_empty())
                }
            };
            let count = match page.count.map(RawValue::get) {
                None | Some("null") => None,
                Some(raw) => Some(serde_json::from_str::<u64>(raw).ok()?),
            };
            (items, next, count)
        }
        _ => return None,
    };
    if list.iter().any(|raw| !raw.get().starts_with('{')) {
        return None;
    }
    let items = list.iter().map(|raw| slice_of(body, raw.get())).collect();
    Some(Ok(ProductPage { items, next, count }))
}

/// `part` (borrowed from `body`) as a slice sharing `body`'s buffer; a copy if it is not
/// inside `body` after all.
fn slice_of(body: &Bytes, part: &str) -> RawItem {
    let start = (part.as_ptr() as usize).checked_sub(body.as_ptr() as usize);
    match start {
        Some(start)
            if body
                .get(start..start + part.len())
                .is_some_and(|s| s.as_ptr() == part.as_ptr()) =>
        {
            RawItem(body.slice(start..start + part.len()))
        }
        _ => RawItem(Bytes::copy_from_slice(part.as_bytes())),
    }
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

/// Characters that only ever group digits by thousands.
fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'')
}

fn parse_decimal_str(raw: &str) -> Result<Decimal, String> {
    let s = raw.trim();
    let bad = || format!("{raw:?} is not a number");
    let (dots, commas) = (s.matches('.').count(), s.matches(',').count());
    // Which of `.` and `,` separates the decimals, if any; the other groups thousands.
    let decimal = match (dots, commas) {
        (0, 0) => None,
        (1, 0) => Some('.'),
        (0, 1) => Some(','),
        (_, 0) | (0, _) => None,
        _ => {
            // Both: the last one is the decimal separator.
            if s.rfind(',') > s.rfind('.') {
                Some(',')
            } else {
                Some('.')
            }
        }
    };
    let (int, frac) = match decimal.and_then(|d| s.rsplit_once(d)) {
        Some((int, frac)) => (int, Some(frac)),
        None => (s, None),
    };
    let (sign, int) = match int.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", int.strip_prefix('+').unwrap_or(int)),
    };
    // Digit groups: one group, or thousands (1 to 3 digits, then groups of exactly 3).
    let groups: Vec<&str> = int
        .split(|c: char| is_group_space(c) || c == '.' || c == ',')
        .collect();
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    if !groups.iter().all(|g| digits(g)) || !frac.is_none_or(digits) {
        return Err(bad());
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return Err(format!(
            "{raw:?} is ambiguous: its digit groups are not thousands"
        ));
    }
    let mut normalized = String::with_capacity(s.len());
    normalized.push_str(sign);
    groups.iter().for_each(|g| normalized.push_str(g));
    if let Some(frac) = frac {
        normalized.push('.');
        normalized.push_str(frac);
    }
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
        Value::String(s) => parse_bool_str(s),
        _ => None,
    }
}

fn parse_bool_str(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "oui" | "y" => Some(true),
        "false" | "0" | "no" | "non" | "n" | "" => Some(false),
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

// The keys each product field may come under, in order: the first present with a
// non-null value is read. Both readings take their keys from here.
const NAME: &[&str] = &["name", "title"];
const DESCRIPTION: &[&str] = &["description", "description_text"];
const PRICE: &[&str] = &["selling_price", "price", "unit_price"];
const DISCOUNT: &[&str] = &["discount_price", "promotional_price", "sale_price"];
const STOCK: &[&str] = &["quantity", "stock", "available_quantity"];
const SKU: &[&str] = &["cug", "sku", "code"];
/// An object `{id, name}`, or an id.
const CATEGORY: &[&str] = &["category", "category_id"];
const AVAILABLE: &[&str] = &["is_available_b2c", "is_available", "is_active", "available"];
/// A name, or an object `{name}`.
const BRAND: &[&str] = &["brand", "manufacturer", "brand_name"];
/// A list of links or objects `{url | image | image_url}`.
const IMAGES: &[&str] = &["images", "image_urls", "gallery"];
/// One link or object `{url | image}`, read when `IMAGES` gives none.
const IMAGE: &[&str] = &["image_url", "image", "main_image", "photo"];

/// `keys` as a message names them: "`a`, `b` or `c`".
fn either(keys: &[&str]) -> String {
    let mut out = String::new();
    for (i, key) in keys.iter().enumerate() {
        out.push_str(match i {
            0 => "",
            i if i + 1 == keys.len() => " or ",
            _ => ", ",
        });
        out.push('`');
        out.push_str(key);
        out.push('`');
    }
    out
}

fn category_ref(map: &Map<String, Value>) -> Result<Option<CategoryRef>, RecordError> {
    match first(map, CATEGORY) {
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
    let mut urls: Vec<String> = match first(map, IMAGES) {
        Some((_, Value::Array(list))) => list
            .iter()
            .filter_map(|v| text(v, &["url", "image", "image_url"]))
            .collect(),
        _ => Vec::new(),
    };
    if urls.is_empty()
        && let Some((_, v)) = first(map, IMAGE)
        && let Some(url) = text(v, &["url", "image"])
    {
        urls.push(url);
    }
    urls.dedup();
    urls
}

fn stock(map: &Map<String, Value>, warnings: &mut Vec<String>) -> Result<i32, RecordError> {
    let Some((key, v)) = first(map, STOCK) else {
        return Ok(0);
    };
    let d = parse_decimal(v).map_err(|e| err(format!("invalid `{key}`: {e}")))?;
    // A negative stock (a backorder) is 0 units on hand: the documented rule, no warning.
    let units = d.trunc().max(Decimal::ZERO);
    Ok(i32::try_from(units).unwrap_or_else(|_| {
        warnings.push(format!("`{key}` {d} is too large: stored as {}", i32::MAX));
        i32::MAX
    }))
}

/// `s` without NUL characters (PostgreSQL refuses them in text; every backend gets
/// the same rows), with a warning naming `field` when there were any.
fn without_nul(mut s: String, field: &str, warnings: &mut Vec<String>) -> String {
    if crate::text::strip_nul_str(&mut s) {
        warnings.push(format!("NUL characters removed from `{field}`"));
    }
    s
}

/// `s` cut to `max` characters, with a warning naming `field` when it was longer.
fn cut(s: String, field: &str, max: usize, warnings: &mut Vec<String>) -> String {
    let n = s.chars().count();
    if n <= max {
        return s;
    }
    warnings.push(format!("`{field}` cut to {max} characters (it had {n})"));
    truncate(&s, max)
}

/// Longest SKU the `products` table takes: a longer one cannot be cut (two SKUs would
/// become one).
const MAX_SKU_CHARS: usize = 255;

pub fn parse_product(item: &Value) -> Result<ProductRecord, RecordError> {
    let map = as_object(item)?;
    let external_id = required_id(map)?;
    let mut warnings = Vec::new();
    let title = first(map, NAME)
        .and_then(|(_, v)| text(v, &[]))
        .ok_or_else(|| err(format!("no name ({})", either(NAME))))?;
    let price = match first(map, PRICE) {
        Some((key, v)) => parse_amount(key, v)?,
        None => return Err(err(format!("no price ({})", either(PRICE)))),
    };
    let discount_price = match first(map, DISCOUNT) {
        Some((key, v)) => Some(parse_amount(key, v)?),
        None => None,
    };
    let is_available = match first(map, AVAILABLE) {
        Some((key, v)) => parse_bool(v).ok_or_else(|| err(format!("invalid `{key}` {v}")))?,
        None => true,
    };
    let sku = match first(map, SKU).and_then(|(_, v)| text(v, &[])) {
        Some(sku) if sku.chars().count() > MAX_SKU_CHARS => {
            return Err(err(format!(
                "the SKU is longer than {MAX_SKU_CHARS} characters"
            )));
        }
        other => other,
    };
    let stock = stock(map, &mut warnings)?;
    let title = without_nul(title, "name", &mut warnings);
    let mut record = ProductRecord {
        external_id,
        title: cut(title, "name", MAX_TITLE_CHARS, &mut warnings),
        description: first(map, DESCRIPTION)
            .and_then(|(_, v)| text(v, &[]))
            .map(|d| without_nul(d, "description", &mut warnings))
            .unwrap_or_default(),
        price,
        discount_price,
        stock,
        sku: sku.map(|s| without_nul(s, "sku", &mut warnings)),
        category: category_ref(map)?,
        is_available,
        brand: first(map, BRAND)
            .and_then(|(_, v)| text(v, &["name"]))
            .map(|b| without_nul(b, "brand", &mut warnings))
            .map(|b| cut(b, "brand", 255, &mut warnings)),
        image_urls: image_urls(map),
        warnings: Vec::new(),
    };
    let stripped = record
        .image_urls
        .iter_mut()
        .fold(false, |any, url| crate::text::strip_nul_str(url) | any);
    if stripped {
        warnings.push("NUL characters removed from the image links".to_owned());
    }
    if let Some(CategoryRef::Object {
        name: Some(name), ..
    }) = &mut record.category
        && crate::text::strip_nul_str(name)
    {
        warnings.push("NUL characters removed from the category name".to_owned());
    }
    record.warnings = warnings;
    Ok(record)
}

/// What one raw product item reads as: its id (when usable, even if the rest is not)
/// and the record or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadProduct {
    pub external_id: Option<i64>,
    pub record: Result<ProductRecord, RecordError>,
}

/// Reads one product item from its JSON text. The common shapes go through a typed,
/// borrowing DTO ([`fast`], objects only, keys from the same tables); anything it does
/// not take as a valid product (an error, an alias given twice, an unusual type) is read
/// again through [`parse_product`], which is the reference: same records, same messages.
pub fn read_product(json: &str) -> ReadProduct {
    if let Ok(dto) = serde_json::from_str::<ProductDto>(json)
        && let Some(record) = dto.into_record()
    {
        return ReadProduct {
            external_id: Some(record.external_id),
            record: Ok(record),
        };
    }
    match serde_json::from_str::<Value>(json) {
        Ok(item) => ReadProduct {
            external_id: external_id(&item),
            record: parse_product(&item),
        },
        Err(e) => ReadProduct {
            external_id: None,
            record: Err(err(format!("the record is not JSON: {e}"))),
        },
    }
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
        check_decimal(json!("12 500"), Some("12500"));
        check_decimal(json!("+7"), Some("7"));
        check_decimal(json!("1.2.3"), None);
        check_decimal(json!("1,2,3"), None);
        check_decimal(json!("12.34.567"), None);
        check_decimal(json!("1 23,5"), None);
        check_decimal(json!("1,23.45"), None);
        check_decimal(json!("1.5e3"), None);
        check_decimal(json!("12."), None);
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
            warnings: Vec::new(),
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
    fn values_changed_to_be_stored_are_warnings() {
        let warnings = |v: Value| parse_product(&v).expect("a record").warnings;
        assert_eq!(
            warnings(json!({"id": 1, "name": "x", "price": 1, "stock": 2147483648_i64})),
            ["`stock` 2147483648 is too large: stored as 2147483647"]
        );
        assert!(warnings(json!({"id": 1, "name": "x", "price": 1, "quantity": "-2"})).is_empty());
        assert!(
            warnings(json!({"id": 1, "name": "x", "price": 1, "stock": 2147483647})).is_empty()
        );
        let long = "é".repeat(MAX_TITLE_CHARS + 1);
        assert_eq!(
            warnings(json!({"id": 1, "name": long, "price": 1})),
            ["`name` cut to 500 characters (it had 501)"]
        );
        let r = parse_product(&json!({"id": 1, "name": "Ri\0z", "description": "a\0",
                                       "sku": "S\0", "price": 1}))
        .expect("a record");
        assert_eq!(
            (r.title.as_str(), r.description.as_str(), r.sku.as_deref()),
            ("Riz", "a", Some("S"))
        );
        assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
    }

    #[test]
    fn bad_products_say_what_is_wrong() {
        check_product(
            json!({"id": 1, "name": "x", "price": "1.2.3"}),
            Err("ambiguous"),
        );
        check_product(
            json!({"id": 1, "name": "x", "price": 1, "sku": "S".repeat(256)}),
            Err("SKU is longer than 255"),
        );
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
        let page = product_page(json!({"count": 3, "next": "http://h/p?page=2", "products": [{}]}))
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

    /// The fast reading where it takes the item, `None` where it hands it over.
    fn fast(v: &Value) -> Option<ProductRecord> {
        serde_json::from_str::<ProductDto>(&v.to_string())
            .ok()
            .and_then(ProductDto::into_record)
    }

    /// `read_product` gives what `parse_product` gives, id included.
    fn same_as_reference(v: &Value) {
        let got = read_product(&v.to_string());
        assert_eq!(got.record, parse_product(v), "input {v}");
        assert_eq!(got.external_id, external_id(v), "input {v}");
    }

    #[test]
    fn the_typed_reading_takes_the_common_shapes() {
        let items = [
            json!({"id": 1, "name": "Riz", "selling_price": "12500.00"}),
            json!({"id": "2", "title": "Huile", "price": "1.234,56", "stock": 4, "sku": 77,
                   "category_id": 9, "is_active": "false", "brand": {"id": 3, "name": "Dinor"},
                   "discount_price": 1000, "description_text": "1 L", "image": {"url": "http://i/1.jpg"}}),
            json!({"id": 3, "name": "Sucre", "unit_price": 500, "quantity": "12.750", "cug": "SUC-1",
                   "category": {"id": 4, "name": "Épicerie"}, "is_available_b2c": true,
                   "images": ["a.jpg", {"url": "b.jpg"}, null, {"image_url": "c.jpg"}, "a.jpg"]}),
            json!({"id": 4, "name": " Mil ", "price": 12.5, "quantity": 3.9, "is_available": 0,
                   "brand": "Saga", "photo": "p.jpg", "category": {"id": "5"}, "code": " X "}),
            json!({"id": 5, "name": "Lait", "price": "1 234,56", "quantity": "12.000",
                   "available": "oui", "manufacturer": {"name": null}, "gallery": [],
                   "main_image": {"image": "m.jpg", "image_url": "ignored.jpg"}}),
            json!({"id": 6, "name": "Thé \"vert\"\n", "price": "100000.00", "title_extra": 1,
                   "discount_price": null, "sale_price": "5", "category": null, "category_id": 8}),
            json!({"id": 18446744073709551615u64, "name": "x", "price": 1}),
            json!({"id": 7, "name": 42, "price": 18446744073709551615u64, "quantity": 1e3}),
            json!({"id": 8, "name": "n", "price": "0", "brand": true, "images": [true, 1]}),
        ];
        let mut fast_count = 0;
        for v in &items {
            same_as_reference(v);
            if let Some(r) = fast(v) {
                assert_eq!(Ok(r), parse_product(v), "input {v}");
                fast_count += 1;
            }
        }
        // The first five are plain shapes: the typed reading, not the fallback.
        for v in &items[..5] {
            assert!(fast(v).is_some(), "fast path refused {v}");
        }
        assert!(fast_count >= 5);
        let sandbox = crate::sandbox::data::Catalog::new(9, 30, 500);
        for i in 0..500 {
            let v = sandbox.product_at(None, i).expect("a product");
            same_as_reference(&v);
            assert!(fast(&v).is_some(), "fast path refused {v}");
        }
    }

    #[test]
    fn what_the_typed_reading_refuses_gets_the_reference_message() {
        let items = [
            json!({"name": "x", "price": 1}),
            json!({"id": "12a", "name": "x", "price": 1}),
            json!({"id": 1, "price": 1}),
            json!({"id": 1, "name": "x"}),
            json!({"id": 1, "name": "x", "price": "gratuit"}),
            json!({"id": 1, "name": "x", "price": -5}),
            json!({"id": 1, "name": "x", "price": "1e30"}),
            json!({"id": 1, "name": "x", "price": 1, "quantity": "beaucoup"}),
            json!({"id": 1, "name": "x", "price": 1, "is_available": "peut-être"}),
            json!({"id": 1, "name": "x", "price": 1, "category": {"name": "c"}}),
            json!({"id": 1, "name": "x", "price": 1, "category_id": [1]}),
            json!({"id": 1.5, "name": "x", "price": 1}),
            json!({"id": 1, "name": {"fr": "x"}, "price": 1}),
            json!({"id": 1, "name": null, "title": "t", "price": 1}),
            json!({"id": 1, "name": "n", "title": "t", "price": 1, "selling_price": 2}),
            json!({"id": 1, "name": "n", "price": 1, "images": "a.jpg", "image": "b.jpg"}),
            json!({"id": 1, "name": "n", "price": 1, "brand": ["x"]}),
            json!([1, "Riz", null, "100"]),
            json!("x"),
            json!(null),
        ];
        for v in &items {
            same_as_reference(v);
        }
        assert_eq!(
            read_product("[1, \"Riz\", null, \"100\"]").record,
            Err(err("the record is a list, not an object"))
        );
        let broken = read_product("{\"id\": 1, \"price\": 1e999}");
        assert!(broken.record.is_err(), "{broken:?}");
    }

    fn page_bytes(body: &str) -> Option<Result<ProductPage, String>> {
        product_page_bytes(&Bytes::copy_from_slice(body.as_bytes()))
    }

    #[test]
    fn pages_read_from_bytes_keep_each_item_as_sent() {
        let body = r#"{"count": 3, "next": "http://h/p?page=2", "previous": null,
                       "results": [ {"id": 1, "name": "A",  "price": 1}, {} ,{"id":2}]}"#;
        let page = page_bytes(body).expect("decided").expect("a page");
        assert_eq!(
            (page.count, page.next.as_deref()),
            (Some(3), Some("http://h/p?page=2"))
        );
        let items: Vec<&str> = page.items.iter().map(RawItem::json).collect();
        assert_eq!(
            items,
            [
                r#"{"id": 1, "name": "A",  "price": 1}"#,
                "{}",
                r#"{"id":2}"#
            ]
        );
        let bare = page_bytes(r#" [{"id": 1}, {"id": 2}] "#)
            .expect("decided")
            .expect("a page");
        assert_eq!((bare.items.len(), bare.next, bare.count), (2, None, None));
        let products = page_bytes(r#"{"results": null, "products": [{}], "next": null}"#)
            .expect("decided")
            .expect("a page");
        assert_eq!(
            (products.items.len(), products.next, products.count),
            (1, None, None)
        );
    }

    #[test]
    fn a_page_the_listing_cannot_trust_is_an_error_not_an_end() {
        let reference = |body: &str| {
            let got = page_bytes(body)
                .unwrap_or_else(|| product_page(serde_json::from_str(body).expect("json")));
            got.expect_err(body)
        };
        for (body, says) in [
            (r#"[1, 2, 3]"#, "item 1 of the page is a number"),
            (
                r#"{"count": 3, "results": [{"id": 1}, 7]}"#,
                "item 2 of the page is a number",
            ),
            (
                r#"{"results": [{"id": 1}], "next": 2}"#,
                "`next` is a number (2), not a link",
            ),
            (
                r#"{"results": [], "next": {"page": 2}}"#,
                "`next` is an object",
            ),
            (r#"{"results": [], "count": -1}"#, "`count` is -1"),
            (r#"{"results": [], "count": "many"}"#, "`count` is \"many\""),
        ] {
            let e = reference(body);
            assert!(e.contains(says), "{body}: {e}");
        }
        let page =
            product_page(json!({"results": [], "count": "250", "next": ""})).expect("a page");
        assert_eq!((page.count, page.next), (Some(250), None));
    }

    #[test]
    fn pages_decided_either_way_agree() {
        // Shapes and errors as `product_page` says them, decided here or (as the client
        // does) by decoding the body when the fast reading cannot tell.
        for body in [
            r#"{"detail": "x"}"#,
            r#"{"results": "x"}"#,
            r#"{"results": {"a": 1}}"#,
            r#"{"products": 3}"#,
            r#"{"results": null, "products": "x"}"#,
            r#"{"results": "x", "products": [1]}"#,
            r#"{"products": [1, 2], "count": "3"}"#,
        ] {
            let reference = || product_page(serde_json::from_str(body).expect("json"));
            let got = page_bytes(body).unwrap_or_else(reference);
            assert_eq!(
                got.map(|p| (p.items.len(), p.count)),
                reference().map(|p| (p.items.len(), p.count)),
                "{body}"
            );
        }
        assert_eq!(
            page_bytes(r#"{"detail": "x"}"#),
            Some(Err("an object without `results` or `products`".to_owned()))
        );
        // Not decided here: the caller decodes the body and reports.
        for body in [
            "\"x\"",
            "<html>",
            "{\"results\": [1,",
            "{\"results\": [], \"results\": [1]}",
            "",
        ] {
            assert!(page_bytes(body).is_none(), "{body}");
        }
    }

    #[test]
    fn missing_fields_are_named_with_their_keys() {
        assert_eq!(either(NAME), "`name` or `title`");
        assert_eq!(either(PRICE), "`selling_price`, `price` or `unit_price`");
        assert_eq!(either(&["id"]), "`id`");
        check_product(
            json!({"id": 1, "price": 1}),
            Err("no name (`name` or `title`)"),
        );
        check_product(
            json!({"id": 1, "name": "x"}),
            Err("no price (`selling_price`, `price` or `unit_price`)"),
        );
    }
}
