//! The `lifecycle` export (wasm32): maps the SDK's generated types to [`crate::model`] and
//! back, and calls the logic with the host's transport. Nothing else.

use lifecycle_connector_sdk::HostTransport;
use lifecycle_connector_sdk::wit::exports::lifecycle::connector::lifecycle::Guest;
use lifecycle_connector_sdk::wit::lifecycle::connector::types as wit;

use crate::config::Kind;
use crate::describe::describe;
use crate::model::{self as m, ConnectorError, SCIM_NAMESPACE};
use crate::{access, discover, sync};

fn error(e: ConnectorError) -> wit::ConnectorError {
    use ConnectorError as E;
    match e {
        E::InvalidConfig(key, message) => {
            wit::ConnectorError::InvalidConfig(wit::ConfigError { key, message })
        }
        E::InvalidInput(s) => wit::ConnectorError::InvalidInput(s),
        E::Unauthorized(s) => wit::ConnectorError::Unauthorized(s),
        E::Forbidden(s) => wit::ConnectorError::Forbidden(s),
        E::NotFound(s) => wit::ConnectorError::NotFound(s),
        E::Conflict(s) => wit::ConnectorError::Conflict(s),
        E::RateLimited(retry_after_ms, message) => {
            wit::ConnectorError::RateLimited(wit::RateLimit {
                retry_after_ms,
                message,
            })
        }
        E::Unavailable(s) => wit::ConnectorError::Unavailable(s),
        E::Upstream(status, code, message) => wit::ConnectorError::Upstream(wit::UpstreamError {
            status,
            code,
            message,
        }),
        E::Unsupported(s) => wit::ConnectorError::Unsupported(s),
        E::Other(s) => wit::ConnectorError::Other(s),
    }
}

fn scim_id(value: String) -> wit::NamespacedId {
    wit::NamespacedId {
        namespace: SCIM_NAMESPACE.to_string(),
        value,
    }
}

fn user_ref(u: wit::UserRef) -> Result<m::UserRef, ConnectorError> {
    Ok(match u {
        wit::UserRef::Email(e) => m::UserRef::Email(e),
        wit::UserRef::ExternalId(x) => m::UserRef::ExternalId(x),
        wit::UserRef::Id(id) if id.namespace == SCIM_NAMESPACE => m::UserRef::ScimId(id.value),
        wit::UserRef::Id(id) => {
            return Err(ConnectorError::InvalidInput(format!(
                "id namespace {:?}: generic-scim knows only {SCIM_NAMESPACE:?}",
                id.namespace
            )));
        }
    })
}

fn entitlements(list: Vec<wit::Entitlement>) -> Vec<m::Entitlement> {
    list.into_iter()
        .map(|e| match e {
            wit::Entitlement::Group(name) => m::Entitlement::Group(name),
            wit::Entitlement::Role(r) => {
                m::Entitlement::Role(r.role, r.resource.kind, r.resource.id)
            }
        })
        .collect()
}

fn status(s: m::ChangeStatus) -> wit::ChangeStatus {
    match s {
        m::ChangeStatus::Applied => wit::ChangeStatus::Applied,
        m::ChangeStatus::AlreadyDone => wit::ChangeStatus::AlreadyDone,
        m::ChangeStatus::Planned => wit::ChangeStatus::Planned,
        m::ChangeStatus::Skipped(why) => wit::ChangeStatus::Skipped(why),
        m::ChangeStatus::Failed(e) => wit::ChangeStatus::Failed(error(e)),
    }
}

fn outcome(o: m::Outcome) -> wit::Outcome {
    wit::Outcome {
        user: o.user.map(|u| wit::ResolvedUser {
            ids: vec![scim_id(u.id)],
            email: u.email,
            active: u.active,
        }),
        changes: o
            .changes
            .into_iter()
            .map(|c| wit::Change {
                kind: match c.kind {
                    m::ChangeKind::CreateUser => wit::ChangeKind::CreateUser,
                    m::ChangeKind::UpdateUser => wit::ChangeKind::UpdateUser,
                    m::ChangeKind::ReactivateUser => wit::ChangeKind::ReactivateUser,
                    m::ChangeKind::AddMembership => wit::ChangeKind::AddMembership,
                    m::ChangeKind::RemoveMembership => wit::ChangeKind::RemoveMembership,
                    m::ChangeKind::DeactivateUser => wit::ChangeKind::DeactivateUser,
                    m::ChangeKind::DeleteUser => wit::ChangeKind::DeleteUser,
                },
                target: c.target,
                before: c.before,
                after: c.after,
                status: status(c.status),
            })
            .collect(),
        completed: o.completed,
    }
}

fn done(r: Result<m::Outcome, ConnectorError>) -> Result<wit::Outcome, wit::ConnectorError> {
    r.map(outcome).map_err(error)
}

/// The connector, as the component's `lifecycle` export.
struct Component;

impl Guest for Component {
    fn describe() -> wit::ConnectorInfo {
        let info = describe();
        let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        wit::ConnectorInfo {
            name: info.name.into(),
            version: info.version.into(),
            contract_version: info.contract_version.into(),
            capabilities: info.capabilities.iter().copied().map(Into::into).collect(),
            config_schema: info
                .config_schema
                .iter()
                .map(|k| wit::ConfigKey {
                    key: k.key.into(),
                    kind: match k.kind {
                        Kind::Text => wit::ConfigKind::String,
                        Kind::Url => wit::ConfigKind::Url,
                        Kind::Secret => wit::ConfigKind::Secret,
                    },
                    required: k.required,
                    default: k.default.map(str::to_string),
                    requires: Vec::new(),
                    description: k.description.into(),
                })
                .collect(),
            egress: info
                .egress
                .iter()
                .map(|r| wit::EgressRule {
                    url_key: r.url_key.into(),
                    path_prefix: r.path_prefix.into(),
                    secrets: strings(r.secrets),
                    enabled_by: Vec::new(),
                })
                .collect(),
            id_namespaces: info
                .id_namespaces
                .iter()
                .map(|(name, description)| wit::IdNamespace {
                    name: (*name).into(),
                    description: (*description).into(),
                })
                .collect(),
            resource_kinds: Vec::new(),
        }
    }

    fn check_health(c: wit::Config) -> Result<wit::HealthReport, wit::ConnectorError> {
        let report = discover::check_health(&c.into(), &HostTransport).map_err(error)?;
        Ok(wit::HealthReport {
            probes: report
                .probes
                .into_iter()
                .map(|p| wit::Probe {
                    name: p.name,
                    credential: p.credential,
                    target: p.target,
                    status: match p.status {
                        m::ProbeStatus::Ok => wit::ProbeStatus::Ok,
                        m::ProbeStatus::Failed(e) => wit::ProbeStatus::Failed(error(e)),
                    },
                })
                .collect(),
            healthy: report.healthy,
        })
    }

    fn sync_identity(
        c: wit::Config,
        identity: wit::Identity,
        options: wit::SyncOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        done(sync::sync_identity(
            &c.into(),
            &HostTransport,
            &identity.into(),
            options.into(),
        ))
    }

    fn manage_relationships(
        c: wit::Config,
        user: wit::UserRef,
        add: Vec<wit::Entitlement>,
        remove: Vec<wit::Entitlement>,
        options: wit::ActionOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        done(user_ref(user).and_then(|user| {
            access::manage_relationships(
                &c.into(),
                &HostTransport,
                &user,
                &entitlements(add),
                &entitlements(remove),
                options.dry_run,
            )
        }))
    }

    fn deprovision_identity(
        c: wit::Config,
        user: wit::UserRef,
        options: wit::ActionOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        done(user_ref(user).and_then(|user| {
            access::deprovision_identity(&c.into(), &HostTransport, &user, options.dry_run)
        }))
    }

    fn delete_identity(
        c: wit::Config,
        user: wit::UserRef,
        options: wit::DeleteOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        done(user_ref(user).and_then(|user| {
            access::delete_identity(
                &c.into(),
                &HostTransport,
                &user,
                options.purge_account,
                options.dry_run,
            )
        }))
    }

    fn list_users(
        c: wit::Config,
        p: wit::PageRequest,
    ) -> Result<wit::UserPage, wit::ConnectorError> {
        let listed = discover::list_users(&c.into(), &HostTransport, &p.into()).map_err(error)?;
        Ok(wit::UserPage {
            items: listed
                .items
                .into_iter()
                .map(|u| wit::UserRecord {
                    ids: vec![scim_id(u.id)],
                    user_name: u.user_name,
                    display_name: u.display_name,
                    external_id: u.external_id,
                    active: u.active,
                })
                .collect(),
            next_cursor: listed.next_cursor,
        })
    }

    fn list_groups(
        c: wit::Config,
        p: wit::PageRequest,
    ) -> Result<wit::GroupPage, wit::ConnectorError> {
        let listed = discover::list_groups(&c.into(), &HostTransport, &p.into()).map_err(error)?;
        Ok(wit::GroupPage {
            items: listed
                .items
                .into_iter()
                .map(|g| wit::GroupRecord {
                    name: g.name,
                    ids: vec![scim_id(g.id)],
                    synced: true,
                    members: g.members.into_iter().map(scim_id).collect(),
                })
                .collect(),
            next_cursor: listed.next_cursor,
        })
    }

    fn list_resources(
        c: wit::Config,
        kind: String,
        _page: wit::PageRequest,
    ) -> Result<wit::ResourcePage, wit::ConnectorError> {
        Err(error(discover::list_resources(&c.into(), &kind)))
    }

    /// Not declared in `describe`: a generic SCIM server offers no suspension to restore
    /// and no way to tell stale memberships from wanted ones, so this answers `unsupported`.
    fn reactivate_identity(
        _: wit::Config,
        _: wit::UserRef,
        _: Vec<wit::Entitlement>,
        _: wit::ActionOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        Err(wit::ConnectorError::Unsupported(
            "reactivate-identity: the generic SCIM connector does not offer it; sync the \
             user with active=true and set the memberships with manage-relationships"
                .into(),
        ))
    }

    /// Not declared in `describe`: SCIM has no roles on resources, so this answers
    /// `unsupported`.
    fn manage_group_roles(
        _: wit::Config,
        _: String,
        _: Vec<wit::RoleGrant>,
        _: Vec<wit::RoleGrant>,
        _: wit::ActionOptions,
    ) -> Result<wit::Outcome, wit::ConnectorError> {
        Err(wit::ConnectorError::Unsupported(
            "manage-group-roles: a generic SCIM server has no roles on resources".into(),
        ))
    }
}

lifecycle_connector_sdk::export_connector!(Component);
