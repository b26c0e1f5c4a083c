//! Group membership, deprovisioning and deletion: `manage-relationships` (groups resolved by
//! `displayName eq` before any write, members added and removed by PATCH), `deprovision-identity`
//! (out of every group the user is in, then `active=false`) and `delete-identity`
//! (`DELETE /Users/{id}`).

use lifecycle_connector_sdk::transport::{Method, Transport};
use serde_json::json;

use crate::client::{Group, Scim, User, encode};
use crate::config::ScimConfig;
use crate::model::{
    Change, ChangeKind, ChangeStatus, Config, ConnectorError, Entitlement, Outcome, ResolvedUser,
    UserRef,
};
use crate::sync::find_by_email;

/// Most pages of groups read to find a user's groups when the service does not list them on
/// the user.
const MAX_GROUP_PAGES: u32 = 100;

/// The user `user` names, when it exists.
pub fn find_user(scim: &Scim, user: &UserRef) -> Result<Option<User>, ConnectorError> {
    match user {
        UserRef::Email(email) => find_by_email(scim, email.trim()),
        UserRef::ScimId(id) => scim.user_by_id(id),
        UserRef::ExternalId(x) => {
            let mut found = scim.find_users("externalId", x)?;
            if found.len() > 1 {
                return Err(ConnectorError::Conflict(format!(
                    "{} users have externalId {x}",
                    found.len()
                )));
            }
            Ok(found.pop())
        }
    }
}

fn describe_ref(user: &UserRef) -> String {
    match user {
        UserRef::Email(e) => format!("user {e}"),
        UserRef::ScimId(id) => format!("user with scim id {id}"),
        UserRef::ExternalId(x) => format!("user with externalId {x}"),
    }
}

fn check_ref(user: &UserRef) -> Result<(), ConnectorError> {
    let value = match user {
        UserRef::Email(v) | UserRef::ScimId(v) | UserRef::ExternalId(v) => v,
    };
    if value.trim().is_empty() {
        return Err(ConnectorError::InvalidInput(
            "the user reference is empty".into(),
        ));
    }
    Ok(())
}

/// The user `user` names, or `not-found` naming the reference.
fn require_user(scim: &Scim, user: &UserRef) -> Result<User, ConnectorError> {
    check_ref(user)?;
    find_user(scim, user)?.ok_or_else(|| ConnectorError::NotFound(describe_ref(user)))
}

fn resolved(user: &User, active: bool) -> Option<ResolvedUser> {
    Some(ResolvedUser {
        id: user.id.clone(),
        email: Some(user.user_name.clone()),
        active: Some(active),
    })
}

/// Fails with `other` when `writes` requests do not fit the host's remaining budget, before
/// the first write (so an action never stops half way for want of requests).
fn check_budget(transport: &dyn Transport, writes: usize) -> Result<(), ConnectorError> {
    let left = transport.limits().remaining();
    if writes > left {
        return Err(ConnectorError::Other(format!(
            "this action needs {writes} more requests but the host allows {left} in this invocation"
        )));
    }
    Ok(())
}

/// Makes each planned membership change: `(group, member wanted, already so)`.
fn apply_memberships(
    scim: &Scim,
    user: &User,
    plan: &[(Group, bool, bool)],
    dry_run: bool,
) -> Vec<Change> {
    plan.iter()
        .map(|(group, member, already)| {
            let kind = if *member {
                ChangeKind::AddMembership
            } else {
                ChangeKind::RemoveMembership
            };
            let status = if *already {
                ChangeStatus::AlreadyDone
            } else if dry_run {
                ChangeStatus::Planned
            } else {
                match scim.set_member(group, &user.id, *member) {
                    Ok(()) => ChangeStatus::Applied,
                    Err(e) => ChangeStatus::Failed(e),
                }
            };
            Change::new(kind, &group.name, status)
        })
        .collect()
}

/// Whether `user` is a member of `group`: from the user's `groups` when the service lists
/// them, from the group's `members` otherwise.
fn is_member(user: &User, group: &Group) -> bool {
    match &user.groups {
        Some(groups) => groups.iter().any(|(id, _)| *id == group.id),
        None => group.members.contains(&user.id),
    }
}

/// `manage-relationships`: group entitlements only; a role is `unsupported`.
pub fn manage_relationships(
    config: &Config,
    transport: &dyn Transport,
    user: &UserRef,
    add: &[Entitlement],
    remove: &[Entitlement],
    dry_run: bool,
) -> Result<Outcome, ConnectorError> {
    let config = ScimConfig::parse(config)?;
    let mut wanted = Vec::new();
    for (list, member) in [(add, true), (remove, false)] {
        for e in list {
            match e {
                Entitlement::Group(name) if name.trim().is_empty() => {
                    return Err(ConnectorError::InvalidInput("a group name is empty".into()));
                }
                Entitlement::Group(name) => wanted.push((name.trim(), member)),
                Entitlement::Role(role, kind, id) => {
                    return Err(ConnectorError::Unsupported(format!(
                        "role {role} on {kind} {id}: generic-scim manages group memberships only"
                    )));
                }
            }
        }
    }
    let scim = Scim::new(&config, transport);
    let user = require_user(&scim, user)?;
    let mut plan = Vec::new();
    for (name, member) in wanted {
        let group = scim
            .group_by_name(name)?
            .ok_or_else(|| ConnectorError::NotFound(format!("group {name}")))?;
        let already = is_member(&user, &group) == member;
        plan.push((group, member, already));
    }
    if !dry_run {
        check_budget(transport, plan.iter().filter(|(_, _, done)| !done).count())?;
    }
    let changes = apply_memberships(&scim, &user, &plan, dry_run);
    Ok(Outcome::of(resolved(&user, user.active), changes))
}

/// Every group `user` is a member of.
fn groups_of(scim: &Scim, user: &User, page_size: u32) -> Result<Vec<Group>, ConnectorError> {
    if let Some(groups) = &user.groups {
        return Ok(groups
            .iter()
            .map(|(id, name)| Group {
                id: id.clone(),
                name: name.clone(),
                members: Vec::new(),
            })
            .collect());
    }
    let mut out = Vec::new();
    let mut start: u64 = 1;
    for _ in 0..MAX_GROUP_PAGES {
        let what = "reading the groups to find the user's memberships";
        let page = scim.list(
            &format!("/Groups?startIndex={start}&count={page_size}"),
            what,
        )?;
        for r in &page.resources {
            if let Some(g) = Group::parse(r)
                && g.members.contains(&user.id)
            {
                out.push(g);
            }
        }
        let n = u64::try_from(page.resources.len()).unwrap_or(u64::MAX);
        start = start.saturating_add(n);
        if n == 0 || start > page.total {
            return Ok(out);
        }
    }
    Err(ConnectorError::Other(format!(
        "more than {MAX_GROUP_PAGES} pages of groups: the user's memberships could not all be read"
    )))
}

/// `deprovision-identity`: out of every group, then deactivated.
pub fn deprovision_identity(
    config: &Config,
    transport: &dyn Transport,
    user: &UserRef,
    dry_run: bool,
) -> Result<Outcome, ConnectorError> {
    let config = ScimConfig::parse(config)?;
    let scim = Scim::new(&config, transport);
    let user = require_user(&scim, user)?;
    let plan: Vec<(Group, bool, bool)> = groups_of(&scim, &user, config.page_size)?
        .into_iter()
        .map(|g| (g, false, false))
        .collect();
    if !dry_run {
        check_budget(transport, plan.len() + usize::from(user.active))?;
    }
    let mut changes = apply_memberships(&scim, &user, &plan, dry_run);
    let mut active = user.active;
    let status = if !user.active {
        ChangeStatus::AlreadyDone
    } else if dry_run {
        ChangeStatus::Planned
    } else {
        match scim.patch_user(&user.id, &[("active", json!(false))]) {
            Ok(Some(_)) => {
                active = false;
                ChangeStatus::Applied
            }
            Ok(None) => ChangeStatus::Failed(ConnectorError::NotFound(format!(
                "user {} disappeared while being deactivated",
                user.id
            ))),
            Err(e) => ChangeStatus::Failed(e),
        }
    };
    changes.push(Change::new(ChangeKind::DeactivateUser, &user.id, status));
    Ok(Outcome::of(resolved(&user, active), changes))
}

/// `delete-identity`: the record deleted; an absent user is `already-done`. `purge-account`
/// is `unsupported` (SCIM has no account behind the record).
pub fn delete_identity(
    config: &Config,
    transport: &dyn Transport,
    user: &UserRef,
    purge_account: bool,
    dry_run: bool,
) -> Result<Outcome, ConnectorError> {
    let config = ScimConfig::parse(config)?;
    if purge_account {
        return Err(ConnectorError::Unsupported(
            "purge-account: a SCIM service has no account behind the user record".into(),
        ));
    }
    check_ref(user)?;
    let scim = Scim::new(&config, transport);
    let Some(found) = find_user(&scim, user)? else {
        let change = Change::new(
            ChangeKind::DeleteUser,
            &describe_ref(user),
            ChangeStatus::AlreadyDone,
        );
        return Ok(Outcome::of(None, vec![change]));
    };
    let status = if dry_run {
        ChangeStatus::Planned
    } else {
        let what = format!("deleting user {}", found.id);
        match scim.write(
            Method::Delete,
            &format!("/Users/{}", encode(&found.id)),
            None,
            &what,
        ) {
            Ok(Some(_)) => ChangeStatus::Applied,
            Ok(None) => ChangeStatus::AlreadyDone,
            Err(e) => ChangeStatus::Failed(e),
        }
    };
    let user = ResolvedUser {
        id: found.id.clone(),
        email: Some(found.user_name.clone()),
        active: None,
    };
    let change = Change::new(ChangeKind::DeleteUser, &found.id, status);
    Ok(Outcome::of(Some(user), vec![change]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{BASE, config, list, user_json};
    use lifecycle_connector_sdk::transport::{FakeTransport, Response};
    use serde_json::Value;

    const LOOKUP: &str = "/Users?filter=userName%20eq%20%22ada%40example.com%22";
    const ENG: &str = "/Groups?filter=displayName%20eq%20%22eng%22";

    fn ada(groups: Value) -> Value {
        let mut u: Value = serde_json::from_str(&user_json("u1", "ada@example.com", true)).unwrap();
        u["groups"] = groups;
        u
    }

    fn email() -> UserRef {
        UserRef::Email("ada@example.com".into())
    }

    fn eng() -> String {
        list(&[json!({"id": "g1", "displayName": "Eng"})])
    }

    #[test]
    fn groups_are_added_once_then_already_done() {
        let fake = FakeTransport::new();
        fake.on_get(&format!("{BASE}{LOOKUP}"), 200, &list(&[ada(json!([]))]));
        fake.on_get(&format!("{BASE}{ENG}"), 200, &eng());
        fake.on(
            Method::Patch,
            &format!("{BASE}/Groups/g1"),
            Ok(Response::json(200, "{}")),
        );
        let add = [Entitlement::Group("eng".into())];
        let out = manage_relationships(&config(), &fake, &email(), &add, &[], false).unwrap();
        assert_eq!(out.changes[0].status, ChangeStatus::Applied);
        assert_eq!(out.changes[0].target, "Eng");
        let body = fake.non_get_requests()[0].json_body();
        assert_eq!(
            body["Operations"][0],
            json!({"op": "add", "path": "members", "value": [{"value": "u1"}]})
        );

        let fake = FakeTransport::new();
        fake.on_get(
            &format!("{BASE}{LOOKUP}"),
            200,
            &list(&[ada(json!([{"value": "g1"}]))]),
        );
        fake.on_get(&format!("{BASE}{ENG}"), 200, &eng());
        let out = manage_relationships(&config(), &fake, &email(), &add, &[], false).unwrap();
        assert_eq!(out.changes[0].status, ChangeStatus::AlreadyDone);
        assert!(fake.non_get_requests().is_empty());
    }

    #[test]
    fn an_unknown_group_or_a_role_fails_before_any_write() {
        let fake = FakeTransport::new();
        fake.on_get(&format!("{BASE}{LOOKUP}"), 200, &list(&[ada(json!([]))]));
        fake.on_get(&format!("{BASE}{ENG}"), 200, &eng());
        fake.on_get(
            &format!("{BASE}/Groups?filter=displayName%20eq%20%22nope%22"),
            200,
            &list(&[]),
        );
        let both = [
            Entitlement::Group("eng".into()),
            Entitlement::Group("nope".into()),
        ];
        let r = manage_relationships(&config(), &fake, &email(), &both, &[], false);
        assert_eq!(r, Err(ConnectorError::NotFound("group nope".into())));
        let role = [Entitlement::Role(
            "admin".into(),
            "project".into(),
            "P".into(),
        )];
        let r = manage_relationships(&config(), &fake, &email(), &role, &[], false);
        assert!(matches!(r, Err(ConnectorError::Unsupported(_))));
        assert!(fake.non_get_requests().is_empty());
    }

    #[test]
    fn deprovision_leaves_every_group_then_deactivates() {
        let fake = FakeTransport::new();
        let groups = json!([{"value": "g1", "display": "Eng"}, {"value": "g2", "display": "Ops"}]);
        fake.on_get(&format!("{BASE}{LOOKUP}"), 200, &list(&[ada(groups)]));
        for g in ["g1", "g2"] {
            fake.on(
                Method::Patch,
                &format!("{BASE}/Groups/{g}"),
                Ok(Response::json(200, "{}")),
            );
        }
        fake.on(
            Method::Patch,
            &format!("{BASE}/Users/u1"),
            Ok(Response::json(200, "{}")),
        );
        let out = deprovision_identity(&config(), &fake, &email(), false).unwrap();
        assert!(out.completed);
        let kinds: Vec<ChangeKind> = out.changes.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::RemoveMembership,
                ChangeKind::RemoveMembership,
                ChangeKind::DeactivateUser
            ]
        );
        let writes = fake.non_get_requests();
        assert_eq!(
            writes[1].json_body()["Operations"][0]["path"],
            "members[value eq \"u1\"]"
        );
        assert_eq!(
            writes[2].json_body()["Operations"][0],
            json!({"op": "replace", "path": "active", "value": false})
        );
    }

    #[test]
    fn deprovision_scans_groups_when_the_user_lists_none() {
        let fake = FakeTransport::new();
        let u: Value = serde_json::from_str(&user_json("u1", "ada@example.com", false)).unwrap();
        fake.on_get(&format!("{BASE}{LOOKUP}"), 200, &list(&[u]));
        let page = json!({"totalResults": 2, "Resources": [
            {"id": "g1", "displayName": "Eng", "members": [{"value": "u1"}]},
            {"id": "g2", "displayName": "Ops", "members": [{"value": "u9"}]}]});
        fake.on_get(
            &format!("{BASE}/Groups?startIndex=1&count=100"),
            200,
            &page.to_string(),
        );
        let out = deprovision_identity(&config(), &fake, &email(), true).unwrap();
        assert_eq!(out.changes.len(), 2);
        assert_eq!(out.changes[0].target, "Eng");
        assert_eq!(out.changes[0].status, ChangeStatus::Planned);
        assert_eq!(out.changes[1].status, ChangeStatus::AlreadyDone);
        assert!(fake.non_get_requests().is_empty());
    }

    #[test]
    fn delete_is_idempotent_and_purge_is_unsupported() {
        let fake = FakeTransport::new();
        fake.on_get(
            &format!("{BASE}/Users/u1"),
            200,
            &user_json("u1", "ada@example.com", true),
        );
        fake.on(
            Method::Delete,
            &format!("{BASE}/Users/u1"),
            Ok(Response::new(204, "")),
        );
        let id = UserRef::ScimId("u1".into());
        let out = delete_identity(&config(), &fake, &id, false, false).unwrap();
        assert_eq!(out.changes[0].status, ChangeStatus::Applied);
        let fake = FakeTransport::new();
        fake.on_get(&format!("{BASE}/Users/u1"), 404, "{}");
        let out = delete_identity(&config(), &fake, &id, false, false).unwrap();
        assert_eq!(out.changes[0].status, ChangeStatus::AlreadyDone);
        assert!(matches!(
            delete_identity(&config(), &fake, &id, true, false),
            Err(ConnectorError::Unsupported(_))
        ));
    }
}
