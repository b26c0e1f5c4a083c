//! The per-organization rate-limit mode: a budget of R requests per window per API.
//!
//! Atlassian rate-limits every admin API call without publishing numbers (atlassian-api §3.4).
//! With [`RateLimit`] set in [`SimOptions::rate_limit`](super::SimOptions::rate_limit), each
//! API of the organization (SCIM, admin, user management, each product) accepts at most
//! `budget` requests per fixed window of `window_ms` (windows aligned to the Unix epoch).
//! Every answer of a limited API carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (ISO-8601 with milliseconds: the end of the window); a request beyond
//! the budget is answered 429 before the API sees it (nothing is committed), with
//! `Retry-After` in whole seconds (rounded up) when [`RateLimit::retry_after`] is set.
//!
//! The simulator counts what each window received ([`WindowCount`]): tests and the bench read
//! the counts to check that a client stayed within the budget, without any clock of their own.

use super::http::Api;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A budget of requests per window, per API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests each API accepts per window.
    pub budget: u32,
    /// The window, in milliseconds (at least 1).
    pub window_ms: u64,
    /// A 429 also carries `Retry-After` (whole seconds to the window's end, rounded up).
    #[serde(default)]
    pub retry_after: bool,
}

impl RateLimit {
    /// `budget` requests per second.
    pub fn per_second(budget: u32) -> Self {
        Self {
            budget,
            window_ms: 1_000,
            retry_after: true,
        }
    }
}

/// What one window of one API received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WindowCount {
    /// The API.
    pub api: Api,
    /// The window's number (milliseconds since the Unix epoch ÷ the window).
    pub window: u64,
    /// Requests answered by the API.
    pub accepted: u32,
    /// Requests answered 429.
    pub rejected: u32,
}

/// The counts of every window so far, per API.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    windows: BTreeMap<(Api, u64), (u32, u32)>,
}

/// The decision for one request.
pub(crate) struct Admission {
    /// Whether the API may answer it.
    pub accepted: bool,
    /// The headers every answer of the API carries.
    pub headers: Vec<(String, String)>,
}

impl Meter {
    /// Counts a request of `api` received at `now` under `limit`.
    pub fn admit(&mut self, limit: &RateLimit, api: Api, now: SystemTime) -> Admission {
        let window_ms = limit.window_ms.max(1);
        let since = now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let ms = u64::try_from(since.as_millis()).unwrap_or(u64::MAX);
        let window = ms / window_ms;
        let reset = UNIX_EPOCH + Duration::from_millis((window + 1).saturating_mul(window_ms));
        let (accepted, rejected) = self.windows.entry((api, window)).or_default();
        let admitted = *accepted < limit.budget;
        if admitted {
            *accepted += 1;
        } else {
            *rejected += 1;
        }
        let remaining = limit.budget.saturating_sub(*accepted);
        let mut headers = vec![
            ("X-RateLimit-Limit".to_string(), limit.budget.to_string()),
            ("X-RateLimit-Remaining".to_string(), remaining.to_string()),
            ("X-RateLimit-Reset".to_string(), iso_millis(reset)),
        ];
        if !admitted && limit.retry_after {
            let left = reset.duration_since(now).unwrap_or(Duration::ZERO);
            let secs = left.as_millis().div_ceil(1000).max(1);
            headers.push(("Retry-After".to_string(), secs.to_string()));
        }
        Admission {
            accepted: admitted,
            headers,
        }
    }

    /// Every window's counts, in API then window order.
    pub fn counts(&self) -> Vec<WindowCount> {
        self.windows
            .iter()
            .map(|(&(api, window), &(accepted, rejected))| WindowCount {
                api,
                window,
                accepted,
                rejected,
            })
            .collect()
    }

    /// Forgets every count.
    pub fn clear(&mut self) {
        self.windows.clear();
    }
}

/// `t` as RFC 3339 UTC with milliseconds.
fn iso_millis(t: SystemTime) -> String {
    let full = super::util::iso_from(t);
    // `iso_from` gives microseconds: keep three digits.
    match full.rsplit_once('.') {
        Some((head, frac)) => format!("{head}.{}Z", frac.get(..3).unwrap_or("000")),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_accepts_the_budget_then_answers_with_the_reset() {
        let limit = RateLimit {
            budget: 2,
            window_ms: 1_000,
            retry_after: true,
        };
        let mut meter = Meter::default();
        let t = UNIX_EPOCH + Duration::from_millis(1_790_000_000_250);
        let a = meter.admit(&limit, Api::Admin, t);
        assert!(a.accepted);
        assert_eq!(a.headers[1].1, "1");
        assert_eq!(a.headers[2].1, "2026-09-21T14:13:21.000Z");
        assert!(meter.admit(&limit, Api::Admin, t).accepted);
        let refused = meter.admit(&limit, Api::Admin, t);
        assert!(!refused.accepted);
        assert_eq!(refused.headers[3], ("Retry-After".into(), "1".into()));
        // Another API has its own budget; the next window starts afresh.
        assert!(meter.admit(&limit, Api::Scim, t).accepted);
        assert!(
            meter
                .admit(&limit, Api::Admin, t + Duration::from_secs(1))
                .accepted
        );
        let counts = meter.counts();
        assert_eq!(counts.len(), 3);
        let first = counts.iter().find(|c| c.api == Api::Admin).unwrap();
        assert_eq!((first.accepted, first.rejected), (2, 1));
    }
}
