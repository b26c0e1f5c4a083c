//! The SCIM wire format under `scim_url`: URL builders, filters, resources, list responses
//! and error bodies. Unknown attributes are ignored; parsers never panic.

use serde::Deserialize;
use serde_json::Value;

use crate::encode;
use crate::upstream::{ErrorDetail, fallback_detail};
use crate::wire;

/// Schema URN of a list response.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Schema URN of an error body.
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Schema URN of a PATCH body.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The Atlassian extension carrying `atlassianAccountId`.
pub const ATLASSIAN_EXTENSION: &str = "urn:scim:schemas:extension:atlassian-external:1.0";

/// `{base}/Users?startIndex=…&count=…`.
pub fn users_url(base: &str, start_index: u64, count: u32) -> String {
    format!("{base}/Users?startIndex={start_index}&count={count}")
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

/// `attribute eq "value"` with `\` and `"` escaped inside the quotes (not yet URL-encoded).
pub fn filter_eq(attribute: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{attribute} eq \"{escaped}\"")
}

/// A SCIM ListResponse. `totalResults` is required; `Resources` may be absent or null.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct ListResponse<T> {
    /// `totalResults`.
    #[serde(rename = "totalResults", deserialize_with = "required_u64")]
    pub total_results: u64,
    /// `startIndex`, when given.
    #[serde(rename = "startIndex", default, deserialize_with = "wire::opt_u64")]
    pub start_index: Option<u64>,
    /// `itemsPerPage`, when given.
    #[serde(rename = "itemsPerPage", default, deserialize_with = "wire::opt_u64")]
    pub items_per_page: Option<u64>,
    /// `Resources` (capital R).
    #[serde(
        rename = "Resources",
        default,
        deserialize_with = "wire::null_as_empty"
    )]
    pub resources: Vec<T>,
}

fn required_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    wire::opt_u64(d)?.ok_or_else(|| serde::de::Error::custom("totalResults is not a number"))
}

/// One page of a paged SCIM listing. Unlike [`ListResponse`], an absent or `null`
/// `Resources` stays `None`, so a listing can tell "no resources" (allowed only when nothing
/// is left) from "an empty page".
#[derive(Debug, Clone, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct ListPage<T> {
    /// `totalResults`.
    #[serde(rename = "totalResults", deserialize_with = "required_u64")]
    pub total_results: u64,
    /// `Resources` (capital R), `None` when absent or `null`.
    #[serde(rename = "Resources", default)]
    pub resources: Option<Vec<T>>,
}

/// A multi-valued attribute entry (`emails`, `groups`, `members`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct MultiValue {
    /// `value`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub value: Option<String>,
    /// `display`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub display: Option<String>,
    /// `type`.
    #[serde(rename = "type", default, deserialize_with = "wire::opt_string")]
    pub kind: Option<String>,
    /// `primary`.
    #[serde(default)]
    pub primary: Option<bool>,
}

/// `name`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Name {
    /// `formatted`.
    #[serde(default)]
    pub formatted: Option<String>,
    /// `givenName`.
    #[serde(rename = "givenName", default)]
    pub given_name: Option<String>,
    /// `familyName`.
    #[serde(rename = "familyName", default)]
    pub family_name: Option<String>,
}

/// The Atlassian extension object.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct AtlassianExtension {
    /// `atlassianAccountId`; missing or null until the account is linked.
    #[serde(rename = "atlassianAccountId", default)]
    pub account_id: Option<String>,
}

/// A SCIM user resource (the attributes the connector reads).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct User {
    /// `id`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub id: Option<String>,
    /// `userName`.
    #[serde(rename = "userName", default)]
    pub user_name: Option<String>,
    /// `emails`.
    #[serde(default, deserialize_with = "wire::null_as_empty")]
    pub emails: Vec<MultiValue>,
    /// `name`.
    #[serde(default)]
    pub name: Option<Name>,
    /// `displayName`.
    #[serde(rename = "displayName", default)]
    pub display_name: Option<String>,
    /// `active`.
    #[serde(default)]
    pub active: Option<bool>,
    /// `externalId`.
    #[serde(rename = "externalId", default)]
    pub external_id: Option<String>,
    /// `groups`.
    #[serde(default, deserialize_with = "wire::null_as_empty")]
    pub groups: Vec<MultiValue>,
    /// The Atlassian extension.
    #[serde(rename = "urn:scim:schemas:extension:atlassian-external:1.0", default)]
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

/// A SCIM group resource.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Group {
    /// `id`.
    #[serde(default, deserialize_with = "wire::opt_string")]
    pub id: Option<String>,
    /// `displayName`.
    #[serde(rename = "displayName", default)]
    pub display_name: Option<String>,
    /// `members` (SCIM user ids in `value`).
    #[serde(default, deserialize_with = "wire::null_as_empty")]
    pub members: Vec<MultiValue>,
}

/// Parses a SCIM list response body.
pub fn parse_list<T: serde::de::DeserializeOwned>(
    body: &[u8],
) -> Result<ListResponse<T>, serde_json::Error> {
    serde_json::from_slice(body)
}

/// Parses a SCIM error body (`{"status":"409","scimType":…,"detail":…}`, status a string or
/// a number), falling back to the `{"error":…,"traceId":…}` form of 401/403.
pub fn parse_error(body: &[u8]) -> Option<ErrorDetail> {
    let v: Value = serde_json::from_slice(body).ok()?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
