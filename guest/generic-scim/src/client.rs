//! The SCIM 2.0 client: requests under the base URL with the bearer token, answers mapped to
//! typed errors that name what was wrong, and the user and group resources parsed without a
//! panic on any body.

use lifecycle_connector_sdk::transport::{Auth, HttpError, Method, Request, Response, Transport};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::config::{ScimConfig, TOKEN};
use crate::model::ConnectorError;

/// Per-request timeout.
const TIMEOUT_MS: u32 = 30_000;
/// The SCIM core user schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The SCIM PATCH message schema.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Everything but RFC 3986 unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value` percent-encoded for a path segment or query value.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// `attr eq "value"` with the value escaped as a SCIM string (RFC 7644 §3.4.2.2), encoded for
/// a query.
pub fn eq_filter(attr: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    encode(&format!("{attr} eq \"{escaped}\""))
}

/// A SCIM user as the service returned it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    /// `id`.
    pub id: String,
    /// `userName`.
    pub user_name: String,
    /// `active` (true when absent, as RFC 7643 leaves it to the service).
    pub active: bool,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `name.formatted`.
    pub formatted: Option<String>,
    /// `name.givenName`.
    pub given_name: Option<String>,
    /// `name.familyName`.
    pub family_name: Option<String>,
    /// The primary (or first) email's value.
    pub email: Option<String>,
    /// `groups` as `(id, display)`, when the service returned the attribute.
    pub groups: Option<Vec<(String, String)>>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

impl User {
    /// Parses a user resource; `None` when it lacks an `id` or `userName`.
    pub fn parse(v: &Value) -> Option<User> {
        let name = v.get("name");
        let sub = |key: &str| name.and_then(|n| text(n, key));
        let emails = v.get("emails").and_then(Value::as_array);
        let email = emails.and_then(|list| {
            list.iter()
                .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
                .or_else(|| list.first())
                .and_then(|e| text(e, "value"))
        });
        let groups = v.get("groups").and_then(Value::as_array).map(|list| {
            list.iter()
                .filter_map(|g| {
                    let id = text(g, "value")?;
                    let display = text(g, "display").unwrap_or_else(|| id.clone());
                    Some((id, display))
                })
                .collect()
        });
        Some(User {
            id: text(v, "id")?,
            user_name: text(v, "userName")?,
            active: v.get("active").and_then(Value::as_bool).unwrap_or(true),
            display_name: text(v, "displayName"),
            external_id: text(v, "externalId"),
            formatted: sub("formatted"),
            given_name: sub("givenName"),
            family_name: sub("familyName"),
            email,
            groups,
        })
    }
}

/// A SCIM group as the service returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `id`.
    pub id: String,
    /// `displayName`.
    pub name: String,
    /// Members' ids.
    pub members: Vec<String>,
}

impl Group {
    /// Parses a group resource; `None` when it lacks an `id` or `displayName`.
    pub fn parse(v: &Value) -> Option<Group> {
        let members = v
            .get("members")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(|m| text(m, "value")).collect())
            .unwrap_or_default();
        Some(Group {
            id: text(v, "id")?,
            name: text(v, "displayName")?,
            members,
        })
    }
}

/// One page of a SCIM `ListResponse`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    /// `Resources`.
    pub resources: Vec<Value>,
    /// `totalResults`.
    pub total: u64,
}

/// The SCIM service of one tenant, over a transport.
pub struct Scim<'a> {
    transport: &'a dyn Transport,
    base: &'a str,
}

impl<'a> Scim<'a> {
    /// The service at `config.base_url`.
    pub fn new(config: &'a ScimConfig, transport: &'a dyn Transport) -> Self {
        Scim {
            transport,
            base: &config.base_url,
        }
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Request {
        let mut headers = vec![(
            "accept".to_string(),
            "application/scim+json, application/json".to_string(),
        )];
        if body.is_some() {
            headers.push((
                "content-type".to_string(),
                "application/scim+json".to_string(),
            ));
        }
        Request {
            method,
            url: self.url(path),
            headers,
            body: body.map(|b| b.to_string().into_bytes()),
            auth: Some(Auth::bearer(TOKEN)),
            timeout_ms: Some(TIMEOUT_MS),
            read_only: false,
        }
    }

    /// Sends one request; a transport failure becomes a typed error naming `what`.
    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Response, ConnectorError> {
        self.transport
            .send(self.request(method, path, body))
            .map_err(|e| transport_error(e, what))
    }

    /// A GET answered 2xx, as JSON; `Ok(None)` on 404.
    pub fn get(&self, path: &str, what: &str) -> Result<Option<Value>, ConnectorError> {
        let r = self.send(Method::Get, path, None, what)?;
        if r.status == 404 {
            return Ok(None);
        }
        json_body(&check(r, what)?, what).map(Some)
    }

    /// A listing page of `path` (which carries its query).
    pub fn list(&self, path: &str, what: &str) -> Result<ListPage, ConnectorError> {
        let v = self.get(path, what)?.ok_or_else(|| {
            ConnectorError::NotFound(format!("{what}: {} answered 404", self.url(path)))
        })?;
        let resources = match v.get("Resources") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => return Err(malformed(what, "`Resources` is not a list")),
        };
        let total = v
            .get("totalResults")
            .and_then(Value::as_u64)
            .ok_or_else(|| malformed(what, "no `totalResults`"))?;
        Ok(ListPage { resources, total })
    }

    /// A write (`POST`, `PATCH`, `PUT`, `DELETE`); `Ok(None)` on 404, the body otherwise
    /// (`Null` when empty).
    pub fn write(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Option<Value>, ConnectorError> {
        let r = self.send(method, path, body, what)?;
        if r.status == 404 {
            return Ok(None);
        }
        let r = check(r, what)?;
        if r.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(Value::Null));
        }
        json_body(&r, what).map(Some)
    }

    /// The users whose `attr` equals `value` (a `userName` is compared case-insensitively
    /// here too, since a service may ignore the filter's case rules).
    pub fn find_users(&self, attr: &str, value: &str) -> Result<Vec<User>, ConnectorError> {
        let what = format!("looking up the user with {attr} {value}");
        let page = self.list(&format!("/Users?filter={}", eq_filter(attr, value)), &what)?;
        let mut out = Vec::new();
        for r in &page.resources {
            let user =
                User::parse(r).ok_or_else(|| malformed(&what, "a user without id or userName"))?;
            let same = match attr {
                "userName" => user.user_name.to_lowercase() == value.to_lowercase(),
                _ => user.external_id.as_deref() == Some(value),
            };
            if same {
                out.push(user);
            }
        }
        Ok(out)
    }

    /// The user with SCIM id `id`, when it exists.
    pub fn user_by_id(&self, id: &str) -> Result<Option<User>, ConnectorError> {
        let what = format!("reading user {id}");
        match self.get(&format!("/Users/{}", encode(id)), &what)? {
            None => Ok(None),
            Some(v) => User::parse(&v)
                .map(Some)
                .ok_or_else(|| malformed(&what, "a user without id or userName")),
        }
    }

    /// The group named `name` (case-insensitively), when it exists.
    pub fn group_by_name(&self, name: &str) -> Result<Option<Group>, ConnectorError> {
        let what = format!("looking up group {name}");
        let page = self.list(
            &format!("/Groups?filter={}", eq_filter("displayName", name)),
            &what,
        )?;
        for r in &page.resources {
            let g = Group::parse(r)
                .ok_or_else(|| malformed(&what, "a group without id or displayName"))?;
            if g.name.to_lowercase() == name.to_lowercase() {
                return Ok(Some(g));
            }
        }
        Ok(None)
    }

    /// Adds (`true`) or removes `user` as a member of `group` with a PATCH.
    pub fn set_member(
        &self,
        group: &Group,
        user: &str,
        member: bool,
    ) -> Result<(), ConnectorError> {
        let op = if member {
            json!({"op": "add", "path": "members", "value": [{"value": user}]})
        } else {
            let escaped = user.replace('\\', "\\\\").replace('"', "\\\"");
            json!({"op": "remove", "path": format!("members[value eq \"{escaped}\"]")})
        };
        let body = json!({"schemas": [PATCH_SCHEMA], "Operations": [op]});
        let what = format!("changing the members of group {}", group.name);
        self.write(
            Method::Patch,
            &format!("/Groups/{}", encode(&group.id)),
            Some(&body),
            &what,
        )?
        .map(|_| ())
        .ok_or_else(|| ConnectorError::NotFound(format!("group {} (id {})", group.name, group.id)))
    }

    /// PATCHes `user` with `replace` operations `(path, value)`.
    pub fn patch_user(
        &self,
        id: &str,
        ops: &[(&str, Value)],
    ) -> Result<Option<Value>, ConnectorError> {
        let ops: Vec<Value> = ops
            .iter()
            .map(|(path, value)| json!({"op": "replace", "path": path, "value": value}))
            .collect();
        let body = json!({"schemas": [PATCH_SCHEMA], "Operations": ops});
        self.write(
            Method::Patch,
            &format!("/Users/{}", encode(id)),
            Some(&body),
            &format!("updating user {id}"),
        )
    }
}

fn malformed(what: &str, message: &str) -> ConnectorError {
    ConnectorError::Upstream(
        None,
        None,
        format!("{what}: the service answered {message}"),
    )
}

fn json_body(r: &Response, what: &str) -> Result<Value, ConnectorError> {
    serde_json::from_slice(&r.body).map_err(|_| {
        ConnectorError::Upstream(
            Some(r.status),
            None,
            format!("{what}: the service answered a body that is not JSON"),
        )
    })
}

/// A transport failure as a typed error.
fn transport_error(e: HttpError, what: &str) -> ConnectorError {
    match e {
        HttpError::Denied(rule) => {
            ConnectorError::Other(format!("{what}: the host denied the request: {rule}"))
        }
        HttpError::LimitExceeded(limit) => ConnectorError::Other(format!(
            "{what}: the host's {} limit refused the request",
            limit.as_str()
        )),
        HttpError::Timeout => ConnectorError::Unavailable(format!("{what}: no answer in time")),
        HttpError::TooLarge => {
            ConnectorError::Upstream(None, None, format!("{what}: the answer was too large"))
        }
        HttpError::Transport(m) => {
            ConnectorError::Unavailable(format!("{what}: connection failed: {m}"))
        }
        HttpError::Other(m) => ConnectorError::Other(format!("{what}: {m}")),
    }
}

/// A 2xx answer as it is; any other as the typed error its status means, naming `what` and
/// (for the SCIM error body of RFC 7644 §3.12) the service's `scimType` and `detail`.
fn check(r: Response, what: &str) -> Result<Response, ConnectorError> {
    if r.is_success() {
        return Ok(r);
    }
    let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    let detail = text(&body, "detail");
    let scim_type = text(&body, "scimType");
    let said = detail
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    let message = format!("{what}: HTTP {}{said}", r.status);
    Err(match r.status {
        401 => {
            ConnectorError::Unauthorized(format!("{message} (the `{TOKEN}` secret was refused)"))
        }
        403 => {
            ConnectorError::Forbidden(format!("{message} (the `{TOKEN}` secret lacks permission)"))
        }
        404 => ConnectorError::NotFound(message),
        409 => ConnectorError::Conflict(message),
        429 => {
            let retry = r
                .header("retry-after")
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(|s| s.saturating_mul(1000));
            ConnectorError::RateLimited(retry, message)
        }
        500..=599 => ConnectorError::Unavailable(message),
        status => ConnectorError::Upstream(Some(status), scim_type, message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_escaped_and_encoded() {
        assert_eq!(
            eq_filter("userName", "a\"b\\c@x.com"),
            "userName%20eq%20%22a%5C%22b%5C%5Cc%40x.com%22"
        );
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn any_body_parses_without_panic() {
        for body in [
            json!(null),
            json!([]),
            json!({"id": 1}),
            json!({"id": "x", "userName": "u",
            "emails": "no", "name": 3, "groups": [1, {"value": "g"}]}),
        ] {
            let _ = User::parse(&body);
            let _ = Group::parse(&body);
        }
        let u = User::parse(&json!({"id": "x", "userName": "u", "groups": [1, {"value": "g"}]}))
            .unwrap();
        assert_eq!(u.groups, Some(vec![("g".to_string(), "g".to_string())]));
        assert!(u.active);
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let r = |status: u16, body: &str| check(Response::json(status, body), "doing x");
        assert!(
            matches!(r(401, "{}"), Err(ConnectorError::Unauthorized(m)) if m.contains("`token`"))
        );
        assert!(matches!(r(403, "{}"), Err(ConnectorError::Forbidden(_))));
        assert!(matches!(r(409, "{}"), Err(ConnectorError::Conflict(_))));
        assert!(matches!(
            r(503, "<html>"),
            Err(ConnectorError::Unavailable(_))
        ));
        let limited = check(
            Response::json(429, "{}").with_header("Retry-After", "2"),
            "x",
        );
        assert_eq!(
            limited,
            Err(ConnectorError::RateLimited(
                Some(2000),
                "x: HTTP 429".into()
            ))
        );
        assert_eq!(
            r(400, r#"{"scimType": "invalidValue", "detail": "bad name"}"#),
            Err(ConnectorError::Upstream(
                Some(400),
                Some("invalidValue".into()),
                "doing x: HTTP 400: bad name".into()
            ))
        );
    }
}
