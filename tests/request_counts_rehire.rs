//! The requests of the way back and of suspension (docs/requests.md, "Reactivation and
//! suspension"), measured from the host's exchange records against the simulator, next to the
//! fewest the semantics allow: `cargo test --test request_counts_rehire -- --nocapture`. The
//! assertions keep the table and the code from drifting apart.

mod common;

use atlassian_simulator::{SeedUser, Simulator};
use common::*;
use lifecycle_host::bindings::types::{
    ActionOptions, Entitlement, ResourceRef, RoleGrant, UserRef,
};
use lifecycle_host::recorder::{Exchange, round_trips};

/// Reads, writes and round trips on the critical path of one invocation.
fn measure(exchanges: &[Exchange]) -> (usize, usize, usize) {
    let writes = exchanges.iter().filter(|e| e.is_write()).count();
    (exchanges.len() - writes, writes, round_trips(exchanges))
}

#[tokio::test]
async fn requests_of_reactivation_and_suspension() {
    let sim = Simulator::builder()
        .user(SeedUser::new("back@example.com").inactive())
        .user(SeedUser::new("ext@partner.example").without_scim())
        .synced_group("stale", &["back@example.com"])
        .synced_group("kept", &["back@example.com"])
        .admin_group("wanted", &["ext@partner.example"])
        .start()
        .await
        .unwrap();
    let tenant = sim_tenant(&sim);
    let apply = ActionOptions { dry_run: false };
    // (action, case, measured, expected today, fewest the semantics allow)
    let mut rows = Vec::new();

    let back = UserRef::Email("back@example.com".into());
    let desired = vec![
        Entitlement::Group("kept".into()),
        Entitlement::Group("wanted".into()),
        Entitlement::Role(RoleGrant {
            role: "user".into(),
            resource: ResourceRef {
                kind: "workspace".into(),
                id: "jira-software/simulated-site".into(),
            },
        }),
    ];
    let inv = connector()
        .reactivate_identity(&tenant, &back, &desired, apply)
        .await;
    assert!(inv.result.as_ref().is_ok_and(|o| o.completed), "{inv:?}");
    rows.push((
        "reactivate-identity",
        "SCIM user: 1 stale, 1 kept, 1 missing group, 1 role",
        measure(&inv.exchanges),
        // the user reads; the plan of the memberships (manage-relationships' own dry run,
        // which reads the user again); the workspaces and assignments; the reactivation; the
        // membership run (its reads again, then its writes); the grant.
        (16, 4, 7),
        // user + admin user; every group and the role resolved (one batch); the
        // reactivation; the memberships and the grant in one batch.
        (8, 4, 4),
    ));
    let inv = connector()
        .reactivate_identity(&tenant, &back, &desired, apply)
        .await;
    rows.push((
        "reactivate-identity",
        "again (nothing left to do)",
        measure(&inv.exchanges),
        (9, 0, 3),
        (7, 0, 2),
    ));
    let ext = UserRef::Email("ext@partner.example".into());
    let inv = connector().deprovision_identity(&tenant, &ext, apply).await;
    rows.push((
        "deprovision-identity",
        "no SCIM record, 1 admin group: suspended",
        measure(&inv.exchanges),
        // user + admin user; the groups search; the removal; the role assignments; the
        // directories; the suspension.
        (5, 2, 6),
        // the directories could ride with the first batch.
        (5, 2, 5),
    ));

    println!(
        "| action | case | reads | writes | round trips | fewest (reads / writes / round trips) |"
    );
    println!("|---|---|---|---|---|---|");
    for (action, case, (r, w, t), _, (fr, fw, ft)) in &rows {
        println!("| `{action}` | {case} | {r} | {w} | {t} | {fr} / {fw} / {ft} |");
    }
    for (action, case, measured, expected, _) in &rows {
        assert_eq!(measured, expected, "{action} / {case}");
    }
}
