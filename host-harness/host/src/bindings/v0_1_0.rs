//! The frozen first contract, `lifecycle:connector@0.1.0` (`wit/since_v0.1.0/`), and its
//! conversions to and from the current one.
//!
//! Arguments go down ([`user_ref`], [`entitlements`], [`resource_kind`]): what 0.1.0 cannot say
//! (an id outside its two namespaces, a role, a kind outside its closed list) is refused as the
//! current contract's error before the component runs. Answers come up (`From`): 0.1.0's fixed
//! fields become namespaced ids in [`SCIM`], [`ACCOUNT`] and [`GROUP`], its closed enums the
//! current contract's names, a status `0` "no HTTP answer". A 0.1.0 component declares no
//! egress: the embedder declares it for the component.

use super::v0_2_0 as new;
use new::types as t;

mod generated {
    // The generated glue (world, linker functions, accessors) carries no docs of its own; the
    // types carry the WIT's docs.
    #![allow(missing_docs)]
    wasmtime::component::bindgen!({
        path: "../../wit/since_v0.1.0",
        world: "connector",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [serde::Serialize, PartialEq],
    });
}

pub use generated::lifecycle::connector::http_client;
pub use generated::lifecycle::connector::types;
pub use generated::*;

use http_client as h;
use types as o;

/// The namespace of 0.1.0's `scim-id` fields.
pub const SCIM: &str = "scim";
/// The namespace of 0.1.0's `account-id` fields (and of an admin-managed group's members).
pub const ACCOUNT: &str = "account";
/// The namespace of 0.1.0's `admin-id` of a group.
pub const GROUP: &str = "group";

fn id(namespace: &str, value: String) -> t::NamespacedId {
    t::NamespacedId {
        namespace: namespace.to_owned(),
        value,
    }
}

fn ids(pairs: [(&str, Option<String>); 2]) -> Vec<t::NamespacedId> {
    pairs
        .into_iter()
        .filter_map(|(ns, v)| v.map(|v| id(ns, v)))
        .collect()
}

/// The 0.1.0 form of a user reference; an id outside [`SCIM`] and [`ACCOUNT`] is refused.
pub fn user_ref(user: &t::UserRef) -> Result<o::UserRef, t::ConnectorError> {
    Ok(match user {
        t::UserRef::Email(e) => o::UserRef::Email(e.clone()),
        t::UserRef::ExternalId(e) => o::UserRef::ExternalId(e.clone()),
        t::UserRef::Id(i) if i.namespace == SCIM => o::UserRef::ScimId(i.value.clone()),
        t::UserRef::Id(i) if i.namespace == ACCOUNT => o::UserRef::AccountId(i.value.clone()),
        t::UserRef::Id(i) => {
            return Err(t::ConnectorError::InvalidInput(format!(
                "the connector (contract 0.1.0) knows user ids in the namespaces `{SCIM}` and \
                 `{ACCOUNT}`, not `{}`",
                i.namespace
            )));
        }
    })
}

/// The 0.1.0 form of entitlements: group names. A role is `unsupported`.
pub fn entitlements(list: &[t::Entitlement]) -> Result<Vec<String>, t::ConnectorError> {
    list.iter()
        .map(|e| match e {
            t::Entitlement::Group(name) => Ok(name.clone()),
            t::Entitlement::Role(role) => Err(t::ConnectorError::Unsupported(format!(
                "role `{}` on {} `{}`: the connector (contract 0.1.0) manages group memberships \
                 only",
                role.role, role.resource.kind, role.resource.id
            ))),
        })
        .collect()
}

/// The resource kinds of 0.1.0's closed enum, by their names in the current contract.
pub const RESOURCE_KINDS: [(&str, o::ResourceKind); 3] = [
    ("jira-project", o::ResourceKind::JiraProject),
    ("confluence-space", o::ResourceKind::ConfluenceSpace),
    ("bitbucket-repository", o::ResourceKind::BitbucketRepository),
];

/// The 0.1.0 form of a resource kind; a kind outside its closed list is `unsupported`.
pub fn resource_kind(kind: &str) -> Result<o::ResourceKind, t::ConnectorError> {
    RESOURCE_KINDS
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, k)| *k)
        .ok_or_else(|| {
            t::ConnectorError::Unsupported(format!(
                "resource kind `{kind}`: the connector (contract 0.1.0) lists {}",
                RESOURCE_KINDS.map(|(n, _)| n).join(", ")
            ))
        })
}

fn resource_kind_name(kind: o::ResourceKind) -> String {
    RESOURCE_KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("unknown", |(n, _)| n)
        .to_owned()
}

/// The 0.1.0 form of the configuration (the same shape).
pub fn config(c: &t::Config) -> o::Config {
    o::Config {
        settings: c.settings.clone(),
        secrets: c.secrets.clone(),
    }
}

/// The 0.1.0 form of an identity (the same shape).
pub fn identity(i: &t::Identity) -> o::Identity {
    o::Identity {
        email: i.email.clone(),
        name: i.name.clone(),
        given_name: i.given_name.clone(),
        family_name: i.family_name.clone(),
        display_name: i.display_name.clone(),
        external_id: i.external_id.clone(),
    }
}

/// The 0.1.0 form of sync options (the same shape).
pub fn sync_options(o: t::SyncOptions) -> o::SyncOptions {
    o::SyncOptions {
        create_missing: o.create_missing,
        update_existing: o.update_existing,
        dry_run: o.dry_run,
    }
}

/// The 0.1.0 form of action options (the same shape).
pub fn action_options(o: t::ActionOptions) -> o::ActionOptions {
    o::ActionOptions { dry_run: o.dry_run }
}

/// The 0.1.0 form of delete options (the same shape).
pub fn delete_options(o: t::DeleteOptions) -> o::DeleteOptions {
    o::DeleteOptions {
        purge_account: o.purge_account,
        dry_run: o.dry_run,
    }
}

/// The 0.1.0 form of a page request (the same shape).
pub fn page_request(p: &t::PageRequest) -> o::PageRequest {
    o::PageRequest {
        cursor: p.cursor.clone(),
        limit: p.limit,
    }
}

impl From<o::ConnectorError> for t::ConnectorError {
    fn from(e: o::ConnectorError) -> Self {
        use o::ConnectorError as E;
        match e {
            E::InvalidConfig(c) => Self::InvalidConfig(t::ConfigError {
                key: c.key,
                message: c.message,
            }),
            E::InvalidInput(m) => Self::InvalidInput(m),
            E::Unauthorized(m) => Self::Unauthorized(m),
            E::Forbidden(m) => Self::Forbidden(m),
            E::NotFound(m) => Self::NotFound(m),
            E::Conflict(m) => Self::Conflict(m),
            E::RateLimited(r) => Self::RateLimited(t::RateLimit {
                retry_after_ms: r.retry_after_ms,
                message: r.message,
            }),
            E::Unavailable(m) => Self::Unavailable(m),
            // 0.1.0 wrote 0 for "no HTTP answer".
            E::Upstream(u) => Self::Upstream(t::UpstreamError {
                status: (u.status != 0).then_some(u.status),
                code: u.code,
                message: u.message,
            }),
            E::Unsupported(m) => Self::Unsupported(m),
            E::PolicyDenied(m) => Self::PolicyDenied(m),
            E::Other(m) => Self::Other(m),
        }
    }
}

impl From<o::ConnectorInfo> for t::ConnectorInfo {
    fn from(i: o::ConnectorInfo) -> Self {
        Self {
            name: i.name,
            version: i.version,
            contract_version: i.contract_version,
            capabilities: i
                .capabilities
                .into_iter()
                .map(|c| match c {
                    o::Capability::SyncIdentities => t::Capability::SyncIdentities,
                    o::Capability::ManageRelationships => t::Capability::ManageRelationships,
                    o::Capability::DeprovisionIdentity => t::Capability::DeprovisionIdentity,
                    o::Capability::DeleteIdentity => t::Capability::DeleteIdentity,
                    o::Capability::Discover => t::Capability::Discover,
                })
                .collect(),
            config_schema: i
                .config_schema
                .into_iter()
                .map(|k| t::ConfigKey {
                    key: k.key,
                    kind: if k.secret {
                        t::ConfigKind::Secret
                    } else {
                        t::ConfigKind::String
                    },
                    required: k.required,
                    default: None,
                    requires: Vec::new(),
                    description: k.description,
                })
                .collect(),
            egress: Vec::new(),
            id_namespaces: [
                (SCIM, "SCIM user and group ids"),
                (ACCOUNT, "account ids"),
                (GROUP, "ids of groups the organization manages"),
            ]
            .map(|(name, description)| t::IdNamespace {
                name: name.to_owned(),
                description: description.to_owned(),
            })
            .to_vec(),
            resource_kinds: RESOURCE_KINDS
                .map(|(name, _)| t::ResourceKind {
                    name: name.to_owned(),
                    description: name.replace('-', " "),
                })
                .to_vec(),
        }
    }
}

impl From<o::HealthReport> for t::HealthReport {
    fn from(r: o::HealthReport) -> Self {
        Self {
            healthy: r.healthy,
            probes: r
                .probes
                .into_iter()
                .map(|p| t::Probe {
                    name: p.name,
                    credential: p.credential,
                    target: p.target,
                    status: match p.status {
                        o::ProbeStatus::Ok => t::ProbeStatus::Ok,
                        o::ProbeStatus::Skipped(s) => t::ProbeStatus::Skipped(s),
                        o::ProbeStatus::Failed(e) => t::ProbeStatus::Failed(e.into()),
                    },
                })
                .collect(),
        }
    }
}

impl From<o::Outcome> for t::Outcome {
    fn from(o: o::Outcome) -> Self {
        Self {
            user: o.user.map(|u| t::ResolvedUser {
                ids: ids([(SCIM, u.scim_id), (ACCOUNT, u.account_id)]),
                email: u.email,
                active: u.active,
            }),
            changes: o
                .changes
                .into_iter()
                .map(|c| t::Change {
                    kind: match c.kind {
                        o::ChangeKind::CreateUser => t::ChangeKind::CreateUser,
                        o::ChangeKind::UpdateUser => t::ChangeKind::UpdateUser,
                        o::ChangeKind::AddMembership => t::ChangeKind::AddMembership,
                        o::ChangeKind::RemoveMembership => t::ChangeKind::RemoveMembership,
                        o::ChangeKind::DeactivateUser => t::ChangeKind::DeactivateUser,
                        o::ChangeKind::DeleteUser => t::ChangeKind::DeleteUser,
                        o::ChangeKind::DeleteAccount => t::ChangeKind::DeleteAccount,
                    },
                    target: c.target,
                    before: c.before,
                    after: c.after,
                    status: match c.status {
                        o::ChangeStatus::Applied => t::ChangeStatus::Applied,
                        o::ChangeStatus::AlreadyDone => t::ChangeStatus::AlreadyDone,
                        o::ChangeStatus::Planned => t::ChangeStatus::Planned,
                        o::ChangeStatus::Failed(e) => t::ChangeStatus::Failed(e.into()),
                    },
                })
                .collect(),
            completed: o.completed,
        }
    }
}

impl From<o::UserPage> for t::UserPage {
    fn from(p: o::UserPage) -> Self {
        Self {
            items: p
                .items
                .into_iter()
                .map(|u| t::UserRecord {
                    ids: ids([(SCIM, Some(u.scim_id)), (ACCOUNT, u.account_id)]),
                    user_name: u.user_name,
                    display_name: u.display_name,
                    external_id: u.external_id,
                    active: u.active,
                })
                .collect(),
            next_cursor: p.next_cursor,
        }
    }
}

impl From<o::GroupPage> for t::GroupPage {
    fn from(p: o::GroupPage) -> Self {
        Self {
            items: p
                .items
                .into_iter()
                .map(|g| {
                    // 0.1.0: synced groups list SCIM ids, admin-managed groups account ids.
                    let members_in = if g.synced { SCIM } else { ACCOUNT };
                    t::GroupRecord {
                        name: g.name,
                        ids: ids([(SCIM, g.scim_id), (GROUP, g.admin_id)]),
                        synced: g.synced,
                        members: g.members.into_iter().map(|m| id(members_in, m)).collect(),
                    }
                })
                .collect(),
            next_cursor: p.next_cursor,
        }
    }
}

impl From<o::ResourcePage> for t::ResourcePage {
    fn from(p: o::ResourcePage) -> Self {
        Self {
            items: p
                .items
                .into_iter()
                .map(|r| t::ResourceRecord {
                    kind: resource_kind_name(r.kind),
                    id: r.id,
                    key: r.key,
                    name: r.name,
                    url: r.url,
                })
                .collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// The current form of a 0.1.0 guest's request.
///
/// 0.1.0 cannot mark a request read-only; its `method` docs say a POST is "create, or a search
/// that carries its query in the body". The binding takes a POST whose URL path ends in
/// `/search` as that search (recorded as a read); every other request but a GET is a write.
/// A dry run of a 0.1.0 component is therefore not policed by the host (0.2.0's is).
pub fn request(r: h::Request) -> new::http_client::Request {
    use new::http_client::{Auth, BasicAuth, Method};
    let search = matches!(r.method, h::Method::Post)
        && r.url
            .split(['?', '#'])
            .next()
            .is_some_and(|path| path.ends_with("/search"));
    new::http_client::Request {
        method: match r.method {
            h::Method::Get => Method::Get,
            h::Method::Post => Method::Post,
            h::Method::Put => Method::Put,
            h::Method::Patch => Method::Patch,
            h::Method::Delete => Method::Delete,
        },
        url: r.url,
        headers: r.headers,
        body: r.body,
        auth: r.auth.map(|a| match a {
            h::Auth::Bearer(key) => Auth::Bearer(key),
            h::Auth::Basic(b) => Auth::Basic(BasicAuth {
                user_config_key: b.user_config_key,
                secret_key: b.secret_key,
            }),
        }),
        timeout_ms: r.timeout_ms,
        read_only: search,
    }
}

/// The 0.1.0 form of a response or error: a host limit becomes `other("host limit: …")`,
/// worded with the invocation's `limits` and the size of the `batch` it was refused in.
pub fn response(
    r: Result<new::http_client::Response, new::http_client::HttpError>,
    limits: &new::http_client::HostLimits,
    batch: usize,
) -> Result<h::Response, h::HttpError> {
    use new::http_client::{HostLimit, HttpError as E};
    match r {
        Ok(r) => Ok(h::Response {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }),
        Err(E::Denied(m)) => Err(h::HttpError::Denied(m)),
        Err(E::Timeout) => Err(h::HttpError::Timeout),
        Err(E::TooLarge) => Err(h::HttpError::TooLarge),
        Err(E::Transport(m)) => Err(h::HttpError::Transport(m)),
        Err(E::Other(m)) => Err(h::HttpError::Other(m)),
        Err(E::LimitExceeded(limit)) => Err(h::HttpError::Other(match limit {
            HostLimit::MaxBatch => format!(
                "host limit: a send-all of {batch} requests exceeds max-batch ({})",
                limits.max_batch
            ),
            HostLimit::MaxRequests => format!(
                "host limit: the request budget of {} per invocation (max-requests) is spent",
                limits.max_requests
            ),
        })),
    }
}

/// The 0.1.0 form of the host's limits (the same shape).
pub fn host_limits(l: new::http_client::HostLimits) -> h::HostLimits {
    h::HostLimits {
        max_batch: l.max_batch,
        max_in_flight: l.max_in_flight,
        max_requests: l.max_requests,
        requests_remaining: l.requests_remaining,
    }
}
