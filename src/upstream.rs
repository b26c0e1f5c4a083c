//! The one place that turns an HTTP exchange into `Ok` or a [`ConnectorError`].
//!
//! Each API's error body is parsed by its own module ([`crate::scim`], [`crate::admin`],
//! [`crate::products`]); this module decides what the status means and words the message,
//! naming the credential key for 401/403 and what was looked for on 404.

use serde_json::Value;

use crate::error::{ConnectorError, RateLimit};
use crate::transport::{HttpError, Response};
use crate::wire::{self, FromJson, value_to_string};
use crate::{admin, products, scim};

/// What an API said went wrong, from its error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    /// The service's own error code (`scimType`, `ADMIN-UAM-409-2`, ...), when given.
    pub code: Option<String>,
    /// The service's message.
    pub message: String,
}

/// The APIs the connector talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// SCIM under `scim_url`.
    Scim,
    /// Admin API v2.
    Admin,
    /// The user-management lifecycle API.
    Lifecycle,
    /// Jira REST API.
    Jira,
    /// Confluence REST API.
    Confluence,
    /// Bitbucket REST API.
    Bitbucket,
}

impl Api {
    /// How messages name the API.
    pub fn label(self) -> &'static str {
        match self {
            Api::Scim => "SCIM API",
            Api::Admin => "admin API",
            Api::Lifecycle => "user lifecycle API",
            Api::Jira => "Jira API",
            Api::Confluence => "Confluence API",
            Api::Bitbucket => "Bitbucket API",
        }
    }

    /// Parses this API's error body.
    pub fn error_detail(self, body: &[u8]) -> Option<ErrorDetail> {
        match self {
            Api::Scim => scim::parse_error(body),
            Api::Admin | Api::Lifecycle => admin::parse_error(body),
            Api::Jira | Api::Confluence | Api::Bitbucket => products::parse_error(body),
        }
    }
}

/// What a request was for, so errors can say it.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The API addressed.
    pub api: Api,
    /// The credential key used (`scim_token`, `admin_api_key`, `product_token`).
    pub credential: &'a str,
    /// What was looked for, named in a 404: e.g. "SCIM directory `d` (from scim_url)".
    pub subject: &'a str,
}

/// Classifies a transport result: a 2xx response passes, everything else is an error.
pub fn check(
    ctx: &Context<'_>,
    result: Result<Response, HttpError>,
) -> Result<Response, ConnectorError> {
    match result {
        Ok(resp) => classify(ctx, resp),
        Err(e) => Err(from_http_error(ctx.api, e)),
    }
}

/// Classifies a response by status: 2xx passes; 401, 403, 404, 409, 429, 5xx and the rest
/// map to their `ConnectorError` cases. A caller for whom some non-2xx answers mean success
/// (a 409 `ADMIN-UAM-409-2` is "already a member") checks [`error_code`] first.
pub fn classify(ctx: &Context<'_>, resp: Response) -> Result<Response, ConnectorError> {
    if resp.is_success() {
        return Ok(resp);
    }
    let status = resp.status;
    let api = ctx.api.label();
    let parsed = ctx.api.error_detail(&resp.body);
    let code = parsed.as_ref().and_then(|d| d.code.clone());
    let detail = match &parsed {
        Some(d) if !d.message.is_empty() => d.message.clone(),
        Some(ErrorDetail { code: Some(c), .. }) => c.clone(),
        _ => body_snippet(&resp.body),
    };
    let cred = ctx.credential;
    Err(match status {
        401 => {
            ConnectorError::Unauthorized(format!("{cred} was refused by the {api} (401): {detail}"))
        }
        403 => ConnectorError::Forbidden(format!(
            "{cred} lacks a permission or scope for the {api} (403): {detail}"
        )),
        404 => ConnectorError::NotFound(format!(
            "{} was not found: the {api} answered 404: {detail}",
            ctx.subject
        )),
        409 => ConnectorError::Conflict(format!(
            "the {api} reported a conflict (409{}): {detail}",
            code.as_deref().map(|c| format!(" {c}")).unwrap_or_default()
        )),
        429 => ConnectorError::RateLimited(RateLimit {
            retry_after_ms: retry_after_ms(&resp),
            message: format!("the {api} limited the request rate (429): {detail}"),
        }),
        500 | 502 | 503 | 504 => ConnectorError::Unavailable(format!(
            "the {api} is unavailable ({status}): {detail}{}",
            retry_after_ms(&resp)
                .map(|ms| format!(" (retry after {ms} ms)"))
                .unwrap_or_default()
        )),
        _ => ConnectorError::upstream(
            status,
            code,
            format!("the {api} answered {status}: {detail}"),
        ),
    })
}

/// The service's own error code in a response's body (`scimType`, `errors[0].code`, ...).
pub fn error_code(api: Api, resp: &Response) -> Option<String> {
    api.error_detail(&resp.body).and_then(|d| d.code)
}

/// Maps a transport failure (no HTTP answer) to a `ConnectorError`.
pub fn from_http_error(api: Api, e: HttpError) -> ConnectorError {
    let api = api.label();
    match e {
        HttpError::Denied(rule) => {
            ConnectorError::PolicyDenied(format!("egress denied by host policy: {rule}"))
        }
        HttpError::LimitExceeded(limit) => ConnectorError::Other(format!(
            "not sent to the {api}: the host's {} limit refused the request",
            limit.as_str()
        )),
        HttpError::Timeout => {
            ConnectorError::Unavailable(format!("the {api} did not answer within the timeout"))
        }
        HttpError::TooLarge => ConnectorError::upstream(
            None,
            None,
            format!("a request to or response from the {api} exceeded the host's size cap"),
        ),
        HttpError::Transport(why) => {
            ConnectorError::Unavailable(format!("could not reach the {api}: {why}"))
        }
        HttpError::Other(why) => {
            ConnectorError::Other(format!("request to the {api} failed: {why}"))
        }
    }
}

/// Parses a 2xx body as JSON of type `T`; anything else is
/// `upstream{status, None, "malformed … response: …"}`.
pub fn parse_json<T: FromJson>(api: Api, resp: &Response) -> Result<T, ConnectorError> {
    let v = parse_value(api, resp)?;
    T::from_json(&v).map_err(|what| malformed(api, resp, what))
}

/// A 2xx body read by `reader` (a reader that walks the body itself, without a JSON tree);
/// its error becomes `upstream{status, None, "malformed … response: …"}` like
/// [`parse_json`]'s.
pub fn read<T>(
    api: Api,
    resp: &Response,
    reader: fn(&[u8]) -> Result<T, String>,
) -> Result<T, ConnectorError> {
    reader(&resp.body).map_err(|what| malformed(api, resp, what))
}

/// The parsed body of `resp`, or the error of a body that is not JSON. Out of the generic
/// [`parse_json`] (never inlined): one copy for every wire type.
#[inline(never)]
fn parse_value(api: Api, resp: &Response) -> Result<Value, ConnectorError> {
    wire::parse_value(&resp.body).map_err(|what| malformed(api, resp, what))
}

/// The error of a body that did not parse. Kept out of the generic [`parse_json`] so each
/// parsed type does not carry its own copy in the component.
fn malformed(api: Api, resp: &Response, what: String) -> ConnectorError {
    let what = if looks_like_html(&resp.body) {
        "an HTML page instead of JSON".to_string()
    } else {
        what
    };
    ConnectorError::upstream(
        resp.status,
        None,
        format!("malformed {} response: {what}", api.label()),
    )
}

/// The wait a 429/503 asked for, in milliseconds: `Retry-After` in seconds, else a numeric
/// `X-RateLimit-Reset` below 10^9 read as seconds to wait. Dates (HTTP dates, ISO-8601 or
/// epoch times) need a clock, which the connector does not use, so they give `None`.
pub fn retry_after_ms(resp: &Response) -> Option<u64> {
    resp.header("retry-after")
        .and_then(seconds_to_ms)
        .or_else(|| resp.header("x-ratelimit-reset").and_then(seconds_to_ms))
}

/// `"3"` → 3000, `"0.25"` → 250; anything else (dates, signs, 10^9 and more) → `None`.
fn seconds_to_ms(value: &str) -> Option<u64> {
    let value = value.trim();
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || int.len() > 9 || !digits(int) || !digits(frac) {
        return None;
    }
    let secs: u64 = int.parse().ok()?;
    let millis: String = frac.chars().chain("000".chars()).take(3).collect();
    Some(secs * 1000 + millis.parse::<u64>().ok()?)
}

/// The common `{"error": "...", "message": "...", "traceId": "..."}` shapes of gateway and
/// 401/403 answers, shared by every API's error parser as its fallback.
pub fn fallback_detail(v: &Value) -> Option<ErrorDetail> {
    let obj = v.as_object()?;
    let text = |k: &str| {
        obj.get(k)
            .and_then(value_to_string)
            .filter(|s| !s.is_empty())
    };
    let error = text("error");
    let message = text("message").or_else(|| text("detail"));
    match (error, message) {
        (Some(e), Some(m)) => Some(ErrorDetail {
            code: None,
            message: format!("{e}: {m}"),
        }),
        (Some(m), None) | (None, Some(m)) => Some(ErrorDetail {
            code: None,
            message: m,
        }),
        (None, None) => None,
    }
}

fn looks_like_html(body: &[u8]) -> bool {
    String::from_utf8_lossy(body).trim_start().starts_with('<')
}

/// A short, printable excerpt of a body that had no structured error.
pub fn body_snippet(body: &[u8]) -> String {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return "no details given".to_string();
    }
    if looks_like_html(body) {
        return "an HTML page instead of an error document".to_string();
    }
    // In one pass: the body read lossily as UTF-8, control characters as spaces, runs of
    // whitespace as one space (none at the ends), the first MAX characters and `…` if more.
    const MAX: usize = 160;
    let (mut out, mut n, mut space) = (String::new(), 0, false);
    for chunk in body.utf8_chunks() {
        let invalid = (!chunk.invalid().is_empty()).then_some('\u{FFFD}');
        for c in chunk.valid().chars().chain(invalid) {
            if c.is_control() || c.is_whitespace() {
                space = n > 0;
                continue;
            }
            for c in [space.then_some(' '), Some(c)].into_iter().flatten() {
                if n == MAX {
                    out.push('…');
                    return out;
                }
                out.push(c);
                n += 1;
            }
            space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCIM: Context<'static> = Context {
        api: Api::Scim,
        credential: "scim_token",
        subject: "SCIM directory `d1`",
    };
    const ADMIN: Context<'static> = Context {
        api: Api::Admin,
        credential: "admin_api_key",
        subject: "organization `o1`",
    };

    fn err(ctx: &Context<'_>, resp: Response) -> ConnectorError {
        classify(ctx, resp).unwrap_err()
    }

    #[test]
    fn statuses_map_to_cases() {
        assert_eq!(
            err(
                &SCIM,
                Response::json(401, r#"{"error":"Unauthorized","traceId":"t1"}"#)
            ),
            ConnectorError::Unauthorized(
                "scim_token was refused by the SCIM API (401): Unauthorized".into()
            )
        );
        assert_eq!(
            err(
                &ADMIN,
                Response::json(403, r#"{"error":"Forbidden","traceId":"t"}"#)
            ),
            ConnectorError::Forbidden(
                "admin_api_key lacks a permission or scope for the admin API (403): Forbidden"
                    .into()
            )
        );
        let nf = err(
            &SCIM,
            Response::json(
                404,
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"Directory not found"}"#,
            ),
        );
        assert_eq!(
            nf,
            ConnectorError::NotFound(
                "SCIM directory `d1` was not found: the SCIM API answered 404: Directory not found"
                    .into()
            )
        );
        assert!(matches!(
            err(&SCIM, Response::json(409, r#"{"status":"409","scimType":"uniqueness","detail":"exists"}"#)),
            ConnectorError::Conflict(m) if m.contains("409 uniqueness") && m.contains("exists")
        ));
        for s in [500, 502, 503, 504] {
            assert!(
                matches!(err(&SCIM, Response::new(s, "")), ConnectorError::Unavailable(m) if m.contains(&s.to_string()))
            );
        }
        assert_eq!(
            err(
                &ADMIN,
                Response::json(
                    400,
                    r#"{"errors":[{"status":400,"code":"ADMIN-400","title":"Bad","detail":"bad body"}]}"#
                )
            ),
            ConnectorError::upstream(
                400,
                Some("ADMIN-400".into()),
                "the admin API answered 400: Bad: bad body"
            )
        );
        assert!(matches!(
            err(&ADMIN, Response::new(302, "")),
            ConnectorError::Upstream(u) if u.status == Some(302) && u.message.contains("no details")
        ));
        assert!(classify(&SCIM, Response::new(204, "")).is_ok());
        let member = Response::json(
            409,
            r#"{"errors":[{"status":"409","code":"ADMIN-UAM-409-2"}]}"#,
        );
        assert_eq!(
            error_code(Api::Admin, &member).as_deref(),
            Some(crate::admin::ALREADY_MEMBER)
        );
        assert_eq!(error_code(Api::Scim, &Response::new(409, "")), None);
    }

    #[test]
    fn rate_limit_hints() {
        let r = |h: &str, v: &str| Response::new(429, "").with_header(h, v);
        assert_eq!(retry_after_ms(&r("Retry-After", "3")), Some(3000));
        assert_eq!(retry_after_ms(&r("retry-after", "0.5")), Some(500));
        assert_eq!(
            retry_after_ms(&r("Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT")),
            None
        );
        assert_eq!(retry_after_ms(&r("X-RateLimit-Reset", "7")), Some(7000));
        assert_eq!(
            retry_after_ms(&r("X-RateLimit-Reset", "2026-10-21T07:28Z")),
            None
        );
        assert_eq!(retry_after_ms(&r("X-RateLimit-Reset", "1790000000")), None);
        assert_eq!(retry_after_ms(&r("Retry-After", "-1")), None);
        assert_eq!(retry_after_ms(&r("Retry-After", "NaN")), None);
        assert_eq!(retry_after_ms(&r("Retry-After", "1.2345")), Some(1234));
        assert_eq!(
            retry_after_ms(&r("Retry-After", "999999999")),
            Some(999_999_999_000)
        );
        assert_eq!(retry_after_ms(&r("Retry-After", "1e3")), None);
        assert_eq!(retry_after_ms(&r("Retry-After", "")), None);
        assert_eq!(
            err(
                &SCIM,
                Response::new(503, "").with_header("retry-after", "5")
            ),
            ConnectorError::Unavailable(
                "the SCIM API is unavailable (503): no details given (retry after 5000 ms)".into()
            )
        );
        match err(&ADMIN, r("retry-after", "2")) {
            ConnectorError::RateLimited(rl) => {
                assert_eq!(rl.retry_after_ms, Some(2000));
                assert!(rl.message.contains("admin API"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn transport_errors_map() {
        assert_eq!(
            from_http_error(Api::Scim, HttpError::Denied("host not allowed".into())),
            ConnectorError::PolicyDenied("egress denied by host policy: host not allowed".into())
        );
        assert!(matches!(
            from_http_error(Api::Scim, HttpError::Timeout),
            ConnectorError::Unavailable(_)
        ));
        assert!(
            matches!(from_http_error(Api::Scim, HttpError::TooLarge), ConnectorError::Upstream(u) if u.status.is_none())
        );
        assert!(
            matches!(from_http_error(Api::Jira, HttpError::Transport("reset".into())), ConnectorError::Unavailable(m) if m.contains("reset"))
        );
        assert!(
            matches!(from_http_error(Api::Jira, HttpError::Other("x".into())), ConnectorError::Other(m) if m.contains("Jira"))
        );
    }

    #[test]
    fn malformed_bodies_are_upstream_errors() {
        #[derive(Debug)]
        struct Need;
        impl FromJson for Need {
            fn from_json(v: &serde_json::Value) -> Result<Self, String> {
                wire::required(wire::object(v, "need")?, "x").map(|_| Need)
            }
        }
        let e = parse_json::<Need>(
            Api::Scim,
            &Response::new(200, "<html><body>oops</body></html>"),
        )
        .unwrap_err();
        assert_eq!(
            e,
            ConnectorError::upstream(
                200,
                None,
                "malformed SCIM API response: an HTML page instead of JSON"
            )
        );
        let e = parse_json::<Need>(Api::Admin, &Response::new(200, "{\"x\":")).unwrap_err();
        assert!(
            matches!(e, ConnectorError::Upstream(u) if u.status == Some(200) && u.message.starts_with("malformed admin API response: "))
        );
    }

    #[test]
    fn snippets_are_short_and_printable() {
        assert_eq!(body_snippet(b""), "no details given");
        assert_eq!(body_snippet(b"  a\n\tb \x07 "), "a b");
        let long = "x".repeat(1000);
        assert_eq!(body_snippet(long.as_bytes()).chars().count(), 161);
        assert_eq!(body_snippet(&[0xff, 0xfe]), "\u{FFFD}\u{FFFD}");
    }
}
