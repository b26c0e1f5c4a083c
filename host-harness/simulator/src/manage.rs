//! The user-management API beyond lifecycle (API notes §7.4): the preflight
//! `GET /users/{accountId}/manage?privileges=…` and a user's personal API tokens
//! (`GET /users/{accountId}/manage/api-tokens`, `DELETE …/api-tokens/{tokenId}`).

use super::http::{Reply, Req};
use super::state::State;
use super::util;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// A personal API token of an account. The value is the secret a person would use; it is
/// never served by any endpoint (only tests read it, to prove it appears nowhere).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiToken {
    /// The token's id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// When it was created.
    pub created_at: String,
    /// When it was last used, if ever.
    pub last_access: Option<String>,
    /// The secret value itself.
    #[serde(skip)]
    pub value: String,
}

fn err(status: u16, key: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"key": key, "message": message, "traceId": util::trace_id()}),
    )
}

/// The routes of this module; `None` for any other user-management path.
pub(crate) fn route(st: &mut State, req: &Req) -> Option<Reply> {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let m = req.method.as_str();
    let reply = match segs.as_slice() {
        ["users", acc, "manage"] if m == "GET" => preflight(st, req, acc),
        ["users", acc, "manage", "api-tokens"] if m == "GET" => list(st, acc),
        ["users", acc, "manage", "api-tokens", id] if m == "DELETE" => delete(st, acc, id),
        ["users", _, "manage", ..] if !matches!(segs.get(3), Some(&"lifecycle")) => {
            err(405, "methodNotAllowed", "Method not allowed")
        }
        _ => return None,
    };
    Some(reply)
}

/// Whether the org key may exercise `privilege` on `acc`, with the reason key when not.
fn allowed(st: &State, acc: &str, privilege: &str) -> Result<(), String> {
    let scim = st.scim_user_by_account(acc).is_some();
    if privilege.starts_with("apiToken.") {
        return match &st.options.api_tokens_forbidden_reason {
            Some(reason) => Err(reason.clone()),
            None => Ok(()),
        };
    }
    if privilege.starts_with("lifecycle.") {
        if let Some(reason) = &st.options.lifecycle_forbidden_reason {
            return Err(reason.clone());
        }
        // SCIM-synced accounts: only the identity provider may (de)activate them.
        if scim && privilege == "lifecycle.enablement" {
            return Err("externalDirectory.scim".into());
        }
    }
    Ok(())
}

fn preflight(st: &State, req: &Req, acc: &str) -> Reply {
    if st.account(acc).is_none() {
        return err(404, "accountNotFound", &format!("Account {acc} not found"));
    }
    if st.options.preflight_forbidden {
        return err(
            403,
            "forbidden",
            "The account is not managed by this organization",
        );
    }
    // Repeated keys (the OpenAPI default) and comma-joined lists are both accepted.
    let privileges: Vec<&str> = req
        .query
        .iter()
        .filter(|(k, _)| k == "privileges")
        .flat_map(|(_, v)| v.split(','))
        .filter(|p| !p.is_empty())
        .collect();
    let mut out = Map::new();
    for p in privileges {
        let yes_no = |b: bool| {
            if st.options.preflight_allowed_as_string {
                json!(b.to_string())
            } else {
                json!(b)
            }
        };
        let v = match allowed(st, acc, p) {
            Ok(()) => json!({"allowed": yes_no(true)}),
            Err(reason) => json!({"allowed": yes_no(false), "reason": {"key": reason}}),
        };
        out.insert(p.to_string(), v);
    }
    Reply::json(200, Value::Object(out))
}

fn list(st: &State, acc: &str) -> Reply {
    if st.account(acc).is_none() {
        return err(404, "accountNotFound", &format!("Account {acc} not found"));
    }
    if let Err(reason) = allowed(st, acc, "apiToken.read") {
        return Reply::json(
            403,
            json!({"key": "forbidden.action", "context": {"allowed": false, "reason": {"key": reason}}}),
        );
    }
    let tokens: Vec<Value> = st
        .api_tokens
        .iter()
        .filter(|(a, _)| a == acc)
        .map(|(_, t)| {
            let mut v = json!({"id": t.id, "label": t.label, "createdAt": t.created_at});
            if let Some(l) = &t.last_access {
                v["lastAccess"] = json!(l);
            }
            v
        })
        .collect();
    Reply::json(200, Value::Array(tokens))
}

fn delete(st: &mut State, acc: &str, id: &str) -> Reply {
    if st.account(acc).is_none() {
        return err(404, "accountNotFound", &format!("Account {acc} not found"));
    }
    if let Err(reason) = allowed(st, acc, "apiToken.delete") {
        return Reply::json(
            403,
            json!({"key": "forbidden.action", "context": {"allowed": false, "reason": {"key": reason}}}),
        );
    }
    let before = st.api_tokens.len();
    st.api_tokens.retain(|(a, t)| !(a == acc && t.id == id));
    if st.api_tokens.len() == before {
        return err(404, "notFound", &format!("API token {id} not found"));
    }
    Reply::empty(204)
}

/// Test and seeding access to API tokens.
impl super::Simulator {
    /// Gives the user with `email` a personal API token labelled `label`; returns it (with
    /// its secret value), or `None` for no such user.
    pub fn add_api_token(&self, email: &str, label: &str) -> Option<ApiToken> {
        let mut st = self.st();
        let acc = st.account_by_email(email)?.account_id.clone();
        let token = ApiToken {
            id: util::uuid(),
            label: label.to_string(),
            created_at: util::now_iso(),
            last_access: Some(util::now_iso()),
            value: util::secret("ATATT3x"),
        };
        st.api_tokens.push((acc, token.clone()));
        Some(token)
    }
    /// The personal API tokens of the user with `email`.
    pub fn api_tokens(&self, email: &str) -> Vec<ApiToken> {
        let st = self.st();
        let Some(acc) = st.account_by_email(email).map(|a| a.account_id.clone()) else {
            return Vec::new();
        };
        st.api_tokens
            .iter()
            .filter(|(a, _)| *a == acc)
            .map(|(_, t)| t.clone())
            .collect()
    }
}
