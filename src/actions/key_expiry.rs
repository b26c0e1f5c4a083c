//! The organization key's expiry, for `check-health` (API notes §7.7): the organization's
//! API-key list (`GET /admin/api-access/v1/orgs/{org}/api-keys?pageSize=100`, paged by
//! `links.next`), the key matched by its configured label (`admin_api_key_label`), its
//! `expiresAt` compared with the guest's wall clock (`wasi:clocks/wall-clock`). Within
//! [`WARN_DAYS`] days it is a warning; a key that may not read the list (401/403), no label
//! configured, or no key of that label: `unknown`, never a failure.

use crate::admin::{self, Links};
use crate::config::{ADMIN_API_KEY, ADMIN_API_KEY_LABEL, AdminConfig};
use crate::encode::segment;
use crate::error::ConnectorError;
use crate::model::{Probe, ProbeStatus};
use crate::transport::{Auth, HttpError, Request, Response, Transport};
use crate::upstream::{self, Api, Context};
use crate::wire::{self, FromJson};
use serde_json::Value;

/// Inside this many days of its expiry the key is a warning.
pub const WARN_DAYS: i64 = 30;
/// The probe's name.
pub const NAME: &str = "admin-key-expiry";
/// The most pages of the key list read.
const MAX_PAGES: usize = 20;

/// One page of the list: each key's label and expiry.
struct KeyPage {
    keys: Vec<(String, Option<String>)>,
    next: Option<String>,
}

impl FromJson for KeyPage {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "an API-key page")?;
        let links: Option<Links> = wire::opt_object(o.get("links"), "links")?;
        let mut keys = Vec::new();
        for k in wire::field_list(v, "data") {
            if let Some(label) = wire::field_string(k, "label") {
                keys.push((label, wire::field_string(k, "expiresAt")));
            }
        }
        Ok(KeyPage {
            keys,
            next: links.and_then(|l| l.next).filter(|n| !n.is_empty()),
        })
    }
}

/// `GET …/admin/api-access/v1/orgs/{org}/api-keys?pageSize=100[&cursor=…]`.
pub fn request(a: &AdminConfig, cursor: Option<&str>) -> Request {
    let mut url = format!(
        "{}/admin/api-access/v1/orgs/{}/api-keys?pageSize={}",
        a.api_url,
        segment(&a.org_id),
        admin::MAX_LIMIT
    );
    if let Some(c) = cursor {
        url.push_str("&cursor=");
        url.push_str(&segment(c));
    }
    Request::get(
        url,
        Auth::bearer(ADMIN_API_KEY),
        super::health::PROBE_TIMEOUT_MS,
    )
}

/// The probe, from the first page's answer (sent in health's one batch) and any further pages.
pub fn probe(
    a: &AdminConfig,
    label: Option<&str>,
    transport: &dyn Transport,
    first: Option<Result<Response, HttpError>>,
) -> Probe {
    let target = request(a, None).url;
    let status = match (label, first) {
        (None, _) => ProbeStatus::Unknown(format!(
            "set {ADMIN_API_KEY_LABEL} to the key's label to check its expiry"
        )),
        (Some(_), None) => ProbeStatus::Failed(ConnectorError::Other(
            "the host returned no result for this probe's request".into(),
        )),
        (Some(label), Some(first)) => match expiry(a, label, transport, first) {
            Ok(Some(Some(at))) => judge(label, &at, today()),
            Ok(Some(None)) => {
                ProbeStatus::Unknown(format!("the API key `{label}` lists no expiry"))
            }
            Ok(None) => ProbeStatus::Unknown(format!(
                "no API key of the organization is labelled `{label}` ({ADMIN_API_KEY_LABEL})"
            )),
            Err(ConnectorError::Unauthorized(_) | ConnectorError::Forbidden(_)) => {
                ProbeStatus::Unknown(
                    "the organization key may not read the organization's API keys".into(),
                )
            }
            Err(e) => ProbeStatus::Failed(e),
        },
    };
    Probe {
        name: NAME.into(),
        credential: ADMIN_API_KEY.into(),
        target,
        status,
    }
}

/// The `expiresAt` of the key labelled `label` (`None`: no such key), over every page.
fn expiry(
    a: &AdminConfig,
    label: &str,
    transport: &dyn Transport,
    first: Result<Response, HttpError>,
) -> Result<Option<Option<String>>, ConnectorError> {
    let subject = format!("the API keys of organization `{}`", a.org_id);
    let ctx = Context {
        api: Api::Admin,
        credential: ADMIN_API_KEY,
        subject: &subject,
    };
    let mut answer = first;
    for _ in 0..MAX_PAGES {
        let resp = upstream::check(&ctx, answer)?;
        let page: KeyPage = upstream::parse_json(Api::Admin, &resp)?;
        for (l, at) in page.keys {
            if l == label {
                return Ok(Some(at));
            }
        }
        match page.next {
            Some(c) => answer = transport.send(request(a, Some(&c))),
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// The status of a key expiring at `at` (RFC 3339) seen on day `today` (days since 1970).
pub fn judge(label: &str, at: &str, today: Option<i64>) -> ProbeStatus {
    let date = at.split('T').next().unwrap_or(at);
    let (Some(day), Some(today)) = (day_number(date), today) else {
        return ProbeStatus::Unknown(format!(
            "the API key `{label}` expires `{at}`, which could not be read as a date"
        ));
    };
    let left = day - today;
    if left < 0 {
        ProbeStatus::Warning(format!("the API key `{label}` expired on {date}"))
    } else if left < WARN_DAYS {
        let left = left.unsigned_abs();
        ProbeStatus::Warning(format!(
            "the API key `{label}` expires on {date}, in {left} day(s): rotate it"
        ))
    } else {
        ProbeStatus::Ok
    }
}

/// Today, in days since 1970-01-01 (UTC), from the wall clock; `None` before 1970.
fn today() -> Option<i64> {
    i64::try_from(lifecycle_connector_sdk::clock::unix_seconds()? / 86_400).ok()
}

/// Days since 1970-01-01 of `YYYY-MM-DD` (Howard Hinnant's days-from-civil).
pub fn day_number(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let mut n = 0i64;
        for c in b.get(from..to)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_follow_the_calendar() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2000-03-01"), Some(11_017));
        assert_eq!(day_number("2026-12-01"), Some(20_788));
        for bad in ["2026-13-01", "2026-1", "x-01-01", "2026-01-01-01", ""] {
            assert_eq!(day_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn inside_thirty_days_is_a_warning() {
        let today = day_number("2026-12-01");
        assert_eq!(judge("k", "2027-01-31T00:00:00Z", today), ProbeStatus::Ok);
        assert!(matches!(judge("k", "2026-12-20T00:00:00Z", today),
            ProbeStatus::Warning(w) if w.contains("2026-12-20") && w.contains("in 19 day")));
        assert!(matches!(judge("k", "2026-11-30", today),
            ProbeStatus::Warning(w) if w.contains("expired on 2026-11-30")));
        assert!(matches!(judge("k", "soon", today), ProbeStatus::Unknown(_)));
    }
}
