//! The admin API v2 and user lifecycle wire formats under `atlassian_api_url`: URL builders,
//! the directory, group and user objects, and error bodies (`{"errors":[…]}`, the flat
//! gateway form and `{"error":…,"traceId":…}`). Unknown attributes are ignored; parsers
//! never panic.

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess};
use serde_json::Value;

use crate::encode::segment;
use crate::lenient::{Items, Lenient, deserialize_leniently, from_body, items, leaf};
use crate::upstream::{ErrorDetail, fallback_detail};
use crate::wire::{self, FromJson};

/// The 409 code meaning "already a member": success, not a failure.
pub const ALREADY_MEMBER: &str = "ADMIN-UAM-409-2";
/// The directory id that stands for every directory of the organization (reads only).
pub const ALL_DIRECTORIES: &str = "-";
/// The largest page (`limit`) the admin API accepts.
pub const MAX_LIMIT: u32 = 100;

/// `{api}/admin/v2/orgs/{org}`.
pub fn org_url(api: &str, org_id: &str) -> String {
    format!("{api}/admin/v2/orgs/{}", segment(org_id))
}

/// `{api}/admin/v2/orgs/{org}/directories`.
pub fn directories_url(api: &str, org_id: &str) -> String {
    format!("{}/directories", org_url(api, org_id))
}

/// `{api}/admin/v2/orgs/{org}/directories/{dir}`.
pub fn directory_url(api: &str, org_id: &str, directory_id: &str) -> String {
    format!(
        "{}/directories/{}",
        org_url(api, org_id),
        segment(directory_id)
    )
}

/// `POST …/directories/{dir}/users/search`.
pub fn users_search_url(api: &str, org_id: &str, directory_id: &str) -> String {
    format!("{}/users/search", directory_url(api, org_id, directory_id))
}

/// `GET …/directories/{dir}/users/{accountId}`.
pub fn user_url(api: &str, org_id: &str, directory_id: &str, account_id: &str) -> String {
    format!(
        "{}/users/{}",
        directory_url(api, org_id, directory_id),
        segment(account_id)
    )
}

/// `POST …/directories/{dir}/users/{accountId}/suspend` (`suspend: true`) or `…/restore`.
pub fn suspension_url(
    api: &str,
    org_id: &str,
    directory_id: &str,
    account_id: &str,
    suspend: bool,
) -> String {
    let action = if suspend { "suspend" } else { "restore" };
    format!(
        "{}/{action}",
        user_url(api, org_id, directory_id, account_id)
    )
}

/// `POST …/directories/{dir}/groups/search`.
pub fn groups_search_url(api: &str, org_id: &str, directory_id: &str) -> String {
    format!("{}/groups/search", directory_url(api, org_id, directory_id))
}

/// `GET …/directories/{dir}/groups/{groupId}`.
pub fn group_url(api: &str, org_id: &str, directory_id: &str, group_id: &str) -> String {
    format!(
        "{}/groups/{}",
        directory_url(api, org_id, directory_id),
        segment(group_id)
    )
}

/// `POST …/groups/{groupId}/memberships` (add a member).
pub fn memberships_url(api: &str, org_id: &str, directory_id: &str, group_id: &str) -> String {
    format!(
        "{}/memberships",
        group_url(api, org_id, directory_id, group_id)
    )
}

/// `DELETE …/groups/{groupId}/memberships/{accountId}` (remove a member).
pub fn membership_url(
    api: &str,
    org_id: &str,
    directory_id: &str,
    group_id: &str,
    account_id: &str,
) -> String {
    format!(
        "{}/{}",
        memberships_url(api, org_id, directory_id, group_id),
        segment(account_id)
    )
}

/// `POST {api}/users/{accountId}/manage/lifecycle/{action}` (`disable`, `enable`, `delete`,
/// `cancel-delete`).
pub fn lifecycle_url(api: &str, account_id: &str, action: &str) -> String {
    format!(
        "{api}/users/{}/manage/lifecycle/{}",
        segment(account_id),
        segment(action)
    )
}

/// `GET {api}/admin/user-provisioning/v1/org/{org}/user/{accountId}/get-scim-links`.
pub fn scim_links_url(api: &str, org_id: &str, account_id: &str) -> String {
    format!(
        "{api}/admin/user-provisioning/v1/org/{}/user/{}/get-scim-links",
        segment(org_id),
        segment(account_id)
    )
}

/// Who a `POST …/users/search` looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserQuery<'a> {
    /// `{"emails":[…]}`.
    Email(&'a str),
    /// `{"accountIds":[…]}`.
    AccountId(&'a str),
}

/// Body of `POST …/users/search` for one user, with `expand:["groups"]` so the answer also
/// carries the user's group memberships.
pub fn users_search_body(query: UserQuery<'_>) -> Vec<u8> {
    let body = match query {
        UserQuery::Email(e) => ("emails", e),
        UserQuery::AccountId(a) => ("accountIds", a),
    };
    let body = wire::obj(vec![
        (body.0, wire::str_list(&[body.1])),
        ("expand", wire::str_list(&["groups"])),
        ("limit", Value::from(MAX_LIMIT)),
    ]);
    wire::to_body(&body)
}

/// Body of `POST …/groups/{groupId}/memberships`: `{"accountId":…}`.
pub fn add_member_body(account_id: &str) -> Vec<u8> {
    wire::to_body(&wire::obj(vec![("accountId", Value::from(account_id))]))
}

/// One entry of a `get-scim-links` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimLink {
    /// `scimUserId`: the SCIM user id in `directoryId`.
    pub scim_user_id: Option<String>,
    /// `atlassianAccountId`.
    pub account_id: Option<String>,
    /// `directoryId`.
    pub directory_id: Option<String>,
}

/// A `get-scim-links` answer: `{"scimLinks":[…]}`, parsed leniently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScimLinks {
    /// `scimLinks`.
    pub links: Vec<ScimLink>,
}

impl ScimLinks {
    /// Reads a `get-scim-links` answer leniently.
    pub fn from_value(v: &Value) -> Self {
        let mut links = Vec::new();
        for l in wire::field_list(v, "scimLinks") {
            links.push(ScimLink {
                scim_user_id: wire::field_string(l, "scimUserId"),
                account_id: wire::field_string(l, "atlassianAccountId"),
                directory_id: wire::field_string(l, "directoryId"),
            });
        }
        ScimLinks { links }
    }

    /// The SCIM user id of the link into `directory_id` (or of the only link when the
    /// directory is unknown).
    pub fn scim_user_id(&self, directory_id: Option<&str>) -> Option<&str> {
        let mut links = self.links.iter();
        let link = match directory_id {
            Some(d) => links.find(|l| l.directory_id.as_deref() == Some(d)),
            None if self.links.len() == 1 => links.next(),
            None => None,
        };
        link.and_then(|l| l.scim_user_id.as_deref())
            .filter(|s| !s.is_empty())
    }
}

/// Body of `POST …/groups/search`: the groups named `names` (exact, case-insensitive), or
/// every group when `None`; `limit` ≤ [`MAX_LIMIT`], `cursor` from the previous `links.next`.
pub fn groups_search_body<S: AsRef<str>>(
    names: Option<&[S]>,
    limit: u32,
    cursor: Option<&str>,
) -> Vec<u8> {
    let mut body = serde_json::Map::new();
    if let Some(names) = names {
        let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
        body.insert("groupNames".into(), Value::from(names));
    }
    search_paging(&mut body, limit, cursor);
    wire::to_body(&Value::Object(body))
}

/// Body of `POST …/users/search` for the members of any of `group_ids` (atlassian-api §7.5),
/// each with `groups` expanded. The same body goes with every cursor.
pub fn users_in_groups_body<S: AsRef<str>>(
    group_ids: &[S],
    limit: u32,
    cursor: Option<&str>,
) -> Vec<u8> {
    let mut body = serde_json::Map::new();
    let ids: Vec<&str> = group_ids.iter().map(AsRef::as_ref).collect();
    body.insert("groupIds".into(), Value::from(ids));
    body.insert("expand".into(), Value::from(vec!["groups"]));
    search_paging(&mut body, limit, cursor);
    wire::to_body(&Value::Object(body))
}

fn search_paging(body: &mut serde_json::Map<String, Value>, limit: u32, cursor: Option<&str>) {
    body.insert("limit".into(), Value::from(limit.clamp(1, MAX_LIMIT)));
    if let Some(c) = cursor {
        body.insert("cursor".into(), Value::from(c));
    }
}

/// Paging links: `links.next` is an opaque cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The next page's cursor.
    pub next: Option<String>,
}

impl FromJson for Links {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "`links`")?;
        Ok(Links {
            next: wire::opt_string(o, "next"),
        })
    }
}

/// A page of the admin API: `{data:[…], links:{next}}`. `data` is required.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// Paging links.
    pub links: Option<Links>,
}

impl<T: FromJson> FromJson for Page<T> {
    fn from_json(v: &Value) -> Result<Self, String> {
        let (items, links) = page_parts(v)?;
        let mut data = Vec::with_capacity(items.len());
        for item in items {
            data.push(T::from_json(item)?);
        }
        Ok(Page {
            data,
            links: page_links(links)?,
        })
    }
}

/// A page's `data` items (absent is an error, `null` none) and its `links` value. Out of
/// the generic [`Page::from_json`] (never inlined): one copy for every item type.
#[inline(never)]
fn page_parts(v: &Value) -> Result<(&[Value], Option<&Value>), String> {
    let o = wire::object(v, "an admin API page")?;
    let items = wire::opt_items(Some(wire::required(o, "data")?), "data")?;
    Ok((items.unwrap_or_default(), o.get("links")))
}

/// A page's `links`: an object, or `null` or absent for none.
#[inline(never)]
fn page_links(links: Option<&Value>) -> Result<Option<Links>, String> {
    wire::opt_object(links, "links")
}

/// A directory of `GET /directories`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    /// `directoryId`.
    pub directory_id: Option<String>,
    /// `name`.
    pub name: Option<String>,
}

impl FromJson for Directory {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "a directory")?;
        Ok(Directory {
            directory_id: wire::opt_string(o, "directoryId"),
            name: wire::opt_string(o, "name"),
        })
    }
}

/// An admin group object, parsed leniently through [`Group::from_value`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// `id`.
    pub id: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `directoryId`: membership writes need it.
    pub directory_id: Option<String>,
    /// `externalSynced`.
    pub external_synced: Option<bool>,
    /// `managedBy`: `external`, `admins`, `team-members`, `open`.
    pub managed_by: Option<String>,
}

wire::from_json_via_value!(Group, User, ScimLinks);

impl Group {
    /// Reads a group object leniently: fields of an unexpected type are ignored.
    pub fn from_value(v: &Value) -> Self {
        Group {
            id: wire::field_string(v, "id"),
            name: wire::field_string(v, "name"),
            directory_id: wire::field_string(v, "directoryId"),
            external_synced: wire::field_bool(v, "externalSynced"),
            managed_by: wire::field_string(v, "managedBy"),
        }
    }

    /// True when this group's name equals `name`, ignoring case.
    pub fn is_named(&self, name: &str) -> bool {
        self.name
            .as_deref()
            .is_some_and(|n| crate::text::fold_case(n) == crate::text::fold_case(name))
    }

    /// True when synced from the identity provider (changed through SCIM only).
    pub fn is_synced(&self) -> bool {
        self.external_synced == Some(true)
            || self
                .managed_by
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case("external"))
    }
}

/// An admin user object, parsed leniently through [`User::from_value`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    /// `accountId`.
    pub account_id: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `status`: `active`, `suspended`, `not_invited`, `deactivated`, `for_deletion`.
    pub status: Option<String>,
    /// `groups`, when expanded.
    pub groups: Vec<Group>,
    /// `membershipStatus`: `active`, `suspended`, `no_membership`.
    pub membership_status: Option<String>,
}

impl User {
    /// Reads a user object leniently.
    pub fn from_value(v: &Value) -> Self {
        let mut groups = Vec::new();
        for g in wire::field_list(v, "groups") {
            groups.push(Group::from_value(g));
        }
        User {
            account_id: wire::field_string(v, "accountId"),
            email: wire::field_string(v, "email"),
            status: wire::field_string(v, "status"),
            groups,
            membership_status: wire::field_string(v, "membershipStatus"),
        }
    }

    /// True when the user's access is suspended (v2 `suspend`): `membershipStatus` or
    /// `status` says `suspended`.
    pub fn is_suspended(&self) -> bool {
        [&self.membership_status, &self.status].iter().any(|s| {
            s.as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("suspended"))
        })
    }

    /// True when the expanded `groups` list the admin group `group_id`.
    pub fn in_group(&self, group_id: &str) -> bool {
        self.groups
            .iter()
            .any(|g| g.id.as_deref() == Some(group_id))
    }
}

/// Parses an admin error body: `{"errors":[{"id","status","code","title","detail"}]}`
/// (status a string or number; the first error counts), the flat gateway form
/// `{"timestamp","status","error","message"}`, the lifecycle API's `{"key":…,"message"?}`
/// and `{"error":…,"traceId":…}`.
pub fn parse_error(body: &[u8]) -> Option<ErrorDetail> {
    let v = wire::parse_value(body).ok()?;
    let text = |o: &Value, k: &str| {
        o.get(k)
            .and_then(wire::value_to_string)
            .filter(|s| !s.is_empty())
    };
    if let Some(first) = v
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        let code = text(first, "code");
        let message = match (text(first, "title"), text(first, "detail")) {
            (Some(t), Some(d)) => format!("{t}: {d}"),
            (Some(m), None) | (None, Some(m)) => m,
            (None, None) => text(first, "message")
                .or_else(|| code.clone())
                .unwrap_or_default(),
        };
        return Some(ErrorDetail { code, message });
    }
    if let Some(key) = text(&v, "key") {
        let message = text(&v, "message").unwrap_or_else(|| key.clone());
        return Some(ErrorDetail {
            code: Some(key),
            message,
        });
    }
    fallback_detail(&v)
}

/// A user of a users search with `expand: ["groups"]`, as the list-groups admin phase
/// reads it: the account id and the ids of its groups, nothing else (read by
/// [`parse_members_page`], without a JSON tree).
///
/// The same type reads the page around the users (`data`, `links`, whether it is an object
/// at all), so the component carries one object walk and one list walk for this reader
/// instead of two of each (its 400 KB budget has no room for more); what a level does not
/// use (a page's `accountId`, a user's `data`) is read and dropped.
#[derive(Default)]
pub struct Member {
    /// `accountId`.
    pub account_id: Option<String>,
    /// `groups[].id`, in order (`None` for a group without one).
    pub groups: Vec<Option<String>>,
    object: bool,
    data: Option<Items<Member>>,
    /// A small object: read as a tree.
    links: Option<Value>,
}

/// A page is read as a [`Member`] whose `data` holds the users.
type RawPage = Member;

impl Lenient for RawPage {
    const FIELDS: &'static [&'static str] = &["accountId", "groups", "data", "links"];
    fn read<'de, A: MapAccess<'de>>(&mut self, field: usize, map: &mut A) -> Result<(), A::Error> {
        match field {
            0 => self.account_id = leaf(map)?,
            1 => {
                // Read through the SCIM group's reader, whose first attribute is `id` too (an
                // admin group's `name` and `description` are skipped): one walk in the
                // component instead of another of its own.
                let groups: Vec<crate::scim::Group> = items(map)?.or_empty();
                self.groups = groups.into_iter().map(|g| g.id).collect();
            }
            2 => self.data = Some(items(map)?),
            _ => self.links = Some(map.next_value()?),
        }
        Ok(())
    }
    fn opened(&mut self) {
        self.object = true;
    }
}

deserialize_leniently!(RawPage);

impl RawPage {
    /// The checks of [`Page::from_json`], with its messages: an object whose `data` is
    /// present and a list or `null`, whose `links` is an object, `null` or absent.
    fn check(self) -> Result<Page<Member>, String> {
        if !self.object {
            return Err("expected an object for an admin API page".to_string());
        }
        let data = match self.data {
            None => return Err("missing field `data`".to_string()),
            Some(Items::Missing) => Vec::new(),
            Some(Items::List(items)) => items,
            Some(Items::Other) => return Err("invalid type: `data` is not a list".to_string()),
        };
        Ok(Page {
            data,
            links: page_links(self.links.as_ref())?,
        })
    }
}

/// Reads a users search page with groups expanded, straight from the body: what
/// `Page<User>` would give of it (same verdicts, same messages), without the tree. A page
/// of 100 users in 1,000 groups each is 100,000 group objects: as a tree, more memory than
/// the guest has.
pub fn parse_members_page(body: &[u8]) -> Result<Page<Member>, String> {
    from_body::<RawPage>(body)?.check()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const API: &str = "https://api.atlassian.com";

    #[test]
    fn urls() {
        assert_eq!(
            directories_url(API, "o 1"),
            "https://api.atlassian.com/admin/v2/orgs/o%201/directories"
        );
        assert_eq!(
            membership_url(API, "o", "d", "g", "712020:ab"),
            "https://api.atlassian.com/admin/v2/orgs/o/directories/d/groups/g/memberships/712020%3Aab"
        );
        assert_eq!(
            lifecycle_url(API, "5b10:x", "delete"),
            "https://api.atlassian.com/users/5b10%3Ax/manage/lifecycle/delete"
        );
        assert_eq!(
            users_search_url(API, "o", "-"),
            "https://api.atlassian.com/admin/v2/orgs/o/directories/-/users/search"
        );
    }

    #[test]
    fn parses_pages_and_groups() {
        let p: Page<Directory> = wire::parse(
            br#"{"data":[{"directoryId":"d1","name":"Main","x":1}],"links":{"next":null}}"#,
        )
        .unwrap();
        assert_eq!(p.data[0].directory_id.as_deref(), Some("d1"));
        assert_eq!(p.links.unwrap().next, None);
        assert!(wire::parse::<Page<Directory>>(br#"{"items":[]}"#).is_err());
        let g: Group = wire::parse(br#"{"id":"g","name":"eng","managedBy":"EXTERNAL"}"#).unwrap();
        assert!(g.is_synced());
        let g: Group =
            wire::parse(br#"{"id":"g","externalSynced":false,"managedBy":"admins"}"#).unwrap();
        assert!(!g.is_synced());
    }

    #[test]
    fn search_bodies() {
        let names = vec!["eng".to_string()];
        let b: Value =
            serde_json::from_slice(&groups_search_body(Some(&names), 500, Some("c1"))).unwrap();
        assert_eq!(
            b,
            serde_json::json!({"groupNames":["eng"],"limit":100,"cursor":"c1"})
        );
        let b: Value = serde_json::from_slice(&groups_search_body::<&str>(None, 0, None)).unwrap();
        assert_eq!(b, serde_json::json!({"limit":1}));
        let b: Value = serde_json::from_slice(&users_in_groups_body(&["g1"], 50, None)).unwrap();
        assert_eq!(
            b,
            serde_json::json!({"groupIds":["g1"],"expand":["groups"],"limit":50})
        );
    }

    #[test]
    fn parses_error_variants() {
        let e = parse_error(br#"{"errors":[{"id":"x","status":"409","code":"ADMIN-UAM-409-2","title":"Conflict","detail":"already a member"}]}"#).unwrap();
        assert_eq!(e.code.as_deref(), Some(ALREADY_MEMBER));
        assert_eq!(e.message, "Conflict: already a member");
        let e = parse_error(br#"{"errors":[{"status":409,"code":"ADMIN-UAM-409-3"}]}"#).unwrap();
        assert_eq!(
            e,
            ErrorDetail {
                code: Some("ADMIN-UAM-409-3".into()),
                message: "ADMIN-UAM-409-3".into()
            }
        );
        let e = parse_error(br#"{"timestamp":"2026-01-01T00:00:00Z","status":502,"error":"Bad Gateway","message":"upstream down"}"#).unwrap();
        assert_eq!(e.message, "Bad Gateway: upstream down");
        let e = parse_error(br#"{"key":"accountNotFound"}"#).unwrap();
        assert_eq!(e.code.as_deref(), Some("accountNotFound"));
        let e = parse_error(br#"{"error":"Unauthorized","traceId":"t"}"#).unwrap();
        assert_eq!(e.message, "Unauthorized");
        assert_eq!(parse_error(br#"{"errors":[]}"#), None);
        assert_eq!(parse_error(b"nope"), None);
    }

    #[test]
    fn builds_search_and_membership_bodies() {
        let v = |b: Vec<u8>| serde_json::from_slice::<Value>(&b).unwrap();
        assert_eq!(
            v(groups_search_body(Some(&["eng", "Ops"]), MAX_LIMIT, None)),
            json!({"groupNames": ["eng", "Ops"], "limit": 100})
        );
        assert_eq!(
            v(groups_search_body(Some(&["eng"]), MAX_LIMIT, Some("c2"))),
            json!({"groupNames": ["eng"], "limit": 100, "cursor": "c2"})
        );
        assert_eq!(
            v(users_search_body(UserQuery::Email("a@x.com"))),
            json!({"emails": ["a@x.com"], "expand": ["groups"], "limit": 100})
        );
        assert_eq!(
            v(users_search_body(UserQuery::AccountId("712020:a"))),
            json!({"accountIds": ["712020:a"], "expand": ["groups"], "limit": 100})
        );
        assert_eq!(
            v(add_member_body("712020:a")),
            json!({"accountId": "712020:a"})
        );
        assert_eq!(
            scim_links_url(API, "o", "712020:a"),
            "https://api.atlassian.com/admin/user-provisioning/v1/org/o/user/712020%3Aa/get-scim-links"
        );
    }

    #[test]
    fn reads_scim_links_and_expanded_groups() {
        let l: ScimLinks = wire::parse(
            br#"{"scimLinks":[{"scimUserId":"s0","directoryId":"other"},{"scimUserId":"s1","atlassianAccountId":"a","directoryId":"d"}]}"#,
        )
        .unwrap();
        assert_eq!(l.scim_user_id(Some("d")), Some("s1"));
        assert_eq!(l.scim_user_id(Some("x")), None);
        assert_eq!(l.scim_user_id(None), None, "ambiguous without a directory");
        let none: ScimLinks = wire::parse(br#"{"scimLinks":null}"#).unwrap();
        assert_eq!(none.scim_user_id(None), None);
        let u: User =
            wire::parse(br#"{"accountId":"a","groups":[{"id":"g1","name":"Eng"}]}"#).unwrap();
        assert!(u.in_group("g1") && !u.in_group("g2"));
        assert!(u.groups[0].is_named("eNG"));
    }

    /// What a members page holds: each user's account id and group ids, and the links.
    type Read = (Vec<(Option<String>, Vec<Option<String>>)>, Option<Links>);

    fn read(page: Page<Member>) -> Read {
        let users = page
            .data
            .into_iter()
            .map(|u| (u.account_id, u.groups))
            .collect();
        (users, page.links)
    }

    /// The tree reader `parse_members_page` replaced, kept as its oracle.
    fn oracle(body: &[u8]) -> Result<Read, String> {
        let page: Page<User> = wire::parse(body)?;
        let users = page
            .data
            .into_iter()
            .map(|u| (u.account_id, u.groups.into_iter().map(|g| g.id).collect()))
            .collect();
        Ok((users, page.links))
    }

    #[test]
    fn a_members_page_reads_as_the_tree_reader_read_it() {
        let bodies: &[&str] = &[
            r#"{"data":[{"accountId":"a1","groups":[{"id":"g1","name":"Eng","description":null},{"name":"no id"},{"id":7}]},
                        {"accountId":"a2","groups":null},{"accountId":3,"groups":"x"},{"groups":[{"id":"g2"}]},
                        "not a user",[1,2],null,{"accountId":"a4","groups":[null,"g",[],{"id":{"x":1}}]}],
                "links":{"next":"c2","self":"s"}}"#,
            r#"{"data":[],"links":{}}"#,
            r#"{"data":[],"links":null}"#,
            r#"{"data":null}"#,
            r#"{"data":[{"accountId":"a","accountId":"b","groups":[{"id":"g1","id":"g2"}]}],"data":[{"accountId":"c"}]}"#,
            r#"{"data":[],"links":{"next":12}}"#,
            r#"{"data":[],"links":{"next":1.5}}"#,
            r#"{"data":[],"links":{"next":null}}"#,
            r#"{"data":[],"links":[]}"#,
            r#"{"data":[],"links":"c2"}"#,
            r#"{"data":{"accountId":"a"}}"#,
            r#"{"data":"x"}"#,
            r#"{"links":{"next":"c"}}"#,
            r#"{}"#,
            r#"[]"#,
            r#""page""#,
            r#"null"#,
            r#"17"#,
            r#"{"data":[{"accountId":"a","groups":[{"id":"g1"}]}],"meta":{"deep":[[[{}]]]}}"#,
            r#"{"data":[{"accountId":"\u00e9\n","groups":[{"id":"g\"1"}]}]}"#,
        ];
        for body in bodies {
            let new = parse_members_page(body.as_bytes()).map(read);
            assert_eq!(new, oracle(body.as_bytes()), "{body}");
        }
        // Not JSON at all: both refuse it.
        for body in ["", "{", "{\"data\":[}", "{\"data\":[]} trailing"] {
            assert!(parse_members_page(body.as_bytes()).is_err(), "{body}");
            assert!(oracle(body.as_bytes()).is_err(), "{body}");
        }
        let page = parse_members_page(bodies[0].as_bytes()).unwrap();
        assert_eq!(
            page.data[0].groups,
            [Some("g1".into()), None, Some("7".into())]
        );
        assert_eq!(page.links.and_then(|l| l.next).as_deref(), Some("c2"));
    }
}
