//! Reading SCIM resources and list responses straight from a body, without a JSON tree.
//!
//! A `serde_json::Value` tree costs a `BTreeMap` node (~400 bytes in the guest) for every
//! object, so a group answered with 35,000 members inline (7.8 MB of body) took ~30 MB of
//! guest memory before the connector kept its member ids, and every listed user paid for
//! its `emails`, `groups` and `meta` objects. These readers keep only the attributes the
//! connector reads, as they stream past.
//!
//! They are as lenient as the tree readers they replace (the tests hold them to it): an
//! unknown attribute, or a known one of an unexpected type, is skipped; a resource that is
//! not an object reads as an empty one; a string attribute may be a number (rendered as
//! one). Only a list response itself can be wrong (not an object, no numeric
//! `totalResults`, `Resources` neither a list nor `null`), and that is decided after the
//! whole body parsed, so a body that is not JSON still reports its syntax error first. One
//! difference is deliberate: a value in an attribute the reader skips is checked for syntax
//! but not decoded, so a number out of range (`1e400`) or a lone surrogate escape there is
//! skipped like any other value, where the tree refused the whole body.
//! The walk itself, shared with the admin API's readers, is `crate::lenient`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de::DeserializeOwned};

pub use crate::lenient::{Checked, from_body};
use crate::lenient::{
    Field, Items, Lenient, deserialize_leniently, drain, items, leaf, nested, scalars_give,
};

use super::{
    ATLASSIAN_EXTENSION, AtlassianExtension, Group, ListPage, ListResponse, MultiValue, Name, User,
};

deserialize_leniently!(MultiValue, Name, AtlassianExtension, User, Group);

impl Lenient for MultiValue {
    const FIELDS: &'static [&'static str] = &["value", "display", "type", "primary"];
    fn read<'de, A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => self.value = leaf(map)?,
            1 => self.display = leaf(map)?,
            2 => self.kind = leaf(map)?,
            _ => self.primary = leaf(map)?,
        }
        Ok(())
    }
}

impl Lenient for Name {
    const FIELDS: &'static [&'static str] = &["formatted", "givenName", "familyName"];
    fn read<'de, A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => self.formatted = leaf(map)?,
            1 => self.given_name = leaf(map)?,
            _ => self.family_name = leaf(map)?,
        }
        Ok(())
    }
}

impl Lenient for AtlassianExtension {
    const FIELDS: &'static [&'static str] = &["atlassianAccountId"];
    fn read<'de, A: MapAccess<'de>>(&mut self, _: usize, map: &mut A) -> Result<(), A::Error> {
        self.account_id = leaf(map)?;
        Ok(())
    }
}

impl Lenient for User {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "userName",
        "emails",
        "name",
        "displayName",
        "active",
        "externalId",
        "groups",
        ATLASSIAN_EXTENSION,
    ];
    fn read<'de, A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => self.id = leaf(map)?,
            1 => self.user_name = leaf(map)?,
            2 => self.emails = items(map)?.or_empty(),
            3 => self.name = nested(map)?,
            4 => self.display_name = leaf(map)?,
            5 => self.active = leaf(map)?,
            6 => self.external_id = leaf(map)?,
            7 => {
                let groups = items(map)?;
                self.groups_listed = matches!(groups, Items::List(_));
                self.groups = groups.or_empty();
            }
            _ => self.atlassian = nested(map)?,
        }
        Ok(())
    }
}

impl Lenient for Group {
    const FIELDS: &'static [&'static str] = &["id", "displayName", "members"];
    fn read<'de, A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => self.id = leaf(map)?,
            1 => self.display_name = leaf(map)?,
            _ => self.members = items(map)?.or_empty(),
        }
        Ok(())
    }
}

/// A list response's attributes as read, judged once the body has parsed.
struct Envelope<T> {
    object: bool,
    total_results: Option<Option<u64>>,
    start_index: Option<u64>,
    items_per_page: Option<u64>,
    resources: Items<T>,
}

/// A list response that passed [`Envelope::check`].
struct Listed<T> {
    total_results: u64,
    start_index: Option<u64>,
    items_per_page: Option<u64>,
    /// `None` when absent or `null`.
    resources: Option<Vec<T>>,
}

impl<T> Envelope<T> {
    /// What [`ListPage`] needs: an object with a numeric `totalResults`, and `Resources` a
    /// list, `null` or absent.
    fn check(self) -> Result<Listed<T>, String> {
        if !self.object {
            return Err("expected an object for a SCIM ListResponse".to_string());
        }
        let total = match self.total_results {
            None => return Err("missing field `totalResults`".to_string()),
            Some(None) => return Err("totalResults is not a number".to_string()),
            Some(Some(n)) => n,
        };
        let resources = match self.resources {
            Items::Missing => None,
            Items::List(items) => Some(items),
            Items::Other => return Err("invalid type: `Resources` is not a list".to_string()),
        };
        Ok(Listed {
            total_results: total,
            start_index: self.start_index,
            items_per_page: self.items_per_page,
            resources,
        })
    }
}

struct EnvelopeVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for EnvelopeVisitor<T> {
    type Value = Envelope<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<T>, A::Error> {
        const FIELDS: &[&str] = &["totalResults", "startIndex", "itemsPerPage", "Resources"];
        let mut out = Envelope {
            object: true,
            ..not_an_object()
        };
        while let Some(field) = map.next_key_seed(Field(FIELDS))? {
            match field {
                Some(0) => out.total_results = Some(leaf(&mut map)?),
                Some(1) => out.start_index = leaf(&mut map)?,
                Some(2) => out.items_per_page = leaf(&mut map)?,
                Some(_) => out.resources = items(&mut map)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Envelope<T>, A::Error> {
        drain(seq).map(|()| not_an_object())
    }
    scalars_give!(Envelope<T>, not_an_object(), not_an_object());
}

fn not_an_object<T>() -> Envelope<T> {
    Envelope {
        object: false,
        total_results: None,
        start_index: None,
        items_per_page: None,
        resources: Items::Missing,
    }
}

fn envelope<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Result<Listed<T>, String>, D::Error> {
    d.deserialize_any(EnvelopeVisitor(PhantomData))
        .map(Envelope::check)
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Checked<ListPage<T>> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Checked(envelope(d)?.map(|l| ListPage {
            total_results: l.total_results,
            resources: l.resources,
        })))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Checked<ListResponse<T>> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Checked(envelope(d)?.map(|l| ListResponse {
            total_results: l.total_results,
            start_index: l.start_index,
            items_per_page: l.items_per_page,
            resources: l.resources.unwrap_or_default(),
        })))
    }
}

/// Reads a list response (or page) from a body: the syntax error, or what the list response
/// lacks, else the value.
pub fn list<T>(body: &[u8]) -> Result<T, String>
where
    Checked<T>: DeserializeOwned,
{
    from_body::<Checked<T>>(body)?.0
}

impl<'de> Deserialize<'de> for crate::wire::Ignored {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| crate::wire::Ignored)
    }
}

#[cfg(test)]
mod tests {
    //! The readers against the tree readers they replaced, kept here as the oracle: on every
    //! body both give the same value or both fail, with the same message.
    use super::*;
    use crate::wire::{self, FromJson};
    use serde_json::Value;

    fn multi(v: &Value) -> MultiValue {
        MultiValue {
            value: wire::field_string(v, "value"),
            display: wire::field_string(v, "display"),
            kind: wire::field_string(v, "type"),
            primary: wire::field_bool(v, "primary"),
        }
    }

    fn multis(v: &Value, key: &str) -> Vec<MultiValue> {
        wire::field_list(v, key).iter().map(multi).collect()
    }

    #[derive(Debug, PartialEq)]
    struct OracleUser(User);
    impl FromJson for OracleUser {
        fn from_json(v: &Value) -> Result<Self, String> {
            Ok(OracleUser(User {
                id: wire::field_string(v, "id"),
                user_name: wire::field_string(v, "userName"),
                emails: multis(v, "emails"),
                name: v.get("name").filter(|n| n.is_object()).map(|n| Name {
                    formatted: wire::field_string(n, "formatted"),
                    given_name: wire::field_string(n, "givenName"),
                    family_name: wire::field_string(n, "familyName"),
                }),
                display_name: wire::field_string(v, "displayName"),
                active: wire::field_bool(v, "active"),
                external_id: wire::field_string(v, "externalId"),
                groups: multis(v, "groups"),
                groups_listed: v.get("groups").is_some_and(Value::is_array),
                atlassian: v
                    .get(ATLASSIAN_EXTENSION)
                    .filter(|x| x.is_object())
                    .map(|x| AtlassianExtension {
                        account_id: wire::field_string(x, "atlassianAccountId"),
                    }),
            }))
        }
    }

    #[derive(Debug, PartialEq)]
    struct OracleGroup(Group);
    impl FromJson for OracleGroup {
        fn from_json(v: &Value) -> Result<Self, String> {
            Ok(OracleGroup(Group {
                id: wire::field_string(v, "id"),
                display_name: wire::field_string(v, "displayName"),
                members: multis(v, "members"),
            }))
        }
    }

    /// The tree reader of a list response: `(totalResults, startIndex, itemsPerPage,
    /// Resources)`.
    type OracleList<T> = (u64, Option<u64>, Option<u64>, Option<Vec<T>>);

    fn oracle_list<T: FromJson>(body: &[u8]) -> Result<OracleList<T>, String> {
        let v = wire::parse_value(body)?;
        let o = wire::object(&v, "a SCIM ListResponse")?;
        let total = wire::value_to_u64(wire::required(o, "totalResults")?)
            .ok_or_else(|| "totalResults is not a number".to_string())?;
        Ok((
            total,
            wire::opt_u64(o, "startIndex"),
            wire::opt_u64(o, "itemsPerPage"),
            wire::opt_list(o.get("Resources"), "Resources")?,
        ))
    }

    fn same_as_the_tree(body: &str) {
        let b = body.as_bytes();
        let undecodable = |e: &String| {
            [
                "number out of range",
                "escape",
                "surrogate",
                "unicode code point",
            ]
            .iter()
            .any(|m| e.contains(m))
        };
        if wire::parse_value(b).is_err_and(|e| undecodable(&e)) {
            // Skipped values are not decoded (the module's one difference); a known
            // attribute's still is.
            let _ = (list::<ListResponse<User>>(b), list::<ListPage<Group>>(b));
            let _ = from_body::<User>(b);
            return;
        }
        let users = oracle_list::<OracleUser>(b).map(|(t, s, i, r)| {
            (
                t,
                s,
                i,
                r.map(|r| r.into_iter().map(|u| u.0).collect::<Vec<_>>()),
            )
        });
        let read = list::<ListResponse<User>>(b).map(|l| {
            (
                l.total_results,
                l.start_index,
                l.items_per_page,
                l.resources,
            )
        });
        let expected = users
            .clone()
            .map(|(t, s, i, r)| (t, s, i, r.unwrap_or_default()));
        agree(read, expected, "users", body);
        let page = list::<ListPage<User>>(b).map(|p| (p.total_results, p.resources));
        agree(page, users.map(|(t, _, _, r)| (t, r)), "page", body);
        let groups = oracle_list::<OracleGroup>(b)
            .map(|(t, _, _, r)| (t, r.map(|r| r.into_iter().map(|g| g.0).collect::<Vec<_>>())));
        let read = list::<ListPage<Group>>(b).map(|p| (p.total_results, p.resources));
        agree(read, groups, "groups", body);
        let user = wire::parse::<OracleUser>(b).map(|u| u.0);
        agree(from_body::<User>(b), user, "user", body);
    }

    /// The same value, or the same error. The tree refuses a body nested past serde_json's
    /// recursion limit (128); the reader skips a value it does not read without recursing,
    /// so it accepts such a value when the body is otherwise JSON, and reports a body that
    /// is not where it ends.
    fn agree<T: PartialEq + std::fmt::Debug>(
        read: Result<T, String>,
        tree: Result<T, String>,
        what: &str,
        body: &str,
    ) {
        match &tree {
            Err(e) if e.starts_with("recursion limit") => {}
            _ => assert_eq!(read, tree, "{what} in {body}"),
        }
    }

    #[test]
    fn reads_what_the_tree_read() {
        let user = r#"{"id":"u1","userName":"ada@example.com","active":true,
            "emails":[{"value":"ada@example.com","type":"work","primary":true},"x",null,{"value":7}],
            "name":{"formatted":"Ada","givenName":["no"],"familyName":1.5,"x":{}},
            "displayName":null,"externalId":-12,"groups":[{"value":"g1","display":"eng"}],
            "meta":{"resourceType":"User","nested":[[{"a":1}]]},
            "urn:scim:schemas:extension:atlassian-external:1.0":{"atlassianAccountId":"712020:x"}}"#;
        let odd = r#"{"id":{"a":1},"userName":true,"emails":{"value":"x"},"name":"Ada",
            "active":"true","groups":{},"urn:scim:schemas:extension:atlassian-external:1.0":5,
            "id":"second wins","groups":null}"#;
        let group = r#"{"id":"g1","displayName":"eng","members":[{"value":"u1","$ref":"…"},{"display":"x"},3]}"#;
        for resources in [
            format!("[{user},{odd},{group},null,1,\"s\",[],{{}}]"),
            "null".into(),
            "[]".into(),
            "{}".into(),
            "\"x\"".into(),
            "7".into(),
        ] {
            for total in [
                "1", "\"2\"", "\" 3 \"", "-1", "1.5", "null", "\"many\"", "[]", "1e3",
            ] {
                same_as_the_tree(&format!(
                    r#"{{"schemas":[],"totalResults":{total},"startIndex":"4","itemsPerPage":-2,"Resources":{resources}}}"#
                ));
                same_as_the_tree(&format!(
                    r#"{{"Resources":{resources},"totalResults":{total},"Resources":{resources}}}"#
                ));
            }
            same_as_the_tree(&format!(r#"{{"Resources":{resources}}}"#));
        }
        for body in [
            user,
            odd,
            group,
            "",
            " ",
            "null",
            "[]",
            "[1,2]",
            "\"x\"",
            "{",
            "{\"totalResults\":",
            "{\"totalResults\":1}x",
            "{\"totalResults\":1e400}",
            "{\"a\":\"\\ud800\"}",
            "{\"totalResults\":1,\"Resources\":[{\"id\":1e400}]}",
            "{\"totalResults\":1,\"Resources\":[{\"id\":\"\\u00e9\\n\"}]}",
            "{\"totalResults\":18446744073709551615}",
            "{\"totalResults\":18446744073709551616}",
        ] {
            same_as_the_tree(body);
        }
        same_as_the_tree(&"[".repeat(1_000));
        same_as_the_tree(&format!(
            "{{\"totalResults\":1,\"Resources\":[{{\"meta\":{}1{}}}]}}",
            "[".repeat(200),
            "]".repeat(200)
        ));
    }

    #[test]
    fn a_known_attribute_out_of_range_is_still_refused() {
        for body in [
            r#"{"totalResults":1e400}"#,
            r#"{"totalResults":1,"Resources":[{"id":1e400}]}"#,
            r#"{"totalResults":1,"Resources":[{"id":"\ud800"}]}"#,
        ] {
            let e = list::<ListPage<User>>(body.as_bytes()).unwrap_err();
            assert!(e.contains("range") || e.contains("escape"), "{e}");
        }
        let skipped = r#"{"totalResults":1,"meta":1e400,"Resources":[{"meta":[1e400,"\ud800"]}]}"#;
        assert_eq!(
            list::<ListPage<User>>(skipped.as_bytes())
                .unwrap()
                .total_results,
            1
        );
    }

    #[test]
    fn a_group_keeps_only_what_it_reads() {
        let members: Vec<String> = (0..1_000)
            .map(|i| format!(r#"{{"value":"u{i}","display":"user{i}@example.com","$ref":"https://x/Users/u{i}"}}"#))
            .collect();
        let body = format!(
            r#"{{"totalResults":1,"Resources":[{{"id":"g","displayName":"big","members":[{}]}}]}}"#,
            members.join(",")
        );
        let page = list::<ListPage<Group>>(body.as_bytes()).unwrap();
        let group = &page.resources.unwrap()[0];
        assert_eq!(group.members.len(), 1_000);
        assert_eq!(group.members[999].value.as_deref(), Some("u999"));
        assert!(group.has_member("u500"));
        same_as_the_tree(&body);
    }
}
