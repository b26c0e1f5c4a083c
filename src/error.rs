//! The connector's error type: a core mirror of the WIT `connector-error` variant.
//!
//! Every message is written for a person and never contains a secret (the connector never
//! holds one: credentials cross the boundary by key name only).

use thiserror::Error;

/// A configuration problem, always naming the key at fault (WIT `config-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration key that is missing or wrong, for example `scim_url`.
    pub key: String,
    /// What is wrong with it, in words a person can act on.
    pub message: String,
}

/// An upstream answer the connector could not accept (WIT `upstream-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamError {
    /// HTTP status of the answer that is at fault: `Some` when one came (a malformed body on
    /// a real 200 keeps `Some(200)`, a cursor repeated by a real answer keeps its status);
    /// `None` when no HTTP answer is to blame (a size cap the host enforced, a listing that
    /// did not end within the connector's own page bound).
    pub status: Option<u16>,
    /// The service's own error code, when it gave one (`scimType`, `ADMIN-UAM-409-3`, ...).
    pub code: Option<String>,
    /// The service's message, or what was wrong with its answer.
    pub message: String,
}

/// A rate limit that did not clear within the host's retry budget (WIT `rate-limit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// How long the service asked to wait, in milliseconds, when it said so.
    pub retry_after_ms: Option<u64>,
    /// Which service limited the rate, and what it said.
    pub message: String,
}

/// Every way a connector call can fail (WIT `connector-error`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConnectorError {
    /// The configuration is incomplete or wrong; nothing was sent.
    #[error("invalid configuration `{}`: {}", .0.key, .0.message)]
    InvalidConfig(ConfigError),
    /// The identity or arguments are malformed; nothing was sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A credential was refused (401); the message names the credential's key.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// A credential lacks a permission or scope (403); the message names the credential's key.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A user, group or directory does not exist; the message names what was looked for.
    #[error("not found: {0}")]
    NotFound(String),
    /// The change conflicts with the current state (409) in a way that is not success.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The service kept limiting the rate beyond the host's retry budget.
    #[error("rate limited: {}{}", .0.message, retry_hint(.0.retry_after_ms))]
    RateLimited(RateLimit),
    /// The service stayed unavailable (5xx, timeouts) beyond the host's retry budget.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The service answered something the connector cannot accept.
    #[error("upstream error{}: {}", status_hint(.0.status, &.0.code), .0.message)]
    Upstream(UpstreamError),
    /// The action or option is not offered by this connector or by Atlassian.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A configured policy forbids the action.
    #[error("policy denied: {0}")]
    PolicyDenied(String),
    /// Anything else; the message explains.
    #[error("{0}")]
    Other(String),
}

fn retry_hint(ms: Option<u64>) -> String {
    match ms {
        Some(ms) => format!(" (retry after {ms} ms)"),
        None => String::new(),
    }
}

fn status_hint(status: Option<u16>, code: &Option<String>) -> String {
    match (status, code) {
        (Some(s), Some(c)) => format!(" (HTTP {s}, {c})"),
        (Some(s), None) => format!(" (HTTP {s})"),
        (None, Some(c)) => format!(" ({c})"),
        (None, None) => String::new(),
    }
}

impl ConnectorError {
    /// An `invalid-config` error naming `key`.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConnectorError::InvalidConfig(ConfigError {
            key: key.into(),
            message: message.into(),
        })
    }

    /// An `upstream` error; `status` is a `u16` when an HTTP answer is at fault, `None`
    /// when none is.
    pub fn upstream(
        status: impl Into<Option<u16>>,
        code: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        ConnectorError::Upstream(UpstreamError {
            status: status.into(),
            code,
            message: message.into(),
        })
    }

    /// The configuration key this error names, when it is an `invalid-config` error.
    pub fn config_key(&self) -> Option<&str> {
        match self {
            ConnectorError::InvalidConfig(e) => Some(&e.key),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_readable() {
        let e = ConnectorError::config("scim_url", "required setting is missing");
        assert_eq!(
            e.to_string(),
            "invalid configuration `scim_url`: required setting is missing"
        );
        assert_eq!(e.config_key(), Some("scim_url"));
        let e = ConnectorError::upstream(418, Some("teapot".into()), "short and stout");
        assert_eq!(
            e.to_string(),
            "upstream error (HTTP 418, teapot): short and stout"
        );
        let e = ConnectorError::RateLimited(RateLimit {
            retry_after_ms: Some(2000),
            message: "slow down".into(),
        });
        assert_eq!(
            e.to_string(),
            "rate limited: slow down (retry after 2000 ms)"
        );
        assert_eq!(e.config_key(), None);
        let e = ConnectorError::upstream(None, None, "no answer to blame");
        assert_eq!(e.to_string(), "upstream error: no answer to blame");
    }
}
