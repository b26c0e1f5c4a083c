//! The connector's only way out: the [`Transport`] trait over the host's `http-client`
//! import, with plain mirrors of its records that a connector's logic uses natively too.

use std::fmt;

#[cfg(feature = "testing")]
pub use crate::fake::{Call, FakeTransport, Scripted};

/// HTTP methods the connector may use (WIT `method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// A read.
    Get,
    /// A read of the headers only.
    Head,
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
            Method::Head => "HEAD",
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
    /// True when the request changes nothing upstream although its method could (a search
    /// sent as `POST`); the host then records, retries and dry-runs it as a read.
    pub read_only: bool,
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
            read_only: false,
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
            read_only: false,
        }
    }

    /// A DELETE of `url` without a body.
    pub fn delete(url: impl Into<String>, auth: Auth, timeout_ms: u32) -> Self {
        Request {
            method: Method::Delete,
            ..Request::get(url, auth, timeout_ms)
        }
    }

    /// The same request marked read-only: a search carried by a `POST` changes nothing.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// The body parsed as JSON (for tests); `Null` when absent or invalid.
    #[cfg(feature = "testing")]
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
    /// The host's egress policy refused it; never sent. The string says which rule.
    Denied(String),
    /// One of the host's [`HostLimits`] refused it; never sent.
    LimitExceeded(HostLimit),
    /// No answer within the timeout.
    Timeout,
    /// A body exceeded the host's size cap.
    TooLarge,
    /// The connection failed.
    Transport(String),
    /// Anything else.
    Other(String),
}

/// Which of the host's limits refused a request (WIT `host-limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostLimit {
    /// A `send_all` longer than `max_batch`.
    MaxBatch,
    /// The invocation's request budget (`max_requests`) is spent.
    MaxRequests,
}

impl HostLimit {
    /// The limit's name as the contract spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            HostLimit::MaxBatch => "max-batch",
            HostLimit::MaxRequests => "max-requests",
        }
    }
}

/// The host's limits on one invocation's HTTP traffic (WIT `host-limits`).
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

/// Sends requests through the host. Implemented over the `http-client` import on wasm32
/// (`HostTransport`) and, with the `testing` feature, by a scripted fake natively.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_is_case_insensitive() {
        let r = Response::new(429, Vec::new()).with_header("Retry-After", "3");
        assert_eq!(r.header("retry-after"), Some("3"));
        assert_eq!(r.header("RETRY-AFTER"), Some("3"));
        assert_eq!(r.header("x"), None);
        assert!(!r.is_success());
    }
}
