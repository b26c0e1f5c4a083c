//! The API's request bodies read into the contract's types (wasm32), spelled as the answers
//! are: `{"email": …}`, `{"id": {"namespace", "value"}}` or `{"external-id": …}` for a user;
//! `{"group": name}` or `{"role": {"role", "resource": {"kind", "id"}}}` for an entitlement;
//! options with `_` in their field names, each defaulting as the CLI does.

use serde_json::{Map, Value};

use crate::component::bindings::lifecycle::connector::types as t;

/// The body as a JSON object (an empty body is `{}`).
pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("the body must be a JSON object".into()),
        Err(e) => Err(format!("the body is not JSON: {e}")),
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn required(map: &Map<String, Value>, key: &str, of: &str) -> Result<String, String> {
    text(map, key)?.ok_or_else(|| format!("{of} needs `{key}`"))
}

fn flag(map: Option<&Map<String, Value>>, key: &str, default: bool) -> Result<bool, String> {
    match map.and_then(|m| m.get(key)) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("`options.{key}` must be true or false")),
    }
}

fn sub<'a>(
    map: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(format!("`{key}` must be an object")),
    }
}

/// A one-key object's case and payload.
fn one_case(v: &Value, what: &str) -> Result<(String, Value), String> {
    match v {
        Value::Object(m) if m.len() == 1 => Ok(m
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v.clone()))
            .unwrap_or_default()),
        _ => Err(format!("{what} must be an object with one key")),
    }
}

/// `identity` of `sync-identity`.
pub(crate) fn identity(body: &Map<String, Value>) -> Result<t::Identity, String> {
    let m = sub(body, "identity")?.ok_or("sync-identity needs `identity`")?;
    Ok(t::Identity {
        email: required(m, "email", "an identity")?,
        name: text(m, "name")?,
        given_name: text(m, "given_name")?,
        family_name: text(m, "family_name")?,
        display_name: text(m, "display_name")?,
        external_id: text(m, "external_id")?,
    })
}

/// `options` of `sync-identity`: create and update on, dry run off unless set.
pub(crate) fn sync_options(body: &Map<String, Value>) -> Result<t::SyncOptions, String> {
    let o = sub(body, "options")?;
    Ok(t::SyncOptions {
        create_missing: flag(o, "create_missing", true)?,
        update_existing: flag(o, "update_existing", true)?,
        dry_run: flag(o, "dry_run", false)?,
    })
}

/// `options` of the actions that take only `dry_run`.
pub(crate) fn action_options(body: &Map<String, Value>) -> Result<t::ActionOptions, String> {
    Ok(t::ActionOptions {
        dry_run: flag(sub(body, "options")?, "dry_run", false)?,
    })
}

/// `options` of `delete-identity`.
pub(crate) fn delete_options(body: &Map<String, Value>) -> Result<t::DeleteOptions, String> {
    let o = sub(body, "options")?;
    Ok(t::DeleteOptions {
        purge_account: flag(o, "purge_account", false)?,
        dry_run: flag(o, "dry_run", false)?,
    })
}

/// True when the body asks for a dry run.
pub(crate) fn dry_run(body: &Map<String, Value>) -> bool {
    flag(sub(body, "options").ok().flatten(), "dry_run", false).unwrap_or(false)
}

/// `user`: a `user-ref`.
pub(crate) fn user(body: &Map<String, Value>) -> Result<t::UserRef, String> {
    let v = body.get("user").ok_or("the action needs `user`")?;
    let (case, payload) = one_case(v, "`user`")?;
    let s = |p: &Value| p.as_str().map(str::to_owned);
    match (case.as_str(), &payload) {
        ("email", p) => s(p)
            .map(t::UserRef::Email)
            .ok_or_else(|| "`user.email` must be a string".into()),
        ("external-id", p) => s(p)
            .map(t::UserRef::ExternalId)
            .ok_or_else(|| "`user.external-id` must be a string".into()),
        ("id", Value::Object(m)) => Ok(t::UserRef::Id(t::NamespacedId {
            namespace: required(m, "namespace", "`user.id`")?,
            value: required(m, "value", "`user.id`")?,
        })),
        (other, _) => Err(format!(
            "`user` is `email`, `id` or `external-id`, not `{other}`"
        )),
    }
}

/// The list under `key`: empty when absent or null, an error when not a list.
fn list<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], String> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(list)) => Ok(list),
        Some(_) => Err(format!("`{key}` must be a list")),
    }
}

/// A list of entitlements under `key` (`add`, `remove`).
pub(crate) fn entitlements(
    body: &Map<String, Value>,
    key: &str,
) -> Result<Vec<t::Entitlement>, String> {
    let list = list(body, key)?;
    let mut out = Vec::with_capacity(list.len());
    for v in list {
        let (case, payload) = one_case(v, "an entitlement")?;
        out.push(match (case.as_str(), &payload) {
            ("group", Value::String(name)) => t::Entitlement::Group(name.clone()),
            ("role", Value::Object(m)) => t::Entitlement::Role(role_grant(m)?),
            (other, _) => {
                return Err(format!(
                    "an entitlement is `{{\"group\": name}}` or `{{\"role\": …}}`, not `{other}`"
                ));
            }
        });
    }
    Ok(out)
}

/// A role on a resource: `{"role": …, "resource": {"kind": …, "id": …}}`.
fn role_grant(m: &Map<String, Value>) -> Result<t::RoleGrant, String> {
    let r = sub(m, "resource")?.ok_or("a role needs `resource`")?;
    Ok(t::RoleGrant {
        role: required(m, "role", "a role")?,
        resource: t::ResourceRef {
            kind: required(r, "kind", "a resource")?,
            id: required(r, "id", "a resource")?,
        },
    })
}

/// A list of roles under `key` (`add`, `remove` of `manage-group-roles`).
pub(crate) fn role_grants(
    body: &Map<String, Value>,
    key: &str,
) -> Result<Vec<t::RoleGrant>, String> {
    let list = list(body, key)?;
    let mut out = Vec::with_capacity(list.len());
    for v in list {
        match v {
            Value::Object(m) => out.push(role_grant(m)?),
            _ => return Err(format!("each of `{key}` is a role object")),
        }
    }
    Ok(out)
}

/// `group` of `manage-group-roles`: the group's display name.
pub(crate) fn group(body: &Map<String, Value>) -> Result<String, String> {
    required(body, "group", "manage-group-roles")
}

/// `cursor` and `limit` of a listing.
pub(crate) fn page(body: &Map<String, Value>) -> Result<t::PageRequest, String> {
    let limit = match body.get("limit") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("`limit` must be a whole number")?,
        ),
    };
    Ok(t::PageRequest {
        cursor: text(body, "cursor")?,
        limit,
    })
}

/// `kind` of `list-resources`.
pub(crate) fn kind(body: &Map<String, Value>) -> Result<String, String> {
    required(body, "kind", "list-resources")
}
