//! Atlassian Cloud identity lifecycle connector, delivered as a WebAssembly component.
//!
//! This file holds only the module declarations and, on wasm32 with the default `component`
//! feature, the wit-bindgen glue: conversions between generated and core types, the
//! `http-client`-backed [`Transport`], and the `lifecycle` export. Every piece of logic lives
//! in modules that never name a generated type, so the crate compiles and unit-tests
//! natively, and another component can use it as a library without the `component` feature
//! (`bench-guest/` does, to run the core logic inside a component of its own).
//!
//! [`Transport`]: transport::Transport
#![deny(missing_docs)]
// No panics on external data: outside tests, these are compile errors, not style.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo
    )
)]

pub mod actions;
pub mod admin;
pub mod base_url;
pub mod bench_loop;
pub mod config;
pub mod encode;
pub mod error;
pub mod model;
pub mod products;
pub mod scim;
pub mod transport;
pub mod upstream;
pub mod wire;

#[cfg(test)]
mod robustness_tests;

pub use error::ConnectorError;

#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod glue {
    wit_bindgen::generate!({ path: "wit/since_v0.1.0", world: "connector" });

    use exports::lifecycle::connector::lifecycle::Guest;
    use lifecycle::connector::http_client as http;
    use lifecycle::connector::types as wit;

    use crate::{actions, error as core_error, model as core, transport as core_http};

    /// The `http-client` import as a core [`core_http::Transport`].
    struct HostTransport;

    impl core_http::Transport for HostTransport {
        fn send(
            &self,
            req: core_http::Request,
        ) -> Result<core_http::Response, core_http::HttpError> {
            http::send(&to_wit_request(req))
                .map(from_wit_response)
                .map_err(from_wit_http_error)
        }

        fn send_all(
            &self,
            reqs: Vec<core_http::Request>,
        ) -> Vec<Result<core_http::Response, core_http::HttpError>> {
            let reqs: Vec<http::Request> = reqs.into_iter().map(to_wit_request).collect();
            http::send_all(&reqs)
                .into_iter()
                .map(|r| r.map(from_wit_response).map_err(from_wit_http_error))
                .collect()
        }

        fn limits(&self) -> core_http::HostLimits {
            let l = http::limits();
            core_http::HostLimits {
                max_batch: l.max_batch,
                max_in_flight: l.max_in_flight,
                max_requests: l.max_requests,
                requests_remaining: l.requests_remaining,
            }
        }
    }

    fn to_wit_request(r: core_http::Request) -> http::Request {
        http::Request {
            method: match r.method {
                core_http::Method::Get => http::Method::Get,
                core_http::Method::Post => http::Method::Post,
                core_http::Method::Put => http::Method::Put,
                core_http::Method::Patch => http::Method::Patch,
                core_http::Method::Delete => http::Method::Delete,
            },
            url: r.url,
            headers: r.headers,
            body: r.body,
            auth: r.auth.map(|a| match a {
                core_http::Auth::Bearer(k) => http::Auth::Bearer(k),
                core_http::Auth::Basic {
                    user_config_key,
                    secret_key,
                } => http::Auth::Basic(http::BasicAuth {
                    user_config_key,
                    secret_key,
                }),
            }),
            timeout_ms: r.timeout_ms,
        }
    }

    fn from_wit_response(r: http::Response) -> core_http::Response {
        core_http::Response {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }
    }

    fn from_wit_http_error(e: http::HttpError) -> core_http::HttpError {
        match e {
            http::HttpError::Denied(s) => core_http::HttpError::Denied(s),
            http::HttpError::Timeout => core_http::HttpError::Timeout,
            http::HttpError::TooLarge => core_http::HttpError::TooLarge,
            http::HttpError::Transport(s) => core_http::HttpError::Transport(s),
            http::HttpError::Other(s) => core_http::HttpError::Other(s),
        }
    }

    impl From<wit::Config> for core::Config {
        fn from(c: wit::Config) -> Self {
            core::Config {
                settings: c.settings,
                secrets: c.secrets,
            }
        }
    }

    impl From<core_error::ConnectorError> for wit::ConnectorError {
        fn from(e: core_error::ConnectorError) -> Self {
            use core_error::ConnectorError as E;
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

    impl From<core::Capability> for wit::Capability {
        fn from(c: core::Capability) -> Self {
            match c {
                core::Capability::SyncIdentities => wit::Capability::SyncIdentities,
                core::Capability::ManageRelationships => wit::Capability::ManageRelationships,
                core::Capability::DeprovisionIdentity => wit::Capability::DeprovisionIdentity,
                core::Capability::DeleteIdentity => wit::Capability::DeleteIdentity,
                core::Capability::Discover => wit::Capability::Discover,
            }
        }
    }

    impl From<core::ConnectorInfo> for wit::ConnectorInfo {
        fn from(i: core::ConnectorInfo) -> Self {
            wit::ConnectorInfo {
                name: i.name,
                version: i.version,
                contract_version: i.contract_version,
                capabilities: i.capabilities.into_iter().map(Into::into).collect(),
                config_schema: i
                    .config_schema
                    .into_iter()
                    .map(|k| wit::ConfigKey {
                        key: k.key,
                        required: k.required,
                        secret: k.secret,
                        description: k.description,
                    })
                    .collect(),
            }
        }
    }

    impl From<core::HealthReport> for wit::HealthReport {
        fn from(r: core::HealthReport) -> Self {
            wit::HealthReport {
                probes: r
                    .probes
                    .into_iter()
                    .map(|p| wit::Probe {
                        name: p.name,
                        credential: p.credential,
                        target: p.target,
                        status: match p.status {
                            core::ProbeStatus::Ok => wit::ProbeStatus::Ok,
                            core::ProbeStatus::Skipped(s) => wit::ProbeStatus::Skipped(s),
                            core::ProbeStatus::Failed(e) => wit::ProbeStatus::Failed(e.into()),
                        },
                    })
                    .collect(),
                healthy: r.healthy,
            }
        }
    }

    impl From<wit::Identity> for core::Identity {
        fn from(i: wit::Identity) -> Self {
            core::Identity {
                email: i.email,
                name: i.name,
                given_name: i.given_name,
                family_name: i.family_name,
                display_name: i.display_name,
                external_id: i.external_id,
            }
        }
    }

    impl From<wit::UserRef> for core::UserRef {
        fn from(u: wit::UserRef) -> Self {
            match u {
                wit::UserRef::Email(s) => core::UserRef::Email(s),
                wit::UserRef::ScimId(s) => core::UserRef::ScimId(s),
                wit::UserRef::AccountId(s) => core::UserRef::AccountId(s),
                wit::UserRef::ExternalId(s) => core::UserRef::ExternalId(s),
            }
        }
    }

    impl From<wit::SyncOptions> for core::SyncOptions {
        fn from(o: wit::SyncOptions) -> Self {
            core::SyncOptions {
                create_missing: o.create_missing,
                update_existing: o.update_existing,
                dry_run: o.dry_run,
            }
        }
    }

    impl From<wit::ActionOptions> for core::ActionOptions {
        fn from(o: wit::ActionOptions) -> Self {
            core::ActionOptions { dry_run: o.dry_run }
        }
    }

    impl From<wit::DeleteOptions> for core::DeleteOptions {
        fn from(o: wit::DeleteOptions) -> Self {
            core::DeleteOptions {
                purge_account: o.purge_account,
                dry_run: o.dry_run,
            }
        }
    }

    impl From<wit::PageRequest> for core::PageRequest {
        fn from(p: wit::PageRequest) -> Self {
            core::PageRequest {
                cursor: p.cursor,
                limit: p.limit,
            }
        }
    }

    impl From<wit::ResourceKind> for core::ResourceKind {
        fn from(k: wit::ResourceKind) -> Self {
            match k {
                wit::ResourceKind::JiraProject => core::ResourceKind::JiraProject,
                wit::ResourceKind::ConfluenceSpace => core::ResourceKind::ConfluenceSpace,
                wit::ResourceKind::BitbucketRepository => core::ResourceKind::BitbucketRepository,
            }
        }
    }

    impl From<core::ResourceKind> for wit::ResourceKind {
        fn from(k: core::ResourceKind) -> Self {
            match k {
                core::ResourceKind::JiraProject => wit::ResourceKind::JiraProject,
                core::ResourceKind::ConfluenceSpace => wit::ResourceKind::ConfluenceSpace,
                core::ResourceKind::BitbucketRepository => wit::ResourceKind::BitbucketRepository,
            }
        }
    }

    impl From<core::Outcome> for wit::Outcome {
        fn from(o: core::Outcome) -> Self {
            wit::Outcome {
                user: o.user.map(|u| wit::ResolvedUser {
                    scim_id: u.scim_id,
                    account_id: u.account_id,
                    email: u.email,
                    active: u.active,
                }),
                changes: o
                    .changes
                    .into_iter()
                    .map(|c| wit::Change {
                        kind: match c.kind {
                            core::ChangeKind::CreateUser => wit::ChangeKind::CreateUser,
                            core::ChangeKind::UpdateUser => wit::ChangeKind::UpdateUser,
                            core::ChangeKind::AddMembership => wit::ChangeKind::AddMembership,
                            core::ChangeKind::RemoveMembership => wit::ChangeKind::RemoveMembership,
                            core::ChangeKind::DeactivateUser => wit::ChangeKind::DeactivateUser,
                            core::ChangeKind::DeleteUser => wit::ChangeKind::DeleteUser,
                            core::ChangeKind::DeleteAccount => wit::ChangeKind::DeleteAccount,
                        },
                        target: c.target,
                        before: c.before,
                        after: c.after,
                        status: match c.status {
                            core::ChangeStatus::Applied => wit::ChangeStatus::Applied,
                            core::ChangeStatus::AlreadyDone => wit::ChangeStatus::AlreadyDone,
                            core::ChangeStatus::Planned => wit::ChangeStatus::Planned,
                            core::ChangeStatus::Failed(e) => wit::ChangeStatus::Failed(e.into()),
                        },
                    })
                    .collect(),
                completed: o.completed,
            }
        }
    }

    impl From<core::UserPage> for wit::UserPage {
        fn from(p: core::UserPage) -> Self {
            wit::UserPage {
                items: p
                    .items
                    .into_iter()
                    .map(|u| wit::UserRecord {
                        scim_id: u.scim_id,
                        account_id: u.account_id,
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

    impl From<core::GroupPage> for wit::GroupPage {
        fn from(p: core::GroupPage) -> Self {
            wit::GroupPage {
                items: p
                    .items
                    .into_iter()
                    .map(|g| wit::GroupRecord {
                        name: g.name,
                        scim_id: g.scim_id,
                        admin_id: g.admin_id,
                        synced: g.synced,
                        members: g.members,
                    })
                    .collect(),
                next_cursor: p.next_cursor,
            }
        }
    }

    impl From<core::ResourcePage> for wit::ResourcePage {
        fn from(p: core::ResourcePage) -> Self {
            wit::ResourcePage {
                items: p
                    .items
                    .into_iter()
                    .map(|r| wit::ResourceRecord {
                        kind: r.kind.into(),
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

    /// Converts a core result into the generated one.
    fn out<T, U: From<T>>(
        r: Result<T, core_error::ConnectorError>,
    ) -> Result<U, wit::ConnectorError> {
        r.map(Into::into).map_err(Into::into)
    }

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
            add: Vec<String>,
            remove: Vec<String>,
            options: wit::ActionOptions,
        ) -> Result<wit::Outcome, wit::ConnectorError> {
            out(actions::manage_relationships(
                &config.into(),
                &HostTransport,
                &user.into(),
                &add,
                &remove,
                options.into(),
            ))
        }

        fn deprovision_identity(
            config: wit::Config,
            user: wit::UserRef,
            options: wit::ActionOptions,
        ) -> Result<wit::Outcome, wit::ConnectorError> {
            out(actions::deprovision_identity(
                &config.into(),
                &HostTransport,
                &user.into(),
                options.into(),
            ))
        }

        fn delete_identity(
            config: wit::Config,
            user: wit::UserRef,
            options: wit::DeleteOptions,
        ) -> Result<wit::Outcome, wit::ConnectorError> {
            out(actions::delete_identity(
                &config.into(),
                &HostTransport,
                &user.into(),
                options.into(),
            ))
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
            kind: wit::ResourceKind,
            page: wit::PageRequest,
        ) -> Result<wit::ResourcePage, wit::ConnectorError> {
            out(actions::list_resources(
                &config.into(),
                &HostTransport,
                kind.into(),
                &page.into(),
            ))
        }
    }

    export!(Component);
}
