//! Every JSON the host writes, with the contract's enum and variant cases spelled as the WIT
//! spells them.
//!
//! The bindings generated from `wit/` name a case in Rust (`UpdateUser`, `AlreadyDone`,
//! `RevokeCredential`), and their derived `Serialize` writes that name; the generator offers no way
//! to attach serde attributes. So the host serializes through [`Wit`], which hands a value to
//! serde with every variant name turned back into its WIT form (`update-user`,
//! `already-done`, `revoke-credential`, `invalid-config`) and leaves everything else (field
//! names, map keys, strings) as it is. Names already in that form (host types declared with
//! `rename_all = "kebab-case"`) pass unchanged.
//!
//! Use [`to_string`], [`to_string_pretty`], [`to_vec`] and [`to_value`] instead of
//! `serde_json`'s own, and [`to_value`] for a contract value put inside `serde_json::json!`
//! (which would otherwise serialize it with the Rust names). `docs/json.md` describes the
//! shapes these functions write.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde::ser::{self, Serialize, Serializer};

/// The JSON text of `value`, on one line.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string(&Wit(value))
}

/// The JSON text of `value`, indented.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&Wit(value))
}

/// The JSON bytes of `value`, on one line.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&Wit(value))
}

/// Writes the JSON text of `value`, on one line, to `writer`.
pub fn to_writer<W: std::io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    serde_json::to_writer(writer, &Wit(value))
}

/// `value` as a JSON value.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(Wit(value))
}

/// The WIT form of a Rust case name: `UpdateUser` → `update-user`. A name with no capital
/// letter (already in WIT form, or a host type's kebab-case name) is returned as is.
pub fn wit_name(rust: &'static str) -> &'static str {
    if !rust.bytes().any(|b| b.is_ascii_uppercase()) {
        return rust;
    }
    // Case names are the program's own constants, so the cache holds a bounded set.
    static NAMES: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    names.entry(rust).or_insert_with(|| {
        let mut kebab = String::with_capacity(rust.len() + 4);
        for (i, c) in rust.char_indices() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    kebab.push('-');
                }
                kebab.push(c.to_ascii_lowercase());
            } else {
                kebab.push(c);
            }
        }
        Box::leak(kebab.into_boxed_str())
    })
}

/// A value serialized with its variant names in WIT form (see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct Wit<'a, T: ?Sized>(pub &'a T);

impl<T: Serialize + ?Sized> Serialize for Wit<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(WitSerializer(serializer))
    }
}

/// Passes everything to the serializer inside, renaming variants on the way.
struct WitSerializer<S>(S);

/// A compound serializer (sequence, map, struct, ...) whose elements go through [`Wit`].
struct Compound<C>(C);

macro_rules! forward {
    ($($method:ident($ty:ty);)*) => {
        $(fn $method(self, v: $ty) -> Result<S::Ok, S::Error> { self.0.$method(v) })*
    };
}

impl<S: Serializer> Serializer for WitSerializer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<S::SerializeSeq>;
    type SerializeTuple = Compound<S::SerializeTuple>;
    type SerializeTupleStruct = Compound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<S::SerializeTupleVariant>;
    type SerializeMap = Compound<S::SerializeMap>;
    type SerializeStruct = Compound<S::SerializeStruct>;
    type SerializeStructVariant = Compound<S::SerializeStructVariant>;

    forward! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_unit_struct(&'static str);
    }

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Wit(value))
    }

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_unit_variant(name, index, wit_name(variant))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Wit(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, wit_name(variant), &Wit(value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Compound)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Compound)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Compound)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, wit_name(variant), len)
            .map(Compound)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Compound)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Compound)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, wit_name(variant), len)
            .map(Compound)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! compound {
    ($($trait:ident::$method:ident;)*) => {$(
        impl<C: ser::$trait> ser::$trait for Compound<C> {
            type Ok = C::Ok;
            type Error = C::Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                self.0.$method(&Wit(value))
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.0.end()
            }
        }
    )*};
}

compound! {
    SerializeSeq::serialize_element;
    SerializeTuple::serialize_element;
    SerializeTupleStruct::serialize_field;
    SerializeTupleVariant::serialize_field;
}

impl<C: ser::SerializeMap> ser::SerializeMap for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.0.serialize_key(&Wit(key))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.0.serialize_value(&Wit(value))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: ser::SerializeStruct> ser::SerializeStruct for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.0.serialize_field(key, &Wit(value))
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

impl<C: ser::SerializeStructVariant> ser::SerializeStructVariant for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.0.serialize_field(key, &Wit(value))
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::bindings::types::{
        Capability, Change, ChangeKind, ChangeStatus, ConfigError, ConnectorError, NamespacedId,
        Outcome, ProbeStatus, RateLimit, UpstreamError, UserRef,
    };

    #[test]
    fn wit_names_are_kebab_case_and_idempotent() {
        assert_eq!(wit_name("UpdateUser"), "update-user");
        assert_eq!(wit_name("RevokeCredential"), "revoke-credential");
        assert_eq!(wit_name("Ok"), "ok");
        assert_eq!(wit_name("already-done"), "already-done");
        assert_eq!(wit_name("sync"), "sync");
    }

    #[test]
    fn every_contract_case_is_written_as_the_wit_spells_it() {
        // The WIT's own names (wit/types.wit), which `Display` and `class()` also use.
        for kind in [
            ChangeKind::CreateUser,
            ChangeKind::UpdateUser,
            ChangeKind::AddMembership,
            ChangeKind::RemoveMembership,
            ChangeKind::AddRole,
            ChangeKind::RemoveRole,
            ChangeKind::RevokeCredential,
            ChangeKind::DeactivateUser,
            ChangeKind::SuspendUser,
            ChangeKind::ReactivateUser,
            ChangeKind::RestoreUser,
            ChangeKind::DeleteUser,
            ChangeKind::DeleteAccount,
        ] {
            assert_eq!(to_value(&kind).unwrap(), json!(kind.to_string()));
        }
        assert_eq!(
            to_value(&ChangeKind::Other("x".into())).unwrap(),
            json!({"other": "x"})
        );
        for cap in [
            Capability::SyncIdentities,
            Capability::ManageRelationships,
            Capability::DeprovisionIdentity,
            Capability::DeleteIdentity,
            Capability::Discover,
            Capability::ReactivateIdentity,
            Capability::ManageGroupRoles,
        ] {
            assert_eq!(to_value(&cap).unwrap(), json!(cap.to_string()));
        }
        let m = || "m".to_owned();
        for error in [
            ConnectorError::InvalidConfig(ConfigError {
                key: "base_url".into(),
                message: m(),
            }),
            ConnectorError::InvalidInput(m()),
            ConnectorError::Unauthorized(m()),
            ConnectorError::Forbidden(m()),
            ConnectorError::NotFound(m()),
            ConnectorError::Conflict(m()),
            ConnectorError::RateLimited(RateLimit {
                retry_after_ms: Some(5),
                message: m(),
            }),
            ConnectorError::Unavailable(m()),
            ConnectorError::Upstream(UpstreamError {
                status: Some(502),
                code: None,
                message: m(),
            }),
            ConnectorError::Unsupported(m()),
            ConnectorError::PolicyDenied(m()),
            ConnectorError::Other(m()),
        ] {
            let value = to_value(&error).unwrap();
            let object = value.as_object().unwrap();
            assert_eq!(
                object.keys().collect::<Vec<_>>(),
                [error.class()],
                "{value}"
            );
        }
        assert_eq!(
            to_value(&ChangeStatus::AlreadyDone).unwrap(),
            json!("already-done")
        );
        assert_eq!(
            to_value(&ProbeStatus::Skipped("no api_key".into())).unwrap(),
            json!({"skipped": "no api_key"})
        );
        assert_eq!(
            to_value(&UserRef::Id(NamespacedId::new("dir", "s-1"))).unwrap(),
            json!({"id": {"namespace": "dir", "value": "s-1"}})
        );
    }

    #[test]
    fn fields_keys_and_strings_are_left_alone() {
        let outcome = Outcome {
            user: None,
            changes: vec![Change {
                kind: ChangeKind::UpdateUser,
                target: "UpdateUser".into(),
                before: None,
                after: Some("DisplayName".into()),
                status: ChangeStatus::Failed(ConnectorError::RateLimited(RateLimit {
                    retry_after_ms: None,
                    message: "SlowDown".into(),
                })),
            }],
            completed: false,
        };
        assert_eq!(
            to_value(&outcome).unwrap(),
            json!({
                "user": null,
                "changes": [{
                    "kind": "update-user",
                    "target": "UpdateUser",
                    "before": null,
                    "after": "DisplayName",
                    "status": {"failed": {"rate-limited": {"retry_after_ms": null, "message": "SlowDown"}}},
                }],
                "completed": false,
            })
        );
        let text = to_string(&json!({"CamelKey": ["Value"]})).unwrap();
        assert_eq!(text, r#"{"CamelKey":["Value"]}"#);
    }
}
