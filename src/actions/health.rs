//! `check-health`: one read-only probe per configured credential, all sent in ONE
//! `send_all` batch (they are independent), each reported separately; with the admin API,
//! the organization key's expiry too ([`super::key_expiry`]).

use crate::wire::Ignored;

use crate::config::{
    ADMIN_API_KEY, BITBUCKET_WORKSPACE, ConnectorConfig, PRODUCT_TOKEN, PRODUCT_USER,
    SCIM_ORGANIZATION_ID, SCIM_TOKEN, SITE_URL,
};
use crate::error::ConnectorError;
use crate::model::{Config, HealthReport, Probe, ProbeStatus};
use crate::transport::{Auth, Request, Response, Transport};
use crate::upstream::{self, Api, Context};
use crate::{admin, products, scim};

/// Per-request timeout of every probe, in milliseconds.
pub const PROBE_TIMEOUT_MS: u32 = 10_000;

/// Validates `config`, then probes SCIM, admin, Jira, Confluence and Bitbucket (those
/// configured) with one GET each, in one batch. Fails as a whole only on a bad config.
pub fn check_health(
    config: &Config,
    transport: &dyn Transport,
) -> Result<HealthReport, ConnectorError> {
    let cfg = ConnectorConfig::parse(config)?;
    Ok(probe_all(&cfg, transport))
}

/// A probe to send: what to ask, and how to judge the 2xx answer.
struct Planned {
    probe: Probe,
    request: Request,
    api: Api,
    subject: String,
    validate: fn(&Response) -> Result<(), ConnectorError>,
}

enum Plan {
    Skip(Probe),
    Send(Planned),
}

fn skipped(name: &str, credential: &str, missing: &[&str], api: &str) -> Plan {
    Plan::Skip(Probe {
        name: name.to_string(),
        credential: credential.to_string(),
        target: String::new(),
        status: ProbeStatus::Skipped(format!(
            "not configured: set {} to probe the {api}",
            join_keys(missing)
        )),
    })
}

/// `a`, `a and b`, `a, b and c`.
fn join_keys(keys: &[&str]) -> String {
    let mut out = String::new();
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == keys.len() { " and " } else { ", " });
        }
        out.push_str(k);
    }
    out
}

fn send(
    name: &str,
    credential: &str,
    url: String,
    auth: Auth,
    api: Api,
    subject: String,
    validate: fn(&Response) -> Result<(), ConnectorError>,
) -> Plan {
    Plan::Send(Planned {
        probe: Probe {
            name: name.to_string(),
            credential: credential.to_string(),
            target: url.clone(),
            status: ProbeStatus::Ok,
        },
        request: Request::get(url, auth, PROBE_TIMEOUT_MS),
        api,
        subject,
        validate,
    })
}

fn product_auth() -> Auth {
    Auth::basic(PRODUCT_USER, PRODUCT_TOKEN)
}

fn plans(cfg: &ConnectorConfig) -> Vec<Plan> {
    let mut plans = Vec::with_capacity(5);

    let scim_subject = match &cfg.scim.directory_id {
        Some(id) => format!("SCIM directory `{id}` (the directory id in scim_url)"),
        None => format!("the SCIM directory at scim_url {}", cfg.scim.url),
    };
    plans.push(send(
        "scim",
        SCIM_TOKEN,
        scim::users_url(&cfg.scim.url, 1, 1),
        Auth::bearer(SCIM_TOKEN),
        Api::Scim,
        scim_subject,
        |r| upstream::read(Api::Scim, r, scim::parse_list::<Ignored>).map(drop),
    ));

    plans.push(match &cfg.admin {
        Some(a) => send(
            "admin",
            ADMIN_API_KEY,
            admin::directories_url(&a.api_url, &a.org_id),
            Auth::bearer(ADMIN_API_KEY),
            Api::Admin,
            format!("organization `{}` (scim_organization_id)", a.org_id),
            |r| upstream::parse_json::<admin::Page<Ignored>>(Api::Admin, r).map(drop),
        ),
        None => skipped(
            "admin",
            ADMIN_API_KEY,
            &[ADMIN_API_KEY, SCIM_ORGANIZATION_ID],
            "admin API",
        ),
    });

    let mut missing_creds: Vec<&str> = Vec::new();
    if !cfg.product_credentials {
        missing_creds.extend([PRODUCT_USER, PRODUCT_TOKEN]);
    }
    let site = cfg.site_url.as_deref().filter(|_| cfg.product_credentials);
    let site_missing = || {
        let mut m = missing_creds.clone();
        if cfg.site_url.is_none() {
            m.push(SITE_URL);
        }
        m
    };
    plans.push(match site {
        Some(site) => send(
            "jira",
            PRODUCT_TOKEN,
            products::jira_projects_url(site, 0, 1),
            product_auth(),
            Api::Jira,
            format!("Jira on site_url {site}"),
            |r| upstream::parse_json::<products::JiraProjectPage>(Api::Jira, r).map(drop),
        ),
        None => skipped("jira", PRODUCT_TOKEN, &site_missing(), "Jira API"),
    });
    plans.push(match site {
        Some(site) => send(
            "confluence",
            PRODUCT_TOKEN,
            products::confluence_spaces_url(site, 1, None),
            product_auth(),
            Api::Confluence,
            format!("Confluence on site_url {site}"),
            |r| upstream::parse_json::<products::ConfluenceSpacePage>(Api::Confluence, r).map(drop),
        ),
        None => skipped(
            "confluence",
            PRODUCT_TOKEN,
            &site_missing(),
            "Confluence API",
        ),
    });
    let workspace = cfg
        .bitbucket_workspace
        .as_deref()
        .filter(|_| cfg.product_credentials);
    plans.push(match workspace {
        Some(ws) => send(
            "bitbucket",
            PRODUCT_TOKEN,
            products::bitbucket_repositories_url(&cfg.bitbucket_api_url, ws, 1),
            product_auth(),
            Api::Bitbucket,
            format!("Bitbucket workspace `{ws}` (bitbucket_workspace)"),
            |r| {
                upstream::parse_json::<products::BitbucketRepositoryPage>(Api::Bitbucket, r)
                    .map(drop)
            },
        ),
        None => {
            let mut m = missing_creds.clone();
            if cfg.bitbucket_workspace.is_none() {
                m.push(BITBUCKET_WORKSPACE);
            }
            skipped("bitbucket", PRODUCT_TOKEN, &m, "Bitbucket API")
        }
    });
    plans
}

fn probe_all(cfg: &ConnectorConfig, transport: &dyn Transport) -> HealthReport {
    let plans = plans(cfg);
    let mut requests: Vec<Request> = Vec::new();
    for p in &plans {
        if let Plan::Send(s) = p {
            requests.push(s.request.clone());
        }
    }
    // The key's expiry rides in the same batch (its first page), after the probes.
    let label = cfg.admin_api_key_label.as_deref();
    if let (Some(a), Some(_)) = (&cfg.admin, label) {
        requests.push(super::key_expiry::request(a, None));
    }
    let mut results = if requests.is_empty() {
        Vec::new()
    } else {
        transport.send_all(requests)
    }
    .into_iter();

    let mut probes: Vec<Probe> = Vec::with_capacity(plans.len());
    for plan in plans {
        probes.push(match plan {
            Plan::Skip(probe) => probe,
            Plan::Send(s) => {
                let ctx = Context {
                    api: s.api,
                    credential: &s.probe.credential,
                    subject: &s.subject,
                };
                let status = match results.next() {
                    None => ProbeStatus::Failed(ConnectorError::Other(
                        "the host returned no result for this probe's request".to_string(),
                    )),
                    Some(result) => {
                        match upstream::check(&ctx, result).and_then(|r| (s.validate)(&r)) {
                            Ok(()) => ProbeStatus::Ok,
                            Err(e) => ProbeStatus::Failed(e),
                        }
                    }
                };
                Probe { status, ..s.probe }
            }
        });
    }
    if let Some(a) = &cfg.admin {
        probes.push(super::key_expiry::probe(
            a,
            label,
            transport,
            results.next(),
        ));
    }
    let healthy = !probes
        .iter()
        .any(|p| matches!(p.status, ProbeStatus::Failed(_)));
    HealthReport { probes, healthy }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{Call, FakeTransport, HttpError, Method};

    const SCIM: &str = "https://api.atlassian.com/scim/directory/dir-42";
    const SCIM_PROBE: &str =
        "https://api.atlassian.com/scim/directory/dir-42/Users?startIndex=1&count=1";
    const ADMIN_PROBE: &str = "https://api.atlassian.com/admin/v2/orgs/org-7/directories";
    const JIRA_PROBE: &str =
        "https://acme.atlassian.net/rest/api/3/project/search?startAt=0&maxResults=1";
    const CONFLUENCE_PROBE: &str = "https://acme.atlassian.net/wiki/api/v2/spaces?limit=1";
    const BITBUCKET_PROBE: &str = "https://api.bitbucket.org/2.0/repositories/acme?pagelen=1";

    const SCIM_OK: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":3,"startIndex":1,"itemsPerPage":1,"Resources":[{"id":"u1","userName":"a@b.com"}]}"#;
    const ADMIN_OK: &str = r#"{"data":[{"directoryId":"dir-42","name":"Main"}],"links":{}}"#;
    const UNAUTHORIZED: &str = r#"{"error":"Unauthorized","traceId":"abc"}"#;
    const FORBIDDEN: &str = r#"{"error":"Forbidden","traceId":"abc"}"#;

    fn scim_admin() -> Config {
        Config::new(
            &[("scim_url", SCIM), ("scim_organization_id", "org-7")],
            &["scim_token", "admin_api_key"],
        )
    }

    fn full() -> Config {
        Config::new(
            &[
                ("scim_url", SCIM),
                ("scim_organization_id", "org-7"),
                ("product_user", "bot@acme.com"),
                ("site_url", "https://acme.atlassian.net"),
                ("bitbucket_workspace", "acme"),
            ],
            &["scim_token", "admin_api_key", "product_token"],
        )
    }

    fn scim_only() -> Config {
        Config::new(&[("scim_url", SCIM)], &["scim_token"])
    }

    fn failed(report: &HealthReport, name: &str) -> ConnectorError {
        match report.probe(name).map(|p| &p.status) {
            Some(ProbeStatus::Failed(e)) => e.clone(),
            other => panic!("probe {name} did not fail: {other:?}"),
        }
    }

    fn status(report: &HealthReport, name: &str) -> ProbeStatus {
        report.probe(name).map(|p| p.status.clone()).expect(name)
    }

    #[test]
    fn all_ok_sends_one_batch_of_gets_with_the_right_auth() {
        let fake = FakeTransport::new();
        fake.on_get(SCIM_PROBE, 200, SCIM_OK)
            .on_get(ADMIN_PROBE, 200, ADMIN_OK)
            .on_get(JIRA_PROBE, 200, r#"{"values":[],"isLast":true}"#)
            .on_get(CONFLUENCE_PROBE, 200, r#"{"results":[],"_links":{}}"#)
            .on_get(BITBUCKET_PROBE, 200, r#"{"values":[],"pagelen":1}"#);
        let report = check_health(&full(), &fake).unwrap();
        assert!(report.healthy, "{report:?}");
        let names: Vec<&str> = report.probes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "scim",
                "admin",
                "jira",
                "confluence",
                "bitbucket",
                "admin-key-expiry"
            ]
        );
        assert!(
            report.probes[..5]
                .iter()
                .all(|p| p.status == ProbeStatus::Ok)
        );
        assert!(
            matches!(&report.probes[5].status, ProbeStatus::Unknown(m) if m.contains("admin_api_key_label")),
            "no label: unknown, and no request"
        );

        let calls = fake.calls();
        assert_eq!(calls.len(), 1, "exactly one batch");
        let Some(Call::SendAll(batch)) = calls.first() else {
            panic!("expected one send_all, got {calls:?}");
        };
        let urls: Vec<&str> = batch.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                SCIM_PROBE,
                ADMIN_PROBE,
                JIRA_PROBE,
                CONFLUENCE_PROBE,
                BITBUCKET_PROBE
            ]
        );
        assert!(
            batch
                .iter()
                .all(|r| r.method == Method::Get && r.body.is_none())
        );
        assert!(batch.iter().all(|r| r.timeout_ms == Some(PROBE_TIMEOUT_MS)));
        assert!(batch.iter().all(|r| {
            r.headers
                .iter()
                .all(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
        }));
        assert_eq!(batch[0].auth, Some(Auth::Bearer("scim_token".into())));
        assert_eq!(batch[1].auth, Some(Auth::Bearer("admin_api_key".into())));
        for r in &batch[2..] {
            assert_eq!(
                r.auth,
                Some(Auth::Basic {
                    user_config_key: "product_user".into(),
                    secret_key: "product_token".into()
                })
            );
        }
        let creds: Vec<&str> = report
            .probes
            .iter()
            .map(|p| p.credential.as_str())
            .collect();
        assert_eq!(
            creds,
            [
                "scim_token",
                "admin_api_key",
                "product_token",
                "product_token",
                "product_token",
                "admin_api_key"
            ]
        );
        assert_eq!(
            report.probe("scim").map(|p| p.target.as_str()),
            Some(SCIM_PROBE)
        );
    }

    #[test]
    fn scim_only_skips_admin_and_products_and_is_healthy() {
        let fake = FakeTransport::new();
        fake.on_get(SCIM_PROBE, 200, SCIM_OK);
        let report = check_health(&scim_only(), &fake).unwrap();
        assert!(report.healthy);
        assert_eq!(status(&report, "scim"), ProbeStatus::Ok);
        assert_eq!(
            status(&report, "admin"),
            ProbeStatus::Skipped(
                "not configured: set admin_api_key and scim_organization_id to probe the admin API"
                    .into()
            )
        );
        assert_eq!(
            status(&report, "jira"),
            ProbeStatus::Skipped("not configured: set product_user, product_token and site_url to probe the Jira API".into())
        );
        assert!(
            matches!(status(&report, "bitbucket"), ProbeStatus::Skipped(m) if m.contains("bitbucket_workspace"))
        );
        assert_eq!(fake.requests().len(), 1);
        assert!(matches!(fake.calls().as_slice(), [Call::SendAll(b)] if b.len() == 1));
    }

    #[test]
    fn a3_wrong_scim_token_is_unauthorized_naming_scim_token_admin_still_ok() {
        let fake = FakeTransport::new();
        fake.on_get(SCIM_PROBE, 401, UNAUTHORIZED)
            .on_get(ADMIN_PROBE, 200, ADMIN_OK);
        let report = check_health(&scim_admin(), &fake).unwrap();
        assert!(!report.healthy);
        assert_eq!(
            failed(&report, "scim"),
            ConnectorError::Unauthorized(
                "scim_token was refused by the SCIM API (401): Unauthorized".into()
            )
        );
        assert_eq!(status(&report, "admin"), ProbeStatus::Ok);
        assert_eq!(fake.requests().len(), 2, "no retry by the connector");
    }

    #[test]
    fn a4_bad_admin_key_unauthorized_vs_forbidden_scim_ok() {
        for (code, body) in [(401, UNAUTHORIZED), (403, FORBIDDEN)] {
            let fake = FakeTransport::new();
            fake.on_get(SCIM_PROBE, 200, SCIM_OK)
                .on_get(ADMIN_PROBE, code, body);
            let report = check_health(&scim_admin(), &fake).unwrap();
            assert!(!report.healthy);
            assert_eq!(status(&report, "scim"), ProbeStatus::Ok);
            let e = failed(&report, "admin");
            match (code, &e) {
                (401, ConnectorError::Unauthorized(m)) => assert_eq!(
                    m,
                    "admin_api_key was refused by the admin API (401): Unauthorized"
                ),
                (403, ConnectorError::Forbidden(m)) => assert_eq!(
                    m,
                    "admin_api_key lacks a permission or scope for the admin API (403): Forbidden"
                ),
                _ => panic!("{code} gave {e:?}"),
            }
        }
    }

    #[test]
    fn a6_scim_404_names_the_directory_id() {
        let fake = FakeTransport::new();
        fake.on_get(
            SCIM_PROBE,
            404,
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"Directory not found"}"#,
        );
        let report = check_health(&scim_only(), &fake).unwrap();
        assert_eq!(
            failed(&report, "scim"),
            ConnectorError::NotFound(
                "SCIM directory `dir-42` (the directory id in scim_url) was not found: the SCIM API answered 404: Directory not found".into()
            )
        );
        // Without a directory id in the URL, the URL itself is named.
        let fake = FakeTransport::new();
        fake.on_get("https://h.example/scim/Users?startIndex=1&count=1", 404, "");
        let cfg = Config::new(&[("scim_url", "https://h.example/scim")], &["scim_token"]);
        let report = check_health(&cfg, &fake).unwrap();
        assert!(
            matches!(failed(&report, "scim"), ConnectorError::NotFound(m) if m.contains("scim_url https://h.example/scim"))
        );
    }

    #[test]
    fn malformed_and_html_bodies_are_upstream_errors() {
        let cases = [
            ("<html><body>Service down</body></html>", "an HTML page"),
            ("{\"totalResults\":", "malformed SCIM API response"),
            (r#"{"Resources":[]}"#, "totalResults"),
            ("", "malformed SCIM API response"),
        ];
        for (body, expect) in cases {
            let fake = FakeTransport::new();
            fake.on(Method::Get, SCIM_PROBE, Ok(Response::new(200, body)));
            let report = check_health(&scim_only(), &fake).unwrap();
            assert!(!report.healthy);
            match failed(&report, "scim") {
                ConnectorError::Upstream(u) => {
                    assert_eq!(u.status, Some(200));
                    assert_eq!(u.code, None);
                    assert!(u.message.contains(expect), "{body:?}: {}", u.message);
                }
                other => panic!("{body:?}: {other:?}"),
            }
        }
        // The admin probe requires `data`.
        let fake = FakeTransport::new();
        fake.on_get(SCIM_PROBE, 200, SCIM_OK)
            .on_get(ADMIN_PROBE, 200, r#"{"items":[]}"#);
        let report = check_health(&scim_admin(), &fake).unwrap();
        assert!(
            matches!(failed(&report, "admin"), ConnectorError::Upstream(u) if u.message.contains("missing field `data`"))
        );
    }

    #[test]
    fn transport_errors_are_mapped_per_probe() {
        let cases = [
            (
                HttpError::Denied("host not on allow-list".into()),
                "policy-denied",
            ),
            (HttpError::Timeout, "unavailable"),
            (HttpError::TooLarge, "upstream-none"),
            (
                HttpError::Transport("connection reset".into()),
                "unavailable",
            ),
            (HttpError::Other("boom".into()), "other"),
        ];
        for (err, expect) in cases {
            let fake = FakeTransport::new();
            fake.on(Method::Get, SCIM_PROBE, Err(err.clone()))
                .on_get(ADMIN_PROBE, 200, ADMIN_OK);
            let report = check_health(&scim_admin(), &fake).unwrap();
            let kind = match failed(&report, "scim") {
                ConnectorError::PolicyDenied(m) => {
                    assert_eq!(m, "egress denied by host policy: host not on allow-list");
                    "policy-denied"
                }
                ConnectorError::Unavailable(_) => "unavailable",
                ConnectorError::Upstream(u) if u.status.is_none() => "upstream-none",
                ConnectorError::Other(_) => "other",
                other => panic!("{err:?}: {other:?}"),
            };
            assert_eq!(kind, expect, "{err:?}");
            assert_eq!(status(&report, "admin"), ProbeStatus::Ok);
        }
    }

    #[test]
    fn rate_limit_and_server_errors() {
        let fake = FakeTransport::new();
        fake.on(
            Method::Get,
            SCIM_PROBE,
            Ok(Response::new(429, "").with_header("Retry-After", "4")),
        )
        .on_get(ADMIN_PROBE, 503, r#"{"timestamp":"t","status":503,"error":"Service Unavailable","message":"maintenance"}"#);
        let report = check_health(&scim_admin(), &fake).unwrap();
        assert!(
            matches!(failed(&report, "scim"), ConnectorError::RateLimited(r) if r.retry_after_ms == Some(4000))
        );
        assert_eq!(
            failed(&report, "admin"),
            ConnectorError::Unavailable(
                "the admin API is unavailable (503): Service Unavailable: maintenance".into()
            )
        );
    }

    #[test]
    fn bad_config_fails_before_any_request() {
        let fake = FakeTransport::new();
        let cfg = Config::new(
            &[("scim_url", "http://api.atlassian.com/scim/directory/d")],
            &["scim_token"],
        );
        let e = check_health(&cfg, &fake).unwrap_err();
        assert_eq!(e.config_key(), Some("scim_url"));
        assert!(fake.calls().is_empty());
    }

    #[test]
    fn a_short_batch_answer_fails_the_probe_instead_of_panicking() {
        struct Short;
        impl Transport for Short {
            fn send(&self, _: Request) -> Result<Response, crate::transport::HttpError> {
                Err(crate::transport::HttpError::Other("unused".into()))
            }
            fn send_all(
                &self,
                _: Vec<Request>,
            ) -> Vec<Result<Response, crate::transport::HttpError>> {
                Vec::new()
            }
        }
        let report = check_health(&scim_admin(), &Short).unwrap();
        assert!(!report.healthy);
        assert!(matches!(failed(&report, "scim"), ConnectorError::Other(_)));
        assert!(matches!(failed(&report, "admin"), ConnectorError::Other(_)));
    }
}
