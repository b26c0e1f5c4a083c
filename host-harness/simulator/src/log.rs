//! The request log tests assert on. Headers are never recorded, so no secret can leak here.

use serde::Serialize;

/// One request as the simulator saw it (never its headers or credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path as sent (still percent-encoded).
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Request body as text (lossy UTF-8), empty when none.
    pub body: String,
    /// Status the simulator produced (also for dropped responses, which the client never saw).
    pub status: u16,
    /// The fault applied to this request, if any (e.g. `rate-limited`, `dropped`).
    pub fault: Option<String>,
    /// When the simulator handled it; the time its retry hints count from. Not serialized.
    #[serde(skip)]
    pub received_at: std::time::SystemTime,
}

impl LoggedRequest {
    /// POST, PUT, PATCH or DELETE.
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
    }

    /// The path with percent-escapes decoded.
    pub fn decoded_path(&self) -> String {
        percent_encoding::percent_decode_str(&self.path)
            .decode_utf8_lossy()
            .into_owned()
    }

    /// Whether the method matches (case-insensitive) and the decoded path starts with `prefix`.
    pub fn matches(&self, method: &str, prefix: &str) -> bool {
        self.method.eq_ignore_ascii_case(method)
            && (self.path.starts_with(prefix) || self.decoded_path().starts_with(prefix))
    }

    /// The body parsed as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Writes (POST/PUT/PATCH/DELETE) among `log`. Note that the admin API's user and group
/// *searches* are POSTs that change nothing: see [`is_mutation`].
pub(crate) fn writes(log: &[LoggedRequest]) -> Vec<LoggedRequest> {
    log.iter().filter(|r| r.is_write()).cloned().collect()
}

/// A request that can change state: a write that is not an admin search or the workspaces
/// listing (a POST that reads).
pub fn is_mutation(r: &LoggedRequest) -> bool {
    r.is_write() && !r.path.ends_with("/search") && !r.path.ends_with("/workspaces")
}
