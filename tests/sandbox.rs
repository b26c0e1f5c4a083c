//! The sandbox, driven through the real host: what a component may import, what a guest can
//! see, and where its requests may go. Hostile behaviour comes from the `test-guests` component.

mod common;

use common::*;
use lifecycle_host::bindings::types::{ConnectorError, HealthReport, ProbeStatus};
use lifecycle_host::{CallError, InvokeError, LoadError, OperatorPolicy, Tenant};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn guest_tenant(base: &str) -> Tenant {
    full_tenant(base)
        .with_setting("product_user", "bot@example.com")
        .with_setting("site_url", base)
        .with_secret("product_token", PRODUCT_TOKEN)
}

async fn ok_server() -> MockServer {
    server_answering(ResponseTemplate::new(200).set_body_string("{}")).await
}

fn failure(report: &HealthReport) -> String {
    match &report.probes[0].status {
        ProbeStatus::Failed(ConnectorError::Other(m)) => m.clone(),
        other => panic!("expected a failed probe, got {other:?}"),
    }
}

#[test]
fn the_connector_imports_nothing_beyond_the_allow_list() {
    let info = connector().info();
    assert!(!info.imports.is_empty());
    for import in &info.imports {
        assert!(
            lifecycle_host::wasi::is_allowed_import(import),
            "unexpected import {import}"
        );
        for forbidden in ["wasi:filesystem", "wasi:sockets", "wasi:http"] {
            assert!(!import.starts_with(forbidden), "{import}");
        }
    }
}

#[test]
fn components_importing_filesystem_sockets_or_http_are_refused_at_load() {
    for import in [
        "wasi:filesystem/preopens@0.2.0",
        "wasi:sockets/tcp@0.2.3",
        "wasi:http/outgoing-handler@0.2.0",
        "lifecycle:connector/http-client@9.0.0",
    ] {
        let wat = format!(r#"(component (import "{import}" (instance)))"#);
        let bytes = wat::parse_str(&wat).expect("valid component text");
        match runtime().load(&bytes) {
            Err(LoadError::ForbiddenImport(name)) => assert_eq!(name, import),
            Err(other) => panic!("{import}: wrong error {other}"),
            Ok(_) => panic!("{import}: a forbidden import was accepted"),
        }
    }
}

#[test]
fn components_of_an_unknown_contract_version_are_refused_naming_the_versions_that_run() {
    let wat = r#"(component
        (instance $i)
        (export "lifecycle:connector/lifecycle@9.0.0" (instance $i)))"#;
    let bytes = wat::parse_str(wat).expect("valid component text");
    match runtime().load(&bytes) {
        Err(LoadError::UnsupportedContract(message)) => {
            assert!(message.contains("9.0.0"), "{message}");
            assert!(message.contains("0.1.0 and 0.2.0"), "{message}");
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("an unknown contract version was accepted"),
    }
    let nothing = wat::parse_str("(component)").expect("valid component text");
    match runtime().load(&nothing) {
        Err(LoadError::UnsupportedContract(message)) => {
            assert!(message.contains("not a lifecycle connector"), "{message}");
        }
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a component exporting nothing was accepted"),
    }
}

/// The permanent guard of the oldest contract: a component built against 0.1.0 (the test
/// guest, built from `wit/since_v0.1.0/`) loads and runs, its answers converted up.
#[tokio::test]
async fn a_component_built_against_contract_0_1_0_loads_and_runs() {
    assert_eq!(
        test_guest().contract_version(),
        lifecycle_host::bindings::ContractVersion::V0_1_0
    );
    let info = test_guest().describe().await.expect("describe");
    assert_eq!(info.contract_version, "0.1.0");
    // 0.1.0's fixed id fields arrive as namespaced ids.
    let namespaces: Vec<&str> = info.id_namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(namespaces, ["scim", "account", "group"]);
    let server = ok_server().await;
    let tenant = guest_tenant(&server.uri())
        .with_setting("mode", "fetch")
        .with_setting("url", scim_users_url(&server.uri()));
    let report = test_guest()
        .check_health(&tenant)
        .await
        .result
        .expect("runs");
    assert!(
        matches!(report.probes[0].status, ProbeStatus::Ok),
        "{report:?}"
    );
}

#[test]
fn the_built_in_connector_runs_through_the_binding_of_its_contract_version() {
    // The version read from its `lifecycle` export is the one its `http-client` import names.
    let imported = connector()
        .info()
        .imports
        .iter()
        .find_map(|i| i.strip_prefix("lifecycle:connector/http-client@"))
        .expect("it imports http-client");
    assert_eq!(connector().contract_version().as_str(), imported);
}

#[test]
fn non_components_are_refused_with_a_clear_error() {
    let err = runtime().load(b"not wasm at all").err().expect("refused");
    assert!(matches!(err, LoadError::Invalid(_)), "{err}");
}

#[tokio::test]
async fn a_guest_sees_secret_names_but_never_their_values() {
    let server = ok_server().await;
    let tenant = guest_tenant(&server.uri()).with_setting("mode", "observe");
    let inv = test_guest().check_health(&tenant).await;
    let report = inv.result.expect("observe mode succeeds");
    let seen = serde_json::to_string(&report).unwrap();
    assert_no_secret("what the guest observed", &seen);
    let secret_names: Vec<&str> = report
        .probes
        .iter()
        .filter(|p| p.name == "secret-name")
        .map(|p| p.credential.as_str())
        .collect();
    assert_eq!(
        secret_names,
        ["admin_api_key", "product_token", "scim_token"]
    );
    // The deny-all WASI context: no environment, no arguments.
    assert!(
        report
            .probes
            .iter()
            .all(|p| p.name != "env" && p.name != "arg")
    );
    assert!(inv.exchanges.is_empty());
}

#[tokio::test]
async fn secrets_are_injected_by_name_and_only_where_they_belong() {
    let server = ok_server().await;
    let scim_url = scim_users_url(&server.uri());
    let tenant = guest_tenant(&server.uri())
        .with_setting("mode", "fetch")
        .with_setting("url", &scim_url)
        .with_setting("auth", "bearer:scim_token");
    let inv = test_guest().check_health(&tenant).await;
    assert!(matches!(
        inv.result.unwrap().probes[0].status,
        ProbeStatus::Ok
    ));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {SCIM_TOKEN}")
    );
    assert_eq!(inv.exchanges[0].auth.as_deref(), Some("bearer scim_token"));
    assert_exchanges_clean(&inv.exchanges);

    // The org API key may not travel to the SCIM API, nor an unknown secret anywhere.
    for (auth, why) in [
        ("bearer:admin_api_key", "may not be sent"),
        ("bearer:no_such_secret", "no secret named"),
        ("basic:product_user:product_token", "may not be sent"),
    ] {
        let tenant = tenant.clone().with_setting("auth", auth);
        let inv = test_guest().check_health(&tenant).await;
        let message = failure(&inv.result.unwrap());
        assert!(
            message.contains("Denied") && message.contains(why),
            "{auth}: {message}"
        );
        assert!(!inv.exchanges[0].was_sent());
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "denied requests were sent"
    );
}

#[tokio::test]
async fn basic_credentials_are_assembled_by_the_host() {
    let server = ok_server().await;
    let tenant = guest_tenant(&server.uri())
        .with_setting("mode", "fetch")
        .with_setting("url", format!("{}/rest/api/3/project/search", server.uri()))
        .with_setting("auth", "basic:product_user:product_token");
    let inv = test_guest().check_health(&tenant).await;
    assert!(matches!(
        inv.result.unwrap().probes[0].status,
        ProbeStatus::Ok
    ));
    let received = server.received_requests().await.unwrap();
    let header = received[0]
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("bot@example.com:{PRODUCT_TOKEN}"));
    assert_eq!(header, format!("Basic {expected}"));
    assert_exchanges_clean(&inv.exchanges);
}

#[tokio::test]
async fn a_guest_cannot_set_credentials_or_routing_headers_itself() {
    let server = ok_server().await;
    let scim_url = scim_users_url(&server.uri());
    for header in [
        "Authorization: Bearer forged",
        "authorization: Basic Zm9yZ2Vk",
        "Proxy-Authorization: Bearer forged",
        "Cookie: session=forged",
        "Host: evil.example.com",
    ] {
        let tenant = guest_tenant(&server.uri())
            .with_setting("mode", "fetch")
            .with_setting("url", &scim_url)
            .with_setting("header", header);
        let inv = test_guest().check_health(&tenant).await;
        let message = failure(&inv.result.unwrap());
        assert!(
            message.contains("Denied") && message.contains("may not be set"),
            "{message}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_request_outside_the_allow_list_is_denied_and_never_sent() {
    let allowed = ok_server().await;
    let outside = ok_server().await;
    for url in [
        scim_users_url(&outside.uri()),
        format!("{}/scim/directory/other-directory/Users", allowed.uri()),
        format!("{}/somewhere/else", allowed.uri()),
        "https://example.com/exfiltrate".to_owned(),
        // Dot segments would be resolved away by the URL parser (here into the directory
        // itself, inside the grant): refused in the raw text.
        format!("{}/..", scim_users_url(&allowed.uri())),
        format!("{}/./u-1", scim_users_url(&allowed.uri())),
    ] {
        let tenant = guest_tenant(&allowed.uri())
            .with_setting("mode", "fetch")
            .with_setting("url", &url);
        let inv = test_guest().check_health(&tenant).await;
        let message = failure(&inv.result.unwrap());
        assert!(message.contains("Denied"), "{url}: {message}");
        assert_eq!(inv.exchanges.len(), 1);
        assert!(!inv.exchanges[0].was_sent(), "{url}");
    }
    assert!(outside.received_requests().await.unwrap().is_empty());
    assert!(allowed.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn plain_http_to_loopback_needs_the_operators_permission() {
    let server = ok_server().await;
    let tenant = guest_tenant(&server.uri())
        .with_setting("mode", "fetch")
        .with_setting("url", scim_users_url(&server.uri()));
    // The operator lists the server's address but does not allow loopback.
    let strict = test_guest()
        .with_operator(
            OperatorPolicy::default()
                .allowing_domain("127.0.0.1")
                .unwrap(),
        )
        .unwrap();
    let inv = strict.check_health(&tenant).await;
    assert!(failure(&inv.result.unwrap()).contains("plain http"));
    assert!(!inv.exchanges[0].was_sent());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_tenant_url_outside_the_operators_domains_is_invalid_config_before_the_guest_runs() {
    let server = ok_server().await;
    let tenant = guest_tenant(&server.uri())
        .with_setting("mode", "fetch")
        .with_setting("url", scim_users_url(&server.uri()));
    let strict = test_guest()
        .with_operator(host_harness::cli::default_operator_policy())
        .unwrap();
    let inv = strict.check_health(&tenant).await;
    match inv.result {
        Err(CallError::Connector(ConnectorError::InvalidConfig(e))) => {
            assert_eq!(e.key, "scim_url");
            assert!(e.message.contains("127.0.0.1"), "{}", e.message);
            assert!(
                e.message.contains("allowed upstream domains"),
                "{}",
                e.message
            );
        }
        other => panic!("expected invalid-config, got {other:?}"),
    }
    assert!(inv.exchanges.is_empty());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn oversized_request_bodies_are_refused_before_sending() {
    let server = ok_server().await;
    let limit = runtime().limits().max_request_bytes;
    let tenant = guest_tenant(&server.uri())
        .with_setting("mode", "fetch")
        .with_setting("url", scim_users_url(&server.uri()))
        .with_setting("body_size", (limit + 1).to_string());
    let inv = test_guest().check_health(&tenant).await;
    assert!(failure(&inv.result.unwrap()).contains("TooLarge"));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn send_all_runs_concurrently_and_is_bounded() {
    // The server answers nothing until all 16 requests are in flight at once: a host that sent
    // them one at a time would never get the first answer (the gate gives up with a 409, and
    // the guest's timeout is longer than the gate's patience). Ordering, not a clock.
    let server = GateServer::start(16).await;
    let url = scim_users_url(&server.uri);
    let tenant = guest_tenant(&server.uri)
        .with_setting("mode", "flood")
        .with_setting("url", &url)
        .with_setting("count", "16")
        .with_setting("timeout_ms", "30000");
    assert!(runtime().limits().request_timeout > GateServer::GIVE_UP);
    let inv = test_guest().check_health(&tenant).await;
    let report = inv.result.unwrap();
    assert_eq!(report.probes.len(), 16);
    for p in &report.probes {
        assert!(matches!(p.status, ProbeStatus::Ok), "{:?}", p.status);
    }
    assert_eq!(
        server.peak(),
        16,
        "the requests were not all in flight at once"
    );
    assert!(inv.exchanges.iter().all(|e| e.batch == Some(0)));
    assert!(inv.exchanges.iter().all(|e| e.attempts == 1));

    // A batch over the limit is refused whole as a host limit (not an egress denial), and
    // nothing is sent.
    let over = runtime().limits().max_batch + 1;
    let tenant = tenant.with_setting("count", over.to_string());
    let inv = test_guest().check_health(&tenant).await;
    let report = inv.result.unwrap();
    assert_eq!(report.probes.len(), over);
    assert!(report.probes.iter().all(
        |p| matches!(&p.status, ProbeStatus::Failed(ConnectorError::Other(m))
                if m.contains("host limit: a send-all of 257 requests exceeds max-batch (256)"))
    ));
    assert_eq!(server.received(), 16);
}

#[tokio::test]
async fn send_all_starts_the_next_request_whenever_any_is_answered() {
    // Twice the window, and the first request to arrive is held until every other one has:
    // a window that waited for its oldest answer before starting the next request would
    // stall behind it and never send the rest (the held request then gets a 409 after the
    // server's patience).
    let width = runtime().limits().send_all_concurrency;
    let n = 2 * width;
    assert!(n <= runtime().limits().max_batch);
    let server = HeadServer::start(n - 1).await;
    let tenant = guest_tenant(&server.uri)
        .with_setting("mode", "flood")
        .with_setting("url", scim_users_url(&server.uri))
        .with_setting("count", n.to_string())
        .with_setting("timeout_ms", "30000");
    assert!(runtime().limits().request_timeout > GateServer::GIVE_UP);
    let inv = test_guest().check_health(&tenant).await;
    let report = inv.result.unwrap();
    assert_eq!(report.probes.len(), n);
    for p in &report.probes {
        assert!(matches!(p.status, ProbeStatus::Ok), "{:?}", p.status);
    }
    assert_eq!(server.received(), n);
}

#[tokio::test]
async fn runaway_guests_fail_only_their_own_invocation() {
    let server = ok_server().await;
    let base = guest_tenant(&server.uri());
    let cases = [
        ("spin", "timeout"),
        ("grow", "out-of-memory"),
        ("panic", "guest-crash"),
    ];
    for (mode, class) in cases {
        let inv = test_guest()
            .check_health(&base.clone().with_setting("mode", mode))
            .await;
        match inv.result {
            Err(CallError::Host(e)) => {
                assert_eq!(e.class(), class, "{mode}: {e}");
                if let InvokeError::GuestCrash { message, .. } = &e {
                    assert!(
                        message.contains("deliberate panic"),
                        "message={message:?} error={e:?}"
                    );
                }
            }
            other => panic!("{mode}: expected a host error, got {other:?}"),
        }
        // The next invocation on the same runtime works.
        let ok = test_guest()
            .check_health(&base.clone().with_setting("mode", "observe"))
            .await;
        assert!(ok.result.is_ok(), "after {mode}");
    }
}

#[tokio::test]
async fn redirects_are_returned_to_the_guest_never_followed() {
    let server = MockServer::start().await;
    let elsewhere = ok_server().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/x", elsewhere.uri())),
        )
        .mount(&server)
        .await;
    let tenant = guest_tenant(&server.uri())
        .with_setting("mode", "fetch")
        .with_setting("url", scim_users_url(&server.uri()));
    let inv = test_guest().check_health(&tenant).await;
    assert_eq!(inv.result.unwrap().probes[0].target, "302 0");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_slow_answer_times_out_at_the_guests_deadline() {
    // The answer never comes in time for anyone (an hour). A GET that timed out is retried (it
    // is idempotent), so the guest sees its `Timeout` only after every attempt ended. Had any
    // attempt waited for the host's own per-request cap instead of the guest's 200 ms, the
    // attempts would outlast the invocation's wall-clock limit and the host would end the
    // invocation instead: the result proves the deadline without timing anything.
    let server = server_answering(
        ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(3600)),
    )
    .await;
    let tenant = guest_tenant(&server.uri())
        .with_setting("mode", "fetch")
        .with_setting("timeout_ms", "200")
        .with_setting("url", scim_users_url(&server.uri()));
    let limits = runtime().limits();
    assert!(limits.request_timeout * limits.retry.max_attempts >= limits.wall_time);
    let inv = test_guest().check_health(&tenant).await;
    let report = inv
        .result
        .expect("the guest's own deadline ends each attempt");
    assert!(failure(&report).contains("Timeout"));
    assert_eq!(inv.exchanges[0].attempts, limits.retry.max_attempts);
    assert_eq!(inv.exchanges[0].error.as_deref(), Some("timeout"));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        limits.retry.max_attempts as usize
    );
}

#[tokio::test]
async fn responses_over_the_cap_are_cut_off_as_too_large() {
    use lifecycle_host::limits::Limits;
    use lifecycle_host::{Runtime, RuntimeOptions};
    let runtime = Runtime::new(RuntimeOptions {
        limits: Limits {
            max_response_bytes: 4096,
            ..Limits::default()
        },
        operator: OperatorPolicy::local_simulator(),
        ..RuntimeOptions::default()
    })
    .unwrap();
    let guest =
        host_harness::component::with_legacy_egress(runtime.load(&test_guest_bytes()).unwrap());
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::path_regex("/big$"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(4097)))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::path_regex("/fits$"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(4096)))
        .mount(&server)
        .await;
    let base = format!("{}/scim/directory/{DIRECTORY}", server.uri());
    let fetch = |url: String| {
        guest_tenant(&server.uri())
            .with_setting("mode", "fetch")
            .with_setting("url", url)
    };
    let inv = guest.check_health(&fetch(format!("{base}/big"))).await;
    assert!(failure(&inv.result.unwrap()).contains("TooLarge"));
    let inv = guest.check_health(&fetch(format!("{base}/fits"))).await;
    assert_eq!(inv.result.unwrap().probes[0].target, "200 4096");
}

#[tokio::test]
async fn waiting_on_a_slow_upstream_does_not_count_as_guest_cpu_time() {
    use lifecycle_host::limits::Limits;
    use std::time::Duration;
    // The same fetch against an immediate answer first: its whole wall-clock time bounds the
    // CPU time the guest needs, on this machine, now. The budget is ten times that (at least
    // 300 ms), and the upstream then waits three budgets before answering: if waiting counted,
    // the invocation would be stopped long before the answer.
    let quick = ok_server().await;
    let fetch = |server: &str| {
        guest_tenant(server)
            .with_setting("mode", "fetch")
            .with_setting("url", scim_users_url(server))
    };
    let baseline = test_guest().check_health(&fetch(&quick.uri())).await;
    assert_eq!(baseline.result.unwrap().probes[0].target, "200 2");
    let budget = (baseline.elapsed * 10).max(Duration::from_millis(300));
    let wait = budget * 3;
    let guest = test_guest().with_limits(Limits {
        cpu_time: budget,
        ..runtime().limits().clone()
    });
    let server = server_answering(ResponseTemplate::new(200).set_delay(wait)).await;
    let tenant = fetch(&server.uri());
    let inv = guest.check_health(&tenant).await;
    assert_eq!(
        inv.result.unwrap().probes[0].target,
        "200 0",
        "budget {budget:?}, upstream wait {wait:?}"
    );
    assert!(inv.elapsed >= wait);
    // The same budget still stops a guest that really spins.
    let inv = guest
        .check_health(&tenant.with_setting("mode", "spin"))
        .await;
    assert!(matches!(
        inv.result,
        Err(CallError::Host(InvokeError::CpuTimeout(b))) if b == budget
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_guests_fail_alone_while_well_behaved_invocations_succeed() {
    let server = ok_server().await;
    let sim = atlassian_simulator::Simulator::builder()
        .demo_org()
        .start()
        .await
        .unwrap();
    let good_tenant = sim_tenant(&sim);
    let base = guest_tenant(&server.uri());
    let scim = scim_users_url(&server.uri());
    let hostile: Vec<(Tenant, &str)> = vec![
        (base.clone().with_setting("mode", "spin"), "timeout"),
        (base.clone().with_setting("mode", "grow"), "out-of-memory"),
        (base.clone().with_setting("mode", "panic"), "guest-crash"),
        (
            base.clone()
                .with_setting("mode", "fetch")
                .with_setting("url", "https://example.com/exfiltrate"),
            "denied",
        ),
        (
            base.clone()
                .with_setting("mode", "fetch")
                .with_setting("url", &scim)
                .with_setting("header", "Authorization: Bearer forged"),
            "denied",
        ),
        (
            base.clone()
                .with_setting("mode", "fetch")
                .with_setting("url", &scim)
                .with_setting("body_size", "2000000"),
            "too-large",
        ),
        (
            base.clone()
                .with_setting("mode", "flood")
                .with_setting("url", &scim)
                .with_setting("count", "100000"),
            "host-limit",
        ),
    ];
    // Only `spin` is about the CPU budget. The others get one as long as the wall-clock limit,
    // so that on a busy machine (the budget counts time spent in `poll`, preemption included)
    // building 100,000 requests or filling 64 MiB still ends in its own class, not `timeout`.
    let patient = test_guest().with_limits(lifecycle_host::limits::Limits {
        cpu_time: runtime().limits().wall_time,
        ..runtime().limits().clone()
    });
    let bad = futures::future::join_all(hostile.iter().map(|(t, class)| {
        let guest = if *class == "timeout" {
            test_guest()
        } else {
            &patient
        };
        guest.check_health(t)
    }));
    let good = futures::future::join_all((0..8).map(|_| connector().check_health(&good_tenant)));
    let (bad, good) = tokio::join!(bad, good);

    for ((_, class), inv) in hostile.iter().zip(&bad) {
        let seen = match &inv.result {
            Err(CallError::Host(e)) => e.class().to_owned(),
            Ok(report) => match &report.probes[0].status {
                ProbeStatus::Failed(ConnectorError::Other(m)) if m.contains("Denied") => {
                    "denied".into()
                }
                ProbeStatus::Failed(ConnectorError::Other(m)) if m.contains("TooLarge") => {
                    "too-large".into()
                }
                ProbeStatus::Failed(ConnectorError::Other(m)) if m.contains("host limit:") => {
                    "host-limit".into()
                }
                other => format!("{other:?}"),
            },
            Err(other) => format!("{other:?}"),
        };
        assert_eq!(&seen, class);
    }
    for inv in &good {
        let report = inv
            .result
            .as_ref()
            .expect("a well-behaved invocation succeeds");
        assert!(report.healthy, "{report:?}");
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a hostile request was sent"
    );
}

/// The host's own work inside `send-all` (here an in-process upstream that holds each request
/// for 60 ms inside the host call: 16 × 60 ms = 960 ms of poll time) is not the guest's CPU
/// time: a 300 ms budget still lets the guest finish. A spinning guest still meets it.
#[tokio::test]
async fn host_work_inside_http_calls_is_not_guest_cpu_time() {
    use lifecycle_host::bindings::http_client::Response;
    use lifecycle_host::http_client::Upstream;
    use lifecycle_host::limits::Limits;
    use lifecycle_host::{Runtime, RuntimeOptions};
    let upstream = Upstream::in_process(|_| {
        std::thread::sleep(std::time::Duration::from_millis(60));
        Response {
            status: 200,
            headers: Vec::new(),
            body: b"{}".to_vec(),
        }
    });
    let runtime = Runtime::with_upstream(
        RuntimeOptions {
            limits: Limits {
                cpu_time: std::time::Duration::from_millis(300),
                send_all_concurrency: 1,
                ..Limits::default()
            },
            operator: OperatorPolicy::local_simulator(),
            ..RuntimeOptions::default()
        },
        upstream,
    )
    .unwrap();
    let guest =
        host_harness::component::with_legacy_egress(runtime.load(&test_guest_bytes()).unwrap());
    let base = "http://127.0.0.1:9";
    let tenant = guest_tenant(base)
        .with_setting("mode", "flood")
        .with_setting("url", scim_users_url(base))
        .with_setting("count", "16");
    let inv = guest.check_health(&tenant).await;
    let report = inv
        .result
        .expect("host time does not count against the guest");
    assert_eq!(report.probes.len(), 16);
    assert!(inv.elapsed >= std::time::Duration::from_millis(960));
    let spin = guest
        .check_health(&guest_tenant(base).with_setting("mode", "spin"))
        .await;
    assert!(
        matches!(
            spin.result,
            Err(CallError::Host(InvokeError::CpuTimeout(_)))
        ),
        "{:?}",
        spin.result
    );
}
