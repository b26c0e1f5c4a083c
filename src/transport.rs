//! The connector's only way out: a trait over the host's `http-client` import, with core
//! mirrors of its records, and a scripted [`FakeTransport`] for native tests and benchmarks.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

/// HTTP methods the connector may use (WIT `method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// A read.
    Get,
    /// Create, or a search carrying its query in the body.
    Post,
    /// Replace.
    Put,
    /// Partial update.
    Patch,
    /// Remove.
    Delete,
}

impl Method {
    /// The method as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Credentials the host attaches, by name only (WIT `auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <value of this secret key>`.
    Bearer(String),
    /// `Authorization: Basic base64(<user>:<secret>)`.
    Basic {
        /// The configuration key whose value is the user name.
        user_config_key: String,
        /// The secret key whose value is the password or token.
        secret_key: String,
    },
}

impl Auth {
    /// Bearer auth with the secret named `secret_key`.
    pub fn bearer(secret_key: &str) -> Self {
        Auth::Bearer(secret_key.to_string())
    }

    /// Basic auth from the setting `user_config_key` and the secret `secret_key`.
    pub fn basic(user_config_key: &str, secret_key: &str) -> Self {
        Auth::Basic {
            user_config_key: user_config_key.to_string(),
            secret_key: secret_key.to_string(),
        }
    }

    /// The secret key name this auth refers to.
    pub fn secret_key(&self) -> &str {
        match self {
            Auth::Bearer(k) => k,
            Auth::Basic { secret_key, .. } => secret_key,
        }
    }
}

/// One HTTP request (WIT `request`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers as `(name, value)`; never an `authorization` header.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// Which credential the host should attach, by name.
    pub auth: Option<Auth>,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: Option<u32>,
}

impl Request {
    /// A GET of `url` accepting JSON, with the given auth and timeout.
    pub fn get(url: impl Into<String>, auth: Auth, timeout_ms: u32) -> Self {
        Request {
            method: Method::Get,
            url: url.into(),
            headers: vec![("accept".to_string(), "application/json".to_string())],
            body: None,
            auth: Some(auth),
            timeout_ms: Some(timeout_ms),
        }
    }

    /// A request with a JSON body (`POST`, `PUT`, `PATCH`), accepting JSON.
    pub fn with_json(
        method: Method,
        url: impl Into<String>,
        auth: Auth,
        timeout_ms: u32,
        body: Vec<u8>,
    ) -> Self {
        Request {
            method,
            url: url.into(),
            headers: vec![
                ("accept".to_string(), "application/json".to_string()),
                ("content-type".to_string(), "application/json".to_string()),
            ],
            body: Some(body),
            auth: Some(auth),
            timeout_ms: Some(timeout_ms),
        }
    }

    /// A DELETE of `url` without a body.
    pub fn delete(url: impl Into<String>, auth: Auth, timeout_ms: u32) -> Self {
        Request {
            method: Method::Delete,
            ..Request::get(url, auth, timeout_ms)
        }
    }

    /// The body parsed as JSON (for tests and diagnostics); `Null` when absent or invalid.
    pub fn json_body(&self) -> serde_json::Value {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(serde_json::Value::Null)
    }
}

/// One HTTP response (WIT `response`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers as `(name, value)`, names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with this status and body and no headers.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// A JSON response with this status and body.
    pub fn json(status: u16, body: &str) -> Self {
        Response::new(status, body.as_bytes().to_vec())
            .with_header("content-type", "application/json")
    }

    /// The same response with one more header (name stored in lowercase).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request produced no response (WIT `http-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The host's egress policy refused it; never sent.
    Denied(String),
    /// No answer within the timeout.
    Timeout,
    /// A body exceeded the host's size cap.
    TooLarge,
    /// The connection failed.
    Transport(String),
    /// Anything else.
    Other(String),
}

/// The host's limits on one invocation's HTTP traffic (WIT `limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostLimits {
    /// Most requests in one `send_all`; a longer batch is refused whole.
    pub max_batch: u32,
    /// Most requests of one `send_all` in flight at once.
    pub max_in_flight: u32,
    /// Most requests in one invocation.
    pub max_requests: u32,
    /// Requests this invocation may still make.
    pub requests_remaining: u32,
}

impl HostLimits {
    /// No limit at all: what a transport that states none is taken to allow.
    pub const UNLIMITED: HostLimits = HostLimits {
        max_batch: u32::MAX,
        max_in_flight: u32::MAX,
        max_requests: u32::MAX,
        requests_remaining: u32::MAX,
    };

    /// The longest batch to hand the host at once: `max_batch` rounded down to a whole number
    /// of waves of `max_in_flight`, so splitting a long list costs no extra round trip.
    pub fn chunk(&self) -> usize {
        let batch = self.max_batch.max(1);
        let wave = self.max_in_flight.max(1);
        let chunk = if wave < batch {
            batch - batch % wave
        } else {
            batch
        };
        usize::try_from(chunk).unwrap_or(usize::MAX)
    }

    /// Requests this invocation may still make, as a `usize`.
    pub fn remaining(&self) -> usize {
        usize::try_from(self.requests_remaining).unwrap_or(usize::MAX)
    }
}

/// Sends requests through the host. Implemented over the `http-client` import in the wasm
/// glue and by [`FakeTransport`] natively.
pub trait Transport {
    /// Sends one request and waits for its response.
    fn send(&self, req: Request) -> Result<Response, HttpError>;
    /// Sends independent requests concurrently; results come back in the same order.
    fn send_all(&self, reqs: Vec<Request>) -> Vec<Result<Response, HttpError>>;
    /// The host's limits now (the budget counts down as requests go out). A transport that
    /// states none allows anything.
    fn limits(&self) -> HostLimits {
        HostLimits::UNLIMITED
    }
}

/// One scripted answer of a [`FakeTransport`].
pub type Scripted = Result<Response, HttpError>;

/// One call the connector made on a [`FakeTransport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// A `send` of one request.
    Send(Request),
    /// A `send_all` of a batch.
    SendAll(Vec<Request>),
}

/// A scripted transport: responses by method and exact URL, every request recorded.
///
/// Responses scripted for one `(method, url)` are served in order; the last one repeats.
/// A request with no script gets `HttpError::Other("no response scripted for …")`.
///
/// With [`FakeTransport::with_limits`] it also behaves like a host with limits: a `send_all`
/// longer than `max_batch`, or a request past the budget, fails as the host's would.
#[derive(Debug, Default)]
pub struct FakeTransport {
    script: RefCell<HashMap<(Method, String), Vec<Scripted>>>,
    calls: RefCell<Vec<Call>>,
    limits: Option<HostLimits>,
}

impl FakeTransport {
    /// An empty fake.
    pub fn new() -> Self {
        FakeTransport::default()
    }

    /// A fake that enforces `limits` as a host would (`requests_remaining` is ignored: the
    /// budget is `max_requests`, counted over every request sent).
    pub fn with_limits(limits: HostLimits) -> Self {
        FakeTransport {
            limits: Some(limits),
            ..FakeTransport::default()
        }
    }

    fn sent(&self) -> usize {
        self.calls
            .borrow()
            .iter()
            .map(|c| match c {
                Call::Send(_) => 1,
                Call::SendAll(rs) => rs.len(),
            })
            .sum()
    }

    /// The host-limit error for one more request, when a limit forbids it.
    fn over_budget(&self, extra: usize) -> Option<HttpError> {
        let limits = self.limits?;
        let max = usize::try_from(limits.max_requests).unwrap_or(usize::MAX);
        (self.sent() + extra > max).then(|| {
            HttpError::Other(format!(
                "host limit: the request budget of {max} per invocation (max-requests) is spent"
            ))
        })
    }

    /// Scripts one more result for `method url`.
    pub fn on(&self, method: Method, url: &str, result: Result<Response, HttpError>) -> &Self {
        self.script
            .borrow_mut()
            .entry((method, url.to_string()))
            .or_default()
            .push(result);
        self
    }

    /// Scripts a JSON response for `GET url`.
    pub fn on_get(&self, url: &str, status: u16, body: &str) -> &Self {
        self.on(Method::Get, url, Ok(Response::json(status, body)))
    }

    /// Every call made, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    /// Every request sent, flattened over `send` and `send_all`, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.calls
            .borrow()
            .iter()
            .flat_map(|c| match c {
                Call::Send(r) => vec![r.clone()],
                Call::SendAll(rs) => rs.clone(),
            })
            .collect()
    }

    /// The requests that were not GETs (writes and searches).
    pub fn non_get_requests(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != Method::Get)
            .collect()
    }

    fn answer(&self, req: &Request) -> Result<Response, HttpError> {
        let mut script = self.script.borrow_mut();
        match script.get_mut(&(req.method, req.url.clone())) {
            Some(queue) if queue.len() > 1 => queue.remove(0),
            Some(queue) => match queue.first() {
                Some(r) => r.clone(),
                None => Err(no_script(req)),
            },
            None => Err(no_script(req)),
        }
    }
}

fn no_script(req: &Request) -> HttpError {
    HttpError::Other(format!(
        "fake transport: no response scripted for {} {}",
        req.method, req.url
    ))
}

impl Transport for FakeTransport {
    fn send(&self, req: Request) -> Result<Response, HttpError> {
        let result = match self.over_budget(1) {
            Some(e) => Err(e),
            None => self.answer(&req),
        };
        self.calls.borrow_mut().push(Call::Send(req));
        result
    }

    fn send_all(&self, reqs: Vec<Request>) -> Vec<Result<Response, HttpError>> {
        let too_long = self
            .limits
            .filter(|l| usize::try_from(l.max_batch).is_ok_and(|max| reqs.len() > max));
        let results = if let Some(l) = too_long {
            let why = format!(
                "host limit: a send-all of {} requests exceeds max-batch ({})",
                reqs.len(),
                l.max_batch
            );
            reqs.iter()
                .map(|_| Err(HttpError::Other(why.clone())))
                .collect()
        } else {
            reqs.iter()
                .enumerate()
                .map(|(i, r)| match self.over_budget(i + 1) {
                    Some(e) => Err(e),
                    None => self.answer(r),
                })
                .collect()
        };
        self.calls.borrow_mut().push(Call::SendAll(reqs));
        results
    }

    fn limits(&self) -> HostLimits {
        match self.limits {
            None => HostLimits::UNLIMITED,
            Some(l) => {
                let max = usize::try_from(l.max_requests).unwrap_or(usize::MAX);
                let left = max.saturating_sub(self.sent());
                HostLimits {
                    requests_remaining: u32::try_from(left).unwrap_or(u32::MAX),
                    ..l
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_serves_in_order_then_repeats_and_records() {
        let fake = FakeTransport::new();
        fake.on_get("https://x/a", 500, "{}")
            .on_get("https://x/a", 200, "{}");
        let get = || Request::get("https://x/a", Auth::bearer("scim_token"), 1000);
        assert_eq!(fake.send(get()).map(|r| r.status), Ok(500));
        assert_eq!(fake.send(get()).map(|r| r.status), Ok(200));
        assert_eq!(fake.send(get()).map(|r| r.status), Ok(200));
        let batch = fake.send_all(vec![
            get(),
            Request::get("https://x/b", Auth::bearer("k"), 1),
        ]);
        assert_eq!(batch.len(), 2);
        assert!(matches!(&batch[1], Err(HttpError::Other(m)) if m.contains("GET https://x/b")));
        assert_eq!(fake.calls().len(), 4);
        assert_eq!(fake.requests().len(), 5);
        assert!(fake.non_get_requests().is_empty());
    }

    #[test]
    fn header_lookup_is_case_insensitive() {
        let r = Response::new(429, Vec::new()).with_header("Retry-After", "3");
        assert_eq!(r.header("retry-after"), Some("3"));
        assert_eq!(r.header("RETRY-AFTER"), Some("3"));
        assert_eq!(r.header("x"), None);
        assert!(!r.is_success());
    }
}
