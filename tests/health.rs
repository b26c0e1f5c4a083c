//! Health and describe where the simulator cannot stage it: SCIM answers that are not SCIM at
//! all, against wiremock stubs, and the published config schema and capabilities. (The
//! configuration and health cases A1–A6 are in `host-harness/tests/conformance.rs`.)

mod common;

use common::*;
use lifecycle_host::bindings::types::{
    Capability, ConfigKind, ConnectorError, HealthReport, Probe, ProbeStatus,
};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn scim_path() -> String {
    format!("/scim/directory/{DIRECTORY}/Users")
}

fn admin_path() -> String {
    format!("/admin/v2/orgs/{ORG}/directories")
}

async fn mount_admin(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(admin_path()))
        .and(header(
            "authorization",
            format!("Bearer {ADMIN_KEY}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"directoryId": DIRECTORY, "name": "Acme directory"}],
            "links": {}
        })))
        .mount(server)
        .await;
}

fn probe<'a>(report: &'a HealthReport, name: &str) -> &'a Probe {
    report
        .probes
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no `{name}` probe in {report:?}"))
}

fn failed(probe: &Probe) -> &ConnectorError {
    match &probe.status {
        ProbeStatus::Failed(e) => e,
        other => panic!("`{}` should have failed, got {other:?}", probe.name),
    }
}

#[tokio::test]
async fn health_answers_that_are_not_scim_are_upstream_errors() {
    for body in [
        ResponseTemplate::new(200).set_body_string("{\"truncated\": "),
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/html")
            .set_body_string("<html><body>Service maintenance</body></html>"),
        ResponseTemplate::new(200).set_body_json(json!({"unexpected": true})),
    ] {
        let server = MockServer::start().await;
        mount_admin(&server).await;
        Mock::given(method("GET"))
            .and(path(scim_path()))
            .respond_with(body)
            .mount(&server)
            .await;
        let report = connector()
            .check_health(&full_tenant(&server.uri()))
            .await
            .result
            .expect("health runs");
        assert!(matches!(
            failed(probe(&report, "scim")),
            ConnectorError::Upstream(_)
        ));
        assert_eq!(probe(&report, "admin").status, ProbeStatus::Ok);
    }
}

#[tokio::test]
async fn describe_publishes_the_config_schema_and_the_discover_capability() {
    let info = connector().describe().await.expect("describe");
    assert_eq!(info.name, "atlassian-cloud");
    assert_eq!(info.contract_version, "0.2.0");
    assert_eq!(connector().contract_version().as_str(), "0.2.0");
    // The connector declares the egress the harness had to declare for its 0.1.0 build.
    let declared = lifecycle_host::egress::Declaration::of(&info);
    assert_eq!(
        declared.rules(),
        host_harness::component::atlassian_v0_1_0().rules()
    );
    let namespaces: Vec<&str> = info.id_namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(namespaces, ["scim", "account", "group"]);
    let kinds: Vec<&str> = info
        .resource_kinds
        .iter()
        .map(|k| k.name.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "jira-project",
            "confluence-space",
            "bitbucket-repository",
            "workspace"
        ]
    );
    let key = |k: &str| {
        info.config_schema
            .iter()
            .find(|c| c.key == k)
            .unwrap_or_else(|| panic!("schema lacks {k}"))
    };
    let secret = |k: &str| matches!(key(k).kind, ConfigKind::Secret);
    assert!(key("scim_url").required && !secret("scim_url"));
    assert!(key("scim_token").required && secret("scim_token"));
    assert!(!key("admin_api_key").required && secret("admin_api_key"));
    assert!(secret("product_token"));
    assert!(info.capabilities.contains(&Capability::Discover));
    for k in [
        "scim_organization_id",
        "atlassian_api_url",
        "site_url",
        "bitbucket_api_url",
        "product_user",
        "instance_name",
    ] {
        assert!(!secret(k) && !key(k).description.is_empty(), "{k}");
    }
}
