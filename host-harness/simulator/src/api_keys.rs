//! The organization's API keys (API notes §7.7):
//! `GET /admin/api-access/v1/orgs/{orgId}/api-keys?pageSize=&cursor=`, paged by `links.next`,
//! with a switch that refuses the list (403), as a key that may not read it would be.

use super::http::{Reply, Req};
use super::state::State;
use super::util;
use serde_json::json;
use std::time::{Duration, SystemTime};

/// One API key of the organization (never its value: the list serves `token: null`).
#[derive(Debug, Clone, PartialEq)]
pub struct OrgApiKey {
    /// The key's id.
    pub id: String,
    /// Its label, as an administrator named it.
    pub label: String,
    /// When it expires, RFC 3339 UTC.
    pub expires_at: String,
}

/// The route of this module; `None` for any other path.
pub(crate) fn route(st: &State, req: &Req) -> Option<Reply> {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let ["admin", "api-access", "v1", "orgs", _, "api-keys"] = segs.as_slice() else {
        return None;
    };
    if req.method != "GET" {
        return Some(super::http::generic_error(
            super::http::Api::UserManagement,
            405,
            "Method not allowed",
            st,
        ));
    }
    if st.options.api_keys_forbidden {
        return Some(Reply::json(
            403,
            json!({"code": 403, "message": "The API key is not permitted to read API keys"}),
        ));
    }
    let size = req
        .q("pageSize")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, st.options.api_keys_page_size.max(1));
    let offset = req
        .q("cursor")
        .and_then(|c| c.strip_prefix("k"))
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0);
    let data: Vec<_> = st
        .api_keys
        .iter()
        .skip(offset)
        .take(size)
        .map(|k| {
            json!({"id": k.id, "label": k.label, "createdAt": "2026-01-01T00:00:00Z",
                   "lastActiveAt": null, "expiresAt": k.expires_at, "token": null,
                   "orgId": st.org_id, "scopes": [], "revokedBy": null, "revocationDate": null})
        })
        .collect();
    let next = (offset + size < st.api_keys.len()).then(|| format!("k{}", offset + size));
    Some(Reply::json(
        200,
        json!({"data": data, "links": {"self": null, "prev": null, "next": next}}),
    ))
}

/// Test and seeding access to the organization's API keys.
impl super::Simulator {
    /// Adds an API key labelled `label` that expires `days` days from now (negative: expired).
    pub fn add_org_api_key(&self, label: &str, days: i64) -> OrgApiKey {
        let now = SystemTime::now();
        let span = Duration::from_secs(days.unsigned_abs().saturating_mul(86_400));
        let at = if days < 0 { now - span } else { now + span };
        let key = OrgApiKey {
            id: util::uuid(),
            label: label.to_string(),
            expires_at: util::iso_seconds(at),
        };
        self.st().api_keys.push(key.clone());
        key
    }

    /// Every API key of the organization.
    pub fn org_api_keys(&self) -> Vec<OrgApiKey> {
        self.st().api_keys.clone()
    }
}
