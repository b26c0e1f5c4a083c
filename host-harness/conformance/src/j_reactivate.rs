//! J. Reactivation and suspension (J1, J2, J4), and D8: a SCIM server that keeps no `groups`
//! on users. Each case ends with a fresh read of the simulator's accounts, memberships and
//! role assignments.

use crate::Subject;
use crate::check::{Check, Difference, Step, ok, start};
use crate::d_deprovision::{ADA, ada};
use crate::i_roles::{on, role, roles_of};
use crate::support::{changes, sim_scim_only, sim_tenant};
use atlassian_simulator::{LifecycleReply, SeedUser, Simulator, SimulatorBuilder};
use lifecycle_host::bindings::types::{
    ActionOptions, ChangeKind, ChangeStatus, Entitlement, Outcome, UserRef,
};

const APPLY: ActionOptions = ActionOptions { dry_run: false };
const PLAN: ActionOptions = ActionOptions { dry_run: true };
const EXT: &str = "ext@partner.example";

/// Ada deactivated by the identity provider, her memberships kept: in `engineering` and
/// `research` (synced), `jira-users` and `confluence-users` (admin-managed); `platform`
/// (synced) and `bitbucket-users` (admin) exist without her. An external account (no SCIM
/// record) in `jira-users`.
fn rehire_org() -> SimulatorBuilder {
    Simulator::builder()
        .user(SeedUser::new(ADA).name("Ada Lovelace").inactive())
        .user(SeedUser::new(EXT).name("Ext Partner").without_scim())
        .user(SeedUser::new("grace@example.com").name("Grace Hopper"))
        .synced_group("engineering", &[ADA, "grace@example.com"])
        .synced_group("research", &[ADA])
        .synced_group("platform", &["grace@example.com"])
        .admin_group("jira-users", &[ADA, EXT])
        .admin_group("confluence-users", &[ADA])
        .admin_group("bitbucket-users", &[])
}

/// Ada's desired set after the rehire: two groups kept, two new, one role.
fn desired() -> Vec<Entitlement> {
    vec![
        Entitlement::Group("engineering".into()),
        Entitlement::Group("jira-users".into()),
        Entitlement::Group("platform".into()),
        Entitlement::Group("bitbucket-users".into()),
        role("user", &on("jira-software")),
    ]
}

async fn reactivate(
    connector: &dyn Subject,
    sim: &Simulator,
    user: &UserRef,
    desired: &[Entitlement],
    options: ActionOptions,
) -> Step<Outcome> {
    let inv = connector
        .reactivate_identity(&sim_tenant(sim), user, desired, options)
        .await;
    ok("reactivate-identity", inv.result)
}

fn groups_of(sim: &Simulator, email: &str) -> Vec<String> {
    let mut g = sim
        .user_by_email(email)
        .map(|u| u.groups)
        .unwrap_or_default();
    g.sort();
    g
}

fn kinds(o: &Outcome) -> Vec<String> {
    o.changes
        .iter()
        .map(|c| {
            let status = c.status.to_string();
            let status = status.split(':').next().unwrap_or_default().to_owned();
            format!("{} {} {status}", c.kind, c.target)
        })
        .collect()
}

fn count(o: &Outcome, status: &ChangeStatus) -> usize {
    o.changes.iter().filter(|c| c.status == *status).count()
}

/// Ada deactivated (memberships kept, a stale direct role): reactivate with a desired set.
/// Active again, stale memberships and the stale role gone, missing ones added, the role
/// granted, site access reported for an admin, never lifecycle `enable`; again: all
/// `already-done`, zero writes.
pub(crate) async fn j1(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(rehire_org()).await?;
    let confluence = sim.workspace_id("confluence").unwrap_or_default();
    sim.grant_user_role(ADA, &confluence, "atlassian/admin", false);
    let o = reactivate(connector, &sim, &ada(), &desired(), APPLY).await?;
    c.completed(&o, true);
    c.eq(
        "the first change",
        Some(ChangeKind::ReactivateUser),
        o.changes.first().map(|c| c.kind.clone()),
    );
    c.that(
        "site access",
        o.changes.iter().any(|c| {
            c.kind == ChangeKind::RestoreUser
                && matches!(&c.status, ChangeStatus::Skipped(w) if w.contains("administrator"))
        }),
        "a skipped change naming the administrator",
        format!("{:?}", kinds(&o)),
    );
    // A fresh read.
    let view = sim
        .user_by_email(ADA)
        .ok_or_else(|| Difference::new("ada", "there", "gone"))?;
    c.eq("ada active on re-read", true, view.active);
    c.eq(
        "ada's groups on re-read",
        vec!["bitbucket-users", "engineering", "jira-users", "platform"],
        groups_of(&sim, ADA).iter().map(String::as_str).collect(),
    );
    c.eq(
        "ada's roles on re-read",
        vec!["atlassian/user on jira-software [direct]".to_owned()],
        roles_of(&sim, ADA),
    );
    let lifecycle: Vec<String> = sim
        .mutations()
        .iter()
        .filter(|r| r.path.contains("/lifecycle/"))
        .map(|r| r.path.clone())
        .collect();
    c.eq("lifecycle calls", Vec::<String>::new(), lifecycle);
    sim.clear_requests();
    let again = reactivate(connector, &sim, &ada(), &desired(), APPLY).await?;
    c.that(
        "again",
        again.completed && count(&again, &ChangeStatus::AlreadyDone) == again.changes.len(),
        "all already-done",
        format!("{:?}", kinds(&again)),
    );
    c.writes(&sim, 0);
    Ok(())
}

/// An external account (no SCIM record): deprovision removes its memberships and direct
/// roles, then suspends it (v2; each success answer); reactivate restores it and converges its
/// groups. A suspended SCIM user is restored too (the suspension outlives SCIM). An org admin's
/// suspension is a failed change; SCIM-only, the account is `not-found` saying why.
pub(crate) async fn j2(connector: &dyn Subject, c: &mut Check) -> Step {
    for reply in [
        LifecycleReply::Message,
        LifecycleReply::NoContent,
        LifecycleReply::EmptyOk,
    ] {
        let sim = start(rehire_org()).await?;
        sim.configure(|o| o.suspend_reply = reply);
        let jira = sim.workspace_id("jira-software").unwrap_or_default();
        sim.grant_user_role(EXT, &jira, "atlassian/user", false);
        let ext = UserRef::Email(EXT.into());
        let inv = connector
            .deprovision_identity(&sim_tenant(&sim), &ext, APPLY)
            .await;
        let o = ok("deprovision the external account", inv.result)?;
        c.completed(&o, true);
        c.eq(
            format!("deprovision ({reply:?})"),
            vec![
                "remove-membership jira-users applied".to_owned(),
                format!("remove-role atlassian/user@workspace:{jira} applied"),
                format!(
                    "suspend-user {} applied",
                    sim.user_by_email(EXT)
                        .map(|u| u.account_id)
                        .unwrap_or_default()
                ),
            ],
            kinds(&o),
        );
        let view = sim
            .user_by_email(EXT)
            .ok_or_else(|| Difference::new("the external account", "there", "gone"))?;
        c.eq("suspended on re-read", true, view.suspended);
        c.eq(
            "groups on re-read",
            Vec::<String>::new(),
            groups_of(&sim, EXT),
        );
        c.eq(
            "roles on re-read",
            Vec::<String>::new(),
            roles_of(&sim, EXT),
        );
        // Again, with a server that answers a repeat 409: already done, no call.
        sim.configure(|o| o.suspend_repeat_conflict = true);
        sim.clear_requests();
        let inv = connector
            .deprovision_identity(&sim_tenant(&sim), &ext, APPLY)
            .await;
        let again = ok("deprovision again", inv.result)?;
        c.that(
            "deprovision again",
            count(&again, &ChangeStatus::AlreadyDone) == again.changes.len(),
            "all already-done",
            format!("{:?}", kinds(&again)),
        );
        c.writes(&sim, 0);
        let want = [Entitlement::Group("jira-users".into())];
        let back = reactivate(connector, &sim, &ext, &want, APPLY).await?;
        c.completed(&back, true);
        c.that(
            "reactivate",
            back.changes
                .iter()
                .any(|c| c.kind == ChangeKind::RestoreUser && c.status == ChangeStatus::Applied),
            "restore-user applied",
            format!("{:?}", kinds(&back)),
        );
        let view = sim
            .user_by_email(EXT)
            .ok_or_else(|| Difference::new("the external account", "there", "gone"))?;
        c.eq("restored on re-read", false, view.suspended);
        c.eq(
            "groups after the restore",
            vec!["jira-users".to_owned()],
            groups_of(&sim, EXT),
        );
    }
    // A suspended SCIM user: SCIM reactivation, then the restore.
    let sim = start(
        Simulator::builder()
            .user(SeedUser::new(ADA).inactive().suspended())
            .admin_group("jira-users", &[ADA]),
    )
    .await?;
    let want = [Entitlement::Group("jira-users".into())];
    let o = reactivate(connector, &sim, &ada(), &want, APPLY).await?;
    c.completed(&o, true);
    let view = sim
        .user_by_email(ADA)
        .ok_or_else(|| Difference::new("ada", "there", "gone"))?;
    c.eq(
        "suspended SCIM user on re-read: (active, suspended)",
        (true, false),
        (view.active, view.suspended),
    );
    // An org admin: 400, a failed change; the account stays unsuspended.
    let sim = start(rehire_org()).await?;
    sim.configure(|o| o.org_admins = vec![EXT.into()]);
    let inv = connector
        .deprovision_identity(&sim_tenant(&sim), &UserRef::Email(EXT.into()), APPLY)
        .await;
    let o = ok("deprovision an org admin", inv.result)?;
    c.completed(&o, false);
    c.that(
        "the suspension of an org admin",
        o.changes.last().is_some_and(|c| {
            c.kind == ChangeKind::SuspendUser && matches!(c.status, ChangeStatus::Failed(_))
        }),
        "failed",
        format!("{:?}", changes(&o)),
    );
    c.eq(
        "org admin suspended on re-read",
        Some(false),
        sim.user_by_email(EXT).map(|u| u.suspended),
    );
    // SCIM-only: the account is not found, and the message says what would be needed.
    sim.clear_requests();
    let inv = connector
        .deprovision_identity(&sim_scim_only(&sim), &UserRef::Email(EXT.into()), APPLY)
        .await;
    c.error(
        "SCIM-only deprovision of an external account",
        inv.result,
        "not-found",
        &["suspended", "admin_api_key"],
    )?;
    c.writes(&sim, 0);
    Ok(())
}

/// Dry runs of J1 and J2: the exact plan, zero writes; the real run applies that plan.
pub(crate) async fn j4(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(rehire_org()).await?;
    let confluence = sim.workspace_id("confluence").unwrap_or_default();
    sim.grant_user_role(ADA, &confluence, "atlassian/admin", false);
    let plan = reactivate(connector, &sim, &ada(), &desired(), PLAN).await?;
    c.writes(&sim, 0);
    c.eq("nothing failed in the plan", true, plan.completed);
    let real = reactivate(connector, &sim, &ada(), &desired(), APPLY).await?;
    let planned: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.status == ChangeStatus::Planned)
        .map(|c| format!("{} {}", c.kind, c.target))
        .collect();
    let applied: Vec<String> = real
        .changes
        .iter()
        .filter(|c| c.status == ChangeStatus::Applied)
        .map(|c| format!("{} {}", c.kind, c.target))
        .collect();
    c.eq(
        "reactivate: the real run applies the plan",
        planned,
        applied,
    );
    c.eq(
        "ada active on re-read",
        Some(true),
        sim.user_by_email(ADA).map(|u| u.active),
    );
    // Deprovision of the external account, planned.
    sim.clear_requests();
    let ext = UserRef::Email(EXT.into());
    let inv = connector
        .deprovision_identity(&sim_tenant(&sim), &ext, PLAN)
        .await;
    let o = ok("deprovision dry run", inv.result)?;
    c.eq(
        "deprovision plan",
        vec![
            "remove-membership jira-users planned".to_owned(),
            format!(
                "suspend-user {} planned",
                sim.user_by_email(EXT)
                    .map(|u| u.account_id)
                    .unwrap_or_default()
            ),
        ],
        kinds(&o),
    );
    c.writes(&sim, 0);
    c.eq(
        "the external account on re-read: (suspended, groups)",
        (false, vec!["jira-users".to_owned()]),
        (
            sim.user_by_email(EXT).is_some_and(|u| u.suspended),
            groups_of(&sim, EXT),
        ),
    );
    Ok(())
}

/// SCIM-only against a server that keeps no `groups` on users: the memberships are reported
/// as not verifiable (a `skipped` change), never as "no memberships remain"; the
/// deactivation goes on.
pub(crate) async fn d8(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(crate::d_deprovision::org_builder()).await?;
    sim.configure(|o| o.scim_omits_user_groups = true);
    let inv = connector
        .deprovision_identity(&sim_scim_only(&sim), &ada(), APPLY)
        .await;
    let o = ok("deprovision-identity", inv.result)?;
    c.that(
        "the memberships",
        o.changes.iter().any(|c| {
            matches!(&c.status, ChangeStatus::Skipped(w) if w.contains("could not be verified"))
        }),
        "a skipped change: could not be verified",
        format!("{:?}", changes(&o)),
    );
    c.eq(
        "the last change",
        Some((ChangeKind::DeactivateUser, ChangeStatus::Applied)),
        o.changes.last().map(|c| (c.kind.clone(), c.status.clone())),
    );
    let view = sim
        .user_by_email(ADA)
        .ok_or_else(|| Difference::new("ada", "there", "gone"))?;
    c.eq("ada active on re-read", false, view.active);
    c.that(
        "ada's groups on re-read",
        !view.groups.is_empty(),
        "still there (nothing was claimed removed)",
        format!("{:?}", view.groups),
    );
    Ok(())
}
