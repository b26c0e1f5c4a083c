//! The exports (wasm32): `tenant.configure` reads the tenant from `wasi:config/store` and sets
//! the grants; `http-client` applies the rules to each request and hands it to [`outbound`].

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::grants::{Configured, Grants, Rule};
use crate::outbound::{self, Prepared};
use crate::rules::{self, Scrubber, limits};

#[allow(missing_docs)]
pub(crate) mod bindings {
    wit_bindgen::generate!({
        path: ["../../wit/since_v0.2.0", "../platform-wit"],
        world: "lifecycle:platform/http-adapter",
        generate_all,
    });
}

use bindings::exports::lifecycle::connector::http_client::{
    Auth, Guest as HttpClient, HostLimit, HostLimits, HttpError, Method, Request, Response,
};
use bindings::exports::lifecycle::platform::tenant::Guest as Tenant;
use bindings::lifecycle::connector::types::{Config, ConfigKind, ConnectorInfo};
use bindings::wasi::config::store;

/// The `wasi:config` key that lets plain http reach loopback (for a local simulator).
const ALLOW_LOOPBACK_KEY: &str = "adapter_allow_loopback_http";

/// The tenant of this instance, set by `configure`.
struct State {
    grants: Grants,
    settings: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
    scrubber: Scrubber,
    dry_run: bool,
    requests: u32,
}

impl Configured for State {
    fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }
    fn is_set(&self, key: &str) -> bool {
        self.settings.contains_key(key) || self.secrets.contains_key(key)
    }
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

fn config_error(key: &str, e: store::Error) -> String {
    let why = match e {
        store::Error::Upstream(s) | store::Error::Io(s) => s,
    };
    format!("wasi:config could not read `{key}`: {why}")
}

struct Adapter;

impl Tenant for Adapter {
    fn configure(info: ConnectorInfo, dry_run: bool) -> Result<Config, String> {
        let mut settings = BTreeMap::new();
        let mut secrets = BTreeMap::new();
        let mut defaults = Vec::new();
        for key in &info.config_schema {
            if let (ConfigKind::Url, Some(d)) = (&key.kind, &key.default) {
                defaults.push((key.key.clone(), d.clone()));
            }
            // An empty value is unset: platforms whose variables need a default (Spin) give
            // optional keys `""`.
            let Some(value) = store::get(&key.key)
                .map_err(|e| config_error(&key.key, e))?
                .filter(|v| !v.is_empty())
            else {
                continue;
            };
            if matches!(key.kind, ConfigKind::Secret) {
                if value.chars().any(char::is_control) {
                    return Err(format!(
                        "secret `{}` has a control character in it",
                        key.key
                    ));
                }
                secrets.insert(key.key.clone(), value);
            } else {
                settings.insert(key.key.clone(), value);
            }
        }
        let allow_loopback = store::get(ALLOW_LOOPBACK_KEY)
            .map_err(|e| config_error(ALLOW_LOOPBACK_KEY, e))?
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let rules: Vec<Rule> = info
            .egress
            .into_iter()
            .map(|r| Rule {
                url_key: r.url_key,
                path_prefix: r.path_prefix,
                secrets: r.secrets,
                enabled_by: r.enabled_by,
            })
            .collect();
        let mut state = State {
            grants: Grants::default(),
            scrubber: Scrubber::new(
                secrets.values().map(String::as_str),
                settings.values().map(String::as_str),
            ),
            settings,
            secrets,
            dry_run,
            requests: 0,
        };
        state.grants = Grants::new(&rules, &defaults, &state, allow_loopback);
        let config = Config {
            settings: state
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            secrets: state.secrets.keys().cloned().collect(),
        };
        STATE.with(|s| *s.borrow_mut() = Some(state));
        Ok(config)
    }
}

fn method_name(m: &Method) -> Result<String, String> {
    Ok(match m {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Patch => "PATCH".into(),
        Method::Delete => "DELETE".into(),
        Method::Other(token) => {
            rules::check_method_token(token)?;
            token.clone()
        }
    })
}

impl State {
    /// Applies every rule to one request, in our host's order.
    fn prepare(&mut self, r: Request) -> Result<Prepared, HttpError> {
        if self.requests >= limits::MAX_REQUESTS {
            return Err(HttpError::LimitExceeded(HostLimit::MaxRequests));
        }
        self.requests += 1;
        let method = method_name(&r.method).map_err(HttpError::Denied)?;
        if self.dry_run && rules::is_write(&method, r.read_only) {
            return Err(HttpError::Denied(
                "a dry run sends only reads (GET, HEAD, or requests marked read-only)".into(),
            ));
        }
        let secret_key = match &r.auth {
            Some(Auth::Bearer(k)) => Some(k.as_str()),
            Some(Auth::Basic(b)) => Some(b.secret_key.as_str()),
            None => None,
        };
        if let Some(k) = secret_key
            && !self.secrets.contains_key(k)
        {
            return Err(HttpError::Denied(format!(
                "the tenant has no secret named `{k}`"
            )));
        }
        let url = self
            .grants
            .check(&r.url, secret_key)
            .map_err(HttpError::Denied)?;
        rules::check_headers(&r.headers).map_err(HttpError::Denied)?;
        if r.body.as_ref().map_or(0, Vec::len) > limits::MAX_REQUEST_BYTES {
            return Err(HttpError::TooLarge);
        }
        let mut headers: Vec<(String, Vec<u8>)> = r
            .headers
            .into_iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.into_bytes()))
            .collect();
        let authorization = match &r.auth {
            None => None,
            Some(Auth::Bearer(k)) => self.secrets.get(k).map(|s| format!("Bearer {s}")),
            Some(Auth::Basic(b)) => {
                let user = self.settings.get(&b.user_config_key).ok_or_else(|| {
                    HttpError::Denied(format!(
                        "the tenant has no setting named `{}`",
                        b.user_config_key
                    ))
                })?;
                self.secrets
                    .get(&b.secret_key)
                    .map(|s| rules::basic(user, s))
            }
        };
        if let Some(value) = authorization {
            headers.push(("authorization".into(), value.into_bytes()));
        }
        let timeout_ms = r
            .timeout_ms
            .unwrap_or(limits::REQUEST_TIMEOUT_MS)
            .min(limits::REQUEST_TIMEOUT_MS);
        Ok(Prepared {
            method,
            url,
            headers,
            body: r.body,
            timeout_ms,
        })
    }
}

fn not_configured() -> HttpError {
    HttpError::Denied(
        "the adapter has no tenant: the front calls `tenant.configure` before the connector".into(),
    )
}

/// Runs `f` on the configured state.
fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> Option<T> {
    STATE.with(|s| s.borrow_mut().as_mut().map(f))
}

fn scrubbed(
    result: Result<Response, HttpError>,
    scrubber: &Scrubber,
) -> Result<Response, HttpError> {
    match result {
        Ok(r) => Ok(Response {
            status: r.status,
            headers: r
                .headers
                .into_iter()
                .map(|(n, v)| (n, scrubber.scrub_str(&v)))
                .collect(),
            body: scrubber.scrub(r.body),
        }),
        Err(HttpError::Transport(s)) => Err(HttpError::Transport(scrubber.scrub_str(&s))),
        Err(HttpError::Other(s)) => Err(HttpError::Other(scrubber.scrub_str(&s))),
        Err(e) => Err(e),
    }
}

impl HttpClient for Adapter {
    fn limits() -> HostLimits {
        let used = with_state(|s| s.requests).unwrap_or(0);
        HostLimits {
            max_batch: limits::MAX_BATCH,
            max_in_flight: limits::MAX_IN_FLIGHT,
            max_requests: limits::MAX_REQUESTS,
            requests_remaining: limits::MAX_REQUESTS.saturating_sub(used),
        }
    }

    fn send(request: Request) -> Result<Response, HttpError> {
        let (prepared, scrubber) =
            with_state(|s| (s.prepare(request), s.scrubber.clone())).ok_or_else(not_configured)?;
        let result = prepared
            .and_then(outbound::start)
            .and_then(outbound::finish);
        scrubbed(result, &scrubber)
    }

    fn send_all(requests: Vec<Request>) -> Vec<Result<Response, HttpError>> {
        let n = requests.len();
        if u32::try_from(n).map_or(true, |n| n > limits::MAX_BATCH) {
            return (0..n)
                .map(|_| Err(HttpError::LimitExceeded(HostLimit::MaxBatch)))
                .collect();
        }
        let Some((prepared, scrubber)) = with_state(|s| {
            let prepared: Vec<_> = requests.into_iter().map(|r| s.prepare(r)).collect();
            (prepared, s.scrubber.clone())
        }) else {
            return (0..n).map(|_| Err(not_configured())).collect();
        };
        let mut out = Vec::with_capacity(n);
        let mut queue = prepared.into_iter().peekable();
        while queue.peek().is_some() {
            // One wave: start up to `max-in-flight` requests, then collect their answers.
            let wave: Vec<_> = queue
                .by_ref()
                .take(limits::MAX_IN_FLIGHT as usize)
                .map(|p| p.and_then(outbound::start))
                .collect();
            for started in wave {
                out.push(scrubbed(started.and_then(outbound::finish), &scrubber));
            }
        }
        out
    }
}

bindings::export!(Adapter with_types_in bindings);
