//! What the actions do beyond the conformance cases (those are in
//! `host-harness/tests/conformance.rs`, one test per case id): SCIM-only configurations of
//! every action, user references of every kind, a scoped admin key, and the wording of a
//! purge. Through the real component in the real host against the simulator.

mod common;

use atlassian_simulator::{SeedUser, Simulator, SimulatorBuilder};
use common::*;
use lifecycle_host::bindings::types::{
    ActionOptions, ChangeStatus, ConnectorError, DeleteOptions, Identity, Outcome, SyncOptions,
    UserRef,
};
use lifecycle_host::{CallError, Invocation};

const APPLY: ActionOptions = ActionOptions { dry_run: false };
const PURGE: DeleteOptions = DeleteOptions {
    purge_account: true,
    dry_run: false,
};
const ADA: &str = "ada@example.com";

fn ada() -> UserRef {
    UserRef::Email(ADA.into())
}

fn outcome(what: &str, inv: Invocation<Outcome>) -> Outcome {
    inv.result.unwrap_or_else(|e| panic!("{what} failed: {e}"))
}

/// Ada in 2 admin-managed and 2 synced groups, Grace in one of each, Alan in none.
fn org() -> SimulatorBuilder {
    Simulator::builder()
        .user(SeedUser::new(ADA).name("Ada Lovelace"))
        .user(SeedUser::new("grace@example.com").name("Grace Hopper"))
        .user(SeedUser::new("alan@example.com").name("Alan Turing"))
        .synced_group("engineering", &[ADA, "grace@example.com"])
        .synced_group("research", &[ADA])
        .synced_group("design", &[])
        .admin_group("jira-users", &[ADA, "grace@example.com"])
        .admin_group("confluence-users", &[ADA])
}

async fn start(builder: SimulatorBuilder) -> Simulator {
    builder.start().await.expect("simulator starts")
}

#[tokio::test]
async fn sync_works_with_a_scim_only_config() {
    let sim = start(org()).await;
    let who = Identity {
        email: "katherine@example.com".into(),
        name: Some("Katherine Johnson".into()),
        given_name: None,
        family_name: None,
        display_name: None,
        external_id: None,
    };
    let options = SyncOptions {
        create_missing: true,
        update_existing: true,
        dry_run: false,
    };
    let inv = connector()
        .sync_identity(&sim_scim_only(&sim), &who, options)
        .await;
    assert!(outcome("sync-identity", inv).completed);
    assert!(sim.user_by_email("katherine@example.com").is_some());
    assert!(sim.requests().iter().all(|r| r.path.starts_with("/scim/")));
}

#[tokio::test]
async fn scim_only_config_manages_synced_groups_and_names_the_key_for_admin_groups() {
    let sim = start(org()).await;
    let tenant = sim_scim_only(&sim);
    let alan = UserRef::Email("alan@example.com".into());
    let manage = |add: &'static str| {
        let (tenant, alan) = (tenant.clone(), alan.clone());
        async move {
            connector()
                .manage_groups(&tenant, &alan, &[add.to_owned()], &[], APPLY)
                .await
        }
    };
    assert!(outcome("manage-relationships", manage("design").await).completed);
    assert_eq!(sim.group_members("design"), ["alan@example.com"]);
    match manage("jira-users").await.result {
        Err(CallError::Connector(ConnectorError::NotFound(m))) => {
            assert!(
                m.contains("jira-users") && m.contains("admin_api_key"),
                "{m}"
            );
        }
        other => panic!("expected not-found naming admin_api_key, got {other:?}"),
    }
    assert!(sim.requests().iter().all(|r| r.path.starts_with("/scim/")));
}

#[tokio::test]
async fn scim_only_config_deprovisions_through_the_synced_groups() {
    let sim = start(org()).await;
    let inv = connector()
        .deprovision_identity(&sim_scim_only(&sim), &ada(), APPLY)
        .await;
    let o = outcome("deprovision-identity", inv);
    assert!(o.completed);
    assert_eq!(o.changes.len(), 3, "two synced groups and the deactivation");
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

#[tokio::test]
async fn relationships_resolve_users_by_every_kind_of_reference() {
    let sim = start(
        Simulator::builder()
            .user(SeedUser::new(ADA).external_id("idp \"ada\" \\ 1"))
            .admin_group("jira-users", &[])
            .synced_group("research", &[]),
    )
    .await;
    let tenant = sim_tenant(&sim);
    let ada = sim.user_by_email(ADA).unwrap();
    for user in [
        host_harness::ids::scim(ada.scim_id.clone().unwrap()),
        host_harness::ids::account(ada.account_id.clone()),
        UserRef::ExternalId("idp \"ada\" \\ 1".into()),
        UserRef::Email("Ada@Example.com".into()),
    ] {
        let groups = ["jira-users".to_owned(), "research".to_owned()];
        let inv = connector()
            .manage_groups(
                &tenant,
                &user,
                &groups,
                &[],
                ActionOptions { dry_run: true },
            )
            .await;
        let resolved = outcome("manage-relationships", inv).user.expect("resolved");
        assert_eq!(
            resolved.id(host_harness::ids::SCIM),
            ada.scim_id.as_deref(),
            "{user:?}"
        );
        assert_eq!(
            resolved.id(host_harness::ids::ACCOUNT),
            Some(ada.account_id.as_str()),
            "{user:?}"
        );
    }
}

#[tokio::test]
async fn a_purge_records_the_grace_period_and_a_scoped_key_fails_it_naming_admin_api_key() {
    let sim = start(org()).await;
    let o = outcome(
        "delete-identity",
        connector()
            .delete_identity(&sim_tenant(&sim), &ada(), PURGE)
            .await,
    );
    let account = o.changes.get(1).expect("the account change");
    assert!(
        account.after.as_deref().unwrap().contains("14-day grace"),
        "{account:?}"
    );

    let sim = start(org()).await;
    sim.configure(|o| o.admin_key_scoped = true);
    let o = outcome(
        "delete-identity",
        connector()
            .delete_identity(&sim_tenant(&sim), &ada(), PURGE)
            .await,
    );
    assert!(!o.completed);
    assert_eq!(o.changes[0].status, ChangeStatus::Applied);
    match &o.changes[1].status {
        ChangeStatus::Failed(ConnectorError::Forbidden(m)) => assert!(m.contains("admin_api_key")),
        other => panic!("expected a forbidden failure, got {other:?}"),
    }
}
