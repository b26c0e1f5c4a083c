//! Conformance cases C1–C9 (manage relationships), through the real component in the real
//! host against the Atlassian simulator, asserting on the simulator's state and request log.

mod common;

use std::time::Duration;

use common::*;
use host_harness::bindings::types::{
    ActionOptions, ChangeKind, ChangeStatus, ConnectorError, Outcome, UserRef,
};
use host_harness::simulator::{Fault, Route, SeedUser, Simulator};
use host_harness::{CallError, Invocation, Tenant};

const APPLY: ActionOptions = ActionOptions { dry_run: false };

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn email(e: &str) -> UserRef {
    UserRef::Email(e.into())
}

async fn manage(
    tenant: &Tenant,
    user: &UserRef,
    add: &[&str],
    remove: &[&str],
    options: ActionOptions,
) -> Invocation<Outcome> {
    connector()
        .manage_relationships(tenant, user, &names(add), &names(remove), options)
        .await
}

fn outcome(inv: Invocation<Outcome>) -> Outcome {
    match inv.result {
        Ok(o) => o,
        Err(e) => panic!("manage-relationships failed: {e}"),
    }
}

fn status_of(o: &Outcome, group: &str) -> ChangeStatus {
    o.changes
        .iter()
        .find(|c| c.target.eq_ignore_ascii_case(group))
        .unwrap_or_else(|| panic!("no change for {group}: {o:?}"))
        .status
        .clone()
}

/// ada, grace, alan; `engineering` (synced, 3 members), `research` (synced, empty),
/// `jira-users` (admin-managed, grace), `confluence-users` (admin-managed, empty).
async fn org() -> Simulator {
    org_builder().start().await.expect("simulator starts")
}

fn org_builder() -> host_harness::simulator::SimulatorBuilder {
    Simulator::builder()
        .user(SeedUser::new("ada@example.com").name("Ada Lovelace"))
        .user(SeedUser::new("grace@example.com").name("Grace Hopper"))
        .user(SeedUser::new("alan@example.com").name("Alan Turing"))
        .synced_group(
            "engineering",
            &["ada@example.com", "grace@example.com", "alan@example.com"],
        )
        .synced_group("research", &[])
        .admin_group("jira-users", &["grace@example.com"])
        .admin_group("confluence-users", &[])
}

fn admin_membership_writes(sim: &Simulator) -> usize {
    sim.mutations()
        .iter()
        .filter(|r| r.path.starts_with("/admin/") && r.path.contains("/memberships"))
        .count()
}

fn scim_group_patches(sim: &Simulator) -> Vec<serde_json::Value> {
    sim.mutations()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/Groups/"))
        .map(|r| r.json())
        .collect()
}

#[tokio::test]
async fn c1_add_to_an_admin_managed_group_through_the_admin_api() {
    let sim = org().await;
    let inv = manage(
        &sim_tenant(&sim),
        &email("ada@example.com"),
        &["jira-users"],
        &[],
        APPLY,
    )
    .await;
    assert_exchanges_clean(&inv.exchanges);
    let o = outcome(inv);
    assert!(o.completed);
    assert_eq!(status_of(&o, "jira-users"), ChangeStatus::Applied);
    assert_eq!(o.changes[0].kind, ChangeKind::AddMembership);
    assert_eq!(
        sim.group_members("jira-users"),
        ["ada@example.com", "grace@example.com"]
    );
    assert_eq!(admin_membership_writes(&sim), 1);
    assert!(scim_group_patches(&sim).is_empty());
    let group = sim.group_by_name("jira-users").unwrap();
    let write = &sim.mutations()[0];
    assert_eq!(write.method, "POST");
    assert!(
        write.path.contains(&format!(
            "/directories/{}/groups/{}/memberships",
            group.directory_id, group.admin_id
        )),
        "the write uses the group's own directory id: {}",
        write.path
    );
}

#[tokio::test]
async fn c2_add_to_a_synced_group_through_scim_only() {
    let sim = org().await;
    let o = outcome(
        manage(
            &sim_tenant(&sim),
            &email("alan@example.com"),
            &["research"],
            &[],
            APPLY,
        )
        .await,
    );
    assert!(o.completed);
    assert_eq!(status_of(&o, "research"), ChangeStatus::Applied);
    assert_eq!(sim.group_members("research"), ["alan@example.com"]);
    assert_eq!(
        admin_membership_writes(&sim),
        0,
        "the admin API was used for a synced group"
    );
    let patches = scim_group_patches(&sim);
    assert_eq!(patches.len(), 1);
    let op = &patches[0]["Operations"][0];
    assert_eq!(op["op"], "add");
    assert_eq!(op["path"], "members");
    let alan = sim.user_by_email("alan@example.com").unwrap();
    assert_eq!(op["value"][0]["value"], alan.scim_id.unwrap().as_str());
}

#[tokio::test]
async fn c3_adding_an_existing_member_is_already_done() {
    let sim = org().await;
    let tenant = sim_tenant(&sim);
    let o = outcome(
        manage(
            &tenant,
            &email("grace@example.com"),
            &["jira-users", "engineering"],
            &[],
            APPLY,
        )
        .await,
    );
    assert!(o.completed);
    assert_eq!(status_of(&o, "jira-users"), ChangeStatus::AlreadyDone);
    assert_eq!(status_of(&o, "engineering"), ChangeStatus::AlreadyDone);
    assert!(sim.mutations().is_empty());
}

/// Two runs that both read "not a member" before either writes: the second write meets an
/// existing member, which Atlassian answers with 204 or with 409 `ADMIN-UAM-409-2`.
async fn race_two_adds(conflict: bool) -> (Simulator, Vec<ChangeStatus>) {
    let sim = org_builder()
        .existing_member_conflict(conflict)
        .start()
        .await
        .unwrap();
    sim.fault(
        Route::admin("/users/search"),
        Fault::Latency(Duration::from_millis(400)),
        2,
    );
    let tenant = sim_tenant(&sim);
    let user = email("ada@example.com");
    let (a, b) = tokio::join!(
        manage(&tenant, &user, &["jira-users"], &[], APPLY),
        manage(&tenant, &user, &["jira-users"], &[], APPLY),
    );
    let mut statuses = Vec::new();
    for o in [outcome(a), outcome(b)] {
        assert!(o.completed, "{o:?}");
        statuses.push(status_of(&o, "jira-users"));
    }
    (sim, statuses)
}

#[tokio::test]
async fn c3_an_existing_member_answered_with_409_admin_uam_409_2_is_success() {
    let (sim, mut statuses) = race_two_adds(true).await;
    statuses.sort_by_key(|s| format!("{s:?}"));
    assert_eq!(statuses, [ChangeStatus::AlreadyDone, ChangeStatus::Applied]);
    assert_eq!(admin_membership_writes(&sim), 2, "both runs wrote");
    assert!(sim.requests().iter().any(|r| r.status == 409));
    assert_eq!(
        sim.group_members("jira-users"),
        ["ada@example.com", "grace@example.com"]
    );
}

#[tokio::test]
async fn c3_an_existing_member_answered_with_204_is_success() {
    let (sim, statuses) = race_two_adds(false).await;
    assert!(
        statuses
            .iter()
            .all(|s| matches!(s, ChangeStatus::Applied | ChangeStatus::AlreadyDone))
    );
    assert_eq!(
        sim.group_members("jira-users"),
        ["ada@example.com", "grace@example.com"]
    );
}

#[tokio::test]
async fn c4_removing_one_member_of_three_keeps_the_other_two() {
    let sim = org().await;
    let o = outcome(
        manage(
            &sim_tenant(&sim),
            &email("grace@example.com"),
            &[],
            &["engineering"],
            APPLY,
        )
        .await,
    );
    assert!(o.completed);
    assert_eq!(status_of(&o, "engineering"), ChangeStatus::Applied);
    assert_eq!(o.changes[0].kind, ChangeKind::RemoveMembership);
    assert_eq!(
        sim.group_members("engineering"),
        ["ada@example.com", "alan@example.com"]
    );
    let patches = scim_group_patches(&sim);
    assert_eq!(patches.len(), 1);
    let op = &patches[0]["Operations"][0];
    let grace = sim
        .user_by_email("grace@example.com")
        .unwrap()
        .scim_id
        .unwrap();
    assert_eq!(op["op"], "remove");
    assert_eq!(op["path"], format!("members[value eq \"{grace}\"]"));
}

#[tokio::test]
async fn c5_removing_a_non_member_is_already_done() {
    let sim = org().await;
    let o = outcome(
        manage(
            &sim_tenant(&sim),
            &email("ada@example.com"),
            &[],
            &["research", "confluence-users"],
            APPLY,
        )
        .await,
    );
    assert!(o.completed);
    assert_eq!(status_of(&o, "research"), ChangeStatus::AlreadyDone);
    assert_eq!(status_of(&o, "confluence-users"), ChangeStatus::AlreadyDone);
    assert!(sim.mutations().is_empty());
}

#[tokio::test]
async fn c6_an_unknown_group_fails_the_call_before_any_write() {
    let sim = org().await;
    let inv = manage(
        &sim_tenant(&sim),
        &email("ada@example.com"),
        &["jira-users", "no-such-group", "research"],
        &["also-missing"],
        APPLY,
    )
    .await;
    match inv.result {
        Err(CallError::Connector(ConnectorError::NotFound(m))) => {
            assert!(
                m.contains("no-such-group") && m.contains("also-missing"),
                "{m}"
            );
            assert!(!m.contains("jira-users"), "{m}");
        }
        other => panic!("expected not-found, got {other:?}"),
    }
    assert!(sim.mutations().is_empty(), "{:#?}", sim.mutations());
    assert_eq!(sim.group_members("jira-users"), ["grace@example.com"]);
}

#[tokio::test]
async fn c7_a_licence_limit_is_a_failed_change_not_success() {
    let sim = org_builder()
        .licence_limit("jira-users", 1)
        .start()
        .await
        .unwrap();
    let o = outcome(
        manage(
            &sim_tenant(&sim),
            &email("ada@example.com"),
            &["jira-users", "research"],
            &[],
            APPLY,
        )
        .await,
    );
    assert!(!o.completed);
    match status_of(&o, "jira-users") {
        ChangeStatus::Failed(e) => {
            let m = format!("{e:?}");
            assert!(
                m.contains("ADMIN-UAM-409-3") || m.to_lowercase().contains("licen"),
                "{m}"
            );
        }
        other => panic!("expected a failed change, got {other:?}"),
    }
    assert_eq!(status_of(&o, "research"), ChangeStatus::Applied);
    assert_eq!(sim.group_members("jira-users"), ["grace@example.com"]);
}

#[tokio::test]
async fn c8_ten_groups_go_out_as_one_batch() {
    let mut builder = org_builder();
    let groups: Vec<String> = (1..=10).map(|i| format!("team-{i:02}")).collect();
    for (i, g) in groups.iter().enumerate() {
        builder = if i % 2 == 0 {
            builder.admin_group(g, &[])
        } else {
            builder.synced_group(g, &[])
        };
    }
    let sim = builder.start().await.unwrap();
    let refs: Vec<&str> = groups.iter().map(String::as_str).collect();
    let inv = manage(
        &sim_tenant(&sim),
        &email("ada@example.com"),
        &refs,
        &[],
        APPLY,
    )
    .await;
    let writes: Vec<_> = inv.exchanges.iter().filter(|e| e.is_write()).collect();
    assert_eq!(writes.len(), 10);
    let batch = writes[0].batch;
    assert!(batch.is_some(), "the writes were not sent with send-all");
    assert!(
        writes.iter().all(|w| w.batch == batch),
        "the writes were split"
    );
    let o = outcome(inv);
    assert!(o.completed);
    for g in &groups {
        assert_eq!(sim.group_members(g), ["ada@example.com"], "{g}");
    }
}

#[tokio::test]
async fn c9_group_names_differing_only_in_case_are_one_group() {
    let sim = org().await;
    let o = outcome(
        manage(
            &sim_tenant(&sim),
            &email("ada@example.com"),
            &["Jira-Users", "JIRA-USERS", "Research"],
            &[],
            APPLY,
        )
        .await,
    );
    assert!(o.completed);
    assert_eq!(o.changes.len(), 2, "{o:?}");
    assert_eq!(admin_membership_writes(&sim), 1);
    assert_eq!(scim_group_patches(&sim).len(), 1);
    assert!(
        sim.group_members("jira-users")
            .contains(&"ada@example.com".to_owned())
    );
    assert!(
        sim.group_members("research")
            .contains(&"ada@example.com".to_owned())
    );
}

#[tokio::test]
async fn g1_relationships_dry_run_writes_nothing_and_a_real_run_applies_exactly_the_plan() {
    let sim = org().await;
    let tenant = sim_tenant(&sim);
    let user = email("grace@example.com");
    let (add, remove) = (
        ["confluence-users", "research", "jira-users"],
        ["engineering"],
    );
    let plan = outcome(
        manage(
            &tenant,
            &user,
            &add,
            &remove,
            ActionOptions { dry_run: true },
        )
        .await,
    );
    assert!(sim.mutations().is_empty(), "a dry run wrote");
    assert_eq!(status_of(&plan, "jira-users"), ChangeStatus::AlreadyDone);
    for g in ["confluence-users", "research", "engineering"] {
        assert_eq!(status_of(&plan, g), ChangeStatus::Planned, "{g}");
    }
    let done = outcome(manage(&tenant, &user, &add, &remove, APPLY).await);
    let shape = |o: &Outcome| {
        o.changes
            .iter()
            .map(|c| (c.kind, c.target.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&plan), shape(&done));
    for (p, d) in plan.changes.iter().zip(&done.changes) {
        let expected = match p.status {
            ChangeStatus::Planned => ChangeStatus::Applied,
            _ => ChangeStatus::AlreadyDone,
        };
        assert_eq!(d.status, expected, "{}", d.target);
    }
    assert_eq!(sim.mutations().len(), 3);
}

#[tokio::test]
async fn relationships_resolve_users_by_every_kind_of_reference() {
    let sim = Simulator::builder()
        .user(SeedUser::new("ada@example.com").external_id("idp \"ada\" \\ 1"))
        .admin_group("jira-users", &[])
        .synced_group("research", &[])
        .start()
        .await
        .unwrap();
    let tenant = sim_tenant(&sim);
    let ada = sim.user_by_email("ada@example.com").unwrap();
    for user in [
        UserRef::ScimId(ada.scim_id.clone().unwrap()),
        UserRef::AccountId(ada.account_id.clone()),
        UserRef::ExternalId("idp \"ada\" \\ 1".into()),
        UserRef::Email("Ada@Example.com".into()),
    ] {
        let o = outcome(
            manage(
                &tenant,
                &user,
                &["jira-users", "research"],
                &[],
                ActionOptions { dry_run: true },
            )
            .await,
        );
        let resolved = o.user.expect("resolved");
        assert_eq!(resolved.scim_id, ada.scim_id, "{user:?}");
        assert_eq!(
            resolved.account_id.as_deref(),
            Some(ada.account_id.as_str()),
            "{user:?}"
        );
    }
}

#[tokio::test]
async fn a5_scim_only_config_manages_synced_groups_and_names_the_key_for_the_rest() {
    let sim = org().await;
    let tenant = sim_scim_only(&sim);
    let o = outcome(
        manage(
            &tenant,
            &email("alan@example.com"),
            &["research"],
            &[],
            APPLY,
        )
        .await,
    );
    assert!(o.completed);
    assert_eq!(sim.group_members("research"), ["alan@example.com"]);
    let inv = manage(
        &tenant,
        &email("alan@example.com"),
        &["jira-users"],
        &[],
        APPLY,
    )
    .await;
    match inv.result {
        Err(CallError::Connector(ConnectorError::NotFound(m))) => {
            assert!(
                m.contains("jira-users") && m.contains("admin_api_key"),
                "{m}"
            )
        }
        other => panic!("expected not-found naming admin_api_key, got {other:?}"),
    }
    let inv = manage(
        &tenant,
        &UserRef::AccountId("712020:x".into()),
        &["research"],
        &[],
        APPLY,
    )
    .await;
    match inv.result {
        Err(CallError::Connector(ConnectorError::InvalidConfig(e))) => {
            assert_eq!(e.key, "admin_api_key")
        }
        other => panic!("expected invalid-config, got {other:?}"),
    }
}
