//! Conformance cases A1–A6 (configuration and health), through the real component in the real
//! host, against wiremock stubs that answer as Atlassian does.

mod common;

use common::*;
use host_harness::bindings::types::{
    ConnectorError, DeleteOptions, HealthReport, Probe, ProbeStatus, UserRef,
};
use host_harness::{CallError, Tenant};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn scim_path() -> String {
    format!("/scim/directory/{DIRECTORY}/Users")
}

fn admin_path() -> String {
    format!("/admin/v2/orgs/{ORG}/directories")
}

fn list_response() -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 42, "startIndex": 1, "itemsPerPage": 1,
        "Resources": [{"id": "u1", "userName": "ada@example.com", "active": true}]
    })
}

/// A SCIM API that accepts only the right token, as Atlassian does.
async fn mount_scim(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(scim_path()))
        .and(query_param("startIndex", "1"))
        .and(query_param("count", "1"))
        .and(header(
            "authorization",
            format!("Bearer {SCIM_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(list_response()))
        .mount(server)
        .await;
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

fn invalid_config_key(result: Result<impl std::fmt::Debug, CallError>) -> String {
    match result {
        Err(CallError::Connector(ConnectorError::InvalidConfig(e))) => {
            assert!(!e.message.is_empty());
            e.key
        }
        other => panic!("expected invalid-config, got {other:?}"),
    }
}

#[tokio::test]
async fn a1_health_with_valid_scim_and_admin_credentials() {
    let server = MockServer::start().await;
    mount_scim(&server).await;
    mount_admin(&server).await;
    let inv = connector().check_health(&full_tenant(&server.uri())).await;
    let report = inv.result.expect("health runs");

    assert!(report.healthy, "{report:?}");
    assert_eq!(probe(&report, "scim").status, ProbeStatus::Ok);
    assert_eq!(probe(&report, "scim").credential, "scim_token");
    assert_eq!(probe(&report, "admin").status, ProbeStatus::Ok);
    assert_eq!(probe(&report, "admin").credential, "admin_api_key");
    for product in ["jira", "confluence", "bitbucket"] {
        assert!(matches!(
            probe(&report, product).status,
            ProbeStatus::Skipped(_)
        ));
    }
    // Only reads, each exactly once, and both in one batch (one round trip).
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|r| r.method.as_str() == "GET"));
    assert!(
        inv.exchanges
            .iter()
            .all(|e| e.method == "GET" && !e.is_write())
    );
    assert!(inv.exchanges.iter().all(|e| e.batch.is_some()));
    assert_exchanges_clean(&inv.exchanges);
    assert_no_secret("the report", &serde_json::to_string(&report).unwrap());
}

#[tokio::test]
async fn a1_health_probes_every_product_credential_with_basic_auth() {
    use base64::Engine as _;
    let server = MockServer::start().await;
    mount_scim(&server).await;
    mount_admin(&server).await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("bot@example.com:{PRODUCT_TOKEN}"))
    );
    for (route, body) in [
        (
            "/rest/api/3/project/search".to_owned(),
            json!({"values": [], "isLast": true, "startAt": 0, "total": 0}),
        ),
        (
            "/wiki/api/v2/spaces".to_owned(),
            json!({"results": [], "_links": {}}),
        ),
        (
            "/2.0/repositories/acme".to_owned(),
            json!({"values": [], "pagelen": 1}),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(route))
            .and(header("authorization", basic.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    let tenant = full_tenant(&server.uri())
        .with_setting("site_url", server.uri())
        .with_setting("bitbucket_api_url", server.uri())
        .with_setting("bitbucket_workspace", "acme")
        .with_setting("product_user", "bot@example.com")
        .with_secret("product_token", PRODUCT_TOKEN);
    let inv = connector().check_health(&tenant).await;
    let report = inv.result.expect("health runs");
    assert!(report.healthy, "{report:?}");
    for name in ["scim", "admin", "jira", "confluence", "bitbucket"] {
        assert_eq!(probe(&report, name).status, ProbeStatus::Ok, "{name}");
    }
    assert_eq!(probe(&report, "jira").credential, "product_token");
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
    assert_exchanges_clean(&inv.exchanges);
}

#[tokio::test]
async fn a2_malformed_config_is_refused_naming_the_key_before_any_request() {
    let server = MockServer::start().await;
    let base = server.uri();
    let dir_less = full_tenant(&base).with_setting("scim_url", format!("{base}/scim"));
    let mut missing_url = full_tenant(&base);
    missing_url.settings.remove("scim_url");
    let cases: Vec<(&str, Tenant, &[&str])> = vec![
        (
            "empty config",
            Tenant::default(),
            &["scim_url", "scim_token"],
        ),
        ("missing scim_url", missing_url, &["scim_url"]),
        (
            "http to a non-loopback host",
            full_tenant(&base).with_setting(
                "scim_url",
                format!("http://example.com/scim/directory/{DIRECTORY}"),
            ),
            &["scim_url"],
        ),
        (
            "no directory id with admin configured",
            dir_less,
            &["scim_url"],
        ),
        (
            "unknown key",
            full_tenant(&base).with_setting("scim_urll", "x"),
            &["scim_urll"],
        ),
        (
            "admin key without organization id",
            scim_only_tenant(&base).with_secret("admin_api_key", ADMIN_KEY),
            &["scim_organization_id"],
        ),
    ];
    for (case, tenant, keys) in cases {
        let inv = connector().check_health(&tenant).await;
        let key = invalid_config_key(inv.result);
        assert!(
            keys.contains(&key.as_str()),
            "{case}: named `{key}`, wanted {keys:?}"
        );
        assert!(inv.exchanges.is_empty(), "{case}: the guest made requests");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a3_wrong_scim_token_fails_the_scim_probe_without_retry() {
    let server = MockServer::start().await;
    mount_admin(&server).await;
    Mock::given(method("GET"))
        .and(path(scim_path()))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "Unauthorized", "traceId": "4f1e0c"})),
        )
        .mount(&server)
        .await;
    let inv = connector().check_health(&full_tenant(&server.uri())).await;
    let report = inv.result.expect("health runs");
    assert!(!report.healthy);
    match failed(probe(&report, "scim")) {
        ConnectorError::Unauthorized(m) => assert!(m.contains("scim_token"), "{m}"),
        other => panic!("expected unauthorized, got {other:?}"),
    }
    assert_eq!(probe(&report, "admin").status, ProbeStatus::Ok);
    let scim_requests = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == scim_path())
        .count();
    assert_eq!(scim_requests, 1, "a 401 must not be retried");
}

#[tokio::test]
async fn a4_bad_admin_key_is_named_and_told_apart_from_a_missing_permission() {
    for (status, unauthorized) in [(401u16, true), (403, false)] {
        let server = MockServer::start().await;
        mount_scim(&server).await;
        Mock::given(method("GET"))
            .and(path(admin_path()))
            .respond_with(ResponseTemplate::new(status).set_body_json(json!({
                "errors": [{"id": "e1", "status": status.to_string(), "code": "ADMIN-401",
                            "title": "denied", "detail": "The API key is not valid"}]
            })))
            .mount(&server)
            .await;
        let inv = connector().check_health(&full_tenant(&server.uri())).await;
        let report = inv.result.expect("health runs");
        assert!(!report.healthy);
        assert_eq!(
            probe(&report, "scim").status,
            ProbeStatus::Ok,
            "SCIM still passes"
        );
        let message = match (failed(probe(&report, "admin")), unauthorized) {
            (ConnectorError::Unauthorized(m), true) | (ConnectorError::Forbidden(m), false) => m,
            (other, _) => panic!("{status}: wrong class {other:?}"),
        };
        assert!(message.contains("admin_api_key"), "{message}");
        assert_no_secret("the admin probe message", message);
    }
}

#[tokio::test]
async fn a5_scim_only_config_is_healthy_and_admin_actions_name_the_missing_key() {
    let server = MockServer::start().await;
    mount_scim(&server).await;
    let tenant = scim_only_tenant(&server.uri());
    let inv = connector().check_health(&tenant).await;
    let report = inv.result.expect("health runs");
    assert!(report.healthy, "{report:?}");
    assert_eq!(probe(&report, "scim").status, ProbeStatus::Ok);
    match &probe(&report, "admin").status {
        ProbeStatus::Skipped(why) => assert!(why.contains("admin_api_key"), "{why}"),
        other => panic!("admin probe should be skipped, got {other:?}"),
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // Purging the account needs the user-management API, hence the org API key.
    let user = UserRef::Email("ada@example.com".into());
    let options = DeleteOptions {
        purge_account: true,
        dry_run: false,
    };
    let inv = connector().delete_identity(&tenant, &user, options).await;
    assert_eq!(invalid_config_key(inv.result), "admin_api_key");
    assert!(inv.exchanges.is_empty());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a6_wrong_directory_id_names_the_directory() {
    let server = MockServer::start().await;
    mount_admin(&server).await;
    Mock::given(method("GET"))
        .and(path(scim_path()))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "404", "detail": "Directory not found"
        })))
        .mount(&server)
        .await;
    let inv = connector().check_health(&full_tenant(&server.uri())).await;
    let report = inv.result.expect("health runs");
    assert!(!report.healthy);
    match failed(probe(&report, "scim")) {
        ConnectorError::NotFound(m) => assert!(m.contains(DIRECTORY), "{m}"),
        other => panic!("expected not-found, got {other:?}"),
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
async fn describe_publishes_the_config_schema() {
    let info = connector().describe().await.expect("describe");
    assert_eq!(info.name, "atlassian-cloud");
    assert_eq!(info.contract_version, "0.1.0");
    let key = |k: &str| {
        info.config_schema
            .iter()
            .find(|c| c.key == k)
            .unwrap_or_else(|| panic!("schema lacks {k}"))
    };
    assert!(key("scim_url").required && !key("scim_url").secret);
    assert!(key("scim_token").required && key("scim_token").secret);
    assert!(!key("admin_api_key").required && key("admin_api_key").secret);
    assert!(key("product_token").secret);
    for k in [
        "scim_organization_id",
        "atlassian_api_url",
        "site_url",
        "bitbucket_api_url",
        "product_user",
        "instance_name",
    ] {
        assert!(!key(k).secret && !key(k).description.is_empty(), "{k}");
    }
}
