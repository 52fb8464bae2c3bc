//! The sandbox's catalog: categories and products computed from a seed, so any product
//! can be produced on demand (1,000,000 of them need no memory) and two runs with the
//! same seed serve the same bytes.

use std::fmt::Write as _;

use serde_json::{Value, json};

/// First category id; ids are consecutive from here.
pub const FIRST_CATEGORY_ID: i64 = 1000;
/// First product id; ids are consecutive from here.
pub const FIRST_PRODUCT_ID: i64 = 100_000;
/// Category ids that do not exist, for products of unknown categories.
const UNKNOWN_CATEGORY_ID: i64 = 990_000;
/// Deepest level of the tree (0-based: 5 levels).
const MAX_LEVEL: usize = 4;
/// Sites products belong to.
pub const SITES: i64 = 3;

const FAMILIES: &[&str] = &[
    "Épicerie",
    "Boissons",
    "Fruits et légumes",
    "Produits laitiers",
    "Boucherie",
    "Poissonnerie",
    "Boulangerie",
    "Hygiène",
    "Entretien",
    "Bébé",
    "Surgelés",
    "Céréales",
    "Conserves",
    "Condiments",
];
const NOUNS: &[&str] = &[
    "Riz brisé",
    "Huile d'arachide",
    "Sucre en poudre",
    "Lait concentré",
    "Farine de blé",
    "Café moulu",
    "Thé vert",
    "Savon de Marseille",
    "Concentré de tomate",
    "Pâtes alimentaires",
    "Eau minérale",
    "Jus de bissap",
    "Mil",
    "Fonio",
    "Attiéké",
    "Beurre de karité",
    "Sardines",
    "Bouillon cube",
    "Lessive",
    "Couches",
];
const QUALIFIERS: &[&str] = &[
    "extra",
    "parfumé",
    "bio",
    "premium",
    "économique",
    "familial",
    "doux",
    "fort",
];
const BRANDS: &[&str] = &[
    "Dinor", "Jumbo", "Nido", "Lipton", "Omo", "Maggi", "Vitalait", "Mamy", "Saga",
];
const RAYONS: &[&str] = &["sec", "frais", "surgelé", "liquide"];

/// A deterministic 64-bit mix of a seed and two numbers (splitmix64).
pub fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut z = seed
        .wrapping_add(a.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(b.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(list: &'a [&'a str], r: u64) -> &'a str {
    list[(r % list.len() as u64) as usize]
}

/// The catalog a sandbox serves.
#[derive(Debug)]
pub struct Catalog {
    seed: u64,
    /// Categories in the order the listing gives them (some children first).
    pub categories: Vec<Value>,
    /// Category ids products are spread over.
    category_ids: Vec<i64>,
    category_names: std::collections::HashMap<i64, String>,
    pub products: usize,
    /// Per-mille share of products each mutation changed, in order.
    mutations: Vec<u32>,
    /// Indexes of the products of each site (1-based site id - 1).
    by_site: Vec<Vec<u32>>,
}

impl Catalog {
    pub fn new(seed: u64, categories: usize, products: usize) -> Catalog {
        let (categories, category_ids) = build_categories(seed, categories.max(1));
        let mut by_site = vec![Vec::new(); SITES as usize];
        for i in 0..products {
            let (first, second) = sites_of(seed, i);
            for site in std::iter::once(first).chain(second) {
                by_site[(site - 1) as usize].push(i as u32);
            }
        }
        let category_names = categories
            .iter()
            .filter_map(|c| Some((c["id"].as_i64()?, c["name"].as_str()?.to_owned())))
            .collect();
        Catalog {
            seed,
            categories,
            category_ids,
            category_names,
            products,
            mutations: Vec::new(),
            by_site,
        }
    }

    /// Changes `share` (0..=1) of the products: the next listing shows new prices
    /// and stock for them.
    pub fn mutate(&mut self, share: f64) {
        self.mutations
            .push((share.clamp(0.0, 1.0) * 1000.0).round() as u32);
    }

    /// How many products a listing has (all, or one site's).
    pub fn len(&self, site: Option<i64>) -> usize {
        match site {
            None => self.products,
            Some(s) if (1..=SITES).contains(&s) => self.by_site[(s - 1) as usize].len(),
            Some(_) => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.products == 0
    }

    /// The product at `position` of a listing.
    pub fn product_at(&self, site: Option<i64>, position: usize) -> Option<Value> {
        Some(self.product(self.index_at(site, position)?))
    }

    /// Appends the JSON of the product at `position` of a listing to `out` (the bytes
    /// serde_json would write for [`Catalog::product_at`]); `false` when there is none.
    pub fn write_product_at(&self, site: Option<i64>, position: usize, out: &mut String) -> bool {
        match self.index_at(site, position) {
            Some(index) => {
                self.write_product(index, out);
                true
            }
            None => false,
        }
    }

    fn index_at(&self, site: Option<i64>, position: usize) -> Option<usize> {
        match site {
            None => (position < self.products).then_some(position),
            Some(s) => Some(
                *self
                    .by_site
                    .get(usize::try_from(s - 1).ok()?)?
                    .get(position)? as usize,
            ),
        }
    }

    /// The product with upstream id `id`, in its detailed form.
    pub fn product_by_id(&self, id: i64) -> Option<Value> {
        let index = usize::try_from(id - FIRST_PRODUCT_ID).ok()?;
        (index < self.products).then(|| {
            let mut p = self.product(index);
            p["description_text"] = json!(format!("Fiche détaillée du produit {id}."));
            p["created_at"] = json!("2024-01-15T10:00:00Z");
            p
        })
    }

    /// How many mutations changed product `index`.
    fn changes(&self, index: usize) -> u64 {
        self.mutations
            .iter()
            .enumerate()
            .filter(|(m, share)| {
                mix(self.seed, index as u64, 1_000 + *m as u64) % 1000 < u64::from(**share)
            })
            .count() as u64
    }

    /// Product `index`, with the mix of aliases and spellings the real API has.
    fn product(&self, index: usize) -> Value {
        let mut json = String::with_capacity(512);
        self.write_product(index, &mut json);
        serde_json::from_str(&json).unwrap_or(Value::Null)
    }

    /// Writes product `index` as JSON into `out`, keys in serde_json's (sorted) order,
    /// compact: the bytes `serde_json::to_string` gives for the same object.
    fn write_product(&self, index: usize, out: &mut String) {
        let r = |salt: u64| mix(self.seed, index as u64, salt);
        let id = FIRST_PRODUCT_ID + index as i64;
        let changes = self.changes(index);
        let (noun, qualifier, brand) = (
            pick(NOUNS, r(1)),
            pick(QUALIFIERS, r(2)),
            pick(BRANDS, r(3)),
        );
        let cents = 10_000 + (r(4) % 5_000_000) + changes * 2_500;
        let (units, frac) = (cents / 100, cents % 100);
        let stock =
            (r(6) % 500) as i64 - if r(7).is_multiple_of(30) { 600 } else { 0 } + changes as i64;
        let category = self.category_ids[(r(8) % self.category_ids.len() as u64) as usize];
        let title_key = if r(10).is_multiple_of(8) {
            "title"
        } else {
            "name"
        };
        let price_key = if r(11).is_multiple_of(12) {
            "price"
        } else {
            "selling_price"
        };
        // `write!` into a String cannot fail.
        let _ = write!(out, "{{\"brand\":{{\"id\":{},\"name\":", r(3) % 9 + 1);
        push_json_str(out, &[brand]);
        out.push('}');
        match r(12) % 100 {
            0 => {
                let _ = write!(
                    out,
                    ",\"category_id\":{}",
                    UNKNOWN_CATEGORY_ID + (r(13) % 50) as i64
                );
            }
            1..=30 => {
                let _ = write!(out, ",\"category_id\":{category}");
            }
            _ => {
                let _ = write!(out, ",\"category\":{{\"id\":{category},\"name\":");
                push_json_str(out, &[self.category_name(category)]);
                out.push('}');
            }
        }
        let _ = write!(out, ",\"cug\":\"CUG-{id}\",\"description\":");
        push_json_str(
            out,
            &[
                noun,
                " ",
                qualifier,
                " ",
                brand,
                ", conditionnement standard.",
            ],
        );
        if r(14).is_multiple_of(10) {
            let _ = write!(out, ",\"discount_price\":\"{}.00\"", units * 9 / 10);
        }
        let _ = write!(
            out,
            ",\"id\":{id},\"image_url\":\"https://cdn.example.invalid/p/{id}.jpg\",\"is_available_b2c\":{}",
            r(9) % 20 != 0
        );
        if title_key == "name" {
            out.push_str(",\"name\":");
            push_json_str(out, &[noun, " ", qualifier, " ", brand]);
        }
        let write_price = |out: &mut String| {
            let _ = match r(5) % 10 {
                0 => write!(out, "\"{}.{:03},{frac:02}\"", units / 1000, units % 1000),
                1 => write!(out, "{units}"),
                _ => write!(out, "\"{units}.{frac:02}\""),
            };
        };
        if price_key == "price" {
            out.push_str(",\"price\":");
            write_price(out);
        }
        let _ = write!(out, ",\"quantity\":\"{stock}.000\"");
        if price_key == "selling_price" {
            out.push_str(",\"selling_price\":");
            write_price(out);
        }
        let (first, second) = sites_of(self.seed, index);
        let _ = write!(out, ",\"site_ids\":[{first}");
        if let Some(second) = second {
            let _ = write!(out, ",{second}");
        }
        out.push(']');
        if title_key == "title" {
            out.push_str(",\"title\":");
            push_json_str(out, &[noun, " ", qualifier, " ", brand]);
        }
        out.push('}');
    }

    fn category_name(&self, id: i64) -> &str {
        self.category_names
            .get(&id)
            .map_or("Catégorie", String::as_str)
    }
}

/// Appends the concatenation of `parts` as a JSON string, escaped as serde_json does.
fn push_json_str(out: &mut String, parts: &[&str]) {
    let plain = |s: &&str| !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
    if parts.iter().all(plain) {
        out.push('"');
        for p in parts {
            out.push_str(p);
        }
        out.push('"');
    } else {
        let joined: String = parts.concat();
        match serde_json::to_string(&joined) {
            Ok(s) => out.push_str(&s),
            Err(_) => out.push_str("null"),
        }
    }
}

/// The sites of product `index`: one, and a few have two.
fn sites_of(seed: u64, index: usize) -> (i64, Option<i64>) {
    let first = (index as i64 % SITES) + 1;
    let second = mix(seed, index as u64, 99)
        .is_multiple_of(25)
        .then_some(first % SITES + 1);
    (first, second)
}

/// A tree of up to 5 levels, listed in an order where some children precede parents.
fn build_categories(seed: u64, n: usize) -> (Vec<Value>, Vec<i64>) {
    let roots = n.div_ceil(10).max(1);
    let mut levels: Vec<usize> = Vec::with_capacity(n);
    let mut items: Vec<Value> = Vec::with_capacity(n);
    for i in 0..n {
        let id = FIRST_CATEGORY_ID + i as i64;
        let r = |salt: u64| mix(seed, i as u64, 500 + salt);
        let (parent, level) = if i < roots {
            (None, 0)
        } else {
            // A parent among earlier categories that still has room below it.
            let mut p = (r(1) % i as u64) as usize;
            while levels[p] >= MAX_LEVEL {
                p = (p + 1) % i;
            }
            (Some(FIRST_CATEGORY_ID + p as i64), levels[p] + 1)
        };
        levels.push(level);
        let family = pick(FAMILIES, if level == 0 { i as u64 } else { r(2) });
        let name = if level == 0 {
            family.to_owned()
        } else {
            format!("{family} {}", pick(QUALIFIERS, r(3)))
        };
        let mut c = json!({
            "id": id, "name": name, "description": format!("Rayon {name}"),
            "level": level, "order": r(4) % 20, "is_rayon": level == 0,
            "rayon_type": pick(RAYONS, r(5)),
        });
        let obj = c.as_object_mut().expect("an object");
        match (parent, r(6) % 3) {
            (None, _) => {
                obj.insert("parent_id".into(), Value::Null);
            }
            (Some(p), 0) => {
                obj.insert("parent".into(), json!({"id": p}));
            }
            (Some(p), 1) => {
                obj.insert("parent".into(), json!(p));
            }
            (Some(p), _) => {
                obj.insert("parent_id".into(), json!(p));
            }
        }
        if r(7).is_multiple_of(2) {
            obj.insert(
                "image".into(),
                json!({"url": format!("https://cdn.example.invalid/c/{id}.png")}),
            );
        }
        items.push(c);
    }
    let ids = items.iter().filter_map(|c| c["id"].as_i64()).collect();
    // Deterministic shuffle: sort by a hash, which puts some children before parents.
    items.sort_by_key(|c| mix(seed, c["id"].as_u64().unwrap_or_default(), 777));
    (items, ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generator as it was before the page JSON was written directly: the
    /// reference the written bytes must match.
    fn reference_product(cat: &Catalog, index: usize) -> Value {
        let r = |salt: u64| mix(cat.seed, index as u64, salt);
        let id = FIRST_PRODUCT_ID + index as i64;
        let changes = cat.changes(index);
        let name = format!(
            "{} {} {}",
            pick(NOUNS, r(1)),
            pick(QUALIFIERS, r(2)),
            pick(BRANDS, r(3))
        );
        let cents = 10_000 + (r(4) % 5_000_000) + changes * 2_500;
        let (units, frac) = (cents / 100, cents % 100);
        let price = match r(5) % 10 {
            0 => json!(format!("{}.{:03},{frac:02}", units / 1000, units % 1000)),
            1 => json!(units),
            _ => json!(format!("{units}.{frac:02}")),
        };
        let stock =
            (r(6) % 500) as i64 - if r(7).is_multiple_of(30) { 600 } else { 0 } + changes as i64;
        let category = cat.category_ids[(r(8) % cat.category_ids.len() as u64) as usize];
        let mut p = json!({ "id": id, "is_available_b2c": r(9) % 20 != 0 });
        let obj = p.as_object_mut().expect("an object");
        obj.insert(
            if r(10).is_multiple_of(8) {
                "title"
            } else {
                "name"
            }
            .into(),
            json!(name),
        );
        obj.insert(
            if r(11).is_multiple_of(12) {
                "price"
            } else {
                "selling_price"
            }
            .into(),
            price,
        );
        obj.insert("quantity".into(), json!(format!("{stock}.000")));
        obj.insert("cug".into(), json!(format!("CUG-{id}")));
        obj.insert(
            "description".into(),
            json!(format!("{name}, conditionnement standard.")),
        );
        obj.insert(
            "brand".into(),
            json!({"id": r(3) % 9 + 1, "name": pick(BRANDS, r(3))}),
        );
        obj.insert(
            "image_url".into(),
            json!(format!("https://cdn.example.invalid/p/{id}.jpg")),
        );
        obj.insert("site_ids".into(), {
            let (first, second) = sites_of(cat.seed, index);
            json!(std::iter::once(first).chain(second).collect::<Vec<_>>())
        });
        match r(12) % 100 {
            0 => {
                obj.insert(
                    "category_id".into(),
                    json!(UNKNOWN_CATEGORY_ID + (r(13) % 50) as i64),
                );
            }
            1..=30 => {
                obj.insert("category_id".into(), json!(category));
            }
            _ => {
                obj.insert(
                    "category".into(),
                    json!({"id": category, "name": cat.category_name(category)}),
                );
            }
        }
        if r(14).is_multiple_of(10) {
            obj.insert(
                "discount_price".into(),
                json!(format!("{}.00", units * 9 / 10)),
            );
        }
        p
    }

    /// `v` with every object's keys in sorted order.
    fn sorted(v: Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
            other => other,
        }
    }

    #[test]
    fn the_written_json_is_what_serde_json_wrote_for_the_reference() {
        let mut cat = Catalog::new(11, 40, 3000);
        for round in 0..2 {
            for i in 0..3000 {
                let mut written = String::new();
                assert!(cat.write_product_at(None, i, &mut written));
                // The sandbox writes keys sorted, as serde_json did before it kept
                // insertion order.
                let reference = sorted(reference_product(&cat, i));
                assert_eq!(
                    written,
                    serde_json::to_string(&reference).expect("json"),
                    "product {i}, round {round}"
                );
            }
            cat.mutate(0.3);
        }
        assert!(!cat.write_product_at(None, 3000, &mut String::new()));
        assert!(!cat.write_product_at(Some(0), 0, &mut String::new()));
    }

    #[test]
    fn names_that_need_escaping_are_escaped() {
        let mut out = String::new();
        push_json_str(&mut out, &["a \"b\" ", "c\\d\n"]);
        assert_eq!(out, serde_json::to_string("a \"b\" c\\d\n").expect("json"));
        assert_eq!(
            serde_json::from_str::<String>(&out).expect("valid"),
            "a \"b\" c\\d\n"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_catalog() {
        let a = Catalog::new(7, 50, 200);
        let b = Catalog::new(7, 50, 200);
        let c = Catalog::new(8, 50, 200);
        assert_eq!(a.categories, b.categories);
        assert_eq!(a.product_at(None, 123), b.product_at(None, 123));
        assert_ne!(a.product_at(None, 123), c.product_at(None, 123));
    }

    #[test]
    fn the_tree_has_children_before_parents_and_at_most_five_levels() {
        let cat = Catalog::new(1, 300, 0);
        let position: std::collections::HashMap<i64, usize> = cat
            .categories
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c["id"].as_i64().map(|id| (id, i)))
            .collect();
        let parent_of = |c: &Value| {
            c.get("parent_id").and_then(Value::as_i64).or_else(|| {
                c.get("parent")
                    .and_then(|p| p.as_i64().or_else(|| p.get("id").and_then(Value::as_i64)))
            })
        };
        let early_children = cat
            .categories
            .iter()
            .enumerate()
            .filter(|(i, c)| parent_of(c).is_some_and(|p| position[&p] > *i))
            .count();
        assert!(early_children > 10, "{early_children}");
        assert!(
            cat.categories
                .iter()
                .all(|c| c["level"].as_u64().unwrap_or(9) <= 4)
        );
    }

    #[test]
    fn a_mutation_changes_about_its_share() {
        let mut cat = Catalog::new(3, 20, 2000);
        let before: Vec<Value> = (0..2000).filter_map(|i| cat.product_at(None, i)).collect();
        cat.mutate(0.1);
        let changed = (0..2000)
            .filter(|i| cat.product_at(None, *i).as_ref() != Some(&before[*i]))
            .count();
        assert!((150..250).contains(&changed), "{changed}");
    }

    #[test]
    fn sites_partition_the_products_with_some_overlap() {
        let cat = Catalog::new(5, 10, 3000);
        let total: usize = (1..=SITES).map(|s| cat.len(Some(s))).sum();
        assert!(total > 3000 && total < 3300, "{total}");
        assert_eq!(cat.len(Some(9)), 0);
    }
}
