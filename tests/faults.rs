//! Conformance cases H1–H5 (faults and limits), through the real component in the real host
//! against the simulator's scripted faults. (H6, runaway guests, is in `tests/sandbox.rs`.)

mod common;

use std::time::Duration;

use common::*;
use host_harness::bindings::types::{ConnectorError, HealthReport, ProbeStatus};
use host_harness::limits::Limits;
use host_harness::retry::RetryPolicy;
use host_harness::simulator::{Fault, RetryHint, Route, Simulator};
use host_harness::{LoadedConnector, Runtime, RuntimeOptions, Tenant};

/// A connector on a runtime with a short retry budget, so exhausted-budget cases stay fast.
fn impatient_connector() -> LoadedConnector {
    let runtime = Runtime::new(RuntimeOptions {
        limits: Limits {
            retry: RetryPolicy {
                max_attempts: 3,
                max_total_wait: Duration::from_secs(3),
                base_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(200),
            },
            max_response_bytes: 64 << 10,
            ..Limits::default()
        },
        ..RuntimeOptions::default()
    })
    .unwrap();
    runtime.load_builtin().unwrap()
}

async fn sim() -> Simulator {
    Simulator::builder().demo_org().start().await.unwrap()
}

fn scim_probe(report: &HealthReport) -> &ProbeStatus {
    &report
        .probes
        .iter()
        .find(|p| p.name == "scim")
        .unwrap()
        .status
}

fn scim_reads(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/Users"))
        .count()
}

#[tokio::test]
async fn h1_rate_limits_are_waited_out_for_at_least_the_hint() {
    for (name, hint, at_least) in [
        (
            "Retry-After seconds",
            RetryHint::Seconds(1),
            Duration::from_secs(1),
        ),
        (
            "Retry-After HTTP date",
            RetryHint::HttpDate(2),
            Duration::from_secs(1),
        ),
        (
            "X-RateLimit-Reset",
            RetryHint::RateLimitReset(2),
            Duration::from_secs(1),
        ),
    ] {
        let sim = sim().await;
        sim.fault(
            Route::scim("/Users").method("GET"),
            Fault::RateLimited(hint),
            1,
        );
        let inv = connector().check_health(&sim_tenant(&sim)).await;
        let report = inv.result.expect("health runs");
        assert_eq!(scim_probe(&report), &ProbeStatus::Ok, "{name}");
        let x = inv
            .exchanges
            .iter()
            .find(|e| e.url.contains("/Users"))
            .unwrap();
        assert_eq!(x.attempts, 2, "{name}");
        assert!(
            x.retry_wait >= at_least,
            "{name}: waited only {:?}",
            x.retry_wait
        );
        assert_eq!(scim_reads(&sim), 2, "{name}");
    }
}

#[tokio::test]
async fn h1_a_rate_limited_create_is_retried_and_creates_exactly_once() {
    use host_harness::bindings::types::{Identity, SyncOptions};
    let sim = sim().await;
    sim.fault(
        Route::scim("/Users").method("POST"),
        Fault::RateLimited(RetryHint::Seconds(1)),
        1,
    );
    let who = Identity {
        email: "new.hire@example.com".into(),
        name: None,
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
        .sync_identity(&sim_tenant(&sim), &who, options)
        .await;
    assert!(inv.result.expect("sync runs").completed);
    assert_eq!(sim.count("POST", "/scim/"), 2, "one 429, one success");
    assert_eq!(
        sim.users()
            .iter()
            .filter(|u| u.email == "new.hire@example.com")
            .count(),
        1
    );
}

#[tokio::test]
async fn h2_limits_that_never_clear_end_with_the_hint_after_bounded_attempts() {
    let connector = impatient_connector();
    let sim = sim().await;
    sim.fault_always(
        Route::scim("/Users").method("GET"),
        Fault::RateLimited(RetryHint::Seconds(1)),
    );
    let started = std::time::Instant::now();
    let inv = connector.check_health(&sim_tenant(&sim)).await;
    let report = inv.result.expect("health runs");
    match scim_probe(&report) {
        ProbeStatus::Failed(ConnectorError::RateLimited(r)) => {
            assert_eq!(r.retry_after_ms, Some(1000), "{r:?}")
        }
        other => panic!("expected rate-limited, got {other:?}"),
    }
    assert_eq!(scim_reads(&sim), 3, "bounded attempts");
    assert!(started.elapsed() < Duration::from_secs(5), "bounded wait");

    let sim = self::sim().await;
    sim.fault_always(
        Route::scim("/Users").method("GET"),
        Fault::Unavailable {
            retry_after: Some(1),
        },
    );
    let report = connector
        .check_health(&sim_tenant(&sim))
        .await
        .result
        .expect("health runs");
    match scim_probe(&report) {
        ProbeStatus::Failed(ConnectorError::Unavailable(m)) => {
            assert!(m.contains("1000") || m.contains("retry"), "{m}")
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert_eq!(scim_reads(&sim), 3);
}

#[tokio::test]
async fn h3_client_errors_are_never_retried() {
    for status in [400u16, 401, 403, 404, 409] {
        let sim = sim().await;
        sim.fault(
            Route::scim("/Users").method("GET"),
            Fault::Status(status),
            1,
        );
        let inv = connector().check_health(&sim_tenant(&sim)).await;
        let report = inv.result.expect("health runs");
        assert!(
            matches!(scim_probe(&report), ProbeStatus::Failed(_)),
            "{status}"
        );
        assert_eq!(scim_reads(&sim), 1, "{status} was retried");
        assert!(inv.exchanges.iter().all(|e| e.attempts == 1));
    }
}

#[tokio::test]
async fn h4_malformed_answers_are_upstream_errors_and_the_host_keeps_running() {
    let connector = impatient_connector();
    for (name, fault) in [
        ("malformed JSON", Fault::MalformedJson),
        ("HTML error page", Fault::HtmlErrorPage(200)),
        ("truncated body", Fault::TruncatedBody),
        ("oversized body", Fault::OversizedBody(100_000)),
    ] {
        let sim = sim().await;
        sim.fault(Route::scim("/Users").method("GET"), fault, 1);
        let report = connector
            .check_health(&sim_tenant(&sim))
            .await
            .result
            .expect("health runs");
        assert!(
            matches!(
                scim_probe(&report),
                ProbeStatus::Failed(ConnectorError::Upstream(_))
            ),
            "{name}: {:?}",
            scim_probe(&report)
        );
        // The same runtime answers the next call normally.
        let again = connector
            .check_health(&sim_tenant(&sim))
            .await
            .result
            .unwrap();
        assert_eq!(scim_probe(&again), &ProbeStatus::Ok, "{name}");
    }
}

#[tokio::test]
async fn h5_a_destination_the_host_refuses_is_denied_and_never_sent() {
    let sim = sim().await;
    let mut tenant: Tenant = sim_tenant(&sim);
    tenant.host.allow_http_loopback = false;
    let inv = connector().check_health(&tenant).await;
    let report = inv.result.expect("health runs");
    for probe in &report.probes {
        assert!(
            matches!(
                probe.status,
                ProbeStatus::Failed(ConnectorError::PolicyDenied(_))
            ),
            "{}: {:?}",
            probe.name,
            probe.status
        );
    }
    assert!(inv.exchanges.iter().all(|e| !e.was_sent()));
    assert!(
        sim.requests().is_empty(),
        "a denied request reached the server"
    );
}
