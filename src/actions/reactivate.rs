//! `reactivate-identity`: the way back after a deprovision (a rehire, a mistaken
//! offboarding), `atlassian-api.md` §7.6.
//!
//! 1. Reads, before any write: the person (as deprovision finds them) with their current
//!    memberships (the SCIM user's `groups`, the expanded admin user's), the plan of the
//!    memberships to converge to `desired` (a dry run of [`manage_groups`]: every desired group
//!    resolved, unknown ones fail the call with nothing written), and with the admin API the
//!    workspaces and role assignments (every desired role and resource resolved).
//! 2. SCIM `PATCH active=true` for a deactivated SCIM user (`reactivate-user`). Never the
//!    lifecycle `enable`: it is refused for SCIM-linked accounts.
//! 3. v2 `restore` when the access is suspended (`restore-user`), also for a SCIM user: a
//!    suspension outlives SCIM reactivation.
//! 4. The memberships: stale ones (kept by Atlassian through the deactivation) removed,
//!    missing ones added — [`manage_groups`], only when the plan has a write.
//! 5. The direct roles: missing desired ones granted, direct ones not desired revoked
//!    ([`super::roles`]); roles held through a group come and go with the groups.
//! 6. A `skipped` change for what only an administrator can restore: site access revoked by
//!    hand is not given back by SCIM reactivation (ID-7848).
//!
//! A failed reactivation or restore stops there (the next run finishes). Again after success:
//! every change `already-done`, no write. A dry run makes the reads only.

use crate::config::{AdminConfig, ConnectorConfig};
use crate::error::ConnectorError;
use crate::model::{
    AccountId, ActionOptions, Change, ChangeKind, ChangeStatus, Config, Entitlement, Outcome,
    UserRef,
};
use crate::scim;
use crate::text::fold_case;
use crate::transport::{Method, Transport};

use super::common::{Run, check_user_ref, outcome, scim_ctx, scim_write};
use super::deprovision::{settle, unverified};
use super::relationships::{manage_groups, normalize_names, split};
use super::roles;

/// Makes `user` active again and converges their memberships and direct roles to `desired`.
pub fn reactivate_identity(
    config: &Config,
    transport: &dyn Transport,
    user: &UserRef,
    desired: &[Entitlement],
    options: ActionOptions,
) -> Result<Outcome, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    let (groups, grants) = split(desired);
    let wanted = roles::wanted(&grants, &[])?;
    if !wanted.is_empty() {
        cfg.require_admin()?;
    }
    normalize_names(&groups, &[])?;
    check_user_ref(user)?;
    if matches!(user, UserRef::AccountId(_)) {
        cfg.require_admin()?;
    }
    let run = Run::of(&cfg, transport);
    let person = run.existing(user)?;

    // Everything resolved before the first write.
    // The memberships held now, by name (SCIM groups from the user's `groups`, every group
    // from the expanded admin user); [`manage_groups`] resolves them like the desired ones.
    let mut stale: Vec<String> = Vec::new();
    let scim_groups = person.scim.as_ref().map_or(&[][..], |u| &u.groups[..]);
    let admin_groups = person
        .admin_user
        .as_ref()
        .map_or(&[][..], |u| &u.groups[..]);
    for name in scim_groups.iter().filter_map(|g| g.display.as_ref()) {
        add_stale(&mut stale, &groups, name);
    }
    for name in admin_groups.iter().filter_map(|g| g.name.as_ref()) {
        add_stale(&mut stale, &groups, name);
    }
    let dry = ActionOptions { dry_run: true };
    let plan = if groups.is_empty() && stale.is_empty() {
        outcome(None, Vec::new())
    } else {
        manage_groups(config, transport, user, &groups, &stale, dry)?
    };
    let account = person.account_id.clone();
    let mut role_plan = Vec::new();
    if let (Some(a), Some(account)) = (run.admin, &account) {
        role_plan = plan_roles(transport, a, account, &wanted, options.dry_run)?;
    } else if !wanted.is_empty() {
        return Err(ConnectorError::NotFound(
            "the user is not linked to an Atlassian account yet, so its roles cannot change; \
             retry shortly"
                .into(),
        ));
    }

    let mut changes: Vec<Change> = Vec::new();
    // The SCIM record: active again.
    let mut reactivated = false;
    if let (Some(u), Some(id)) = (&person.scim, &person.scim_id) {
        let inactive = u.active == Some(false);
        reactivated = inactive;
        let status = if !inactive {
            ChangeStatus::AlreadyDone
        } else if options.dry_run {
            ChangeStatus::Planned
        } else {
            let url = scim::user_url(&cfg.scim.url, id);
            let body = scim::active_body(true);
            let answer = transport.send(scim_write(Method::Patch, url, body));
            settle(&scim_ctx(id), answer, false)
        };
        changes.push(Change {
            kind: ChangeKind::ReactivateUser,
            target: id.to_string(),
            before: Some(if inactive { "inactive" } else { "active" }.into()),
            after: Some("active".into()),
            status,
        });
    }
    // The suspension, wherever the person is known to the admin API.
    if let (Some(a), Some(u), Some(account)) = (run.admin, &person.admin_user, &account) {
        changes.push(super::suspension::change(
            transport,
            a,
            account,
            false,
            u.is_suspended(),
            options.dry_run,
            None,
        ));
    }
    if changes
        .iter()
        .any(|c| matches!(c.status, ChangeStatus::Failed(_)))
    {
        return Ok(outcome(Some(person.resolved()), changes));
    }

    // The memberships, then the roles.
    let pending = plan
        .changes
        .iter()
        .any(|c| c.status == ChangeStatus::Planned);
    let groups_done = if pending && !options.dry_run {
        manage_groups(config, transport, user, &groups, &stale, options)?
    } else {
        plan
    };
    changes.extend(groups_done.changes);
    changes.extend(unverified(&run, &person));
    if let (Some(a), Some(account)) = (run.admin, &account) {
        roles::apply(transport, a, account, &mut role_plan);
    }
    for p in role_plan {
        changes.push(p.into_change());
    }
    if reactivated {
        changes.push(Change {
            kind: ChangeKind::RestoreUser,
            target: "site access".into(),
            before: None,
            after: None,
            status: ChangeStatus::Skipped(
                "site access revoked by hand is not restored by SCIM reactivation: an \
                 administrator must switch it back on in Atlassian Administration (ID-7848)"
                    .into(),
            ),
        });
    }
    let mut resolved = person.resolved();
    if reactivated && !options.dry_run {
        resolved.active = Some(true);
    }
    Ok(outcome(Some(resolved), changes))
}

/// Adds `name` to `stale` unless it is wanted or already there (ignoring case).
fn add_stale(stale: &mut Vec<String>, wanted: &[String], name: &str) {
    let folded = fold_case(name);
    let known = |list: &[String]| list.iter().any(|g| fold_case(g) == folded);
    if !known(wanted) && !known(stale) {
        stale.push(name.to_string());
    }
}

/// The role changes that converge `account`'s direct roles to `wanted` (grants only): the
/// missing grants, and a revoke of every direct role not wanted. Every resource resolved.
fn plan_roles(
    transport: &dyn Transport,
    a: &AdminConfig,
    account: &AccountId,
    wanted: &[roles::Wanted],
    dry_run: bool,
) -> Result<Vec<roles::Planned>, ConnectorError> {
    let current = roles::read(transport, a, account, !wanted.is_empty())?;
    let mut planned = roles::plan(a, account, wanted, &current, dry_run)?;
    let mut stale = Vec::new();
    for h in &current.assignments {
        let kept = planned
            .iter()
            .any(|p| p.resource == h.resource && p.role == h.role);
        if h.direct() && !kept {
            stale.push(h.clone());
        }
    }
    let stale = roles::Current {
        workspaces: Vec::new(),
        assignments: stale,
    };
    planned.extend(roles::revoke_all(a, account, &stale, dry_run));
    Ok(planned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::deprovision::tests::*;
    use crate::actions::roles::tests::{ARI, ASSIGN, REVOKE, WORKSPACES};
    use crate::model::RoleGrant;
    use crate::transport::{FakeTransport, Request, Response};
    use serde_json::json;

    const DIRS: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/directories";
    const RESTORE: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/directories/dir-1/users/712020%3Aabc/restore";

    fn writes(fake: &FakeTransport) -> Vec<Request> {
        fake.requests()
            .into_iter()
            .filter(|r| r.method != Method::Get && !r.read_only)
            .collect()
    }

    fn desired() -> Vec<Entitlement> {
        vec![
            Entitlement::Group("s-2".into()),
            Entitlement::Group("a-1".into()),
            Entitlement::Role(RoleGrant {
                role: "user".into(),
                kind: "workspace".into(),
                id: ARI.into(),
            }),
        ]
    }

    /// Ada deactivated (or not), still in synced `s-1` and admin `a-1`; `s-2` exists; she
    /// holds `atlassian/admin` directly (stale) and `held` more.
    fn script(fake: &FakeTransport, active: bool, suspended: bool, held: &str) {
        script_in(fake, "sg-1", active, suspended, held);
    }

    /// [`script`] with Ada in synced group `synced` (and `a-1`).
    fn script_in(fake: &FakeTransport, synced: &str, active: bool, suspended: bool, held: &str) {
        fake.on_get(ADA_LOOKUP, 200, &scim_ada(&[synced], active).to_string());
        let admin = json!({"data": [{"accountId": ACCOUNT, "email": "ada@example.com",
            "status": if active { "active" } else { "deactivated" },
            "membershipStatus": if suspended { "suspended" } else { "active" },
            "groups": [{"id": "ag-1", "name": "a-1"},
                       {"id": synced, "name": synced.replace("sg-", "s-")}]}],
            "links": {}});
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, &admin.to_string())),
        );
        let groups = json!({"data": [
            {"id": "ag-1", "name": "a-1", "directoryId": "admin-dir", "externalSynced": false},
            {"id": "sg-1", "name": "s-1", "directoryId": "dir-1", "externalSynced": true},
            {"id": "sg-2", "name": "s-2", "directoryId": "dir-1", "externalSynced": true}],
            "links": {}});
        fake.on(
            Method::Post,
            GROUPS_SEARCH,
            Ok(Response::json(200, &groups.to_string())),
        );
        for (id, name) in [("sg-1", "s-1"), ("sg-2", "s-2")] {
            let found = json!({"totalResults": 1, "Resources": [{"id": id, "displayName": name}]});
            fake.on_get(
                &scim::groups_by_name_without_members_url(SCIM, name),
                200,
                &found.to_string(),
            );
            fake.on(
                Method::Patch,
                &scim::group_patch_url(SCIM, id),
                Ok(Response::new(204, "")),
            );
        }
        fake.on_get(
            &scim::groups_by_name_without_members_url(SCIM, "a-1"),
            200,
            r#"{"totalResults":0,"Resources":[]}"#,
        );
        let ws = format!(
            r#"{{"data":[{{"id":"{ARI}","attributes":{{"typeKey":"jira-software","name":"acme"}}}}],"links":{{}}}}"#
        );
        fake.on(Method::Post, WORKSPACES, Ok(Response::json(200, &ws)));
        fake.on_get(
            ASSIGNMENTS,
            200,
            &format!(
                r#"{{"data":[{{"resourceId":"{ARI}","roleAssignments":[{held}]}}],"links":{{}}}}"#
            ),
        );
        fake.on(Method::Post, ASSIGN, Ok(Response::new(204, "")));
        fake.on(Method::Post, REVOKE, Ok(Response::new(204, "")));
        fake.on(Method::Patch, USER_URL, Ok(Response::json(200, "{}")));
        fake.on_get(
            DIRS,
            200,
            r#"{"data":[{"directoryId":"dir-1"}],"links":{}}"#,
        );
        fake.on(Method::Post, RESTORE, Ok(Response::new(204, "")));
    }

    const STALE_ADMIN: &str = r#"{"role":"atlassian/admin","roleAssignmentMethods":["direct"]}"#;

    fn run(fake: &FakeTransport, dry_run: bool) -> Outcome {
        reactivate_identity(
            &with_admin(None),
            fake,
            &ada(),
            &desired(),
            ActionOptions { dry_run },
        )
        .unwrap()
    }

    fn summary(o: &Outcome) -> Vec<(ChangeKind, String, String)> {
        o.changes
            .iter()
            .map(|c| (c.kind, c.target.clone(), format!("{:?}", c.status)))
            .collect()
    }

    #[test]
    fn j1_reactivates_then_converges_memberships_and_direct_roles() {
        let fake = FakeTransport::new();
        script(&fake, false, false, STALE_ADMIN);
        let o = run(&fake, false);
        assert!(o.completed, "{o:#?}");
        let s = summary(&o);
        let kinds: Vec<ChangeKind> = s.iter().map(|c| c.0).collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::ReactivateUser,
                ChangeKind::RestoreUser,
                ChangeKind::AddMembership,
                ChangeKind::AddMembership,
                ChangeKind::RemoveMembership,
                ChangeKind::AddRole,
                ChangeKind::RemoveRole,
                ChangeKind::RestoreUser,
            ],
            "{s:#?}"
        );
        assert_eq!(s[0].2, "Applied");
        assert_eq!(s[1].2, "AlreadyDone"); // not suspended: no restore call
        assert_eq!((s[2].1.as_str(), s[2].2.as_str()), ("s-2", "Applied"));
        assert_eq!((s[3].1.as_str(), s[3].2.as_str()), ("a-1", "AlreadyDone"));
        assert_eq!((s[4].1.as_str(), s[4].2.as_str()), ("s-1", "Applied"));
        assert!(s[7].2.contains("administrator"), "{s:?}");
        let w = writes(&fake);
        let order: Vec<(Method, &str)> = w.iter().map(|r| (r.method, r.url.as_str())).collect();
        assert_eq!(order[0], (Method::Patch, USER_URL));
        assert_eq!(
            w[0].json_body()["Operations"],
            json!([{"op": "replace", "path": "active", "value": true}])
        );
        assert!(order.contains(&(Method::Post, ASSIGN)));
        assert!(order.contains(&(Method::Post, REVOKE)));
        assert!(
            !w.iter().any(|r| r.url.contains("/lifecycle/")),
            "never lifecycle enable"
        );
        assert!(!w.iter().any(|r| r.url == RESTORE));
        assert_eq!(o.user.and_then(|u| u.active), Some(true));
    }

    #[test]
    fn j1_again_is_all_already_done_without_writes() {
        let fake = FakeTransport::new();
        let held = r#"{"role":"atlassian/user","roleAssignmentMethods":["direct"]}"#;
        script_in(&fake, "sg-2", true, false, held);
        let o = run(&fake, false);
        assert!(o.completed, "{o:#?}");
        assert!(
            o.changes
                .iter()
                .all(|c| c.status == ChangeStatus::AlreadyDone),
            "{:#?}",
            summary(&o)
        );
        assert!(writes(&fake).is_empty(), "{:#?}", writes(&fake));
    }

    #[test]
    fn j2_a_suspended_account_is_restored_and_j4_the_dry_run_writes_nothing() {
        let fake = FakeTransport::new();
        script(&fake, false, true, STALE_ADMIN);
        let o = run(&fake, true);
        assert!(o.changes.iter().all(|c| matches!(
            c.status,
            ChangeStatus::Planned | ChangeStatus::AlreadyDone | ChangeStatus::Skipped(_)
        )));
        assert_eq!(o.changes[1].kind, ChangeKind::RestoreUser);
        assert_eq!(o.changes[1].status, ChangeStatus::Planned);
        assert!(writes(&fake).is_empty(), "{:#?}", writes(&fake));
        let planned = o
            .changes
            .iter()
            .filter(|c| c.status == ChangeStatus::Planned)
            .count();
        // The real run applies exactly that plan.
        let fake = FakeTransport::new();
        script(&fake, false, true, STALE_ADMIN);
        let real = run(&fake, false);
        assert!(real.completed, "{real:#?}");
        let applied = real
            .changes
            .iter()
            .filter(|c| c.status == ChangeStatus::Applied)
            .count();
        assert_eq!(planned, applied);
        assert!(
            writes(&fake)
                .iter()
                .any(|r| r.url == RESTORE && r.body.is_none())
        );
    }

    #[test]
    fn unknown_desired_groups_and_resources_fail_before_any_write() {
        let fake = FakeTransport::new();
        script(&fake, false, false, STALE_ADMIN);
        let mut d = desired();
        d.push(Entitlement::Role(RoleGrant {
            role: "user".into(),
            kind: "workspace".into(),
            id: "ari:cloud:confluence::site/nope".into(),
        }));
        let e = reactivate_identity(
            &with_admin(None),
            &fake,
            &ada(),
            &d,
            ActionOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(e, ConnectorError::NotFound(_)), "{e:?}");
        assert!(writes(&fake).is_empty());
    }
}
