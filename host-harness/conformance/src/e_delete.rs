//! E. Delete.

use crate::Subject;
use crate::check::{Check, Difference, Step, ok, start};
use crate::d_deprovision::{ADA, ada, protected_calls};
use crate::support::sim_tenant;
use atlassian_simulator::{AccountStatus, SeedUser, Simulator, SimulatorBuilder};
use lifecycle_host::bindings::types::{ChangeKind, ChangeStatus, DeleteOptions, Outcome, UserRef};

const DELETE: DeleteOptions = DeleteOptions {
    purge_account: false,
    dry_run: false,
};
const PURGE: DeleteOptions = DeleteOptions {
    purge_account: true,
    dry_run: false,
};

pub(crate) fn org_builder() -> SimulatorBuilder {
    Simulator::builder()
        .user(SeedUser::new(ADA).name("Ada Lovelace"))
        .user(SeedUser::new("grace@example.com").name("Grace Hopper"))
        .synced_group("engineering", &[ADA, "grace@example.com"])
        .synced_group("research", &[ADA])
}

pub(crate) async fn delete(
    connector: &dyn Subject,
    sim: &Simulator,
    user: &UserRef,
    options: DeleteOptions,
) -> Step<Outcome> {
    ok(
        "delete-identity",
        connector
            .delete_identity(&sim_tenant(sim), user, options)
            .await
            .result,
    )
}

fn kinds(o: &Outcome) -> Vec<(ChangeKind, ChangeStatus)> {
    o.changes
        .iter()
        .map(|c| (c.kind.clone(), c.status.clone()))
        .collect()
}

/// The SCIM record goes (its old id answers 404) and so do its memberships.
pub(crate) async fn e1(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let Some(scim_id) = sim.user_by_email(ADA).and_then(|u| u.scim_id) else {
        return Err(Difference::new("ada's SCIM record", "seeded", "absent"));
    };
    let o = delete(connector, &sim, &ada(), DELETE).await?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec![(ChangeKind::DeleteUser, ChangeStatus::Applied)],
        kinds(&o),
    );
    c.eq(
        "the change's target",
        Some(scim_id.as_str()),
        o.changes.first().map(|c| c.target.as_str()),
    );
    c.that(
        "the SCIM record",
        sim.user_by_scim_id(&scim_id).is_none(),
        "gone",
        "still there",
    );
    let after = sim.user_by_email(ADA);
    c.eq(
        "ada's groups",
        Some(Vec::<String>::new()),
        after.as_ref().map(|u| u.groups.clone()),
    );
    c.eq(
        "ada's account",
        Some(AccountStatus::Deactivated),
        after.map(|u| u.status),
    );
    c.eq(
        "members of engineering",
        vec!["grace@example.com".to_owned()],
        sim.group_members("engineering"),
    );
    c.eq(
        "members of research",
        Vec::<String>::new(),
        sim.group_members("research"),
    );
    let m = sim.mutations();
    c.eq(
        "writes",
        vec![format!("DELETE /Users/{scim_id}")],
        m.iter()
            .map(|r| {
                format!(
                    "{} /Users/{}",
                    r.method,
                    r.path.rsplit('/').next().unwrap_or("")
                )
            })
            .collect(),
    );
    // The old id, through the real host: 404, which is success (`already-done`).
    let o = delete(connector, &sim, &crate::ids::scim(scim_id.clone()), DELETE).await?;
    c.eq(
        "delete by the old id",
        vec![(ChangeKind::DeleteUser, ChangeStatus::AlreadyDone)],
        kinds(&o),
    );
    c.that(
        "GET of the old id",
        sim.requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.ends_with(&scim_id) && r.status == 404),
        "answered 404",
        "no 404",
    );
    Ok(())
}

/// Deleting twice: the second is `already-done` with zero writes.
pub(crate) async fn e2(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    delete(connector, &sim, &ada(), DELETE).await?;
    sim.clear_requests();
    let o = delete(connector, &sim, &ada(), DELETE).await?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec![(ChangeKind::DeleteUser, ChangeStatus::AlreadyDone)],
        kinds(&o),
    );
    c.writes(&sim, 0);
    c.eq(
        "ada's SCIM record",
        None,
        sim.user_by_email(ADA).and_then(|u| u.scim_id),
    );
    Ok(())
}

/// `purge-account`: the SCIM record, then the account through the lifecycle API; recorded
/// in the outcome; again is all `already-done`.
pub(crate) async fn e3(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    let account = sim
        .user_by_email(ADA)
        .map(|u| u.account_id)
        .unwrap_or_default();
    let o = delete(connector, &sim, &ada(), PURGE).await?;
    c.completed(&o, true);
    c.eq(
        "changes",
        vec![
            (ChangeKind::DeleteUser, ChangeStatus::Applied),
            (ChangeKind::DeleteAccount, ChangeStatus::Applied),
        ],
        kinds(&o),
    );
    c.eq(
        "the account change's target",
        Some(account.as_str()),
        o.changes.get(1).map(|c| c.target.as_str()),
    );
    let m = sim.mutations();
    let lifecycle: Vec<String> = m
        .iter()
        .filter(|r| r.decoded_path().contains("/manage/lifecycle/delete"))
        .map(|r| format!("{} {}{}", r.method, r.decoded_path(), r.body))
        .collect();
    c.eq(
        "lifecycle requests",
        vec![format!("POST /users/{account}/manage/lifecycle/delete")],
        lifecycle,
    );
    c.eq("writes", 2, m.len());
    c.eq(
        "the account",
        Some(AccountStatus::ForDeletion),
        sim.user_by_email(ADA).map(|u| u.status),
    );
    sim.clear_requests();
    let o = delete(connector, &sim, &ada(), PURGE).await?;
    c.all_changes("again", &o, &ChangeStatus::AlreadyDone);
    c.eq("writes again", 0, sim.mutations().len());
    Ok(())
}

/// A protected user (email any case, or account id), referred to either way:
/// `policy-denied`, zero writes.
pub(crate) async fn e4(connector: &dyn Subject, c: &mut Check) -> Step {
    let sim = start(org_builder()).await?;
    protected_calls(
        c,
        &sim,
        "Ada@EXAMPLE.com",
        "delete",
        |tenant, user| async move {
            connector
                .delete_identity(&tenant, &user, PURGE)
                .await
                .result
        },
    )
    .await?;
    c.that(
        "ada's SCIM record",
        sim.user_by_email(ADA).and_then(|u| u.scim_id).is_some(),
        "kept",
        "gone",
    );
    Ok(())
}
