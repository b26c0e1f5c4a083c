//! D. Deprovision.

use crate::Subject;
use crate::check::{Check, Difference, Step, ok, start};
use crate::support::{all, changes, sim_tenant};
use atlassian_simulator::{Fault, Route, SeedUser, Simulator, SimulatorBuilder};
use lifecycle_host::bindings::types::{ActionOptions, ChangeKind, ChangeStatus, Outcome, UserRef};
use lifecycle_host::{CallError, Tenant};

const APPLY: ActionOptions = ActionOptions { dry_run: false };
pub(crate) const ADA: &str = "ada@example.com";

pub(crate) fn ada() -> UserRef {
    UserRef::Email(ADA.into())
}

/// Ada in 2 admin-managed and 2 synced groups; Grace shares one of each.
pub(crate) fn org_builder() -> SimulatorBuilder {
    Simulator::builder()
        .user(SeedUser::new(ADA).name("Ada Lovelace"))
        .user(SeedUser::new("grace@example.com").name("Grace Hopper"))
        .synced_group("engineering", &[ADA, "grace@example.com"])
        .synced_group("research", &[ADA])
        .admin_group("jira-users", &[ADA, "grace@example.com"])
        .admin_group("confluence-users", &[ADA])
}

pub(crate) async fn deprovision(
    connector: &dyn Subject,
    sim: &Simulator,
    options: ActionOptions,
) -> Step<Outcome> {
    let inv = connector
        .deprovision_identity(&sim_tenant(sim), &ada(), options)
        .await;
    ok("deprovision-identity", inv.result)
}

fn groups_of(sim: &Simulator, email: &str) -> Vec<String> {
    let mut groups = sim
        .user_by_email(email)
        .map(|u| u.groups)
        .unwrap_or_default();
    groups.sort();
    groups
}

/// Four memberships removed, then `active=false`; the SCIM record and the account stay.
pub(crate) async fn d1(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let o = deprovision(connector, &sim, APPLY).await?;
    c.completed(&o, true);
    c.that(
        "changes",
        all(&o, &ChangeStatus::Applied) && o.changes.len() == 5,
        "5, all applied",
        format!("{:?}", changes(&o)),
    );
    c.eq(
        "the last change",
        Some(ChangeKind::DeactivateUser),
        o.changes.last().map(|c| c.kind.clone()),
    );
    let mut removed: Vec<&str> = o
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::RemoveMembership)
        .map(|c| c.target.as_str())
        .collect();
    removed.sort_unstable();
    c.eq(
        "memberships removed",
        vec!["confluence-users", "engineering", "jira-users", "research"],
        removed,
    );
    let Some(view) = sim.user_by_email(ADA) else {
        return Err(Difference::new("ada's account", "still there", "gone"));
    };
    c.eq("ada's groups", Vec::<String>::new(), groups_of(&sim, ADA));
    c.eq("ada active", false, view.active);
    c.that("ada's SCIM record", view.scim_id.is_some(), "kept", "gone");
    c.that(
        "ada's account",
        sim.user_by_account_id(&view.account_id).is_some(),
        "kept",
        "gone",
    );
    c.members(&sim, "engineering", &["grace@example.com"]);
    c.members(&sim, "jira-users", &["grace@example.com"]);
    c.members(&sim, "research", &[]);
    c.members(&sim, "confluence-users", &[]);
    c.writes(&sim, 5);
    let m = sim.mutations();
    c.eq(
        "admin membership DELETEs",
        2,
        m.iter()
            .filter(|r| r.method == "DELETE" && r.path.contains("/memberships/"))
            .count(),
    );
    for w in m.iter().filter(|r| r.path.contains("/Groups/")) {
        let op = &w.json()["Operations"][0];
        c.that(
            "a SCIM membership removal",
            w.method == "PATCH"
                && op["op"] == "remove"
                && op["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("members[value eq ")),
            "PATCH remove members[value eq …]",
            op,
        );
    }
    if let Some(last) = m.last() {
        let user_path = format!("/Users/{}", view.scim_id.as_deref().unwrap_or("?"));
        c.that(
            "the last write",
            last.method == "PATCH"
                && last.path.ends_with(&user_path)
                && last.json()["Operations"]
                    == serde_json::json!([{"op": "replace", "path": "active", "value": false}]),
            format!("PATCH …{user_path} active=false"),
            format!("{} {} {}", last.method, last.path, last.body),
        );
    }
    Ok(())
}

/// A second run: all `already-done`, zero writes.
pub(crate) async fn d2(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    deprovision(connector, &sim, APPLY).await?;
    sim.clear_requests();
    let o = deprovision(connector, &sim, APPLY).await?;
    c.completed(&o, true);
    c.all_changes("changes", &o, &ChangeStatus::AlreadyDone);
    c.writes(&sim, 0);
    c.eq(
        "ada active",
        Some(false),
        sim.user_by_email(ADA).map(|u| u.active),
    );
    c.eq("ada's groups", Vec::<String>::new(), groups_of(&sim, ADA));
    Ok(())
}

/// The second admin removal fails every attempt: the user stays active with one membership;
/// the next run removes exactly that one and deactivates.
pub(crate) async fn d3(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    sim.fault_after(
        Route::admin("")
            .method("DELETE")
            .containing("/memberships/"),
        1,
        Fault::Unavailable { retry_after: None },
        10,
    );
    let o = deprovision(connector, &sim, APPLY).await?;
    c.completed(&o, false);
    let failed: Vec<String> = o
        .changes
        .iter()
        .filter(|c| matches!(c.status, ChangeStatus::Failed(_)))
        .map(|c| c.target.clone())
        .collect();
    c.eq("failed changes of the first run", 2, failed.len());
    c.eq(
        "ada active after the first run",
        Some(true),
        sim.user_by_email(ADA).map(|u| u.active),
    );
    c.eq(
        "ada's groups after the first run",
        1,
        groups_of(&sim, ADA).len(),
    );
    sim.clear_faults();
    sim.clear_requests();
    let o = deprovision(connector, &sim, APPLY).await?;
    c.completed(&o, true);
    c.eq(
        "second run's change kinds",
        vec![ChangeKind::RemoveMembership, ChangeKind::DeactivateUser],
        o.changes.iter().map(|c| c.kind.clone()).collect(),
    );
    c.eq(
        "second run's removal",
        failed.first(),
        o.changes.first().map(|c| &c.target),
    );
    c.writes(&sim, 2);
    c.eq("ada's groups", Vec::<String>::new(), groups_of(&sim, ADA));
    c.eq(
        "ada active",
        Some(false),
        sim.user_by_email(ADA).map(|u| u.active),
    );
    Ok(())
}

/// Protects ada in the tenant's `protected_users` (after another entry), by her email in
/// `email_case` and by her account id, and calls `act` for her by email and by account id
/// under each: every call is `policy-denied`, naming her rather than the list.
pub(crate) async fn protected_calls<T, F, Fut>(
    c: &mut Check,
    sim: &Simulator,
    email_case: &str,
    action: &str,
    mut act: F,
) -> Step
where
    T: std::fmt::Debug,
    F: FnMut(Tenant, UserRef) -> Fut,
    Fut: std::future::Future<Output = Result<T, CallError>>,
{
    let account = sim
        .user_by_email(ADA)
        .map(|u| u.account_id)
        .unwrap_or_default();
    for protected in [email_case, account.as_str()] {
        let tenant =
            sim_tenant(sim).with_setting("protected_users", format!("x@y.com,{protected}"));
        for user in [ada(), crate::ids::account(account.clone())] {
            let what = format!("protected {protected}, {action} {user:?}");
            let e = c.error(&what, act(tenant.clone(), user).await, "policy-denied", &[])?;
            c.that(
                format!("{what}: the message"),
                !e.message().contains("x@y.com"),
                "names the user, not the list",
                e.message(),
            );
        }
    }
    c.writes(sim, 0);
    Ok(())
}

/// A protected user, by email (any case) or account id, referred to either way:
/// `policy-denied`, zero writes.
pub(crate) async fn d4(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    protected_calls(
        c,
        &sim,
        "ADA@Example.com",
        "deprovision",
        |tenant, user| async move {
            connector
                .deprovision_identity(&tenant, &user, APPLY)
                .await
                .result
        },
    )
    .await?;
    c.eq(
        "ada active",
        Some(true),
        sim.user_by_email(ADA).map(|u| u.active),
    );
    c.eq("ada's groups", 4, groups_of(&sim, ADA).len());
    Ok(())
}

/// An unknown user: `not-found` naming them, zero writes.
pub(crate) async fn d5(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let inv = connector
        .deprovision_identity(
            &sim_tenant(&sim),
            &UserRef::Email("nobody@example.com".into()),
            APPLY,
        )
        .await;
    c.error(
        "deprovision-identity",
        inv.result,
        "not-found",
        &["nobody@example.com"],
    )?;
    c.writes(&sim, 0);
    c.eq("users", 2, sim.users().len());
    Ok(())
}
