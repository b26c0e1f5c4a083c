//! Conformance cases E1–E4 (delete) and the G1 dry run of delete, through the real component
//! in the real host against the Atlassian simulator, asserting on the simulator's state and
//! request log.

mod common;

use common::*;
use host_harness::CallError;
use host_harness::bindings::types::{
    ChangeKind, ChangeStatus, ConnectorError, DeleteOptions, Outcome, UserRef,
};
use host_harness::simulator::{AccountStatus, SeedUser, Simulator};

const ADA: &str = "ada@example.com";
const DELETE: DeleteOptions = DeleteOptions {
    purge_account: false,
    dry_run: false,
};
const PURGE: DeleteOptions = DeleteOptions {
    purge_account: true,
    dry_run: false,
};

fn ada() -> UserRef {
    UserRef::Email(ADA.into())
}

async fn org() -> Simulator {
    Simulator::builder()
        .user(SeedUser::new(ADA).name("Ada Lovelace"))
        .user(SeedUser::new("grace@example.com").name("Grace Hopper"))
        .synced_group("engineering", &[ADA, "grace@example.com"])
        .synced_group("research", &[ADA])
        .start()
        .await
        .expect("simulator starts")
}

async fn delete(sim: &Simulator, options: DeleteOptions) -> Outcome {
    let inv = connector()
        .delete_identity(&sim_tenant(sim), &ada(), options)
        .await;
    assert_exchanges_clean(&inv.exchanges);
    match inv.result {
        Ok(o) => o,
        Err(e) => panic!("delete-identity failed: {e}"),
    }
}

fn kinds(o: &Outcome) -> Vec<(ChangeKind, ChangeStatus)> {
    o.changes
        .iter()
        .map(|c| (c.kind, c.status.clone()))
        .collect()
}

#[tokio::test]
async fn e1_the_scim_record_and_its_memberships_go() {
    let sim = org().await;
    let before = sim.user_by_email(ADA).unwrap();
    let scim_id = before.scim_id.clone().unwrap();
    let o = delete(&sim, DELETE).await;
    assert!(o.completed);
    assert_eq!(kinds(&o), [(ChangeKind::DeleteUser, ChangeStatus::Applied)]);
    assert_eq!(o.changes[0].target, scim_id);
    assert!(sim.user_by_scim_id(&scim_id).is_none());
    let after = sim.user_by_email(ADA).unwrap();
    assert_eq!(after.scim_id, None);
    assert!(after.groups.is_empty(), "{:?}", after.groups);
    assert_eq!(after.status, AccountStatus::Deactivated);
    assert_eq!(sim.group_members("engineering"), ["grace@example.com"]);
    assert!(sim.group_members("research").is_empty());
    let m = sim.mutations();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].method, "DELETE");
    assert!(m[0].path.ends_with(&format!("/Users/{scim_id}")));
    // The old id answers 404 through the real host.
    let inv = connector()
        .delete_identity(&sim_tenant(&sim), &UserRef::ScimId(scim_id.clone()), DELETE)
        .await;
    let o = inv.result.expect("an absent user is success");
    assert_eq!(
        kinds(&o),
        [(ChangeKind::DeleteUser, ChangeStatus::AlreadyDone)]
    );
    assert!(
        sim.requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.ends_with(&scim_id) && r.status == 404)
    );
}

#[tokio::test]
async fn e2_deleting_twice_is_already_done_with_zero_writes() {
    let sim = org().await;
    assert!(delete(&sim, DELETE).await.completed);
    sim.clear_requests();
    let o = delete(&sim, DELETE).await;
    assert!(o.completed);
    assert_eq!(o.user, None);
    assert_eq!(
        kinds(&o),
        [(ChangeKind::DeleteUser, ChangeStatus::AlreadyDone)]
    );
    assert!(sim.mutations().is_empty());
}

#[tokio::test]
async fn e3_purge_calls_the_lifecycle_delete_for_the_account_and_records_it() {
    let sim = org().await;
    let account = sim.user_by_email(ADA).unwrap().account_id;
    let o = delete(&sim, PURGE).await;
    assert!(o.completed, "{o:?}");
    assert_eq!(
        kinds(&o),
        [
            (ChangeKind::DeleteUser, ChangeStatus::Applied),
            (ChangeKind::DeleteAccount, ChangeStatus::Applied)
        ]
    );
    assert_eq!(o.changes[1].target, account);
    assert!(
        o.changes[1]
            .after
            .as_deref()
            .unwrap()
            .contains("14-day grace")
    );
    let m = sim.mutations();
    assert_eq!(m.len(), 2, "{m:#?}");
    assert_eq!(m[0].method, "DELETE");
    assert_eq!(m[1].method, "POST");
    let encoded = account.replace(':', "%3A");
    assert!(
        m[1].path == format!("/users/{encoded}/manage/lifecycle/delete")
            || m[1].path == format!("/users/{account}/manage/lifecycle/delete"),
        "{}",
        m[1].path
    );
    assert_eq!(
        sim.user_by_email(ADA).unwrap().status,
        AccountStatus::ForDeletion
    );

    // Purging again: everything already done, zero writes.
    sim.clear_requests();
    let o = delete(&sim, PURGE).await;
    assert!(o.completed);
    assert!(
        o.changes
            .iter()
            .all(|c| c.status == ChangeStatus::AlreadyDone),
        "{o:?}"
    );
    assert!(sim.mutations().is_empty());
}

#[tokio::test]
async fn a_scoped_admin_key_fails_the_account_delete_naming_admin_api_key() {
    let sim = org().await;
    sim.configure(|o| o.admin_key_scoped = true);
    let o = delete(&sim, PURGE).await;
    assert!(!o.completed);
    assert_eq!(o.changes[0].status, ChangeStatus::Applied);
    match &o.changes[1].status {
        ChangeStatus::Failed(ConnectorError::Forbidden(m)) => assert!(m.contains("admin_api_key")),
        other => panic!("expected a forbidden failure, got {other:?}"),
    }
}

#[tokio::test]
async fn purge_on_a_scim_only_config_is_invalid_config_before_any_request() {
    let sim = org().await;
    let inv = connector()
        .delete_identity(&sim_scim_only(&sim), &ada(), PURGE)
        .await;
    match inv.result {
        Err(CallError::Connector(ConnectorError::InvalidConfig(c))) => {
            assert_eq!(c.key, "admin_api_key");
        }
        other => panic!("expected invalid-config, got {other:?}"),
    }
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn e4_a_protected_user_is_policy_denied_with_zero_writes() {
    let sim = org().await;
    let account = sim.user_by_email(ADA).unwrap().account_id;
    for protected in ["Ada@EXAMPLE.com", account.as_str()] {
        let tenant =
            sim_tenant(&sim).with_setting("protected_users", format!("x@y.com,{protected}"));
        for user in [ada(), UserRef::AccountId(account.clone())] {
            let inv = connector().delete_identity(&tenant, &user, PURGE).await;
            assert!(
                matches!(
                    inv.result,
                    Err(CallError::Connector(ConnectorError::PolicyDenied(_)))
                ),
                "{:?}",
                inv.result
            );
        }
    }
    assert!(sim.mutations().is_empty());
    assert!(sim.user_by_email(ADA).unwrap().scim_id.is_some());
}

#[tokio::test]
async fn g1_dry_run_plans_with_zero_writes_and_the_real_run_applies_that_plan() {
    let sim = org().await;
    let plan = delete(
        &sim,
        DeleteOptions {
            purge_account: true,
            dry_run: true,
        },
    )
    .await;
    assert_eq!(
        kinds(&plan),
        [
            (ChangeKind::DeleteUser, ChangeStatus::Planned),
            (ChangeKind::DeleteAccount, ChangeStatus::Planned)
        ]
    );
    assert!(sim.mutations().is_empty());
    let o = delete(&sim, PURGE).await;
    assert!(o.changes.iter().all(|c| c.status == ChangeStatus::Applied));
    assert_eq!(o.changes.len(), plan.changes.len());
}
