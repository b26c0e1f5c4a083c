//! Readers for the quirks every Atlassian wire format shares: numbers that are sometimes
//! strings, and lists or strings that are sometimes `null`.
//!
//! A body is parsed once into a [`Value`], and each wire type reads itself out of that
//! through [`FromJson`]. The component then carries one JSON parser, shared by every type,
//! instead of a derived serde visitor per type (each of which also dragged in serde's error
//! formatting, float formatting included). The exception is SCIM's resources and list
//! responses ([`crate::scim::read`]): they are the large answers (a 35,000-member group, a
//! wave of 64 pages of users), where a tree costs several times the body, so they are read
//! straight from the body by hand-written lenient visitors.

use serde_json::{Map, Value};

/// A wire type read out of a parsed JSON document. `Err` says what is wrong with it; the
/// caller adds which API answered.
pub trait FromJson: Sized {
    /// Reads `Self` out of `v`.
    fn from_json(v: &Value) -> Result<Self, String>;
}

/// Parses `body` as JSON and reads a `T` out of it.
pub fn parse<T: FromJson>(body: &[u8]) -> Result<T, String> {
    T::from_json(&parse_value(body)?)
}

/// Parses `body` as JSON. Kept out of the generic [`parse`] (never inlined) so the component
/// carries one copy of the parser's entry instead of one per wire type.
#[inline(never)]
pub fn parse_value(body: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// The compact JSON text of `v`, as a request body. Never inlined, like [`parse_value`]:
/// every body shares one serializer.
#[inline(never)]
pub fn to_body(v: &Value) -> Vec<u8> {
    // Serializing a `Value` cannot fail (its map keys are strings).
    serde_json::to_vec(v).unwrap_or_default()
}

/// A JSON object of `pairs`, for request bodies: `json!` would serialize every interpolated
/// value through serde (`to_value(..).unwrap()`, one instantiation per type).
pub fn obj(pairs: Vec<(&str, Value)>) -> Value {
    let mut map = Map::new();
    for (key, value) in pairs {
        map.insert(key.to_string(), value);
    }
    Value::Object(map)
}

/// A JSON array of the strings `items`.
pub fn str_list(items: &[&str]) -> Value {
    let mut out = Vec::with_capacity(items.len());
    for s in items {
        out.push(Value::from(*s));
    }
    Value::Array(out)
}

/// Accepts any JSON value and keeps nothing of it (where only the document's shape matters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ignored;

impl FromJson for Ignored {
    fn from_json(_: &Value) -> Result<Self, String> {
        Ok(Ignored)
    }
}

impl FromJson for Value {
    fn from_json(v: &Value) -> Result<Self, String> {
        Ok(v.clone())
    }
}

/// Implements [`FromJson`] for a type with a lenient `from_value(&Value) -> Self`, which
/// ignores fields of an unexpected type like unknown attributes and never fails.
macro_rules! from_json_via_value {
    ($($t:ty),+) => {$(
        impl $crate::wire::FromJson for $t {
            fn from_json(v: &serde_json::Value) -> Result<Self, String> {
                Ok(<$t>::from_value(v))
            }
        }
    )+};
}
pub(crate) use from_json_via_value;

/// The object a wire type is read from; anything else is an error naming `what`.
pub fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("expected an object for {what}"))
}

/// The field `key`, which must be present (it may be `null`).
pub fn required<'a>(o: &'a Map<String, Value>, key: &str) -> Result<&'a Value, String> {
    o.get(key).ok_or_else(|| format!("missing field `{key}`"))
}

/// A list of `T` where absent or `null` is `None`; any other non-list is an error. A loop
/// over the non-generic [`opt_items`]: an iterator chain here cost ~900 bytes per `T`.
pub fn opt_list<T: FromJson>(v: Option<&Value>, key: &str) -> Result<Option<Vec<T>>, String> {
    let Some(items) = opt_items(v, key)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(T::from_json(item)?);
    }
    Ok(Some(out))
}

/// The items of a list where absent or `null` is `None`; any other non-list is an error.
#[inline(never)]
pub fn opt_items<'a>(v: Option<&'a Value>, key: &str) -> Result<Option<&'a [Value]>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(_) => Err(format!("invalid type: `{key}` is not a list")),
    }
}

/// An object `T` where absent or `null` is `None`; any other non-object is an error.
pub fn opt_object<T: FromJson>(v: Option<&Value>, key: &str) -> Result<Option<T>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(x) if x.is_object() => T::from_json(x).map(Some),
        Some(_) => Err(format!("invalid type: `{key}` is not an object")),
    }
}

/// A boolean where absent or `null` is `None`; anything else is an error.
pub fn opt_bool(v: Option<&Value>, key: &str) -> Result<Option<bool>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(format!("invalid type: `{key}` is not a boolean")),
    }
}

/// The text of `key` in an object (a string, or a number rendered as one); `None` when
/// absent, `null` or of another type.
pub fn opt_string(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.get(key).and_then(value_to_string)
}

/// The unsigned integer `key` in an object (a number or numeric string); `None` otherwise.
pub fn opt_u64(o: &Map<String, Value>, key: &str) -> Option<u64> {
    o.get(key).and_then(value_to_u64)
}

/// The text of a string or number value.
pub fn value_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The unsigned integer in a number or numeric string.
pub fn value_to_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The text of `key` in an object (a string, or a number rendered as one).
pub fn field_string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(value_to_string)
}

/// The boolean `key` in an object.
pub fn field_bool(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

/// The list `key` in an object; anything else (absent, `null`, not a list) is empty.
pub fn field_list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_shapes() {
        let v: Value =
            serde_json::from_str(r#"{"a":null,"b":[],"c":"x","d":true,"n":"12"}"#).unwrap();
        let o = object(&v, "test").unwrap();
        assert_eq!(opt_list::<Ignored>(o.get("a"), "a"), Ok(None));
        assert_eq!(opt_list::<Ignored>(o.get("zz"), "zz"), Ok(None));
        assert_eq!(opt_list::<Ignored>(o.get("b"), "b"), Ok(Some(vec![])));
        assert!(opt_list::<Ignored>(o.get("c"), "c").is_err());
        assert_eq!(opt_bool(o.get("d"), "d"), Ok(Some(true)));
        assert!(opt_bool(o.get("c"), "c").is_err());
        assert_eq!(opt_u64(o, "n"), Some(12));
        assert_eq!(required(o, "q"), Err("missing field `q`".to_string()));
        assert!(object(&Value::Null, "x").is_err());
        assert!(parse::<Ignored>(b"{").is_err());
    }
}
