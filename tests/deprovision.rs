//! Conformance cases D1–D5 (deprovision) and the G1 dry run of deprovision, through the real
//! component in the real host against the Atlassian simulator, asserting on the simulator's
//! state and request log.

mod common;

use common::*;
use host_harness::CallError;
use host_harness::bindings::types::{
    ActionOptions, ChangeKind, ChangeStatus, ConnectorError, Outcome, UserRef,
};
use host_harness::simulator::{Fault, Route, SeedUser, Simulator};

const APPLY: ActionOptions = ActionOptions { dry_run: false };
const ADA: &str = "ada@example.com";

fn ada() -> UserRef {
    UserRef::Email(ADA.into())
}

/// Ada in 2 admin-managed and 2 synced groups; Grace shares one of each.
async fn org() -> Simulator {
    Simulator::builder()
        .user(SeedUser::new(ADA).name("Ada Lovelace"))
        .user(SeedUser::new("grace@example.com").name("Grace Hopper"))
        .synced_group("engineering", &[ADA, "grace@example.com"])
        .synced_group("research", &[ADA])
        .admin_group("jira-users", &[ADA, "grace@example.com"])
        .admin_group("confluence-users", &[ADA])
        .start()
        .await
        .expect("simulator starts")
}

async fn deprovision(sim: &Simulator, options: ActionOptions) -> Outcome {
    let inv = connector()
        .deprovision_identity(&sim_tenant(sim), &ada(), options)
        .await;
    assert_exchanges_clean(&inv.exchanges);
    match inv.result {
        Ok(o) => o,
        Err(e) => panic!("deprovision-identity failed: {e}"),
    }
}

fn kinds(o: &Outcome) -> Vec<(ChangeKind, String)> {
    o.changes
        .iter()
        .map(|c| (c.kind, c.target.clone()))
        .collect()
}

#[tokio::test]
async fn d1_removes_every_membership_then_deactivates_and_keeps_the_record() {
    let sim = org().await;
    let o = deprovision(&sim, APPLY).await;
    assert!(o.completed, "{o:?}");
    assert_eq!(o.changes.len(), 5);
    assert!(o.changes.iter().all(|c| c.status == ChangeStatus::Applied));
    assert_eq!(o.changes[4].kind, ChangeKind::DeactivateUser);
    let mut groups: Vec<String> = o.changes[..4].iter().map(|c| c.target.clone()).collect();
    groups.sort();
    assert_eq!(
        groups,
        ["confluence-users", "engineering", "jira-users", "research"]
    );

    let ada = sim.user_by_email(ADA).unwrap();
    assert!(ada.groups.is_empty(), "{:?}", ada.groups);
    assert!(!ada.active);
    assert!(ada.scim_id.is_some(), "the SCIM record stays");
    assert!(
        sim.user_by_account_id(&ada.account_id).is_some(),
        "the account stays"
    );
    assert_eq!(sim.group_members("engineering"), ["grace@example.com"]);
    assert_eq!(sim.group_members("jira-users"), ["grace@example.com"]);
    assert!(sim.group_members("research").is_empty());
    assert!(sim.group_members("confluence-users").is_empty());

    // Writes: 2 filtered SCIM removes, 2 admin DELETEs, then the deactivation, last.
    let m = sim.mutations();
    assert_eq!(m.len(), 5, "{m:#?}");
    for w in m.iter().filter(|r| r.path.contains("/Groups/")) {
        assert_eq!(w.method, "PATCH");
        let op = &w.json()["Operations"][0];
        assert_eq!(op["op"], "remove");
        assert!(
            op["path"]
                .as_str()
                .unwrap()
                .starts_with("members[value eq "),
            "{op}"
        );
    }
    let admin_deletes = m
        .iter()
        .filter(|r| r.method == "DELETE" && r.path.contains("/memberships/"));
    assert_eq!(admin_deletes.count(), 2);
    let last = m.last().unwrap();
    assert_eq!(last.method, "PATCH");
    assert!(
        last.path
            .ends_with(&format!("/Users/{}", ada.scim_id.unwrap()))
    );
    assert_eq!(
        last.json()["Operations"],
        serde_json::json!([{"op": "replace", "path": "active", "value": false}])
    );
}

#[tokio::test]
async fn d2_a_second_run_is_all_already_done_with_zero_writes() {
    let sim = org().await;
    assert!(deprovision(&sim, APPLY).await.completed);
    sim.clear_requests();
    let o = deprovision(&sim, APPLY).await;
    assert!(o.completed);
    assert!(!o.changes.is_empty());
    assert!(
        o.changes
            .iter()
            .all(|c| c.status == ChangeStatus::AlreadyDone),
        "{o:?}"
    );
    assert!(sim.mutations().is_empty(), "{:?}", sim.mutations());
}

#[tokio::test]
async fn d3_a_fault_after_the_first_removal_is_finished_by_the_next_run() {
    let sim = org().await;
    // The second admin removal fails on every attempt the host makes.
    sim.fault_after(
        Route::admin("")
            .method("DELETE")
            .containing("/memberships/"),
        1,
        Fault::Unavailable { retry_after: None },
        10,
    );
    let o = deprovision(&sim, APPLY).await;
    assert!(!o.completed);
    let failed: Vec<&str> = o
        .changes
        .iter()
        .filter(|c| matches!(c.status, ChangeStatus::Failed(_)))
        .map(|c| c.target.as_str())
        .collect();
    assert_eq!(failed.len(), 2, "one removal and the deactivation: {o:?}");
    assert_eq!(o.changes.last().unwrap().kind, ChangeKind::DeactivateUser);
    let ada = sim.user_by_email(ADA).unwrap();
    assert!(ada.active, "not deactivated while a membership remains");
    assert_eq!(ada.groups.len(), 1, "{:?}", ada.groups);

    sim.clear_faults();
    sim.clear_requests();
    let o = deprovision(&sim, APPLY).await;
    assert!(o.completed, "{o:?}");
    assert_eq!(o.changes.len(), 2, "only what was left: {o:?}");
    assert_eq!(o.changes[0].kind, ChangeKind::RemoveMembership);
    assert_eq!(o.changes[0].target, failed[0]);
    assert_eq!(sim.mutations().len(), 2);
    let ada = sim.user_by_email(ADA).unwrap();
    assert!(ada.groups.is_empty());
    assert!(!ada.active);
}

#[tokio::test]
async fn d4_a_protected_user_is_policy_denied_with_zero_writes() {
    let sim = org().await;
    let account = sim.user_by_email(ADA).unwrap().account_id;
    for protected in ["ADA@Example.com", account.as_str()] {
        let tenant =
            sim_tenant(&sim).with_setting("protected_users", format!("x@y.com,{protected}"));
        for user in [ada(), UserRef::AccountId(account.clone())] {
            let inv = connector()
                .deprovision_identity(&tenant, &user, APPLY)
                .await;
            match inv.result {
                Err(CallError::Connector(ConnectorError::PolicyDenied(m))) => {
                    assert!(!m.contains("x@y.com"), "names the user, not the list: {m}");
                }
                other => panic!("expected policy-denied, got {other:?}"),
            }
        }
    }
    assert!(sim.mutations().is_empty());
    assert!(sim.user_by_email(ADA).unwrap().active);
}

#[tokio::test]
async fn d5_an_unknown_user_is_not_found() {
    let sim = org().await;
    let inv = connector()
        .deprovision_identity(
            &sim_tenant(&sim),
            &UserRef::Email("nobody@example.com".into()),
            APPLY,
        )
        .await;
    match inv.result {
        Err(CallError::Connector(ConnectorError::NotFound(m))) => {
            assert!(m.contains("nobody@example.com"), "{m}");
        }
        other => panic!("expected not-found, got {other:?}"),
    }
    assert!(sim.mutations().is_empty());
}

#[tokio::test]
async fn g1_dry_run_plans_with_zero_writes_and_the_real_run_applies_that_plan() {
    let sim = org().await;
    let plan = deprovision(&sim, ActionOptions { dry_run: true }).await;
    assert!(
        plan.changes
            .iter()
            .all(|c| c.status == ChangeStatus::Planned)
    );
    assert_eq!(plan.changes.len(), 5);
    assert!(sim.mutations().is_empty());
    assert_eq!(sim.user_by_email(ADA).unwrap().groups.len(), 4);
    let o = deprovision(&sim, APPLY).await;
    assert_eq!(kinds(&o), kinds(&plan));
    assert!(o.changes.iter().all(|c| c.status == ChangeStatus::Applied));
}

#[tokio::test]
async fn scim_only_config_removes_the_synced_groups_and_deactivates() {
    let sim = org().await;
    let inv = connector()
        .deprovision_identity(&sim_scim_only(&sim), &ada(), APPLY)
        .await;
    let o = inv.result.expect("deprovision succeeds");
    assert!(o.completed);
    assert_eq!(o.changes.len(), 3);
    assert!(
        sim.requests()
            .iter()
            .all(|r| !r.path.starts_with("/admin/"))
    );
    let ada = sim.user_by_email(ADA).unwrap();
    assert!(!ada.active);
    let mut left = ada.groups.clone();
    left.sort();
    assert_eq!(left, ["confluence-users", "jira-users"]);
}
