//! The fast reading of a product item: a typed deserializer that borrows from the page,
//! its keys taken from the tables [`parse_product`](super::parse_product) reads. It never
//! decides differently: what it cannot take as a valid product is left to the reference.

use std::borrow::Cow;
use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::{Number, Value};

use super::{
    AVAILABLE, BRAND, CATEGORY, CategoryRef, DESCRIPTION, DISCOUNT, IMAGE, IMAGES, MAX_AMOUNT,
    MAX_SKU_CHARS, MAX_TITLE_CHARS, NAME, PRICE, ProductRecord, SKU, STOCK, parse_bool_str,
    parse_decimal, parse_decimal_str,
};

/// A field of [`ProductDto`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Name,
    Description,
    Price,
    Discount,
    Stock,
    Sku,
    Category,
    Available,
    Brand,
    Images,
    Image,
}

/// The keys of each field: the reference path's tables, so the two readings cannot
/// disagree on which keys a product has. No key is in two of them (a test says so);
/// the order is only that of the lookup, the common fields first.
const FIELDS: [(Field, &[&str]); 12] = [
    (Field::Id, &["id"]),
    (Field::Name, NAME),
    (Field::Price, PRICE),
    (Field::Stock, STOCK),
    (Field::Category, CATEGORY),
    (Field::Sku, SKU),
    (Field::Available, AVAILABLE),
    (Field::Brand, BRAND),
    (Field::Images, IMAGES),
    (Field::Image, IMAGE),
    (Field::Discount, DISCOUNT),
    (Field::Description, DESCRIPTION),
];

// `ProductVisitor` keeps the fields it has seen as bits of a `u16`.
const _: () = assert!(FIELDS.len() <= 16);

/// The field `key` fills, if any.
fn field_of(key: &str) -> Option<Field> {
    FIELDS
        .iter()
        .find(|(_, keys)| keys.contains(&key))
        .map(|(field, _)| *field)
}

/// An object key, read as the field it fills (`None`: a key no table holds, skipped).
/// Borrowed from the page, or unescaped into serde_json's buffer: never allocated.
struct Key(Option<Field>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(Key(field_of(key)))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A product item with the keys of [`FIELDS`]. A field present twice (one key twice,
/// or two of its keys, even once as null) is a deserialization error: the item then
/// takes the reference path, which applies "the first non-null key wins".
#[derive(Debug, Default)]
pub(super) struct ProductDto<'a> {
    id: Option<Scalar<'a>>,
    name: Option<Scalar<'a>>,
    description: Option<Scalar<'a>>,
    price: Option<Scalar<'a>>,
    discount: Option<Scalar<'a>>,
    stock: Option<Scalar<'a>>,
    sku: Option<Scalar<'a>>,
    category: Option<ScalarOr<'a, CategoryDto<'a>>>,
    available: Option<Scalar<'a>>,
    brand: Option<ScalarOr<'a, NameDto<'a>>>,
    images: Option<Vec<Option<ScalarOr<'a, ImageDto<'a>>>>>,
    image: Option<ScalarOr<'a, ImageDto<'a>>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for ProductDto<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ProductVisitor)
    }
}

/// Reads a JSON object (nothing else) into a [`ProductDto`].
struct ProductVisitor;

impl<'de> Visitor<'de> for ProductVisitor {
    type Value = ProductDto<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a product object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut dto = ProductDto::default();
        let mut seen = 0u16;
        while let Some(Key(field)) = map.next_key()? {
            let Some(field) = field else {
                map.next_value::<de::IgnoredAny>()?;
                continue;
            };
            let bit = 1u16 << field as u8;
            if seen & bit != 0 {
                return Err(de::Error::custom("a product field given twice"));
            }
            seen |= bit;
            match field {
                Field::Id => dto.id = map.next_value()?,
                Field::Name => dto.name = map.next_value()?,
                Field::Description => dto.description = map.next_value()?,
                Field::Price => dto.price = map.next_value()?,
                Field::Discount => dto.discount = map.next_value()?,
                Field::Stock => dto.stock = map.next_value()?,
                Field::Sku => dto.sku = map.next_value()?,
                Field::Category => dto.category = map.next_value()?,
                Field::Available => dto.available = map.next_value()?,
                Field::Brand => dto.brand = map.next_value()?,
                Field::Images => dto.images = map.next_value()?,
                Field::Image => dto.image = map.next_value()?,
            }
        }
        Ok(dto)
    }
}

impl ProductDto<'_> {
    /// The record [`parse_product`](super::parse_product) makes of the same item, or
    /// `None` where it would fail (the reference path then gives the message).
    pub(super) fn into_record(self) -> Option<ProductRecord> {
        let external_id = self.id?.id()?;
        let title = self.name?.text()?;
        let price = amount(&self.price?)?;
        let discount_price = match &self.discount {
            Some(v) => Some(amount(v)?),
            None => None,
        };
        let is_available = match &self.available {
            Some(v) => v.flag()?,
            None => true,
        };
        // A stock clamped, a text cut or holding NUL characters carries a warning: the
        // reference path writes it.
        let stock = match &self.stock {
            Some(v) => {
                let units = v.decimal()?.trunc().max(Decimal::ZERO);
                i32::try_from(units).ok()?
            }
            None => 0,
        };
        let category = match self.category {
            None => None,
            Some(ScalarOr::Object(cat)) => Some(CategoryRef::Object {
                id: cat.id?.id()?,
                name: cat.name.as_ref().and_then(Scalar::text),
            }),
            Some(ScalarOr::Scalar(v)) => Some(CategoryRef::Id(v.id()?)),
        };
        let brand = match &self.brand {
            None => None,
            Some(ScalarOr::Scalar(v)) => v.text(),
            Some(ScalarOr::Object(o)) => o.name.as_ref().and_then(Scalar::text),
        };
        let mut image_urls: Vec<String> = self
            .images
            .iter()
            .flatten()
            .flatten()
            .filter_map(|v| match v {
                ScalarOr::Scalar(v) => v.text(),
                ScalarOr::Object(o) => o.text(true),
            })
            .collect();
        if image_urls.is_empty()
            && let Some(url) = match &self.image {
                None => None,
                Some(ScalarOr::Scalar(v)) => v.text(),
                Some(ScalarOr::Object(o)) => o.text(false),
            }
        {
            image_urls.push(url);
        }
        image_urls.dedup();
        let description = self
            .description
            .as_ref()
            .and_then(Scalar::text)
            .unwrap_or_default();
        let sku = self.sku.as_ref().and_then(Scalar::text);
        let long = |s: &Option<String>, max: usize| {
            s.as_ref()
                .is_some_and(|s| s.len() > max && s.chars().count() > max)
        };
        let category_name = match &category {
            Some(CategoryRef::Object { name, .. }) => name.as_deref(),
            _ => None,
        };
        let texts = [
            Some(title.as_str()),
            Some(description.as_str()),
            sku.as_deref(),
        ];
        let nul = texts
            .into_iter()
            .chain([brand.as_deref(), category_name])
            .chain(image_urls.iter().map(|u| Some(u.as_str())))
            .flatten()
            .any(|t| t.contains('\0'));
        if nul
            || title.len() > MAX_TITLE_CHARS && title.chars().count() > MAX_TITLE_CHARS
            || long(&sku, MAX_SKU_CHARS)
            || long(&brand, 255)
        {
            return None;
        }
        Some(ProductRecord {
            external_id,
            title,
            description,
            price,
            discount_price,
            stock,
            sku,
            category,
            is_available,
            brand,
            image_urls,
            warnings: Vec::new(),
        })
    }
}

/// As [`parse_amount`](super::parse_amount); `None` where that fails.
fn amount(v: &Scalar) -> Option<Decimal> {
    let d = v.decimal()?;
    if d.is_sign_negative() && !d.is_zero() {
        return None;
    }
    let d = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    (d <= MAX_AMOUNT).then_some(d)
}

/// A JSON scalar as the inventory spells ids, numbers, flags and text: numbers as
/// numbers or strings, strings borrowed from the page when they hold no escapes.
/// Objects and lists are refused (the item then takes the reference path).
#[derive(Debug, Clone, PartialEq)]
enum Scalar<'a> {
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a string or a boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::UInt(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
}

impl Scalar<'_> {
    /// As [`parse_id`](super::parse_id).
    fn id(&self) -> Option<i64> {
        match self {
            Scalar::Int(n) => Some(*n),
            Scalar::UInt(n) => i64::try_from(*n).ok(),
            Scalar::Str(s) => s.trim().parse().ok(),
            Scalar::Bool(_) | Scalar::Float(_) => None,
        }
    }

    /// As [`text`](super::text) without object keys.
    fn text(&self) -> Option<String> {
        match self {
            Scalar::Str(s) => {
                let s = s.trim();
                (!s.is_empty()).then(|| s.to_owned())
            }
            Scalar::Int(n) => Some(itoa::Buffer::new().format(*n).to_owned()),
            Scalar::UInt(n) => Some(itoa::Buffer::new().format(*n).to_owned()),
            Scalar::Float(f) => Number::from_f64(*f).map(|n| n.to_string()),
            Scalar::Bool(_) => None,
        }
    }

    /// As [`parse_decimal`](super::parse_decimal); `None` when that would be an error.
    fn decimal(&self) -> Option<Decimal> {
        match self {
            Scalar::Int(n) => Some(Decimal::from(*n)),
            Scalar::UInt(n) => Some(Decimal::from(*n)),
            Scalar::Float(f) => parse_decimal(&Value::Number(Number::from_f64(*f)?)).ok(),
            Scalar::Str(s) => parse_decimal_str(s).ok(),
            Scalar::Bool(_) => None,
        }
    }

    /// As [`parse_bool`](super::parse_bool).
    fn flag(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            Scalar::Int(n) => Some(*n != 0),
            Scalar::UInt(n) => i64::try_from(*n).ok().map(|n| n != 0),
            Scalar::Float(_) => None,
            Scalar::Str(s) => parse_bool_str(s),
        }
    }
}

/// A scalar, or an object read as `T`.
#[derive(Debug, Clone, PartialEq)]
enum ScalarOr<'a, T> {
    Scalar(Scalar<'a>),
    Object(T),
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for ScalarOr<'a, T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = ScalarOr<'de, T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar or an object")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                ScalarVisitor.visit_bool(v).map(ScalarOr::Scalar)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                ScalarVisitor.visit_i64(v).map(ScalarOr::Scalar)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                ScalarVisitor.visit_u64(v).map(ScalarOr::Scalar)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                ScalarVisitor.visit_f64(v).map(ScalarOr::Scalar)
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                ScalarVisitor.visit_borrowed_str(v).map(ScalarOr::Scalar)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                ScalarVisitor.visit_str(v).map(ScalarOr::Scalar)
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                ScalarVisitor.visit_string(v).map(ScalarOr::Scalar)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(ScalarOr::Object)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `{id, name}` of a category named by a product.
#[derive(Debug, Deserialize)]
struct CategoryDto<'a> {
    #[serde(borrow)]
    id: Option<Scalar<'a>>,
    #[serde(borrow)]
    name: Option<Scalar<'a>>,
}

/// `{name}` of a brand given as an object.
#[derive(Debug, Deserialize)]
struct NameDto<'a> {
    #[serde(borrow)]
    name: Option<Scalar<'a>>,
}

/// An image given as an object.
#[derive(Debug, Deserialize)]
struct ImageDto<'a> {
    #[serde(borrow)]
    url: Option<Scalar<'a>>,
    #[serde(borrow)]
    image: Option<Scalar<'a>>,
    #[serde(borrow)]
    image_url: Option<Scalar<'a>>,
}

impl ImageDto<'_> {
    /// As [`text`](super::text) with `keys` among `url`, `image`, `image_url`.
    fn text(&self, with_image_url: bool) -> Option<String> {
        let image_url = if with_image_url {
            self.image_url.as_ref()
        } else {
            None
        };
        self.url
            .as_ref()
            .or(self.image.as_ref())
            .or(image_url)
            .and_then(Scalar::text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b2b::parse::{RecordError, parse_product, read_product};
    use serde_json::{Map, json};

    /// Two values each field reads differently (without a warning), the first to
    /// something other than the field's absence.
    fn samples(field: Field) -> [Value; 2] {
        match field {
            Field::Id => [json!(7), json!("8")],
            Field::Name => [json!("Riz"), json!("Mil")],
            Field::Description => [json!("1 kg"), json!(5)],
            Field::Price => [json!("1.234,50"), json!(12)],
            Field::Discount => [json!(900), json!("8,5")],
            Field::Stock => [json!("12"), json!(3.5)],
            Field::Sku => [json!("RIZ-1"), json!(42)],
            Field::Category => [json!({"id": 4, "name": "Épicerie"}), json!("5")],
            Field::Available => [json!("non"), json!(1)],
            Field::Brand => [json!({"name": "Saga"}), json!("Dinor")],
            Field::Images => [
                json!(["a.jpg", {"url": "b.jpg"}]),
                json!([{"image": "c.jpg"}]),
            ],
            Field::Image => [json!({"image": "d.jpg"}), json!("e.jpg")],
        }
    }

    /// Every field under its first key, except `field` (and `images` when `field` is
    /// `image`, so that it is read).
    fn item_without(field: Option<Field>) -> Map<String, Value> {
        let but = match field {
            Some(Field::Image) => vec![Field::Image, Field::Images],
            other => other.into_iter().collect(),
        };
        FIELDS
            .iter()
            .filter(|(field, _)| !but.contains(field))
            .map(|(field, keys)| (keys[0].to_owned(), samples(*field)[0].clone()))
            .collect()
    }

    /// `map` as JSON text, with `extra` (raw `"key": value` members) added at the end.
    fn text_with(map: &Map<String, Value>, extra: &[(&str, &Value)]) -> String {
        let mut json = Value::Object(map.clone()).to_string();
        json.pop();
        for (key, value) in extra {
            json.push_str(&format!(",{}:{value}", Value::from(*key)));
        }
        json.push('}');
        json
    }

    /// The fast reading where it takes the item, `None` where it hands it over.
    fn fast(json: &str) -> Option<ProductRecord> {
        serde_json::from_str::<ProductDto>(json)
            .ok()
            .and_then(ProductDto::into_record)
    }

    /// The reference reading of `json` (serde_json keeps the last of a key given twice).
    fn reference(json: &str) -> Result<ProductRecord, RecordError> {
        parse_product(&serde_json::from_str(json).expect("json"))
    }

    #[test]
    fn no_key_fills_two_fields() {
        let keys: Vec<&str> = FIELDS
            .iter()
            .flat_map(|(_, keys)| keys.iter().copied())
            .collect();
        for key in &keys {
            assert_eq!(keys.iter().filter(|k| *k == key).count(), 1, "{key}");
        }
        for (field, _) in &FIELDS {
            assert_eq!(
                FIELDS.iter().filter(|(f, _)| f == field).count(),
                1,
                "{field:?}"
            );
        }
    }

    #[test]
    fn every_key_of_the_tables_is_read_the_same_either_way() {
        for (field, keys) in &FIELDS {
            let base = item_without(Some(*field));
            let absent = reference(&text_with(&base, &[]));
            for &key in *keys {
                let [one, two] = samples(*field);
                for value in [&one, &two] {
                    let json = text_with(&base, &[(key, value)]);
                    let got = fast(&json);
                    assert!(got.is_some(), "the fast reading refused `{key}` in {json}");
                    assert_eq!(Ok(got.expect("a record")), reference(&json), "{json}");
                }
                let (one, two) = (
                    text_with(&base, &[(key, &one)]),
                    text_with(&base, &[(key, &two)]),
                );
                assert_ne!(reference(&one), absent, "`{key}` not read in {one}");
                assert_ne!(reference(&one), reference(&two), "{one} and {two}");
            }
        }
    }

    #[test]
    fn keys_no_table_holds_are_ignored_either_way() {
        // Every field is present: a key read as one of them would be a field given twice.
        let base = item_without(None);
        let table: Vec<&str> = FIELDS
            .iter()
            .flat_map(|(_, keys)| keys.iter().copied())
            .collect();
        let mut others = vec![
            "url",
            "parent",
            "parent_id",
            "children",
            "slug",
            "created_at",
            "label",
            "titre",
            "cost",
            "old_price",
            "qty",
            "ean",
            "reference",
            "categories",
            "category_name",
            "active",
            "in_stock",
            "vendor",
            "picture",
            "thumbnail",
            "short_description",
            "",
        ];
        let near: Vec<String> = FIELDS
            .iter()
            .flat_map(|(_, keys)| keys.iter())
            .flat_map(|k| {
                [
                    k.to_uppercase(),
                    format!("{k}s"),
                    format!("_{k}"),
                    format!(" {k}"),
                ]
            })
            .filter(|k| !table.contains(&k.as_str()))
            .collect();
        others.extend(near.iter().map(String::as_str));
        for key in others {
            let json = text_with(&base, &[(key, &json!({"x": [1]}))]);
            let got = fast(&json);
            assert!(got.is_some(), "the fast reading took `{key}` in {json}");
            assert_eq!(Ok(got.expect("a record")), reference(&json), "{json}");
        }
    }

    #[test]
    fn a_field_given_twice_goes_to_the_reference_reading() {
        for (field, keys) in &FIELDS {
            let base = item_without(Some(*field));
            let [one, two] = samples(*field);
            for (i, &a) in keys.iter().enumerate() {
                for &b in &keys[i..] {
                    for pair in [[&Value::Null, &two], [&one, &two], [&two, &Value::Null]] {
                        let json = text_with(&base, &[(a, pair[0]), (b, pair[1])]);
                        assert_eq!(fast(&json), None, "{json}");
                        let read = read_product(&json);
                        assert_eq!(read.record, reference(&json), "{json}");
                    }
                    if a != b {
                        // The first non-null key wins.
                        let json = text_with(&base, &[(b, &two), (a, &one)]);
                        let alone = text_with(&base, &[(a, &one)]);
                        assert_eq!(read_product(&json).record, reference(&alone), "{json}");
                    }
                }
            }
        }
    }
}
