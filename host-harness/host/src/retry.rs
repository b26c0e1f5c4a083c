//! When and how long the host waits before trying a request again.
//!
//! Retries live in the host, not the connector: the platform sees every tenant's traffic and is
//! the right place to pace it, and the connector stays deterministic. The rules:
//! - 429 and 503 mean the server did not process the request: retried for every method.
//! - 500, 502, 504, timeouts and transport failures may hide a committed write: retried only for
//!   idempotent methods (GET, PUT, DELETE).
//! - 400, 401, 403, 404, 409 and everything else are never retried.
//! - The wait is at least the server's hint (`Retry-After` in seconds or as an HTTP date, or
//!   `X-RateLimit-Reset` as an ISO-8601 time, possibly with minute precision, or epoch seconds),
//!   else exponential backoff with jitter; attempts and the total wait are both bounded. When the
//!   budget is spent, the last answer goes back to the guest with its hint intact.

use std::time::{Duration, SystemTime};

/// The retry budget of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Most attempts, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Most total time spent waiting between attempts.
    pub max_total_wait: Duration,
    /// First backoff when the server gives no hint; doubles per attempt.
    pub base_backoff: Duration,
    /// Largest backoff without a hint.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_total_wait: Duration::from_secs(30),
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// What an attempt ended with, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// An HTTP status.
    Status(u16),
    /// No answer in time.
    Timeout,
    /// The connection failed (refused, reset, dropped before an answer).
    Transport,
}

/// True when `method` may be repeated without changing the result.
pub fn is_idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS")
}

/// True when the attempt may be tried again.
pub fn is_retryable(method: &str, attempt: Attempt) -> bool {
    match attempt {
        Attempt::Status(429 | 503) => true,
        Attempt::Status(500 | 502 | 504) | Attempt::Timeout | Attempt::Transport => {
            is_idempotent(method)
        }
        Attempt::Status(_) => false,
    }
}

impl RetryPolicy {
    /// How long to wait before attempt `next` (2 for the first retry), or `None` to stop:
    /// the attempts are spent, or waiting would exceed the total budget (`waited` so far).
    pub fn wait_before(
        &self,
        next: u32,
        hint: Option<Duration>,
        waited: Duration,
    ) -> Option<Duration> {
        if next > self.max_attempts {
            return None;
        }
        let wait = match hint {
            // Honour the server, plus a little slack for clock granularity.
            Some(h) => h + Duration::from_millis(50),
            None => self.backoff(next),
        };
        (waited + wait <= self.max_total_wait).then_some(wait)
    }

    fn backoff(&self, next: u32) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(1u32 << (next.saturating_sub(2)).min(16));
        let capped = exp.min(self.max_backoff);
        // Up to 25% jitter, so tenants that failed together do not retry together.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        capped + capped.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }
}

/// The server's hint from response headers (names in lowercase): `Retry-After` first, then
/// `X-RateLimit-Reset`. `None` when absent or unparseable.
pub fn hint(headers: &[(String, String)], now: SystemTime) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    if let Some(v) = get("retry-after") {
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(at) = httpdate::parse_http_date(v) {
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    reset_hint(headers, now)
}

/// The earlier of `Retry-After` and `X-RateLimit-Reset` (names in any case), for a request
/// that must not wait longer than the window requires: `Retry-After` in whole seconds is the
/// window's end rounded up. `None` when neither is readable.
pub fn earliest_hint(headers: &[(String, String)], now: SystemTime) -> Option<Duration> {
    match (hint(headers, now), reset_hint(headers, now)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// How long until `X-RateLimit-Reset` (names in any case): an ISO-8601 time (possibly with
/// minute precision), epoch seconds, or seconds from now. `None` when absent or unparseable.
pub fn reset_hint(headers: &[(String, String)], now: SystemTime) -> Option<Duration> {
    let reset = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-ratelimit-reset"))
        .map(|(_, v)| v.trim())?;
    if let Ok(n) = reset.parse::<u64>() {
        // Epoch seconds when it looks like a time, else a number of seconds from now.
        return Some(if n > 1_000_000_000 {
            (SystemTime::UNIX_EPOCH + Duration::from_secs(n))
                .duration_since(now)
                .unwrap_or(Duration::ZERO)
        } else {
            Duration::from_secs(n)
        });
    }
    let at = parse_iso8601(reset)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An ISO-8601 date-time, with seconds optional (some services send minute precision).
fn parse_iso8601(s: &str) -> Option<SystemTime> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let full = time::OffsetDateTime::parse(s, &Rfc3339);
    let dt = full.or_else(|_| {
        let with_z = s.strip_suffix('Z').unwrap_or(s);
        time::PrimitiveDateTime::parse(
            with_z,
            format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        )
        .map(time::PrimitiveDateTime::assume_utc)
    });
    let dt = dt.ok()?;
    let secs = u64::try_from(dt.unix_timestamp()).ok()?;
    Some(
        SystemTime::UNIX_EPOCH
            + Duration::from_secs(secs)
            + Duration::from_nanos(dt.nanosecond().into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Vec<(String, String)> {
        vec![(name.to_owned(), value.to_owned())]
    }

    #[test]
    fn only_unprocessed_or_idempotent_failures_are_retried() {
        for status in [429, 503] {
            assert!(is_retryable("POST", Attempt::Status(status)));
        }
        for a in [
            Attempt::Status(500),
            Attempt::Status(502),
            Attempt::Timeout,
            Attempt::Transport,
        ] {
            assert!(is_retryable("GET", a));
            assert!(!is_retryable("POST", a), "{a:?} on POST may have committed");
            assert!(!is_retryable("PATCH", a));
        }
        for status in [400, 401, 403, 404, 409, 422] {
            assert!(!is_retryable("GET", Attempt::Status(status)), "{status}");
        }
    }

    #[test]
    fn hints_in_every_documented_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        assert_eq!(
            hint(&h("retry-after", "3"), now),
            Some(Duration::from_secs(3))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(
            hint(&h("Retry-After", &date), now),
            Some(Duration::from_secs(7))
        );
        // 1_790_000_000 is 2026-09-21T14:13:20Z.
        assert_eq!(
            hint(&h("x-ratelimit-reset", "2026-09-21T14:13:25Z"), now),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            hint(
                &h("x-ratelimit-reset", "2026-09-21T14:13:25.500+00:00"),
                now
            ),
            Some(Duration::from_millis(5500))
        );
        assert_eq!(
            hint(&h("x-ratelimit-reset", "2026-09-21T14:15Z"), now),
            Some(Duration::from_secs(100))
        );
        assert_eq!(
            hint(&h("x-ratelimit-reset", "1790000004"), now),
            Some(Duration::from_secs(4))
        );
        // A time in the past means "now"; garbage means no hint.
        assert_eq!(
            hint(
                &h(
                    "retry-after",
                    &httpdate::fmt_http_date(now - Duration::from_secs(9))
                ),
                now
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(hint(&h("retry-after", "soon"), now), None);
        assert_eq!(hint(&h("x-ratelimit-reset", "tomorrow"), now), None);
        assert_eq!(hint(&[], now), None);
        // The earliest: the reset 300 ms away, not the rounded-up second.
        let both = vec![
            ("Retry-After".to_owned(), "1".to_owned()),
            (
                "X-RateLimit-Reset".to_owned(),
                "2026-09-21T14:13:20.300Z".to_owned(),
            ),
        ];
        assert_eq!(earliest_hint(&both, now), Some(Duration::from_millis(300)));
        assert_eq!(
            earliest_hint(&h("retry-after", "3"), now),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn attempts_and_total_wait_are_bounded() {
        let p = RetryPolicy {
            max_attempts: 3,
            max_total_wait: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        assert!(
            p.wait_before(2, Some(Duration::from_secs(1)), Duration::ZERO)
                .unwrap()
                >= Duration::from_secs(1)
        );
        assert_eq!(
            p.wait_before(4, None, Duration::ZERO),
            None,
            "attempts spent"
        );
        assert_eq!(
            p.wait_before(2, Some(Duration::from_secs(11)), Duration::ZERO),
            None,
            "hint beyond budget"
        );
        assert_eq!(
            p.wait_before(3, Some(Duration::from_secs(6)), Duration::from_secs(5)),
            None
        );
        let b2 = p.wait_before(2, None, Duration::ZERO).unwrap();
        let b3 = p.wait_before(3, None, Duration::ZERO).unwrap();
        assert!(
            b2 >= p.base_backoff && b3 >= p.base_backoff * 2,
            "{b2:?} {b3:?}"
        );
    }
}
