//! The contract's answers as JSON, spelled as `docs/json.md` says (wasm32): WIT case names
//! (`create-user`, `already-done`, `not-found`), a case with a payload as a one-key object,
//! field names with `_`, absent options as `null`.

use serde_json::{Value, json};

use crate::component::bindings::lifecycle::connector::types as t;

fn case(name: &str, payload: Value) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(name.to_owned(), payload);
    Value::Object(map)
}

fn id(i: &t::NamespacedId) -> Value {
    json!({"namespace": i.namespace, "value": i.value})
}

fn ids(list: &[t::NamespacedId]) -> Value {
    Value::Array(list.iter().map(id).collect())
}

/// The WIT case name of an error and its JSON (`{"not-found": "…"}`).
pub(crate) fn error(e: &t::ConnectorError) -> (&'static str, Value) {
    use t::ConnectorError as E;
    let (name, payload) = match e {
        E::InvalidConfig(c) => (
            "invalid-config",
            json!({"key": c.key, "message": c.message}),
        ),
        E::InvalidInput(s) => ("invalid-input", json!(s)),
        E::Unauthorized(s) => ("unauthorized", json!(s)),
        E::Forbidden(s) => ("forbidden", json!(s)),
        E::NotFound(s) => ("not-found", json!(s)),
        E::Conflict(s) => ("conflict", json!(s)),
        E::RateLimited(r) => (
            "rate-limited",
            json!({"retry_after_ms": r.retry_after_ms, "message": r.message}),
        ),
        E::Unavailable(s) => ("unavailable", json!(s)),
        E::Upstream(u) => (
            "upstream",
            json!({"status": u.status, "code": u.code, "message": u.message}),
        ),
        E::Unsupported(s) => ("unsupported", json!(s)),
        E::PolicyDenied(s) => ("policy-denied", json!(s)),
        E::Other(s) => ("other", json!(s)),
    };
    (name, case(name, payload))
}

/// A one-line message of an error, for the `message` field of the API's error body.
pub(crate) fn error_message(e: &t::ConnectorError) -> String {
    use t::ConnectorError as E;
    match e {
        E::InvalidConfig(c) => format!("{}: {}", c.key, c.message),
        E::RateLimited(r) => r.message.clone(),
        E::Upstream(u) => u.message.clone(),
        E::InvalidInput(s)
        | E::Unauthorized(s)
        | E::Forbidden(s)
        | E::NotFound(s)
        | E::Conflict(s)
        | E::Unavailable(s)
        | E::Unsupported(s)
        | E::PolicyDenied(s)
        | E::Other(s) => s.clone(),
    }
}

fn change_kind(k: &t::ChangeKind) -> Value {
    use t::ChangeKind as K;
    let name = match k {
        K::CreateUser => "create-user",
        K::UpdateUser => "update-user",
        K::AddMembership => "add-membership",
        K::RemoveMembership => "remove-membership",
        K::AddRole => "add-role",
        K::RemoveRole => "remove-role",
        K::RevokeCredential => "revoke-credential",
        K::DeactivateUser => "deactivate-user",
        K::SuspendUser => "suspend-user",
        K::ReactivateUser => "reactivate-user",
        K::RestoreUser => "restore-user",
        K::DeleteUser => "delete-user",
        K::DeleteAccount => "delete-account",
        K::Other(s) => return case("other", json!(s)),
    };
    json!(name)
}

fn change_status(s: &t::ChangeStatus) -> Value {
    use t::ChangeStatus as S;
    match s {
        S::Applied => json!("applied"),
        S::AlreadyDone => json!("already-done"),
        S::Planned => json!("planned"),
        S::Skipped(why) => case("skipped", json!(why)),
        S::Failed(e) => case("failed", error(e).1),
    }
}

/// An `outcome`.
pub(crate) fn outcome(o: &t::Outcome) -> Value {
    let user = o
        .user
        .as_ref()
        .map(|u| json!({"ids": ids(&u.ids), "email": u.email, "active": u.active}));
    let changes: Vec<Value> = o
        .changes
        .iter()
        .map(|c| {
            json!({
                "kind": change_kind(&c.kind),
                "target": c.target,
                "before": c.before,
                "after": c.after,
                "status": change_status(&c.status),
            })
        })
        .collect();
    json!({"user": user, "changes": changes, "completed": o.completed})
}

fn probe_status(s: &t::ProbeStatus) -> Value {
    use t::ProbeStatus as P;
    match s {
        P::Ok => json!("ok"),
        P::Warning(w) => case("warning", json!(w)),
        P::Unknown(w) => case("unknown", json!(w)),
        P::Skipped(w) => case("skipped", json!(w)),
        P::Failed(e) => case("failed", error(e).1),
    }
}

/// A `health-report`.
pub(crate) fn health(h: &t::HealthReport) -> Value {
    let probes: Vec<Value> = h
        .probes
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "credential": p.credential,
                "target": p.target,
                "status": probe_status(&p.status),
            })
        })
        .collect();
    json!({"probes": probes, "healthy": h.healthy})
}

/// A `user-page`.
pub(crate) fn users(p: &t::UserPage) -> Value {
    let items: Vec<Value> = p
        .items
        .iter()
        .map(|u| {
            json!({
                "ids": ids(&u.ids),
                "user_name": u.user_name,
                "display_name": u.display_name,
                "external_id": u.external_id,
                "active": u.active,
            })
        })
        .collect();
    json!({"items": items, "next_cursor": p.next_cursor})
}

/// A `group-page`.
pub(crate) fn groups(p: &t::GroupPage) -> Value {
    let items: Vec<Value> = p
        .items
        .iter()
        .map(|g| {
            json!({
                "name": g.name,
                "ids": ids(&g.ids),
                "synced": g.synced,
                "members": ids(&g.members),
            })
        })
        .collect();
    json!({"items": items, "next_cursor": p.next_cursor})
}

/// A `resource-page`.
pub(crate) fn resources(p: &t::ResourcePage) -> Value {
    let items: Vec<Value> = p
        .items
        .iter()
        .map(|r| json!({"kind": r.kind, "id": r.id, "key": r.key, "name": r.name, "url": r.url}))
        .collect();
    json!({"items": items, "next_cursor": p.next_cursor})
}

fn config_kind(k: &t::ConfigKind) -> Value {
    use t::ConfigKind as K;
    match k {
        K::String => json!("string"),
        K::Url => json!("url"),
        K::Secret => json!("secret"),
        K::List => json!("list"),
        K::Bool => json!("bool"),
        K::Other(s) => case("other", json!(s)),
    }
}

fn capability(c: &t::Capability) -> Value {
    use t::Capability as C;
    match c {
        C::SyncIdentities => json!("sync-identities"),
        C::ManageRelationships => json!("manage-relationships"),
        C::DeprovisionIdentity => json!("deprovision-identity"),
        C::DeleteIdentity => json!("delete-identity"),
        C::Discover => json!("discover"),
        C::ReactivateIdentity => json!("reactivate-identity"),
        C::ManageGroupRoles => json!("manage-group-roles"),
        C::Other(s) => case("other", json!(s)),
    }
}

/// A `connector-info`.
pub(crate) fn info(i: &t::ConnectorInfo) -> Value {
    let schema: Vec<Value> = i
        .config_schema
        .iter()
        .map(|k| {
            json!({
                "key": k.key,
                "kind": config_kind(&k.kind),
                "required": k.required,
                "default": k.default,
                "requires": k.requires,
                "description": k.description,
            })
        })
        .collect();
    let egress: Vec<Value> = i
        .egress
        .iter()
        .map(|r| {
            json!({
                "url_key": r.url_key,
                "path_prefix": r.path_prefix,
                "secrets": r.secrets,
                "enabled_by": r.enabled_by,
            })
        })
        .collect();
    let named = |name: &str, description: &str| json!({"name": name, "description": description});
    json!({
        "name": i.name,
        "version": i.version,
        "contract_version": i.contract_version,
        "capabilities": i.capabilities.iter().map(capability).collect::<Vec<_>>(),
        "config_schema": schema,
        "egress": egress,
        "id_namespaces": i.id_namespaces.iter().map(|n| named(&n.name, &n.description)).collect::<Vec<_>>(),
        "resource_kinds": i.resource_kinds.iter().map(|k| named(&k.name, &k.description)).collect::<Vec<_>>(),
    })
}
