//! A serializable value as ordered fields, for tables and CSV: the columns of a row
//! type (known without a row, so an empty CSV still has its header) and a value's
//! fields in declaration order (`serde_json::Value` would sort them).

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A value with its object keys in the order they were written.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Text(String),
    /// A number or a boolean.
    Scalar(serde_json::Value),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    /// One line of text: scalars as they are, lists and objects as JSON.
    pub fn text(&self) -> String {
        match self {
            Node::Null => String::new(),
            Node::Text(s) => s.clone(),
            Node::Scalar(v) => v.to_string(),
            other => other.json().to_string(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Node::Null => serde_json::Value::Null,
            Node::Text(s) => serde_json::Value::String(s.clone()),
            Node::Scalar(v) => v.clone(),
            Node::List(items) => items.iter().map(Node::json).collect(),
            Node::Map(entries) => entries
                .iter()
                .map(|(k, v)| (k.clone(), v.json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        }
    }
}

/// `value` as a `Node`, keys in the order `value` serializes them.
pub fn to_node<T: Serialize>(value: &T) -> serde_json::Result<Node> {
    let text = serde_json::to_string(value)?;
    serde_json::from_str(&text)
}

/// Nested objects as `a.b` keys, in order; lists as JSON text.
pub fn flatten(node: &Node) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten_into("", node, &mut out);
    out
}

fn flatten_into(prefix: &str, node: &Node, out: &mut Vec<(String, String)>) {
    match node {
        Node::Map(entries) => {
            for (k, v) in entries {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match v {
                    Node::Map(_) => flatten_into(&key, v, out),
                    other => out.push((key, other.text())),
                }
            }
        }
        other => out.push((prefix.to_owned(), other.text())),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Scalar(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Text(v.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Node>()? {
            entries.push((k, v));
        }
        Ok(Node::Map(entries))
    }
}

/// The field names of the struct `T` (as serialized: renames applied), in order.
pub fn columns<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The deserializer records the fields it is asked for, then stops with an error.
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only the fields of a struct are read"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("fields read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Row {
        id: i32,
        #[serde(rename = "type")]
        kind: Option<String>,
        inner: Inner,
    }

    #[derive(Serialize, Deserialize)]
    struct Inner {
        b: bool,
        a: Vec<i32>,
    }

    #[test]
    fn columns_are_the_fields_in_declaration_order() {
        assert_eq!(columns::<Row>(), ["id", "type", "inner"]);
    }

    #[test]
    fn fields_keep_their_order_and_nest_with_dots() {
        let row = Row {
            id: 7,
            kind: None,
            inner: Inner {
                b: true,
                a: vec![1, 2],
            },
        };
        let fields = flatten(&to_node(&row).expect("a node"));
        let expected = [
            ("id", "7"),
            ("type", ""),
            ("inner.b", "true"),
            ("inner.a", "[1,2]"),
        ];
        let got: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, expected);
    }
}
