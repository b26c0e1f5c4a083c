//! The `lifecycle` export of `lifecycle:connector@0.2.0` (wasm32, `component` feature): maps
//! the SDK's generated types to the core model and back, and nothing else. The core never
//! names a generated type.

use lifecycle_connector_sdk::HostTransport;
use lifecycle_connector_sdk::wit::exports::lifecycle::connector::lifecycle::Guest;
use lifecycle_connector_sdk::wit::lifecycle::connector::types as wit;

use crate::error::ConnectorError;
use crate::{actions, model as core};

impl From<ConnectorError> for wit::ConnectorError {
    fn from(e: ConnectorError) -> Self {
        use ConnectorError as E;
        match e {
            E::InvalidConfig(c) => wit::ConnectorError::InvalidConfig(wit::ConfigError {
                key: c.key,
                message: c.message,
            }),
            E::InvalidInput(m) => wit::ConnectorError::InvalidInput(m),
            E::Unauthorized(m) => wit::ConnectorError::Unauthorized(m),
            E::Forbidden(m) => wit::ConnectorError::Forbidden(m),
            E::NotFound(m) => wit::ConnectorError::NotFound(m),
            E::Conflict(m) => wit::ConnectorError::Conflict(m),
            E::RateLimited(r) => wit::ConnectorError::RateLimited(wit::RateLimit {
                retry_after_ms: r.retry_after_ms,
                message: r.message,
            }),
            E::Unavailable(m) => wit::ConnectorError::Unavailable(m),
            E::Upstream(u) => wit::ConnectorError::Upstream(wit::UpstreamError {
                status: u.status,
                code: u.code,
                message: u.message,
            }),
            E::Unsupported(m) => wit::ConnectorError::Unsupported(m),
            E::PolicyDenied(m) => wit::ConnectorError::PolicyDenied(m),
            E::Other(m) => wit::ConnectorError::Other(m),
        }
    }
}

// The conversions below loop and push rather than `map(..).collect()`: every iterator
// chain instantiated for a new element type costs the component hundreds of bytes.

/// `s` owned; one out-of-line copy instead of an allocation inlined at every call.
#[inline(never)]
fn owned(s: &str) -> String {
    s.to_string()
}

fn strings(list: &[&str]) -> Vec<String> {
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        out.push(owned(s));
    }
    out
}

fn config_schema(keys: &[core::ConfigKey]) -> Vec<wit::ConfigKey> {
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        out.push(wit::ConfigKey {
            key: owned(k.key),
            kind: match k.kind {
                core::ConfigKind::String => wit::ConfigKind::String,
                core::ConfigKind::Url => wit::ConfigKind::Url,
                core::ConfigKind::Secret => wit::ConfigKind::Secret,
                core::ConfigKind::List => wit::ConfigKind::List,
                core::ConfigKind::Bool => wit::ConfigKind::Bool,
            },
            required: k.required,
            default: k.default.map(owned),
            requires: strings(k.requires),
            description: owned(k.description),
        });
    }
    out
}

fn egress(rules: &[core::EgressRule]) -> Vec<wit::EgressRule> {
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        out.push(wit::EgressRule {
            url_key: owned(r.url_key),
            path_prefix: owned(r.path_prefix),
            secrets: strings(r.secrets),
            enabled_by: strings(r.enabled_by),
        });
    }
    out
}

impl From<core::ConnectorInfo> for wit::ConnectorInfo {
    fn from(i: core::ConnectorInfo) -> Self {
        wit::ConnectorInfo {
            name: i.name,
            version: i.version,
            contract_version: i.contract_version,
            capabilities: i.capabilities.into_iter().map(Into::into).collect(),
            config_schema: config_schema(i.config_schema),
            egress: egress(i.egress),
            id_namespaces: {
                let mut out = Vec::with_capacity(i.id_namespaces.len());
                for (name, description) in i.id_namespaces {
                    out.push(wit::IdNamespace {
                        name: owned(name),
                        description: owned(description),
                    });
                }
                out
            },
            resource_kinds: {
                let mut out = Vec::with_capacity(i.resource_kinds.len());
                for k in i.resource_kinds {
                    out.push(wit::ResourceKind {
                        name: owned(k.name()),
                        description: owned(k.description()),
                    });
                }
                out
            },
        }
    }
}

impl From<core::HealthReport> for wit::HealthReport {
    fn from(r: core::HealthReport) -> Self {
        wit::HealthReport {
            probes: {
                let mut out = Vec::with_capacity(r.probes.len());
                for p in r.probes {
                    out.push(wit::Probe {
                        name: p.name,
                        credential: p.credential,
                        target: p.target,
                        status: match p.status {
                            core::ProbeStatus::Ok => wit::ProbeStatus::Ok,
                            core::ProbeStatus::Skipped(s) => wit::ProbeStatus::Skipped(s),
                            core::ProbeStatus::Warning(s) => wit::ProbeStatus::Warning(s),
                            core::ProbeStatus::Unknown(s) => wit::ProbeStatus::Unknown(s),
                            core::ProbeStatus::Failed(e) => wit::ProbeStatus::Failed(e.into()),
                        },
                    });
                }
                out
            },
            healthy: r.healthy,
        }
    }
}

/// A `user-ref`; an id of a namespace other than `scim` or `account` is `invalid-input`.
fn user_ref(u: wit::UserRef) -> Result<core::UserRef, ConnectorError> {
    Ok(match u {
        wit::UserRef::Email(s) => core::UserRef::Email(s),
        wit::UserRef::Id(id) => core::UserRef::by_id(&id.namespace, id.value)?,
        wit::UserRef::ExternalId(s) => core::UserRef::ExternalId(s),
    })
}

fn entitlements(list: Vec<wit::Entitlement>) -> Vec<core::Entitlement> {
    let mut out = Vec::with_capacity(list.len());
    for e in list {
        out.push(match e {
            wit::Entitlement::Group(name) => core::Entitlement::Group(name),
            wit::Entitlement::Role(r) => core::Entitlement::Role(role_grant(r)),
        });
    }
    out
}

fn role_grant(r: wit::RoleGrant) -> core::RoleGrant {
    core::RoleGrant {
        role: r.role,
        kind: r.resource.kind,
        id: r.resource.id,
    }
}

fn role_grants(list: Vec<wit::RoleGrant>) -> Vec<core::RoleGrant> {
    let mut out = Vec::with_capacity(list.len());
    for r in list {
        out.push(role_grant(r));
    }
    out
}

fn ids(list: Vec<core::Id>) -> Vec<wit::NamespacedId> {
    let mut out = Vec::with_capacity(list.len());
    for id in list {
        out.push(wit::NamespacedId {
            namespace: owned(id.namespace()),
            value: id.into_value(),
        });
    }
    out
}

impl From<core::Outcome> for wit::Outcome {
    fn from(o: core::Outcome) -> Self {
        wit::Outcome {
            user: o.user.map(|u| wit::ResolvedUser {
                ids: ids(u.ids()),
                email: u.email,
                active: u.active,
            }),
            changes: {
                let mut out = Vec::with_capacity(o.changes.len());
                for c in o.changes {
                    out.push(wit::Change {
                        kind: match c.kind {
                            core::ChangeKind::CreateUser => wit::ChangeKind::CreateUser,
                            core::ChangeKind::UpdateUser => wit::ChangeKind::UpdateUser,
                            core::ChangeKind::AddMembership => wit::ChangeKind::AddMembership,
                            core::ChangeKind::RemoveMembership => wit::ChangeKind::RemoveMembership,
                            core::ChangeKind::AddRole => wit::ChangeKind::AddRole,
                            core::ChangeKind::RemoveRole => wit::ChangeKind::RemoveRole,
                            core::ChangeKind::RevokeCredential => wit::ChangeKind::RevokeCredential,
                            core::ChangeKind::DeactivateUser => wit::ChangeKind::DeactivateUser,
                            core::ChangeKind::DeleteUser => wit::ChangeKind::DeleteUser,
                            core::ChangeKind::DeleteAccount => wit::ChangeKind::DeleteAccount,
                            core::ChangeKind::SuspendUser => wit::ChangeKind::SuspendUser,
                            core::ChangeKind::ReactivateUser => wit::ChangeKind::ReactivateUser,
                            core::ChangeKind::RestoreUser => wit::ChangeKind::RestoreUser,
                        },
                        target: c.target,
                        before: c.before,
                        after: c.after,
                        status: match c.status {
                            core::ChangeStatus::Applied => wit::ChangeStatus::Applied,
                            core::ChangeStatus::AlreadyDone => wit::ChangeStatus::AlreadyDone,
                            core::ChangeStatus::Planned => wit::ChangeStatus::Planned,
                            core::ChangeStatus::Skipped(s) => wit::ChangeStatus::Skipped(s),
                            core::ChangeStatus::Failed(e) => wit::ChangeStatus::Failed(e.into()),
                        },
                    });
                }
                out
            },
            completed: o.completed,
        }
    }
}

impl From<core::UserPage> for wit::UserPage {
    fn from(p: core::UserPage) -> Self {
        wit::UserPage {
            items: {
                let mut out = Vec::with_capacity(p.items.len());
                for u in p.items {
                    out.push(wit::UserRecord {
                        ids: ids(u.ids()),
                        user_name: u.user_name,
                        display_name: u.display_name,
                        external_id: u.external_id,
                        active: u.active,
                    });
                }
                out
            },
            next_cursor: p.next_cursor,
        }
    }
}

impl From<core::GroupPage> for wit::GroupPage {
    fn from(p: core::GroupPage) -> Self {
        wit::GroupPage {
            items: {
                let mut out = Vec::with_capacity(p.items.len());
                for g in p.items {
                    out.push(wit::GroupRecord {
                        ids: ids(g.ids()),
                        name: g.name,
                        synced: g.synced,
                        members: ids(g.members),
                    });
                }
                out
            },
            next_cursor: p.next_cursor,
        }
    }
}

impl From<core::ResourcePage> for wit::ResourcePage {
    fn from(p: core::ResourcePage) -> Self {
        wit::ResourcePage {
            items: {
                let mut out = Vec::with_capacity(p.items.len());
                for r in p.items {
                    out.push(wit::ResourceRecord {
                        kind: owned(r.kind.name()),
                        id: r.id,
                        key: r.key,
                        name: r.name,
                        url: r.url,
                    });
                }
                out
            },
            next_cursor: p.next_cursor,
        }
    }
}

/// Converts a core result into the generated one.
fn out<T, U: From<T>>(r: Result<T, ConnectorError>) -> Result<U, wit::ConnectorError> {
    r.map(Into::into).map_err(Into::into)
}

/// The connector, as the component's `lifecycle` export.
struct Component;

impl Guest for Component {
    fn describe() -> wit::ConnectorInfo {
        actions::describe().into()
    }

    fn check_health(config: wit::Config) -> Result<wit::HealthReport, wit::ConnectorError> {
        out(actions::check_health(&config.into(), &HostTransport))
    }

    fn sync_identity(
        config: wit::Config,
        identity: wit::Identity,
        options: wit::SyncOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        out(actions::sync_identity(
            &config.into(),
            &HostTransport,
            &identity.into(),
            options.into(),
        ))
    }

    fn manage_relationships(
        config: wit::Config,
        user: wit::UserRef,
        add: Vec<wit::Entitlement>,
        remove: Vec<wit::Entitlement>,
        options: wit::ActionOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        out(user_ref(user).and_then(|user| {
            actions::manage_relationships(
                &config.into(),
                &HostTransport,
                &user,
                &entitlements(add),
                &entitlements(remove),
                core::ActionOptions {
                    dry_run: options.dry_run,
                },
            )
        }))
    }

    fn deprovision_identity(
        config: wit::Config,
        user: wit::UserRef,
        options: wit::ActionOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        out(user_ref(user).and_then(|user| {
            actions::deprovision_identity(
                &config.into(),
                &HostTransport,
                &user,
                core::ActionOptions {
                    dry_run: options.dry_run,
                },
            )
        }))
    }

    fn delete_identity(
        config: wit::Config,
        user: wit::UserRef,
        options: wit::DeleteOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        out(user_ref(user).and_then(|user| {
            actions::delete_identity(
                &config.into(),
                &HostTransport,
                &user,
                core::DeleteOptions {
                    purge_account: options.purge_account,
                    dry_run: options.dry_run,
                },
            )
        }))
    }

    fn list_users(
        config: wit::Config,
        page: wit::PageRequest,
    ) -> Result<wit::UserPage, wit::ConnectorError> {
        out(actions::list_users(
            &config.into(),
            &HostTransport,
            &page.into(),
        ))
    }

    fn list_groups(
        config: wit::Config,
        page: wit::PageRequest,
    ) -> Result<wit::GroupPage, wit::ConnectorError> {
        out(actions::list_groups(
            &config.into(),
            &HostTransport,
            &page.into(),
        ))
    }

    fn list_resources(
        config: wit::Config,
        kind: String,
        page: wit::PageRequest,
    ) -> Result<wit::ResourcePage, wit::ConnectorError> {
        out(core::ResourceKind::parse(&kind).and_then(|kind| {
            actions::list_resources(&config.into(), &HostTransport, kind, &page.into())
        }))
    }

    fn reactivate_identity(
        config: wit::Config,
        user: wit::UserRef,
        desired: Vec<wit::Entitlement>,
        options: wit::ActionOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        out(user_ref(user).and_then(|user| {
            actions::reactivate_identity(
                &config.into(),
                &HostTransport,
                &user,
                &entitlements(desired),
                core::ActionOptions {
                    dry_run: options.dry_run,
                },
            )
        }))
    }

    fn manage_group_roles(
        config: wit::Config,
        group: String,
        add: Vec<wit::RoleGrant>,
        remove: Vec<wit::RoleGrant>,
        options: wit::ActionOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        out(actions::manage_group_roles(
            &config.into(),
            &HostTransport,
            &group,
            &role_grants(add),
            &role_grants(remove),
            core::ActionOptions {
                dry_run: options.dry_run,
            },
        ))
    }
}

lifecycle_connector_sdk::export_connector!(Component);
