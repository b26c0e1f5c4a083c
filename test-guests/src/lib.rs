//! A connector component that misbehaves on request, for the sandbox tests.
//!
//! `check-health` reads the `mode` setting and does one thing:
//! - `observe`: reports everything a guest can see (settings, secret names, environment,
//!   arguments) as probes, so a test can assert no secret value is among them;
//! - `fetch`: one request to the `url` setting, optionally with `auth` (`bearer:KEY` or
//!   `basic:USERKEY:SECRETKEY`), a raw `header` (`Name: value`), a `body_size` and a
//!   `timeout_ms`; the probe's target reports the status and the body's length;
//! - `flood`: one `send-all` of `count` requests to `url`;
//! - `spin`: loops forever; `grow`: allocates without bound; `panic`: panics.

use std::hint::black_box;

wit_bindgen::generate!({ path: "../wit/since_v0.1.0", world: "connector" });

use exports::lifecycle::connector::lifecycle::Guest;
use lifecycle::connector::http_client::{self, Auth, BasicAuth, Method, Request};
use lifecycle::connector::types::*;

struct Guest_;

fn setting<'a>(config: &'a Config, key: &str) -> Option<&'a str> {
    config
        .settings
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn probe(name: &str, credential: &str, target: String, status: ProbeStatus) -> Probe {
    Probe {
        name: name.into(),
        credential: credential.into(),
        target,
        status,
    }
}

fn request(config: &Config) -> Request {
    let auth = setting(config, "auth").and_then(|a| {
        let parts: Vec<&str> = a.split(':').collect();
        match parts.as_slice() {
            ["bearer", key] => Some(Auth::Bearer((*key).into())),
            ["basic", user, secret] => Some(Auth::Basic(BasicAuth {
                user_config_key: (*user).into(),
                secret_key: (*secret).into(),
            })),
            _ => None,
        }
    });
    let headers = setting(config, "header")
        .and_then(|h| h.split_once(':'))
        .map(|(n, v)| vec![(n.trim().into(), v.trim().into())])
        .unwrap_or_default();
    let body = setting(config, "body_size")
        .and_then(|n| n.parse::<usize>().ok())
        .map(|n| vec![b'x'; n]);
    Request {
        method: if body.is_some() {
            Method::Post
        } else {
            Method::Get
        },
        url: setting(config, "url").unwrap_or("").into(),
        headers,
        body,
        auth,
        timeout_ms: setting(config, "timeout_ms")
            .and_then(|t| t.parse().ok())
            .or(Some(5_000)),
    }
}

fn outcome(r: Result<http_client::Response, http_client::HttpError>) -> ProbeStatus {
    match r {
        Ok(resp) => {
            let body = String::from_utf8_lossy(&resp.body).into_owned();
            if resp.status < 400 {
                ProbeStatus::Ok
            } else {
                ProbeStatus::Failed(ConnectorError::Upstream(UpstreamError {
                    status: resp.status,
                    code: None,
                    message: body,
                }))
            }
        }
        Err(e) => ProbeStatus::Failed(ConnectorError::Other(format!("{e:?}"))),
    }
}

impl Guest for Guest_ {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            name: "test-guest".into(),
            version: "0.0.0".into(),
            contract_version: "0.1.0".into(),
            capabilities: vec![],
            config_schema: vec![],
        }
    }

    fn check_health(config: Config) -> Result<HealthReport, ConnectorError> {
        let mode = setting(&config, "mode").unwrap_or("observe").to_owned();
        let probes = match mode.as_str() {
            "observe" => {
                let mut probes = Vec::new();
                for (k, v) in &config.settings {
                    probes.push(probe("setting", k, v.clone(), ProbeStatus::Ok));
                }
                for name in &config.secrets {
                    probes.push(probe("secret-name", name, String::new(), ProbeStatus::Ok));
                }
                for (k, v) in std::env::vars() {
                    probes.push(probe("env", &k, v, ProbeStatus::Ok));
                }
                for a in std::env::args() {
                    probes.push(probe("arg", "", a, ProbeStatus::Ok));
                }
                probes
            }
            "fetch" => {
                let r = http_client::send(&request(&config));
                let seen = match &r {
                    Ok(resp) => format!("{} {}", resp.status, resp.body.len()),
                    Err(_) => String::new(),
                };
                vec![probe("fetch", "", seen, outcome(r))]
            }
            "flood" => {
                let n = setting(&config, "count")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1000);
                let reqs: Vec<Request> = (0..n).map(|_| request(&config)).collect();
                http_client::send_all(&reqs)
                    .into_iter()
                    .map(|r| probe("flood", "", String::new(), outcome(r)))
                    .collect()
            }
            "spin" => {
                let mut i: u64 = 0;
                loop {
                    i = black_box(i.wrapping_add(1));
                }
            }
            "grow" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    black_box(&hoard);
                }
            }
            "panic" => panic!("deliberate panic in the test guest"),
            other => {
                return Err(ConnectorError::InvalidInput(format!(
                    "unknown mode {other}"
                )));
            }
        };
        Ok(HealthReport {
            healthy: true,
            probes,
        })
    }

    fn sync_identity(_: Config, _: Identity, _: SyncOptions) -> Result<Outcome, ConnectorError> {
        Err(ConnectorError::Unsupported("test guest".into()))
    }
    fn manage_relationships(
        _: Config,
        _: UserRef,
        _: Vec<String>,
        _: Vec<String>,
        _: ActionOptions,
    ) -> Result<Outcome, ConnectorError> {
        Err(ConnectorError::Unsupported("test guest".into()))
    }
    fn deprovision_identity(
        _: Config,
        _: UserRef,
        _: ActionOptions,
    ) -> Result<Outcome, ConnectorError> {
        Err(ConnectorError::Unsupported("test guest".into()))
    }
    fn delete_identity(_: Config, _: UserRef, _: DeleteOptions) -> Result<Outcome, ConnectorError> {
        Err(ConnectorError::Unsupported("test guest".into()))
    }
    fn list_users(_: Config, _: PageRequest) -> Result<UserPage, ConnectorError> {
        Err(ConnectorError::Unsupported("test guest".into()))
    }
    fn list_groups(_: Config, _: PageRequest) -> Result<GroupPage, ConnectorError> {
        Err(ConnectorError::Unsupported("test guest".into()))
    }
    fn list_resources(
        _: Config,
        _: ResourceKind,
        _: PageRequest,
    ) -> Result<ResourcePage, ConnectorError> {
        Err(ConnectorError::Unsupported("test guest".into()))
    }
}

export!(Guest_);
