//! The SCIM wire format under `scim_url`: URL builders, filters, resources, list responses
//! and error bodies. Unknown attributes are ignored; parsers never panic.

use serde_json::Value;

use crate::encode;
use crate::upstream::{ErrorDetail, fallback_detail};
use crate::wire;

pub mod read;

/// Schema URN of a list response.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Schema URN of an error body.
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Schema URN of a PATCH body.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The Atlassian extension carrying `atlassianAccountId`.
pub const ATLASSIAN_EXTENSION: &str = "urn:scim:schemas:extension:atlassian-external:1.0";
/// Schema URN of the core user resource.
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// `scimType` of a 409 on create: the `userName`/email already exists.
pub const UNIQUENESS: &str = "uniqueness";
/// `scimType` of a 400 when a PATCH path matched nothing (a filtered remove of a non-member).
pub const NO_TARGET: &str = "noTarget";
/// The `type` of the primary email the connector writes.
pub const WORK_EMAIL: &str = "work";

/// `{base}/Users?startIndex=…&count=…`.
pub fn users_url(base: &str, start_index: u64, count: u32) -> String {
    format!("{base}/Users?startIndex={start_index}&count={count}")
}

/// What a user listing asks the server to leave out: the attributes `list-users` does not
/// read. `groups` carries a `$ref` URL per group (1,000 of them for a user in 1,000 groups),
/// `meta` a location URL per user; together with `emails` and `name` they are about two
/// thirds of a listed user's bytes, which at 150,000 users is most of an extraction's cost
/// on both sides of the wire. Only attributes the listing ignores are named, so a server
/// that ignores the parameter (RFC 7644 §3.4.2.5 makes it optional) costs bytes, never a
/// value; `attributes=` would be the other way round.
pub const USER_LISTING_EXCLUDES: &str = "groups,meta,emails,name";

/// `{base}/Users?startIndex=…&count=…&excludedAttributes=…`: a page of the user listing,
/// without the attributes in [`USER_LISTING_EXCLUDES`].
pub fn users_page_url(base: &str, start_index: u64, count: u32) -> String {
    format!(
        "{}&excludedAttributes={USER_LISTING_EXCLUDES}",
        users_url(base, start_index, count)
    )
}

/// `{base}/Users`, the collection new users are POSTed to.
pub fn users_collection_url(base: &str) -> String {
    format!("{base}/Users")
}

/// `{base}/Users?filter=<attr eq "value">&startIndex=1&count=…`, the filter percent-encoded.
pub fn users_filter_url(base: &str, attribute: &str, value: &str, count: u32) -> String {
    format!(
        "{base}/Users?filter={}&startIndex=1&count={count}",
        encode::query(&filter_eq(attribute, value))
    )
}

/// `{base}/Users/{id}`, the id percent-encoded.
pub fn user_url(base: &str, id: &str) -> String {
    format!("{base}/Users/{}", encode::segment(id))
}

/// `{base}/Groups?startIndex=…&count=…`.
pub fn groups_url(base: &str, start_index: u64, count: u32) -> String {
    format!("{base}/Groups?startIndex={start_index}&count={count}")
}

/// `{base}/Groups?filter=displayName eq "name"`, percent-encoded.
pub fn groups_by_name_url(base: &str, display_name: &str) -> String {
    format!(
        "{base}/Groups?filter={}",
        encode::query(&filter_eq("displayName", display_name))
    )
}

/// `{base}/Groups/{id}`, the id percent-encoded.
pub fn group_url(base: &str, id: &str) -> String {
    format!("{base}/Groups/{}", encode::segment(id))
}

/// `excludedAttributes=members` (RFC 7644 §3.9): a group without its member list, which can
/// hold tens of thousands of entries. A server that ignores it sends the members anyway,
/// which costs only time: nothing depends on their absence.
pub const WITHOUT_MEMBERS: &str = "excludedAttributes=members";

/// `{base}/Groups?filter=displayName eq "name"&excludedAttributes=members`: the look-up of
/// a group by name when membership is decided from the user's own `groups` attribute.
pub fn groups_by_name_without_members_url(base: &str, display_name: &str) -> String {
    format!(
        "{}&{WITHOUT_MEMBERS}",
        groups_by_name_url(base, display_name)
    )
}

/// `{base}/Groups/{id}?excludedAttributes=members`: the URL membership PATCHes go to, so
/// the group the server answers with (RFC 7644 §3.5.2) does not carry every member.
pub fn group_patch_url(base: &str, id: &str) -> String {
    format!("{}?{WITHOUT_MEMBERS}", group_url(base, id))
}

/// `attribute eq "value"` with `\` and `"` escaped inside the quotes (not yet URL-encoded).
pub fn filter_eq(attribute: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{attribute} eq \"{escaped}\"")
}

/// A SCIM ListResponse. `totalResults` is required; `Resources` may be absent or null.
#[derive(Debug, Clone)]
pub struct ListResponse<T> {
    /// `totalResults`.
    pub total_results: u64,
    /// `startIndex`, when given.
    pub start_index: Option<u64>,
    /// `itemsPerPage`, when given.
    pub items_per_page: Option<u64>,
    /// `Resources` (capital R).
    pub resources: Vec<T>,
}

/// One page of a paged SCIM listing. Unlike [`ListResponse`], an absent or `null`
/// `Resources` stays `None`, so a listing can tell "no resources" (allowed only when nothing
/// is left) from "an empty page".
#[derive(Debug, Clone)]
pub struct ListPage<T> {
    /// `totalResults`.
    pub total_results: u64,
    /// `Resources` (capital R), `None` when absent or `null`.
    pub resources: Option<Vec<T>>,
}

/// A multi-valued attribute entry (`emails`, `groups`, `members`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultiValue {
    /// `value`.
    pub value: Option<String>,
    /// `display`.
    pub display: Option<String>,
    /// `type`.
    pub kind: Option<String>,
    /// `primary`.
    pub primary: Option<bool>,
}

/// `name`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Name {
    /// `formatted`.
    pub formatted: Option<String>,
    /// `givenName`.
    pub given_name: Option<String>,
    /// `familyName`.
    pub family_name: Option<String>,
}

/// The Atlassian extension object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AtlassianExtension {
    /// `atlassianAccountId`; missing or null until the account is linked.
    pub account_id: Option<String>,
}

/// A SCIM user resource (the attributes the connector reads). Read leniently by
/// [`read`]: unknown attributes, and known ones of an unexpected type, are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    /// `id`.
    pub id: Option<String>,
    /// `userName`.
    pub user_name: Option<String>,
    /// `emails`.
    pub emails: Vec<MultiValue>,
    /// `name`.
    pub name: Option<Name>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `active`.
    pub active: Option<bool>,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `groups`.
    pub groups: Vec<MultiValue>,
    /// True when the resource carries a `groups` list at all (empty or not): a server that
    /// keeps none cannot say the user is in no group.
    pub groups_listed: bool,
    /// The Atlassian extension.
    pub atlassian: Option<AtlassianExtension>,
}

impl User {
    /// The linked Atlassian account id, if any.
    pub fn account_id(&self) -> Option<&str> {
        self.atlassian
            .as_ref()
            .and_then(|a| a.account_id.as_deref())
            .filter(|s| !s.is_empty())
    }
}

/// A SCIM group resource, read leniently like [`User`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// `id`.
    pub id: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `members` (SCIM user ids in `value`).
    pub members: Vec<MultiValue>,
}

/// Parses a SCIM list response body.
pub fn parse_list<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<ListResponse<T>, String> {
    read::list(body)
}

/// Parses one page of a paged SCIM listing.
pub fn parse_page<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<ListPage<T>, String> {
    read::list(body)
}

/// Parses a SCIM user resource.
pub fn parse_user(body: &[u8]) -> Result<User, String> {
    read::from_body(body)
}

/// Parses a SCIM error body (`{"status":"409","scimType":…,"detail":…}`, status a string or
/// a number), falling back to the `{"error":…,"traceId":…}` form of 401/403.
pub fn parse_error(body: &[u8]) -> Option<ErrorDetail> {
    let v = wire::parse_value(body).ok()?;
    let obj = v.as_object()?;
    let scim_type = obj
        .get("scimType")
        .and_then(wire::value_to_string)
        .filter(|s| !s.is_empty());
    let detail = obj
        .get("detail")
        .and_then(wire::value_to_string)
        .filter(|s| !s.is_empty());
    match (scim_type, detail) {
        (None, None) => fallback_detail(&v),
        (code, Some(message)) => Some(ErrorDetail { code, message }),
        (Some(code), None) => Some(ErrorDetail {
            message: code.clone(),
            code: Some(code),
        }),
    }
}

/// A user attribute that `sync-identity` manages, with its PATCH path.
///
/// `active` is deliberately absent: it is not a sync attribute (deprovisioning owns it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    /// `userName` (the email).
    UserName,
    /// `emails`: the primary work email.
    Emails,
    /// `name.formatted`.
    NameFormatted,
    /// `name.givenName`.
    GivenName,
    /// `name.familyName`.
    FamilyName,
    /// `displayName`.
    DisplayName,
    /// `externalId`.
    ExternalId,
}

impl Attribute {
    /// Every managed attribute, in the order changes are listed and patched.
    pub const ALL: [Attribute; 7] = [
        Attribute::UserName,
        Attribute::Emails,
        Attribute::NameFormatted,
        Attribute::GivenName,
        Attribute::FamilyName,
        Attribute::DisplayName,
        Attribute::ExternalId,
    ];

    /// The attribute's SCIM path, as used in PATCH operations and change summaries.
    pub fn path(self) -> &'static str {
        match self {
            Attribute::UserName => "userName",
            Attribute::Emails => "emails",
            Attribute::NameFormatted => "name.formatted",
            Attribute::GivenName => "name.givenName",
            Attribute::FamilyName => "name.familyName",
            Attribute::DisplayName => "displayName",
            Attribute::ExternalId => "externalId",
        }
    }

    /// True when values compare case-insensitively (`userName` and emails are identities).
    pub fn case_insensitive(self) -> bool {
        matches!(self, Attribute::UserName | Attribute::Emails)
    }

    /// The JSON value a `replace` of this attribute carries for `value`: the email becomes a
    /// one-element `emails` list with the primary work email, everything else a string.
    pub fn patch_value(self, value: &str) -> Value {
        match self {
            Attribute::Emails => primary_work_email(value),
            _ => Value::from(value),
        }
    }
}

fn primary_work_email(email: &str) -> Value {
    Value::Array(vec![wire::obj(vec![
        ("value", Value::from(email)),
        ("type", Value::from(WORK_EMAIL)),
        ("primary", Value::Bool(true)),
    ])])
}

impl User {
    /// The primary email: the entry marked `primary`, else the `work` one, else the first.
    pub fn primary_email(&self) -> Option<&str> {
        self.emails
            .iter()
            .find(|e| e.primary == Some(true))
            .or_else(|| {
                self.emails
                    .iter()
                    .find(|e| e.kind.as_deref() == Some(WORK_EMAIL))
            })
            .or_else(|| self.emails.first())
            .and_then(|e| e.value.as_deref())
    }

    /// The current value of a managed attribute, if the record has one.
    pub fn attribute(&self, attribute: Attribute) -> Option<&str> {
        let name = self.name.as_ref();
        match attribute {
            Attribute::UserName => self.user_name.as_deref(),
            Attribute::Emails => self.primary_email(),
            Attribute::NameFormatted => name.and_then(|n| n.formatted.as_deref()),
            Attribute::GivenName => name.and_then(|n| n.given_name.as_deref()),
            Attribute::FamilyName => name.and_then(|n| n.family_name.as_deref()),
            Attribute::DisplayName => self.display_name.as_deref(),
            Attribute::ExternalId => self.external_id.as_deref(),
        }
    }

    /// True when this user's read-only `groups` attribute lists the SCIM group `group_id`.
    pub fn in_group(&self, group_id: &str) -> bool {
        self.groups
            .iter()
            .any(|g| g.value.as_deref() == Some(group_id))
    }
}

impl Group {
    /// True when the group's inline `members` list the SCIM user `user_id`.
    pub fn has_member(&self, user_id: &str) -> bool {
        self.members
            .iter()
            .any(|m| m.value.as_deref() == Some(user_id))
    }
}

/// The body of `POST /Users`: the given attributes (each `(attribute, value)` once), and
/// `active: true`. `userName` should be among them.
pub fn create_user_body(attributes: &[(Attribute, &str)]) -> Vec<u8> {
    let mut doc = serde_json::Map::new();
    doc.insert("schemas".into(), wire::str_list(&[CORE_USER]));
    let mut name = serde_json::Map::new();
    for (attribute, value) in attributes {
        match attribute {
            Attribute::UserName => {
                doc.insert("userName".into(), Value::from(*value));
            }
            Attribute::Emails => {
                doc.insert("emails".into(), primary_work_email(value));
            }
            Attribute::NameFormatted => {
                name.insert("formatted".into(), Value::from(*value));
            }
            Attribute::GivenName => {
                name.insert("givenName".into(), Value::from(*value));
            }
            Attribute::FamilyName => {
                name.insert("familyName".into(), Value::from(*value));
            }
            Attribute::DisplayName => {
                doc.insert("displayName".into(), Value::from(*value));
            }
            Attribute::ExternalId => {
                doc.insert("externalId".into(), Value::from(*value));
            }
        }
    }
    if !name.is_empty() {
        doc.insert("name".into(), Value::Object(name));
    }
    doc.insert("active".into(), Value::Bool(true));
    wire::to_body(&Value::Object(doc))
}

/// One operation of a SCIM PATCH body.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchOperation {
    /// `{"op":"replace","path":…,"value":…}`.
    Replace {
        /// The attribute path.
        path: String,
        /// The new value.
        value: Value,
    },
    /// `{"op":"add","path":"members","value":[{"value":<user id>}]}`.
    AddMember(String),
    /// `{"op":"remove","path":"members[value eq \"<user id>\"]"}`: always filtered, never
    /// a bare `members` remove (which empties the group on several servers).
    RemoveMember(String),
}

impl PatchOperation {
    /// A `replace` of a managed attribute with `value`.
    pub fn replace(attribute: Attribute, value: &str) -> Self {
        PatchOperation::Replace {
            path: attribute.path().to_string(),
            value: attribute.patch_value(value),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            PatchOperation::Replace { path, value } => wire::obj(vec![
                ("op", Value::from("replace")),
                ("path", Value::from(path.as_str())),
                ("value", value.clone()),
            ]),
            PatchOperation::AddMember(id) => wire::obj(vec![
                ("op", Value::from("add")),
                ("path", Value::from("members")),
                (
                    "value",
                    Value::Array(vec![wire::obj(vec![("value", Value::from(id.as_str()))])]),
                ),
            ]),
            PatchOperation::RemoveMember(id) => wire::obj(vec![
                ("op", Value::from("remove")),
                ("path", Value::from(member_path(id))),
            ]),
        }
    }
}

/// `members[value eq "<user id>"]`, the id escaped like any filter value.
pub fn member_path(user_id: &str) -> String {
    format!("members[{}]", filter_eq("value", user_id))
}

/// A PATCH body: `{"schemas":[PatchOp],"Operations":[…]}` (capital O, lowercase `op`).
pub fn patch_body(operations: &[PatchOperation]) -> Vec<u8> {
    let mut ops = Vec::with_capacity(operations.len());
    for op in operations {
        ops.push(op.to_json());
    }
    wire::to_body(&wire::obj(vec![
        ("schemas", wire::str_list(&[PATCH_OP])),
        ("Operations", Value::Array(ops)),
    ]))
}

/// The PATCH that deactivates (`false`) or reactivates (`true`) a user: `replace` `active`
/// with a JSON boolean.
pub fn active_body(active: bool) -> Vec<u8> {
    patch_body(&[PatchOperation::Replace {
        path: "active".to_string(),
        value: Value::Bool(active),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_encode_filters_and_ids() {
        let base = "https://h/scim/directory/d";
        assert_eq!(
            users_url(base, 1, 1),
            "https://h/scim/directory/d/Users?startIndex=1&count=1"
        );
        assert_eq!(
            users_filter_url(base, "userName", "o'h+a@x.com", 2),
            "https://h/scim/directory/d/Users?filter=userName%20eq%20%22o%27h%2Ba%40x.com%22&startIndex=1&count=2"
        );
        assert_eq!(
            filter_eq("externalId", r#"a"b\c d"#),
            r#"externalId eq "a\"b\\c d""#
        );
        assert_eq!(
            user_url(base, "a/b c"),
            "https://h/scim/directory/d/Users/a%2Fb%20c"
        );
        assert_eq!(
            groups_by_name_url(base, "eng ops"),
            "https://h/scim/directory/d/Groups?filter=displayName%20eq%20%22eng%20ops%22"
        );
    }

    #[test]
    fn parses_list_and_user_ignoring_unknowns() {
        let body = br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults":"2","startIndex":1,"itemsPerPage":1,"weird":{"x":1},
            "Resources":[{"id":"u1","userName":"ada@example.com","active":true,
              "emails":[{"value":"ada@example.com","type":"work","primary":true}],
              "name":{"formatted":"Ada"},"groups":null,"meta":{"resourceType":"USER"},
              "urn:scim:schemas:extension:atlassian-external:1.0":{"atlassianAccountId":"712020:x"}}]}"#;
        let list: ListResponse<User> = parse_list(body).unwrap();
        assert_eq!(list.total_results, 2);
        assert_eq!(list.resources.len(), 1);
        let u = &list.resources[0];
        assert_eq!(u.id.as_deref(), Some("u1"));
        assert_eq!(u.account_id(), Some("712020:x"));
        assert_eq!(u.emails[0].primary, Some(true));
        assert!(u.groups.is_empty());
        let empty: ListResponse<User> =
            parse_list(br#"{"totalResults":0,"Resources":null}"#).unwrap();
        assert!(empty.resources.is_empty());
        assert!(parse_list::<User>(br#"{"Resources":[]}"#).is_err());
        assert!(parse_list::<User>(br#"{"totalResults":"many"}"#).is_err());
    }

    #[test]
    fn parses_errors() {
        let e = parse_error(br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"User exists"}"#).unwrap();
        assert_eq!(
            e,
            ErrorDetail {
                code: Some("uniqueness".into()),
                message: "User exists".into()
            }
        );
        let e = parse_error(br#"{"error":"Unauthorized","traceId":"abc"}"#).unwrap();
        assert_eq!(
            e,
            ErrorDetail {
                code: None,
                message: "Unauthorized".into()
            }
        );
        assert_eq!(parse_error(b"<html>"), None);
        assert_eq!(parse_error(b"[1]"), None);
    }

    #[test]
    fn builds_create_and_patch_bodies() {
        let body = create_user_body(&[
            (Attribute::UserName, "ada@example.com"),
            (Attribute::Emails, "ada@example.com"),
            (Attribute::GivenName, "Ada"),
            (Attribute::DisplayName, "Ada L."),
        ]);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"schemas": [CORE_USER], "userName": "ada@example.com",
                   "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
                   "name": {"givenName": "Ada"}, "displayName": "Ada L.", "active": true})
        );
        let body = patch_body(&[
            PatchOperation::replace(Attribute::NameFormatted, "Ada"),
            PatchOperation::AddMember("u1".into()),
            PatchOperation::RemoveMember(r#"u"2\"#.into()),
        ]);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "name.formatted", "value": "Ada"},
                {"op": "add", "path": "members", "value": [{"value": "u1"}]},
                {"op": "remove", "path": "members[value eq \"u\\\"2\\\\\"]"}]})
        );
        assert_eq!(member_path("abc"), r#"members[value eq "abc"]"#);
    }

    #[test]
    fn reads_managed_attributes_and_memberships() {
        let u = parse_user(br#"{"id": "u1", "userName": "a@x.com",
            "emails": [{"value": "old@x.com", "type": "home"}, {"value": "a@x.com", "primary": true}],
            "name": {"formatted": "A", "familyName": "X"},
            "groups": [{"value": "g1"}]}"#)
        .unwrap();
        assert_eq!(u.attribute(Attribute::Emails), Some("a@x.com"));
        assert_eq!(u.attribute(Attribute::NameFormatted), Some("A"));
        assert_eq!(u.attribute(Attribute::GivenName), None);
        assert_eq!(u.attribute(Attribute::FamilyName), Some("X"));
        assert_eq!(u.attribute(Attribute::DisplayName), None);
        assert!(u.in_group("g1") && !u.in_group("g2"));
        assert_eq!(u.account_id(), None);
        let g: Group = read::from_body(br#"{"id": "g1", "members": [{"value": "u1"}]}"#).unwrap();
        assert!(g.has_member("u1") && !g.has_member("u2"));
    }
}
