//! Small helpers: timestamps, identifiers, secrets.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The current time as RFC 3339 with microseconds, as Atlassian's SCIM `meta` shows it.
pub(crate) fn now_iso() -> String {
    iso_from(SystemTime::now())
}

/// `t` as RFC 3339 UTC with microseconds.
pub(crate) fn iso_from(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = d.as_secs() as i64;
    let micros = d.subsec_micros();
    let (y, mo, day, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{day:02}T{h:02}:{mi:02}:{s:02}.{micros:06}Z")
}

/// `t` as ISO 8601 UTC with minute precision (one `X-RateLimit-Reset` variant).
pub(crate) fn iso_minutes(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs() as i64;
    let (y, mo, day, h, mi, _) = civil(secs);
    format!("{y:04}-{mo:02}-{day:02}T{h:02}:{mi:02}Z")
}

/// `t` as ISO 8601 UTC with second precision.
pub(crate) fn iso_seconds(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs() as i64;
    let (y, mo, day, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{day:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// Days-from-civil inverse (Howard Hinnant's algorithm).
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

/// A fresh random UUID string.
pub(crate) fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A fresh Atlassian-style account id (`712020:<uuid>`).
pub(crate) fn account_id() -> String {
    format!("712020:{}", uuid())
}

/// A random secret with a recognisable prefix.
pub(crate) fn secret(prefix: &str) -> String {
    format!(
        "{prefix}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A short random trace id for error bodies.
pub(crate) fn trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instant() {
        let t = UNIX_EPOCH + Duration::from_micros(1_767_323_045_123_456);
        assert_eq!(iso_from(t), "2026-01-02T03:04:05.123456Z");
        assert_eq!(iso_minutes(t), "2026-01-02T03:04Z");
        assert_eq!(iso_seconds(t), "2026-01-02T03:04:05Z");
    }
}
