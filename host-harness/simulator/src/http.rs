//! Request handling: parsing, routing by path, the fault decision, the log entry; what the
//! server ([`super::server`]) writes back (or that it drops the connection).

use super::faults::{Fault, RetryHint};
use super::log::LoggedRequest;
use super::state::State;
use super::{admin, auth, lifecycle, products, scim, util};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// The API a request belongs to (decided by its path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Api {
    /// `/scim/directory/{dirId}/…`
    Scim,
    /// `/admin/v2/orgs/{orgId}/…` (and the v1 user `roles/assign|revoke`)
    Admin,
    /// User management `/users/{accountId}/manage…` (lifecycle, preflight, API tokens) and
    /// SCIM-link look-ups.
    UserManagement,
    /// `/rest/api/3/…`
    Jira,
    /// `/wiki/api/v2/…`
    Confluence,
    /// `/2.0/repositories/{workspace}`
    Bitbucket,
    /// Anything else (404).
    Unknown,
}

pub(crate) type Shared = Arc<Mutex<State>>;

pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// A parsed request.
pub(crate) struct Req {
    pub method: String,
    pub raw_path: String,
    pub path: String,
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub raw_query: Option<String>,
    pub body: Vec<u8>,
    pub authorization: Option<String>,
    pub api: Api,
}

impl Req {
    /// Parses a request's head and its (already bounded) body; `None` when the target is not
    /// a URL (hyper accepts some request targets that `url` does not).
    pub fn parse(parts: &http::request::Parts, body: Vec<u8>) -> Option<Req> {
        // As wiremock did: an origin-form target on a fixed host, so `url` normalizes the path
        // (dot segments) the way every earlier version of the simulator saw it.
        let url: url::Url = match parts.uri.authority() {
            Some(_) => parts.uri.to_string(),
            None => format!("http://localhost{}", parts.uri),
        }
        .parse()
        .ok()?;
        let raw_path = url.path().to_string();
        let segs: Vec<String> = raw_path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let path = format!("/{}", segs.join("/"));
        let api = classify(&segs);
        Some(Req {
            method: parts.method.as_str().to_ascii_uppercase(),
            raw_path,
            path,
            segs,
            query: url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            raw_query: url.query().map(str::to_string),
            body,
            authorization: parts
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            api,
        })
    }

    /// First query parameter named `name` (case-sensitive, as servers do).
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A numeric query parameter; `Err` when present but not a number.
    pub fn q_num(&self, name: &str) -> Result<Option<i64>, String> {
        match self.q(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("query parameter {name} is not a number: {v}")),
        }
    }

    /// The body as JSON; an empty body is `Null`.
    pub fn json(&self) -> Result<Value, String> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("request body is not valid JSON: {e}"))
    }
}

fn classify(segs: &[String]) -> Api {
    let s = |i: usize| segs.get(i).map(String::as_str).unwrap_or("");
    match s(0) {
        "scim" if s(1) == "directory" && segs.len() >= 3 => Api::Scim,
        "admin" if matches!(s(1), "v1" | "v2") && s(2) == "orgs" && segs.len() >= 4 => Api::Admin,
        "admin" if s(1) == "user-provisioning" || s(1) == "api-access" => Api::UserManagement,
        "users" if s(2) == "manage" => Api::UserManagement,
        "rest" if s(1) == "api" => Api::Jira,
        "wiki" => Api::Confluence,
        "2.0" => Api::Bitbucket,
        _ => Api::Unknown,
    }
}

/// A response before the server writes it.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub content_type: Option<&'static str>,
}

impl Reply {
    pub fn json(status: u16, v: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: serde_json::to_vec(&v).unwrap_or_default(),
            content_type: Some("application/json"),
        }
    }
    pub fn scim(status: u16, v: Value) -> Reply {
        Reply {
            content_type: Some("application/scim+json"),
            ..Reply::json(status, v)
        }
    }
    /// A SCIM reply of an already serialized JSON body.
    pub fn scim_body(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
            content_type: Some("application/scim+json"),
        }
    }
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            content_type: None,
        }
    }
    pub fn header(mut self, k: &str, v: impl Into<String>) -> Reply {
        self.headers.push((k.to_string(), v.into()));
        self
    }
}

/// The error body each API uses for a generic status (faults, unknown routes).
pub(crate) fn generic_error(api: Api, status: u16, detail: &str, st: &State) -> Reply {
    match api {
        Api::Scim => scim::error(status, None, detail),
        Api::Admin => admin::error(st, status, &format!("ADMIN-{status}"), detail),
        Api::UserManagement => Reply::json(
            status,
            json!({"key": "error", "message": detail, "traceId": util::trace_id()}),
        ),
        Api::Jira => Reply::json(status, json!({"errorMessages": [detail], "errors": {}})),
        Api::Confluence => Reply::json(
            status,
            json!({"errors": [{"status": status, "code": reason(status), "title": detail}]}),
        ),
        Api::Bitbucket => Reply::json(
            status,
            json!({"type": "error", "error": {"message": detail}}),
        ),
        Api::Unknown => Reply::json(
            status,
            json!({"timestamp": util::now_iso(), "status": status, "error": reason(status), "message": detail}),
        ),
    }
}

pub(crate) fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

fn dispatch(st: &mut State, req: &Req) -> Reply {
    match req.api {
        Api::Scim => match auth::scim(st, req) {
            Err(r) => r,
            Ok(()) => scim::handle(st, req),
        },
        Api::Admin => match auth::admin(st, req) {
            Err(r) => r,
            Ok(()) => admin::handle(st, req),
        },
        Api::UserManagement => match auth::admin(st, req) {
            Err(r) => r,
            Ok(()) => lifecycle::handle(st, req),
        },
        Api::Jira | Api::Confluence | Api::Bitbucket => match auth::product(st, req) {
            Err(r) => r,
            Ok(()) => products::handle(st, req),
        },
        Api::Unknown => generic_error(Api::Unknown, 404, "No route matches this path", st),
    }
}

fn scim_base(st: &State) -> String {
    format!("/scim/directory/{}", st.dir_id)
}
fn admin_base(st: &State) -> String {
    format!("/admin/v2/orgs/{}", st.org_id)
}

/// Picks the fault for this request (consuming one count), if any.
fn decide(st: &mut State, req: &Req) -> Option<Fault> {
    let (sb, ab) = (scim_base(st), admin_base(st));
    let mut chosen = None;
    for rule in st.faults.iter_mut() {
        if rule.remaining == 0
            || !rule
                .route
                .matches(&req.method, req.api, &req.path, &sb, &ab)
        {
            continue;
        }
        if rule.skip > 0 {
            rule.skip -= 1;
            continue;
        }
        if rule.remaining != u32::MAX {
            rule.remaining -= 1;
        }
        chosen = Some(rule.fault.clone());
        break;
    }
    st.faults.retain(|r| r.remaining > 0);
    chosen
}

/// The reply of a fault that preempts the API; retry hints are counted from `now`.
fn fault_reply(st: &State, req: &Req, fault: &Fault, now: SystemTime) -> Reply {
    let api = req.api;
    match fault {
        Fault::RateLimited(hint) => {
            let mut r = generic_error(api, 429, "Rate limit exceeded", st);
            r = match hint {
                RetryHint::None => r,
                RetryHint::Seconds(n) => r.header("Retry-After", n.to_string()),
                RetryHint::HttpDate(n) => r.header(
                    "Retry-After",
                    httpdate::fmt_http_date(now + Duration::from_secs(*n)),
                ),
                RetryHint::RateLimitReset(n) => r
                    .header("X-RateLimit-Limit", "100")
                    .header("X-RateLimit-Remaining", "0")
                    .header(
                        "X-RateLimit-Reset",
                        util::iso_seconds(now + Duration::from_secs(*n)),
                    ),
                RetryHint::RateLimitResetMinutes(n) => r
                    .header("X-RateLimit-Limit", "100")
                    .header("X-RateLimit-Remaining", "0")
                    .header(
                        "X-RateLimit-Reset",
                        util::iso_minutes(now + Duration::from_secs(*n + 59)),
                    ),
            };
            r
        }
        Fault::Unavailable { retry_after } => {
            let r = generic_error(api, 503, "Service Unavailable", st);
            match retry_after {
                Some(n) => r.header("Retry-After", n.to_string()),
                None => r,
            }
        }
        Fault::Status(s) => generic_error(api, *s, reason(*s), st),
        Fault::HtmlErrorPage(s) => Reply {
            status: *s,
            headers: Vec::new(),
            body: format!(
                "<!DOCTYPE html>\n<html><head><title>{s} {r}</title></head><body><h1>{s} {r}</h1><p>The server encountered a temporary error.</p></body></html>\n",
                r = reason(*s)
            )
            .into_bytes(),
            content_type: Some("text/html; charset=utf-8"),
        },
        Fault::EchoAuthorization(s) => {
            let header = req.authorization.clone().unwrap_or_default();
            let raw = credential(&header);
            let token = raw.rsplit(':').next().unwrap_or_default().to_owned();
            let detail = format!(
                "invalid credentials: Authorization: {header} (credential {raw}, token {token})"
            );
            generic_error(api, *s, &detail, st)
                .header("X-Echo-Authorization", header.clone())
                .header(
                    "WWW-Authenticate",
                    format!("Bearer error=\"invalid_token\", token=\"{raw}\""),
                )
        }
        _ => generic_error(api, 500, "fault", st),
    }
}

/// The credential an `Authorization` header carries: a bearer token, or Basic's decoded
/// `user:token`.
fn credential(header: &str) -> String {
    use base64::Engine as _;
    match header.split_once(' ') {
        Some((scheme, value)) if scheme.eq_ignore_ascii_case("basic") => {
            base64::engine::general_purpose::STANDARD
                .decode(value.trim())
                .ok()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default()
        }
        Some((_, value)) => value.trim().to_owned(),
        None => header.to_owned(),
    }
}

fn spoil(reply: Reply, fault: &Fault) -> (Reply, Option<Duration>) {
    match fault {
        Fault::Latency(d) => (reply, Some(*d)),
        Fault::MalformedJson => (
            Reply {
                body: b"{\"schemas\": [\"urn:ietf:params:scim:api:messages:2.0:ListResponse\", \"totalResults\": 1,, Resources: [{]".to_vec(),
                content_type: Some("application/json"),
                ..reply
            },
            None,
        ),
        Fault::TruncatedBody => {
            let mut body = reply.body.clone();
            if body.len() < 2 {
                body = br#"{"data": [{"id": "trunc"#.to_vec();
            } else {
                body.truncate(body.len() / 2);
            }
            (Reply { body, ..reply }, None)
        }
        Fault::OversizedBody(n) => {
            let mut v: Value = serde_json::from_slice(&reply.body).unwrap_or_else(|_| json!({}));
            if !v.is_object() {
                v = json!({"value": v});
            }
            if let Value::Object(m) = &mut v {
                m.insert("_padding".into(), Value::String("x".repeat(*n)));
            }
            (
                Reply {
                    body: serde_json::to_vec(&v).unwrap_or_default(),
                    content_type: Some(reply.content_type.unwrap_or("application/json")),
                    ..reply
                },
                None,
            )
        }
        _ => (reply, None),
    }
}

/// What becomes of a request once the simulator has handled it.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Write this reply, after the delay if any.
    Reply(Reply, Option<Duration>),
    /// Write this reply once released (a [`Fault::HoldUntil`]), or after [`MAX_HOLD`](super::faults::MAX_HOLD).
    Held(Reply, std::sync::Arc<tokio::sync::Notify>),
    /// The state change is committed and logged; close the connection without a response.
    Drop,
}

/// Handles one request completely under one lock: fault decision, auth, API, log.
pub(crate) fn handle(shared: &Shared, req: &Req) -> Outcome {
    let mut st = lock(shared);
    let now = SystemTime::now();
    release_holds(&mut st, req);
    // The rate-limit mode answers before faults and the API: a 429 commits nothing.
    let limited = match st.options.rate_limit {
        Some(limit) if req.api != Api::Unknown => Some(st.rate.admit(&limit, req.api, now)),
        _ => None,
    };
    if let Some(admission) = limited.as_ref().filter(|a| !a.accepted) {
        let mut reply = generic_error(req.api, 429, "Rate limit exceeded", &st);
        reply.headers.extend(admission.headers.iter().cloned());
        let fault = Fault::RateLimited(RetryHint::None);
        log(&mut st, req, 429, Some(&fault), now);
        return Outcome::Reply(reply, latency(&st));
    }
    let fault = decide(&mut st, req);
    let (reply, delay) = match &fault {
        Some(f) if f.preempts() => (fault_reply(&st, req, f, now), None),
        Some(f) => {
            if let Fault::Concurrent(seed) = f {
                // Best effort, like a real concurrent writer: what conflicts is skipped.
                let _ = seed.apply(&mut st);
            }
            let r = dispatch(&mut st, req);
            spoil(r, f)
        }
        None => (dispatch(&mut st, req), None),
    };
    let mut reply = reply;
    if let Some(admission) = limited {
        reply.headers.extend(admission.headers);
    }
    let delay = delay.or(latency(&st));
    log(&mut st, req, reply.status, fault.as_ref(), now);
    match fault {
        Some(Fault::DropResponse) => Outcome::Drop,
        Some(Fault::HoldUntil(route)) => {
            let release = std::sync::Arc::new(tokio::sync::Notify::new());
            st.holds.push((*route, release.clone()));
            Outcome::Held(reply, release)
        }
        _ => Outcome::Reply(reply, delay),
    }
}

/// Releases every held response waiting for a request like `req`.
fn release_holds(st: &mut State, req: &Req) {
    if st.holds.is_empty() {
        return;
    }
    let (sb, ab) = (scim_base(st), admin_base(st));
    st.holds.retain(|(route, release)| {
        let arrived = route.matches(&req.method, req.api, &req.path, &sb, &ab);
        if arrived {
            // A permit is kept if the responder is not waiting yet.
            release.notify_one();
        }
        !arrived
    });
}

/// The latency every answer gets (`latency_ms`), if any.
fn latency(st: &State) -> Option<Duration> {
    let ms = st.options.latency_ms;
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// A request refused before the API saw it (a body over the limit, a target that is not a
/// URL): logged with an empty body, answered with the API's error for `status`.
pub(crate) fn refuse(shared: &Shared, req: &Req, status: u16, detail: &str) -> Reply {
    let mut st = lock(shared);
    let reply = generic_error(req.api, status, detail, &st);
    log(&mut st, req, status, None, SystemTime::now());
    reply
}

fn log(st: &mut State, req: &Req, status: u16, fault: Option<&Fault>, now: SystemTime) {
    st.log.push(LoggedRequest {
        method: req.method.clone(),
        path: req.raw_path.clone(),
        query: req.raw_query.clone(),
        body: String::from_utf8_lossy(&req.body).into_owned(),
        status,
        fault: fault.map(|f| f.label().to_string()),
        received_at: now,
    });
}

/// The error the service returns for a dropped response, on which hyper closes the
/// connection without writing a response.
#[derive(Debug)]
pub(crate) struct DroppedResponse;

impl std::fmt::Display for DroppedResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("simulated fault: response dropped after the state change committed")
    }
}
impl std::error::Error for DroppedResponse {}
