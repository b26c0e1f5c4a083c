//! `deprovision-identity`: remove every group membership, then revoke every direct product
//! role, then deactivate (`active=false`).
//! The SCIM record and the Atlassian account stay, so history survives and the person can be
//! restored. Memberships go first, so a re-run after any failure still finds what is left.
//!
//! Requests, in round trips (admin configured, user named by email):
//! 1. ONE `send_all`: the SCIM look-up (its read-only `groups` attribute lists the SCIM
//!    groups) and the admin users search with `expand:["groups"]` (every group of the account).
//! 2. When the account is in groups: ONE admin groups search with their names, for each
//!    group's own `directoryId` and whether it is synced (the expanded user carries neither).
//! 3. ONE `send_all` of every removal: SCIM `PATCH /Groups/{id}` with the filtered
//!    `members[value eq "…"]` path for SCIM groups, admin `DELETE …/memberships/{accountId}`
//!    for admin-managed ones (synced groups seen by the admin API are left to SCIM).
//! 4. With the admin API: the account's role assignments (`GET …/role-assignments`, read after
//!    the removals), then ONE `send_all` of a v1 `roles/revoke` per direct role. Roles held
//!    only through a group or by inference are listed as `skipped`: what only an
//!    administrator can change.
//! 5. With `revoke_api_tokens`: the personal API tokens (see [`super::tokens`]).
//! 6. `PATCH /Users/{id}` `active=false`, only when every removal and revocation succeeded
//!    and the user is still active.
//!
//! A user named by SCIM id or external id costs one more read (the admin search needs the
//! email or account id); by account id, one more (the SCIM record after the SCIM-link
//! look-up). A SCIM-only configuration sees SCIM groups only. A dry run stops after the reads.

use crate::config::ConnectorConfig;
use crate::error::ConnectorError;
use crate::model::{
    ActionOptions, Change, ChangeKind, ChangeStatus, Config, GroupId, Outcome, ScimId, UserRef,
};
use crate::scim;
use crate::transport::{Method, Transport};

use super::common::{
    Person, Run, check_user_ref, not_found, outcome, scim_ctx, scim_write, send_batch,
};
use super::index::FoldedIndex;
use super::relationships::{
    Planned, Route, Target, apply, groups_search, into_changes, name_chunks,
};
use super::roles;

/// Removes every group membership of `user`, then deactivates the SCIM user.
pub fn deprovision_identity(
    config: &Config,
    transport: &dyn Transport,
    user: &UserRef,
    options: ActionOptions,
) -> Result<Outcome, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    let run = guard(&cfg, transport, user)?;
    let person = run.find(user, true)?;
    // No SCIM record: an account the directory does not manage, suspended instead (§7.3).
    let suspend = match (
        &person.scim_id,
        run.admin,
        &person.admin_user,
        &person.account_id,
    ) {
        (Some(_), ..) => None,
        (None, Some(a), Some(u), Some(account)) => Some((a, u.is_suspended(), account)),
        (None, None, ..) => return Err(unmanaged_needs_admin(&cfg, user)),
        (None, Some(_), ..) => return Err(not_found(&cfg, user)),
    };
    refuse_protected(&cfg, &person)?;

    let targets = memberships(&run, &person)?;
    person.check_routes(&targets, user)?;
    let mut planned: Vec<Planned<'_>> = Vec::with_capacity(targets.len());
    for t in &targets {
        planned.push(Planned {
            kind: ChangeKind::RemoveMembership,
            target: t,
            member: true,
            write: (!options.dry_run)
                .then(|| run.write(t, false, &person))
                .flatten(),
            status: ChangeStatus::Planned,
        });
    }
    // One request stays for the deactivation.
    apply(transport, &mut planned, 1);
    let mut changes: Vec<Change> = into_changes(planned);
    changes.extend(unverified(&run, &person));
    if let (Some(a), Some(account)) = (run.admin, &person.account_id) {
        changes.extend(revoke_roles(transport, a, account, options.dry_run));
        if cfg.revoke_api_tokens {
            changes.extend(super::tokens::revoke_tokens(
                transport,
                &a.api_url,
                account,
                options.dry_run,
            ));
        }
    }
    let removal_failed = changes
        .iter()
        .any(|c| matches!(c.status, ChangeStatus::Failed(_)));

    if let Some((a, suspended, account)) = suspend {
        let blocked = removal_failed.then_some("a membership removal or role revocation failed");
        changes.push(super::suspension::change(
            transport,
            a,
            account,
            true,
            suspended,
            options.dry_run,
            blocked,
        ));
        return Ok(outcome(Some(person.resolved()), changes));
    }
    let Some(scim_id) = person.scim_id.clone() else {
        return Err(not_found(&cfg, user));
    };
    let active = person.scim.as_ref().and_then(|u| u.active) != Some(false);
    let status = if !active {
        ChangeStatus::AlreadyDone
    } else if removal_failed {
        ChangeStatus::Failed(ConnectorError::Other(
            "not attempted: a membership removal or role revocation failed; run deprovision \
             again to finish"
                .into(),
        ))
    } else if options.dry_run {
        ChangeStatus::Planned
    } else {
        let url = scim::user_url(&cfg.scim.url, &scim_id);
        let answer = transport.send(scim_write(Method::Patch, url, scim::active_body(false)));
        settle(&scim_ctx(&scim_id), answer, false)
    };
    changes.push(Change {
        kind: ChangeKind::DeactivateUser,
        target: scim_id.into_string(),
        before: Some(if active { "active" } else { "inactive" }.into()),
        after: Some("inactive; SCIM record and account kept".into()),
        status,
    });
    let mut user = person.resolved();
    user.active = user.active.map(|a| a && !done(&changes));
    Ok(outcome(Some(user), changes))
}

/// Revokes every direct product role of `account` (read after the memberships went, so roles
/// that came with them are gone); a role held only through a group the connector could not
/// leave, or by inference, is `skipped`, naming who can change it. A failed read is one
/// failed change, so the deactivation waits for the next run.
fn revoke_roles(
    transport: &dyn Transport,
    a: &crate::config::AdminConfig,
    account: &crate::model::AccountId,
    dry_run: bool,
) -> Vec<Change> {
    let current = match roles::read(transport, a, account, false) {
        Ok(c) => c,
        Err(e) => {
            return vec![Change {
                kind: ChangeKind::RemoveRole,
                target: format!("every direct role of account `{account}`"),
                before: None,
                after: Some("not held directly".into()),
                status: ChangeStatus::Failed(e),
            }];
        }
    };
    let mut planned = roles::revoke_all(a, account, &current, dry_run);
    roles::apply(transport, a, account, &mut planned);
    let mut changes = Vec::with_capacity(planned.len());
    for p in planned {
        changes.push(p.into_change());
    }
    changes
}

/// `not-found` for a user without a SCIM record under a SCIM-only configuration: such an
/// account can only be suspended, which needs the admin API.
fn unmanaged_needs_admin(cfg: &ConnectorConfig, user: &UserRef) -> ConnectorError {
    let ConnectorError::NotFound(m) = not_found(cfg, user) else {
        return not_found(cfg, user);
    };
    ConnectorError::NotFound(format!(
        "{m}; an account without a SCIM record (external, unmanaged or in another directory) \
         can only be suspended through the admin API: configure admin_api_key and \
         scim_organization_id"
    ))
}

/// A `skipped` change when the SCIM server keeps no `groups` attribute on the user and no
/// admin API can list the memberships instead: "no memberships remain" would be a guess.
pub(super) fn unverified(run: &Run<'_>, person: &Person) -> Option<Change> {
    let u = person.scim.as_ref().filter(|u| !u.groups_listed)?;
    if run.admin.is_some() && person.admin_user.is_some() {
        return None;
    }
    Some(Change {
        kind: ChangeKind::RemoveMembership,
        target: format!(
            "every group membership of SCIM user `{}`",
            u.id.as_deref().unwrap_or_default()
        ),
        before: None,
        after: None,
        status: ChangeStatus::Skipped(
            "the memberships could not be verified: the SCIM server lists no `groups` on the \
             user; check the groups in the identity provider, or configure admin_api_key so \
             the admin API can list them"
                .into(),
        ),
    })
}

/// True when the last change (the deactivation) holds.
fn done(changes: &[Change]) -> bool {
    changes
        .last()
        .is_some_and(|c| matches!(c.status, ChangeStatus::Applied | ChangeStatus::AlreadyDone))
}

/// Checks shared by deprovision and delete, before any request: the reference, the
/// protected list when the reference itself is an email or account id, and the admin key a
/// lookup by account id needs.
pub(super) fn guard<'a>(
    cfg: &'a ConnectorConfig,
    transport: &'a dyn Transport,
    user: &UserRef,
) -> Result<Run<'a>, ConnectorError> {
    check_user_ref(user)?;
    let named = match user {
        UserRef::Email(_) | UserRef::AccountId(_) => Some(user.value()),
        _ => None,
    };
    cfg.refuse_protected(&[named])?;
    if matches!(user, UserRef::AccountId(_)) {
        cfg.require_admin()?;
    }
    Ok(Run {
        cfg,
        admin: cfg.admin.as_ref(),
        transport,
    })
}

/// `policy-denied` when the resolved person's email or account id is protected.
pub(super) fn refuse_protected(cfg: &ConnectorConfig, p: &Person) -> Result<(), ConnectorError> {
    cfg.refuse_protected(&[p.email.as_deref(), p.account_id.as_deref()])
}

/// What a single write's answer means; with `gone_ok`, a 404 is `already-done`.
pub(super) fn settle(
    ctx: &crate::upstream::Context<'_>,
    answer: Result<crate::transport::Response, crate::transport::HttpError>,
    gone_ok: bool,
) -> ChangeStatus {
    match crate::upstream::check(ctx, answer) {
        Ok(_) => ChangeStatus::Applied,
        Err(ConnectorError::NotFound(_)) if gone_ok => ChangeStatus::AlreadyDone,
        Err(e) => ChangeStatus::Failed(e),
    }
}

/// Every current membership: SCIM groups from the SCIM user's `groups`, admin-managed
/// groups from the expanded admin user, routed with their own directory (one groups search).
pub(super) fn memberships(run: &Run<'_>, person: &Person) -> Result<Vec<Target>, ConnectorError> {
    let mut targets: Vec<Target> = Vec::new();
    let scim_groups = person.scim.as_ref().map_or(&[][..], |u| &u.groups[..]);
    for g in scim_groups {
        let Some(id) = g.value.clone().filter(|v| !v.is_empty()) else {
            continue;
        };
        targets.push(Target {
            display: g.display.clone().unwrap_or_else(|| id.clone()),
            route: Route::Scim {
                group: scim::Group {
                    id: Some(id.clone()),
                    ..scim::Group::default()
                },
                group_id: ScimId::from(id),
            },
        });
    }
    let held = person
        .admin_user
        .as_ref()
        .map_or(&[][..], |u| &u.groups[..]);
    let mut names: Vec<&str> = Vec::new();
    for g in held {
        if let (Some(id), Some(name)) = (&g.id, &g.name)
            && !id.is_empty()
        {
            names.push(name);
        }
    }
    let Some(a) = run.admin.filter(|_| !names.is_empty()) else {
        return Ok(targets);
    };
    // Every search at once, each of at most one page of names.
    let chunks: Vec<&[&str]> = name_chunks(&names).collect();
    let searches = chunks.iter().map(|c| groups_search(a, c, None)).collect();
    let mut found = Vec::new();
    for (chunk, first) in chunks.iter().zip(send_batch(run.transport, searches)) {
        found.extend(run.admin_groups(a, chunk, first)?);
    }
    // Indexed once: a user in 1,000 groups is 1,000 found groups, each checked against
    // the held ones and the ones already targeted.
    let held_ids = FoldedIndex::exact(held.iter().filter_map(|h| h.id.as_deref()));
    let found_ids = FoldedIndex::exact(found.iter().map(|g| g.id.as_deref().unwrap_or_default()));
    let removable: Vec<bool> = found
        .iter()
        .map(|g| {
            let id = g.id.as_deref().filter(|id| !id.is_empty());
            let dir = g.directory_id.as_deref().filter(|d| !d.is_empty());
            id.is_some_and(|id| held_ids.first(id).is_some()) && dir.is_some() && !g.is_synced()
        })
        .collect();
    for (i, g) in found.iter().enumerate() {
        let (Some(id), Some(dir)) = (GroupId::from_wire(g.id.as_deref()), &g.directory_id) else {
            continue;
        };
        // A group two searches both found is targeted once, at its first removable sighting.
        let first = found_ids
            .all(&id)
            .find(|j| removable.get(*j) == Some(&true));
        if removable.get(i) != Some(&true) || first != Some(i) {
            continue;
        }
        targets.push(Target {
            display: g.name.clone().unwrap_or_else(|| id.to_string()),
            route: Route::Admin {
                group_id: id,
                directory_id: dir.clone(),
            },
        });
    }
    Ok(targets)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::admin;
    use crate::transport::{Call, FakeTransport, Request, Response};
    use serde_json::{Value, json};

    pub const SCIM: &str = "https://api.atlassian.com/scim/directory/dir-1";
    pub const ADA_LOOKUP: &str = "https://api.atlassian.com/scim/directory/dir-1/Users?filter=userName%20eq%20%22ada%40example.com%22&startIndex=1&count=10";
    pub const USERS_SEARCH: &str =
        "https://api.atlassian.com/admin/v2/orgs/org-1/directories/-/users/search";
    pub const GROUPS_SEARCH: &str =
        "https://api.atlassian.com/admin/v2/orgs/org-1/directories/-/groups/search";
    pub const USER_URL: &str = "https://api.atlassian.com/scim/directory/dir-1/Users/u-1";
    pub const ACCOUNT: &str = "712020:abc";
    pub const ASSIGNMENTS: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/directories/-/users/712020%3Aabc/role-assignments?limit=100";

    pub fn with_admin(protected: Option<&str>) -> Config {
        let mut c = Config::new(
            &[("scim_url", SCIM), ("scim_organization_id", "org-1")],
            &["scim_token", "admin_api_key"],
        );
        if let Some(p) = protected {
            c.settings.push(("protected_users".into(), p.into()));
        }
        c
    }

    pub fn scim_only() -> Config {
        Config::new(&[("scim_url", SCIM)], &["scim_token"])
    }

    pub fn ada() -> UserRef {
        UserRef::Email("ada@example.com".into())
    }

    /// Ada in SCIM groups `sg-*` (names `s-*`), active or not.
    pub fn scim_ada(groups: &[&str], active: bool) -> Value {
        let g: Vec<Value> = groups
            .iter()
            .map(|id| json!({"value": id, "display": id.replace("sg-", "s-")}))
            .collect();
        json!({"totalResults": 1, "Resources": [{"id": "u-1", "userName": "ada@example.com",
            "active": active, "groups": g,
            scim::ATLASSIAN_EXTENSION: {"atlassianAccountId": ACCOUNT}}]})
    }

    /// The admin view of Ada: admin groups `ag-*` (names `a-*`) plus synced `sg-*`.
    pub fn admin_ada(groups: &[&str], status: &str) -> String {
        let g: Vec<Value> = groups
            .iter()
            .map(|id| json!({"id": id, "name": id.replace("ag-", "a-").replace("sg-", "s-")}))
            .collect();
        json!({"data": [{"accountId": ACCOUNT, "email": "ada@example.com", "status": status,
            "groups": g}], "links": {}})
        .to_string()
    }

    fn group_search(groups: &[&str]) -> String {
        let data: Vec<Value> = groups
            .iter()
            .map(|id| {
                let synced = id.starts_with("sg-");
                json!({"id": id, "name": id.replace("ag-", "a-").replace("sg-", "s-"),
                       "directoryId": if synced { "dir-1" } else { "admin-dir" },
                       "externalSynced": synced})
            })
            .collect();
        json!({"data": data, "links": {}}).to_string()
    }

    fn script(fake: &FakeTransport, scim: &[&str], admin: &[&str], active: bool) {
        let all: Vec<&str> = admin.iter().chain(scim).copied().collect();
        script_found(fake, scim, admin, active, &all);
    }

    /// [`script`] with the admin groups search answering `found` (the groups Ada holds, or
    /// others).
    fn script_found(
        fake: &FakeTransport,
        scim: &[&str],
        admin: &[&str],
        active: bool,
        found: &[&str],
    ) {
        fake.on_get(ADA_LOOKUP, 200, &scim_ada(scim, active).to_string());
        let all: Vec<&str> = admin.iter().chain(scim).copied().collect();
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, &admin_ada(&all, "active"))),
        );
        fake.on(
            Method::Post,
            GROUPS_SEARCH,
            Ok(Response::json(200, &group_search(found))),
        );
        for g in scim {
            fake.on(
                Method::Patch,
                &scim::group_patch_url(SCIM, g),
                Ok(Response::new(204, "")),
            );
        }
        for g in admin {
            fake.on(Method::Delete, &membership(g), Ok(Response::new(204, "")));
        }
        fake.on(Method::Patch, USER_URL, Ok(Response::json(200, "{}")));
        fake.on_get(ASSIGNMENTS, 200, r#"{"data":[],"links":{}}"#);
    }

    fn membership(gid: &str) -> String {
        admin::membership_url(
            "https://api.atlassian.com",
            "org-1",
            "admin-dir",
            gid,
            ACCOUNT,
        )
    }

    pub fn batches(fake: &FakeTransport) -> Vec<Vec<Request>> {
        fake.calls()
            .into_iter()
            .map(|c| match c {
                Call::SendAll(b) => b,
                Call::Send(r) => vec![r],
            })
            .collect()
    }

    pub fn writes(fake: &FakeTransport) -> Vec<Request> {
        fake.requests()
            .into_iter()
            .filter(|r| r.method != Method::Get && !r.url.ends_with("/search"))
            .collect()
    }

    fn run(fake: &FakeTransport, config: &Config, dry_run: bool) -> Outcome {
        deprovision_identity(config, fake, &ada(), ActionOptions { dry_run }).unwrap()
    }

    fn statuses(o: &Outcome) -> Vec<(ChangeKind, String, ChangeStatus)> {
        o.changes
            .iter()
            .map(|c| (c.kind, c.target.clone(), c.status.clone()))
            .collect()
    }

    #[test]
    fn d1_one_read_batch_one_group_search_one_removal_batch_then_deactivation() {
        let fake = FakeTransport::new();
        script(&fake, &["sg-1", "sg-2"], &["ag-1", "ag-2"], true);
        let o = run(&fake, &with_admin(None), false);
        assert!(o.completed, "{o:?}");
        let b = batches(&fake);
        assert_eq!(b.len(), 5, "{b:#?}");
        assert_eq!(b[0].len(), 2); // SCIM look-up + admin users search
        assert_eq!(b[0][1].json_body()["expand"], json!(["groups"]));
        assert_eq!(b[1][0].url, GROUPS_SEARCH);
        assert_eq!(b[2].len(), 4); // every removal in one send_all
        for r in &b[2][..2] {
            assert_eq!(r.method, Method::Patch);
            assert_eq!(
                r.json_body()["Operations"][0],
                json!({"op": "remove", "path": "members[value eq \"u-1\"]"})
            );
        }
        assert_eq!(b[2][2].method, Method::Delete);
        assert_eq!(b[2][2].url, membership("ag-1"));
        assert_eq!(b[3][0].url, ASSIGNMENTS); // the roles, after the memberships
        assert_eq!(b[4][0].url, USER_URL);
        assert_eq!(
            b[4][0].json_body()["Operations"],
            json!([{"op": "replace", "path": "active", "value": false}])
        );
        let s = statuses(&o);
        assert_eq!(s.len(), 5);
        assert_eq!(
            s[0],
            (
                ChangeKind::RemoveMembership,
                "s-1".into(),
                ChangeStatus::Applied
            )
        );
        assert_eq!(
            s[3],
            (
                ChangeKind::RemoveMembership,
                "a-2".into(),
                ChangeStatus::Applied
            )
        );
        assert_eq!(
            s[4],
            (
                ChangeKind::DeactivateUser,
                "u-1".into(),
                ChangeStatus::Applied
            )
        );
        assert_eq!(
            o.changes[3].after.as_deref(),
            Some("not a member via admin API")
        );
        assert_eq!(o.user.as_ref().and_then(|u| u.active), Some(false));
    }

    #[test]
    fn d1_a_group_found_twice_is_removed_once_and_a_group_not_held_is_left() {
        let fake = FakeTransport::new();
        let found = ["ag-2", "ag-9", "sg-1", "ag-2", "ag-1", "ag-9"];
        script_found(&fake, &["sg-1"], &["ag-1", "ag-2"], true, &found);
        let o = run(&fake, &with_admin(None), false);
        assert!(o.completed, "{o:?}");
        let removals: Vec<String> = batches(&fake)[2].iter().map(|r| r.url.clone()).collect();
        assert_eq!(
            removals,
            [
                scim::group_patch_url(SCIM, "sg-1"),
                membership("ag-2"),
                membership("ag-1"),
            ],
            "the SCIM group, then each held admin group once, in the search's order"
        );
    }

    #[test]
    fn i5_direct_roles_are_revoked_after_the_memberships_and_before_deactivation() {
        const REVOKE: &str =
            "https://api.atlassian.com/admin/v1/orgs/org-1/users/712020%3Aabc/roles/revoke";
        let fake = FakeTransport::new();
        fake.on_get(
            ASSIGNMENTS,
            200,
            r#"{"data":[{"resourceId":"ari:j","roleAssignments":[
                {"role":"atlassian/admin","roleAssignmentMethods":["direct","group_direct"]},
                {"role":"atlassian/user","roleAssignmentMethods":["group_direct"]}]}],"links":{}}"#,
        );
        script(&fake, &["sg-1"], &[], true);
        fake.on(Method::Post, REVOKE, Ok(Response::new(204, "")));
        let o = run(&fake, &with_admin(None), false);
        assert!(o.completed, "{o:?}");
        let kinds: Vec<ChangeKind> = o.changes.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::RemoveMembership,
                ChangeKind::RemoveRole,
                ChangeKind::RemoveRole,
                ChangeKind::DeactivateUser
            ]
        );
        assert_eq!(o.changes[1].status, ChangeStatus::Applied);
        assert!(
            matches!(&o.changes[2].status, ChangeStatus::Skipped(w) if w.contains("group_direct") && w.contains("administrator")),
            "{:?}",
            o.changes[2]
        );
        let b = batches(&fake);
        let order: Vec<&str> = b.iter().skip(2).map(|x| x[0].url.as_str()).collect();
        assert_eq!(
            order,
            [
                &scim::group_patch_url(SCIM, "sg-1"),
                ASSIGNMENTS,
                REVOKE,
                USER_URL
            ]
        );
        assert_eq!(
            b[4][0].json_body(),
            json!({"role": "atlassian/admin", "resource": "ari:j"})
        );
        // A failed revocation keeps the user active for the next run.
        let fake = FakeTransport::new();
        fake.on_get(
            ASSIGNMENTS,
            200,
            r#"{"data":[{"resourceId":"ari:j","roleAssignments":[{"role":"atlassian/admin","roleAssignmentMethods":["direct"]}]}],"links":{}}"#,
        );
        script(&fake, &[], &[], true);
        fake.on(Method::Post, REVOKE, Ok(Response::json(500, "{}")));
        let o = run(&fake, &with_admin(None), false);
        assert!(!o.completed);
        assert!(matches!(
            o.changes.last().map(|c| &c.status),
            Some(ChangeStatus::Failed(ConnectorError::Other(m))) if m.contains("not attempted")
        ));
    }

    #[test]
    fn i6_api_tokens_are_deleted_one_change_each_after_the_preflight() {
        const PREFLIGHT: &str = "https://api.atlassian.com/users/712020%3Aabc/manage?privileges=lifecycle.enablement&privileges=lifecycle.delete&privileges=apiToken.read&privileges=apiToken.delete";
        const TOKENS: &str = "https://api.atlassian.com/users/712020%3Aabc/manage/api-tokens";
        let mut cfg = with_admin(None);
        cfg.settings
            .push(("revoke_api_tokens".into(), "true".into()));
        let fake = FakeTransport::new();
        script(&fake, &[], &[], true);
        fake.on_get(
            PREFLIGHT,
            200,
            r#"{"apiToken.read":{"allowed":true},"apiToken.delete":{"allowed":"true"}}"#,
        );
        fake.on_get(
            TOKENS,
            200,
            r#"[{"id":"t1","label":"CI","createdAt":"2025-01-01T00:00:00Z"},{"id":"t2","label":"laptop","createdAt":"2025-02-01T00:00:00Z","lastAccess":"2025-03-01T00:00:00Z"}]"#,
        );
        fake.on(
            Method::Delete,
            &format!("{TOKENS}/t1"),
            Ok(Response::new(204, "")),
        );
        fake.on(
            Method::Delete,
            &format!("{TOKENS}/t2"),
            Ok(Response::json(404, r#"{"key":"notFound"}"#)),
        );
        let o = run(&fake, &cfg, false);
        assert!(o.completed, "{o:?}");
        let s = statuses(&o);
        assert_eq!(
            s[..2],
            [
                (
                    ChangeKind::RevokeCredential,
                    "API token `CI` (t1)".into(),
                    ChangeStatus::Applied
                ),
                (
                    ChangeKind::RevokeCredential,
                    "API token `laptop` (t2)".into(),
                    ChangeStatus::AlreadyDone
                ),
            ]
        );
        assert_eq!(s[2].0, ChangeKind::DeactivateUser);
        let b = batches(&fake);
        assert_eq!(b[b.len() - 2].len(), 2, "both deletes in one send_all");
        // A preflight that refuses: one skipped change with the reason, no listing.
        let fake = FakeTransport::new();
        script(&fake, &[], &[], true);
        fake.on_get(
            PREFLIGHT,
            200,
            r#"{"apiToken.read":{"allowed":false,"reason":{"key":"externalDirectory.scim"}}}"#,
        );
        let o = run(&fake, &cfg, false);
        assert!(o.completed);
        assert!(
            matches!(&o.changes[0].status, ChangeStatus::Skipped(w) if w.contains("externalDirectory.scim")),
            "{o:?}"
        );
        assert!(!fake.requests().iter().any(|r| r.url == TOKENS));
    }

    #[test]
    fn d2_no_memberships_and_inactive_is_all_already_done_without_writes() {
        let fake = FakeTransport::new();
        script(&fake, &[], &[], false);
        let o = run(&fake, &with_admin(None), false);
        assert!(o.completed);
        assert_eq!(
            statuses(&o),
            [(
                ChangeKind::DeactivateUser,
                "u-1".into(),
                ChangeStatus::AlreadyDone
            )]
        );
        assert!(writes(&fake).is_empty());
        // The user reads, then the role assignments.
        assert_eq!(batches(&fake).len(), 2);
    }

    #[test]
    fn d3_a_failed_removal_leaves_the_user_active_and_the_rerun_finishes() {
        // The second admin removal answers 500 (a non-retried failure), then 204.
        let url = membership("ag-2");
        let fake2 = FakeTransport::new();
        fake2.on(Method::Delete, &url, Ok(Response::json(500, "{}")));
        script(&fake2, &["sg-1"], &["ag-1", "ag-2"], true);
        let o = run(&fake2, &with_admin(None), false);
        assert!(!o.completed);
        let s = statuses(&o);
        assert!(matches!(s[2].2, ChangeStatus::Failed(_)), "{s:?}");
        assert_eq!(s[3].0, ChangeKind::DeactivateUser);
        assert!(
            matches!(&s[3].2, ChangeStatus::Failed(ConnectorError::Other(m)) if m.contains("not attempted"))
        );
        assert!(writes(&fake2).iter().all(|r| r.url != USER_URL));
        assert_eq!(o.user.as_ref().and_then(|u| u.active), Some(true));

        // The re-run: only ag-2 is left.
        let rerun = FakeTransport::new();
        script(&rerun, &[], &["ag-2"], true);
        let o = run(&rerun, &with_admin(None), false);
        assert!(o.completed);
        let w = writes(&rerun);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].url, url);
        assert_eq!(w[1].url, USER_URL);
    }

    #[test]
    fn protected_users_are_refused_with_zero_writes() {
        // By the reference itself: no request at all, any case.
        let fake = FakeTransport::new();
        let cfg = with_admin(Some("bob@x.com, ADA@Example.com"));
        let e = deprovision_identity(&cfg, &fake, &ada(), ActionOptions::default()).unwrap_err();
        assert!(
            matches!(&e, ConnectorError::PolicyDenied(m) if m.contains("ada@example.com") && !m.contains("bob"))
        );
        assert!(fake.calls().is_empty());
        // By account id, found through the reads: no write.
        let fake = FakeTransport::new();
        script(&fake, &["sg-1"], &["ag-1"], true);
        let record = scim_ada(&["sg-1"], true)["Resources"][0].to_string();
        fake.on_get(USER_URL, 200, &record);
        let cfg = with_admin(Some(ACCOUNT));
        let e = deprovision_identity(
            &cfg,
            &fake,
            &UserRef::ScimId("u-1".into()),
            ActionOptions::default(),
        );
        assert!(matches!(e, Err(ConnectorError::PolicyDenied(_))), "{e:?}");
        assert!(writes(&fake).is_empty());
        // A blank entry is invalid-config.
        let e = deprovision_identity(
            &with_admin(Some("a@x.com,,")),
            &fake,
            &ada(),
            ActionOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.config_key(), Some("protected_users"));
    }

    #[test]
    fn dry_run_plans_the_same_list_with_reads_only() {
        let fake = FakeTransport::new();
        script(&fake, &["sg-1"], &["ag-1"], true);
        let o = run(&fake, &with_admin(None), true);
        assert!(o.completed);
        assert!(writes(&fake).is_empty());
        assert_eq!(o.changes.len(), 3);
        assert!(o.changes.iter().all(|c| c.status == ChangeStatus::Planned));
    }

    #[test]
    fn scim_only_config_removes_scim_groups_only() {
        let fake = FakeTransport::new();
        script(&fake, &["sg-1"], &[], true);
        let o = run(&fake, &scim_only(), false);
        assert!(o.completed);
        assert!(fake.requests().iter().all(|r| !r.url.contains("/admin/")));
        assert_eq!(writes(&fake).len(), 2);
    }

    #[test]
    fn d5_unknown_user_is_not_found() {
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, r#"{"totalResults":0,"Resources":[]}"#);
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, r#"{"data":[],"links":{}}"#)),
        );
        let e = run_err(&fake);
        assert!(matches!(&e, ConnectorError::NotFound(m) if m.contains("ada@example.com")));
        assert!(writes(&fake).is_empty());
    }

    #[test]
    fn d8_scim_only_without_a_groups_attribute_says_memberships_could_not_be_verified() {
        let fake = FakeTransport::new();
        let mut found = scim_ada(&[], true);
        if let Some(u) = found["Resources"][0].as_object_mut() {
            u.remove("groups");
        }
        fake.on_get(ADA_LOOKUP, 200, &found.to_string());
        fake.on(Method::Patch, USER_URL, Ok(Response::json(200, "{}")));
        let o = run(&fake, &scim_only(), false);
        assert!(o.completed, "{o:?}");
        let s = statuses(&o);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(
            matches!(&s[0].2, ChangeStatus::Skipped(w) if w.contains("could not be verified")),
            "{s:?}"
        );
        assert_eq!(s[1].0, ChangeKind::DeactivateUser);
        // An empty list is a verified "no memberships".
        let fake = FakeTransport::new();
        script(&fake, &[], &[], true);
        let o = run(&fake, &scim_only(), false);
        assert_eq!(o.changes.len(), 1);
    }

    const DIRS: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/directories";
    const SUSPEND: &str = "https://api.atlassian.com/admin/v2/orgs/org-1/directories/admin-dir/users/712020%3Aabc/suspend";
    const ADMIN_USER: &str =
        "https://api.atlassian.com/admin/v2/orgs/org-1/directories/-/users/712020%3Aabc";

    /// Ada without a SCIM record, in admin group `ag-1`, with a direct role.
    fn unmanaged(fake: &FakeTransport, status: &str, suspend: Response) {
        fake.on_get(ADA_LOOKUP, 200, r#"{"totalResults":0,"Resources":[]}"#);
        fake.on(
            Method::Post,
            USERS_SEARCH,
            Ok(Response::json(200, &admin_ada(&["ag-1"], status))),
        );
        fake.on(
            Method::Post,
            GROUPS_SEARCH,
            Ok(Response::json(200, &group_search(&["ag-1"]))),
        );
        fake.on(
            Method::Delete,
            &membership("ag-1"),
            Ok(Response::new(204, "")),
        );
        fake.on_get(
            ASSIGNMENTS,
            200,
            r#"{"data":[{"resourceId":"ari:j","roleAssignments":[{"role":"atlassian/user","roleAssignmentMethods":["direct"]}]}],"links":{}}"#,
        );
        fake.on(
            Method::Post,
            "https://api.atlassian.com/admin/v1/orgs/org-1/users/712020%3Aabc/roles/revoke",
            Ok(Response::new(204, "")),
        );
        fake.on_get(
            DIRS,
            200,
            r#"{"data":[{"directoryId":"admin-dir","name":"Main"}],"links":{}}"#,
        );
        fake.on(Method::Post, SUSPEND, Ok(suspend));
    }

    #[test]
    fn j2_an_account_without_a_scim_record_is_suspended_after_memberships_and_roles() {
        for answer in [
            Response::new(204, ""),
            Response::json(200, r#"{"message":"Access was suspended"}"#),
            Response::new(200, ""),
        ] {
            let fake = FakeTransport::new();
            unmanaged(&fake, "active", answer);
            let o = run(&fake, &with_admin(None), false);
            assert!(o.completed, "{o:?}");
            let s = statuses(&o);
            let kinds: Vec<ChangeKind> = s.iter().map(|c| c.0).collect();
            assert_eq!(
                kinds,
                [
                    ChangeKind::RemoveMembership,
                    ChangeKind::RemoveRole,
                    ChangeKind::SuspendUser
                ]
            );
            assert_eq!(
                s[2],
                (
                    ChangeKind::SuspendUser,
                    ACCOUNT.into(),
                    ChangeStatus::Applied
                )
            );
            let w = writes(&fake);
            let last = w
                .last()
                .map(|r| (r.method, r.url.clone(), r.body.is_none()));
            assert_eq!(last, Some((Method::Post, SUSPEND.into(), true)));
            assert!(!w.iter().any(|r| r.url.contains("/scim/")));
        }
        // Already suspended: already-done, no suspend call.
        let fake = FakeTransport::new();
        unmanaged(&fake, "suspended", Response::new(204, ""));
        let o = run(&fake, &with_admin(None), false);
        assert_eq!(
            o.changes.last().map(|c| &c.status),
            Some(&ChangeStatus::AlreadyDone)
        );
        assert!(writes(&fake).iter().all(|r| r.url != SUSPEND));
        // A 409 repeat is verified with a re-read.
        let fake = FakeTransport::new();
        unmanaged(
            &fake,
            "active",
            Response::json(409, r#"{"errors":[{"code":"ADMIN-UAM-409"}]}"#),
        );
        fake.on_get(
            ADMIN_USER,
            200,
            r#"{"data":{"accountId":"712020:abc","membershipStatus":"suspended"}}"#,
        );
        let o = run(&fake, &with_admin(None), false);
        assert_eq!(
            o.changes.last().map(|c| &c.status),
            Some(&ChangeStatus::AlreadyDone),
            "{o:?}"
        );
        // An org admin: 400, a failed change.
        let fake = FakeTransport::new();
        unmanaged(
            &fake,
            "active",
            Response::json(
                400,
                r#"{"errors":[{"code":"ADMIN-UAM-400","title":"Cannot suspend an org admin"}]}"#,
            ),
        );
        let o = run(&fake, &with_admin(None), false);
        assert!(!o.completed);
        assert!(matches!(
            o.changes.last().map(|c| &c.status),
            Some(ChangeStatus::Failed(_))
        ));
        // Dry run: the plan, zero writes.
        let fake = FakeTransport::new();
        unmanaged(&fake, "active", Response::new(204, ""));
        let o = run(&fake, &with_admin(None), true);
        assert!(o.changes.iter().all(|c| c.status == ChangeStatus::Planned));
        assert_eq!(o.changes.len(), 3);
        assert!(writes(&fake).is_empty());
        // SCIM-only: not-found, saying why.
        let fake = FakeTransport::new();
        fake.on_get(ADA_LOOKUP, 200, r#"{"totalResults":0,"Resources":[]}"#);
        let e = deprovision_identity(&scim_only(), &fake, &ada(), ActionOptions::default())
            .unwrap_err();
        assert!(
            matches!(&e, ConnectorError::NotFound(m) if m.contains("suspended") && m.contains("admin_api_key")),
            "{e:?}"
        );
    }

    fn run_err(fake: &FakeTransport) -> ConnectorError {
        deprovision_identity(&with_admin(None), fake, &ada(), ActionOptions::default()).unwrap_err()
    }
}
