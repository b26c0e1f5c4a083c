//! The number of requests each action makes in its common cases, measured from the host's
//! exchange records against the simulator, next to the fewest its semantics allow. The README's
//! request table is this test's output (`cargo test --test request_counts -- --nocapture`); the
//! assertions keep the two from drifting apart.

mod common;

use common::*;
use host_harness::bindings::types::{ActionOptions, Identity, SyncOptions, UserRef};
use host_harness::recorder::Exchange;
use host_harness::simulator::{SeedUser, Simulator};

/// Reads, writes and round trips on the critical path of one invocation: each `send-all`
/// batch is one round trip, each single `send` another.
fn measure(exchanges: &[Exchange]) -> (usize, usize, usize) {
    let writes = exchanges.iter().filter(|e| e.is_write()).count();
    let mut batches: Vec<usize> = exchanges.iter().filter_map(|e| e.batch).collect();
    batches.sort_unstable();
    batches.dedup();
    let singles = exchanges.iter().filter(|e| e.batch.is_none()).count();
    (exchanges.len() - writes, writes, batches.len() + singles)
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
        .admin_group("jira-users", &[]);
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
        .manage_relationships(&tenant, &ada, &["jira-users".into()], &[], apply)
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
        .manage_relationships(&tenant, &ada, &groups, &[], apply)
        .await;
    rows.push(Row {
        action: "manage-relationships",
        case: "add 10 groups (5 synced, 5 admin)",
        // SCIM filters allow one `eq` each: 10 group look-ups, plus user, user search and
        // one admin group search; then 10 writes in one batch.
        measured: measure(&inv.exchanges),
        fewest: (13, 10, 2),
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
