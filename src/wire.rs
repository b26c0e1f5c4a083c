//! Small serde helpers for the quirks every Atlassian wire format shares: numbers that are
//! sometimes strings, and lists or strings that are sometimes `null`.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A string, or a number rendered as a string; `null` or absent is `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(value_to_string(&Value::deserialize(d)?))
}

/// A number, or a string holding one; anything else is `None`.
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(value_to_u64(&Value::deserialize(d)?))
}

/// A list where `null` means empty.
pub fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
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

/// Implements `Deserialize` for a resource type through [`Value`] and the type's lenient
/// `from_value(&Value) -> Self`. Every resource then shares one JSON parser instead of a
/// derived visitor each, which keeps the component small; a field of an unexpected type is
/// ignored like an unknown attribute instead of failing the whole document.
macro_rules! deserialize_via_value {
    ($t:ty) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
                Ok(<$t>::from_value(&v))
            }
        }
    };
}
pub(crate) use deserialize_via_value;
