//! Reading wire types straight from a body, without a JSON tree: the walk every such
//! reader shares (SCIM resources and list responses in [`crate::scim::read`], the admin
//! API's users searches in [`crate::admin`]).
//!
//! A `serde_json::Value` tree costs a `BTreeMap` node (~400 bytes in the guest) for every
//! object: a group answered with 35,000 members inline, or a page of 100 users each with
//! 1,000 groups expanded, took more guest memory as a tree than the guest has. A reader
//! here keeps only the attributes it names, as they stream past, and is as lenient as a
//! tree reader: an unknown attribute, or a known one of an unexpected type, is skipped; a
//! value that is not an object reads as an empty one; a string attribute may be a number
//! (rendered as one). A value in an attribute the reader skips is checked for syntax but
//! not decoded. Every object reader shares one generic visitor ([`Object`]) and every
//! scalar one ([`Scalar`]): the component carries one copy of each walk.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de::DeserializeOwned};

/// Reads a `T` from a JSON body. `Err` is the JSON syntax error, or what is wrong with the
/// list response (see [`Checked`]).
pub fn from_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// A value read with a verdict the reader could give only at the end: `Ok` or what is wrong.
/// Kept out of serde's error so the message carries no line and column, like the tree
/// readers' messages.
pub struct Checked<T>(pub Result<T, String>);

/// The `visit_*` methods of the JSON scalars, giving `$other` for a boolean, number or string
/// and `$null` for `null`: what a reader answers for a value of a type it does not read.
macro_rules! scalars_give {
    ($ty:ty, $other:expr, $null:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<$ty, E> {
            Ok($other)
        }
        fn visit_i64<E>(self, _: i64) -> Result<$ty, E> {
            Ok($other)
        }
        fn visit_u64<E>(self, _: u64) -> Result<$ty, E> {
            Ok($other)
        }
        fn visit_f64<E>(self, _: f64) -> Result<$ty, E> {
            Ok($other)
        }
        fn visit_str<E>(self, _: &str) -> Result<$ty, E> {
            Ok($other)
        }
        fn visit_unit<E>(self) -> Result<$ty, E> {
            Ok($null)
        }
    };
}
pub(crate) use scalars_give;

/// An object read attribute by attribute; anything else reads as `Self::default()`.
pub(crate) trait Lenient: Default {
    /// The attribute names this type reads, in the order [`Lenient::read`] numbers them.
    const FIELDS: &'static [&'static str];
    /// Reads the value of `FIELDS[field]` from `map` into `self`.
    fn read<'de, A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error>;
    /// Told that the value is an object, before its first attribute (a reader that must
    /// tell `{}` from a value of another type marks it here).
    fn opened(&mut self) {}
}

/// The visitor of every [`Lenient`] object.
pub(crate) struct Object<T>(PhantomData<T>);

/// Skips whatever a sequence holds (every element of a value of the wrong type).
pub(crate) fn drain<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Skips whatever a map holds.
pub(crate) fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

impl<'de, T: Lenient> Visitor<'de> for Object<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        out.opened();
        while let Some(field) = map.next_key_seed(Field(T::FIELDS))? {
            match field {
                Some(i) => out.read(i, &mut map)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        drain(seq).map(|()| T::default())
    }
    scalars_give!(T, T::default(), T::default());
}

/// Reads any JSON value as a `T`, through the one [`Object`] walk.
pub(crate) fn object<'de, T: Lenient, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(Object(PhantomData))
}

/// An attribute name: its index in the reader's `FIELDS`, `None` for one it does not read.
/// Compared without allocating.
pub(crate) struct Field(pub(crate) &'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Field {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Field {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute name")
    }
    fn visit_str<E>(self, name: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|f| *f == name))
    }
}

/// A scalar read leniently: a value of another type reads as `None`.
pub(crate) trait Leaf: Sized {
    /// From a string.
    fn text(_: &str) -> Option<Self> {
        None
    }
    /// From an integer (`i64` only below zero, as serde_json gives them).
    fn integer(_: Integer) -> Option<Self> {
        None
    }
    /// From a number that is not an integer (or too big for 64 bits).
    fn float(_: f64) -> Option<Self> {
        None
    }
    /// From a boolean.
    fn boolean(_: bool) -> Option<Self> {
        None
    }
}

/// A JSON integer, as serde_json hands it over.
#[derive(Clone, Copy)]
pub(crate) enum Integer {
    Unsigned(u64),
    Negative(i64),
}

/// The visitor of every [`Leaf`].
pub(crate) struct Scalar<T>(PhantomData<T>);

impl<'de, T: Leaf> Visitor<'de> for Scalar<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<T>, E> {
        Ok(T::text(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Option<T>, E> {
        Ok(T::integer(Integer::Unsigned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Option<T>, E> {
        Ok(T::integer(Integer::Negative(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Option<T>, E> {
        Ok(T::float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Option<T>, E> {
        Ok(T::boolean(v))
    }
    fn visit_unit<E>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<T>, A::Error> {
        drain(seq).map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        drain_map(map).map(|()| None)
    }
}

/// The next map value as a [`Leaf`].
pub(crate) fn leaf<'de, T: Leaf, A: MapAccess<'de>>(map: &mut A) -> Result<Option<T>, A::Error> {
    map.next_value_seed(Scalar(PhantomData))
}

// Each visitor is its own seed: it reads whatever value comes next.

impl<'de, T: Leaf> DeserializeSeed<'de> for Scalar<T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for ItemsVisitor<T> {
    type Value = Items<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Items<T>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Lenient> DeserializeSeed<'de> for Nested<T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(self)
    }
}

/// Text: a string, or a number rendered as one (as serde_json renders it).
impl Leaf for String {
    fn text(v: &str) -> Option<Self> {
        Some(v.to_owned())
    }
    fn integer(v: Integer) -> Option<Self> {
        Some(match v {
            Integer::Unsigned(n) => n.to_string(),
            Integer::Negative(n) => n.to_string(),
        })
    }
    fn float(v: f64) -> Option<Self> {
        serde_json::Number::from_f64(v).map(|n| n.to_string())
    }
}

impl Leaf for bool {
    fn boolean(v: bool) -> Option<Self> {
        Some(v)
    }
}

/// A count: a non-negative integer, or a string holding one (spaces around allowed).
impl Leaf for u64 {
    fn text(v: &str) -> Option<Self> {
        v.trim().parse().ok()
    }
    fn integer(v: Integer) -> Option<Self> {
        match v {
            Integer::Unsigned(n) => Some(n),
            Integer::Negative(_) => None,
        }
    }
}

/// A list attribute: absent or `null`, a list, or something else.
pub(crate) enum Items<T> {
    Missing,
    List(Vec<T>),
    Other,
}

impl<T> Items<T> {
    /// The items; anything but a list is none.
    pub(crate) fn or_empty(self) -> Vec<T> {
        match self {
            Items::List(items) => items,
            Items::Missing | Items::Other => Vec::new(),
        }
    }
}

pub(crate) struct ItemsVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ItemsVisitor<T> {
    type Value = Items<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Items<T>, A::Error> {
        // No capacity from the size hint: a hostile answer could claim any length.
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Items::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Items<T>, A::Error> {
        drain_map(map).map(|()| Items::Other)
    }
    scalars_give!(Items<T>, Items::Other, Items::Missing);
}

/// The next map value as [`Items`].
pub(crate) fn items<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    map: &mut A,
) -> Result<Items<T>, A::Error> {
    map.next_value_seed(ItemsVisitor(PhantomData))
}

/// Implements `Deserialize` for [`Lenient`] types through [`object`].
macro_rules! deserialize_leniently {
    ($($t:ty),+) => {$(
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::lenient::object(d)
            }
        }
    )+};
}
pub(crate) use deserialize_leniently;
/// An object attribute (`name`, the extension): `Some` only when it is an object.
pub(crate) fn nested<'de, T: Lenient, A: MapAccess<'de>>(
    map: &mut A,
) -> Result<Option<T>, A::Error> {
    map.next_value_seed(Nested(PhantomData))
}

/// [`Object`], but anything other than an object is `None`.
pub(crate) struct Nested<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for Nested<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        Object(PhantomData).visit_map(map).map(Some)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<T>, A::Error> {
        drain(seq).map(|()| None)
    }
    scalars_give!(Option<T>, None, None);
}
