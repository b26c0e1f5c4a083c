//! `manage-group-roles`: product roles granted to a group (API notes §7.2), an administrator's
//! action on a group rather than on a person. Every member of the group holds the group's
//! roles (`group_direct` in their own assignments), which is why a user-level revoke never
//! touches them (see [`super::roles`]).
//!
//! Requests, in round trips:
//! 1. ONE `send_all`: the admin groups search for the name (every directory) and the first
//!    page of the workspaces listing; further pages follow their cursors.
//! 2. The group's role assignments, `GET …/directories/{dir}/groups/{id}/role-assignments`,
//!    in the group's own directory (100 per page, cursors followed).
//! 3. ONE `send_all` of every write: v2 `role-assignments/assign|revoke` with
//!    `{"resourceId":…,"roleId":…}` in the group's real directory.
//!
//! Every role and resource is resolved before the first write (an unknown role is
//! `invalid-input`, an unknown resource `not-found`, an unknown group `not-found`, each
//! naming what was looked for). `already-done` is judged from the group's assignments; a
//! revoke refused with 400 or 404 is judged by one re-read. Groups synced from an identity
//! provider take roles too: only their membership belongs to the IdP.

use crate::admin;
use crate::config::{AdminConfig, ConnectorConfig};
use crate::error::ConnectorError;
use crate::model::{ActionOptions, Config, Outcome, RoleGrant};
use crate::roles::{self, Assignment, AssignmentPage, GROUP_ROLES};
use crate::transport::{HttpError, Request, Transport};

use super::common::{Run, admin_get, admin_post, outcome, send_batch};
use super::relationships::{groups_search, normalize_names, quoted_list};
use super::roles::{Current, follow, plan_with, workspaces};

/// A group the roles are granted to: its admin id and its real directory.
struct Holder {
    id: String,
    directory_id: String,
}

/// Grants the group named `group` the roles in `add` and revokes those in `remove`. See the
/// module docs for the requests it makes and how it decides what is already done.
pub fn manage_group_roles(
    config: &Config,
    transport: &dyn Transport,
    group: &str,
    add: &[RoleGrant],
    remove: &[RoleGrant],
    options: ActionOptions,
) -> Result<Outcome, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    let a = cfg.require_admin()?;
    let (names, _) = normalize_names(&[group.to_string()], &[])?;
    let name = names.first().map(String::as_str).unwrap_or(group);
    let wanted = super::roles::wanted_for(add, remove, GROUP_ROLES, "a group")?;
    let mut answers = send_batch(
        transport,
        vec![
            groups_search(a, &[name], None),
            super::roles::workspaces_page(a, None),
        ],
    )
    .into_iter();
    let mut next = || {
        answers
            .next()
            .unwrap_or_else(|| Err(HttpError::Other("no result for this request".into())))
    };
    let run = Run::of(&cfg, transport);
    let groups = run.admin_groups(a, &[name], next())?;
    let holder = pick(&groups, name)?;
    let workspaces = workspaces(transport, a, next())?;
    let assignments = read(transport, a, &holder)?;
    let current = Current {
        workspaces,
        assignments,
    };
    let mut planned = plan_with(
        &wanted,
        &current,
        options.dry_run,
        &|role, resource, grant| write(a, &holder, role, resource, grant),
    )?;
    super::roles::apply_with(transport, &mut planned, &|| {
        read(transport, a, &holder).ok()
    });
    let mut changes = Vec::with_capacity(planned.len());
    for p in planned {
        changes.push(p.into_change());
    }
    Ok(outcome(None, changes))
}

/// The one group named `name` (case-insensitively) with the ids a role write needs; several
/// of that name (in different directories) are ambiguous.
fn pick(groups: &[admin::Group], name: &str) -> Result<Holder, ConnectorError> {
    let mut found: Vec<Holder> = Vec::new();
    let mut named = 0;
    for g in groups.iter().filter(|g| g.is_named(name)) {
        named += 1;
        let id = g.id.as_deref().filter(|s| !s.is_empty());
        let dir = g.directory_id.as_deref().filter(|s| !s.is_empty());
        if let (Some(id), Some(dir)) = (id, dir) {
            found.push(Holder {
                id: id.to_string(),
                directory_id: dir.to_string(),
            });
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 if named > 0 => Err(ConnectorError::upstream(
            None,
            None,
            format!(
                "the admin groups search returned group `{name}` without the id and \
                 directoryId a role write needs; nothing was changed"
            ),
        )),
        0 => Err(ConnectorError::NotFound(format!(
            "group `{name}` not found in the organization's directories; nothing was changed"
        ))),
        _ => {
            let dirs: Vec<&str> = found.iter().map(|h| h.directory_id.as_str()).collect();
            Err(ConnectorError::InvalidInput(format!(
                "group `{name}` exists in {} directories ({}): its roles cannot be changed by \
                 name; nothing was changed",
                found.len(),
                quoted_list(&dirs)
            )))
        }
    }
}

/// Every role the group holds, in its own directory.
fn read(
    transport: &dyn Transport,
    a: &AdminConfig,
    group: &Holder,
) -> Result<Vec<Assignment>, ConnectorError> {
    let page = |cursor: Option<&str>| -> Request {
        admin_get(roles::group_assignments_url(
            &a.api_url,
            &a.org_id,
            &group.directory_id,
            &group.id,
            cursor,
        ))
    };
    let subject = format!("the role assignments of group `{}`", group.id);
    follow(
        transport,
        &subject,
        transport.send(page(None)),
        |p: AssignmentPage| (p.data, p.next),
        |c| page(Some(c)),
    )
}

/// The write of one role change of the group.
fn write(a: &AdminConfig, group: &Holder, role: &str, resource: &str, grant: bool) -> Request {
    admin_post(
        roles::group_role_url(&a.api_url, &a.org_id, &group.directory_id, &group.id, grant),
        roles::group_role_body(role, resource),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::deprovision::tests::{GROUPS_SEARCH, batches, scim_only, with_admin};
    use crate::actions::roles::tests::{ARI, WORKSPACES};
    use crate::model::{ChangeKind, ChangeStatus};
    use crate::roles::RESOURCE_KIND;
    use crate::transport::{FakeTransport, Method, Response};

    const READ: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/directories/admin-dir/groups/g-1/role-assignments?limit=100";
    const ASSIGN: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/directories/admin-dir/groups/g-1/role-assignments/assign";
    const REVOKE: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/directories/admin-dir/groups/g-1/role-assignments/revoke";

    fn grant(role: &str, id: &str) -> RoleGrant {
        RoleGrant {
            role: role.into(),
            kind: RESOURCE_KIND.into(),
            id: id.into(),
        }
    }

    /// Group `eng` (g-1 in admin-dir), the site's one Jira workspace, and the group's roles.
    fn script(fake: &FakeTransport, held: &[&str]) {
        fake.on(
            Method::Post,
            GROUPS_SEARCH,
            Ok(Response::json(
                200,
                r#"{"data":[{"id":"g-1","name":"Eng","directoryId":"admin-dir"}],"links":{}}"#,
            )),
        );
        let ws = format!(
            r#"{{"data":[{{"id":"{ARI}","attributes":{{"typeKey":"jira-software","name":"acme","hostUrl":"https://acme.atlassian.net"}}}}],"links":{{}}}}"#
        );
        fake.on(Method::Post, WORKSPACES, Ok(Response::json(200, &ws)));
        let roles: Vec<String> = held.iter().map(|r| format!("\"{r}\"")).collect();
        fake.on_get(
            READ,
            200,
            &format!(
                r#"{{"data":[{{"resourceId":"{ARI}","resourceOwner":"jira-software","roles":[{}]}}],"links":{{}}}}"#,
                roles.join(",")
            ),
        );
    }

    fn run(
        fake: &FakeTransport,
        add: &[RoleGrant],
        remove: &[RoleGrant],
        dry_run: bool,
    ) -> Result<Outcome, ConnectorError> {
        manage_group_roles(
            &with_admin(None),
            fake,
            "eng",
            add,
            remove,
            ActionOptions { dry_run },
        )
    }

    fn statuses(o: &Outcome) -> Vec<(ChangeKind, ChangeStatus)> {
        o.changes
            .iter()
            .map(|c| (c.kind, c.status.clone()))
            .collect()
    }

    fn writes(fake: &FakeTransport) -> Vec<Request> {
        fake.requests()
            .into_iter()
            .filter(|r| r.method != Method::Get && !r.read_only)
            .collect()
    }

    #[test]
    fn i7_a_grant_and_a_revoke_are_v2_writes_after_two_read_round_trips() {
        let fake = FakeTransport::new();
        script(&fake, &["atlassian/admin"]);
        fake.on(Method::Post, ASSIGN, Ok(Response::new(204, "")));
        fake.on(Method::Post, REVOKE, Ok(Response::new(204, "")));
        let o = run(
            &fake,
            &[grant("user", "jira-software/acme")],
            &[grant("atlassian/admin", ARI)],
            false,
        )
        .unwrap();
        assert!(o.completed, "{o:?}");
        assert!(o.user.is_none());
        assert_eq!(
            statuses(&o),
            [
                (ChangeKind::AddRole, ChangeStatus::Applied),
                (ChangeKind::RemoveRole, ChangeStatus::Applied)
            ]
        );
        assert_eq!(
            o.changes[0].target,
            format!("atlassian/user@workspace:{ARI}")
        );
        let b = batches(&fake);
        assert_eq!(b.len(), 3, "{b:?}");
        assert_eq!(
            b[0].len(),
            2,
            "the group search and the workspaces together"
        );
        assert_eq!(b[1][0].url, READ);
        let w = writes(&fake);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].url, ASSIGN);
        assert_eq!(
            w[0].json_body(),
            serde_json::json!({"resourceId": ARI, "roleId": "atlassian/user"})
        );
        assert_eq!(w[1].url, REVOKE);
    }

    #[test]
    fn i7_held_and_not_held_are_already_done_without_a_write() {
        let fake = FakeTransport::new();
        script(&fake, &["atlassian/user"]);
        let o = run(&fake, &[grant("user", ARI)], &[grant("viewer", ARI)], false).unwrap();
        assert_eq!(
            statuses(&o),
            [
                (ChangeKind::AddRole, ChangeStatus::AlreadyDone),
                (ChangeKind::RemoveRole, ChangeStatus::AlreadyDone)
            ]
        );
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn i8_a_dry_run_plans_and_writes_nothing() {
        let fake = FakeTransport::new();
        script(&fake, &[]);
        let o = run(&fake, &[grant("user", ARI)], &[], true).unwrap();
        assert_eq!(statuses(&o), [(ChangeKind::AddRole, ChangeStatus::Planned)]);
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn i8_unknown_group_role_or_resource_fail_before_any_write() {
        let fake = FakeTransport::new();
        script(&fake, &[]);
        let e = run(&fake, &[grant("site-admin", ARI)], &[], false).unwrap_err();
        assert!(
            matches!(&e, ConnectorError::InvalidInput(m) if m.contains("a group may hold")),
            "{e}"
        );
        assert!(
            fake.requests().is_empty(),
            "roles are checked before any request"
        );
        let e = run(&fake, &[grant("user", "confluence/acme")], &[], false).unwrap_err();
        assert!(
            matches!(&e, ConnectorError::NotFound(m) if m.contains("confluence/acme")),
            "{e}"
        );
        let fake = FakeTransport::new();
        fake.on(
            Method::Post,
            GROUPS_SEARCH,
            Ok(Response::json(200, r#"{"data":[],"links":{}}"#)),
        );
        fake.on(
            Method::Post,
            WORKSPACES,
            Ok(Response::json(200, r#"{"data":[]}"#)),
        );
        let e = run(&fake, &[grant("user", ARI)], &[], false).unwrap_err();
        assert!(
            matches!(&e, ConnectorError::NotFound(m) if m.contains("`eng`")),
            "{e}"
        );
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn a_group_name_in_two_directories_is_ambiguous() {
        let fake = FakeTransport::new();
        fake.on(
            Method::Post,
            GROUPS_SEARCH,
            Ok(Response::json(
                200,
                r#"{"data":[{"id":"g-1","name":"eng","directoryId":"d-1"},{"id":"g-2","name":"ENG","directoryId":"d-2"}]}"#,
            )),
        );
        fake.on(
            Method::Post,
            WORKSPACES,
            Ok(Response::json(200, r#"{"data":[]}"#)),
        );
        let e = run(&fake, &[grant("user", ARI)], &[], false).unwrap_err();
        assert!(
            matches!(&e, ConnectorError::InvalidInput(m) if m.contains("2 directories")),
            "{e}"
        );
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn a_refused_revoke_of_a_role_gone_on_re_read_is_already_done() {
        let fake = FakeTransport::new();
        script(&fake, &["atlassian/admin"]);
        fake.on(
            Method::Post,
            REVOKE,
            Ok(Response::json(
                404,
                r#"{"errors":[{"code":"ADMIN-UAM-404-1"}]}"#,
            )),
        );
        fake.on_get(READ, 200, r#"{"data":[],"links":{}}"#);
        let o = run(&fake, &[], &[grant("admin", ARI)], false).unwrap();
        assert_eq!(
            statuses(&o),
            [(ChangeKind::RemoveRole, ChangeStatus::AlreadyDone)]
        );
    }

    #[test]
    fn scim_only_is_a_config_error_naming_the_admin_key() {
        let fake = FakeTransport::new();
        let e = manage_group_roles(
            &scim_only(),
            &fake,
            "eng",
            &[grant("user", ARI)],
            &[],
            ActionOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.config_key(), Some("admin_api_key"));
        assert!(fake.requests().is_empty());
    }
}
