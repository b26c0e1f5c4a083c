//! D. Deprovision.

use crate::LoadedConnector;
use crate::bindings::types::{
    ActionOptions, ChangeKind, ChangeStatus, ConnectorError, Outcome, UserRef,
};
use crate::conformance::check::{Check, Difference, Step, connector_error, ok, start};
use crate::conformance::support::{all, changes, sim_tenant};
use crate::simulator::{Fault, Route, SeedUser, Simulator, SimulatorBuilder};

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
    connector: &LoadedConnector,
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
pub(crate) async fn d1(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let o = deprovision(connector, &sim, APPLY).await?;
    c.that("completed", o.completed, "true", "false");
    c.that(
        "changes",
        all(&o, &ChangeStatus::Applied) && o.changes.len() == 5,
        "5, all applied",
        format!("{:?}", changes(&o)),
    );
    c.eq(
        "the last change",
        Some(ChangeKind::DeactivateUser),
        o.changes.last().map(|c| c.kind),
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
    c.eq(
        "members of engineering",
        vec!["grace@example.com".to_owned()],
        sim.group_members("engineering"),
    );
    c.eq(
        "members of jira-users",
        vec!["grace@example.com".to_owned()],
        sim.group_members("jira-users"),
    );
    let m = sim.mutations();
    c.eq("writes", 5, m.len());
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
        c.that(
            "the last write",
            last.method == "PATCH"
                && last.json()["Operations"]
                    == serde_json::json!([{"op": "replace", "path": "active", "value": false}]),
            "PATCH active=false",
            format!("{} {} {}", last.method, last.path, last.body),
        );
    }
    Ok(())
}

/// A second run: all `already-done`, zero writes.
pub(crate) async fn d2(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    deprovision(connector, &sim, APPLY).await?;
    sim.clear_requests();
    let o = deprovision(connector, &sim, APPLY).await?;
    c.that("completed", o.completed, "true", "false");
    c.that(
        "changes",
        all(&o, &ChangeStatus::AlreadyDone),
        "all already-done",
        format!("{:?}", changes(&o)),
    );
    c.eq("writes", 0, sim.mutations().len());
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
pub(crate) async fn d3(connector: &LoadedConnector, c: &mut Check) -> Step {
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
    c.that("first run completed", !o.completed, "false", "true");
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
    c.that(
        "second run completed",
        o.completed,
        "true",
        format!("false: {:?}", changes(&o)),
    );
    c.eq(
        "second run's change kinds",
        vec![ChangeKind::RemoveMembership, ChangeKind::DeactivateUser],
        o.changes.iter().map(|c| c.kind).collect(),
    );
    c.eq("second run's writes", 2, sim.mutations().len());
    c.eq("ada's groups", Vec::<String>::new(), groups_of(&sim, ADA));
    c.eq(
        "ada active",
        Some(false),
        sim.user_by_email(ADA).map(|u| u.active),
    );
    Ok(())
}

/// A protected user, by email (any case) or account id, referred to either way:
/// `policy-denied`, zero writes.
pub(crate) async fn d4(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let account = sim
        .user_by_email(ADA)
        .map(|u| u.account_id)
        .unwrap_or_default();
    for protected in ["ADA@Example.com", account.as_str()] {
        let tenant =
            sim_tenant(&sim).with_setting("protected_users", format!("x@y.com,{protected}"));
        for user in [ada(), UserRef::AccountId(account.clone())] {
            let what = format!("protected {protected}, deprovision {user:?}");
            let inv = connector.deprovision_identity(&tenant, &user, APPLY).await;
            match connector_error(&what, inv.result)? {
                ConnectorError::PolicyDenied(_) => {}
                other => c.push(Difference::new(what, "policy-denied", other.message())),
            }
        }
    }
    c.eq("writes", 0, sim.mutations().len());
    c.eq(
        "ada active",
        Some(true),
        sim.user_by_email(ADA).map(|u| u.active),
    );
    c.eq("ada's groups", 4, groups_of(&sim, ADA).len());
    Ok(())
}

/// An unknown user: `not-found` naming them, zero writes.
pub(crate) async fn d5(connector: &LoadedConnector, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let inv = connector
        .deprovision_identity(
            &sim_tenant(&sim),
            &UserRef::Email("nobody@example.com".into()),
            APPLY,
        )
        .await;
    match connector_error("deprovision-identity", inv.result)? {
        ConnectorError::NotFound(m) => {
            c.that(
                "the message",
                m.contains("nobody@example.com"),
                "names nobody@example.com",
                m,
            );
        }
        other => c.push(Difference::new(
            "deprovision-identity",
            "not-found",
            other.message(),
        )),
    }
    c.eq("writes", 0, sim.mutations().len());
    c.eq("users", 2, sim.users().len());
    Ok(())
}
