//! `deprovision-identity`: remove every group membership, then deactivate (`active=false`).
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
//! 4. `PATCH /Users/{id}` `active=false`, only when every removal succeeded and the user is
//!    still active.
//!
//! A user named by SCIM id or external id costs one more read (the admin search needs the
//! email or account id); by account id, one more (the SCIM record after the SCIM-link
//! look-up). A SCIM-only configuration sees SCIM groups only. A dry run stops after the reads.

use crate::config::ConnectorConfig;
use crate::error::ConnectorError;
use crate::model::{ActionOptions, Change, ChangeKind, ChangeStatus, Config, Outcome, UserRef};
use crate::transport::{Method, Transport};
use crate::{admin, scim};

use super::common::{scim_ctx, scim_write};
use super::relationships::{
    Person, Planned, Route, Run, Target, apply, check_user_ref, groups_search, not_found, outcome,
};

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
    let Some(scim_id) = person.scim_id.clone() else {
        return Err(not_found(&cfg, user));
    };
    refuse_protected(&cfg, &person)?;

    let targets = memberships(&run, &person)?;
    person.check_routes(&targets, user)?;
    let mut planned: Vec<Planned<'_>> = targets
        .iter()
        .map(|t| Planned {
            kind: ChangeKind::RemoveMembership,
            target: t,
            member: true,
            write: (!options.dry_run).then(|| run.write(t, false, &person)),
            status: ChangeStatus::Planned,
        })
        .collect();
    apply(transport, &mut planned);
    let removal_failed = planned
        .iter()
        .any(|p| matches!(p.status, ChangeStatus::Failed(_)));
    let mut changes: Vec<Change> = planned.into_iter().map(Planned::into_change).collect();

    let active = person.scim.as_ref().and_then(|u| u.active) != Some(false);
    let status = if !active {
        ChangeStatus::AlreadyDone
    } else if removal_failed {
        ChangeStatus::Failed(ConnectorError::Other(
            "not attempted: a membership removal failed; run deprovision again to finish".into(),
        ))
    } else if options.dry_run {
        ChangeStatus::Planned
    } else {
        let url = scim::user_url(&cfg.scim.url, &scim_id);
        let answer = transport.send(scim_write(Method::Patch, url, scim::deactivate_body()));
        settle(&scim_ctx(&scim_id), answer, false)
    };
    changes.push(Change {
        kind: ChangeKind::DeactivateUser,
        target: scim_id,
        before: Some(if active { "active" } else { "inactive" }.into()),
        after: Some("inactive; SCIM record and account kept".into()),
        status,
    });
    let mut user = person.resolved();
    user.active = user.active.map(|a| a && !done(&changes));
    Ok(outcome(Some(user), changes))
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
        UserRef::Email(v) | UserRef::AccountId(v) => Some(v.as_str()),
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
    cfg.refuse_protected(&[
        p.email.as_deref(),
        p.account_id.as_deref(),
        p.scim.as_ref().and_then(scim::User::primary_email),
    ])
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
fn memberships(run: &Run<'_>, person: &Person) -> Result<Vec<Target>, ConnectorError> {
    let mut targets: Vec<Target> = person
        .scim
        .iter()
        .flat_map(|u| &u.groups)
        .filter_map(|g| {
            let id = g.value.clone().filter(|v| !v.is_empty())?;
            Some(Target {
                display: g.display.clone().unwrap_or_else(|| id.clone()),
                route: Route::Scim {
                    group: scim::Group {
                        id: Some(id.clone()),
                        ..scim::Group::default()
                    },
                    group_id: id,
                },
            })
        })
        .collect();
    let held: Vec<&admin::Group> = person
        .admin_user
        .iter()
        .flat_map(|u| &u.groups)
        .filter(|g| g.id.as_deref().is_some_and(|s| !s.is_empty()))
        .collect();
    if let Some(a) = run.admin.filter(|_| !held.is_empty()) {
        let names: Vec<&str> = held.iter().filter_map(|g| g.name.as_deref()).collect();
        let first = run.transport.send(groups_search(a, &names, None));
        for g in run.admin_groups(a, &names, first)? {
            let (Some(id), Some(dir)) = (g.id.clone(), g.directory_id.clone()) else {
                continue;
            };
            if g.is_synced() || dir.is_empty() || !held.iter().any(|h| h.id == g.id) {
                continue;
            }
            let seen =
                |t: &Target| matches!(&t.route, Route::Admin { group_id, .. } if *group_id == id);
            if !targets.iter().any(seen) {
                targets.push(Target {
                    display: g.name.clone().unwrap_or_else(|| id.clone()),
                    route: Route::Admin {
                        group_id: id,
                        directory_id: dir,
                    },
                });
            }
        }
    }
    Ok(targets)
}
