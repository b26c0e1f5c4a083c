//! Many tenants on one host: 64 tenants with different secrets, run concurrently against
//! simulators that each accept only their own tokens. A secret crossing tenants would be a 401
//! there; none may happen, and every tenant's traffic stays on its own simulator.

mod common;

use atlassian_simulator::Simulator;
use common::*;
use futures::future::join_all;
use lifecycle_host::bindings::types::ProbeStatus;

const TENANTS: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tenants_concurrently_never_share_a_secret() {
    let sims = join_all((0..TENANTS).map(|_| async {
        Simulator::builder()
            .demo_org()
            .start()
            .await
            .expect("simulator starts")
    }))
    .await;
    // Each organization's key carries a label, so the key-expiry probe reads its own list too.
    let tenants: Vec<_> = sims
        .iter()
        .map(|sim| {
            sim.add_org_api_key("lifecycle-connector", 200);
            sim_tenant(sim).with_setting("admin_api_key_label", "lifecycle-connector")
        })
        .collect();
    // Every tenant's secrets are its own.
    let mut tokens: Vec<String> = tenants
        .iter()
        .map(|t| t.secrets.get("scim_token").unwrap().expose().to_owned())
        .collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), TENANTS);

    for round in 0..2 {
        let runs = join_all(tenants.iter().map(|t| connector().check_health(t))).await;
        for (i, inv) in runs.iter().enumerate() {
            let report = inv.result.as_ref().expect("health runs");
            for probe in &report.probes {
                assert_eq!(
                    probe.status,
                    ProbeStatus::Ok,
                    "round {round}, tenant {i}: {probe:?}"
                );
            }
            let own = sims[i].base_url();
            assert!(
                inv.exchanges.iter().all(|x| x.url.starts_with(own)),
                "tenant {i} left its host"
            );
            // Nothing a tenant's run recorded mentions any tenant's secret.
            let record = serde_json::to_string(&inv.exchanges).unwrap();
            for t in &tenants {
                for secret in t.secrets.values() {
                    assert!(!record.contains(secret.expose()));
                }
            }
        }
    }
    for (i, sim) in sims.iter().enumerate() {
        let log = sim.requests();
        assert_eq!(log.len(), 12, "tenant {i}: two health checks of six probes");
        assert!(log.iter().all(|r| r.status == 200), "tenant {i}: {log:#?}");
    }
}
