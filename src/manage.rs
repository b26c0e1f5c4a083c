//! User-management API wire formats under `atlassian_api_url` (API notes §7.4): the preflight
//! `GET /users/{accountId}/manage?privileges=…` and a user's personal API tokens. No token
//! value is ever read: the listing carries none, and nothing here keeps more than the id,
//! label and dates.

use serde_json::Value;

use crate::encode::segment;
use crate::wire::{self, FromJson};

/// The privileges the preflight asks about, in the repeated-key form (the OpenAPI default).
pub const PRIVILEGES: &[&str] = &[
    "lifecycle.enablement",
    "lifecycle.delete",
    "apiToken.read",
    "apiToken.delete",
];

/// `GET {api}/users/{accountId}/manage?privileges=…&privileges=…`.
pub fn preflight_url(api: &str, account_id: &str) -> String {
    let mut url = format!("{api}/users/{}/manage", segment(account_id));
    for (i, p) in PRIVILEGES.iter().enumerate() {
        url.push(if i == 0 { '?' } else { '&' });
        url.push_str("privileges=");
        url.push_str(p);
    }
    url
}

/// `GET {api}/users/{accountId}/manage/api-tokens`.
pub fn api_tokens_url(api: &str, account_id: &str) -> String {
    format!("{api}/users/{}/manage/api-tokens", segment(account_id))
}

/// `DELETE {api}/users/{accountId}/manage/api-tokens/{tokenId}`.
pub fn api_token_url(api: &str, account_id: &str, token_id: &str) -> String {
    format!("{}/{}", api_tokens_url(api, account_id), segment(token_id))
}

/// The preflight's answer: per privilege, allowed or the reason key why not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preflight {
    /// `(privilege, Ok(()) | Err(reason key))`, for the privileges the answer names.
    pub privileges: Vec<(String, Result<(), String>)>,
}

impl Preflight {
    /// Whether `privilege` is allowed; an unnamed one is not, with reason `not granted`.
    pub fn check(&self, privilege: &str) -> Result<(), String> {
        self.privileges
            .iter()
            .find(|(p, _)| p == privilege)
            .map_or_else(|| Err("not granted".into()), |(_, r)| r.clone())
    }
}

impl FromJson for Preflight {
    fn from_json(v: &Value) -> Result<Self, String> {
        let o = wire::object(v, "a user-management preflight")?;
        let mut privileges = Vec::new();
        for (name, rule) in o {
            // `allowed` is a JSON boolean, or the string "true"/"false" (JJS's types).
            let allowed = match rule.get("allowed") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
                _ => false,
            };
            let reason = rule
                .get("reason")
                .and_then(|r| wire::field_string(r, "key"))
                .unwrap_or_else(|| "not allowed".into());
            privileges.push((name.clone(), if allowed { Ok(()) } else { Err(reason) }));
        }
        Ok(Preflight { privileges })
    }
}

/// One personal API token, as listed (never its value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiToken {
    /// `id`.
    pub id: String,
    /// `label`.
    pub label: String,
    /// `createdAt`.
    pub created_at: Option<String>,
    /// `lastAccess`.
    pub last_access: Option<String>,
}

impl FromJson for ApiToken {
    fn from_json(v: &Value) -> Result<Self, String> {
        Ok(ApiToken {
            id: wire::field_string(v, "id").ok_or("an API token has no `id`")?,
            label: wire::field_string(v, "label").unwrap_or_default(),
            created_at: wire::field_string(v, "createdAt"),
            last_access: wire::field_string(v, "lastAccess"),
        })
    }
}

/// The bare array `GET …/api-tokens` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiTokens(pub Vec<ApiToken>);

impl FromJson for ApiTokens {
    fn from_json(v: &Value) -> Result<Self, String> {
        let Some(items) = v.as_array() else {
            return Err("the API-token list is not an array".into());
        };
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            out.push(ApiToken::from_json(i)?);
        }
        Ok(ApiTokens(out))
    }
}

/// The reason key of a 403 `{"key":"forbidden.action","context":{"reason":{"key":…}}}`
/// (or `context` as a plain string, as seen on some answers).
pub fn refusal_reason(body: &[u8]) -> Option<String> {
    let v = wire::parse_value(body).ok()?;
    let context = v.get("context");
    context
        .and_then(|c| c.get("reason"))
        .and_then(|r| wire::field_string(r, "key"))
        .or_else(|| context.and_then(Value::as_str).map(str::to_string))
        .or_else(|| wire::field_string(&v, "key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preflight_url_repeats_the_key_and_allowed_may_be_a_string() {
        assert_eq!(
            preflight_url("https://a", "712020:x"),
            "https://a/users/712020%3Ax/manage?privileges=lifecycle.enablement&privileges=lifecycle.delete&privileges=apiToken.read&privileges=apiToken.delete"
        );
        let p: Preflight = wire::parse(
            br#"{"lifecycle.enablement":{"allowed":false,"reason":{"key":"externalDirectory.scim"}},
                "apiToken.delete":{"allowed":"true"},"apiToken.read":{"allowed":true}}"#,
        )
        .unwrap();
        assert_eq!(
            p.check("lifecycle.enablement"),
            Err("externalDirectory.scim".into())
        );
        assert_eq!(p.check("apiToken.delete"), Ok(()));
        assert!(p.check("lifecycle.delete").is_err());
    }

    #[test]
    fn tokens_parse_without_any_value_and_refusals_name_their_reason() {
        let t: ApiTokens = wire::parse(
            br#"[{"id":"t1","label":"CI","createdAt":"2025-01-01T00:00:00Z","token":"NEVER"}]"#,
        )
        .unwrap();
        assert_eq!(t.0.len(), 1);
        assert!(!format!("{t:?}").contains("NEVER"));
        assert!(wire::parse::<ApiTokens>(b"{}").is_err());
        assert_eq!(
            refusal_reason(br#"{"key":"forbidden.action","context":{"allowed":false,"reason":{"key":"managedAccount"}}}"#)
                .as_deref(),
            Some("managedAccount")
        );
        assert_eq!(
            refusal_reason(br#"{"key":"forbidden","context":"nope"}"#).as_deref(),
            Some("nope")
        );
    }
}
