//! The host's request rules that do not depend on the destination: the limits, the headers a
//! connector may not set, which requests are writes, and taking secrets out of answers.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// The limits, the same numbers as our host's defaults (`lifecycle_host::Limits`).
pub mod limits {
    /// Most requests in one `send-all`.
    pub const MAX_BATCH: u32 = 256;
    /// Most requests of one `send-all` in flight at once.
    pub const MAX_IN_FLIGHT: u32 = 64;
    /// Most requests in one invocation (one incoming HTTP request of the front).
    pub const MAX_REQUESTS: u32 = 5_000;
    /// Longest one request may take, in milliseconds; a connector's `timeout-ms` is capped.
    pub const REQUEST_TIMEOUT_MS: u32 = 30_000;
    /// Largest request body.
    pub const MAX_REQUEST_BYTES: usize = 1 << 20;
    /// Largest response body.
    pub const MAX_RESPONSE_BYTES: usize = 16 << 20;
}

/// Headers a connector may not set: credentials are the adapter's job, and the others would
/// reroute or desynchronise a request behind the allow-list's back.
const FORBIDDEN_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
];

/// Refuses a header the connector may not set, or a malformed one.
pub fn check_headers(headers: &[(String, String)]) -> Result<(), String> {
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if FORBIDDEN_HEADERS.contains(&lower.as_str()) {
            let hint = if lower.contains("authorization") || lower == "cookie" {
                " (credentials are attached by the host: use `auth`)"
            } else {
                ""
            };
            return Err(format!(
                "header `{lower}` may not be set by the guest{hint}"
            ));
        }
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if lower.is_empty() || !lower.chars().all(token) {
            return Err(format!("invalid header name `{lower}`"));
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(format!("invalid value for header `{lower}`"));
        }
    }
    Ok(())
}

/// A method given by its token (`other`): refused unless it is an HTTP token.
pub fn check_method_token(token: &str) -> Result<(), String> {
    let ok = !token.is_empty()
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid method token `{token}`"))
    }
}

/// True when a request may change something upstream: anything but GET and HEAD, unless the
/// connector marks it read-only.
pub fn is_write(method: &str, read_only: bool) -> bool {
    !(read_only || method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD"))
}

/// The `Authorization` value of Basic credentials.
pub fn basic(user: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{secret}")))
}

/// What a scrubbed secret becomes.
pub const REDACTED: &str = "[redacted]";

/// Takes a tenant's secret values out of what an upstream sends back: each value as it is and
/// in the four base64 forms, and the base64 of `user:value` for every setting value as
/// `user` (the Basic credential). Simpler than our host's scrubber, which also finds
/// JSON-escaped, percent-encoded and base64-fragment forms.
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    patterns: Vec<Vec<u8>>,
}

impl Scrubber {
    /// A scrubber for `secrets`, with `settings` as the possible Basic user names.
    pub fn new<'a>(
        secrets: impl IntoIterator<Item = &'a str>,
        settings: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Self {
        let mut patterns = Vec::new();
        for secret in secrets.into_iter().filter(|s| !s.is_empty()) {
            let mut texts = vec![secret.to_owned()];
            texts.extend(
                settings
                    .clone()
                    .into_iter()
                    .map(|u| format!("{u}:{secret}")),
            );
            for (i, text) in texts.iter().enumerate() {
                if i == 0 {
                    patterns.push(text.as_bytes().to_vec());
                }
                for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
                    patterns.push(engine.encode(text).into_bytes());
                }
            }
        }
        // Longest first, so a longer form is replaced before a shorter one inside it.
        patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
        patterns.dedup();
        Self { patterns }
    }

    /// `bytes` with every pattern replaced by [`REDACTED`].
    pub fn scrub(&self, bytes: Vec<u8>) -> Vec<u8> {
        let mut out = bytes;
        for p in &self.patterns {
            out = replace(&out, p);
        }
        out
    }

    /// A string with every pattern replaced by [`REDACTED`].
    pub fn scrub_str(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.scrub(text.as_bytes().to_vec())).into_owned()
    }
}

fn replace(haystack: &[u8], needle: &[u8]) -> Vec<u8> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack.get(i..i + needle.len()) == Some(needle) {
            out.extend_from_slice(REDACTED.as_bytes());
            i += needle.len();
        } else {
            out.extend(haystack.get(i).copied());
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_and_routing_headers_are_refused() {
        for name in ["Authorization", "cookie", "Host", "X-Forwarded-For"] {
            let err = check_headers(&[(name.into(), "x".into())]).unwrap_err();
            assert!(err.contains("may not be set"), "{err}");
        }
        assert!(check_headers(&[("accept".into(), "application/json".into())]).is_ok());
        assert!(check_headers(&[("bad name".into(), "x".into())]).is_err());
        assert!(check_headers(&[("x-a".into(), "a\r\nb".into())]).is_err());
    }

    /// The list is our host's, kept equal by this test rather than shared: the host library
    /// is not a guest crate, and a guest crate cannot depend on it.
    #[test]
    fn the_forbidden_headers_are_our_hosts() {
        let host = include_str!("../../../host-harness/host/src/http_client.rs");
        let list = host
            .split("const FORBIDDEN_HEADERS: &[&str] = &[")
            .nth(1)
            .and_then(|rest| rest.split("];").next())
            .unwrap();
        let names: Vec<&str> = list
            .split(',')
            .map(|s| s.trim().trim_matches('"'))
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(names, FORBIDDEN_HEADERS);
    }

    #[test]
    fn reads_are_get_head_or_marked() {
        assert!(!is_write("GET", false));
        assert!(!is_write("POST", true));
        assert!(is_write("POST", false));
        assert!(check_method_token("QUERY").is_ok());
        assert!(check_method_token("BAD METHOD").is_err());
    }

    #[test]
    fn secrets_and_their_encodings_are_scrubbed() {
        let s = Scrubber::new(["s3cret-value"], ["bot@example.com"]);
        let basic = basic("bot@example.com", "s3cret-value");
        let token = basic.trim_start_matches("Basic ");
        let text = format!("echo s3cret-value and {token}");
        let out = s.scrub_str(&text);
        assert!(
            !out.contains("s3cret-value") && !out.contains(token),
            "{out}"
        );
        assert_eq!(out.matches(REDACTED).count(), 2, "{out}");
    }
}
