//! The host's limits, as the connector sees them through `http-client.limits`: batches split
//! to fit `max-batch`, writes past the request budget left for the next run (which finishes
//! them), and a call whose reads alone exceed the budget refused up front as `invalid-input`
//! naming the limit — never `policy-denied`, never a run that can never finish.

use host_harness::component::LoadBuiltin as _;
use std::collections::BTreeMap;
use std::path::PathBuf;

use atlassian_simulator::{SeedUser, Simulator};
use lifecycle_conformance::support::sim_tenant;
use lifecycle_host::bindings::types::{ActionOptions, ChangeStatus, ConnectorError, UserRef};
use lifecycle_host::limits::Limits;
use lifecycle_host::recorder::Exchange;
use lifecycle_host::{CallError, LoadedConnector, OperatorPolicy, Runtime, RuntimeOptions};

const APPLY: ActionOptions = ActionOptions { dry_run: false };
const ADA: &str = "ada@example.com";
const MAX_BATCH: usize = 16;
const MAX_REQUESTS: usize = 60;

/// The built-in connector on a host with tight limits: batches of 16, 4 in flight, 60
/// requests per invocation.
fn tight() -> LoadedConnector {
    let runtime = Runtime::new(RuntimeOptions {
        limits: Limits {
            max_batch: MAX_BATCH,
            send_all_concurrency: 4,
            max_requests: MAX_REQUESTS,
            ..Limits::default()
        },
        // The simulator listens on loopback: the operator allows it.
        operator: OperatorPolicy::local_simulator(),
        cache_dir: Some(PathBuf::from(concat!(
            env!("CARGO_TARGET_TMPDIR"),
            "/cli-cache/host-harness"
        ))),
        ..RuntimeOptions::default()
    })
    .expect("runtime");
    runtime.load_builtin().expect("built-in connector loads")
}

fn groups(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("team-{i:03}")).collect()
}

async fn org(n: usize, ada_member: bool) -> Simulator {
    let mut b = Simulator::builder().user(SeedUser::new(ADA));
    for (i, name) in groups(n).iter().enumerate() {
        let members: &[&str] = if ada_member { &[ADA] } else { &[] };
        b = if i % 2 == 0 {
            b.synced_group(name, members)
        } else {
            b.admin_group(name, members)
        };
    }
    b.start().await.expect("simulator starts")
}

fn largest_batch(exchanges: &[Exchange]) -> usize {
    let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
    for b in exchanges.iter().filter_map(|e| e.batch) {
        *sizes.entry(b).or_default() += 1;
    }
    sizes.values().copied().max().unwrap_or(0)
}

fn ada() -> UserRef {
    UserRef::Email(ADA.into())
}

#[tokio::test]
async fn c10_batches_fit_max_batch_and_writes_past_the_budget_finish_on_the_next_runs() {
    let connector = tight();
    let sim = org(40, false).await;
    let tenant = sim_tenant(&sim);
    let names = groups(40);
    let mut applied = 0;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 4, "the call never finished");
        let inv = connector
            .manage_groups(&tenant, &ada(), &names, &[], APPLY)
            .await;
        assert!(largest_batch(&inv.exchanges) <= MAX_BATCH);
        assert!(
            inv.exchanges.iter().all(Exchange::was_sent),
            "nothing refused"
        );
        assert!(inv.exchanges.len() <= MAX_REQUESTS);
        let o = inv.result.expect("manage-relationships");
        applied += o
            .changes
            .iter()
            .filter(|c| c.status == ChangeStatus::Applied)
            .count();
        for c in &o.changes {
            if let ChangeStatus::Failed(ConnectorError::Other(m)) = &c.status {
                assert!(
                    m.contains("not attempted") && m.contains("max-requests"),
                    "{m}"
                );
            }
        }
        if o.completed {
            break;
        }
    }
    assert!(runs > 1, "40 groups cannot fit one 60-request invocation");
    assert_eq!(applied, 40);
    let ada_now = sim.user_by_email(ADA).expect("Ada");
    assert_eq!(ada_now.groups.len(), 40, "every membership on a fresh read");
}

#[tokio::test]
async fn c10_reads_that_cannot_fit_the_budget_are_invalid_input_naming_the_limit() {
    let connector = tight();
    let sim = org(100, false).await;
    let inv = connector
        .manage_groups(&sim_tenant(&sim), &ada(), &groups(100), &[], APPLY)
        .await;
    match inv.result {
        Err(CallError::Connector(ConnectorError::InvalidInput(m))) => {
            assert!(
                m.contains("request budget") && m.contains("max-requests = 60"),
                "{m}"
            )
        }
        other => panic!("expected invalid-input naming the limit, got {other:?}"),
    }
    assert!(inv.exchanges.is_empty(), "refused before any request");
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn d6_deprovision_past_the_budget_removes_what_fits_and_the_rerun_finishes() {
    let connector = tight();
    let sim = org(80, true).await;
    let tenant = sim_tenant(&sim);
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 4, "deprovision never finished");
        let inv = connector.deprovision_identity(&tenant, &ada(), APPLY).await;
        assert!(largest_batch(&inv.exchanges) <= MAX_BATCH);
        assert!(
            inv.exchanges.iter().all(Exchange::was_sent),
            "nothing refused"
        );
        if inv.result.expect("deprovision").completed {
            break;
        }
        assert!(
            sim.user_by_email(ADA).expect("Ada").active,
            "memberships go first"
        );
    }
    assert!(runs > 1);
    let ada_now = sim.user_by_email(ADA).expect("Ada");
    assert!(ada_now.groups.is_empty(), "{:?}", ada_now.groups);
    assert!(!ada_now.active);
}
