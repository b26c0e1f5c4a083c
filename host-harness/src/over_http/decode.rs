//! The HTTP front's JSON answers (`docs/openapi.yaml`, spelled as `docs/json.md` says) read
//! back into the contract's types: WIT case names, a case with a payload as a one-key object,
//! field names with `_`. Anything else is an error naming the place.

use serde_json::{Map, Value};

use lifecycle_host::bindings::types::{
    Capability, Change, ChangeKind, ChangeStatus, ConfigError, ConfigKey, ConfigKind,
    ConnectorError, ConnectorInfo, EgressRule, GroupPage, GroupRecord, HealthReport, IdNamespace,
    NamespacedId, Outcome, Probe, ProbeStatus, RateLimit, ResolvedUser, ResourceKind, ResourcePage,
    ResourceRecord, UpstreamError, UserPage, UserRecord,
};

/// What went wrong where.
type Read<T> = Result<T, String>;

fn object<'a>(v: &'a Value, what: &str) -> Read<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| format!("{what}: an object, found {v}"))
}

fn field<'a>(m: &'a Map<String, Value>, key: &str) -> &'a Value {
    m.get(key).unwrap_or(&Value::Null)
}

fn text(m: &Map<String, Value>, key: &str) -> Read<String> {
    field(m, key)
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("`{key}`: a string, found {}", field(m, key)))
}

fn opt_text(m: &Map<String, Value>, key: &str) -> Read<Option<String>> {
    match field(m, key) {
        Value::Null => Ok(None),
        _ => text(m, key).map(Some),
    }
}

fn flag(m: &Map<String, Value>, key: &str) -> Read<bool> {
    field(m, key)
        .as_bool()
        .ok_or_else(|| format!("`{key}`: true or false, found {}", field(m, key)))
}

fn list<T>(m: &Map<String, Value>, key: &str, item: impl Fn(&Value) -> Read<T>) -> Read<Vec<T>> {
    match field(m, key) {
        Value::Array(items) => items.iter().map(item).collect(),
        other => Err(format!("`{key}`: a list, found {other}")),
    }
}

fn texts(m: &Map<String, Value>, key: &str) -> Read<Vec<String>> {
    list(m, key, |v| {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("`{key}`: strings, found {v}"))
    })
}

/// A case: `"name"` alone, or `{"name": payload}`.
fn case<'a>(v: &'a Value, what: &str) -> Read<(&'a str, &'a Value)> {
    match v {
        Value::String(name) => Ok((name, &Value::Null)),
        Value::Object(m) if m.len() == 1 => m
            .iter()
            .next()
            .map(|(k, v)| (k.as_str(), v))
            .ok_or_else(|| format!("{what}: a case")),
        _ => Err(format!(
            "{what}: a case name or a one-key object, found {v}"
        )),
    }
}

fn payload_text(v: &Value, what: &str) -> Read<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{what}: a string payload, found {v}"))
}

fn ids(m: &Map<String, Value>, key: &str) -> Read<Vec<NamespacedId>> {
    list(m, key, |v| {
        let i = object(v, key)?;
        Ok(NamespacedId {
            namespace: text(i, "namespace")?,
            value: text(i, "value")?,
        })
    })
}

fn next_cursor(m: &Map<String, Value>) -> Read<Option<String>> {
    opt_text(m, "next_cursor")
}

/// A `connector-error` from its one-key JSON (`{"not-found": "…"}`).
pub(crate) fn error(v: &Value) -> Read<ConnectorError> {
    let (name, p) = case(v, "an error")?;
    let s = || payload_text(p, name);
    Ok(match name {
        "invalid-config" => {
            let m = object(p, name)?;
            ConnectorError::InvalidConfig(ConfigError {
                key: text(m, "key")?,
                message: text(m, "message")?,
            })
        }
        "invalid-input" => ConnectorError::InvalidInput(s()?),
        "unauthorized" => ConnectorError::Unauthorized(s()?),
        "forbidden" => ConnectorError::Forbidden(s()?),
        "not-found" => ConnectorError::NotFound(s()?),
        "conflict" => ConnectorError::Conflict(s()?),
        "rate-limited" => {
            let m = object(p, name)?;
            ConnectorError::RateLimited(RateLimit {
                retry_after_ms: field(m, "retry_after_ms").as_u64(),
                message: text(m, "message")?,
            })
        }
        "unavailable" => ConnectorError::Unavailable(s()?),
        "upstream" => {
            let m = object(p, name)?;
            ConnectorError::Upstream(UpstreamError {
                status: field(m, "status")
                    .as_u64()
                    .and_then(|n| u16::try_from(n).ok()),
                code: opt_text(m, "code")?,
                message: text(m, "message")?,
            })
        }
        "unsupported" => ConnectorError::Unsupported(s()?),
        "policy-denied" => ConnectorError::PolicyDenied(s()?),
        "other" => ConnectorError::Other(s()?),
        other => {
            return Err(format!(
                "an error class the contract does not have: {other}"
            ));
        }
    })
}

/// The error of a refusal by the API itself (`detail` null): its class and message as the
/// contract's error (`invalid-config` without a key when the platform's configuration failed).
pub(crate) fn refusal(class: &str, message: String) -> ConnectorError {
    match class {
        "invalid-config" => ConnectorError::InvalidConfig(ConfigError {
            key: String::new(),
            message,
        }),
        "invalid-input" => ConnectorError::InvalidInput(message),
        "not-found" => ConnectorError::NotFound(message),
        "unsupported" => ConnectorError::Unsupported(message),
        _ => ConnectorError::Other(message),
    }
}

fn change_kind(v: &Value) -> Read<ChangeKind> {
    let (name, p) = case(v, "a change kind")?;
    Ok(match name {
        "create-user" => ChangeKind::CreateUser,
        "update-user" => ChangeKind::UpdateUser,
        "add-membership" => ChangeKind::AddMembership,
        "remove-membership" => ChangeKind::RemoveMembership,
        "add-role" => ChangeKind::AddRole,
        "remove-role" => ChangeKind::RemoveRole,
        "revoke-credential" => ChangeKind::RevokeCredential,
        "deactivate-user" => ChangeKind::DeactivateUser,
        "suspend-user" => ChangeKind::SuspendUser,
        "reactivate-user" => ChangeKind::ReactivateUser,
        "restore-user" => ChangeKind::RestoreUser,
        "delete-user" => ChangeKind::DeleteUser,
        "delete-account" => ChangeKind::DeleteAccount,
        "other" => ChangeKind::Other(payload_text(p, name)?),
        other => return Err(format!("a change kind the contract does not have: {other}")),
    })
}

fn change_status(v: &Value) -> Read<ChangeStatus> {
    let (name, p) = case(v, "a change status")?;
    Ok(match name {
        "applied" => ChangeStatus::Applied,
        "already-done" => ChangeStatus::AlreadyDone,
        "planned" => ChangeStatus::Planned,
        "skipped" => ChangeStatus::Skipped(payload_text(p, name)?),
        "failed" => ChangeStatus::Failed(error(p)?),
        other => {
            return Err(format!(
                "a change status the contract does not have: {other}"
            ));
        }
    })
}

/// An `outcome`.
pub(crate) fn outcome(v: &Value) -> Read<Outcome> {
    let m = object(v, "an outcome")?;
    let user = match field(m, "user") {
        Value::Null => None,
        u => {
            let u = object(u, "`user`")?;
            Some(ResolvedUser {
                ids: ids(u, "ids")?,
                email: opt_text(u, "email")?,
                active: field(u, "active").as_bool(),
            })
        }
    };
    let changes = list(m, "changes", |c| {
        let c = object(c, "a change")?;
        Ok(Change {
            kind: change_kind(field(c, "kind"))?,
            target: text(c, "target")?,
            before: opt_text(c, "before")?,
            after: opt_text(c, "after")?,
            status: change_status(field(c, "status"))?,
        })
    })?;
    Ok(Outcome {
        user,
        changes,
        completed: flag(m, "completed")?,
    })
}

fn probe_status(v: &Value) -> Read<ProbeStatus> {
    let (name, p) = case(v, "a probe status")?;
    Ok(match name {
        "ok" => ProbeStatus::Ok,
        "warning" => ProbeStatus::Warning(payload_text(p, name)?),
        "unknown" => ProbeStatus::Unknown(payload_text(p, name)?),
        "skipped" => ProbeStatus::Skipped(payload_text(p, name)?),
        "failed" => ProbeStatus::Failed(error(p)?),
        other => {
            return Err(format!(
                "a probe status the contract does not have: {other}"
            ));
        }
    })
}

/// A `health-report`.
pub(crate) fn health(v: &Value) -> Read<HealthReport> {
    let m = object(v, "a health report")?;
    Ok(HealthReport {
        probes: list(m, "probes", |p| {
            let p = object(p, "a probe")?;
            Ok(Probe {
                name: text(p, "name")?,
                credential: text(p, "credential")?,
                target: text(p, "target")?,
                status: probe_status(field(p, "status"))?,
            })
        })?,
        healthy: flag(m, "healthy")?,
    })
}

/// A `user-page`.
pub(crate) fn users(v: &Value) -> Read<UserPage> {
    let m = object(v, "a user page")?;
    Ok(UserPage {
        items: list(m, "items", |u| {
            let u = object(u, "a user")?;
            Ok(UserRecord {
                ids: ids(u, "ids")?,
                user_name: text(u, "user_name")?,
                display_name: opt_text(u, "display_name")?,
                external_id: opt_text(u, "external_id")?,
                active: flag(u, "active")?,
            })
        })?,
        next_cursor: next_cursor(m)?,
    })
}

/// A `group-page`.
pub(crate) fn groups(v: &Value) -> Read<GroupPage> {
    let m = object(v, "a group page")?;
    Ok(GroupPage {
        items: list(m, "items", |g| {
            let g = object(g, "a group")?;
            Ok(GroupRecord {
                name: text(g, "name")?,
                ids: ids(g, "ids")?,
                synced: flag(g, "synced")?,
                members: ids(g, "members")?,
            })
        })?,
        next_cursor: next_cursor(m)?,
    })
}

/// A `resource-page`.
pub(crate) fn resources(v: &Value) -> Read<ResourcePage> {
    let m = object(v, "a resource page")?;
    Ok(ResourcePage {
        items: list(m, "items", |r| {
            let r = object(r, "a resource")?;
            Ok(ResourceRecord {
                kind: text(r, "kind")?,
                id: text(r, "id")?,
                key: opt_text(r, "key")?,
                name: text(r, "name")?,
                url: opt_text(r, "url")?,
            })
        })?,
        next_cursor: next_cursor(m)?,
    })
}

fn config_kind(v: &Value) -> Read<ConfigKind> {
    let (name, p) = case(v, "a config kind")?;
    Ok(match name {
        "string" => ConfigKind::String,
        "url" => ConfigKind::Url,
        "secret" => ConfigKind::Secret,
        "list" => ConfigKind::List,
        "bool" => ConfigKind::Bool,
        "other" => ConfigKind::Other(payload_text(p, name)?),
        other => return Err(format!("a config kind the contract does not have: {other}")),
    })
}

fn capability(v: &Value) -> Read<Capability> {
    let (name, p) = case(v, "a capability")?;
    Ok(match name {
        "sync-identities" => Capability::SyncIdentities,
        "manage-relationships" => Capability::ManageRelationships,
        "deprovision-identity" => Capability::DeprovisionIdentity,
        "delete-identity" => Capability::DeleteIdentity,
        "discover" => Capability::Discover,
        "reactivate-identity" => Capability::ReactivateIdentity,
        "manage-group-roles" => Capability::ManageGroupRoles,
        "other" => Capability::Other(payload_text(p, name)?),
        other => return Err(format!("a capability the contract does not have: {other}")),
    })
}

/// A `connector-info`.
pub(crate) fn info(v: &Value) -> Read<ConnectorInfo> {
    let m = object(v, "a connector info")?;
    let named = |key: &str| -> Read<Vec<(String, String)>> {
        list(m, key, |n| {
            let n = object(n, key)?;
            Ok((text(n, "name")?, text(n, "description")?))
        })
    };
    Ok(ConnectorInfo {
        name: text(m, "name")?,
        version: text(m, "version")?,
        contract_version: text(m, "contract_version")?,
        capabilities: list(m, "capabilities", capability)?,
        config_schema: list(m, "config_schema", |k| {
            let k = object(k, "a config key")?;
            Ok(ConfigKey {
                key: text(k, "key")?,
                kind: config_kind(field(k, "kind"))?,
                required: flag(k, "required")?,
                default: opt_text(k, "default")?,
                requires: texts(k, "requires")?,
                description: text(k, "description")?,
            })
        })?,
        egress: list(m, "egress", |r| {
            let r = object(r, "an egress rule")?;
            Ok(EgressRule {
                url_key: text(r, "url_key")?,
                path_prefix: text(r, "path_prefix")?,
                secrets: texts(r, "secrets")?,
                enabled_by: texts(r, "enabled_by")?,
            })
        })?,
        id_namespaces: named("id_namespaces")?
            .into_iter()
            .map(|(name, description)| IdNamespace { name, description })
            .collect(),
        resource_kinds: named("resource_kinds")?
            .into_iter()
            .map(|(name, description)| ResourceKind { name, description })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_read_back_as_the_host_writes_them() {
        let o = Outcome {
            user: Some(ResolvedUser {
                ids: vec![NamespacedId::new("scim", "u-1")],
                email: Some("ada@example.com".into()),
                active: Some(false),
            }),
            changes: vec![Change {
                kind: ChangeKind::RemoveMembership,
                target: "jira-users".into(),
                before: Some("member".into()),
                after: None,
                status: ChangeStatus::Failed(ConnectorError::Upstream(UpstreamError {
                    status: Some(409),
                    code: Some("ADMIN-UAM-409-3".into()),
                    message: "limit".into(),
                })),
            }],
            completed: false,
        };
        let written = lifecycle_host::json::to_value(&o).unwrap();
        assert_eq!(outcome(&written).unwrap(), o);
        let e = ConnectorError::InvalidConfig(ConfigError {
            key: "scim_url".into(),
            message: "missing".into(),
        });
        assert_eq!(
            error(&lifecycle_host::json::to_value(&e).unwrap()).unwrap(),
            e
        );
        assert!(outcome(&json!({"changes": 3})).is_err());
        assert!(change_status(&json!("half-done")).is_err());
    }
}
