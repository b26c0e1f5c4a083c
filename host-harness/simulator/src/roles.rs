//! Product roles (API notes §7.1, §7.2): the workspaces listing (`POST /admin/v2/orgs/{org}/workspaces`),
//! a user's role assignments with their `roleAssignmentMethods` (`direct`, `group_direct`,
//! `inferred`), the v1 user `roles/assign|revoke` and the v2 group
//! `role-assignments/assign|revoke`, with a switch for every uncertain answer.

use super::admin::{body, error, page, paging};
use super::http::{Reply, Req};
use super::options::RevokeMissing;
use super::state::{AccountStatus, State};
use super::util;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The roles a user may be given on a product (v1 `roles/assign`).
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
    "org-admin",
];
/// The roles a group may be given (v2 group `role-assignments/assign`).
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

/// One workspace: a product on a site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workspace {
    /// The workspace id, an ARI `ari:cloud:<product>::site/<cloudId>`.
    pub id: String,
    /// The product (`jira-software`, `confluence`, …).
    pub type_key: String,
    /// The site's name.
    pub name: String,
    /// `https://<site>.atlassian.net`.
    pub host_url: String,
    /// `online`, `offline` or `deprecated`.
    pub status: String,
}

/// Every role assignment the simulator knows: (who, resource id, role without `atlassian/`).
#[derive(Debug, Default)]
pub(crate) struct Roles {
    pub workspaces: Vec<Workspace>,
    /// Direct user grants: (account id, resource, role).
    pub direct: BTreeSet<(String, String, String)>,
    /// Inferred grants (for example from being an org admin): (account id, resource, role).
    pub inferred: BTreeSet<(String, String, String)>,
    /// Group grants: (group admin id, resource, role).
    pub groups: BTreeSet<(String, String, String)>,
}

impl Roles {
    /// One site, `simulated-site`, with Jira Software, Jira Service Management and Confluence.
    pub fn one_site() -> Roles {
        Roles {
            workspaces: site("simulated-site"),
            ..Roles::default()
        }
    }
}

/// The workspaces of a site `name` (its own cloud id): Jira Software, Jira Service Management
/// and Confluence, in that order.
fn site(name: &str) -> Vec<Workspace> {
    let cloud = util::uuid();
    ["jira-software", "jira-servicedesk", "confluence"]
        .into_iter()
        .map(|product| Workspace {
            id: format!("ari:cloud:{product}::site/{cloud}"),
            type_key: product.to_string(),
            name: name.to_string(),
            host_url: format!("https://{name}.atlassian.net"),
            status: "online".into(),
        })
        .collect()
}

/// A role a user holds on a resource, with how they hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleView {
    /// The resource id (an ARI).
    pub resource: String,
    /// The role, `atlassian/…`.
    pub role: String,
    /// `direct`, `group_direct`, `inferred`, in that order.
    pub methods: Vec<String>,
}

fn bare(role: &str) -> &str {
    role.strip_prefix("atlassian/").unwrap_or(role)
}

impl State {
    /// Every role `account_id` holds, by resource then role, with its methods.
    pub(crate) fn user_roles(&self, account_id: &str) -> Vec<RoleView> {
        let groups: Vec<String> = self
            .groups_of(account_id)
            .iter()
            .map(|g| g.admin_id.clone())
            .collect();
        let mut all: BTreeSet<(String, String)> = BTreeSet::new();
        let r = &self.roles;
        for (a, res, role) in r.direct.iter().chain(&r.inferred) {
            if a == account_id {
                all.insert((res.clone(), role.clone()));
            }
        }
        for (g, res, role) in &r.groups {
            if groups.contains(g) {
                all.insert((res.clone(), role.clone()));
            }
        }
        all.into_iter()
            .map(|(res, role)| {
                let key = (account_id.to_string(), res.clone(), role.clone());
                let mut methods = Vec::new();
                if r.direct.contains(&key) {
                    methods.push("direct".to_string());
                }
                if groups
                    .iter()
                    .any(|g| r.groups.contains(&(g.clone(), res.clone(), role.clone())))
                {
                    methods.push("group_direct".to_string());
                }
                if r.inferred.contains(&key) {
                    methods.push("inferred".to_string());
                }
                RoleView {
                    resource: res,
                    role: format!("atlassian/{role}"),
                    methods,
                }
            })
            .collect()
    }

    fn workspace(&self, id: &str) -> Option<&Workspace> {
        self.roles.workspaces.iter().find(|w| w.id == id)
    }
}

/// The product-role routes; `None` for any other admin path.
pub(crate) fn route(st: &mut State, req: &Req) -> Option<Reply> {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let m = req.method.as_str();
    let reply = match segs.as_slice() {
        ["admin", "v2", "orgs", _, "workspaces"] => match m {
            "POST" => workspaces(st, req),
            _ => error(st, 405, "ADMIN-405", "Method not allowed"),
        },
        [
            "admin",
            "v1",
            "orgs",
            _,
            "users",
            acc,
            "roles",
            action @ ("assign" | "revoke"),
        ] => match m {
            "POST" => user_role(st, req, acc, *action == "assign"),
            _ => error(st, 405, "ADMIN-405", "Method not allowed"),
        },
        [
            "admin",
            "v2",
            "orgs",
            _,
            "directories",
            dir,
            "users",
            acc,
            "role-assignments",
        ] => match directory(st, dir, false) {
            Err(r) => r,
            Ok(()) if m == "GET" => user_assignments(st, req, acc),
            Ok(()) => error(st, 405, "ADMIN-405", "Method not allowed"),
        },
        [
            "admin",
            "v2",
            "orgs",
            _,
            "directories",
            dir,
            "groups",
            gid,
            "role-assignments",
        ] => match directory(st, dir, false) {
            Err(r) => r,
            Ok(()) if m == "GET" => group_assignments(st, gid),
            Ok(()) => error(st, 405, "ADMIN-405", "Method not allowed"),
        },
        [
            "admin",
            "v2",
            "orgs",
            _,
            "directories",
            dir,
            "groups",
            gid,
            "role-assignments",
            action @ ("assign" | "revoke"),
        ] => match directory(st, dir, true) {
            Err(r) => r,
            Ok(()) if m == "POST" => group_role(st, req, gid, *action == "assign"),
            Ok(()) => error(st, 405, "ADMIN-405", "Method not allowed"),
        },
        _ => return None,
    };
    Some(reply)
}

fn directory(st: &State, dir: &str, write: bool) -> Result<(), Reply> {
    if dir == "-" && write {
        return Err(error(
            st,
            400,
            "ADMIN-400",
            "Writes need the group's real directoryId, not '-'",
        ));
    }
    if dir != "-" && dir != st.dir_id {
        return Err(error(
            st,
            404,
            "ADMIN-404",
            &format!("Directory {dir} not found"),
        ));
    }
    Ok(())
}

/// `POST …/workspaces`: `{"limit":N}` (1..=1000, default 20; the body is optional) gives the
/// first N workspaces and, when more remain, `links.next`; that cursor alone (any other
/// property next to it is a 400) gives the next N. A cursor this server did not issue is a
/// 400.
fn workspaces(st: &State, req: &Req) -> Reply {
    let b = match body(st, req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let cursor = b.get("cursor").and_then(Value::as_str);
    if cursor.is_some() && b.as_object().is_some_and(|o| o.len() > 1) {
        return error(
            st,
            400,
            "ADMIN-400",
            "When a cursor is provided in the request body, no other properties may be present.",
        );
    }
    let limit = match b.get("limit").map(Value::as_i64) {
        None => 20,
        Some(Some(l)) if (1..=1000).contains(&l) => l as usize,
        Some(_) => return error(st, 400, "ADMIN-400", "limit must be between 1 and 1000"),
    };
    // The cursor carries the limit, as the caller may send nothing else with it.
    let (offset, limit) = match cursor {
        None => (0, limit),
        Some(c) => match c
            .split_once(':')
            .and_then(|(o, l)| Some((o.parse::<usize>().ok()?, l.parse::<usize>().ok()?)))
            .filter(|(_, l)| (1..=1000).contains(l))
        {
            Some(p) => p,
            None => return error(st, 400, "ADMIN-400", "The cursor is invalid or expired"),
        },
    };
    let all = &st.roles.workspaces;
    let data: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|w| {
            json!({"id": w.id, "type": "workspace",
                   "attributes": {"name": w.name, "typeKey": w.type_key, "type": w.type_key,
                                  "status": w.status, "hostUrl": w.host_url, "sandbox": false},
                   "links": {"self": format!("/workspaces/{}", w.id)}})
        })
        .collect();
    let end = offset.saturating_add(limit);
    let next = (end < all.len()).then(|| format!("{end}:{limit}"));
    Reply::json(
        200,
        json!({"data": data, "links": {"self": null, "prev": null, "next": next},
               "meta": {"pageSize": limit, "startIndex": offset, "endIndex": end.min(all.len()),
                        "total": all.len()}}),
    )
}

fn user_assignments(st: &State, req: &Req, acc: &str) -> Reply {
    let Some(a) = st.account(acc) else {
        return error(st, 404, "ADMIN-404", &format!("User {acc} not found"));
    };
    let status = match (a.status, a.suspended) {
        (AccountStatus::Active, false) => "active",
        (AccountStatus::Active, true) => "suspended",
        _ => "deactivated",
    };
    let limit = match req.q_num("limit") {
        Ok(l) => l,
        Err(e) => return error(st, 400, "ADMIN-400", &e),
    };
    let (offset, limit) = match paging(st, req.q("cursor"), limit) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let wanted: Vec<&str> = req
        .query
        .iter()
        .filter(|(k, _)| k == "resourceIds")
        .flat_map(|(_, v)| v.split(','))
        .collect();
    let mut by_resource: Vec<(String, Vec<RoleView>)> = Vec::new();
    for r in st.user_roles(acc) {
        if !wanted.is_empty() && !wanted.contains(&r.resource.as_str()) {
            continue;
        }
        match by_resource.last_mut() {
            Some((res, list)) if *res == r.resource => list.push(r),
            _ => by_resource.push((r.resource.clone(), vec![r])),
        }
    }
    let (slice, links) = page(&by_resource, offset, limit);
    let data: Vec<Value> = slice
        .iter()
        .map(|(res, list)| {
            let owner = st.workspace(res).map(|w| w.type_key.clone());
            json!({"resourceId": res, "resourceOwner": owner,
                   "roles": list.iter().map(|r| r.role.clone()).collect::<Vec<_>>(),
                   "roleAssignments": list.iter().map(|r| json!({"role": r.role,
                        "roleAssignmentMethods": r.methods})).collect::<Vec<_>>(),
                   "directoryId": st.dir_id, "userDirectoryStatus": status})
        })
        .collect();
    Reply::json(200, json!({"data": data, "links": links}))
}

fn group_assignments(st: &State, gid: &str) -> Reply {
    if st.group_by_admin_id(gid).is_none() {
        return error(
            st,
            404,
            "ADMIN-UAM-404-3",
            &format!("Group {gid} not found"),
        );
    }
    let mut by_resource: Vec<(String, Vec<String>)> = Vec::new();
    for (g, res, role) in &st.roles.groups {
        if g != gid {
            continue;
        }
        let role = format!("atlassian/{role}");
        match by_resource.last_mut() {
            Some((r, list)) if r == res => list.push(role),
            _ => by_resource.push((res.clone(), vec![role])),
        }
    }
    let data: Vec<Value> = by_resource
        .iter()
        .map(|(res, roles)| {
            let owner = st.workspace(res).map(|w| w.type_key.clone());
            json!({"resourceId": res, "resourceOwner": owner, "defaultRole": null, "roles": roles})
        })
        .collect();
    Reply::json(200, json!({"data": data, "links": {"next": null}}))
}

/// Checks a role on a resource for an assign; `Ok(None)` for a resource accepted but granting
/// nothing (a plain `ari:cloud:jira::site/…`).
fn checked_resource<'a>(
    st: &'a State,
    role: &str,
    resource: Option<&str>,
    allowed: &[&str],
) -> Result<Option<&'a Workspace>, Reply> {
    let Some(resource) = resource.filter(|r| !r.is_empty()) else {
        return Err(error(st, 400, "ADMIN-UAM-400-5", "Cloud Resource is empty"));
    };
    if !allowed.contains(&bare(role)) || !role.starts_with("atlassian/") {
        return Err(error(
            st,
            400,
            "ADMIN-UAM-400-3",
            &format!("Invalid role {role} for resource {resource}"),
        ));
    }
    if resource.starts_with("ari:cloud:jira::site/") {
        return Ok(None);
    }
    match st.workspace(resource) {
        Some(w) if st.options.unlicensed_products.contains(&w.type_key) => Err(error(
            st,
            400,
            "ADMIN-UAM-400-4",
            &format!("The product {} is not licensed", w.type_key),
        )),
        Some(w) => Ok(Some(w)),
        None => Err(error(
            st,
            404,
            "ADMIN-UAM-404-1",
            &format!("Resource {resource} not found"),
        )),
    }
}

fn revoke_missing(st: &State) -> Reply {
    match st.options.role_revoke_missing {
        RevokeMissing::NoContent => Reply::empty(204),
        RevokeMissing::BadRequest => error(
            st,
            400,
            "ADMIN-UAM-400-3",
            "The role is not assigned on this resource",
        ),
        RevokeMissing::NotFound => error(st, 404, "ADMIN-UAM-404-1", "No such role assignment"),
    }
}

fn user_role(st: &mut State, req: &Req, acc: &str, assign: bool) -> Reply {
    let b = match body(st, req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(role) = b.get("role").and_then(Value::as_str).map(str::to_string) else {
        return error(st, 400, "ADMIN-400", "role is required");
    };
    let Some(a) = st.account(acc) else {
        return error(st, 404, "ADMIN-404", &format!("User {acc} not found"));
    };
    if assign && a.suspended {
        return error(
            st,
            403,
            "ADMIN-UAM-403-2",
            "Roles cannot be granted to a suspended user",
        );
    }
    let resource = b.get("resource").and_then(Value::as_str);
    let ws = match checked_resource(st, &role, resource, USER_ROLES) {
        Ok(Some(w)) => w.clone(),
        Ok(None) => return Reply::empty(204),
        Err(r) => return r,
    };
    let key = (acc.to_string(), ws.id.clone(), bare(&role).to_string());
    let held = st.roles.direct.contains(&key);
    if !assign {
        if !held {
            return revoke_missing(st);
        }
        st.roles.direct.remove(&key);
        return Reply::empty(204);
    }
    if held {
        return if st.options.role_repeat_conflict {
            error(st, 409, "ADMIN-UAM-409-2", "The user already has this role")
        } else {
            Reply::empty(204)
        };
    }
    if let Some(seats) = st.options.role_licence_limits.get(&ws.id) {
        let holders: BTreeSet<&String> = st
            .roles
            .direct
            .iter()
            .filter(|(_, r, _)| *r == ws.id)
            .map(|(a, _, _)| a)
            .collect();
        if holders.len() >= *seats {
            return error(
                st,
                409,
                "ADMIN-UAM-409-3",
                "Granting this role would exceed the product licence limit",
            );
        }
    }
    st.roles.direct.insert(key);
    Reply::empty(204)
}

fn group_role(st: &mut State, req: &Req, gid: &str, assign: bool) -> Reply {
    let b = match body(st, req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if st.group_by_admin_id(gid).is_none() {
        return error(
            st,
            404,
            "ADMIN-UAM-404-3",
            &format!("Group {gid} not found"),
        );
    }
    let Some(role) = b.get("roleId").and_then(Value::as_str).map(str::to_string) else {
        return error(st, 400, "ADMIN-400", "roleId is required");
    };
    let resource = b.get("resourceId").and_then(Value::as_str);
    let ws = match checked_resource(st, &role, resource, GROUP_ROLES) {
        Ok(Some(w)) => w.clone(),
        Ok(None) => return Reply::empty(204),
        Err(r) => return r,
    };
    let key = (gid.to_string(), ws.id, bare(&role).to_string());
    if assign {
        st.roles.groups.insert(key);
    } else {
        st.roles.groups.remove(&key);
    }
    Reply::empty(204)
}

/// Test and seeding access to the roles model.
impl super::Simulator {
    /// The workspaces (one per product of the simulated site).
    pub fn workspaces(&self) -> Vec<Workspace> {
        self.st().roles.workspaces.clone()
    }
    /// Adds a site `name` to the organization: its three workspaces (Jira Software, Jira
    /// Service Management, Confluence) are listed after the ones already there, and take
    /// roles. Returns their ids.
    pub fn add_site(&self, name: &str) -> Vec<String> {
        let added = site(name);
        let ids = added.iter().map(|w| w.id.clone()).collect();
        self.st().roles.workspaces.extend(added);
        ids
    }
    /// The workspace id of `product` (`jira-software`, `jira-servicedesk`, `confluence`) on
    /// the first site that has it.
    pub fn workspace_id(&self, product: &str) -> Option<String> {
        let st = self.st();
        let w = st.roles.workspaces.iter().find(|w| w.type_key == product)?;
        Some(w.id.clone())
    }
    /// Every role the user with `email` holds, with how they hold it (empty for no such user).
    pub fn user_roles(&self, email: &str) -> Vec<RoleView> {
        let st = self.st();
        match st.account_by_email(email) {
            Some(a) => st.user_roles(&a.account_id.clone()),
            None => Vec::new(),
        }
    }
    /// Grants `role` (`atlassian/…`) on `resource` to the user with `email`: `direct`, or
    /// `inferred` when `inferred` is set. False when there is no such user.
    pub fn grant_user_role(&self, email: &str, resource: &str, role: &str, inferred: bool) -> bool {
        let mut st = self.st();
        let Some(acc) = st.account_by_email(email).map(|a| a.account_id.clone()) else {
            return false;
        };
        let key = (acc, resource.to_string(), bare(role).to_string());
        if inferred {
            st.roles.inferred.insert(key)
        } else {
            st.roles.direct.insert(key)
        }
    }
    /// Grants `role` on `resource` to the group named `group`. False when there is no such group.
    pub fn grant_group_role(&self, group: &str, resource: &str, role: &str) -> bool {
        let mut st = self.st();
        let Some(gid) = st.group_by_name(group).map(|g| g.admin_id.clone()) else {
            return false;
        };
        st.roles
            .groups
            .insert((gid, resource.to_string(), bare(role).to_string()))
    }
    /// The roles granted to the group named `group`: (resource, `atlassian/…`).
    pub fn group_roles(&self, group: &str) -> Vec<(String, String)> {
        let st = self.st();
        let Some(gid) = st.group_by_name(group).map(|g| g.admin_id.clone()) else {
            return Vec::new();
        };
        st.roles
            .groups
            .iter()
            .filter(|(g, _, _)| *g == gid)
            .map(|(_, r, role)| (r.clone(), format!("atlassian/{role}")))
            .collect()
    }
}
