//! Fault scripting: per route, per count, optionally after letting some requests through.

use super::http::Api;
use super::seed::Seed;
use std::time::Duration;

/// The longest a [`Fault::HoldUntil`] holds its response when nothing on its route arrives.
pub const MAX_HOLD: Duration = Duration::from_secs(30);

/// How a 429 tells the client when to come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryHint {
    /// No hint at all.
    None,
    /// `Retry-After: N` (seconds).
    Seconds(u64),
    /// `Retry-After: <HTTP date>` N seconds from now.
    HttpDate(u64),
    /// `X-RateLimit-Reset: <ISO-8601>` N seconds from now (second precision), with
    /// `X-RateLimit-Limit`/`X-RateLimit-Remaining`.
    RateLimitReset(u64),
    /// `X-RateLimit-Reset` with minute precision (rounded up to the next minute).
    RateLimitResetMinutes(u64),
}

/// What goes wrong.
///
/// Faults that a gateway would produce (`RateLimited`, `Unavailable`, `Status`, `HtmlErrorPage`,
/// `EchoAuthorization`)
/// answer *instead of* the API: nothing is committed. The others let the API handle the
/// request (its state change commits) and then spoil the response.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429 with the given hint.
    RateLimited(RetryHint),
    /// 503, optionally with `Retry-After` seconds.
    Unavailable {
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Any status with a JSON body in the API's error format (e.g. 500, 400, 403).
    Status(u16),
    /// An HTML error page (as a proxy sends it) with this status.
    HtmlErrorPage(u16),
    /// The real response, delivered this long after the request arrived.
    Latency(Duration),
    /// The real response, held until a request on this route arrives after it (at most
    /// [`MAX_HOLD`]): a barrier for a test that two walks run at once, which a client doing
    /// one after the other never gets past in time.
    HoldUntil(Box<Route>),
    /// The real status with a body that is not JSON (`application/json` content type).
    MalformedJson,
    /// The real status with the first half of the real body (an honest `Content-Length`):
    /// the message is complete, the JSON is cut.
    TruncatedBody,
    /// The real JSON body padded with a `_padding` string to at least this many bytes.
    OversizedBody(usize),
    /// Another client got there first: the seed is added to the state just before the request
    /// is handled normally (e.g. a user created between the connector's look-up and its POST,
    /// which then answers 409 `uniqueness`).
    Concurrent(Box<Seed>),
    /// The state change commits, then the connection is closed without any response
    /// (the client sees a connection error, e.g. "connection closed before message completed").
    DropResponse,
    /// A careless server: this status with the API's error body, whose message echoes the
    /// request's `Authorization` header, the raw credential (the bearer token, or Basic's
    /// decoded `user:token` and the token alone), and the same in the response headers
    /// `X-Echo-Authorization` and `WWW-Authenticate`. Nothing is committed.
    EchoAuthorization(u16),
}

impl Fault {
    /// Short label used in the request log.
    pub fn label(&self) -> &'static str {
        match self {
            Fault::RateLimited(_) => "rate-limited",
            Fault::Unavailable { .. } => "unavailable",
            Fault::Status(_) => "status",
            Fault::HtmlErrorPage(_) => "html-error-page",
            Fault::Latency(_) => "latency",
            Fault::HoldUntil(_) => "held",
            Fault::MalformedJson => "malformed-json",
            Fault::TruncatedBody => "truncated-body",
            Fault::OversizedBody(_) => "oversized-body",
            Fault::Concurrent(_) => "concurrent-change",
            Fault::DropResponse => "dropped",
            Fault::EchoAuthorization(_) => "echo-authorization",
        }
    }

    /// Whether the fault replaces the API (no state change happens).
    pub(crate) fn preempts(&self) -> bool {
        matches!(
            self,
            Fault::RateLimited(_)
                | Fault::Unavailable { .. }
                | Fault::Status(_)
                | Fault::HtmlErrorPage(_)
                | Fault::EchoAuthorization(_)
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
enum PathMatch {
    Any,
    Absolute(String),
    Relative(Api, String),
}

/// Which requests a fault applies to: a method, an API and a path prefix (decoded path).
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    method: Option<String>,
    api: Option<Api>,
    path: PathMatch,
    contains: Option<String>,
}

impl Route {
    /// Every request.
    pub fn any() -> Route {
        Route {
            method: None,
            api: None,
            path: PathMatch::Any,
            contains: None,
        }
    }
    /// Every request of one API.
    pub fn api(api: Api) -> Route {
        Route {
            api: Some(api),
            ..Route::any()
        }
    }
    /// Requests whose decoded path starts with `prefix` (absolute, e.g. `/rest/api/3/project`).
    pub fn path(prefix: &str) -> Route {
        Route {
            path: PathMatch::Absolute(prefix.to_string()),
            ..Route::any()
        }
    }
    /// SCIM requests under the SCIM base, e.g. `Route::scim("/Users")`.
    pub fn scim(rel: &str) -> Route {
        Route {
            api: Some(Api::Scim),
            path: PathMatch::Relative(Api::Scim, rel.to_string()),
            ..Route::any()
        }
    }
    /// Admin requests under `/admin/v2/orgs/{orgId}`, e.g. `Route::admin("/directories")`.
    pub fn admin(rel: &str) -> Route {
        Route {
            api: Some(Api::Admin),
            path: PathMatch::Relative(Api::Admin, rel.to_string()),
            ..Route::any()
        }
    }
    /// Only this HTTP method.
    pub fn method(mut self, method: &str) -> Route {
        self.method = Some(method.to_ascii_uppercase());
        self
    }
    /// Only paths containing `needle` (decoded), e.g. `"/memberships"`.
    pub fn containing(mut self, needle: &str) -> Route {
        self.contains = Some(needle.to_string());
        self
    }

    pub(crate) fn matches(
        &self,
        method: &str,
        api: Api,
        decoded_path: &str,
        scim_base: &str,
        admin_base: &str,
    ) -> bool {
        if let Some(m) = &self.method
            && !m.eq_ignore_ascii_case(method)
        {
            return false;
        }
        if let Some(a) = self.api
            && a != api
        {
            return false;
        }
        if let Some(c) = &self.contains
            && !decoded_path.contains(c.as_str())
        {
            return false;
        }
        match &self.path {
            PathMatch::Any => true,
            PathMatch::Absolute(p) => decoded_path.starts_with(p.as_str()),
            PathMatch::Relative(Api::Scim, rel) => {
                decoded_path.starts_with(&format!("{scim_base}{rel}"))
            }
            PathMatch::Relative(_, rel) => decoded_path.starts_with(&format!("{admin_base}{rel}")),
        }
    }
}

/// A scripted fault: `skip` matching requests pass, then the next `times` fail.
#[derive(Debug, Clone)]
pub(crate) struct FaultRule {
    pub route: Route,
    pub fault: Fault,
    pub skip: u32,
    pub remaining: u32,
}
