//! Product-role wire formats under `atlassian_api_url` (API notes §7.1–7.2): the workspaces
//! listing (the resources roles are granted on), a user's role assignments with how each is
//! held (`roleAssignmentMethods`), and the bodies of the v1 user `roles/assign|revoke` and the
//! v2 group `role-assignments/assign|revoke`. Parsers never panic; unknown fields are ignored.

use serde_json::Value;

use crate::admin::{Links, MAX_LIMIT, directory_url, org_url};
use crate::encode::segment;
use crate::wire::{self, FromJson};

/// The resource kind of a role's resource: a product on a site (a workspace).
pub const RESOURCE_KIND: &str = "workspace";
/// The prefix of every canonical role name.
pub const ROLE_PREFIX: &str = "atlassian/";
/// The roles the v1 user endpoints grant on a product (`org-admin` takes another endpoint).
pub const USER_ROLES: &[&str] = &[
    "user",
    "user-access-admin",
    "admin",
    "guest",
    "contributor",
    "customer",
    "basic",
    "stakeholder",
    "site-admin",
];
/// The roles the v2 group endpoints grant (no `site-admin`, `org-admin`; `viewer` extra).
pub const GROUP_ROLES: &[&str] = &[
    "user",
    "user-access-admin",
    "admin",
    "guest",
    "contributor",
    "customer",
    "basic",
    "stakeholder",
    "viewer",
];
/// The largest workspaces page the API serves.
pub const WORKSPACES_LIMIT: u32 = 1000;

/// `POST {api}/admin/v2/orgs/{org}/workspaces`.
pub fn workspaces_url(api: &str, org_id: &str) -> String {
    format!("{}/workspaces", org_url(api, org_id))
}

/// The body of a workspaces page: `{"limit":1000}` first, then `{"cursor":…}` alone (the API
/// refuses any other property next to a cursor).
pub fn workspaces_body(cursor: Option<&str>) -> Vec<u8> {
    let body = match cursor {
        Some(c) => wire::obj(vec![("cursor", Value::from(c))]),
        None => wire::obj(vec![("limit", Value::from(WORKSPACES_LIMIT))]),
    };
    wire::to_body(&body)
}

/// `GET …/directories/-/users/{accountId}/role-assignments?limit=100[&cursor=…]`.
pub fn user_assignments_url(
    api: &str,
    org_id: &str,
    account_id: &str,
    cursor: Option<&str>,
) -> String {
    let mut url = format!(
        "{}/users/{}/role-assignments?limit={MAX_LIMIT}",
        directory_url(api, org_id, crate::admin::ALL_DIRECTORIES),
        segment(account_id)
    );
    if let Some(c) = cursor {
        url.push_str("&cursor=");
        url.push_str(&segment(c));
    }
    url
}

/// `GET …/directories/{dir}/groups/{groupId}/role-assignments?limit=100[&cursor=…]`.
pub fn group_assignments_url(
    api: &str,
    org_id: &str,
    directory_id: &str,
    group_id: &str,
    cursor: Option<&str>,
) -> String {
    let mut url = format!(
        "{}/groups/{}/role-assignments?limit={MAX_LIMIT}",
        directory_url(api, org_id, directory_id),
        segment(group_id)
    );
    if let Some(c) = cursor {
        url.push_str("&cursor=");
        url.push_str(&segment(c));
    }
    url
}

/// `POST {api}/admin/v1/orgs/{org}/users/{accountId}/roles/{assign|revoke}`.
pub fn user_role_url(api: &str, org_id: &str, account_id: &str, assign: bool) -> String {
    format!(
        "{api}/admin/v1/orgs/{}/users/{}/roles/{}",
        segment(org_id),
        segment(account_id),
        if assign { "assign" } else { "revoke" }
    )
}

/// `{"role":…,"resource":…}` (users take `role`/`resource`).
pub fn user_role_body(role: &str, resource: &str) -> Vec<u8> {
    wire::to_body(&wire::obj(vec![
        ("role", Value::from(role)),
        ("resource", Value::from(resource)),
    ]))
}

/// `POST …/directories/{dir}/groups/{groupId}/role-assignments/{assign|revoke}`.
pub fn group_role_url(
    api: &str,
    org_id: &str,
    directory_id: &str,
    group_id: &str,
    assign: bool,
) -> String {
    format!(
        "{}/groups/{}/role-assignments/{}",
        directory_url(api, org_id, directory_id),
        segment(group_id),
        if assign { "assign" } else { "revoke" }
    )
}

/// `{"resourceId":…,"roleId":…}` (groups take `roleId`/`resourceId`).
pub fn group_role_body(role: &str, resource: &str) -> Vec<u8> {
    wire::to_body(&wire::obj(vec![
        ("resourceId", Value::from(resource)),
        ("roleId", Value::from(role)),
    ]))
}

/// The canonical form of a role name: `admin` becomes `atlassian/admin`; `None` when it is
/// not one of `allowed`.
pub fn canonical_role(role: &str, allowed: &[&str]) -> Option<String> {
    let bare = role.trim();
    let bare = bare.strip_prefix(ROLE_PREFIX).unwrap_or(bare);
    allowed
        .contains(&bare)
        .then(|| format!("{ROLE_PREFIX}{bare}"))
}

/// `role` trimmed and without every leading [`ROLE_PREFIX`] (as `trim_start_matches` would,
/// without its substring searcher).
pub fn strip_role_prefixes(role: &str) -> &str {
    let mut bare = role.trim();
    while let Some(rest) = bare.strip_prefix(ROLE_PREFIX) {
        bare = rest;
    }
    bare
}

/// One workspace: a product on a site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workspace {
    /// `id`: what a role grant names (an ARI such as `ari:cloud:jira-software::site/…`).
    pub id: String,
    /// `attributes.typeKey`: the product (`jira-software`, `confluence`, …).
    pub product: String,
    /// `attributes.name`: the site's name.
    pub name: String,
    /// `attributes.hostUrl`.
    pub host_url: String,
}

impl Workspace {
    /// True when `site` names this workspace's site: its name, its host, or the host's first
    /// label (`acme` for `acme.atlassian.net`), ignoring case.
    pub fn on_site(&self, site: &str) -> bool {
        // What follows the last `://` (`split("://").last()`).
        let mut host = self.host_url.as_str();
        while let Some((_, rest)) = crate::text::split_once(host, "://") {
            host = rest;
        }
        let host = host.trim_end_matches('/');
        let label = host.split('.').next().unwrap_or_default();
        [self.name.as_str(), host, label]
            .iter()
            .any(|n| !n.is_empty() && n.eq_ignore_ascii_case(site))
    }
}

impl FromJson for Workspace {
    fn from_json(v: &Value) -> Result<Self, String> {
        let attrs = v.get("attributes").unwrap_or(&Value::Null);
        let text = |v: &Value, k: &str| wire::field_string(v, k).unwrap_or_default();
        Ok(Workspace {
            id: text(v, "id"),
            product: text(attrs, "typeKey"),
            name: text(attrs, "name"),
            host_url: text(attrs, "hostUrl"),
        })
    }
}

/// A page of workspaces: `{data:[…], links:{next}}`.
#[derive(Debug, Clone, Default)]
pub struct WorkspacePage {
    /// The workspaces of this page.
    pub data: Vec<Workspace>,
    /// The next page's cursor.
    pub next: Option<String>,
}

impl FromJson for WorkspacePage {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "a workspaces page")?;
        let links: Option<Links> = wire::opt_object(o.get("links"), "links")?;
        Ok(WorkspacePage {
            data: wire::opt_list(o.get("data"), "data")?.unwrap_or_default(),
            next: links.and_then(|l| l.next).filter(|n| !n.is_empty()),
        })
    }
}

/// How a user holds a role (`roleAssignmentMethods`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Granted to the user: revocable with the user-level revoke.
    Direct,
    /// Through a group the user is in: only a change of the group (or the membership) ends it.
    Group,
    /// Inferred (for example from an org-level role): not revocable.
    Inferred,
}

/// One role a user holds on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The resource id (as the workspaces listing spells it).
    pub resource: String,
    /// The role, `atlassian/…`.
    pub role: String,
    /// How it is held; empty when the server sent only the deprecated `roles` list.
    pub methods: Vec<Method>,
}

impl Assignment {
    /// True when the user holds it directly (or the server did not say how).
    pub fn direct(&self) -> bool {
        self.methods.is_empty() || self.methods.contains(&Method::Direct)
    }

    /// How it is held besides directly, for people: `through a group`, `inferred`.
    pub fn other_sources(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for m in &self.methods {
            match m {
                Method::Group => out.push("through a group (group_direct)"),
                Method::Inferred => out.push("inferred (inferred)"),
                Method::Direct => {}
            }
        }
        out
    }
}

/// A page of a user's role assignments, flattened to one [`Assignment`] per role. Both the
/// current `roleAssignments` and the deprecated `roles` list are read.
#[derive(Debug, Clone, Default)]
pub struct AssignmentPage {
    /// The assignments of this page.
    pub data: Vec<Assignment>,
    /// The next page's cursor.
    pub next: Option<String>,
}

impl FromJson for AssignmentPage {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "a role-assignments page")?;
        let links: Option<Links> = wire::opt_object(o.get("links"), "links")?;
        let mut data = Vec::new();
        for entry in wire::field_list(v, "data") {
            let Some(resource) = wire::field_string(entry, "resourceId") else {
                continue;
            };
            for a in wire::field_list(entry, "roleAssignments") {
                let Some(role) = wire::field_string(a, "role") else {
                    continue;
                };
                let mut methods = Vec::new();
                for m in wire::field_list(a, "roleAssignmentMethods") {
                    methods.push(match m.as_str() {
                        Some("direct") => Method::Direct,
                        Some("group_direct") => Method::Group,
                        _ => Method::Inferred,
                    });
                }
                data.push(Assignment {
                    resource: resource.clone(),
                    role,
                    methods,
                });
            }
            for r in wire::field_list(entry, "roles") {
                let Some(role) = r.as_str() else { continue };
                if !data
                    .iter()
                    .any(|a| a.resource == resource && a.role == role)
                {
                    data.push(Assignment {
                        resource: resource.clone(),
                        role: role.to_string(),
                        methods: Vec::new(),
                    });
                }
            }
        }
        Ok(AssignmentPage {
            data,
            next: links.and_then(|l| l.next).filter(|n| !n.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "https://api.atlassian.com";

    #[test]
    fn urls_and_bodies_follow_the_spec() {
        assert_eq!(
            user_role_url(API, "o", "712020:a", true),
            "https://api.atlassian.com/admin/v1/orgs/o/users/712020%3Aa/roles/assign"
        );
        assert_eq!(
            user_assignments_url(API, "o", "a", Some("c/1")),
            "https://api.atlassian.com/admin/v2/orgs/o/directories/-/users/a/role-assignments?limit=100&cursor=c%2F1"
        );
        assert_eq!(
            group_assignments_url(API, "o", "d", "g/1", Some("n")),
            "https://api.atlassian.com/admin/v2/orgs/o/directories/d/groups/g%2F1/role-assignments?limit=100&cursor=n"
        );
        assert_eq!(
            group_role_url(API, "o", "d", "g", false),
            "https://api.atlassian.com/admin/v2/orgs/o/directories/d/groups/g/role-assignments/revoke"
        );
        assert_eq!(
            user_role_body("atlassian/user", "ari:x"),
            br#"{"resource":"ari:x","role":"atlassian/user"}"#
        );
        assert_eq!(
            group_role_body("atlassian/user", "ari:x"),
            br#"{"resourceId":"ari:x","roleId":"atlassian/user"}"#
        );
        assert_eq!(workspaces_body(None), br#"{"limit":1000}"#);
        assert_eq!(workspaces_body(Some("n")), br#"{"cursor":"n"}"#);
        assert_eq!(
            canonical_role(" admin ", USER_ROLES).as_deref(),
            Some("atlassian/admin")
        );
        assert_eq!(canonical_role("atlassian/viewer", USER_ROLES), None);
        assert_eq!(canonical_role("atlassian/org-admin", USER_ROLES), None);
    }

    #[test]
    fn assignments_read_both_fields_and_every_method() {
        let body = br#"{"data":[{"resourceId":"r1","roles":["atlassian/user","atlassian/admin"],
            "roleAssignments":[{"role":"atlassian/user","roleAssignmentMethods":["group_direct","direct"]}]},
            {"resourceId":"r2","roleAssignments":[{"role":"atlassian/user","roleAssignmentMethods":["inferred"]}]},
            {"roles":["x"]}],"links":{"next":"n"}}"#;
        let p: AssignmentPage = wire::parse(body).unwrap();
        assert_eq!(p.next.as_deref(), Some("n"));
        assert_eq!(p.data.len(), 3);
        assert!(p.data[0].direct());
        assert_eq!(p.data[0].other_sources().len(), 1);
        assert_eq!(p.data[1].role, "atlassian/admin");
        assert!(p.data[1].direct(), "no methods said: treated as direct");
        assert!(!p.data[2].direct());
        assert!(wire::parse::<AssignmentPage>(b"[]").is_err());
    }

    #[test]
    fn workspaces_match_by_site_name_host_or_label() {
        let body =
            br#"{"data":[{"id":"ari:cloud:confluence::site/1","attributes":{"typeKey":"confluence",
            "name":"Acme","hostUrl":"https://acme.atlassian.net"}}],"links":{"next":null}}"#;
        let p: WorkspacePage = wire::parse(body).unwrap();
        assert_eq!(p.next, None);
        let w = &p.data[0];
        assert_eq!(w.product, "confluence");
        for site in ["acme", "ACME", "acme.atlassian.net"] {
            assert!(w.on_site(site), "{site}");
        }
        assert!(!w.on_site("other"));
    }
}
