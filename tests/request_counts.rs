//! The number of requests each action makes in its common cases, measured from the host's
//! exchange records against the simulator, next to the fewest its semantics allow. The README's
//! request table is this test's output (`cargo test --test request_counts -- --nocapture`); the
//! assertions keep the two from drifting apart.

mod common;

use atlassian_simulator::{SeedUser, Simulator};
use common::*;
use lifecycle_host::bindings::types::{
    ActionOptions, DeleteOptions, Identity, PageRequest, SyncOptions, UserRef,
};
use lifecycle_host::recorder::{Exchange, round_trips};

/// Reads, writes and round trips on the critical path of one invocation: each `send-all`
/// batch is one round trip, each single `send` another.
fn measure(exchanges: &[Exchange]) -> (usize, usize, usize) {
    let writes = exchanges.iter().filter(|e| e.is_write()).count();
    (exchanges.len() - writes, writes, round_trips(exchanges))
}

struct Row {
    action: &'static str,
    case: &'static str,
    measured: (usize, usize, usize),
    fewest: (usize, usize, usize),
}

fn identity(email: &str, display: &str) -> Identity {
    Identity {
        email: email.into(),
        name: Some("Grace Hopper".into()),
        given_name: None,
        family_name: None,
        display_name: Some(display.into()),
        external_id: None,
    }
}

#[tokio::test]
async fn requests_per_action_in_the_common_cases() {
    let mut builder = Simulator::builder()
        .user(SeedUser::new("ada@example.com"))
        .user(SeedUser::new("leaver@example.com"))
        .user(SeedUser::new("gone@example.com"))
        .user(SeedUser::new("owner@example.com"))
        .admin_group("jira-users", &[])
        .admin_group("admins-a", &["leaver@example.com"])
        .admin_group("admins-b", &["leaver@example.com"])
        .synced_group("synced-a", &["leaver@example.com"])
        .synced_group("synced-b", &["leaver@example.com"]);
    let groups: Vec<String> = (1..=10).map(|i| format!("team-{i:02}")).collect();
    for (i, g) in groups.iter().enumerate() {
        builder = if i % 2 == 0 {
            builder.admin_group(g, &[])
        } else {
            builder.synced_group(g, &[])
        };
    }
    let sim = builder.start().await.unwrap();
    let tenant = sim_tenant(&sim);
    let sync = SyncOptions {
        create_missing: true,
        update_existing: true,
        dry_run: false,
    };
    let apply = ActionOptions { dry_run: false };
    let mut rows = Vec::new();

    let grace = identity("grace@example.com", "Grace");
    let inv = connector().sync_identity(&tenant, &grace, sync).await;
    rows.push(Row {
        action: "sync-identity",
        case: "new user",
        measured: measure(&inv.exchanges),
        fewest: (1, 1, 2),
    });
    let inv = connector().sync_identity(&tenant, &grace, sync).await;
    rows.push(Row {
        action: "sync-identity",
        case: "unchanged user",
        measured: measure(&inv.exchanges),
        fewest: (1, 0, 1),
    });
    let changed = identity("grace@example.com", "Amazing Grace");
    let inv = connector().sync_identity(&tenant, &changed, sync).await;
    rows.push(Row {
        action: "sync-identity",
        case: "one attribute changed",
        measured: measure(&inv.exchanges),
        fewest: (1, 1, 2),
    });
    let ada = UserRef::Email("ada@example.com".into());
    let inv = connector()
        .manage_groups(&tenant, &ada, &["jira-users".into()], &[], apply)
        .await;
    rows.push(Row {
        action: "manage-relationships",
        case: "add 1 group (admin-managed)",
        // user in SCIM, account id and memberships (admin user search), the group in SCIM
        // and in the admin API: independent, so one batch; then one write.
        measured: measure(&inv.exchanges),
        fewest: (4, 1, 2),
    });
    let inv = connector()
        .manage_groups(&tenant, &ada, &groups, &[], apply)
        .await;
    rows.push(Row {
        action: "manage-relationships",
        case: "add 10 groups (5 synced, 5 admin)",
        // SCIM filters allow one `eq` each: 10 group look-ups, plus user, user search and
        // one admin group search; then 10 writes in one batch.
        measured: measure(&inv.exchanges),
        fewest: (13, 10, 2),
    });

    let leaver = UserRef::Email("leaver@example.com".into());
    let inv = connector()
        .deprovision_identity(&tenant, &leaver, apply)
        .await;
    rows.push(Row {
        action: "deprovision-identity",
        case: "user in 2 admin + 2 synced groups",
        // user and its admin groups (one batch); the groups' directory ids and synced flags
        // (the expanded user carries neither); all removals in one batch; then, only once
        // they all succeeded, the role assignments (read after the removals, so roles that
        // came with a membership are gone) and, with no direct role, the deactivation.
        measured: measure(&inv.exchanges),
        fewest: (4, 5, 5),
    });
    let inv = connector()
        .deprovision_identity(&tenant, &leaver, apply)
        .await;
    rows.push(Row {
        action: "deprovision-identity",
        case: "again (nothing left to do)",
        measured: measure(&inv.exchanges),
        fewest: (3, 0, 2),
    });
    let owner = UserRef::Email("owner@example.com".into());
    for product in ["jira-software", "confluence"] {
        let ws = sim.workspace_id(product).unwrap();
        sim.grant_user_role("owner@example.com", &ws, "atlassian/admin", false);
        sim.add_api_token("owner@example.com", product).unwrap();
    }
    let with_tokens = tenant.clone().with_setting("revoke_api_tokens", "true");
    let inv = connector()
        .deprovision_identity(&with_tokens, &owner, apply)
        .await;
    rows.push(Row {
        action: "deprovision-identity",
        case: "2 direct roles, 2 API tokens, no groups (`revoke_api_tokens`)",
        // user and admin user (one batch); the role assignments; both revokes in one batch;
        // the preflight; the token list; both deletes in one batch; the deactivation.
        measured: measure(&inv.exchanges),
        fewest: (5, 5, 7),
    });
    let keep_account = DeleteOptions {
        purge_account: false,
        dry_run: false,
    };
    let inv = connector()
        .delete_identity(&tenant, &leaver, keep_account)
        .await;
    rows.push(Row {
        action: "delete-identity",
        case: "SCIM record",
        measured: measure(&inv.exchanges),
        fewest: (1, 1, 2),
    });
    let purge = DeleteOptions {
        purge_account: true,
        dry_run: false,
    };
    let gone = UserRef::Email("gone@example.com".into());
    let inv = connector().delete_identity(&tenant, &gone, purge).await;
    rows.push(Row {
        action: "delete-identity",
        case: "SCIM record and account (`purge-account`)",
        // the account id comes with the admin user search, beside the SCIM look-up; the
        // preflight before any write; the account goes only after its SCIM record.
        measured: measure(&inv.exchanges),
        fewest: (3, 2, 4),
    });
    let page = PageRequest {
        cursor: None,
        limit: Some(100),
    };
    let inv = connector().list_users(&tenant, &page).await;
    rows.push(Row {
        action: "list-users",
        case: "one page",
        measured: measure(&inv.exchanges),
        fewest: (1, 0, 1),
    });

    println!(
        "| action | case | reads | writes | round trips | fewest (reads / writes / round trips) |"
    );
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        let (reads, writes, trips) = r.measured;
        let (fr, fw, ft) = r.fewest;
        println!(
            "| `{}` | {} | {reads} | {writes} | {trips} | {fr} / {fw} / {ft} |",
            r.action, r.case
        );
    }
    for r in &rows {
        assert_eq!(r.measured, r.fewest, "{} / {}", r.action, r.case);
    }
}
