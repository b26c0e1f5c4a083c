//! Credentials per API: the SCIM token only on SCIM, the org key only on admin/lifecycle/SCIM
//! links, Basic product credentials only on the product APIs. Wrong ones answer as Atlassian does.

use super::http::{Api, Reply, Req, generic_error};
use super::state::State;
use super::util;
use base64::Engine;
use serde_json::json;

fn bearer(req: &Req) -> Option<&str> {
    let h = req.authorization.as_deref()?.trim();
    let (scheme, rest) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

fn basic(req: &Req) -> Option<(String, String)> {
    let h = req.authorization.as_deref()?.trim();
    let (scheme, rest) = h.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Constant-time-ish comparison (the simulator is no security boundary, but why not).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// SCIM: Bearer scim token. 401 `{"error","traceId"}` otherwise.
pub(crate) fn scim(st: &State, req: &Req) -> Result<(), Reply> {
    match bearer(req) {
        Some(t) if same(t, &st.tokens.scim_token) => Ok(()),
        Some(_) => Err(Reply::json(
            401,
            json!({"error": "Unauthorized: the directory API key is invalid", "traceId": util::trace_id()}),
        )),
        None => Err(Reply::json(
            401,
            json!({"error": "Unauthorized: missing Bearer token", "traceId": util::trace_id()}),
        )),
    }
}

/// Admin, lifecycle and SCIM links: Bearer org key. A missing or wrong key is refused by the
/// gateway (401, flat body; the user-management API `/users/…/manage…` answers its documented
/// `{"key":"unauthorized",…}` unless [`SimOptions::lifecycle_401_gateway`](super::SimOptions::lifecycle_401_gateway));
/// the right key on another organization, or a key that lost its
/// access ([`SimOptions::admin_key_forbidden`](super::SimOptions::admin_key_forbidden)), is 403.
pub(crate) fn admin(st: &State, req: &Req) -> Result<(), Reply> {
    let ok = matches!(bearer(req), Some(t) if same(t, &st.tokens.admin_api_key));
    let manage = req.segs.first().map(String::as_str) == Some("users");
    if !ok && manage && !st.options.lifecycle_401_gateway {
        // The user-management API's own documented form.
        return Err(Reply::json(
            401,
            json!({"key": "unauthorized", "message": "Unauthorized: the API key is missing, invalid or revoked",
                   "traceId": util::trace_id()}),
        ));
    }
    if !ok {
        return Err(Reply::json(
            401,
            json!({"timestamp": util::now_iso(), "status": 401, "error": "Unauthorized",
                   "message": "Unauthorized: the API key is missing, invalid or revoked",
                   "traceId": util::trace_id()}),
        ));
    }
    if st.options.admin_key_forbidden {
        return Err(generic_error(
            req.api,
            403,
            "The API key no longer grants access to this organization",
            st,
        ));
    }
    let org = match req.api {
        Api::Admin => req.segs.get(3),
        // /admin/user-provisioning/v1/org/{orgId}/…
        _ if req.segs.first().map(String::as_str) == Some("admin") => req.segs.get(4),
        _ => None,
    };
    if let Some(org) = org
        && org != &st.org_id
    {
        return Err(generic_error(
            Api::Admin,
            403,
            "The API key does not grant access to this organization",
            st,
        ));
    }
    Ok(())
}

/// Product APIs: Basic `product_user:product_token`. 401 in each product's own format.
pub(crate) fn product(st: &State, req: &Req) -> Result<(), Reply> {
    match basic(req) {
        Some((u, p))
            if u.eq_ignore_ascii_case(&st.product_user) && same(&p, &st.tokens.product_token) =>
        {
            Ok(())
        }
        _ => {
            let msg = match req.api {
                Api::Jira => "Client must be authenticated to access this resource.",
                Api::Confluence => "Unauthorized; scope does not match",
                _ => "Access denied. You must be logged in to access this resource.",
            };
            Err(generic_error(req.api, 401, msg, st)
                .header("WWW-Authenticate", "Basic realm=\"Atlassian\""))
        }
    }
}
